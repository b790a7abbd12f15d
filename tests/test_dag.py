"""The Airflow DAG imports in a real Airflow (DagBag), with the stages wired in order, and its task
instances render their input from the run's parameters, Variables and data interval.

Airflow lives in its own virtualenv (its pins clash with the ML stack): `make test` creates
.venv-airflow; elsewhere point WEBFAQ_AIRFLOW_PYTHON at an interpreter that has apache-airflow and
the Spark/Databricks providers. A task instance is rendered as Airflow's task runner does before it
executes it: the DAG's params merged with the run's conf and validated, Variables through Airflow's
own accessor (here from AIRFLOW_VAR_* environment variables, Airflow's environment secrets backend),
the DAG's Jinja environment and macros (``render_template_fields``).
"""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.conftest import ROOT

AIRFLOW_PYTHON = os.environ.get("WEBFAQ_AIRFLOW_PYTHON", str(ROOT / ".venv-airflow" / "bin" / "python"))

PROBE = """
import copy, json, logging, sys
from datetime import datetime, timezone
logging.disable(logging.CRITICAL)
from airflow.models import DagBag
from airflow.sdk.execution_time.context import VariableAccessor

renders = json.loads(sys.argv[1])
bag = DagBag(dag_folder="dags")
dag = bag.dags.get("webfaq_pipeline")
result = {
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "tasks": {t.task_id: {"type": type(t).__name__, "downstream": sorted(t.downstream_task_ids),
                          "args": list(getattr(t, "application_args", None) or []),
                          "conf": getattr(t, "conf", None) or getattr(t, "_conf", None) or {}}
              for t in (dag.tasks if dag else [])},
    "renders": [],
}
for task_id, run_conf, day in renders:
    params = copy.deepcopy(dag.params)
    params.update(run_conf)
    start = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
    context = {"params": params.validate(), "data_interval_start": start, "ds": start.strftime("%Y-%m-%d"),
               "var": {"value": VariableAccessor(deserialize_json=False), "json": VariableAccessor(deserialize_json=True)}}
    task = copy.deepcopy(dag.get_task(task_id))
    try:
        if task_id == "weekly":
            result["renders"].append({"runs": task.python_callable(**context)})
            continue
        task.render_template_fields(context)
        result["renders"].append({"args": list(getattr(task, "application_args", None) or []),
                                  "databricks": {f: getattr(task, f, None) for f in
                                                 ("existing_cluster_id", "notebook_task", "run_name")}})
    except Exception as exc:
        result["renders"].append({"error": f"{type(exc).__name__}: {exc}"})
print(json.dumps(result))
"""


