"""Stage 4a: QA similarity, topic and question-type annotations on GPU-pinned executors.

    ./spark-submit.sh annotate [--profile cluster,gpu] [--languages deu,eng] [--limit N]

Reads ``qa_pairs``, writes ``qa_annotations``: one row per QA pair (key ``id``, partitioned by
language) with ``semantic_similarity_score``, ``topic``, ``question_type``, the label status and which
inputs were truncated. A table of its own rather than three new ``qa_pairs`` columns: extract stays
the only writer of ``qa_pairs`` (no concurrent schema evolution or rewrites of its files), the pairs
still missing are one anti-join away, and readers join on ``id`` when they need both. Only pairs without an annotation row are processed, in Delta commits of
``annotate.rows_per_commit`` pairs: a run that stops half-way keeps its finished commits and a
re-run fills only the rows still missing. Models: ``models.jina``, ``models.topic``,
``models.question_type`` (any sentence-transformers / Hugging Face name or folder).
"""
from __future__ import annotations

import argparse
import math

from jobs.base import SparkJob, UsageError, deprecated_alias, language_list
from lib.conf import get
from lib.resources import Resources

EXAMPLES = """examples:
  spark-submit.sh annotate --profile cluster,gpu --warehouse s3a://bucket/webfaq   # every pair not annotated yet
  spark-submit.sh annotate --languages deu,eng --limit 1000                       # a trial on 1,000 pairs
  spark-submit.sh annotate --conf annotate.tasks=[similarity]                     # the QA similarity only
  spark-submit.sh annotate --conf models.jina=/models/jina-embeddings-v3          # a model folder, no download
  spark-submit.sh annotate --conf annotate.label_languages=[deu,eng,fra]          # labels for these languages

A run annotates the pairs of qa_pairs without a row in qa_annotations, in commits of
annotate.rows_per_commit pairs: stop it any time, its re-run does the rest.

Counters: pairs_already_annotated, pairs_to_annotate, label_languages, commits, annotated_pairs,
similarity_scored, topic_labelled, question_type_labelled, status_<label status>,
truncated_<input> (texts cut at the model's token limit)."""

TASK_MODEL_KEYS = {"similarity": "models.jina", "topic": "models.topic", "question_type": "models.question_type"}


