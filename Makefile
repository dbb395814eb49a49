# Two commands on a fresh machine: `make run` and `make test`. Everything else they need
# (virtualenv, Python packages, front-end build) is made here, and only when stale.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
ASSETS := static/app/.vite/manifest.json
# The OpenID Connect provider the single sign-on tests start (tests/support/oidc/).
OIDC_PROVIDER := tests/support/oidc/node_modules/.package-lock.json
# Folders too: deleting a source changes its folder, which must rebuild as well.
FRONTEND_SOURCES := $(shell find frontend/src 2>/dev/null) frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/package.json
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install assets lint typecheck frontend-test clean

run: install assets
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 SITE_URL=http://$(HOST):$(PORT) $(PY) manage.py bootstrap
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install assets $(OIDC_PROVIDER)
	$(BIN)/pytest $(PYTEST_ARGS)
	cd frontend && npx vitest run

install: $(INSTALLED)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

assets: $(ASSETS)

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

$(OIDC_PROVIDER): tests/support/oidc/package-lock.json
	cd tests/support/oidc && npm ci --no-audit --no-fund
	touch $@

$(ASSETS): frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy runs/engine teams/spec.py

clean:
	rm -rf $(VENV) frontend/node_modules tests/support/oidc/node_modules static/app staticfiles
