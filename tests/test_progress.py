"""Progress lines: the format (lib.log.progress_line) and what a running Spark stage reports."""
from __future__ import annotations

import re
import threading
import time

import pytest

from lib.log import duration, progress_line


def test_a_progress_line_gives_the_rate_and_the_time_left():
    # 12 of 40 tasks in 36 s: 28 left at 1/3 task/s -> 84 s
    assert progress_line(12, 40, 2, 36.0, records=1_234_567, input_bytes=45_300_000) == (
        "tasks 12/40 done, 2 running; 1.2M records (34.3k/s), 45.3 MB (1.3 MB/s); ETA 1m24s")
    # input of known size (local files): the megabytes behind the finished files are estimated
    assert progress_line(3, 10, 2, 20.0, unit="files", estimated_bytes=2_000_000_000) == (
        "files 3/10 done, 2 running; ~600.0 of 2,000.0 MB (~30.0 MB/s); ETA 47s")
    assert progress_line(0, 10, 2, 5.0, unit="files") == "files 0/10 done, 2 running; ETA after the first one finishes"
    assert progress_line(5, 10, 1, 100.0) == "tasks 5/10 done, 1 running; 3 tasks/min; ETA 1m40s"
    assert progress_line(10, 10, 0, 100.0) == "tasks 10/10 done; 6 tasks/min; finishing"
    assert [duration(s) for s in (0.4, 59, 61, 3599, 7800)] == ["0s", "59s", "1m01s", "59m59s", "2h10m"]


@pytest.mark.slow
def test_a_running_stage_reports_its_finished_tasks_records_and_eta(spark, tmp_path):
    """Two of four tasks finish, two wait for a marker file: the line counts the finished ones and
    the rows they read through Spark's Parquet reader."""
    from pyspark import TaskContext

    from udfs.progress import ProgressReporter

    data, marker = str(tmp_path / "rows"), tmp_path / "release"
    spark.range(0, 4000, numPartitions=4).selectExpr("id", "cast(id as string) AS text") \
        .write.parquet(data)
    previous = spark.conf.get("spark.sql.files.openCostInBytes")
    spark.conf.set("spark.sql.files.openCostInBytes", str(1 << 30))  # one task per file

    def held(batches):
        partition = TaskContext.get().partitionId()
        for batch in batches:
            yield batch
        while partition >= 2 and not marker.exists():
            time.sleep(0.2)

    frame = spark.read.parquet(data).mapInPandas(held, "id long, text string")
    reporter = ProgressReporter(spark, "test", every_seconds=0)
    result: list = []
    runner = threading.Thread(target=lambda: result.append(frame.count()))
    runner.start()
    try:
        line, deadline = None, time.monotonic() + 240
        while time.monotonic() < deadline:
            line = reporter.line()
            if line and line.startswith("tasks 2/4 done"):
                break
            time.sleep(0.2)
    finally:
        marker.touch()
        runner.join(timeout=240)
        spark.conf.set("spark.sql.files.openCostInBytes", previous)
    assert result == [4000]
    assert re.fullmatch(r"tasks 2/4 done, 2 running; 2\.0k records \([\d.k]+/s\), [\d.]+ MB \([\d.]+ MB/s\); "
                        r"ETA \d+(s|m\d\ds)", line), line
