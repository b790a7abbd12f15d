"""Airflow DAG: the webfaq-spark stages on a schedule, on a Spark cluster or on Databricks.

    extract -> annotate -> bitexts --> weekly -> maintain
            -> benchmark -> mine ----/

Each task runs one stage's entry point (jobs/<stage>.py) with spark-submit, as spark-submit.sh
does, or the stage's notebook on Databricks. What a stage needs (GPUs, cores, memory) is read from
its job class (``resources``): a stage that declares GPUs runs with ``gpu`` stacked on the profile
(``cluster,gpu``), keeping the cluster's master, warehouse and settings. ``maintain`` (OPTIMIZE,
VACUUM, history) runs once a week, after the day's stages, on the weekday ``maintain_weekday``.

The input of each run (extract's ``--input``), chosen when the run starts, first that is set:
  1. the run's ``input`` parameter (a manifest, a WARC file or a glob: "Trigger DAG w/ config"),
  2. the Airflow Variable ``webfaq_input_template`` (default ``s3://commoncrawl/crawl-data/{crawl}/warc.paths.gz``)
     filled in with ``{crawl}`` (the run's ``crawl`` parameter, else the Variable ``webfaq_crawl``)
     and the run's data interval: ``{ds}`` (2026-01-31), ``{ds_nodash}``, ``{year}``, ``{month}``,
     ``{day}``. A template with ``{ds}`` reads the day's dump (``s3://bucket/faq-dumps/{ds}/*.warc.gz``);
     one with ``{crawl}`` and no crawl given fails the run with a message saying what to set.
The extraction merges into the tables, so a crawl read twice adds nothing twice.

The code: build the wheel once per release (``make wheel``: ``python -m build --wheel`` into
dist/) and install it where the stages run:
  spark       the executors' Python: the cluster image, or a venv-pack archive of a venv holding
              the wheel and its dependencies (``WEBFAQ_PYTHON_ENV``, shipped as spark.archives);
              the driver (client mode) imports the checkout holding this file, with the Python
              of the worker's PYSPARK_DRIVER_PYTHON.
  databricks  pip-installed by each notebook with the extras its stage needs: the Variable
              ``webfaq_package`` (a /Volumes/ or /Workspace/ path of the wheel, uploaded by the
              operator), passed as the notebook's ``package`` parameter.

Chosen when the DAG file is parsed (environment of the scheduler and workers):
  WEBFAQ_AIRFLOW_TARGET  "spark" (SparkSubmitOperator) or "databricks" [spark]
  WEBFAQ_REPO            the webfaq-spark checkout on the workers [the checkout holding this file]
  WEBFAQ_PROFILE         profile of the stages that declare no GPU [cluster; databricks for databricks]
  WEBFAQ_PYTHON_ENV      spark: a venv-pack archive (URI) unpacked as ./environment on the executors [none]
Read when a run starts (Airflow Variables; a missing required one fails the task and names it):
  webfaq_warehouse           warehouse URI [the profile's]
  webfaq_crawl, webfaq_input_template   see above
  webfaq_databricks_cluster  databricks: the existing cluster's id (required)
  webfaq_notebooks           databricks: the workspace folder of notebooks/ (required), e.g.
                             /Workspace/Users/me@example.com/webfaq-spark/notebooks
  webfaq_package             databricks: the wheel (required)
Connections: spark_default (SparkSubmitOperator) or databricks_default.
"""
from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, Param

TARGET = os.environ.get("WEBFAQ_AIRFLOW_TARGET", "spark")
if TARGET not in ("spark", "databricks"):
    raise ValueError(f"WEBFAQ_AIRFLOW_TARGET={TARGET!r}: use spark or databricks")
REPO = os.environ.get("WEBFAQ_REPO", str(Path(__file__).resolve().parent.parent))
PROFILE = os.environ.get("WEBFAQ_PROFILE", "databricks" if TARGET == "databricks" else "cluster")
PYTHON_ENV = os.environ.get("WEBFAQ_PYTHON_ENV", "")

INPUT_TEMPLATE = "s3://commoncrawl/crawl-data/{crawl}/warc.paths.gz"
INPUT = ("{{ webfaq_input(params, data_interval_start, var.value.get('webfaq_crawl', ''), "
         f"var.value.get('webfaq_input_template', '{INPUT_TEMPLATE}')) }}}}")
# An empty --warehouse leaves the profile's warehouse.
WAREHOUSE = "{{ params.warehouse or var.value.get('webfaq_warehouse', '') }}"


def webfaq_input(params, interval_start, crawl_variable: str, template: str) -> str:
    """extract's ``--input`` for a run (see the module's docstring): the ``input`` parameter, else
    ``template`` filled in with the crawl and the data interval's start."""
    given = str(params.get("input") or "").strip()
    if given:
        return given
    crawl = str(params.get("crawl") or crawl_variable or "").strip()
    fields = {"crawl": crawl, "ds": interval_start.strftime("%Y-%m-%d"), "ds_nodash": interval_start.strftime("%Y%m%d"),
              "year": interval_start.strftime("%Y"), "month": interval_start.strftime("%m"),
              "day": interval_start.strftime("%d")}
    if "{crawl}" in template and not crawl:
        raise ValueError(f"no crawl to read for {template}: trigger the run with {{\"crawl\": \"CC-MAIN-2025-05\"}} "
                         "(or {\"input\": \"s3://...\"}), or set the Airflow Variable webfaq_crawl")
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"webfaq_input_template {template!r}: unknown placeholder {exc}; "
                         f"known: {', '.join('{' + f + '}' for f in fields)}") from None


