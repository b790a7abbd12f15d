# Two entry points on a fresh machine (Python 3.11 and Java 17+ needed; see README):
#   make demo   set up .venv, build a sample WARC from real pages, run the extraction into ./warehouse
#   make test   set up .venv and run the test suite
#   make wheel  dist/webfaq_spark-<version>-py3-none-any.whl (python -m build): what the Airflow DAG's
#               clusters install (README: Scheduling with Airflow)
# Both install only the versions pinned (with hashes) in requirements/*-py311.txt.
#   make lock         re-resolve the lock files from setup.py and requirements/*.in
#   make test-latest  the suite on the newest versions setup.py allows, in .venv-latest (not in CI)
#   make mutate       mutation testing of lib/ with cosmic-ray (not in CI; see MODULES below)
PYTHON ?= python3.11
VENV   ?= .venv
PY      = $(VENV)/bin/python
UV      = .venv-tools/bin/uv
SHARED ?= ../shared/data
SAMPLE  = build/sample/sample.warc.gz
# The other two inputs `extract --help` shows: Web Data Commons' real FAQPage N-Quads sample and
# the real COVID-QA pages in Open Web Index's Parquet schema (tests/owi_fixtures.py).
SAMPLE_NQ  = build/sample/FAQPage_sample.nq.gz
SAMPLE_OWI = build/sample/owi/covidqa.parquet
PYVER   = py311
LOCK    = requirements/$(PYVER).txt
AIRFLOW_LOCK = requirements/airflow-$(PYVER).txt
TOOLS_LOCK   = requirements/tools-$(PYVER).txt
BUILD_CONSTRAINTS = requirements/build-constraints-$(PYVER).txt
# uv builds the source-only packages (pyspark, pyserini) with the pinned setuptools.
UV_INSTALL = --require-hashes --build-constraints $(BUILD_CONSTRAINTS)
# `make lock` keeps every pin it can; UPGRADE="pkg ..." moves those packages to their newest allowed
# version, UPGRADE=all moves everything.
COMPILE = pip compile --python-version 3.11 --quiet $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach p,$(UPGRADE),--upgrade-package $(p)))

.PHONY: setup demo test sample clean lock test-latest check-python wheel mutate

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "the lock files are for Python 3.11: run make PYTHON=/path/to/python3.11")'

# uv, which resolves and installs the locks, in a venv of its own (from its own hashed lock).
$(UV): $(TOOLS_LOCK) | check-python
	rm -rf .venv-tools
	$(PYTHON) -m venv .venv-tools
	.venv-tools/bin/python -m pip install -q --require-hashes -r $(TOOLS_LOCK)

# A lock change rebuilds the venv from nothing, so that it holds exactly the lock.
$(VENV)/.installed: $(LOCK) $(BUILD_CONSTRAINTS) setup.py $(UV)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(UV) pip install -q --python $(PY) $(UV_INSTALL) -r $(LOCK)
	$(UV) pip install -q --python $(PY) --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $@

