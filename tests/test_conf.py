"""Configuration profiles, the spark-submit wrapper and the notebooks (no Spark session needed)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lib import conf as confmod
from tests.conftest import ROOT


@pytest.mark.parametrize("profile", confmod.PROFILES)
def test_every_profile_loads_with_tables_and_extract_settings(profile):
    conf = confmod.load_conf(profile)
    assert conf["profile"] == profile
    assert confmod.get(conf, "tables.qa_pairs") == "qa_pairs"
    assert confmod.get(conf, "extract.langid.hint_threshold") == 0.12
    assert confmod.get(conf, "extract.langid.top1_threshold") == 0.25


def test_overrides_win_and_values_are_typed():
    conf = confmod.load_conf("local", ["extract.langid.top1_threshold=0.3",
                                       "spark.conf.[spark.sql.shuffle.partitions]=8",
                                       "warehouse=/data/wh"])
    assert conf["extract"]["langid"]["top1_threshold"] == 0.3
    assert conf["spark"]["conf"]["spark.sql.shuffle.partitions"] == 8
    assert confmod.table_path(conf, "qa_pairs") == "/data/wh/qa_pairs"


def test_profiles_stack_left_to_right_the_last_winning():
    conf = confmod.load_conf("cluster,gpu")
    assert conf["profile"] == "cluster,gpu"
    # cluster's master, warehouse and settings stay; gpu adds its executors' GPUs and batch sizes
    assert conf["warehouse"] == "s3a://my-bucket/webfaq/warehouse" and conf["spark"]["master"] is None
    settings = conf["spark"]["conf"]
    assert settings["spark.sql.shuffle.partitions"] == "400"
    assert settings["spark.executor.resource.gpu.amount"] == "1"
    assert settings["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"  # from base.yaml
    assert conf["annotate"]["batch_size"] == 128 and conf["bitexts"]["search"] == "faiss"
    local_gpu = confmod.load_conf("local,gpu")
    assert local_gpu["spark"]["master"] == "local[*]" and local_gpu["warehouse"] == "warehouse"
    assert local_gpu["spark"]["conf"]["spark.sql.shuffle.partitions"] == "4"
    # the last profile wins where two set the same key
    assert confmod.load_conf("gpu,cluster")["spark"]["conf"]["spark.python.worker.reuse"] == "true"
    assert confmod.load_conf("local,cluster")["spark"]["master"] is None
    assert confmod.load_conf("cluster,local")["spark"]["master"] == "local[*]"
    # overrides still win over every profile, and keys of any profile are known
    assert confmod.load_conf("cluster,gpu", ["annotate.batch_size=7"])["annotate"]["batch_size"] == 7
    with pytest.raises(confmod.ConfError, match="unknown profile 'prod'"):
        confmod.load_conf("cluster,prod")
    with pytest.raises(confmod.ConfError, match="bad profile 'cluster,'"):
        confmod.load_conf("cluster,")
    assert confmod.stack_profiles("cluster", "gpu") == "cluster,gpu"
    assert confmod.stack_profiles("cluster,gpu", "gpu") == "cluster,gpu"


def test_stacked_profiles_reach_spark_submit_and_the_job():
    from jobs.annotate import AnnotateJob

    out = subprocess.run([sys.executable, "-m", "jobs.base", "spark-submit-args", "annotate", "--profile", "cluster,gpu"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    flags = out.stdout.splitlines()
    for setting in ("spark.sql.shuffle.partitions=400", "spark.executor.resource.gpu.amount=1",
                    "spark.task.resource.gpu.amount=1", "spark.executor.memoryOverhead=8g",
                    "spark.task.maxFailures=8"):
        assert setting in flags
    job = AnnotateJob()
    args = job.build_parser().parse_args(["--profile", "cluster,gpu", "--warehouse", "/wh"])
    conf = job.load_conf(args)
    assert conf["profile"] == "cluster,gpu" and conf["annotate"]["batch_size"] == 128 and conf["warehouse"] == "/wh"


def test_missing_keys_and_profiles_are_named_in_the_error():
    conf = confmod.load_conf("local")
    with pytest.raises(confmod.ConfError, match="models.nonexistent"):
        confmod.get(conf, "models.nonexistent")
    with pytest.raises(confmod.ConfError, match="unknown profile 'prod'"):
        confmod.load_conf("prod")
    with pytest.raises(confmod.ConfError, match="KEY=VALUE"):
        confmod.load_conf("local", ["no-equals-sign"])


def test_spark_submit_args_carry_delta_and_the_profile_settings(tmp_path):
    local = confmod.spark_submit_args(confmod.load_conf("local", [f"spark.jars_cache={tmp_path}"]))
    assert local[local.index("--master") + 1] == "local[*]"
    package = local[local.index("--packages") + 1]
    assert package.startswith("io.delta:delta-spark_4.2_2.13:")
    assert "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension" in local
    databricks = confmod.spark_submit_args(confmod.load_conf("databricks"))
    assert "--packages" not in databricks and "--master" not in databricks
    gpu = confmod.spark_submit_args(confmod.load_conf("gpu"))
    assert "spark.executor.resource.gpu.amount=1" in gpu
    assert not any(arg.startswith("spark.task.resource.gpu") for arg in gpu)


def test_stages_declare_their_resources_and_the_submit_flags_carry_them():
    from jobs.annotate import AnnotateJob
    from jobs.base import job_class
    from jobs.extract import ExtractJob
    from jobs.mine import MineJob

    assert job_class("annotate") is AnnotateJob
    assert [job_class(s).profile("cluster") for s in ("extract", "annotate", "bitexts", "benchmark", "mine",
                                                      "evaluate")] == ["cluster", "cluster,gpu", "cluster,gpu",
                                                                       "cluster", "cluster,gpu", "cluster"]
    assert AnnotateJob.profile("databricks,gpu") == "databricks,gpu"
    gpu = confmod.load_conf("gpu")
    annotate = confmod.spark_submit_args(gpu, AnnotateJob.resources)
    assert "spark.task.resource.gpu.amount=1" in annotate and "spark.executor.memoryOverhead=8g" in annotate
    # On executors without GPUs the GPU request is left out; the memory stays.
    local = confmod.spark_submit_args(confmod.load_conf("local"), AnnotateJob.resources)
    assert not any("gpu" in arg for arg in local) and "spark.executor.memoryOverhead=8g" in local
    # mine takes its GPU in the reranking step only (a stage-level resource profile), not in every task.
    mine = confmod.spark_submit_args(gpu, MineJob.resources)
    assert not any(arg.startswith("spark.task.resource.gpu") for arg in mine)
    assert "spark.executor.memoryOverhead=6g" in mine
    assert confmod.spark_submit_args(gpu, ExtractJob.resources) == confmod.spark_submit_args(gpu)
    # What spark-submit.sh runs.
    out = subprocess.run([sys.executable, "-m", "jobs.base", "spark-submit-args", "annotate", "--profile", "gpu"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.split("\n")[:-1] == annotate
    bad = subprocess.run([sys.executable, "-m", "jobs.base", "spark-submit-args", "nope"], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown stage 'nope'" in bad.stderr


def test_spark_submit_wrapper_help_and_bad_stage():
    script = str(ROOT / "spark-submit.sh")
    env = {"PYTHON": sys.executable, "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    help_ = subprocess.run([script, "extract", "--help"], capture_output=True, text=True, env=env)
    assert help_.returncode == 0
    for option in ("--input", "--profile", "--warehouse", "--conf", "--limit", "--input-base-uri"):
        assert option in help_.stdout
    bad = subprocess.run([script, "no-such-stage"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "unknown stage" in bad.stderr
    listing = subprocess.run([script, "--help"], capture_output=True, text=True, env=env)
    assert listing.returncode == 0 and "extract" in listing.stdout


def _notebook_cells(text: str) -> list[str]:
    """The cells of a notebook in Databricks' source format: a header line, then cells separated
    by ``# COMMAND ----------`` lines; a cell of ``# MAGIC`` lines is a magic (%md, %pip, %run) cell."""
    assert text.startswith("# Databricks notebook source\n")
    return [cell.strip("\n") for cell in text[len("# Databricks notebook source\n"):].split("\n# COMMAND ----------\n")]