class AnnotateJob(SparkJob):
    name = "annotate"
    description = __doc__
    epilog = EXAMPLES
    # One GPU per task for the three models; their fp32 weights while loading (Jina-v3 570M, two
    # XLM-R base 280M parameters) and the CUDA context fit in 8 GB beside the JVM.
    resources = Resources(cpus=1, gpus=1, memory="8g")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--languages", type=language_list, default=None,
                            help="annotate only these languages of qa_pairs (comma-separated ISO-639-3)")
        limit = parser.add_argument("--limit", type=int, default=None, metavar="N",
                                    help="annotate at most N missing pairs (a trial run; re-run for the rest)")
        deprecated_alias(parser, "--max-pairs", limit)

    def settings(self, conf: dict, label_languages):
        from udfs.models.annotate import TASKS, AnnotateSettings

        tasks = tuple(get(conf, "annotate.tasks"))
        unknown = [t for t in tasks if t not in TASKS]
        if unknown or not tasks:
            raise UsageError(f"annotate.tasks: unknown or empty {unknown or tasks}; choose from {', '.join(TASKS)}")
        return AnnotateSettings(
            similarity_model=str(get(conf, "models.jina")), topic_model=str(get(conf, "models.topic")),
            question_type_model=str(get(conf, "models.question_type")), tasks=tasks,
            label_languages=None if label_languages is None else tuple(label_languages),
            batch_size=int(get(conf, "annotate.batch_size")),
            truncate_dim=get(conf, "annotate.truncate_dim"), max_seq_length=get(conf, "annotate.max_seq_length"),
            classifier_max_length=int(get(conf, "annotate.classifier_max_length")),
            trust_remote_code=bool(get(conf, "annotate.trust_remote_code")),
            fp16_on_gpu=bool(get(conf, "annotate.fp16_on_gpu")),
            topic_labels=tuple(get(conf, "annotate.topic_labels")),
            question_type_labels=tuple(get(conf, "annotate.question_type_labels")),
            run_id=self.run_id)

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        from udfs.models.encoders import check_local_model

        settings = self.settings(conf, None)
        for task in settings.tasks:
            check_local_model(get(conf, TASK_MODEL_KEYS[task]), TASK_MODEL_KEYS[task])
        if args.limit is not None and args.limit < 1:
            raise UsageError("--limit must be at least 1")
        for key in ("rows_per_commit", "rows_per_task"):
            if int(get(conf, f"annotate.{key}")) < 1:
                raise UsageError(f"annotate.{key} must be at least 1")

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return ["qa_pairs"]

    def label_languages(self, qa, conf: dict) -> list[str]:
        from pyspark.sql import functions as F

        from lib.models.annotate import languages_with_min_origins

        listed = list(get(conf, "annotate.label_languages") or [])
        if listed:
            return sorted(str(x) for x in listed)
        rows = qa.groupBy("language").agg(F.countDistinct("origin").alias("n")).collect()
        return languages_with_min_origins({r["language"]: int(r["n"]) for r in rows},
                                          int(get(conf, "annotate.min_origins")))

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        from pyspark.sql import functions as F

        from lib.schemas import QA_ANNOTATIONS, QA_ANNOTATIONS_KEY, QA_ANNOTATIONS_PARTITION
        from udfs.models.annotate import annotate_partitions
        from udfs.models.encoders import even_partitions
        from udfs.progress import ProgressReporter
        from udfs.delta import is_delta_table, merge_new_rows, read_table

        qa = read_table(spark, self.table(conf, "qa_pairs"),
                        ("id", "origin", "language", "question", "answer", "title", "description"))
        label_languages = self.label_languages(qa, conf)
        settings = self.settings(conf, label_languages)
        self.log(f"labels for {len(label_languages)} languages: {', '.join(label_languages) or '-'}")

        out_path = self.table(conf, "qa_annotations")
        todo = qa
        if args.languages:
            todo = todo.where(F.col("language").isin(args.languages))
        already = 0
        if is_delta_table(spark, out_path):
            done = spark.read.format("delta").load(out_path).select("id")
            already = done.count()
            todo = todo.join(done, "id", "left_anti")
        todo = todo.drop("origin")
        if args.limit:
            todo = todo.orderBy("id").limit(args.limit)
        per_language = {r["language"]: r["count"] for r in todo.groupBy("language").count().collect()}
        missing = sum(per_language.values())
        counters = {"pairs_already_annotated": already, "pairs_to_annotate": missing,
                    "label_languages": len(label_languages), "commits": 0}
        if missing == 0:
            return counters

        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(int(get(conf, "annotate.arrow_batch_rows"))))
        chunks = max(1, math.ceil(missing / int(get(conf, "annotate.rows_per_commit"))))
        udf = annotate_partitions(settings)
        rows_per_task = int(get(conf, "annotate.rows_per_task"))
        with ProgressReporter(spark, "annotate"):
            for k in range(chunks):
                part = todo if chunks == 1 else todo.where(F.pmod(F.xxhash64("id"), F.lit(chunks)) == k)
                # evenly sized encoding tasks, not one per stored file (a large language is one file)
                part = even_partitions(part, math.ceil(missing / chunks), rows_per_task)
                annotated = part.mapInPandas(udf, schema=QA_ANNOTATIONS)
                try:
                    merge_new_rows(spark, annotated, out_path, QA_ANNOTATIONS_KEY, QA_ANNOTATIONS_PARTITION,
                                   partitions={"language": per_language})
                except Exception as exc:  # noqa: BLE001 - a model that cannot load is a usage error
                    message = str(exc)
                    if "ModelLoadError" in message:
                        line = next((ln for ln in message.splitlines() if "ModelLoadError" in ln), message)
                        raise UsageError(line.split("ModelLoadError:", 1)[-1].strip()) from exc
                    raise
                counters["commits"] += 1
        counters.update(self.run_counters(spark, out_path))
        return counters

    def run_counters(self, spark, path: str) -> dict[str, int]:
        """Counters of this run's rows, read back from the table (exact under task retries)."""
        from pyspark.sql import functions as F

        rows = spark.read.format("delta").load(path).where(F.col("run_id") == self.run_id)
        agg = rows.agg(
            F.count("*").alias("annotated_pairs"),
            F.count("semantic_similarity_score").alias("similarity_scored"),
            F.count("topic").alias("topic_labelled"),
            F.count("question_type").alias("question_type_labelled"),
        ).first().asDict()
        for r in rows.groupBy("label_status").count().collect():
            agg[f"status_{r['label_status']}"] = r["count"]
        for r in rows.select(F.explode("truncated").alias("what")).groupBy("what").count().collect():
            agg[f"truncated_{r['what']}"] = r["count"]
        return {k: int(v) for k, v in agg.items()}


if __name__ == "__main__":
    AnnotateJob.run()