# Bytecode of every installed module, written once: each Python process (the driver, every Spark
# Python worker, every test) then loads pandas, pyarrow or torch from .pyc instead of compiling their
# sources again, which it does on every start where bytecode is not written (PYTHONDONTWRITEBYTECODE,
# as in `make test`, or a read-only venv). A few files in packages are not Python 3.11 (templates,
# test data): compileall reports them and exits 1, hence `|| true`. One rule for every venv.
%/.bytecode: %/.installed
	$*/bin/python -m compileall -q -j 0 $$($*/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') > /dev/null || true
	touch $@

setup: $(VENV)/.bytecode

# Airflow in its own venv (its pins clash with the ML stack), for the DAG import test.
.venv-airflow/.installed: $(AIRFLOW_LOCK) $(UV)
	rm -rf .venv-airflow
	$(PYTHON) -m venv .venv-airflow
	$(UV) pip install -q --python .venv-airflow/bin/python $(UV_INSTALL) -r $(AIRFLOW_LOCK)
	.venv-airflow/bin/python -m pip check
	touch $@

$(SAMPLE): $(VENV)/.bytecode
	$(PY) bench/make_bench_warc.py --out $(SAMPLE) --size-mb 2

$(SAMPLE_NQ):
	mkdir -p $(dir $@)
	install -m 644 $(SHARED)/webfaq-wdc-nquads/FAQPage_sample.txt.gz $@

$(SAMPLE_OWI): $(VENV)/.bytecode
	$(PY) -c 'import sys; from pathlib import Path; from tests.owi_fixtures import covidqa_owi_rows, write_owi_parquet; \
	write_owi_parquet(Path(sys.argv[1]), covidqa_owi_rows(Path(sys.argv[2])))' $@ $(SHARED)

sample: $(SAMPLE) $(SAMPLE_NQ) $(SAMPLE_OWI)

demo: sample
	./spark-submit.sh extract --input $(SAMPLE) --warehouse warehouse

wheel: $(VENV)/.bytecode
	$(PY) -m lib.package wheel --out dist

# No bytecode of the checkout and no pytest cache: a test run leaves the checkout as it found it
# (the venv's packages load from the bytecode .bytecode wrote).
test: $(VENV)/.bytecode .venv-airflow/.bytecode
	PYTHONDONTWRITEBYTECODE=1 $(PY) -m pytest -q -p no:cacheprovider tests

# Re-resolve every lock file after a change to setup.py or requirements/*.in (see COMPILE for UPGRADE).
# Then `make test` on the new lock, on a fresh clone, before committing it (README: Dependencies).
lock: $(UV)
	$(UV) $(COMPILE) --generate-hashes requirements/tools.in -o $(TOOLS_LOCK)
	$(UV) $(COMPILE) requirements/build-constraints.in -o $(BUILD_CONSTRAINTS)
	$(UV) $(COMPILE) --generate-hashes setup.py --all-extras -o $(LOCK)
	$(UV) $(COMPILE) --generate-hashes requirements/airflow.in -o $(AIRFLOW_LOCK)
	rm -rf webfaq_spark.egg-info

# Drift watch: the newest versions setup.py allows, without the lock, in a venv of its own.
test-latest: $(UV)
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	$(UV) pip install -q --python .venv-latest/bin/python --upgrade -e ".[dev,models,retrieval,s3]"
	.venv-latest/bin/python -m pip check
	mkdir -p build
	.venv-latest/bin/python -m pip freeze --exclude-editable > build/latest-freeze.txt
	@echo "resolved versions: build/latest-freeze.txt (diff it against $(LOCK))"
	PYTHON=$(CURDIR)/.venv-latest/bin/python .venv-latest/bin/python -m pytest -q tests

# Mutation testing (cosmic-ray, in a copy of the checkout under build/mutate): each mutant of each
# module runs the tests that import it, `pytest -x -m "$(MARK)"`. One mutant costs one pytest start
# (seconds; a Spark test adds its session start), so all of lib/ takes hours on two cores: scope it,
#   make mutate MODULES="lib/retrieval/negatives.py lib/extract/clean.py"
#   make mutate MODULES=lib/models/bitexts.py TESTS=tests/models/test_bitexts.py MARK="not gpu"
#   make mutate MODULES=lib/extract/clean.py SAMPLE=60     (60 mutants drawn with a fixed seed)
# It prints killed / survived / total and the survival rate per module; the surviving mutants
# (with their diff) are in build/mutate/<module>.survivors.txt.
MODULES ?= $(shell git ls-files 'lib/*.py' | grep -v '__init__.py')
MARK    ?= not slow and not gpu
TESTS   ?=
SAMPLE  ?=
mutate: $(VENV)/.bytecode
	$(PY) -m tests.mutate -m "$(MARK)" $(if $(SAMPLE),--sample $(SAMPLE)) $(foreach t,$(TESTS),--tests $(t)) $(MODULES)

clean:
	rm -rf build warehouse .pytest_cache
