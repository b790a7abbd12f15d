# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: extract
# MAGIC Common Crawl WARC files -> `faq_pages` and `qa_pairs` Delta tables (partitioned by language).
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh extract` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/). Re-running adds nothing twice.

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark

# COMMAND ----------

dbutils.widgets.text("input", "s3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz", "Manifest or WARC path")
dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.text("limit", "", "First N WARC files (empty = all)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

from jobs.extract import ExtractJob

args = ["--profile", "databricks", "--input", dbutils.widgets.get("input"),
        "--warehouse", dbutils.widgets.get("warehouse")]
if dbutils.widgets.get("limit"):
    args += ["--limit", dbutils.widgets.get("limit")]
for item in filter(None, dbutils.widgets.get("conf").split(",")):
    args += ["--conf", item.strip()]

exit_code = ExtractJob().main(args)
if exit_code != 0:
    raise RuntimeError(f"extract failed with exit code {exit_code}; see the output above")

# COMMAND ----------

display(spark.read.format("delta").load(dbutils.widgets.get("warehouse") + "/qa_pairs")
        .groupBy("language").count().orderBy("count", ascending=False))
