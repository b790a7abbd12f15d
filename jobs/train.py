"""train: fine-tune a dense retriever on the benchmark's training pairs and the mined hard negatives.

Strategies (WebFAQ 2.0, Table 5; lib/retrieval/training.py):
  rn          MultipleNegativesRankingLoss, 4 random answers of the language as negatives (seeded;
              needs only the benchmark tables, no mine run)
  top4        MNR, the 4 best-scored mined candidates
  denoised    MNR, RocketQA's denoising: candidates scored > 0.9 or < 0.1 dropped, 4 of the rest sampled
  margin-mse  MarginMSELoss on the 10 best-scored candidates, the rescoring scores as soft targets
(MNR also uses the other rows of a batch as negatives.) The strategy parameters are those of the
mine export (``mine.export``: num_negatives, max_score, min_score, scores_num_negatives, seed).

1. Training queries with their positive come from the benchmark tables (split 'train'), mined
   negatives and their scores from ``hard_negatives``; Spark tasks turn them into training rows,
   written as parquet into a work folder beside ``--output``.
2. ``TorchDistributor`` (pyspark.ml.torch) runs sentence-transformers' trainer: on the embedded
   default one local CPU process; with ``--profile gpu`` one process per GPU across the executors
   (DDP), ``--batch-size`` being the global batch (udfs/retrieval/train.py). A batch holds one
   language only.
3. ``--output`` receives the model (``SentenceTransformer(DIR)`` loads it), its model card
   (``README.md``: base model, strategy, samples per language, hyperparameters, loss), the loss
   curve ``loss_curve.png`` and ``webfaq_training.json``; the runs table one row (counters: samples,
   steps, seconds; metrics: final_loss, samples_per_second). The model folder appears only when
   training succeeded; ``--output`` must be a folder the driver and, for DDP on executors, every
   executor can write (a volume, ``/Volumes/...``, on Databricks; NFS).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time

from pyspark.sql import functions as F

from jobs.base import SparkJob, UsageError, deprecated_alias, language_list
from lib import conf as confmod
from lib.resources import Resources
from lib.retrieval import negatives as neg
from lib.retrieval import training
from udfs.delta import read_table
from udfs.retrieval import train as train_udf
from udfs.retrieval.negatives import training_queries

EXAMPLES = """examples:
  spark-submit.sh train --strategy rn --output build/models/rn
  spark-submit.sh train --strategy denoised --output build/models/denoised --languages eng,deu
  spark-submit.sh train --strategy margin-mse --output /Volumes/main/webfaq/models/m-mse --profile databricks,gpu --warehouse /Volumes/main/webfaq/tables --batch-size 128
  spark-submit.sh train --strategy top4 --output build/models/trial --max-steps 20 --limit 500 \\
      --base-model /models/all-MiniLM-L6-v2

