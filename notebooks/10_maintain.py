# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: maintain
# MAGIC Table upkeep: OPTIMIZE (compaction, Z-order by each table's key), VACUUM with the retention of
# MAGIC `maintain.vacuum_retention_hours`, and a summary of each table's history. Run it weekly (the
# MAGIC Airflow DAG does), after a backfill and before an export; not while another stage writes the tables.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh maintain` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

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

from jobs.maintain import MaintainJob

options = MaintainJob.notebook_widgets(dbutils,
    tables=("", "Tables, comma-separated (empty = every table)"),
    no_vacuum=("", ["", "true"], "Compact only, delete no file"),
)

# COMMAND ----------

MaintainJob.run_notebook(dbutils, options)
