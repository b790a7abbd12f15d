"""The command line: one name per idea across stages, old spellings kept for a release, examples
that name files a user has."""
from __future__ import annotations

import argparse
import re
import shlex

import pytest

from jobs.base import DeprecatedAlias, job_class, language_list
from tests.conftest import ROOT

STAGES = sorted(p.stem for p in (ROOT / "jobs").glob("*.py") if p.stem not in ("__init__", "base"))
#: Old spelling -> the name every stage uses now.
RENAMED = {"--max-pairs": "--limit", "--export-dir": "--export", "--language": "--languages"}


def parser_of(stage: str) -> argparse.ArgumentParser:
    return job_class(stage)().build_parser()


def options(stage: str) -> dict[str, argparse.Action]:
    return {o: a for a in parser_of(stage)._actions for o in a.option_strings}


def test_one_name_per_idea_across_stages():
    for stage in STAGES:
        for name, action in options(stage).items():
            if name in RENAMED:
                assert isinstance(action, DeprecatedAlias) and action.new_option == RENAMED[name], (stage, name)
            if name == "--limit":   # a trial run on the first N files, pairs, queries ...
                assert action.type is int and action.metavar == "N", stage
            if name == "--languages":
                assert action.type is language_list, stage
            if name == "--export":  # a stage that writes tables and also exports them
                assert action.metavar == "DIR", stage
    assert "--limit" in options("annotate") and "--export" in options("bitexts") and "--languages" in options("evaluate")


@pytest.mark.parametrize("stage, old, value, dest, expected", [
    ("annotate", "--max-pairs", "300", "limit", 300),
    ("bitexts", "--export-dir", "out/bitexts", "export", "out/bitexts"),
    ("evaluate", "--language", "deu", "languages", ["deu"]),
])
def test_old_spellings_still_work_for_a_release_and_say_so(stage, old, value, dest, expected, capsys):
    required = ["--beir", "x"] if stage == "evaluate" else []
    args = parser_of(stage).parse_args([*required, old, value])
    assert getattr(args, dest) == expected
    new = RENAMED[old]
    assert capsys.readouterr().err == (f"spark-submit.sh {stage}: warning: {old} is deprecated, use {new} "
                                       f"(the old name is removed after the next release)\n")
    assert getattr(parser_of(stage).parse_args(required), dest) is None  # the new name's default stays
    text = " ".join(parser_of(stage).format_help().split())
    assert f"{old} {'N' if new == '--limit' else ''}".strip() in text
    assert f"deprecated spelling of {new}, removed after the next release" in text


def test_every_stage_has_examples():
    for stage in STAGES:
        epilog = parser_of(stage).epilog or ""
        assert epilog.startswith("examples") and f"spark-submit.sh {stage} " in epilog, stage


def test_extract_examples_name_files_that_make_demo_makes():
    epilog = parser_of("extract").epilog
    commands = [" ".join(block.split()) for block in
                re.split(r"\n(?=  spark-submit.sh )", epilog.split("\n\n")[0].replace("\\\n", " "))[1:]]
    makefile = (ROOT / "Makefile").read_text()
    made = set(re.findall(r"^SAMPLE\w* *= *(\S+)", makefile, flags=re.M))
    assert made == {"build/sample/sample.warc.gz", "build/sample/FAQPage_sample.nq.gz",
                    "build/sample/owi/covidqa.parquet"}
    assert re.search(r"^demo: sample$", makefile, flags=re.M) and \
        re.search(r"^sample: \$\(SAMPLE\) \$\(SAMPLE_NQ\) \$\(SAMPLE_OWI\)$", makefile, flags=re.M)
    inputs = []
    for command in commands:
        words = shlex.split(command.split("#")[0])
        inputs += [words[i + 1] for i, w in enumerate(words) if w == "--input"]
    assert len(inputs) == 8
    for value in inputs:
        if re.match(r"[a-z0-9]+://", value):
            assert value.endswith("CC-MAIN-2024-22/warc.paths.gz")   # Common Crawl's published manifest
        else:
            assert any(m == value or m.startswith(value) for m in made), value


def test_a_notebook_parameter_under_an_old_name_reaches_the_job(monkeypatch):
    from jobs.bitexts import BitextsJob

    seen = []
    monkeypatch.setattr(BitextsJob, "main", lambda self, argv: seen.append(argv) or 0)
    dbutils = type("DBUtils", (), {})()
    dbutils.widgets = type("Widgets", (), {"get": staticmethod(
        lambda name: {"warehouse": "/wh", "export_dir": "/out"}.get(name, ""))})()
    BitextsJob.run_notebook(dbutils, options=("export",))
    assert seen == [["--profile", "databricks,gpu", "--warehouse", "/wh", "--export-dir", "/out"]]


def test_repeatable_language_lists_add_up_under_either_spelling(capsys):
    compare = parser_of("compare").parse_args(["--beir", "x", "--language", "eng", "--language", "deu"])
    assert compare.languages == ["eng", "deu"] and capsys.readouterr().err.count("--language is deprecated") == 2
    train = parser_of("train").parse_args(["--strategy", "rn", "--output", "o", "--languages", "eng,deu", "--languages", "swe"])
    assert train.languages == ["eng", "deu", "swe"]
    assert parser_of("train").parse_args(["--strategy", "rn", "--output", "o"]).languages is None
