"""maintain: OPTIMIZE with Z-order, VACUUM under Delta's retention rules, the history summary."""
from __future__ import annotations

import json

import pytest

from lib.maintain import interval_hours, retention_interval, summarize_history
from lib.schemas import QA_PAIRS, QA_PAIRS_KEY, QA_PAIRS_PARTITION
from tests.qa_fixtures import covidqa_pairs


def test_retention_intervals_read_as_delta_writes_them():
    assert interval_hours(None) == 168 and interval_hours("interval 7 days") == 168
    assert interval_hours("interval 1 weeks") == 168 and interval_hours("INTERVAL 2 days 12 hours") == 60
    assert interval_hours("interval 0 hours") == 0 and interval_hours("30 minutes") == 0.5
    with pytest.raises(ValueError, match="not an interval"):
        interval_hours("a week")
    assert retention_interval(336) == "interval 336 hours" and interval_hours(retention_interval(1.5)) == 1.5


def test_the_history_summary_counts_the_commits_since_the_last_optimize():
    history = [  # newest first, as DESCRIBE HISTORY gives it
        {"version": 5, "timestamp": "t5", "operation": "MERGE", "operationMetrics": {"numOutputRows": "10", "numTargetFilesAdded": "2"}},
        {"version": 4, "timestamp": "t4", "operation": "VACUUM END", "operationMetrics": {"numDeletedFiles": "9"}},
        {"version": 3, "timestamp": "t3", "operation": "MERGE", "operationMetrics": {"numOutputRows": "5", "numTargetFilesAdded": "1"}},
        {"version": 2, "timestamp": "t2", "operation": "OPTIMIZE", "operationMetrics": {}},
        {"version": 1, "timestamp": "t1", "operation": "MERGE", "operationMetrics": {"numOutputRows": "99"}},
    ]
    summary = summarize_history(history, complete=False)
    assert (summary.version, summary.operations, summary.rows_written, summary.files_added) == (5, {"MERGE": 2}, 15, 3)
    assert summary.describe() == "version 5; since OPTIMIZE (version 2, t2): MERGE x2, 15 rows and 3 files written"
    partial = summarize_history(history[:2], complete=False)
    assert partial.truncated and "(or more: older history not read)" in partial.describe()
    assert "since the table was made" in summarize_history(history[:1], complete=True).describe()


def _parquet_files(path) -> int:
    return sum(1 for _ in path.rglob("*.parquet"))


@pytest.mark.slow
def test_maintain_leaves_the_same_rows_in_fewer_files(spark, warehouse, shared_data, capsys):
    """qa_pairs written by a WRITE and five small merges of real COVID-QA pairs (about a fifth of
    the pairs each), as daily runs leave it."""
    from jobs.maintain import MaintainJob
    from udfs.delta import merge_new_rows

    pairs = covidqa_pairs(shared_data)
    table = warehouse / "qa_pairs"
    for batch in range(6):
        merge_new_rows(spark, spark.createDataFrame(pairs[pairs.index % 6 == batch], schema=QA_PAIRS), str(table),
                       QA_PAIRS_KEY, QA_PAIRS_PARTITION)
    read = lambda: sorted(tuple(r) for r in spark.read.format("delta").load(str(table)).collect())  # noqa: E731
    rows_before, files_on_disk = read(), _parquet_files(table)
    files_before = spark.sql(f"DESCRIBE DETAIL delta.`{table}`").first()["numFiles"]
    assert len(rows_before) == len(pairs) and files_before == files_on_disk > 10
    args = ["--warehouse", str(warehouse), "--tables", "qa_pairs"]

    # Delta's check stays on: a retention under its default of 7 days is refused before anything is done.
    assert MaintainJob().main([*args, "--conf", "maintain.vacuum_retention_hours=0"]) == 2
    assert "under Delta's default retention of 168 hours" in capsys.readouterr().err
    assert spark.sql(f"DESCRIBE HISTORY delta.`{table}`").count() == 6 and _parquet_files(table) == files_on_disk

    # With Delta's own switch turned off, the removed files go at once.
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        assert MaintainJob().main([*args, "--conf", "maintain.vacuum_retention_hours=0"]) == 0
    finally:
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "true")
    out, err = capsys.readouterr()
    assert read() == rows_before
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{table}`").first()
    assert detail["numFiles"] < files_before and _parquet_files(table) == detail["numFiles"]
    assert detail["properties"]["delta.deletedFileRetentionDuration"] == "interval 0 hours"
    counters = json.loads(out.strip().splitlines()[-1])["counters"]
    assert counters["files_before_qa_pairs"] == files_before and counters["files_after_qa_pairs"] == detail["numFiles"]
    # Every language partition held several files: OPTIMIZE replaced all of them, VACUUM deleted them.
    assert counters["files_compacted_qa_pairs"] == counters["files_vacuumed_qa_pairs"] == files_on_disk
    assert counters["commits_since_optimize_qa_pairs"] == 6 and counters["tables"] == 1
    assert "qa_pairs: version 5; since the table was made: MERGE x5, WRITE x1" in err
    assert "Z-ordered by id; VACUUM deleted" in err
    operations = [r["operation"] for r in spark.sql(f"DESCRIBE HISTORY delta.`{table}`").collect()]
    assert operations[:5] == ["VACUUM END", "VACUUM START", "SET TBLPROPERTIES", "OPTIMIZE", "MERGE"]
    runs = spark.read.format("delta").load(str(warehouse / "runs")).collect()
    assert [(r["job"], r["error"]) for r in runs] == [("maintain", None)]
