# Two commands set everything up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SRC := bridge radicale_plugin
LINTED := bridge radicale_plugin emulators tests bench

.PHONY: run test lint typecheck unit system-deps venv conformance bench clean

$(STAMP): pyproject.toml emulators/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,conformance]' -e emulators
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the tests use: Chromium for the admin page's browser tests (Playwright
# drives it; it never downloads a browser of its own), a PostgreSQL server for the store's
# contract suite, nginx for the tests behind a TLS-terminating proxy (tests/proxy.py), and
# systemd-analyze and caddy to check the shipped unit and Caddyfile (deploy/).
DEB_PKGS := $(if $(shell command -v chromium),,chromium) \
            $(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) \
            $(if $(wildcard /usr/sbin/nginx),,nginx-light) \
            $(if $(shell command -v systemd-analyze),,systemd) \
            $(if $(shell command -v caddy),,caddy)
system-deps:
	@if [ -n "$(strip $(DEB_PKGS))" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages: $(strip $(DEB_PKGS))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_PKGS) >/dev/null; \
	  else echo "missing $(strip $(DEB_PKGS)) and not root: those tests will be skipped"; fi; \
	fi

run: venv
	$(BIN)/ipoint-bridge demo

lint: venv
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -q

test: venv system-deps lint typecheck unit

conformance: venv
	bash scripts/conformance.sh

bench: venv
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/caldav_bench.py --quick
	$(BIN)/python bench/mirror_bench.py --quick

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
