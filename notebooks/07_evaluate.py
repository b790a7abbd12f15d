# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: evaluate
# MAGIC BM25, dense or hybrid retrieval on BEIR collections (e.g. the benchmark's export): NDCG@10, MAP,
# MAGIC MRR@10, Recall@100 per language into the runs table, TREC runs, per-query measures and MTEB JSON
# MAGIC under the output folder. The notebook only reads its widgets and calls the same job
# MAGIC `spark-submit.sh evaluate` runs; the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# The package: attached to the run (the Airflow DAG passes the wheel as `package`), installed on the
# cluster, or, when neither, the Git folder holding this notebook (the folder above notebooks/).
import importlib.util, os, subprocess, sys

dbutils.widgets.text("package", "", "webfaq-spark wheel to pip-install (empty = installed, or this Git folder)")
package = dbutils.widgets.get("package").strip()
if package:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", f"{package}[models,retrieval]"], check=True)
elif importlib.util.find_spec("jobs.base") is None:
    sys.path.insert(0, os.path.dirname(os.getcwd()))

# COMMAND ----------

from jobs.evaluate import EvaluateJob

dbutils.widgets.text("warehouse", "", "Warehouse: a volume (/Volumes/...) or cloud URI (empty = the profile's)")
dbutils.widgets.dropdown("profile", EvaluateJob.profile("databricks"), ["databricks", "databricks,gpu"], "Profile")
dbutils.widgets.dropdown("retriever", "dense", ["bm25", "dense", "hybrid"], "Retriever")
dbutils.widgets.text("model", "", "Model name or folder (dense, hybrid)")
dbutils.widgets.text("beir", "", "BEIR folder (benchmark --export): /Volumes/...")
dbutils.widgets.text("languages", "", "Languages, comma-separated (empty = every collection)")
dbutils.widgets.text("output", "", "Output folder: /Volumes/... (empty = evaluate.output_dir)")
dbutils.widgets.text("conf", "", "Overrides: a JSON object, or KEY=VALUE lines")

# COMMAND ----------

EvaluateJob.run_notebook(dbutils, options=('retriever', 'model', 'beir', 'languages', 'output'))