class NotebookWidgets:
    """``dbutils.widgets`` as Databricks runs a notebook: ``text``/``dropdown`` define a widget with its
    default (a dropdown's default must be one of its choices), ``get`` reads the value a run sets or
    the default, and raises for a widget never defined."""

    def __init__(self, values):
        self.values, self.defaults = values, {}

    def text(self, name, default, label=None):
        self.defaults[name] = default

    def dropdown(self, name, default, choices, label=None):
        assert default in choices, (name, default, choices)
        self.defaults[name] = default

    def get(self, name):
        if name not in self.defaults:
            raise ValueError(f"InputWidgetNotDefined: {name}")
        return self.values.get(name, self.defaults[name])


def test_notebooks_parse_as_databricks_source_and_run_their_job(monkeypatch):
    """Each notebook read as Databricks reads it, its Python cells run in order with Databricks'
    widgets; the job's own run is replaced by the parsing of its arguments (no Spark)."""
    import ast
    import importlib

    from jobs.base import SparkJob

    runs = []

    def main(self, argv):
        runs.append((self.name, argv, self.build_parser().parse_args(argv)))
        return 0

    monkeypatch.setattr(SparkJob, "main", main)
    notebooks = sorted((ROOT / "notebooks").glob("*.py"))
    stages = sorted(p.stem for p in (ROOT / "jobs").glob("*.py") if p.stem not in ("__init__", "base"))
    assert {n.stem.split("_", 1)[1] for n in notebooks} <= set(stages) and (ROOT / "notebooks" / "10_maintain.py") in notebooks
    for notebook in notebooks:
        text = notebook.read_text()
        assert "/Workspace/Repos" not in text and "dbfs:/" not in text, notebook.name
        cells = _notebook_cells(text)
        assert cells[0].startswith("# MAGIC %md")
        dbutils = type("DBUtils", (), {})()
        dbutils.widgets = NotebookWidgets({"output": "/Volumes/main/webfaq/files/out", "warehouse": "/Volumes/main/webfaq/wh",
                                           "beir": "/Volumes/main/webfaq/files/beir",
                                           "conf": '{"annotate.tasks": ["topic", "question_type"], "extract.needle": "FAQPage"}'})
        scope = {"dbutils": dbutils, "display": lambda *a: None, "displayHTML": lambda *a: None}
        before = len(runs)
        for cell in cells:
            lines = cell.splitlines()
            if all(line.startswith("# MAGIC") for line in lines):
                assert not any(line.startswith("# MAGIC %pip") for line in lines), notebook.name
                continue
            tree = ast.parse(cell, filename=notebook.name)  # valid Python, as Databricks runs it
            if "spark.read" in cell or "displayHTML" in cell:
                continue  # shows a table or the report: needs the workspace
            exec(compile(tree, notebook.name, "exec"), scope)
        assert len(runs) == before + 1, notebook.name
        stage, argv, args = runs[-1]
        assert notebook.stem.endswith(stage)
        assert dbutils.widgets.defaults["warehouse"] == "" and dbutils.widgets.defaults["package"] == ""
        assert args.warehouse == "/Volumes/main/webfaq/wh"
        assert args.conf == ['annotate.tasks=["topic", "question_type"]', "extract.needle=FAQPage"]
        job = importlib.import_module(f"jobs.{stage}")
        assert stage == getattr(job, [n for n in dir(job) if n.endswith("Job") and n != "SparkJob"][0]).name
    # The overrides reached the configuration whole: the list kept its comma.
    assert confmod.load_conf("databricks", runs[0][2].conf)["annotate"]["tasks"] == ["topic", "question_type"]


