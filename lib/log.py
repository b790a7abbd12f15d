"""The progress lines of a run: one logger, ``webfaq``, for the jobs and the Spark code they call.

Lines go to stderr (stdout carries a run's results: its counters and reports) as

    [mine]    12.3s  deu: index build/bm25_indexes/deu (395 documents, analyzer de, built)

the stage that runs and the seconds since its run started (:func:`start_run`, called by the job);
a line may name its stage itself (``extra={"stage": "extract"}``), as lines logged in a Spark
task's process must, where no run started. Use it as
``from lib.log import logger`` and ``logger.info(...)``; a job's ``self.log(...)`` does the same.
"""
from __future__ import annotations

import logging
import sys
import time

__all__ = ["logger", "start_run", "progress_line", "duration"]

logger = logging.getLogger("webfaq")


class _StageLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self.stage = "webfaq"
        self.started: float | None = None

    def format(self, record: logging.LogRecord) -> str:
        stage = getattr(record, "stage", None) or self.stage
        if self.started is not None:
            line = f"[{stage}] {time.monotonic() - self.started:7.1f}s  {record.getMessage()}"
        else:  # a Spark task's process: no run started there
            line = f"[{stage}] {record.getMessage()}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


class _Stderr(logging.StreamHandler):
    """A handler on whatever ``sys.stderr`` is when a line is written (tests swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


_FORMAT = _StageLines()
if not any(isinstance(h, _Stderr) for h in logger.handlers):
    _handler = _Stderr()
    _handler.setFormatter(_FORMAT)
    logger.addHandler(_handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def start_run(stage: str) -> None:
    """Name the lines after ``stage`` and count their seconds from now."""
    _FORMAT.stage, _FORMAT.started = stage, time.monotonic()


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h10m``: a time left as people read it on a console."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _count(value: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}" if value >= 10 or float(value).is_integer() else f"{value:.1f}"


def progress_line(done: int, total: int, running: int, elapsed: float, *, unit: str = "tasks",
                  records: int = 0, input_bytes: int = 0, estimated_bytes: int | None = None) -> str:
    """One progress line: units done of the total, how fast, and the time left.

    ``done``/``total``/``running`` count the units of work (Spark tasks, or the input files when a
    task reads one file), ``elapsed`` the seconds since they started; ``records`` and
    ``input_bytes`` what the finished tasks read (Spark's input and shuffle metrics);
    ``estimated_bytes`` the size of all the input when it is known beforehand (local files), from
    which the megabytes behind the finished units are estimated (``~``). The time left assumes the
    rate so far:

        tasks 12/40 done, 2 running; 1.2M records (8.2k/s), 45.3 MB (3.1 MB/s); ETA 1m30s
    """
    parts = [f"{unit} {done:,}/{total:,} done" + (f", {running:,} running" if running else "")]
    rates = []
    elapsed = max(elapsed, 1e-9)
    if records:
        rates.append(f"{_count(records)} records ({_count(records / elapsed)}/s)")
    if input_bytes:
        rates.append(f"{input_bytes / 1e6:,.1f} MB ({input_bytes / 1e6 / elapsed:,.1f} MB/s)")
    elif estimated_bytes and total:
        read = estimated_bytes * done / total
        rates.append(f"~{read / 1e6:,.1f} of {estimated_bytes / 1e6:,.1f} MB (~{read / 1e6 / elapsed:,.1f} MB/s)")
    if not rates and done:
        rates.append(f"{_count(done / elapsed * 60)} {unit}/min" if done / elapsed < 1
                     else f"{_count(done / elapsed)} {unit}/s")
    if rates:
        parts.append(", ".join(rates))
    if done >= total:
        parts.append("finishing")
    elif done:
        parts.append(f"ETA {duration(elapsed * (total - done) / done)}")
    else:
        parts.append("ETA after the first one finishes")
    return "; ".join(parts)
