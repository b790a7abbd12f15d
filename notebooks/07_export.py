# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: export
# MAGIC The QA pairs in the Hugging Face layout of the released WebFAQ datasets: parquet shards per language
# MAGIC under `data/<language>/` and a dataset card, loadable with `datasets.load_dataset(folder, "deu")`.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh export` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark

# COMMAND ----------

from jobs.export import ExportJob

dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.dropdown("profile", ExportJob.profile("databricks"), ["databricks", "databricks,gpu"], "Profile")
dbutils.widgets.dropdown("format", "hf", ["hf"], "Format")
dbutils.widgets.text("output", "dbfs:/webfaq/exports/hf", "Output folder")
dbutils.widgets.text("languages", "", "Languages, comma-separated (empty = all)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

ExportJob.run_notebook(dbutils, options=('format', 'output', 'languages'))
