# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test install broker-plugins browser-deps migrate bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

## Start the whole system on this machine (six services + gateway on :8000), seeded with a demo township.
run: install
	$(PY) scripts/run_all.py

## Install what is missing and run every test (unit, integration on real RabbitMQ + PostgreSQL, e2e).
test: install broker-plugins browser-deps
	$(PY) -m pytest tests -q

# nameko-style test fixtures make their own RabbitMQ vhost through the management API.
broker-plugins:
	@bash scripts/rabbitmq_management.sh

# The browser tests (tests/browser) drive Debian's headless chromium through chromium-driver.
browser-deps:
	@bash scripts/browser_deps.sh

migrate: install
	$(PY) -m services.common.migrate upgrade staff intake cases complaints lending notices

## The intake path against the framework's floor, the heavy timers (BENCH_ARGS=--quick to iterate).
bench: install
	$(PY) benchmarks/bench_intake.py $(BENCH_ARGS)
	$(PY) benchmarks/bench_gateway.py

clean:
	rm -rf var
