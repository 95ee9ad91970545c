# Jet: `make demo` and `make test` work on a fresh clone with only Python 3.11.
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.8
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export UV_NO_PROGRESS := 1

.PHONY: install demo docs console portal test test-unit test-integration bench lint dagster clean

install: $(VENV)/.installed

# uv installs exactly the committed lock (uv.lock) into .venv; --inexact keeps uv itself.
# --compile-bytecode: every `jet` process imports Dagster, dbt and Great Expectations, and
# where Python may not write .pyc files (PYTHONDONTWRITEBYTECODE) it compiled them all
# again each time: ~7 s of a monthly `jet bill`, ~4 s of a `jet simulate`.
$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@$(VENV)/bin/uv sync --frozen --inexact --quiet --compile-bytecode
	@touch $@

demo: install
	$(VENV)/bin/jet demo

# dbt's documentation site with its lineage graph: $JET_HOME/docs/index.html (var/docs).
docs: install
	$(VENV)/bin/jet docs

# The staff console, https://localhost:8501 with the certificate `make demo` made.
console: install
	$(VENV)/bin/jet console serve

# The customer portal, https://localhost:8502/?realm=acme (docs/portal.md). Card payments
# go to the demo's sandbox gateway with its keys (jet/drivers/demo_money.py) unless the
# environment sets the realms' own.
portal: install
	ACME_GATEWAY_KEY=$${ACME_GATEWAY_KEY:-sk_test_jet_demo} \
	SKYFI_GATEWAY_KEY=$${SKYFI_GATEWAY_KEY:-sk_test_jet_demo} \
		$(VENV)/bin/jet portal serve

test: install
	$(VENV)/bin/pytest -q

test-unit: install
	$(VENV)/bin/pytest -q tests/unit

test-integration: install
	$(VENV)/bin/pytest -q tests/integration

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# ruff for style; lint-imports for the layers (pyproject.toml, docs/architecture.md).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# The scheduled runs get the planned-event setting Jet's own runs get (jet/config.py).
dagster: install
	$(VENV)/bin/jet db upgrade >/dev/null
	DAGSTER_HOME=$${JET_HOME:-$(CURDIR)/var}/dagster DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true \
		$(VENV)/bin/dagster dev -m dagster_jet.definitions

clean:
	rm -rf var dbt_project/target dbt_project/logs .pytest_cache
