"""Delta table upkeep: file counts, OPTIMIZE (compaction or Z-order), retention, VACUUM, history.

Delta's Python API (``DeltaTable.optimize``, ``vacuum``, ``history``) and ``DESCRIBE DETAIL``, by
table location; the rules (retention intervals, the history summary) are in ``lib/maintain.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from lib.maintain import RETENTION_PROPERTY, interval_hours, retention_interval


@dataclass(frozen=True)
class Detail:
    """A table's current version as ``DESCRIBE DETAIL`` gives it."""

    files: int
    bytes: int
    columns: tuple[str, ...]
    partition_columns: tuple[str, ...]
    properties: dict

    @property
    def retention_hours(self) -> float:
        return interval_hours(self.properties.get(RETENTION_PROPERTY))


def _quoted(path: str) -> str:
    return "delta.`" + path.replace("`", "``") + "`"


def detail(spark: SparkSession, path: str) -> Detail:
    row = spark.sql(f"DESCRIBE DETAIL {_quoted(path)}").first()
    columns = tuple(spark.read.format("delta").load(path).columns)
    return Detail(files=int(row["numFiles"] or 0), bytes=int(row["sizeInBytes"] or 0), columns=columns,
                  partition_columns=tuple(row["partitionColumns"] or ()), properties=dict(row["properties"] or {}))


def optimize(spark: SparkSession, path: str, zorder_by: tuple[str, ...] = ()) -> dict[str, int]:
    """Compact the table's small files, Z-ordered by ``zorder_by`` when given (one commit; none
    when there is nothing to do). Returns ``{'files_removed': n, 'files_added': n,
    'partitions_optimized': n}``."""
    from delta.tables import DeltaTable

    builder = DeltaTable.forPath(spark, path).optimize()
    result = builder.executeZOrderBy(*zorder_by) if zorder_by else builder.executeCompaction()
    metrics = result.first()["metrics"]
    return {"files_removed": int(metrics["numFilesRemoved"] or 0), "files_added": int(metrics["numFilesAdded"] or 0),
            "partitions_optimized": int(metrics["partitionsOptimized"] or 0)}


def retention_check_enabled(spark: SparkSession) -> bool:
    """Delta's VACUUM safety check (``spark.databricks.delta.retentionDurationCheck.enabled``)."""
    return spark.conf.get("spark.databricks.delta.retentionDurationCheck.enabled", "true").strip().lower() != "false"


def set_retention(spark: SparkSession, path: str, hours: float) -> None:
    """Set ``delta.deletedFileRetentionDuration``, the retention Delta's VACUUM applies to the table."""
    spark.sql(f"ALTER TABLE {_quoted(path)} SET TBLPROPERTIES ('{RETENTION_PROPERTY}' = '{retention_interval(hours)}')")


def vacuum(spark: SparkSession, path: str) -> int:
    """VACUUM with the table's own retention; returns the files deleted (the VACUUM END commit's
    ``numDeletedFiles``; 0 where the engine does not log VACUUM in the history)."""
    from delta.tables import DeltaTable

    table = DeltaTable.forPath(spark, path)
    before = table.history(1).first()["version"]
    table.vacuum()
    for row in table.history(4).collect():
        if row["version"] > before and row["operation"] == "VACUUM END":
            return int((row["operationMetrics"] or {}).get("numDeletedFiles", 0) or 0)
    return 0


def history(spark: SparkSession, path: str, entries: int) -> tuple[list[dict], bool]:
    """The newest ``entries`` history rows (version, timestamp, operation, operationMetrics) and
    whether they reach back to version 0."""
    from delta.tables import DeltaTable

    rows = (DeltaTable.forPath(spark, path).history(entries)
            .select("version", "timestamp", "operation", "operationMetrics").collect())
    out = [{"version": r["version"], "timestamp": r["timestamp"].strftime("%Y-%m-%d %H:%M UTC") if r["timestamp"] else None,
            "operation": r["operation"], "operationMetrics": dict(r["operationMetrics"] or {})} for r in rows]
    return out, any(r["version"] == 0 for r in out)
