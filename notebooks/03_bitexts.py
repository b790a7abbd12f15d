# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: bitexts
# MAGIC LaBSE bitext mining within origins into `bitexts`, plus the two released JSONL.gz files.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh bitexts` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark[models,retrieval]

# COMMAND ----------

dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.dropdown("profile", "gpu", ["databricks", "gpu"], "Profile")
dbutils.widgets.text("export_dir", "", "Export folder (empty = <warehouse>/exports/bitexts)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

from jobs.bitexts import BitextsJob

args = ["--profile", dbutils.widgets.get("profile"), "--warehouse", dbutils.widgets.get("warehouse")]
if dbutils.widgets.get("export_dir"):
    args += ["--export-dir", dbutils.widgets.get("export_dir")]
for item in filter(None, dbutils.widgets.get("conf").split(",")):
    args += ["--conf", item.strip()]

exit_code = BitextsJob().main(args)
if exit_code != 0:
    raise RuntimeError(f"bitexts failed with exit code {exit_code}; see the output above")
