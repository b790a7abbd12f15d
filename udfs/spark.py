"""The Spark session of a profile, and the Delta reads and writes every job shares."""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Iterable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

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


def is_delta_table(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


def read_table(spark: SparkSession, path: str) -> DataFrame:
    """A Delta table; a clear error when it does not exist yet."""
    if not is_delta_table(spark, path):
        raise FileNotFoundError(f"no Delta table at {path} (run the stage that writes it first)")
    return spark.read.format("delta").load(path)


def _last_operation_metrics(spark: SparkSession, path: str) -> dict[str, int]:
    from delta.tables import DeltaTable

    row = DeltaTable.forPath(spark, path).history(1).select("operationMetrics").first()
    metrics = (row and row["operationMetrics"]) or {}
    return {k: int(v) for k, v in metrics.items() if str(v).lstrip("-").isdigit()}


def merge_new_rows(spark: SparkSession, source: DataFrame, path: str, keys: Iterable[str],
                   partition_by: Iterable[str] = (), update_when: str | None = None) -> dict[str, int]:
    """Insert the rows of ``source`` whose key is not in the table yet (one atomic Delta commit).

    The first write creates the table (partitioned by ``partition_by``). ``update_when`` is an
    optional SQL condition over ``t`` (target) and ``s`` (source) under which a matched row is
    replaced. Returns ``{'inserted': n, 'updated': n}`` from the commit's operation metrics.
    """
    from delta.tables import DeltaTable

    keys, partition_by = list(keys), list(partition_by)
    if not is_delta_table(spark, path):
        writer = source.write.format("delta").mode("errorifexists")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.save(path)
        metrics = _last_operation_metrics(spark, path)
        return {"inserted": metrics.get("numOutputRows", 0), "updated": 0}
    condition = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
    merge = DeltaTable.forPath(spark, path).alias("t").merge(source.alias("s"), condition)
    if update_when:
        merge = merge.whenMatchedUpdateAll(condition=update_when)
    return merge_metrics(merge.whenNotMatchedInsertAll().execute())


def merge_metrics(result: DataFrame) -> dict[str, int]:
    """``{'inserted': n, 'updated': n}`` from the one-row DataFrame a Delta MERGE returns."""
    row = result.first()
    values = row.asDict() if row is not None else {}
    return {"inserted": int(values.get("num_inserted_rows") or 0),
            "updated": int(values.get("num_updated_rows") or 0)}


def append_rows(spark: SparkSession, rows: list[dict], schema: str, path: str) -> None:
    """Append a few driver-side rows (e.g. one ``runs`` row) to a Delta table."""
    spark.createDataFrame(rows, schema=schema).write.format("delta").mode("append").save(path)


def sum_counters(df: DataFrame, column: str = "counters") -> dict[str, int]:
    """Add up a ``map<string,bigint>`` column over all rows (counters written as data by tasks)."""
    rows = (df.select(F.explode(column).alias("key", "value"))
              .groupBy("key").agg(F.sum("value").alias("value")).collect())
    return {r["key"]: int(r["value"]) for r in rows}


class ProgressReporter:
    """Prints ``label: done/total tasks`` of the running stages every few seconds on the driver."""

    def __init__(self, spark: SparkSession, label: str, every_seconds: float = 10.0):
        self.tracker = spark.sparkContext.statusTracker()
        self.label, self.every = label, every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(self.every):
            stages = [self.tracker.getStageInfo(s) for s in self.tracker.getActiveStageIds()]
            stages = [s for s in stages if s is not None]
            if not stages:
                continue
            done = sum(s.numCompletedTasks for s in stages)
            total = sum(s.numTasks for s in stages)
            print(f"[{self.label}] {time.monotonic() - start:6.0f}s  tasks {done}/{total} done",
                  file=sys.stderr, flush=True)

    def __enter__(self) -> "ProgressReporter":
        if self.every > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
