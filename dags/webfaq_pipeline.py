"""Airflow DAG: the webfaq-spark stages on a schedule, on a Spark cluster or on Databricks.

    extract -> annotate -> bitexts
            -> benchmark -> mine

Each task runs one stage's entry point (jobs/<stage>.py) with spark-submit, as spark-submit.sh
does, or the stage's notebook on Databricks. What a stage needs (GPUs, cores, memory) is read from
its job class (``resources``): a stage that declares GPUs runs with the gpu profile.

Chosen when the DAG file is parsed (environment of the scheduler and workers):
  WEBFAQ_AIRFLOW_TARGET      "spark" (SparkSubmitOperator) or "databricks" [spark]
  WEBFAQ_REPO                the webfaq-spark checkout on the workers [the checkout holding this file]
  WEBFAQ_PROFILE             configuration profile of the stages that declare no GPU [cluster]
Read when a task runs (Airflow Variables, through templates):
  webfaq_manifest            WARC manifest of the crawl to add [Common Crawl CC-MAIN-2024-22]
  webfaq_warehouse           warehouse URI [s3a://my-bucket/webfaq/warehouse]
  webfaq_databricks_cluster  existing cluster id for the notebook runs
Connections: spark_default (SparkSubmitOperator) or databricks_default.
The extraction merges into the tables, so a daily run adds only what is new.
"""
from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow import DAG

TARGET = os.environ.get("WEBFAQ_AIRFLOW_TARGET", "spark")
REPO = os.environ.get("WEBFAQ_REPO", str(Path(__file__).resolve().parent.parent))
PROFILE = os.environ.get("WEBFAQ_PROFILE", "cluster")
MANIFEST = "{{ var.value.get('webfaq_manifest', 's3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz') }}"
WAREHOUSE = "{{ var.value.get('webfaq_warehouse', 's3a://my-bucket/webfaq/warehouse') }}"
CLUSTER = "{{ var.value.get('webfaq_databricks_cluster', '') }}"

# stage -> (extra arguments, notebook)
STAGES = {
    "extract": (["--input", MANIFEST], "01_extract"),
    "annotate": ([], "02_annotate"),
    "bitexts": ([], "03_bitexts"),
    "benchmark": ([], "04_benchmark"),
    "mine": ([], "05_mine"),
}

# The job classes, for what each stage declares it needs.
if REPO not in sys.path:
    sys.path.insert(0, REPO)
from jobs.base import job_class  # noqa: E402

JOBS = {stage: job_class(stage) for stage in STAGES}


def stage_arguments(stage: str) -> list[str]:
    extra, _ = STAGES[stage]
    return ["--profile", JOBS[stage].profile(PROFILE), *extra, "--warehouse", WAREHOUSE]


def make_task(stage: str):
    if TARGET == "databricks":
        from airflow.providers.databricks.operators.databricks import DatabricksSubmitRunOperator

        return DatabricksSubmitRunOperator(
            task_id=stage,
            existing_cluster_id=CLUSTER,
            notebook_task={"notebook_path": f"{REPO}/notebooks/{STAGES[stage][1]}",
                           "base_parameters": {"warehouse": WAREHOUSE, "profile": JOBS[stage].profile("databricks"),
                                               **({"input": MANIFEST} if stage == "extract" else {})}},
        )
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
    return SparkSubmitOperator(
        task_id=stage,
        application=f"{REPO}/jobs/{stage}.py",
        py_files=f"{REPO}/build/webfaq_spark.zip",
        application_args=stage_arguments(stage),
        conf=settings,
        packages=packages,
        env_vars={"WEBFAQ_CONF_DIR": f"{REPO}/conf", "PYTHONPATH": REPO},
        conn_id="spark_default",
    )


with DAG(
    dag_id="webfaq_pipeline",
    description="Common Crawl WARC files -> WebFAQ tables, annotations, bitexts and retrieval data",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["webfaq", "spark"],
) as dag:
    tasks = {stage: make_task(stage) for stage in STAGES}
    tasks["extract"] >> [tasks["annotate"], tasks["benchmark"]]
    tasks["annotate"] >> tasks["bitexts"]
    tasks["benchmark"] >> tasks["mine"]
