# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: export
# MAGIC The QA pairs in the Hugging Face layout of the released WebFAQ datasets: parquet shards per language
# MAGIC under `data/<language>/` and a dataset card, loadable with `datasets.load_dataset(folder, "deu")`.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh export` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# The package: attached to the run (the Airflow DAG passes the wheel as `package`), installed on the
# cluster, or, when neither, the Git folder holding this notebook (the folder above notebooks/).
import importlib.util, os, subprocess, sys

dbutils.widgets.text("package", "", "webfaq-spark wheel to pip-install (empty = installed, or this Git folder)")
package = dbutils.widgets.get("package").strip()
if package:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=True)
elif importlib.util.find_spec("jobs.base") is None:
    sys.path.insert(0, os.path.dirname(os.getcwd()))

# COMMAND ----------

from jobs.export import ExportJob

options = ExportJob.notebook_widgets(dbutils,
    format=("hf", ["hf"], "Format"),
    output=("", "Output folder: /Volumes/... or a cloud URI"),
    languages=("", "Languages, comma-separated (empty = all)"),
)

# COMMAND ----------

ExportJob.run_notebook(dbutils, options)
