# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: annotate
# MAGIC QA similarity (Jina v3), topic and question-type labels (XLM-R) into `qa_annotations`, on GPU workers.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh annotate` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark[models,retrieval]

# COMMAND ----------

from jobs.annotate import AnnotateJob

dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.dropdown("profile", AnnotateJob.profile("databricks"), ["databricks", "databricks,gpu"], "Profile")
dbutils.widgets.text("languages", "", "Languages, comma-separated (empty = conf)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

AnnotateJob.run_notebook(dbutils, options=('languages',))
