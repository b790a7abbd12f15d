# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: evaluate
# MAGIC BM25, dense or hybrid retrieval on BEIR collections (e.g. the benchmark's export): NDCG@10, MAP,
# MAGIC MRR@10, Recall@100 per language into the runs table, TREC runs, per-query measures and MTEB JSON
# MAGIC under the output folder. The notebook only reads its widgets and calls the same job
# MAGIC `spark-submit.sh evaluate` runs; the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark[models,retrieval]

# COMMAND ----------

from jobs.evaluate import EvaluateJob

dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.dropdown("profile", EvaluateJob.profile("databricks"), ["databricks", "gpu"], "Profile")
dbutils.widgets.dropdown("retriever", "dense", ["bm25", "dense", "hybrid"], "Retriever")
dbutils.widgets.text("model", "", "Model name or folder (dense, hybrid)")
dbutils.widgets.text("beir", "/dbfs/webfaq/beir", "BEIR folder (benchmark --export)")
dbutils.widgets.text("language", "", "Language (empty = every collection)")
dbutils.widgets.text("output", "/dbfs/webfaq/evaluate", "Output folder")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

EvaluateJob.run_notebook(dbutils, options=('retriever', 'model', 'beir', 'language', 'output'))
