"""Table upkeep without Spark: Delta retention intervals and the summary of a table's history.

The ``maintain`` stage (jobs/maintain.py) compacts and Z-orders each table, VACUUMs the files it no
longer references and prints what happened to the table since its last upkeep; the rules here are
plain functions over strings and history rows.
"""
from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field

#: Delta's default of ``delta.deletedFileRetentionDuration``: how long a removed file stays on
#: storage for readers of older versions (and for VACUUM's safety check).
DEFAULT_RETENTION_HOURS = 168.0
RETENTION_PROPERTY = "delta.deletedFileRetentionDuration"
UPKEEP = ("OPTIMIZE", "VACUUM START", "VACUUM END", "SET TBLPROPERTIES")

_HOURS = {"week": 168.0, "day": 24.0, "hour": 1.0, "minute": 1 / 60, "second": 1 / 3600,
          "millisecond": 1 / 3_600_000, "microsecond": 1 / 3_600_000_000}
_PART = re.compile(r"(-?\d+(?:\.\d+)?)\s*(week|day|hour|minute|second|millisecond|microsecond)s?", re.I)


def interval_hours(value: str | None) -> float:
    """Hours of a Delta interval property (``interval 7 days``, ``1 week 12 hours``); Delta's default
    (7 days) for None or an empty value; ValueError for text that is not an interval."""
    if value is None or not str(value).strip():
        return DEFAULT_RETENTION_HOURS
    text = re.sub(r"^\s*interval\s+", "", str(value).strip(), flags=re.I)
    parts = _PART.findall(text)
    if not parts or _PART.sub("", text).strip():
        raise ValueError(f"not an interval: {value!r}")
    return sum(float(n) * _HOURS[unit.lower()] for n, unit in parts)


def retention_interval(hours: float) -> str:
    """The property value for ``hours`` (``interval 168 hours``)."""
    return f"interval {int(hours) if float(hours).is_integer() else hours} hours"


@dataclass
class HistorySummary:
    """What happened to a table since its last OPTIMIZE (or since it was made)."""

    version: int
    #: Commits since the last OPTIMIZE, by operation (``{"MERGE": 6, "WRITE": 1}``).
    operations: dict[str, int] = field(default_factory=dict)
    #: Rows those commits wrote (inserted, updated, copied: ``numOutputRows``) and files they added.
    rows_written: int = 0
    files_added: int = 0
    last_optimize_version: int | None = None
    last_optimize_time: str | None = None
    #: True when the history read did not reach back to the last OPTIMIZE (or the table's start).
    truncated: bool = False

    def describe(self) -> str:
        ops = ", ".join(f"{op} x{n}" for op, n in sorted(self.operations.items(), key=lambda kv: (-kv[1], kv[0])))
        since = (f"since OPTIMIZE (version {self.last_optimize_version}, {self.last_optimize_time})"
                 if self.last_optimize_version is not None else "since the table was made")
        more = " (or more: older history not read)" if self.truncated else ""
        return (f"version {self.version}; {since}: {ops or 'no commit'}{more}, "
                f"{self.rows_written:,} rows and {self.files_added:,} files written")


def summarize_history(entries: list[dict], complete: bool) -> HistorySummary:
    """The summary of history ``entries`` (Delta's ``DESCRIBE HISTORY`` rows as dicts: version,
    timestamp, operation, operationMetrics; newest first). ``complete``: the entries reach back to
    version 0."""
    entries = sorted(entries, key=lambda e: -int(e["version"]))
    if not entries:
        return HistorySummary(version=-1)
    summary = HistorySummary(version=int(entries[0]["version"]))
    counts: collections.Counter = collections.Counter()
    for entry in entries:
        operation = str(entry["operation"])
        if operation == "OPTIMIZE":
            summary.last_optimize_version = int(entry["version"])
            summary.last_optimize_time = str(entry.get("timestamp"))
            break
        if operation in UPKEEP:
            continue
        counts[operation] += 1
        metrics = entry.get("operationMetrics") or {}
        for key in ("numOutputRows",):
            summary.rows_written += int(metrics.get(key, 0) or 0)
        summary.files_added += int(metrics.get("numFiles", 0) or metrics.get("numTargetFilesAdded", 0) or 0)
    else:
        summary.truncated = not complete
    summary.operations = dict(counts)
    return summary
