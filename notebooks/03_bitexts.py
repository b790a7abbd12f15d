# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: bitexts
# MAGIC LaBSE bitext mining within origins into `bitexts`, plus the two released JSONL.gz files.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh bitexts` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark[models,retrieval]

# COMMAND ----------

from jobs.bitexts import BitextsJob

dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.dropdown("profile", BitextsJob.profile("databricks"), ["databricks", "databricks,gpu"], "Profile")
dbutils.widgets.text("export_dir", "", "Export folder (empty = <warehouse>/exports/bitexts)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

BitextsJob.run_notebook(dbutils, options=('export_dir',))
