# Two commands matter: `make run` (the whole demo on SQLite) and `make test` (every suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
PORT ?= 37821

.PHONY: install run test test-frontend test-backend test-fakes test-e2e lint format frontend migrate bench clean browser

install: $(STAMPS)/python $(STAMPS)/npm

$(STAMPS)/python: pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# iamport-rest-client pins an old requests; the test uses it as the official client, so no deps.
	$(BIN)/python -m pip install --quiet --no-deps iamport-rest-client==0.9.0
	@touch $@

$(STAMPS)/npm: frontend/package-lock.json
	@mkdir -p $(STAMPS)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend: $(STAMPS)/npm
	cd frontend && npm run build --silent

# The demo's database: local mode unless PAYMENT_MODE says otherwise (the app's own default is real).
migrate: $(STAMPS)/python
	cd backend && PAYMENT_MODE=$${PAYMENT_MODE:-local} ../$(BIN)/flask --app payment_backend db upgrade

run: install frontend migrate
	@PORT=$(PORT) BIN=$(BIN) exec ./scripts/run-demo.sh

# The browser suites need a Chromium: the system's, else Debian's (as root), else Playwright's.
browser: $(STAMPS)/python
	@BIN=$(BIN) ./scripts/ensure-browser.sh

test: install frontend browser
	cd frontend && npm test
	@mkdir -p .reports
	$(BIN)/pytest backend/tests fakes/tests bench/tests e2e --junitxml=.reports/junit.xml \
		--tracing=retain-on-failure --output=e2e/artifacts/test-results

# The frontend's unit tests (Vitest): money formatting, the API client.
test-frontend: $(STAMPS)/npm
	cd frontend && npm test

test-backend: $(STAMPS)/python
	$(BIN)/pytest backend/tests

test-fakes: $(STAMPS)/python
	$(BIN)/pytest fakes/tests

test-e2e: install frontend browser
	$(BIN)/pytest e2e

# The load benchmark (bench/README.md): BENCH_ARGS="--duration 20 --db sqlite" etc.
bench: $(STAMPS)/python
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# ruff, the layers (import-linter, pyproject [tool.importlinter]), module and function sizes, ESLint.
lint: $(STAMPS)/python $(STAMPS)/npm
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/check_sizes.py
	cd frontend && npm run lint

format: $(STAMPS)/python
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(STAMPS) .reports frontend/node_modules frontend/dist
