# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: extract
# MAGIC Common Crawl WARC files (or Web Data Commons N-Quads, Open Web Index Parquet) -> `faq_pages` and
# MAGIC `qa_pairs` Delta tables (partitioned by language).
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh extract` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/). Re-running adds nothing twice.

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

from jobs.extract import ExtractJob

options = ExtractJob.notebook_widgets(dbutils,
    input=("s3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz", "Manifest or WARC path"),
    source=("", ["", "warc", "wdc-nquads", "owi-parquet"], "Input format (empty = sniffed)"),
    limit=("", "First N WARC files (empty = all)"),
)

# COMMAND ----------

conf = ExtractJob.run_notebook(dbutils, options)

# COMMAND ----------

from lib.conf import table_path

display(spark.read.format("delta").load(table_path(conf, "qa_pairs"))
        .groupBy("language").count().orderBy("count", ascending=False))
