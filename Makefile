# Two commands set everything up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
SRC := bridge radicale_plugin
LINTED := bridge radicale_plugin emulators tests bench
# One stamp per install set, so `make run` installs only what running needs and the test and
# conformance tools come with the targets that use them.
RUN_STAMP := $(VENV)/.run-stamp
DEV_STAMP := $(VENV)/.dev-stamp
CONFORMANCE_STAMP := $(VENV)/.conformance-stamp

.PHONY: run test lint typecheck unit system-deps venv conformance bench clean

# What running needs: the package and the emulators' distribution (the demo's Google).
$(RUN_STAMP): pyproject.toml emulators/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e . -e emulators
	touch $(RUN_STAMP)

# Tests, lint, type checks and benches: the dev tools and PostgreSQL's driver.
$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	touch $(DEV_STAMP)

$(CONFORMANCE_STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e '.[conformance]'
	touch $(CONFORMANCE_STAMP)

venv: $(DEV_STAMP) $(CONFORMANCE_STAMP)

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

run: $(RUN_STAMP)
	$(BIN)/ipoint-bridge demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/lint-imports --no-cache

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP)
	$(BIN)/pytest -q

test: $(DEV_STAMP) system-deps lint typecheck unit

conformance: $(CONFORMANCE_STAMP)
	bash scripts/conformance.sh

# wrk is the multi-instance bench's load generator (Python clients otherwise); nginx and
# PostgreSQL come with system-deps.
bench: $(DEV_STAMP) system-deps
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; } || true
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/caldav_bench.py --quick
	$(BIN)/python bench/hostile_bench.py
	$(BIN)/python bench/mirror_bench.py --quick
	$(BIN)/python bench/filemaker_bench.py -n 20000
	$(BIN)/python bench/multi_instance_bench.py --quick

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