Counters: samples, samples_<lang>, skipped_<reason>_<lang> (no_candidates, too_few_negatives),
steps, processes, seconds; metrics: final_loss, first_loss, train_seconds, samples_per_second."""


class TrainJob(SparkJob):
    name = "train"
    description = __doc__
    epilog = EXAMPLES
    # One GPU per training process (TorchDistributor's barrier tasks read spark.task.resource.gpu.amount).
    resources = Resources(cpus=1, gpus=1, memory="8g")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--strategy", required=True, choices=training.STRATEGIES,
                            help="negatives and loss: rn, top4, denoised (MultipleNegativesRanking) or margin-mse")
        parser.add_argument("--output", required=True, metavar="DIR", help="folder of the trained model (must not exist "
                            "unless --overwrite)")
        parser.add_argument("--base-model", default=None, metavar="NAME_OR_PATH",
                            help="sentence-transformers model to start from (default: models.retriever_base, "
                                 "PaDaS-Lab/xlm-roberta-base-msmarco)")
        languages = parser.add_argument(
            "--languages", action="extend", type=language_list, default=None,
            help="train on these languages only (comma-separated ISO-639-3 codes, repeatable; default: every language)")
        deprecated_alias(parser, "--language", languages)
        parser.add_argument("--epochs", type=float, default=None, help="epochs (default: train.epochs = 1)")
        parser.add_argument("--batch-size", type=int, default=None,
                            help="global batch size over all processes (default: train.batch_size = 128)")
        parser.add_argument("--max-steps", type=int, default=None, metavar="N",
                            help="stop after N optimisation steps (overrides --epochs)")
        parser.add_argument("--limit", type=int, default=None, metavar="N",
                            help="train on the first N examples (by query id) of each language (a trial run)")
        parser.add_argument("--seed", type=int, default=None,
                            help="seed of the negative sampling and of training (default: train.seed = 42)")
        parser.add_argument("--overwrite", action="store_true", help="replace an existing --output folder")

    def base_model(self, args, conf) -> tuple[str, str]:
        if args.base_model:
            return args.base_model, "--base-model"
        return confmod.get(conf, "models.retriever_base", None), "models.retriever_base"

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        from udfs.models.encoders import check_local_model, looks_like_local_path

        for option in ("epochs", "batch_size", "max_steps", "limit"):
            value = getattr(args, option)
            if value is not None and value <= 0:
                raise UsageError(f"--{option.replace('_', '-')} must be positive")
        if os.path.exists(args.output) and (not os.path.isdir(args.output) or os.listdir(args.output)) \
                and not args.overwrite:
            raise UsageError(f"{args.output} exists and is not empty (--overwrite replaces it)")
        if "://" in args.output and not args.output.startswith("file://"):
            raise UsageError(f"--output {args.output}: give a POSIX path the driver and executors share "
                             "(e.g. /Volumes/... on Databricks), not a URI")
        name, key = self.base_model(args, conf)
        self.base_model_name = name
        check_local_model(name, key)
        if not looks_like_local_path(name):
            from huggingface_hub import constants, snapshot_download

            if constants.HF_HUB_OFFLINE:
                try:
                    snapshot_download(str(name), local_files_only=True)
                except Exception as exc:  # noqa: BLE001 - not in the cache
                    raise UsageError(f"{key}: model {name!r} is not a folder and not in the Hugging Face cache "
                                     "(HF_HUB_OFFLINE is set)") from exc

    def inputs(self, args: argparse.Namespace) -> list[str]:
        tables = ["benchmark_queries", "benchmark_qrels", "benchmark_corpus"] if args.strategy == "rn" \
            else ["hard_negatives"]
        return tables + [f"base_model={self.base_model_name}"]

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        get = lambda key: confmod.get(conf, f"train.{key}")  # noqa: E731
        params = neg.StrategyParams.from_conf(confmod.get(conf, "mine.export"))
        seed = args.seed if args.seed is not None else int(get("seed"))
        languages = sorted(set(args.languages or []))  # argparse already split and joined the lists
        base_model, _ = self.base_model(args, conf)

        if args.strategy == "rn":
            queries, _ = training_queries(spark, self.table(conf, "benchmark_queries"),
                                          self.table(conf, "benchmark_qrels"), self.table(conf, "benchmark_corpus"),
                                          languages)
            examples = train_udf.rn_examples(queries, seed, params)
        else:
            mined = read_table(spark, self.table(conf, "hard_negatives"))
            if languages:
                mined = mined.where(F.col("language").isin(languages))
            examples = train_udf.mined_examples(mined, args.strategy, seed, params)

        output = os.path.abspath(args.output.removeprefix("file://"))
        parent = os.path.dirname(output)
        os.makedirs(parent, exist_ok=True)
        work = tempfile.mkdtemp(prefix=f".{os.path.basename(output)}-train-", dir=parent)
        try:
            self.log(f"{args.strategy}: building training examples")
            samples, skipped = train_udf.write_examples(examples, "file://" + os.path.join(work, "examples"), args.limit)
            counters: dict[str, int] = {"samples": sum(samples.values())}
            for language, n in samples.items():
                counters[f"samples_{language}"] = n
            for language, reasons in skipped.items():
                for reason, n in reasons.items():
                    counters[f"skipped_{reason}_{language}"] = n
            if not samples:
                raise UsageError(f"no training example for {args.strategy}" +
                                 (f" in {', '.join(languages)}" if languages else "") +
                                 (": run benchmark first" if args.strategy == "rn" else
                                  ": mine found no query with enough candidates (run mine first)"))
            num_processes, local_mode, use_gpu = train_udf.distributor_settings(spark, get("distributor"))
            spec = {
                "base_model": base_model, "strategy": args.strategy, "languages": sorted(samples),
                "examples": os.path.join(work, "examples"), "model_dir": os.path.join(work, "model"),
                "work_dir": work, "batch_size": args.batch_size or int(get("batch_size")),
                "epochs": args.epochs or float(get("epochs")), "max_steps": args.max_steps or 0,
                "learning_rate": float(get("learning_rate")), "warmup_steps": int(get("warmup_steps")),
                "weight_decay": float(get("weight_decay")), "max_seq_length": get("max_seq_length"),
                "mnr_scale": float(get("mnr_scale")), "logging_steps": int(get("logging_steps")),
                "seed": seed, "fp16_on_gpu": bool(get("fp16_on_gpu")), "use_gpu": use_gpu,
                "no_duplicates": bool(get("no_duplicates")),
            }
            self.log(f"{args.strategy}: {counters['samples']:,} examples ({', '.join(f'{k} {v:,}' for k, v in sorted(samples.items()))}); "
                     f"training on {num_processes} process{'es' if num_processes > 1 else ''} "
                     f"({'local' if local_mode else 'executors'}, {'GPU' if use_gpu else 'CPU'}) with TorchDistributor")
            started = time.monotonic()
            result = train_udf.run_distributed(spark, spec, num_processes, local_mode, use_gpu)
            wall = time.monotonic() - started
            self.finish(args, spec, result, samples, skipped, output, wall)
        finally:
            shutil.rmtree(work, ignore_errors=True)

        points = training.loss_points(result["log_history"])
        summary = training.loss_summary(points)
        counters.update({"steps": int(result["global_step"]), "processes": int(result["world_size"]),
                         "seconds": int(round(wall))})
        self.metrics.update({k: v for k, v in summary.items() if k in ("first_loss", "final_loss")})
        self.metrics.update({"train_seconds": float(result["train_seconds"]),
                             "samples_per_second": float(result["samples_per_second"])})
        print(f"[train] {args.strategy}: {counters['steps']} steps on {counters['processes']} process(es) "
              f"({result['device']}), loss {summary.get('first_loss', float('nan')):.4f} -> "
              f"{summary.get('final_loss', float('nan')):.4f}; model in {output}")
        return counters

    def finish(self, args, spec: dict, result: dict, samples: dict, skipped: dict, output: str, wall: float) -> None:
        """Move the saved model to ``output`` and add the card section, loss curve and summary."""
        model_dir = spec["model_dir"]
        if int(result["global_step"]) == 0:
            raise RuntimeError(
                f"no optimisation step ran: {sum(samples.values())} examples gave no full batch of "
                f"{spec['batch_size']}" + (" without a repeated text (lower --batch-size, or set "
                                           "train.no_duplicates=false)" if spec["no_duplicates"] else ""))
        if not os.path.isfile(os.path.join(model_dir, "modules.json")):
            raise RuntimeError(f"the training processes saved no model in {model_dir}")
        points = training.loss_points(result["log_history"])
        summary = training.loss_summary(points)
        training.plot_loss_curve(points, os.path.join(model_dir, "loss_curve.png"),
                                 f"{args.strategy} from {os.path.basename(str(spec['base_model']).rstrip('/'))}")
        hyper = {k: spec[k] for k in ("batch_size", "epochs", "max_steps", "learning_rate", "warmup_steps",
                                      "weight_decay", "max_seq_length", "mnr_scale", "no_duplicates", "seed")}
        hyper["per_device_batch_size"] = result["per_device_batch_size"]
        skipped_total = {lang: sum(r.values()) for lang, r in skipped.items()}
        section = training.card_section(
            base_model=str(spec["base_model"]), strategy=args.strategy, samples=samples, skipped=skipped_total,
            hyperparameters=hyper, summary=summary, steps=int(result["global_step"]),
            seconds=float(result["train_seconds"]), processes=int(result["world_size"]), loss_plot="loss_curve.png")
        card = os.path.join(model_dir, "README.md")
        text = open(card, encoding="utf-8").read() if os.path.isfile(card) else ""
        with open(card, "w", encoding="utf-8") as fh:
            fh.write(training.insert_card_section(text, section))
        with open(os.path.join(model_dir, "webfaq_training.json"), "w", encoding="utf-8") as fh:
            json.dump({"run_id": self.run_id, "strategy": args.strategy, "base_model": str(spec["base_model"]),
                       "loss": training.loss_name(args.strategy), "samples": samples, "skipped": skipped,
                       "hyperparameters": hyper, "steps": result["global_step"], "loss_summary": summary,
                       "loss_curve": points, "train_seconds": result["train_seconds"], "wall_seconds": wall,
                       "distributor": result.get("distributor"), "world_size": result["world_size"],
                       "device": result["device"], "backend": result.get("backend")}, fh, indent=1)
        if os.path.exists(output):
            shutil.rmtree(output)
        os.replace(model_dir, output)


if __name__ == "__main__":
    TrainJob.run()
