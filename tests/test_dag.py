"""The Airflow DAG imports in a real Airflow (DagBag), with the stages wired in order.

Airflow lives in its own virtualenv (its pins clash with the ML stack): `make test` creates
.venv-airflow; elsewhere point WEBFAQ_AIRFLOW_PYTHON at an interpreter that has apache-airflow and
the Spark/Databricks providers.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import ROOT

AIRFLOW_PYTHON = os.environ.get("WEBFAQ_AIRFLOW_PYTHON", str(ROOT / ".venv-airflow" / "bin" / "python"))

PROBE = """
import json, logging
logging.disable(logging.CRITICAL)
from airflow.models import DagBag
bag = DagBag(dag_folder="dags")
dag = bag.dags.get("webfaq_pipeline")
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "tasks": {t.task_id: {"type": type(t).__name__, "downstream": sorted(t.downstream_task_ids),
                          "args": list(getattr(t, "application_args", None) or []),
                          "conf": getattr(t, "conf", None) or getattr(t, "_conf", None) or {}}
              for t in (dag.tasks if dag else [])},
}))
"""


@pytest.mark.skipif(not os.path.exists(AIRFLOW_PYTHON), reason="no Airflow interpreter (make test creates one)")
@pytest.mark.parametrize("target", ["spark", "databricks"])
def test_dag_imports_and_wires_the_stages(tmp_path, target):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "WEBFAQ_AIRFLOW_TARGET": target}
    out = subprocess.run([AIRFLOW_PYTHON, "-c", PROBE], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    tasks = result["tasks"]
    assert tasks["extract"]["downstream"] == ["annotate", "benchmark"]
    assert tasks["annotate"]["downstream"] == ["bitexts"]
    assert tasks["benchmark"]["downstream"] == ["mine"]
    if target == "spark":
        assert {t["type"] for t in tasks.values()} == {"SparkSubmitOperator"}
        assert tasks["extract"]["args"][:4] == ["--profile", "cluster", "--input",
                                                "{{ var.value.get('webfaq_manifest', "
                                                "'s3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz') }}"]
        # Each stage's profile and task resources come from its job class (jobs/<stage>.py: resources).
        assert {stage: t["args"][1] for stage, t in tasks.items()} == {
            "extract": "cluster", "annotate": "cluster,gpu", "bitexts": "cluster,gpu", "benchmark": "cluster",
            "mine": "cluster,gpu"}
        assert tasks["annotate"]["conf"]["spark.task.resource.gpu.amount"] == "1"
        assert "spark.task.resource.gpu.amount" not in tasks["mine"]["conf"]  # its reranking step asks
        assert tasks["mine"]["conf"]["spark.executor.memoryOverhead"] == "6g"
    else:
        assert {t["type"] for t in tasks.values()} == {"DatabricksSubmitRunOperator"}
