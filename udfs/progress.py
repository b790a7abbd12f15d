"""Counters and progress of a running job: counters summed over task rows, task progress lines."""
from __future__ import annotations

import threading

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.log import logger


def sum_counters(df: DataFrame, column: str = "counters") -> dict[str, int]:
    """Add up a ``map<string,bigint>`` column over all rows (counters written as data by tasks)."""
    rows = (df.select(F.explode(column).alias("key", "value"))
              .groupBy("key").agg(F.sum("value").alias("value")).collect())
    return {r["key"]: int(r["value"]) for r in rows}


class ProgressReporter:
    """Logs ``tasks done/total`` of the running stages every few seconds on the driver (``label``
    names the stage in lines logged outside a job's run)."""

    def __init__(self, spark: SparkSession, label: str, every_seconds: float = 10.0):
        self.tracker = spark.sparkContext.statusTracker()
        self.label, self.every = label, every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            stages = [self.tracker.getStageInfo(s) for s in self.tracker.getActiveStageIds()]
            stages = [s for s in stages if s is not None]
            if not stages:
                continue
            done = sum(s.numCompletedTasks for s in stages)
            total = sum(s.numTasks for s in stages)
            logger.info(f"tasks {done}/{total} done", extra={"stage": self.label})

    def __enter__(self) -> "ProgressReporter":
        if self.every > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