def test_the_conf_widget_takes_json_or_lines_and_never_splits_on_commas(monkeypatch):
    from jobs.annotate import AnnotateJob
    from jobs.base import UsageError, notebook_overrides

    assert notebook_overrides('{"annotate.tasks": ["topic", "question_type"], "annotate.batch_size": 64, '
                              '"extract.needle": "FAQ, Page"}') == [
        'annotate.tasks=["topic", "question_type"]', "annotate.batch_size=64", "extract.needle=FAQ, Page"]
    assert notebook_overrides("annotate.tasks=[topic, question_type]\n\n# a comment\n  annotate.batch_size=64 \n") == [
        "annotate.tasks=[topic, question_type]", "annotate.batch_size=64"]
    assert notebook_overrides("  ") == []
    with pytest.raises(UsageError, match="conf widget: not a JSON object"):
        notebook_overrides('{"annotate.tasks": [topic]}')
    monkeypatch.setattr(AnnotateJob, "main", lambda self, argv: 0)
    dbutils = type("DBUtils", (), {})()
    dbutils.widgets = Widgets({"warehouse": "/wh", "conf": "annotate.tasks=[topic, question_type]\nextract.needle=FAQ, Page"})
    conf = AnnotateJob.run_notebook(dbutils)
    assert conf["annotate"]["tasks"] == ["topic", "question_type"] and conf["extract"]["needle"] == "FAQ, Page"
    assert conf["profile"] == "databricks,gpu" and conf["warehouse"] == "/wh"


