"""The Spark session of a profile: its master, its Spark settings and Delta Lake."""
from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from lib import conf as confmod
from lib.jars import record_jars
from lib.jvm_archive import mapped_archive, process_maps_file, spark_jars_dir
from lib.log import logger
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
    settings = confmod.spark_settings(conf, resources)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    default_level = "INFO" if confmod.verbose(conf) else "WARN"  # --verbose: Spark's own lines too
    spark.sparkContext.setLogLevel(os.environ.get("WEBFAQ_SPARK_LOG_LEVEL", default_level))
    record_resolved_jars(spark, conf, settings)
    check_class_data_archive(spark)
    return spark


def check_class_data_archive(spark: SparkSession) -> None:
    """Remove the class-data archive the driver's JVM was given but did not map (a damaged file, or
    one written for a runtime the digest does not tell apart), so that the next session writes a
    new one instead of starting without it every time (:mod:`lib.jvm_archive`). Only where the
    driver's JVM is on this machine and ``/proc`` says what it mapped."""
    options = spark.sparkContext.getConf().get("spark.driver.extraJavaOptions", "") or ""
    path = mapped_archive(options)
    if path is None or not os.path.isfile(path):
        return
    try:
        pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    except Exception:  # a remote driver JVM (Spark Connect) or an older Java: nothing to check
        return
    if process_maps_file(pid, path) is False:
        logger.warning(f"the driver's JVM did not use its class-data archive {path}; removed, the next "
                       "session writes it again")
        try:
            os.remove(path)
        except OSError:
            pass


def record_resolved_jars(spark: SparkSession, conf: dict, settings: dict[str, str]) -> None:
    """After a session that resolved Maven packages, keep their jars in the profile's
    ``spark.jars_cache`` folder, so that later sessions start from them (``lib.jars``)."""
    folder = confmod.jars_folder(conf, settings)
    if folder is None or "spark.jars.packages" not in settings:
        return
    given = {j for j in settings.get("spark.jars", "").split(",") if j}
    resolved = [j for j in spark.sparkContext.getConf().get("spark.jars", "").split(",") if j and j not in given]
    if not resolved:
        return
    try:
        record_jars(folder, resolved, spark_jars_dir())
    except OSError as exc:  # the run goes on; the next one resolves again
        logger.warning(f"could not keep the resolved jars in {folder}: {exc}")


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
