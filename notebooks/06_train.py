# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: train
# MAGIC Fine-tunes a dense retriever on the benchmark's training pairs and the mined hard negatives
# MAGIC (strategies rn, top4, denoised, margin-mse), sentence-transformers' trainer run by TorchDistributor:
# MAGIC one process per GPU of the executors with the gpu profile. The output must be a `/dbfs/...` path
# MAGIC (driver and executors write it). The notebook only reads its widgets and calls the same job
# MAGIC `spark-submit.sh train` runs; the logic lives in the installed package (jobs/, lib/, udfs/).

# COMMAND ----------

# MAGIC %pip install -e /Workspace/Repos/webfaq-spark[models,retrieval]

# COMMAND ----------

from jobs.train import TrainJob

dbutils.widgets.text("warehouse", "dbfs:/webfaq/warehouse", "Warehouse")
dbutils.widgets.dropdown("profile", TrainJob.profile("databricks"), ["databricks", "gpu"], "Profile")
dbutils.widgets.dropdown("strategy", "denoised", ["rn", "top4", "denoised", "margin-mse"], "Strategy")
dbutils.widgets.text("output", "/dbfs/webfaq/models/denoised", "Output folder (/dbfs/...)")
dbutils.widgets.text("base_model", "", "Base model (empty = models.retriever_base)")
dbutils.widgets.text("language", "", "Languages, comma-separated (empty = all)")
dbutils.widgets.text("epochs", "", "Epochs (empty = train.epochs)")
dbutils.widgets.text("batch_size", "", "Global batch size (empty = train.batch_size)")
dbutils.widgets.text("max_steps", "", "Stop after N steps (empty = none)")
dbutils.widgets.text("conf", "", "Overrides KEY=VALUE, comma-separated")

# COMMAND ----------

TrainJob.run_notebook(dbutils, options=('strategy', 'output', 'base_model', 'language', 'epochs', 'batch_size',
                                        'max_steps'))
