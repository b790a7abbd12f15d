"""Dense-retriever training on Spark: examples built by Spark tasks, training run by TorchDistributor.

1. Examples (lib/retrieval/training.py) are built where the data is: ``rn`` per language
   (``applyInPandas``: the pool of random negatives is the language's training positives), the
   mined strategies per ``hard_negatives`` record (``mapInPandas``). They are written as parquet,
   one folder per language, into the run's work folder beside the output.
2. ``pyspark.ml.torch.distributor.TorchDistributor`` starts the training processes with torchrun:
   ``local_mode`` on the driver (one CPU process by default), or one barrier task per process on
   the executors (``--profile gpu``: one process per GPU, DDP over NCCL; gloo on CPU). Each process
   reads the parquet files with ``datasets`` (one dataset per language, so a batch never mixes
   languages, as in the WebFAQ authors' training) and runs sentence-transformers'
   ``SentenceTransformerTrainer``; rank 0 saves the model. ``batch_size`` is the global batch:
   each of N processes takes batch_size / N rows, and MNR gathers the embeddings of all processes,
   so every query meets the same in-batch negatives as on one device.

The training processes import this package: on the driver from where the job runs, on executors
from the project zip shipped with ``--py-files`` (found in the task's working folder) or from an
installed copy (cluster image, venv-pack, ``%pip install`` on Databricks). The work folder (and so
``--output``) must be a POSIX path that the driver and, without ``local_mode``, every executor see
(a local folder on one machine; ``/dbfs/...``, NFS or Lustre on a cluster).
"""
from __future__ import annotations

import os
from pathlib import Path

from lib.retrieval import negatives as neg
from lib.retrieval import training
from lib.schemas import training_examples

SKIPPED_COLUMN = "skipped"


def examples_schema(strategy: str, params: neg.StrategyParams) -> str:
    first = training.input_columns(strategy, params)[0]
    return training_examples(first, training.negatives_needed(strategy, params), strategy == "margin-mse") + \
        f",\n{SKIPPED_COLUMN} string"


def _skipped_row(columns: list[str], language: str, query_id: str) -> dict:
    # Every column present (None, not a missing key that pandas would fill with NaN).
    return {**dict.fromkeys(columns), "language": language, "query_id": query_id}


def _frame(rows: list[dict], columns: list[str]):
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def rn_examples(queries, seed: int, params: neg.StrategyParams):
    """``rn`` rows for training queries (language, query_id, query, positive_id, positive)."""
    columns = training.example_columns("rn", params) + [SKIPPED_COLUMN]

    def per_language(pdf):
        pdf = pdf.sort_values("query_id")
        positives = pdf.drop_duplicates("positive_id").sort_values("positive_id")
        pool = training.RandomNegativePool(positives["positive"].fillna("").astype(str))
        rows = []
        for r in pdf.itertuples(index=False):
            ex = training.random_example(pool, r.language, r.query_id, r.query, r.positive, seed, params)
            rows.append(ex.row or _skipped_row(columns, r.language, r.query_id))
            rows[-1][SKIPPED_COLUMN] = ex.skipped
        return _frame(rows, columns)

    return queries.groupBy("language").applyInPandas(per_language, examples_schema("rn", params))


def mined_examples(hard_negatives, strategy: str, seed: int, params: neg.StrategyParams):
    """``top4`` / ``denoised`` / ``margin-mse`` rows from ``hard_negatives`` records."""
    columns = training.example_columns(strategy, params) + [SKIPPED_COLUMN]

    def run(batches):
        for pdf in batches:
            rows = []
            for rec in pdf.to_dict("records"):
                ex = training.mined_example(strategy, rec, seed, params)
                row = ex.row or _skipped_row(columns, rec["language"], rec["query_id"])
                row[SKIPPED_COLUMN] = ex.skipped
                rows.append(row)
            yield _frame(rows, columns)

    needed = hard_negatives.select("language", "query_id", "query", "positive", "pos_score", "negatives", "neg_scores")
    return needed.mapInPandas(run, examples_schema(strategy, params))


