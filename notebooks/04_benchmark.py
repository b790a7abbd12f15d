# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: benchmark
# MAGIC Per-language retrieval collections (BEIR/MTEB layout): corpus, queries, qrels.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh benchmark` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark[models,retrieval]

# COMMAND ----------

dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.dropdown("profile", "databricks", ["databricks", "gpu"], "Profile")
dbutils.widgets.text("languages", "", "Languages, comma-separated (empty = all)")
dbutils.widgets.text("export", "", "Export folder for BEIR files (empty = none)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

from jobs.benchmark import BenchmarkJob

args = ["--profile", dbutils.widgets.get("profile"), "--warehouse", dbutils.widgets.get("warehouse")]
if dbutils.widgets.get("languages"):
    args += ["--languages", dbutils.widgets.get("languages")]
if dbutils.widgets.get("export"):
    args += ["--export", dbutils.widgets.get("export")]
for item in filter(None, dbutils.widgets.get("conf").split(",")):
    args += ["--conf", item.strip()]

exit_code = BenchmarkJob().main(args)
if exit_code != 0:
    raise RuntimeError(f"benchmark failed with exit code {exit_code}; see the output above")
