"""The Spark session of a profile: its master, its Spark settings and Delta Lake."""
from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from lib import conf as confmod
from lib.resources import Resources


def get_spark(conf: dict, resources: Resources | None = None) -> SparkSession:
    """A session for the profile: its master, its Spark settings and Delta Lake, and the settings
    of what the stage declares it needs (``resources``).

    Under spark-submit or on Databricks a session may already exist; its settings win and only
    the runtime settings of the profile are applied.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # Python workers must run the interpreter that has pyarrow and the project's packages.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(str(confmod.get(conf, "spark.app_name", "webfaq-spark")))
    master = confmod.get(conf, "spark.master", None)
    if master and "spark.master" not in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        builder = builder.master(str(master))
    for key, value in confmod.spark_settings(conf, resources).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    default_level = "INFO" if confmod.verbose(conf) else "WARN"  # --verbose: Spark's own lines too
    spark.sparkContext.setLogLevel(os.environ.get("WEBFAQ_SPARK_LOG_LEVEL", default_level))
    return spark


def gpu_step_profile(spark: SparkSession, resources: Resources):
    """The stage-level resource profile of the model step of a stage whose ``resources`` are not
    for every task (:func:`task_profile`), or None where the executors have no GPU: the step then
    runs like the stage's other tasks."""
    gpus_on_executors = float(spark.sparkContext.getConf().get("spark.executor.resource.gpu.amount", "0") or 0)
    if resources.every_task or not resources.needs_gpu or not gpus_on_executors:
        return None
    return task_profile(resources)


def task_profile(resources: Resources):
    """A resource profile whose tasks take ``resources`` (CPU cores and GPUs) on the executors there are."""
    from pyspark.resource import ResourceProfileBuilder, TaskResourceRequests

    requests = TaskResourceRequests().cpus(resources.cpus)
    if resources.needs_gpu:
        requests = requests.resource("gpu", resources.gpus)
    return ResourceProfileBuilder().require(requests).build
