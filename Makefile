# Everything a fresh clone needs: `make demo` and `make test` create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench chaos install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the pinned set or the project metadata changes. Exactly the pinned set:
# requirements.lock holds every dependency, the sandbox and test extras' included; --no-deps
# lets nothing unpinned in, and pip check fails if a pinned package (or the project's core)
# needs something the lock lacks.
$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e '.[sandbox,test]'
	$(BIN)/pip check
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lapak demo

# The habits that keep the code readable: ruff (style, bugs, complexity) and the layer contract
# (import-linter: the command -> the flows -> the engine; flows -> connectors -> schemas).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Two workers, a test file each at a time (--dist loadfile: a module's servers and fixtures stay in
# one process); each worker starts its own temporary Prefect server. Most tests wait on servers
# and subprocesses, so two workers finish in about two thirds of the time on two cores.
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/connector.py
	$(BIN)/python bench/connector.py --channel tiktok
	$(BIN)/python bench/oversell.py
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/photos.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/webhook_ack.py
	$(BIN)/python bench/retention.py
	$(BIN)/python bench/scale.py

# The full chaos suite (200 seeded cycles of faults, kills and checks; a few minutes).
chaos: $(STAMP)
	$(BIN)/python bench/chaos.py --cycles 200 --seed 1

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
