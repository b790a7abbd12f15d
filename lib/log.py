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

__all__ = ["logger", "start_run"]

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
