"""What a stage needs to run, declared on its job class (after NeMo Curator's ``Resources``).

Each job in ``jobs/`` sets ``resources = Resources(...)``; everything that starts a stage reads
it from there: ``spark-submit.sh`` (through ``python -m jobs.base spark-submit-args``), the
Airflow DAG, the Databricks notebooks and the job's own Spark session. The cluster side (how many
GPUs an executor has, the discovery script) stays in the profile, ``conf/gpu.yaml``.

    Resources()                                  # one CPU core per task
    Resources(gpus=1, memory="8g")               # one GPU per task, 8 GB for the Python workers
    Resources(gpus=1, every_task=False)          # only the stage's model step takes a GPU
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Resources", "executor_gpus"]


@dataclass(frozen=True)
class Resources:
    """What one task of a stage needs."""

    #: CPU cores per task (``spark.task.cpus``).
    cpus: int = 1
    #: GPUs per task (``spark.task.resource.gpu.amount``); a fraction lets tasks share one GPU.
    gpus: float = 0
    #: Memory each executor keeps beside its JVM heap for the Python workers and the models they
    #: load (``spark.executor.memoryOverhead``, what YARN and Kubernetes size containers by),
    #: e.g. ``"8g"``; None leaves Spark's default (10 % of the heap).
    memory: str | None = None
    #: False: only the stage's model step takes these resources, through a stage-level resource
    #: profile; the stage's other tasks take one CPU core each.
    every_task: bool = True

    def __post_init__(self) -> None:
        if self.cpus < 1:
            raise ValueError(f"cpus must be at least 1, not {self.cpus}")
        if self.gpus < 0:
            raise ValueError(f"gpus must not be negative, not {self.gpus}")

    @property
    def needs_gpu(self) -> bool:
        return self.gpus > 0

    def spark_settings(self, gpus_on_executors: float) -> dict[str, str]:
        """The Spark settings of every task of the stage on executors with ``gpus_on_executors``
        GPUs each (0: no GPU, the GPU request is left out)."""
        settings: dict[str, str] = {}
        if self.every_task and self.cpus != 1:
            settings["spark.task.cpus"] = str(self.cpus)
        if self.every_task and self.gpus and gpus_on_executors:
            settings["spark.task.resource.gpu.amount"] = _number(self.gpus)
        if self.memory:
            settings["spark.executor.memoryOverhead"] = self.memory
        return settings


def executor_gpus(spark_settings: dict) -> float:
    """GPUs per executor in Spark settings (``spark.executor.resource.gpu.amount``, 0 if unset)."""
    try:
        return float(spark_settings.get("spark.executor.resource.gpu.amount") or 0)
    except (TypeError, ValueError):
        return 0.0


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
