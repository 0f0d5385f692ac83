# ruff: noqa: F811 (pytest fixtures are imported, then requested by name)
"""docs/integration.md's web-back-end code runs as written, from the built wheel installed in a
fresh virtual environment outside the repository (no repository file on the path).

The fresh environment gets consentkit from the wheel (``pip install --no-deps``) and finds the
dependencies through a ``.pth`` line naming the test environment's site-packages, whose own
``.pth`` files (the editable install of the repository) are not processed: so ``import consentkit``
can only be the wheel, which the test checks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import EXAMPLES, ROOT
from .signing_fixtures import SIGNATURES, Pki, pki  # noqa: F401

pytestmark = pytest.mark.libreoffice

DOC = ROOT / "docs" / "integration.md"
SECTION = "## The library in a web back end"


def doc_code() -> str:
    """The Python blocks of the guide's web-back-end section, in order."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else len(text)]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 4, "the guide's code blocks were not found"
    return "\n\n".join(blocks)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("consentkit-*.whl")
    return built


def test_the_wheel_ships_the_license_and_the_templates(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert any(re.fullmatch(r"consentkit-[^/]+\.dist-info/licenses/LICENSE", n) for n in names), names[-10:]
    assert any(n.startswith("consentkit/templates/") and n.endswith(".docx") for n in names)
    assert not any(n.startswith(("tests/", "examples/")) for n in names)


def test_the_sdist_ships_the_license(tmp_path: Path) -> None:
    import tarfile

    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (sdist,) = tmp_path.glob("consentkit-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert any(re.fullmatch(r"consentkit-[^/]+/LICENSE", n) for n in names)


@pytest.fixture(scope="module")
def fresh_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(home)
    python = home / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    return python


def test_the_integration_guide_runs_from_the_installed_wheel(
    fresh_python: Path, pki: Pki, tmp_path: Path
) -> None:
    work = tmp_path / "backend"
    work.mkdir()
    shutil.copy(EXAMPLES / "practice.toml", work / "practice.toml")
    with (EXAMPLES / "clients" / "adult.toml").open("rb") as f:
        client = tomllib.load(f)
    (work / "client.json").write_text(json.dumps(client, default=str), encoding="utf-8")
    shutil.copy(Path(pki.seal.pkcs12), work / "seal.p12")  # type: ignore[arg-type]
    shutil.copy(pki.ca_pem, work / "ca.pem")
    shutil.copy(SIGNATURES / "C-1002-client.png", work / "signature.png")
    check = (
        "import sys, consentkit\n"
        f"repo = {str(ROOT)!r}\n"
        "assert not consentkit.__file__.startswith(repo), consentkit.__file__\n"
        f"dependencies = {sysconfig.get_paths()['purelib']!r}\n"
        "assert not any(p.startswith(repo) for p in sys.path if p and p != dependencies), sys.path\n"
        "print('consentkit from', consentkit.__file__)\n\n"
    )
    (work / "backend.py").write_text(check + doc_code(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["SEAL_PASSWORD"] = "correct horse"
    done = subprocess.run(
        [str(fresh_python), "-I", "backend.py"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"consentkit from {fresh_python.parent.parent}" in done.stdout
    assert re.search(r"^[0-9a-f-]{36}: \d+ pages, sealed, verified intact$", done.stdout, flags=re.M), (
        done.stdout
    )
