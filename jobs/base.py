"""The job base class every stage subclasses (after Common Crawl's cc-pyspark).

A stage sets ``name``, ``description`` and ``resources`` (what each task needs: CPU cores, GPUs,
memory; ``lib.resources``), adds its own options in ``add_arguments``, checks its inputs in
``validate`` (before any Spark session or table is touched) and does its work in ``run_job``,
returning its counters. ``main`` turns bad input into a clear message and a non-zero exit: 2 for a
usage or configuration error, 1 for a failed run.

The stage's declaration is read from here by everything that starts it:

    python -m jobs.base spark-submit-args annotate --profile cluster,gpu   # what spark-submit.sh passes on
    AnnotateJob.profile("cluster")                                 # "cluster,gpu": it declares GPUs
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import tempfile
import time
import traceback
import uuid
from datetime import datetime, timezone
from pathlib import Path

from lib import conf as confmod
from lib.schemas import MissingColumns
from lib.log import logger, start_run
from lib.resources import Resources


class UsageError(Exception):
    """Bad input or option found before the job started: exit 2, nothing written."""


class RunFailed(Exception):
    """The run could not do its work (e.g. it read nothing): exit 1 with this one-line message."""


class _MarkedLines:
    """A text stream that writes ``mark`` before each line (see :func:`mark_stderr`)."""

    def __init__(self, stream, mark: str):
        self._stream, self._mark, self._at_line_start = stream, mark, True

    def write(self, text: str) -> int:
        out = []
        for piece in text.splitlines(keepends=True):
            if self._at_line_start:
                out.append(self._mark)
            out.append(piece)
            self._at_line_start = piece.endswith("\n")
        self._stream.write("".join(out))
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def mark_stderr() -> None:
    """Under spark-submit.sh, mark every line the job writes to stderr.

    spark-submit runs the driver's Python with its stderr merged into stdout; spark-submit.sh sets
    ``WEBFAQ_STDERR_MARK`` and sends the marked lines back to stderr, so that errors and progress
    stay apart from the counters on stdout.
    """
    mark = os.environ.get("WEBFAQ_STDERR_MARK")
    if mark and not isinstance(sys.stderr, _MarkedLines):
        sys.stderr = _MarkedLines(sys.stderr, mark)


def language_list(value: str) -> list[str]:
    """The value of a ``--languages`` option: comma-separated ISO 639-3 codes (``deu,eng``)."""
    return [code.strip() for code in value.split(",") if code.strip()]


class DeprecatedAlias(argparse.Action):
    """An old spelling of an option, kept for one release: it sets the new option's value and says
    on stderr which name to use (see :func:`deprecated_alias`)."""

    def __init__(self, option_strings, dest, new_option: str, **kwargs):
        self.new_option = new_option
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog}: warning: {option_string} is deprecated, use {self.new_option} "
              f"(the old name is removed after the next release)", file=sys.stderr)
        current = getattr(namespace, self.dest, None)
        if isinstance(values, list) and isinstance(current, list):  # a repeatable list option: given again
            values = current + values
        setattr(namespace, self.dest, values)


def deprecated_alias(parser: argparse.ArgumentParser, old: str, new: argparse.Action) -> None:
    """Accept ``old`` for the option ``new`` (the action ``add_argument`` returned) for one release,
    where users may script the old name; ``--help`` lists it as deprecated."""
    parser.add_argument(old, dest=new.dest, type=new.type, metavar=new.metavar, action=DeprecatedAlias,
                        new_option=new.option_strings[0], default=argparse.SUPPRESS,
                        help=f"deprecated spelling of {new.option_strings[0]}, removed after the next release")


class SparkJob:
    name = "job"
    description = ""
    epilog = ""
    #: What each task of the stage needs; read by spark-submit.sh, the DAG and the notebooks.
    resources = Resources()

    def __init__(self) -> None:
        self.run_id = uuid.uuid4().hex
        self.started_at = datetime.now(timezone.utc)
        #: Counters so far and the inputs that could not be read ({'input', 'reason'} dicts): a
        #: stage fills them as it goes, so that a failed run's ``runs`` row has them too.
        self.counters: dict = {}
        self.unreadable_inputs: list[dict[str, str]] = []
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
                                 f"({', '.join(confmod.PROFILES)}; default: local); several stack left to "
                                 "right, the last winning: --profile cluster,gpu")
        parser.add_argument("--warehouse", default=None,
                            help="folder or URI holding the Delta tables (default: the profile's "
                                 "'warehouse' value, ./warehouse for local)")
        parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                            help="override any configuration value by its dotted key, e.g. "
                                 "--conf extract.langid.top1_threshold=0.3 (repeatable)")
        parser.add_argument("--verbose", action="store_true",
                            help="also show Spark's INFO lines and Ivy's dependency report (by default a run "
                                 "shows its own progress lines, warnings and errors)")
        self.add_arguments(parser)
        return parser

    def load_conf(self, args: argparse.Namespace) -> dict:
        conf = confmod.load_conf(args.profile, args.conf)
        if args.warehouse:
            conf["warehouse"] = args.warehouse
        if getattr(args, "verbose", False):
            confmod.set_key(conf, "console.verbose", True)
        return conf

    def log(self, message: str) -> None:
        """A progress line on stderr, with the seconds since the run started (``lib.log``)."""
        logger.info(message)

    @classmethod
    def profile(cls, cpu_profile: str) -> str:
        """The profile a run of this stage takes by default: ``cpu_profile`` with ``gpu`` stacked on
        it when the stage declares GPUs (``"cluster"`` -> ``"cluster,gpu"``), else ``cpu_profile``."""
        return confmod.stack_profiles(cpu_profile, "gpu") if cls.resources.needs_gpu else cpu_profile

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

    def check_warehouse(self, conf: dict) -> None:
        """A local warehouse must be a folder this user can write to (or one that can be made):
        found now, not as a Java trace after the whole scan. Remote warehouses are left to Spark."""
        warehouse = str(confmod.get(conf, "warehouse") or "").strip()
        if not warehouse:
            raise UsageError(f"no warehouse: the profile {conf.get('profile')!r} sets none; pass --warehouse "
                             "(a folder or URI: /Volumes/<catalog>/<schema>/<volume>/webfaq, abfss://..., s3://...)")
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]+:", warehouse) and not warehouse.startswith("file:"):
            return
        path = Path(warehouse.removeprefix("file://").removeprefix("file:")).absolute()
        if path.exists() and not path.is_dir():
            raise UsageError(f"warehouse {warehouse} is a file, not a folder")
        probe = path
        while not probe.exists():
            probe = probe.parent
        if not probe.is_dir():
            raise UsageError(f"warehouse {warehouse} cannot be made: {probe} is a file")
        try:
            with tempfile.TemporaryFile(dir=probe, prefix=".webfaq-write-test-"):
                pass
        except OSError as exc:
            raise UsageError(f"warehouse {warehouse} is not writable: {probe}: {exc.strerror or exc}") from exc

    def main(self, argv: list[str] | None = None) -> int:
        mark_stderr()
        parser = self.build_parser()
        args = parser.parse_args(argv)
        try:
            conf = self.load_conf(args)
            self.validate(args, conf)
            self.check_warehouse(conf)
            confmod.catalog_schema(conf)  # a catalog without a schema: found before Spark
        except (UsageError, confmod.ConfError, FileNotFoundError) as exc:
            print(f"{parser.prog}: error: {exc}", file=sys.stderr)
            return 2
        from udfs.session import get_spark

        spark, error = None, None
        started = self._run_started = time.monotonic()
        try:
            session_start = time.monotonic()
            spark = get_spark(conf, self.resources)
            start_run(self.name)
            started = time.monotonic()
            self.log(f"Spark session ready in {started - session_start:.1f}s (master {spark.sparkContext.master})")
            counters = self.run_job(spark, args, conf)
            self.register_tables(spark, conf)
        except (UsageError, confmod.ConfError, FileNotFoundError, MissingColumns) as exc:
            print(f"{parser.prog}: error: {exc}", file=sys.stderr)
            return 2
        except RunFailed as exc:
            print(f"{parser.prog}: error: {exc}", file=sys.stderr)
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - report any failure as a failed run
            traceback.print_exc()
            error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:1000]
        if error is not None:
            counters = self.counters
        counters = dict(counters or {})
        counters.setdefault("milliseconds", int(round(1000 * (time.monotonic() - started))))
        if error is None:
            self.print_counters(counters)
        if spark is not None:
            try:
                self.record_run(spark, args, conf, counters, error)
            except Exception as exc:  # noqa: BLE001 - the run's own tables are already written
                print(f"{parser.prog}: warning: could not append to the runs table: {exc}", file=sys.stderr)
        if error is not None:
            print(f"{parser.prog}: run {self.run_id} failed", file=sys.stderr)
            return 1
        return 0

    def register_tables(self, spark, conf: dict) -> None:
        """With ``catalog.schema`` set, register every table of the warehouse that exists by name
        (``catalog.schema.table``, an external table over its location); nothing when path-only."""
        schema = confmod.catalog_schema(conf)
        if schema is None:
            return
        from udfs.delta import is_delta_table, register_table

        names = []
        for table in confmod.get(conf, "tables"):
            path = self.table(conf, table)
            if table != "runs" and is_delta_table(spark, path):
                warning = register_table(spark, confmod.table_name(conf, table), schema, path)
                if warning:
                    print(f"spark-submit.sh {self.name}: warning: {warning}", file=sys.stderr)
                else:
                    names.append(confmod.table_name(conf, table).replace("`", ""))
        if names:
            self.log(f"tables by name: {', '.join(names)}")

    def record_run(self, spark, args: argparse.Namespace, conf: dict, counters: dict,
                   error: str | None = None) -> None:
        """Append one row with this run's counters, its error (None when it succeeded) and the
        inputs it could not read to the ``runs`` Delta table (a table written before these
        columns existed takes them: Delta schema evolution)."""
        from lib.schemas import RUNS
        from udfs.delta import append_rows, register_table

        row = {"run_id": self.run_id, "job": self.name, "profile": conf.get("profile"),
               "started_at": self.started_at, "finished_at": datetime.now(timezone.utc),
               "inputs": self.inputs(args), "counters": {k: int(v) for k, v in counters.items()},
               "error": error, "unreadable_inputs": list(self.unreadable_inputs),
               "metrics": {k: float(v) for k, v in self.metrics.items()}}
        append_rows(spark, [row], RUNS, self.table(conf, "runs"), merge_schema=True)
        name = confmod.table_name(conf, "runs")
        if name:  # the runs table by name too, once it holds this run
            warning = register_table(spark, name, confmod.catalog_schema(conf), self.table(conf, "runs"))
            if warning:
                print(f"spark-submit.sh {self.name}: warning: {warning}", file=sys.stderr)

    @classmethod
    def run(cls, argv: list[str] | None = None) -> None:
        sys.exit(cls().main(argv))

    @classmethod
    def notebook_widgets(cls, dbutils, **widgets) -> tuple[str, ...]:
        """Define a stage notebook's widgets and return the names of the stage's own, for
        :meth:`run_notebook`: ``warehouse`` and ``profile`` (every stage), then ``widgets`` in order,
        each ``name=(default, label)`` (a text box) or ``name=(default, choices, label)`` (a
        dropdown), then ``conf``."""
        dbutils.widgets.text("warehouse", "", "Warehouse: a volume (/Volumes/...) or cloud URI (empty = the profile's)")
        dbutils.widgets.dropdown("profile", cls.profile("databricks"), ["databricks", "databricks,gpu"], "Profile")
        for name, spec in widgets.items():
            if len(spec) == 3:
                dbutils.widgets.dropdown(name, *spec)
            else:
                dbutils.widgets.text(name, *spec)
        dbutils.widgets.text("conf", "", "Overrides: a JSON object, or KEY=VALUE lines")
        return tuple(widgets)

    @classmethod
    def run_notebook(cls, dbutils, options: tuple[str, ...] = ()) -> dict:
        """Run from a Databricks notebook, its widgets as arguments; raise if the job fails, else
        return the configuration it ran with (for the notebook's own cells: table locations).

        Widgets: ``profile`` (default: ``gpu`` stacked on databricks when the stage declares GPUs),
        ``warehouse`` (empty: the profile's), each name in ``options`` (``--name`` when not empty;
        ``_`` becomes ``-``; a switch such as ``--no-vacuum`` when ``true``) and ``conf``: overrides as a JSON object (``{"annotate.tasks": ["topic"]}``)
        or KEY=VALUE lines (one a line, values read as YAML: lists such as ``[topic, question_type]``
        keep their commas).
        """
        def widget(name: str) -> str:
            try:
                return (dbutils.widgets.get(name) or "").strip()
            except Exception:  # noqa: BLE001 - a widget the notebook did not define
                return ""

        args = ["--profile", widget("profile") or cls.profile("databricks")]
        flags = {a.dest for a in cls().build_parser()._actions if isinstance(a, argparse._StoreTrueAction)}
        for name in ("warehouse", *options):
            if name in flags:  # a switch: on for true/yes/1
                if widget(name).lower() in ("true", "yes", "1"):
                    args.append(f"--{name.replace('_', '-')}")
            elif widget(name):
                args += [f"--{name.replace('_', '-')}", widget(name)]
        for action in cls().build_parser()._actions:  # a job parameter under an option's old name
            if isinstance(action, DeprecatedAlias):
                old, new = (o.lstrip("-").replace("-", "_") for o in (action.option_strings[0], action.new_option))
                if new in options and not widget(new) and widget(old):
                    args += [action.option_strings[0], widget(old)]
        overrides = notebook_overrides(widget("conf"))
        for item in overrides:
            args += ["--conf", item]
        job = cls()
        try:
            exit_code = job.main(args)
        except SystemExit as exc:  # argparse: a required widget left empty
            exit_code = exc.code
        if exit_code != 0:
            raise RuntimeError(f"{cls.name} failed with exit code {exit_code}; see the output above")
        return job.load_conf(argparse.Namespace(profile=args[1], conf=overrides, warehouse=widget("warehouse") or None))


def notebook_overrides(text: str) -> list[str]:
    """The ``--conf`` items of a notebook's ``conf`` widget: a JSON object (``{"key": value}``)
    or KEY=VALUE lines; blank lines and lines starting with ``#`` are skipped. Values are never
    split on commas."""
    text = (text or "").strip()
    if text.startswith("{"):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"conf widget: not a JSON object: {exc}") from exc
        return [f"{key}={value if isinstance(value, str) else json.dumps(value)}" for key, value in items.items()]
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def job_class(stage: str) -> type[SparkJob]:
    """The job class of a stage (``jobs/<stage>.py``)."""
    try:
        module = importlib.import_module(f"jobs.{stage}")
    except ModuleNotFoundError as exc:
        if exc.name != f"jobs.{stage}":
            raise
        raise confmod.ConfError(f"unknown stage {stage!r}") from exc
    base = importlib.import_module("jobs.base").SparkJob  # not __main__'s copy under python -m jobs.base
    classes = [c for c in vars(module).values()
               if isinstance(c, type) and issubclass(c, base) and c.__module__ == module.__name__]
    if len(classes) != 1:
        raise confmod.ConfError(f"jobs/{stage}.py should define one SparkJob, not {len(classes)}")
    return classes[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.base",
                                     description="What a stage's job declares, for the tools that start it.")
    parser.add_argument("command", choices=["spark-submit-args"],
                        help="the spark-submit flags of the profile and of the stage's resources, one a line")
    parser.add_argument("stage", help="a stage: the name of a file in jobs/")
    parser.add_argument("--profile", default="local",
                        help="configuration profile, or several stacked (cluster,gpu); default: local")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="override a configuration value (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="Spark's own logging (no quiet log4j2 file)")
    parser.add_argument("--with-code", action="store_true",
                        help="also zip jobs/, lib/ and udfs/ into the cache folder and add --py-files ZIP")
    args = parser.parse_args(argv)
    try:
        job = job_class(args.stage)
        conf = confmod.load_conf(args.profile, args.conf)
        if args.verbose:
            confmod.set_key(conf, "console.verbose", True)
        flags = confmod.spark_submit_args(conf, job.resources)
        if args.with_code:
            from lib.package import code_zip

            flags += ["--py-files", code_zip(Path(__file__).resolve().parent.parent, confmod.cache_dir(conf))]
        print("\n".join(flags))
    except confmod.ConfError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
