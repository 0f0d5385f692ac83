# One entry for each thing a person does. Run from a fresh clone on Debian/Ubuntu with Python 3.11:
#   make demo   # set up everything, render (and finalize) the example packets into out/demo/
#   make test   # set up everything, run the whole test suite (includes the signing page in Chromium)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps demo signing-app test lint typecheck check bench clean templates golden

setup: system-deps $(STAMP)

system-deps:
	@sh tools/ensure-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dask,signing-app]"
	@touch $(STAMP)

demo: setup
	$(BIN)/python examples/demo.py --out out/demo

# The reference signing page on http://127.0.0.1:8014/practice (docs/integration.md).
signing-app: setup
	cd examples && ../$(BIN)/python -m signing_app --data ../out/signing-app

test: setup
	$(BIN)/ruff check src tests tools examples bench
	$(BIN)/mypy
	$(BIN)/python tools/build_templates.py --check
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check src tests tools examples bench
	$(BIN)/ruff format --check src tests tools examples bench

typecheck: setup
	$(BIN)/mypy

check: lint typecheck test

templates: setup
	$(BIN)/python tools/build_templates.py

# Regenerate the golden layout images (tests/golden/) after a wanted layout change; review the
# changed PNGs with the change before committing them.
golden: setup
	CONSENTKIT_GOLDEN=regenerate $(BIN)/python -m pytest -q tests/test_golden_layout.py

bench: setup
	$(BIN)/python bench/batch_bench.py

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
