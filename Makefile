# adfemu: two commands. `make demo` runs the main job, `make test` the whole suite.
# Both bootstrap .venv (pip, pinned by constraints.txt) and node_modules (npm ci, package-lock.json).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
AZML_VENV := .venv-azml
AZML_STAMP := $(AZML_VENV)/.installed
# CPython 3.7 for the legacy AML clients (azmlclient 2.6.0 imports on 3.7 only): PATH first, then pyenv.
PY37 := $(shell for c in python3.7 $(wildcard $(HOME)/.pyenv/versions/3.7*/bin/python3.7) $(wildcard /root/.pyenv/versions/3.7*/bin/python3.7); do \
          $$c -c 'import sys; assert sys.version_info[:2] == (3, 7)' >/dev/null 2>&1 && { echo $$c; break; }; done)
PYTEST_ARGS ?=

.PHONY: test demo serve benchmark fixtures layering legacy-clients clean

test: $(PY_STAMP) $(NODE_STAMP) legacy-clients
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

demo: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python -m adfemu.demo

serve: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/adfemu serve --config fixtures/seed-emulator.json

benchmark: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest benchmarks -p no:xdist --benchmark-only $(PYTEST_ARGS)

layering: $(PY_STAMP)
	$(BIN)/python tools/layering.py

fixtures: $(PY_STAMP)
	$(BIN)/python fixtures/make_fixtures.py

$(PY_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "adfemu needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Builds .venv-azml when CPython 3.7 exists; otherwise the legacy-client tests skip and say why.
legacy-clients:
ifneq ($(PY37),)
	@$(MAKE) --no-print-directory $(AZML_STAMP) PY37=$(PY37)
else
	@echo "no CPython 3.7 found: the azmlclient / azureml SDK tests will be skipped"
endif

$(AZML_STAMP): tests/clients/requirements-azml.txt
	$(PY37) -m venv $(AZML_VENV)
	$(AZML_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/clients/requirements-azml.txt
	touch $@

clean:
	rm -rf $(VENV) $(AZML_VENV) node_modules .pytest_cache .benchmarks
