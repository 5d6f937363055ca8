# The two commands of the quick start: `make replicate` and `make test`. Both work from a clean clone with
# only Python 3.11+ and make: they create .venv and install the package from pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: replicate test bench verify paper clean help test-floors docs

help:
	@echo "make replicate  create .venv, install, run every claim on the bundled data, build the paper"
	@echo "make test       create .venv, install with test extras, run pytest"
	@echo "make bench      side-by-side timings against peer packages (ratios)"
	@echo "make verify     check stored results/, re-run every claim, compare with them and replication/expected/"
	@echo "make paper      build paper/build/paper.html from results/ (refuses results that do not verify)"
	@echo "make docs       build the documentation site (tutorials executed) into docs/build/html"
	@echo "make test-floors  run pytest in .venv-floors, runtime deps at their declared lower bounds"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "econ needs Python 3.11+, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip "setuptools>=68" wheel

# Stamps re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[test,test-latest]"
	@touch $@ $(VENV)/.installed

replicate: $(VENV)/.installed
	$(BIN)/econ replicate --paper

paper: $(VENV)/.installed
	$(BIN)/econ paper

verify: $(VENV)/.installed
	$(BIN)/econ verify

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n auto

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf results paper/build build dist *.egg-info docs/build docs/generated docs/api.rst

# Regenerate the simulated demonstration panel (data/china_cities_demo*) from econ.simulate.
demo-data: $(VENV)/.installed
	$(BIN)/python -c "from econ.simulate import write_china_cities_demo; write_china_cities_demo('data')"
	$(BIN)/python tools/hash_data.py

# The suite again with every runtime dependency at the lower bound pyproject.toml declares
# (.ci/constraints-floor.txt), in its own venv, so the floors are true. Test extras resolve to versions
# compatible with those floors.
FLOORS := .venv-floors
$(FLOORS)/.installed: pyproject.toml .ci/constraints-floor.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "econ needs Python 3.11+, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(FLOORS)
	$(FLOORS)/bin/python -m pip --disable-pip-version-check install --quiet --upgrade pip "setuptools>=68" wheel
	$(FLOORS)/bin/python -m pip --disable-pip-version-check install --quiet -c .ci/constraints-floor.txt -e ".[test]"
	$(FLOORS)/bin/python .ci/check_floors.py
	@touch $@

test-floors: $(FLOORS)/.installed
	ECON_TEST_FLOORS=1 $(FLOORS)/bin/python -m pytest -n auto -p no:cacheprovider

# The documentation site: Sphinx + myst-nb (executes every tutorial in docs/tutorials/), warnings are errors;
# then tools/check_docs.py checks every figure decodes, every local link resolves, and (with Chromium) every page renders.
$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[docs]"
	@touch $@ $(VENV)/.installed

docs: $(VENV)/.installed-docs
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/build/html
	$(BIN)/python tools/check_docs.py docs/build/html
