# Blueberry: `make run` starts everything, `make test` passes the tests. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: chromium run test test-postgres install install-dev translations instance migrate catalog vendor lint babel-extract clean

run: install translations instance migrate catalog
	@if [ -n "$$REDIS_URL" ]; then \
		echo "Using Redis at $$REDIS_URL"; $(BIN)/honcho start web worker ingest alarms ai scheduler; \
	else \
		$(BIN)/honcho start; \
	fi

test: install-dev translations chromium
	$(BIN)/pytest -m "not postgres"

# The whole suite again on a throwaway PostgreSQL cluster (.ci/run calls this too).
test-postgres: install-dev translations chromium
	bash scripts/with_postgres.sh env TEST_DATABASE=postgres $(BIN)/pytest -m "not sqlite"

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's chromium for the end-to-end tests (Playwright cannot download a browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = "0" ]; then apt-get update -q && apt-get install -y -q chromium; \
		else echo "chromium is missing: sudo apt-get install chromium" >&2; exit 1; fi; }

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d blueberry/translations >/dev/null

babel-extract: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o blueberry/translations/messages.pot .
	$(BIN)/pybabel update -i blueberry/translations/messages.pot -d blueberry/translations

instance: install
	$(BIN)/python -m blueberry.instance

migrate: install instance
	$(BIN)/flask db upgrade

# An empty catalog gets the sample shipped in blueberry/data/ (with ALADIN_TTB_KEY set, the
# scheduler's daily ingestion fills it from Aladin as well); no news yet: the sample feeds.
catalog: migrate
	$(BIN)/flask books sample --if-empty
	$(BIN)/flask news sample --if-empty

vendor:
	npm ci --no-audit --no-fund
	cp node_modules/htmx.org/dist/htmx.min.js blueberry/static/vendor/htmx.min.js
	cp node_modules/htmx-ext-sse/sse.js blueberry/static/vendor/htmx-ext-sse.js
	cp node_modules/htmx-ext-ws/ws.js blueberry/static/vendor/htmx-ext-ws.js
	cp node_modules/axe-core/axe.min.js tests/e2e/vendor/axe.min.js

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) node_modules .pytest_cache
