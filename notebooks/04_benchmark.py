# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: benchmark
# MAGIC Per-language retrieval collections (BEIR/MTEB layout): corpus, queries, qrels.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh benchmark` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# The package: attached to the run (the Airflow DAG passes the wheel as `package`), installed on the
# cluster, or, when neither, the Git folder holding this notebook (the folder above notebooks/).
import importlib.util, os, subprocess, sys

dbutils.widgets.text("package", "", "webfaq-spark wheel to pip-install (empty = installed, or this Git folder)")
package = dbutils.widgets.get("package").strip()
if package:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", f"{package}[models,retrieval]"], check=True)
elif importlib.util.find_spec("jobs.base") is None:
    sys.path.insert(0, os.path.dirname(os.getcwd()))

# COMMAND ----------

from jobs.benchmark import BenchmarkJob

options = BenchmarkJob.notebook_widgets(dbutils,
    languages=("", "Languages, comma-separated (empty = all)"),
    export=("", "Export folder or URL: BEIR folders + dataset card (empty = none)"),
)

# COMMAND ----------

BenchmarkJob.run_notebook(dbutils, options)
