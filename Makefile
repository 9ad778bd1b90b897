# Two set-up commands on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DB := dbt_project/warehouse.duckdb
BROKEN_DB := dbt_project/warehouse_broken.duckdb
DBT := $(BIN)/dbt build --project-dir dbt_project --profiles-dir dbt_project --quiet
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false

.PHONY: install sysdeps data demo test lint bench clean

$(BIN)/dq: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/dq

# the Spark backend's tests (tests/test_spark_*.py) run in Spark local mode: pyspark from the extra
$(VENV)/.spark-installed: pyproject.toml $(BIN)/dq
	$(BIN)/pip install -q -e '.[dev,spark]'
	touch $@

# Raw data generated into DuckDB, then dbt builds staging -> features -> training_set.
data: install
	$(BIN)/python dbt_project/generate_data.py --db $(DB)
	DQ_DB=$(DB) $(DBT)

demo: data
	@echo "== 1. clean data: the gate passes and training runs =="
	$(BIN)/dq gate contracts/ --db $(DB) -- $(BIN)/python examples/train.py --db $(DB)
	@echo "== 2. broken data (fan-out, null explosion, out-of-range, orphan FK, stale): the gate blocks =="
	$(BIN)/python dbt_project/generate_data.py --db $(BROKEN_DB) --variant broken
	@# the exported in-model gates (dq dbt export) would stop dbt here; switch them off so the
	@# broken tables are built and dq's gate is what blocks them
	DQ_DB=$(BROKEN_DB) $(DBT) --vars '{dq_enforce: false}'
	@status=0; $(BIN)/dq gate contracts/ --db $(BROKEN_DB) -- $(BIN)/python examples/train.py --db $(BROKEN_DB) || status=$$?; \
	if [ $$status -eq 1 ]; then echo "== blocked as expected (exit 1): training never started =="; \
	else echo "== expected the gate to block with exit 1, got $$status =="; exit 1; fi

# System packages the tests need: the HTML report test opens the page in a real headless Chromium
# and reads its screenshot with tesseract, and Spark local mode needs a Java runtime (Debian
# packages; `make test` runs as root on a fresh machine).
sysdeps:
	@if ! command -v chromium >/dev/null || ! command -v tesseract >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium tesseract-ocr >/dev/null; \
	fi
	@if ! command -v java >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	fi

test: install $(VENV)/.spark-installed sysdeps
	$(BIN)/pytest -q -n 2 --dist loadgroup --durations=25

# Benchmarks (README "Benchmarks"): 1M and 10M rows, 5 paired runs each after a warm-up (the slow
# peers fewer), then a pyinstrument profile of `dq validate` at both sizes (bench/out/profile_*).
bench: install
	$(BIN)/python bench/run.py --rows 1000000 10000000 --repeat 5 --repeat-for pointblank=1,plain-gx=2,plain-pandera=3,dq-gx=3 --timeout 400
	$(BIN)/python bench/profile_validate.py --rows 1000000 10000000

lint: install
	$(BIN)/ruff check dq tests bench examples dbt_project
	$(BIN)/ruff format --check dq tests bench examples dbt_project
	$(BIN)/mypy dq

clean:
	rm -rf .dq dbt_project/target dbt_project/logs $(DB) $(BROKEN_DB) reports
