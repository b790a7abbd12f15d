# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: extract
# MAGIC Common Crawl WARC files (or Web Data Commons N-Quads, Open Web Index Parquet) -> `faq_pages` and
# MAGIC `qa_pairs` Delta tables (partitioned by language).
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh extract` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/). Re-running adds nothing twice.

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark

# COMMAND ----------

dbutils.widgets.text("input", "s3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz", "Manifest or WARC path")
dbutils.widgets.dropdown("source", "", ["", "warc", "wdc-nquads", "owi-parquet"], "Input format (empty = sniffed)")
dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.text("limit", "", "First N WARC files (empty = all)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

from jobs.extract import ExtractJob

ExtractJob.run_notebook(dbutils, options=('input', 'source', 'limit'))

# COMMAND ----------

display(spark.read.format("delta").load(dbutils.widgets.get("warehouse") + "/qa_pairs")
        .groupBy("language").count().orderBy("count", ascending=False))
