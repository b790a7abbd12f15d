# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: annotate
# MAGIC QA similarity (Jina v3), topic and question-type labels (XLM-R) into `qa_annotations`, on GPU workers.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh annotate` runs;
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

from jobs.annotate import AnnotateJob

options = AnnotateJob.notebook_widgets(dbutils,
    languages=("", "Languages, comma-separated (empty = conf)"),
)

# COMMAND ----------

AnnotateJob.run_notebook(dbutils, options)
