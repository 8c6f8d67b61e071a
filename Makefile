# Everything a fresh clone needs: `make demo` and `make test` create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench chaos install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the pinned set or the project metadata changes.
$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lapak demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/connector.py
	$(BIN)/python bench/sync.py

# The full chaos suite (200 seeded cycles of faults, kills and checks; a few minutes).
chaos: $(STAMP)
	$(BIN)/python bench/chaos.py --cycles 200 --seed 1

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
