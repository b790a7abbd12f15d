# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: report
# MAGIC The statistics of the WebFAQ 2.0 paper from the tables: languages, origins, topics, question types,
# MAGIC bitexts, hard negatives and the latest evaluations, as CSV, Markdown and one self-contained HTML page.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh report` runs;
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

from jobs.report import ReportJob

options = ReportJob.notebook_widgets(dbutils,
    output=("", "Output folder: /Volumes/... or a cloud URI (report.html, report.md, tables/, figures/)"),
)

# COMMAND ----------

ReportJob.run_notebook(dbutils, options)

# COMMAND ----------

# Show the page in the notebook when the output folder is a path the driver can open (a volume).
output = dbutils.widgets.get("output").rstrip("/")
if output.startswith("/Volumes/"):
    displayHTML(open(output + "/report.html", encoding="utf-8").read())