# stage -> (extra arguments, notebook)
STAGES = {
    "extract": (["--input", INPUT], "01_extract"),
    "annotate": ([], "02_annotate"),
    "bitexts": ([], "03_bitexts"),
    "benchmark": ([], "04_benchmark"),
    "mine": ([], "05_mine"),
    "maintain": ([], "10_maintain"),
}

# The job classes, for what each stage declares it needs.
if REPO not in sys.path:
    sys.path.insert(0, REPO)
from jobs.base import job_class  # noqa: E402

JOBS = {stage: job_class(stage) for stage in STAGES}


def stage_arguments(stage: str) -> list[str]:
    extra, _ = STAGES[stage]
    return ["--profile", JOBS[stage].profile(PROFILE), *extra, "--warehouse", WAREHOUSE]


def databricks_task(stage: str):
    from airflow.providers.databricks.operators.databricks import DatabricksSubmitRunOperator

    extra, notebook = STAGES[stage]
    parameters = {"warehouse": WAREHOUSE, "profile": JOBS[stage].profile(PROFILE), "package": "{{ var.value.webfaq_package }}"}
    parameters.update({extra[i].lstrip("-"): extra[i + 1] for i in range(0, len(extra), 2)})
    # Required Variables without a default: a run without them fails at once, naming the Variable.
    return DatabricksSubmitRunOperator(
        task_id=stage,
        databricks_conn_id="databricks_default",
        existing_cluster_id="{{ var.value.webfaq_databricks_cluster }}",
        notebook_task={"notebook_path": "{{ var.value.webfaq_notebooks.rstrip('/') }}/" + notebook,
                       "base_parameters": parameters},
        run_name=f"webfaq {stage} {{{{ ds }}}}",
    )


def spark_task(stage: str):
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    # The profile's Spark settings and Delta package and the stage's declared resources, exactly as
    # spark-submit.sh passes them.
    from lib.conf import ConfError, load_conf, spark_settings

    job = JOBS[stage]
    conf = load_conf(job.profile(PROFILE), conf_dir=Path(REPO) / "conf")
    try:
        settings = spark_settings(conf, job.resources)
    except ConfError:
        # pyspark/delta-spark are not installed beside Airflow: the cluster image must carry Delta.
        conf["spark"]["delta_jars"] = False
        settings = spark_settings(conf, job.resources)
    packages = settings.pop("spark.jars.packages", None)
    env = {"WEBFAQ_CONF_DIR": f"{REPO}/conf", "PYTHONPATH": REPO}
    if PYTHON_ENV:  # the wheel and its dependencies, unpacked on each executor (Spark's venv-pack recipe)
        settings["spark.archives"] = f"{PYTHON_ENV}#environment"
        env["PYSPARK_PYTHON"] = "./environment/bin/python"
    return SparkSubmitOperator(
        task_id=stage,
        application=f"{REPO}/jobs/{stage}.py",
        application_args=stage_arguments(stage),
        conf=settings,
        packages=packages,
        env_vars=env,
        conn_id="spark_default",
        name=f"webfaq-{stage}",
    )


def maintenance_day(data_interval_start=None, params=None, **_) -> bool:
    """True on the run whose data interval starts on the weekday ``params.maintain_weekday``."""
    return data_interval_start.strftime("%A").lower() == str(params["maintain_weekday"]).lower()


with DAG(
    dag_id="webfaq_pipeline",
    description="Common Crawl WARC files -> WebFAQ tables, annotations, bitexts and retrieval data",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # maintain and the stages never write the same tables at once
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["webfaq", "spark"],
    user_defined_macros={"webfaq_input": webfaq_input},
    params={
        "crawl": Param("", type="string", description="Common Crawl crawl id (CC-MAIN-2025-05) for "
                       "webfaq_input_template; empty = the Variable webfaq_crawl"),
        "input": Param("", type="string", description="extract's input as it is (manifest, WARC file or "
                       "glob); empty = from webfaq_input_template"),
        "warehouse": Param("", type="string", description="warehouse URI; empty = the Variable "
                           "webfaq_warehouse, else the profile's"),
        "maintain_weekday": Param("sunday", enum=["monday", "tuesday", "wednesday", "thursday", "friday",
                                                   "saturday", "sunday"],
                                  description="the weekday of the data interval on which maintain runs"),
    },
) as dag:
    from airflow.providers.standard.operators.python import ShortCircuitOperator

    make_task = databricks_task if TARGET == "databricks" else spark_task
    tasks = {stage: make_task(stage) for stage in STAGES}
    weekly = ShortCircuitOperator(task_id="weekly", python_callable=maintenance_day)
    tasks["extract"] >> [tasks["annotate"], tasks["benchmark"]]
    tasks["annotate"] >> tasks["bitexts"]
    tasks["benchmark"] >> tasks["mine"]
    [tasks["bitexts"], tasks["mine"]] >> weekly >> tasks["maintain"]
