# The two commands a newcomer needs: `make start` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: start test lint browser bench-clicks translations

# Production packages for `make start`; the test and lint tools on top for `make test` and `make lint`.
$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The pages' languages: each .po compiled to its .mo (not committed) at install, and again whenever it changes.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(BIN)/.installed
	$(BIN)/pybabel compile --statistics -d translations -l $*

## Set up, migrate, create the demo program, and serve Handoff on SQLite at 127.0.0.1:$(PORT),
## with the background worker (postbacks) beside it.
start: $(BIN)/.installed $(CATALOGUES)
	$(BIN)/flask --app app migrate
	$(BIN)/flask --app app demo
	$(BIN)/flask --app app worker & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
		$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - app:app

## Set up and run the tests (SQLite, and PostgreSQL and Redis when reachable; all three under CI=true).
test: $(BIN)/.installed-dev browser $(CATALOGUES)
	$(BIN)/python -m pytest

## Formatting, lint and types: ruff format --check, ruff check, mypy (strict on core/ and the tax engine).
lint: $(BIN)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

## Collect the pages' strings into every catalogue; then translate the new ones in translations/*/LC_MESSAGES/.
translations: $(BIN)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -o translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i translations/messages.pot -d translations

## Debian's Chromium for the landing-helper browser test (installed when missing and we may).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium not installed and no root: the browser test will be skipped"; fi; }

## The click-path benchmark (production mode under gunicorn; needs PostgreSQL, Redis, and wrk).
bench-clicks: $(BIN)/.installed
	$(BIN)/python bench/clicks.py
