# Two entry points on a fresh machine (Python 3.10+ and Java 17+ needed; see README):
#   make demo   set up .venv, build a sample WARC from real pages, run the extraction into ./warehouse
#   make test   set up .venv and run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
SHARED ?= ../shared/data
SAMPLE  = build/sample/sample.warc.gz

.PHONY: setup demo test sample clean

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel setuptools
	$(PY) -m pip install -q -e ".[dev,models,retrieval]"
	touch $@

setup: $(VENV)/.installed

# Airflow in its own venv (its pins clash with the ML stack), for the DAG import test.
.venv-airflow/.installed:
	$(PYTHON) -m venv .venv-airflow
	.venv-airflow/bin/pip install -q apache-airflow apache-airflow-providers-apache-spark apache-airflow-providers-databricks
	touch $@

$(SAMPLE): $(VENV)/.installed
	$(PY) bench/make_bench_warc.py --out $(SAMPLE) --size-mb 2

sample: $(SAMPLE)

demo: $(SAMPLE)
	./spark-submit.sh extract --input $(SAMPLE) --warehouse warehouse

test: $(VENV)/.installed .venv-airflow/.installed
	$(PY) -m pytest -q tests

clean:
	rm -rf build warehouse .pytest_cache
