"""lib.log: the progress lines of jobs and their Spark code, on stderr."""
from __future__ import annotations

import re

from lib.log import logger, start_run


def test_lines_name_the_stage_and_the_seconds_of_the_run(capsys):
    start_run("mine")
    logger.info("deu: index built")
    logger.info("tasks 3/8 done", extra={"stage": "bitexts"})
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.splitlines()
    assert re.fullmatch(r"\[mine\] +0\.\ds  deu: index built", lines[0])
    assert re.fullmatch(r"\[bitexts\] +0\.\ds  tasks 3/8 done", lines[1])
