# The two commands a fresh machine needs: `make demo` and `make test`. Each installs what it needs
# (a virtualenv with the project, the Kafka jars) on its first run and reuses it after.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit integration quality bench perf soak soak-cluster install kafka-up kafka-down kafka-cluster-up kafka-cluster-down clean chromium screenshots

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	bash deploy/local/kafka.sh fetch

demo: install
	$(BIN)/civicwatch demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: install lint typecheck chromium
	$(BIN)/pytest -p no:cacheprovider

# Browser tests drive Debian's chromium through Playwright (never `playwright install`).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Regenerates docs/review-*.png from the browser tests, against the test broker.
screenshots: install chromium
	CIVICWATCH_SCREENSHOTS=$(CURDIR)/docs $(BIN)/pytest -p no:cacheprovider tests/test_review_browser.py

unit: $(STAMP)
	$(BIN)/pytest -m "not integration and not quality"

integration: install
	$(BIN)/pytest -m integration

quality: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/civicwatch quality

bench: install
	$(BIN)/civicwatch bench pipeline

# Everything docs/PERFORMANCE.md reports, regenerated in one run (about 15 minutes on 2 cores).
perf: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/civicwatch bench all

# The fault tests at ten times the size `make test` uses (about an hour on 2 cores).
soak: install
	CIVICWATCH_FAULT_COMMENTS=200000 $(BIN)/pytest -p no:cacheprovider tests/test_faults.py

# An hour on a local three-node cluster at half the worker's measured rate, the broker leading the most
# comments.raw partitions SIGKILLed and restarted every ten minutes: lost, duplicated, p99 and the
# worker's RSS per ten-minute window (docs/PERFORMANCE.md). Not part of `make test`.
SOAK_ARGS ?= --minutes 60 --kill-every 600 --window 600
soak-cluster: install
	$(BIN)/civicwatch bench soak-cluster $(SOAK_ARGS)

kafka-cluster-up: install
	$(BIN)/civicwatch kafka up --brokers 3

kafka-cluster-down: $(STAMP)
	$(BIN)/civicwatch kafka down --brokers 3

kafka-up: install
	$(BIN)/civicwatch kafka up

kafka-down: $(STAMP)
	$(BIN)/civicwatch kafka down

clean:
	-bash deploy/local/kafka.sh down
	-CIVICWATCH_KAFKA_BROKERS=3 bash deploy/local/kafka.sh down
	-CIVICWATCH_KAFKA_BROKERS=3 CIVICWATCH_KAFKA_DIR=.local/kafka-cluster-test bash deploy/local/kafka.sh down
	rm -rf .local .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
