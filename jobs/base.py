"""The job base class every stage subclasses (after Common Crawl's cc-pyspark).

A stage sets ``name`` and ``description``, adds its own options in ``add_arguments``, checks its
inputs in ``validate`` (before any Spark session or table is touched) and does its work in
``run_job``, returning its counters. ``main`` turns bad input into a clear message and a non-zero
exit: 2 for a usage or configuration error, 1 for a failed run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import uuid
from datetime import datetime, timezone

from lib import conf as confmod


class UsageError(Exception):
    """Bad input or option found before the job started: exit 2, nothing written."""


class SparkJob:
    name = "job"
    description = ""
    epilog = ""

    def __init__(self) -> None:
        self.run_id = uuid.uuid4().hex
        self.started_at = datetime.now(timezone.utc)
        # Measures of the run as numbers (name -> float), stored in the runs table's metrics column.
        self.metrics: dict[str, float] = {}

    # -- hooks -------------------------------------------------------------------------------
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the stage's own options."""

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        """Check inputs before Spark starts; raise UsageError with a message for the user."""

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        """Do the work; return the run's counters (name -> number)."""
        raise NotImplementedError

    def inputs(self, args: argparse.Namespace) -> list[str]:
        """What the run read, as recorded in the ``runs`` table (override to be more precise)."""
        return []

    # -- framework ---------------------------------------------------------------------------
    def build_parser(self) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(
            prog=f"spark-submit.sh {self.name}", description=self.description, epilog=self.epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--profile", default="local",
                            help="configuration profile: conf/<profile>.yaml merged over conf/base.yaml "
                                 f"({', '.join(confmod.PROFILES)}; default: local)")
        parser.add_argument("--warehouse", default=None,
                            help="folder or URI holding the Delta tables (default: the profile's "
                                 "'warehouse' value, ./warehouse for local)")
        parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                            help="override any configuration value by its dotted key, e.g. "
                                 "--conf extract.langid.top1_threshold=0.3 (repeatable)")
        self.add_arguments(parser)
        return parser

    def load_conf(self, args: argparse.Namespace) -> dict:
        conf = confmod.load_conf(args.profile, args.conf)
        if args.warehouse:
            conf["warehouse"] = args.warehouse
        return conf

    def log(self, message: str) -> None:
        """A progress line on stderr, with the seconds since the run started."""
        elapsed = time.monotonic() - getattr(self, "_run_started", time.monotonic())
        print(f"[{self.name}] {elapsed:7.1f}s  {message}", file=sys.stderr, flush=True)

    def table(self, conf: dict, name: str) -> str:
        return confmod.table_path(conf, name)

    def print_counters(self, counters: dict) -> None:
        width = max((len(k) for k in [*counters, *self.metrics]), default=0)
        print(f"== {self.name} run {self.run_id} ==")
        for key in sorted(counters):
            print(f"  {key:<{width}}  {counters[key]:>12,}")
        for key in sorted(self.metrics):
            print(f"  {key:<{width}}  {self.metrics[key]:>12.4f}")
        print(json.dumps({"job": self.name, "run_id": self.run_id, "counters": counters,
                          **({"metrics": self.metrics} if self.metrics else {})}, sort_keys=True))

    def main(self, argv: list[str] | None = None) -> int:
        parser = self.build_parser()
        args = parser.parse_args(argv)
        try:
            conf = self.load_conf(args)
            self.validate(args, conf)
        except (UsageError, confmod.ConfError, FileNotFoundError) as exc:
            print(f"{parser.prog}: error: {exc}", file=sys.stderr)
            return 2
        from udfs.session import get_spark

        try:
            session_start = time.monotonic()
            spark = get_spark(conf)
            print(f"[{self.name}] Spark session ready in {time.monotonic() - session_start:.1f}s "
                  f"(master {spark.sparkContext.master})", file=sys.stderr)
            started = self._run_started = time.monotonic()
            counters = self.run_job(spark, args, conf)
        except (UsageError, confmod.ConfError, FileNotFoundError) as exc:
            print(f"{parser.prog}: error: {exc}", file=sys.stderr)
            return 2
        except Exception:  # noqa: BLE001 - report any failure as a failed run
            traceback.print_exc()
            print(f"{parser.prog}: run {self.run_id} failed", file=sys.stderr)
            return 1
        counters = dict(counters or {})
        counters.setdefault("milliseconds", int(round(1000 * (time.monotonic() - started))))
        self.print_counters(counters)
        try:
            self.record_run(spark, args, conf, counters)
        except Exception as exc:  # noqa: BLE001 - the run's own tables are already written
            print(f"{parser.prog}: warning: could not append to the runs table: {exc}", file=sys.stderr)
        return 0

    def record_run(self, spark, args: argparse.Namespace, conf: dict, counters: dict) -> None:
        """Append one row with this run's counters to the ``runs`` Delta table."""
        from lib.schemas import RUNS
        from udfs.delta import append_rows

        row = {"run_id": self.run_id, "job": self.name, "profile": conf.get("profile"),
               "started_at": self.started_at, "finished_at": datetime.now(timezone.utc),
               "inputs": self.inputs(args), "counters": {k: int(v) for k, v in counters.items()},
               "metrics": {k: float(v) for k, v in self.metrics.items()}}
        # mergeSchema: a runs table written before a column was added takes the row all the same.
        append_rows(spark, [row], RUNS, self.table(conf, "runs"), merge_schema=True)

    @classmethod
    def run(cls, argv: list[str] | None = None) -> None:
        sys.exit(cls().main(argv))

    @classmethod
    def run_notebook(cls, dbutils, options: tuple[str, ...] = ()) -> None:
        """Run from a Databricks notebook, its widgets as arguments; raise if the job fails.

        Widgets: ``profile`` (default databricks), ``warehouse``, each name in ``options``
        (``--name`` when not empty; ``_`` becomes ``-``) and ``conf`` (comma-separated KEY=VALUE).
        """
        def widget(name: str) -> str:
            try:
                return (dbutils.widgets.get(name) or "").strip()
            except Exception:  # noqa: BLE001 - a widget the notebook did not define
                return ""

        args = ["--profile", widget("profile") or "databricks"]
        for name in ("warehouse", *options):
            if widget(name):
                args += [f"--{name.replace('_', '-')}", widget(name)]
        for item in filter(None, (part.strip() for part in widget("conf").split(","))):
            args += ["--conf", item]
        exit_code = cls().main(args)
        if exit_code != 0:
            raise RuntimeError(f"{cls.name} failed with exit code {exit_code}; see the output above")
