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

options = EvaluateJob.notebook_widgets(dbutils,
    retriever=("dense", ["bm25", "dense", "hybrid"], "Retriever"),
    model=("", "Model name or folder (dense, hybrid)"),
    beir=("", "BEIR folder (benchmark --export): /Volumes/..."),
    languages=("", "Languages, comma-separated (empty = every collection)"),
    output=("", "Output folder: /Volumes/... (empty = evaluate.output_dir)"),
)

# COMMAND ----------

EvaluateJob.run_notebook(dbutils, options)
