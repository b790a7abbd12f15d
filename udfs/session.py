"""The Spark session of a profile: its master, its Spark settings and Delta Lake."""
from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from lib import conf as confmod


def get_spark(conf: dict) -> SparkSession:
    """A session for the profile: its master, its Spark settings and Delta Lake.

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
    for key, value in confmod.spark_settings(conf).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("WEBFAQ_SPARK_LOG_LEVEL", "WARN"))
    return spark
