# Two commands for a fresh machine (Python 3.11+ and pip are all it needs):
#   make run    install into .venv and run the archive on the embedded default
#   make test   install the test dependencies and run the whole test suite
#   make hub    run DANDI Hub (JupyterHub signing people in through the archive of `make run`)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= archive-data
# configurable-http-proxy (npm) for DANDI Hub's tests; `dandi-archive hub` installs its
# own under <data dir>/hub/node when it finds none (DANDI_HUB_PROXY_PREFIX says where).
HUB_NODE ?= build/hub-node
CHP      := $(HUB_NODE)/node_modules/.bin/configurable-http-proxy

.PHONY: run test install install-test install-hub lint browser hub hub-proxy zarr2

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The `nwb` extra: the NWB Inspector that judges uploaded NWB files (README, "NWB files").
install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[nwb]'

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,nwb]'

install-hub: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[hub]'

run: install
	$(BIN)/dandi-archive serve --data-dir $(DATA)

hub: install-hub
	$(BIN)/dandi-archive hub --data-dir $(DATA)

# The proxy from npm, if npm is there (without it the hub tests are skipped, except in CI).
hub-proxy: $(CHP)
$(CHP):
	@if command -v npm >/dev/null; then \
		npm install --prefix $(HUB_NODE) --no-audit --no-fund --loglevel=error configurable-http-proxy@5; \
	else echo "NOTE: npm is missing; the DANDI Hub tests will be skipped." >&2; fi

# zarr 2 in a virtualenv of its own (it cannot share one with zarr 3), for the test that
# opens a published Zarr from its contentUrl with both.
ZARR2_VENV ?= build/zarr2-venv
ZARR2_PY   := $(ZARR2_VENV)/bin/python
zarr2: $(ZARR2_PY)
$(ZARR2_PY):
	$(PYTHON) -m venv $(ZARR2_VENV)
	$(ZARR2_VENV)/bin/pip install --quiet 'zarr>=2.18,<3' 'fsspec[http]>=2024.1'

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

browser:
	./scripts/ensure_chromium.sh

test: lint browser hub-proxy zarr2
	DANDI_HUB_PROXY_PREFIX=$(abspath $(HUB_NODE)) \
	DANDI_ARCHIVE_TEST_ZARR2_PYTHON=$(abspath $(ZARR2_PY)) $(BIN)/pytest
