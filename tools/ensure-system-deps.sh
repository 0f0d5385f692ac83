#!/bin/sh
# Make sure the system programs consentkit needs are present: LibreOffice Writer (headless),
# LibreOffice's Python bridge (python3-uno: the warm converter's server runs under /usr/bin/python3),
# metric-compatible fonts, CJK fonts (Noto CJK for LibreOffice, Droid Sans Fallback, a TrueType
# font, for the signature stamps), qpdf and poppler (used by the tests to check PDFs independently),
# and Chromium with its ChromeDriver (the reference signing page's browser test drives it headless).
# Installs them with apt-get when run as root on Debian/Ubuntu; otherwise prints the command.
set -eu
PACKAGES="libreoffice-writer-nogui python3-uno fonts-crosextra-carlito fonts-crosextra-caladea fonts-liberation2 fonts-dejavu-core fonts-noto-cjk fonts-droid-fallback qpdf poppler-utils chromium chromium-driver"
missing=""
command -v soffice >/dev/null 2>&1 || [ -n "${CONSENTKIT_SOFFICE:-}" ] || missing="$missing soffice"
if [ -z "${CONSENTKIT_UNO_PYTHON:-}" ] && ! /usr/bin/python3 -c "import uno" >/dev/null 2>&1; then
  missing="$missing python3-uno"
fi
command -v qpdf >/dev/null 2>&1 || missing="$missing qpdf"
command -v pdffonts >/dev/null 2>&1 || missing="$missing pdffonts"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromedriver"
if command -v fc-list >/dev/null 2>&1; then
  for font in "Liberation Sans" "Carlito" "DejaVu Sans" "Noto Sans CJK" "Droid Sans Fallback"; do
    fc-list | grep -q "$font" || missing="$missing font:$font"
  done
else
  missing="$missing fontconfig"
fi
[ -z "$missing" ] && exit 0
echo "consentkit setup: missing:$missing"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "consentkit setup: installing with apt-get: $PACKAGES"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
  exit 0
fi
echo "consentkit setup: run this, then try again:"
echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $PACKAGES"
echo "(macOS: brew install --cask libreoffice && brew install qpdf poppler; or set CONSENTKIT_SOFFICE to soffice)"
exit 1
