# The two commands a newcomer needs: `make start` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: start test bench-clicks

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

## Set up, migrate, create the demo program, and serve Handoff on SQLite at 127.0.0.1:$(PORT).
start: $(BIN)/.installed
	$(BIN)/flask --app app migrate
	$(BIN)/flask --app app demo
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - app:app

## Set up and run the tests (SQLite, and PostgreSQL and Redis when reachable; all three under CI=true).
test: $(BIN)/.installed
	$(BIN)/python -m pytest

## The click-path benchmark (production mode under gunicorn; needs PostgreSQL, Redis, and wrk).
bench-clicks: $(BIN)/.installed
	$(BIN)/python bench/clicks.py