def test_the_databricks_profile_has_no_default_warehouse(tmp_path, capsys):
    from jobs.maintain import MaintainJob

    assert confmod.load_conf("databricks")["warehouse"] is None
    assert MaintainJob().main(["--profile", "databricks"]) == 2
    assert capsys.readouterr().err == ("spark-submit.sh maintain: error: no warehouse: the profile 'databricks' sets none; "
                                       "pass --warehouse (a folder or URI: /Volumes/<catalog>/<schema>/<volume>/webfaq, "
                                       "abfss://..., s3://...)\n")


class Widgets:
    """Databricks' ``dbutils.widgets`` as a notebook sees it: values by name, errors for others."""

    def __init__(self, values):
        self.values = values

    def get(self, name):
        if name not in self.values:
            raise ValueError(f"InputWidgetNotDefined: {name}")
        return self.values[name]


def test_run_notebook_turns_widgets_into_arguments_and_raises_on_failure(tmp_path, capsys):
    from jobs.extract import ExtractJob

    dbutils = type("DBUtils", (), {})()
    dbutils.widgets = Widgets({"input": str(tmp_path / "missing.warc.gz"), "warehouse": str(tmp_path / "wh"),
                               "limit": "", "conf": " extract.needle=FAQPage , "})
    with pytest.raises(RuntimeError, match="extract failed with exit code 2"):
        ExtractJob.run_notebook(dbutils, options=("input", "limit"))
    assert "1 input file(s) do not exist" in capsys.readouterr().err
    assert not (tmp_path / "wh").exists()


def test_unknown_keys_name_the_nearest_and_values_have_base_yaml_types():
    with pytest.raises(confmod.ConfError, match=r"unknown configuration key 'extract.max_payload_byte' "
                                                r"\(did you mean 'extract.max_payload_bytes'\?\)"):
        confmod.load_conf("local", ["extract.max_payload_byte=5"])
    with pytest.raises(confmod.ConfError, match=r"unknown configuration key 'extract.no_such_key' \(did you mean"):
        confmod.load_conf("local", ["extract.no_such_key=1"])
    with pytest.raises(confmod.ConfError, match=r"extract.max_payload_bytes=abc: extract.max_payload_bytes takes an integer"):
        confmod.load_conf("local", ["extract.max_payload_bytes=abc"])
    with pytest.raises(confmod.ConfError, match="takes a list"):
        confmod.load_conf("local", ["annotate.tasks=topic"])
    with pytest.raises(confmod.ConfError, match="not null"):
        confmod.load_conf("local", ["extract.remote.retries=null"])
    conf = confmod.load_conf("cluster", ["extract.langid.top1_threshold=1", "warehouse=2024",
                                         "spark.class_data_archive=/tmp/x.jsa",  # a key of the local profile
                                         "spark.conf.[spark.any.setting]=3", "annotate.truncate_dim=null"])
    assert conf["extract"]["langid"]["top1_threshold"] == 1.0 and conf["warehouse"] == "2024"
    assert conf["spark"]["conf"]["spark.any.setting"] == 3 and conf["annotate"]["truncate_dim"] is None
    # YAML 1.1 reads 2e-5 (no dot) as a string: a number key takes it as the number; a string stays refused.
    assert confmod.load_conf("local", ["train.learning_rate=2e-5"])["train"]["learning_rate"] == 2e-5
    with pytest.raises(confmod.ConfError, match="train.learning_rate takes a number"):
        confmod.load_conf("local", ["train.learning_rate=fast"])


