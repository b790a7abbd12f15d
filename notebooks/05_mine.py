# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: mine
# MAGIC Hard negatives: BM25 top-200 with Pyserini, rescored by BGE-m3, into `hard_negatives`.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh mine` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark[models,retrieval]

# COMMAND ----------

from jobs.mine import MineJob

dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.dropdown("profile", MineJob.profile("databricks"), ["databricks", "databricks,gpu"], "Profile")
dbutils.widgets.text("languages", "", "Languages, comma-separated (empty = all)")
dbutils.widgets.text("export", "", "Export folder or URL for the trainers' formats (empty = none)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

MineJob.run_notebook(dbutils, options=('languages', 'export'))