def _probe(tmp_path, target: str, renders=(), variables: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_VAR_")}
    env.update({"AIRFLOW_HOME": str(tmp_path), "WEBFAQ_AIRFLOW_TARGET": target})
    env.update({f"AIRFLOW_VAR_{k.upper()}": v for k, v in (variables or {}).items()})
    out = subprocess.run([AIRFLOW_PYTHON, "-c", PROBE, json.dumps(list(renders))], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    tasks = result["tasks"]
    assert tasks["extract"]["downstream"] == ["annotate", "benchmark"]
    assert tasks["annotate"]["downstream"] == ["bitexts"]
    assert tasks["benchmark"]["downstream"] == ["mine"]
    assert tasks["bitexts"]["downstream"] == tasks["mine"]["downstream"] == ["weekly"]
    assert tasks["weekly"]["downstream"] == ["maintain"] and tasks["weekly"]["type"] == "ShortCircuitOperator"
    return result


needs_airflow = pytest.mark.skipif(not os.path.exists(AIRFLOW_PYTHON),
                                   reason="no Airflow interpreter (make test creates one)")


@needs_airflow
def test_spark_tasks_take_the_crawl_and_the_day_of_the_run(tmp_path):
    result = _probe(tmp_path, "spark", renders=[
        ("extract", {"crawl": "CC-MAIN-2025-05"}, "2026-03-01"),
        ("extract", {"input": "s3://bucket/extra/warc.paths.gz", "warehouse": "s3a://bucket/wh"}, "2026-03-01"),
        ("extract", {}, "2026-03-01"),  # no crawl anywhere
        ("weekly", {}, "2026-03-01"),   # a Sunday
        ("weekly", {}, "2026-03-02"),
        ("weekly", {"maintain_weekday": "monday"}, "2026-03-02"),
    ])
    tasks = result["tasks"]
    assert {t["type"] for stage, t in tasks.items() if stage != "weekly"} == {"SparkSubmitOperator"}
    # Each stage's profile and task resources come from its job class (jobs/<stage>.py: resources);
    # GPU stages stack gpu on the cluster profile.
    assert {stage: t["args"][1] for stage, t in tasks.items() if t["args"]} == {
        "extract": "cluster", "annotate": "cluster,gpu", "bitexts": "cluster,gpu", "benchmark": "cluster",
        "mine": "cluster,gpu", "maintain": "cluster"}
    assert tasks["annotate"]["conf"]["spark.task.resource.gpu.amount"] == "1"
    assert tasks["annotate"]["conf"]["spark.task.maxFailures"] == "8"  # the cluster's own settings stay
    assert "spark.task.resource.gpu.amount" not in tasks["mine"]["conf"]  # its reranking step asks
    assert tasks["mine"]["conf"]["spark.executor.memoryOverhead"] == "6g"
    assert all("webfaq_spark.zip" not in json.dumps(t) for t in tasks.values())

    crawl, given, missing, sunday, monday, monday_chosen = result["renders"]
    assert crawl["args"] == ["--profile", "cluster", "--input", "s3://commoncrawl/crawl-data/CC-MAIN-2025-05/warc.paths.gz",
                             "--warehouse", ""]
    assert given["args"] == ["--profile", "cluster", "--input", "s3://bucket/extra/warc.paths.gz",
                             "--warehouse", "s3a://bucket/wh"]
    assert missing["error"].startswith("ValueError: no crawl to read for s3://commoncrawl/crawl-data/{crawl}/warc.paths.gz")
    assert "set the Airflow Variable webfaq_crawl" in missing["error"]
    assert (sunday["runs"], monday["runs"], monday_chosen["runs"]) == (True, False, True)


@needs_airflow
def test_the_day_s_dump_comes_from_the_data_interval(tmp_path):
    result = _probe(tmp_path, "spark", renders=[("extract", {}, "2026-03-01"), ("extract", {}, "2026-03-02")],
                    variables={"webfaq_input_template": "s3://bucket/faq-dumps/{year}/{ds_nodash}/*.warc.gz",
                               "webfaq_warehouse": "s3a://bucket/webfaq"})
    first, second = (r["args"] for r in result["renders"])
    assert first[2:] == ["--input", "s3://bucket/faq-dumps/2026/20260301/*.warc.gz", "--warehouse", "s3a://bucket/webfaq"]
    assert second[3] == "s3://bucket/faq-dumps/2026/20260302/*.warc.gz"


@needs_airflow
def test_databricks_tasks_take_cluster_notebooks_and_wheel_from_variables(tmp_path):
    bare = _probe(tmp_path, "databricks", renders=[("annotate", {}, "2026-03-01")])
    assert {t["type"] for stage, t in bare["tasks"].items() if stage != "weekly"} == {"DatabricksSubmitRunOperator"}
    # A required Variable that is not set fails the task before anything is submitted, naming it.
    assert re.search(r"Variable webfaq_(databricks_cluster|notebooks|package) not found", bare["renders"][0]["error"])

    variables = {"webfaq_databricks_cluster": "0301-123456-abcdefgh", "webfaq_package": "/Volumes/main/webfaq/dist/"
                 "webfaq_spark-0.1.0-py3-none-any.whl", "webfaq_notebooks": "/Workspace/Users/me@example.com/webfaq-spark/notebooks/",
                 "webfaq_crawl": "CC-MAIN-2024-51"}
    result = _probe(tmp_path, "databricks", variables=variables,
                    renders=[("extract", {}, "2026-03-01"), ("annotate", {"warehouse": "/Volumes/main/webfaq/wh"}, "2026-03-01")])
    extract, annotate = (r["databricks"] for r in result["renders"])
    assert extract["existing_cluster_id"] == "0301-123456-abcdefgh"
    assert extract["run_name"] == "webfaq extract 2026-03-01"
    assert extract["notebook_task"] == {
        "notebook_path": "/Workspace/Users/me@example.com/webfaq-spark/notebooks/01_extract",
        "base_parameters": {"warehouse": "", "profile": "databricks", "package": variables["webfaq_package"],
                            "input": "s3://commoncrawl/crawl-data/CC-MAIN-2024-51/warc.paths.gz"}}
    assert annotate["notebook_task"]["base_parameters"] == {"warehouse": "/Volumes/main/webfaq/wh",
                                                            "profile": "databricks,gpu",
                                                            "package": variables["webfaq_package"]}


def test_the_wheel_the_clusters_install_holds_every_stage_and_imports(tmp_path):
    """``make wheel`` (python -m lib.package wheel): built from a copy of the sources, nothing written
    into the checkout; the wheel alone on sys.path imports every stage's job."""
    import sys
    import zipfile

    cache = tmp_path / "cache"
    env = {**os.environ, "WEBFAQ_CACHE_DIR": str(cache)}
    before = sorted(p.name for p in ROOT.iterdir())
    out = subprocess.run([sys.executable, "-m", "lib.package", "wheel", "--out", str(tmp_path / "dist")], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = tmp_path / "dist" / "webfaq_spark-0.1.0-py3-none-any.whl"
    assert out.stdout.strip() == str(wheel) and (cache / "dist" / wheel.name).is_file()
    assert sorted(p.name for p in ROOT.iterdir()) == before
    names = zipfile.ZipFile(wheel).namelist()
    stages = sorted(p.stem for p in (ROOT / "jobs").glob("*.py") if p.stem not in ("__init__", "base"))
    assert {f"jobs/{stage}.py" for stage in stages} <= set(names) and "lib/conf.py" in names
    assert not [n for n in names if n.startswith(("tests/", "dags/", "notebooks/")) or n.endswith(".pyc")]
    code = ("import sys; from jobs.base import job_class; "
            f"print(sorted({{job_class(s).__module__: job_class(s).resources.needs_gpu for s in {stages!r}}}.items())); "
            "print(sys.modules['jobs.base'].__file__)")
    imported = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**env, "PYTHONPATH": str(wheel)},
                              capture_output=True, text=True, timeout=300)
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert imported.stdout.splitlines()[1] == f"{wheel}/jobs/base.py"
    assert ("'jobs.annotate', True" in imported.stdout) and ("'jobs.maintain', False" in imported.stdout)
