# Databricks notebook source
# MAGIC %md
# MAGIC # webfaq-spark: train
# MAGIC Fine-tunes a dense retriever on the benchmark's training pairs and the mined hard negatives
# MAGIC (strategies rn, top4, denoised, margin-mse), sentence-transformers' trainer run by TorchDistributor:
# MAGIC one process per GPU of the executors with the gpu profile. The output must be a `/Volumes/...` path
# MAGIC (driver and executors write it). The notebook only reads its widgets and calls the same job
# MAGIC `spark-submit.sh train` runs; the logic lives in the installed package (jobs/, lib/, udfs/).

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

from jobs.train import TrainJob

options = TrainJob.notebook_widgets(dbutils,
    strategy=("denoised", ["rn", "top4", "denoised", "margin-mse"], "Strategy"),
    output=("", "Output folder: /Volumes/<catalog>/<schema>/<volume>/models/<name>"),
    base_model=("", "Base model (empty = models.retriever_base)"),
    languages=("", "Languages, comma-separated (empty = all)"),
    epochs=("", "Epochs (empty = train.epochs)"),
    batch_size=("", "Global batch size (empty = train.batch_size)"),
    max_steps=("", "Stop after N steps (empty = none)"),
)

# COMMAND ----------

TrainJob.run_notebook(dbutils, options)
