"""maintain: table upkeep: compact and Z-order each table's files, VACUUM the old ones, sum up its history.

Every merge adds a few small files to the tables it writes, and a daily crawl makes thousands of
them in a few months: reads and merges open every one. Per table (``--tables``, default every table
of the warehouse that exists):

1. OPTIMIZE: small files are rewritten into large ones, Z-ordered by the columns rows are looked up
   by (the key without the partition column: ``id`` for qa_pairs, ``url`` for faq_pages; see
   ``ZORDER_BY`` in lib/schemas.py), so that merges and key lookups skip most files; ``runs`` is
   compacted only. One commit; readers see the same rows before and after.
2. VACUUM: the files the table no longer references (replaced by merges, OPTIMIZE or overwrites)
   are deleted once older than ``maintain.vacuum_retention_hours`` (168). The retention is set on
   the table (``delta.deletedFileRetentionDuration``, which Delta's VACUUM reads), so time travel
   and readers of older versions keep their files that long. Delta's safety check stays on: a
   retention under Delta's default of 7 days is refused before any table is touched (exit 2) while
   ``spark.databricks.delta.retentionDurationCheck.enabled`` is true, as Delta refuses such a VACUUM.
3. History: the commits since the table's previous OPTIMIZE, by operation, and the files and bytes
   before and after.

When to run it: weekly (the Airflow DAG does, after the day's stages), after a backfill of many
runs, and before exporting. Not while another stage writes the same tables: OPTIMIZE and a merge
that rewrites the same files conflict, and one of them fails (re-run it).
"""
from __future__ import annotations

import argparse

from jobs.base import SparkJob, UsageError
from lib import conf as confmod
from lib.maintain import DEFAULT_RETENTION_HOURS, summarize_history
from lib.resources import Resources
from lib.schemas import ZORDER_BY

EXAMPLES = """examples:
  spark-submit.sh maintain                                          # every table of ./warehouse
  spark-submit.sh maintain --tables qa_pairs,faq_pages --no-vacuum  # compact and Z-order two tables
  spark-submit.sh maintain --profile cluster --warehouse s3a://bucket/webfaq
  spark-submit.sh maintain --conf maintain.vacuum_retention_hours=336   # keep two weeks of history

Counters per table: files_before_<t>, files_after_<t>, bytes_before_<t>, bytes_after_<t>,
files_compacted_<t> (files OPTIMIZE replaced), files_vacuumed_<t> (files VACUUM deleted),
commits_since_optimize_<t>; and tables (how many were maintained)."""


class MaintainJob(SparkJob):
    name = "maintain"
    description = __doc__
    epilog = EXAMPLES
    resources = Resources(cpus=1)  # file rewrites and listings, no model

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--tables", default=None, metavar="NAME,...",
                            help="comma-separated table names as in the configuration's tables: section "
                                 "(default: every one of them that exists)")
        parser.add_argument("--no-vacuum", action="store_true", help="compact and Z-order only; delete no file")

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        known = list(confmod.get(conf, "tables"))
        self.names = [t.strip() for t in args.tables.split(",") if t.strip()] if args.tables else known
        unknown = [t for t in self.names if t not in known]
        if unknown or not self.names:
            raise UsageError(f"--tables: unknown table {', '.join(unknown) or '(none given)'}; "
                             f"tables: {', '.join(known)}")
        self.retention = float(confmod.get(conf, "maintain.vacuum_retention_hours"))
        if self.retention < 0:
            raise UsageError("maintain.vacuum_retention_hours must not be negative")
        if int(confmod.get(conf, "maintain.history_entries")) < 1:
            raise UsageError("maintain.history_entries must be at least 1")

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return list(self.names)

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        from udfs import maintain
        from udfs.delta import is_delta_table

        tables = {name: self.table(conf, name) for name in self.names}
        missing = [name for name, path in tables.items() if not is_delta_table(spark, path)]
        tables = {name: path for name, path in tables.items() if name not in missing}
        if missing:
            self.log(f"not built yet, skipped: {', '.join(missing)}")
        vacuum = not args.no_vacuum
        if vacuum and self.retention < DEFAULT_RETENTION_HOURS and maintain.retention_check_enabled(spark):
            raise UsageError(
                f"maintain.vacuum_retention_hours={self.retention:g} is under Delta's default retention of "
                f"{DEFAULT_RETENTION_HOURS:g} hours: readers of older versions, and writers that started before "
                f"the VACUUM, could lose their files. Set spark.databricks.delta.retentionDurationCheck.enabled="
                f"false (Delta's own switch) to allow it, or run with --no-vacuum")

        counters: dict[str, int] = {"tables": len(tables)}
        history_entries = int(confmod.get(conf, "maintain.history_entries"))
        for name, path in tables.items():
            before = maintain.detail(spark, path)
            entries, complete = maintain.history(spark, path, history_entries)
            summary = summarize_history(entries, complete)
            zorder = tuple(c for c in ZORDER_BY.get(name, ()) if c in before.columns and c not in before.partition_columns)
            optimized = maintain.optimize(spark, path, zorder)
            vacuumed = 0
            if vacuum:
                if before.retention_hours != self.retention:
                    maintain.set_retention(spark, path, self.retention)
                vacuumed = maintain.vacuum(spark, path)
            after = maintain.detail(spark, path)
            counters.update({f"files_before_{name}": before.files, f"files_after_{name}": after.files,
                             f"bytes_before_{name}": before.bytes, f"bytes_after_{name}": after.bytes,
                             f"files_compacted_{name}": optimized["files_removed"],
                             f"files_vacuumed_{name}": vacuumed,
                             f"commits_since_optimize_{name}": sum(summary.operations.values())})
            self.log(f"{name}: {summary.describe()}")
            self.log(f"{name}: {before.files:,} files ({before.bytes / 1e6:,.1f} MB) -> {after.files:,} files "
                     f"({after.bytes / 1e6:,.1f} MB), "
                     + (f"Z-ordered by {', '.join(zorder)}" if zorder else "compacted")
                     + (f"; VACUUM deleted {vacuumed:,} files older than {self.retention:g} hours" if vacuum else ""))
        return counters


if __name__ == "__main__":
    MaintainJob.run()
