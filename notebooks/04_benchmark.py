# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: benchmark
# MAGIC Per-language retrieval collections (BEIR/MTEB layout): corpus, queries, qrels.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh benchmark` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark[models,retrieval]

# COMMAND ----------

from jobs.benchmark import BenchmarkJob

dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.dropdown("profile", BenchmarkJob.profile("databricks"), ["databricks", "databricks,gpu"], "Profile")
dbutils.widgets.text("languages", "", "Languages, comma-separated (empty = all)")
dbutils.widgets.text("export", "", "Export folder or URL: BEIR folders + dataset card (empty = none)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

BenchmarkJob.run_notebook(dbutils, options=('languages', 'export'))