def test_bad_conf_values_exit_2_before_spark(tmp_path, capsys, shared_data):
    from jobs.extract import ExtractJob

    warc = str(shared_data / "warc-whirlwind" / "whirlwind.warc.gz")
    for override, message in (("extract.no_such_key=1", "unknown configuration key 'extract.no_such_key'"),
                              ("extract.max_payload_bytes=abc", "extract.max_payload_bytes takes an integer")):
        assert ExtractJob().main(["--input", warc, "--warehouse", str(tmp_path / "wh"), "--conf", override]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert not (tmp_path / "wh").exists()


def test_an_unusable_warehouse_is_found_before_spark(tmp_path, capsys, shared_data):
    from jobs.extract import ExtractJob

    warc = str(shared_data / "warc-whirlwind" / "whirlwind.warc.gz")
    a_file = tmp_path / "warehouse"
    a_file.write_text("not a folder")
    assert ExtractJob().main(["--input", warc, "--warehouse", str(a_file)]) == 2
    assert capsys.readouterr().err == f"spark-submit.sh extract: error: warehouse {a_file} is a file, not a folder\n"
    assert ExtractJob().main(["--input", warc, "--warehouse", str(a_file / "tables")]) == 2
    assert f"{a_file} is a file" in capsys.readouterr().err


def test_a_read_only_warehouse_is_found_before_spark(tmp_path, shared_data):
    """As a user without write permission: root writes anywhere, so the job runs without the
    capability that lets it ignore permissions (setpriv, util-linux)."""
    import shutil

    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    warc = str(shared_data / "warc-whirlwind" / "whirlwind.warc.gz")
    code = ("import sys; from jobs.extract import ExtractJob; "
            f"sys.exit(ExtractJob().main(['--input', {warc!r}, '--warehouse', {str(read_only / 'wh')!r}]))")
    result = subprocess.run(["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-c", code],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"spark-submit.sh extract: error: warehouse {read_only / 'wh'} is not writable: "
                             f"{read_only}: Permission denied\n")


@pytest.mark.slow
def test_spark_submit_wrapper_keeps_errors_on_stderr(tmp_path):
    script = str(ROOT / "spark-submit.sh")
    result = subprocess.run([script, "extract", "--input", str(tmp_path / "missing.warc.gz")],
                            capture_output=True, text=True, env={**os.environ, "PYTHON": sys.executable}, timeout=300)
    assert result.returncode == 2
    assert f"spark-submit.sh extract: error: 1 input file(s) do not exist:\n  {tmp_path / 'missing.warc.gz'}\n" in result.stderr
    assert "error" not in result.stdout and "missing.warc.gz" not in result.stdout


def test_notebooks_take_the_profile_the_job_declares(monkeypatch):
    from jobs.annotate import AnnotateJob
    from jobs.extract import ExtractJob

    for notebook in sorted((ROOT / "notebooks").glob("*.py")):
        text = notebook.read_text()
        if 'widgets.dropdown("profile"' in text:
            assert 'Job.profile("databricks"), ["databricks", "databricks,gpu"]' in text, notebook.name
    seen = []
    monkeypatch.setattr(AnnotateJob, "main", lambda self, argv: seen.append(argv) or 0)
    monkeypatch.setattr(ExtractJob, "main", lambda self, argv: seen.append(argv) or 0)
    dbutils = type("DBUtils", (), {})()
    dbutils.widgets = Widgets({"warehouse": "/wh"})  # no profile widget: the job's own choice
    AnnotateJob.run_notebook(dbutils)
    ExtractJob.run_notebook(dbutils)
    assert seen == [["--profile", "databricks,gpu", "--warehouse", "/wh"],
                    ["--profile", "databricks", "--warehouse", "/wh"]]


def test_locations_are_absolute_unless_they_are_uris(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert confmod.absolute_location("warehouse") == str(tmp_path / "warehouse")
    assert confmod.absolute_location("/data/wh") == "/data/wh"
    for uri in ("s3a://bucket/webfaq", "dbfs:/webfaq/warehouse", "file:///tmp/wh", "https://host/x"):
        assert confmod.absolute_location(uri) == uri
    conf = confmod.load_conf("local", ["warehouse=dbfs:/webfaq/warehouse/"])
    assert confmod.table_path(conf, "qa_pairs") == "dbfs:/webfaq/warehouse/qa_pairs"


def test_the_languages_option_is_read_one_way_by_every_stage():
    from jobs.annotate import AnnotateJob
    from jobs.base import language_list
    from jobs.benchmark import BenchmarkJob
    from jobs.mine import MineJob

    assert language_list(" deu, eng,,") == ["deu", "eng"]
    for job in (AnnotateJob(), BenchmarkJob(), MineJob()):
        assert job.build_parser().parse_args(["--languages", "deu,eng"]).languages == ["deu", "eng"]
