# Two commands for a fresh machine (Python 3.11+ and pip are all it needs):
#   make run    install into .venv and run the archive on the embedded default
#   make test   install the test dependencies and run the whole test suite

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= archive-data

.PHONY: run test install install-test lint browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

run: install
	$(BIN)/dandi-archive serve --data-dir $(DATA)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

browser:
	./scripts/ensure_chromium.sh

test: lint browser
	$(BIN)/pytest
