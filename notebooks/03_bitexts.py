# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: bitexts
# MAGIC LaBSE bitext mining within origins into `bitexts`, plus the two released JSONL.gz files.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh bitexts` runs;
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

from jobs.bitexts import BitextsJob

options = BitextsJob.notebook_widgets(dbutils,
    export=("", "Export folder (empty = <warehouse>/exports/bitexts)"),
)

# COMMAND ----------

BitextsJob.run_notebook(dbutils, options)
