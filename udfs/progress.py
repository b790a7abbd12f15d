"""Counters and progress of a running job: counters summed over task rows, progress lines with rates and an ETA."""
from __future__ import annotations

import threading
import time

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.log import logger, progress_line


def sum_counters(df: DataFrame, column: str = "counters") -> dict[str, int]:
    """Add up a ``map<string,bigint>`` column over all rows (counters written as data by tasks)."""
    rows = (df.select(F.explode(column).alias("key", "value"))
              .groupBy("key").agg(F.sum("value").alias("value")).collect())
    return {r["key"]: int(r["value"]) for r in rows}


class ProgressReporter:
    """Logs the progress of the running stages every few seconds on the driver (``lib.log.progress_line``):
    tasks done of the total, the records and megabytes the finished tasks read with their rate
    (Spark's input and shuffle-read metrics, where the stage reads through Spark), and an ETA.

    ``label`` names the stage in lines logged outside a job's run. A stage whose tasks each read one
    input file (extract) counts ``unit="files"``; with ``input_bytes``, the size of all its input
    when known beforehand, the line estimates the megabytes read so far and their rate.
    """

    def __init__(self, spark: SparkSession, label: str, every_seconds: float = 10.0, unit: str = "tasks",
                 input_bytes: int | None = None):
        self.tracker = spark.sparkContext.statusTracker()
        self.store = self._status_store(spark)
        self.label, self.every, self.unit, self.input_bytes = label, every_seconds, unit, input_bytes
        self._first_seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _status_store(spark: SparkSession):
        try:  # the JVM's status store (what the Spark UI shows); absent where py4j is closed off
            return spark.sparkContext._jsc.sc().statusStore()
        except Exception:  # noqa: BLE001 - the line then shows tasks only
            return None

    def _metrics(self, stage_id: int) -> tuple[int, int]:
        """Records and bytes the finished tasks of a stage read (input + shuffle read)."""
        if self.store is None:
            return 0, 0
        try:
            data = self.store.lastStageAttempt(stage_id)
            return (int(data.inputRecords()) + int(data.shuffleReadRecords()),
                    int(data.inputBytes()) + int(data.shuffleReadBytes()))
        except Exception:  # noqa: BLE001 - a stage that just ended, or no store
            return 0, 0

    def line(self) -> str | None:
        """The progress of the active stages now (None when no stage runs)."""
        stages = [self.tracker.getStageInfo(s) for s in self.tracker.getActiveStageIds()]
        stages = [s for s in stages if s is not None]
        if not stages:
            return None
        now = time.monotonic()
        for stage in stages:
            self._first_seen.setdefault(stage.stageId, now)
        records = read = 0
        for stage in stages:
            r, b = self._metrics(stage.stageId)
            records, read = records + r, read + b
        return progress_line(
            done=sum(s.numCompletedTasks for s in stages), total=sum(s.numTasks for s in stages),
            running=sum(s.numActiveTasks for s in stages),
            elapsed=now - min(self._first_seen[s.stageId] for s in stages), unit=self.unit,
            records=records, input_bytes=read, estimated_bytes=self.input_bytes)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            line = self.line()
            if line:
                logger.info(line, extra={"stage": self.label})

    def __enter__(self) -> "ProgressReporter":
        if self.every > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
