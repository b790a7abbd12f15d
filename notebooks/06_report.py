# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: report
# MAGIC The statistics of the WebFAQ 2.0 paper from the tables: languages, origins, topics, question types,
# MAGIC bitexts, hard negatives and the latest evaluations, as CSV, Markdown and one self-contained HTML page.
# MAGIC The notebook only reads its widgets and calls the same job `spark-submit.sh report` runs;
# MAGIC the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark

# COMMAND ----------

from jobs.report import ReportJob

dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.dropdown("profile", ReportJob.profile("databricks"), ["databricks", "databricks,gpu"], "Profile")
dbutils.widgets.text("output", "dbfs:/webfaq/report", "Output folder (report.html, report.md, tables/, figures/)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

ReportJob.run_notebook(dbutils, options=('output',))

# COMMAND ----------

# Show the page in the notebook (the /dbfs mount of the output folder).
output = dbutils.widgets.get("output")
if output.startswith("dbfs:/"):
    displayHTML(open("/dbfs/" + output[len("dbfs:/"):].lstrip("/") + "/report.html", encoding="utf-8").read())
