# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: mine
# MAGIC Hard negatives: BM25 top-200 with Pyserini, rescored by BGE-m3, into `hard_negatives`.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh mine` runs;
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

from jobs.mine import MineJob

options = MineJob.notebook_widgets(dbutils,
    languages=("", "Languages, comma-separated (empty = all)"),
    export=("", "Export folder or URL for the trainers' formats (empty = none)"),
)

# COMMAND ----------

MineJob.run_notebook(dbutils, options)