def write_examples(examples, path: str, limit: int | None = None) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Write the kept rows as parquet under ``path/language=<lang>/``; returns the kept count per
    language and the skipped count per language and reason. ``limit``: the first N rows (by query
    id) of each language."""
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    examples = examples.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = examples.groupBy("language", SKIPPED_COLUMN).count().collect()
        kept = examples.where(F.col(SKIPPED_COLUMN).isNull()).drop(SKIPPED_COLUMN)
        if limit:
            order = Window.partitionBy("language").orderBy("query_id")
            kept = kept.withColumn("_n", F.row_number().over(order)).where(F.col("_n") <= limit).drop("_n")
        kept.repartition("language").sortWithinPartitions("language", "query_id") \
            .write.mode("errorifexists").partitionBy("language").parquet(path)
    finally:
        examples.unpersist()
    samples: dict[str, int] = {}
    skipped: dict[str, dict[str, int]] = {}
    for r in counts:
        if r[SKIPPED_COLUMN] is None:
            samples[r["language"]] = min(int(r["count"]), limit) if limit else int(r["count"])
        else:
            skipped.setdefault(r["language"], {})[r[SKIPPED_COLUMN]] = int(r["count"])
    return samples, skipped


# ---- the distributed part ----------------------------------------------------------------------

def distributor_settings(spark, section: dict) -> tuple[int, bool, bool]:
    """``(num_processes, local_mode, use_gpu)`` from ``train.distributor``.

    ``num_processes`` null: 1 on CPU; with ``use_gpu``, the driver's GPUs in local mode, else every
    GPU the executors hold (executors x ``spark.executor.resource.gpu.amount`` /
    ``spark.task.resource.gpu.amount``).
    """
    local_mode = bool(section.get("local_mode", True))
    use_gpu = bool(section.get("use_gpu", False))
    n = section.get("num_processes")
    if n:
        return int(n), local_mode, use_gpu
    if not use_gpu:
        return 1, local_mode, use_gpu
    if local_mode:  # pragma: no cover - GPU only
        import torch

        return max(1, torch.cuda.device_count()), local_mode, use_gpu
    conf = spark.sparkContext.getConf()  # pragma: no cover - GPU cluster only
    executors = int(conf.get("spark.executor.instances", "0") or 0) or \
        max(1, spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1)
    per_executor = float(conf.get("spark.executor.resource.gpu.amount", "1"))
    per_task = float(conf.get("spark.task.resource.gpu.amount", "1"))
    return max(1, int(executors * per_executor / per_task)), local_mode, use_gpu


def code_paths() -> list[str]:
    """Where this package is imported from on the driver (a folder or the ``--py-files`` zip)."""
    return [str(Path(__file__).resolve().parents[2])]


def process_entry(paths: list[str]):
    """The function each training process runs. Defined inside this function, cloudpickle ships it
    by value: the process can unpickle it before this package is on its path, then finds the package
    (the driver's folder, or the project zip in the executor task's working folder)."""

    def entry(spec: dict) -> dict:
        import os
        import sys

        for p in list(paths) + [os.path.join(os.getcwd(), os.path.basename(p)) for p in paths]:
            if os.path.exists(p) and p not in sys.path:
                sys.path.insert(0, p)
        from udfs.retrieval.train import train_process

        return train_process(spec)

    return entry


def run_distributed(spark, spec: dict, num_processes: int, local_mode: bool, use_gpu: bool) -> dict:
    """Run :func:`train_process` in ``num_processes`` processes with TorchDistributor; rank 0's result."""
    from pyspark.ml.torch.distributor import TorchDistributor

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    distributor = TorchDistributor(num_processes=num_processes, local_mode=local_mode, use_gpu=use_gpu)
    result = distributor.run(process_entry(code_paths()), spec)
    if not isinstance(result, dict):
        raise RuntimeError(f"the training processes returned {result!r} instead of their counters")
    result["distributor"] = {"num_processes": distributor.num_processes, "local_mode": local_mode,
                             "use_gpu": use_gpu, "num_tasks": distributor.num_tasks}
    return result


def train_process(spec: dict) -> dict:
    """One training process: sentence-transformers' trainer on the parquet examples of ``spec``.

    ``spec`` keys: base_model, strategy, examples (folder), languages, model_dir, work_dir,
    batch_size (global), epochs, max_steps, learning_rate, warmup_steps, weight_decay,
    max_seq_length, mnr_scale, logging_steps, seed, fp16_on_gpu, use_gpu, no_duplicates (MNR batches
    without a repeated text, sentence-transformers' NO_DUPLICATES sampler: another row's positive is
    never an in-batch negative).
    """
    import glob
    import time

    import torch
    from datasets import Dataset, DatasetDict
    from sentence_transformers import (SentenceTransformer, SentenceTransformerModelCardData,
                                       SentenceTransformerTrainer, SentenceTransformerTrainingArguments)
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer import losses

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = bool(spec["use_gpu"]) and torch.cuda.is_available()
    strategy = spec["strategy"]
    mnr = training.loss_name(strategy) == "MultipleNegativesRankingLoss"

    card = SentenceTransformerModelCardData(
        language=list(spec["languages"]),
        model_name=f"{os.path.basename(str(spec['base_model']).rstrip('/'))} fine-tuned on WebFAQ ({strategy})")
    model = SentenceTransformer(str(spec["base_model"]), device="cpu", model_card_data=card)
    if spec.get("max_seq_length"):
        model.max_seq_length = int(spec["max_seq_length"])

    per_device = max(1, int(spec["batch_size"]) // world)
    args = SentenceTransformerTrainingArguments(
        output_dir=os.path.join(spec["work_dir"], "trainer"),
        per_device_train_batch_size=per_device,
        num_train_epochs=float(spec["epochs"]),
        max_steps=int(spec["max_steps"] or -1),
        learning_rate=float(spec["learning_rate"]),
        warmup_steps=int(spec["warmup_steps"]),
        weight_decay=float(spec["weight_decay"]),
        fp16=cuda and bool(spec["fp16_on_gpu"]),
        use_cpu=not cuda,
        logging_steps=int(spec["logging_steps"]),
        logging_first_step=True,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=int(spec["seed"]),
        data_seed=int(spec["seed"]),
        batch_sampler=BatchSamplers.NO_DUPLICATES if mnr and spec.get("no_duplicates", True)
        else BatchSamplers.BATCH_SAMPLER,
        multi_dataset_batch_sampler="proportional",
    )
    with args.main_process_first(local=False):
        data = DatasetDict()
        for language in spec["languages"]:
            files = sorted(glob.glob(os.path.join(spec["examples"], f"language={language}", "*.parquet")))
            if files:
                ds = Dataset.from_parquet(files, cache_dir=os.path.join(spec["work_dir"], "cache"))
                data[language] = ds.remove_columns([c for c in ("query_id", "language") if c in ds.column_names])
    if mnr:
        loss = losses.MultipleNegativesRankingLoss(model, scale=float(spec["mnr_scale"]),
                                                   gather_across_devices=world > 1)
    else:
        loss = losses.MarginMSELoss(model)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss)
    started = time.monotonic()
    output = trainer.train()
    seconds = time.monotonic() - started
    trainer.save_model(spec["model_dir"])
    return {
        "rank": rank, "world_size": world, "device": str(args.device),
        "backend": torch.distributed.get_backend() if torch.distributed.is_initialized() else None,
        "log_history": list(trainer.state.log_history), "global_step": int(trainer.state.global_step),
        "samples": {k: len(v) for k, v in data.items()}, "per_device_batch_size": per_device,
        "train_seconds": seconds, "train_loss": float(output.training_loss),
        "samples_per_second": float(output.metrics.get("train_samples_per_second", 0.0)),
    }
