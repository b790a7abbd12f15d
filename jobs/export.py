"""export: the main dataset in the layout people load as it is.

``--format hf`` writes the Hugging Face layout of the released WebFAQ datasets: one config per
language, its pairs in parquet shards ``DIR/data/<language>/train-00000-of-0000N.parquet`` (about
``export.rows_per_shard`` pairs each, by a hash of the pair id, sorted by id), and ``DIR/README.md``,
a dataset card whose YAML ``configs:`` name each language's files, with the field descriptions,
the pairs per language and the licence note. ``datasets.load_dataset(DIR, "deu")`` reads it; so
does the Hub after ``huggingface-cli upload``. Fields: id, origin, url, question, answer and, from
``qa_annotations`` when annotate has run, semantic_similarity_score, topic and question_type.

DIR is a folder or any fsspec URL (s3://, abfss://, gs://, dbfs:/); Spark's executors write the
shards there themselves (they need the same fsspec package and credentials as the driver). Each
language's folder is emptied before its shards are written; the card is written last.
"""
from __future__ import annotations

import argparse

from pyspark.sql import functions as F

from jobs.base import SparkJob, UsageError, language_list
from lib import conf as confmod
from lib.exports import destination
from lib.resources import Resources
from udfs import exports
from udfs.delta import is_delta_table, read_table

FORMATS = ("hf",)

EXAMPLES = """examples:
  spark-submit.sh export --format hf --output build/webfaq-hf
  spark-submit.sh export --format hf --output build/webfaq-hf --languages deu,eng --conf export.rows_per_shard=100000
  spark-submit.sh export --format hf --output s3://bucket/webfaq-hf --profile cluster       # needs s3fs
  spark-submit.sh export --format hf --output /Volumes/main/webfaq/files/hf --profile databricks --warehouse /Volumes/main/webfaq/tables

Load it:
  datasets.load_dataset("build/webfaq-hf", "deu", split="train")
  huggingface-cli upload my-org/webfaq build/webfaq-hf --repo-type dataset

Counters: languages, pairs, shards, pairs_<language>, annotated_<language> (pairs with a topic)."""


class ExportJob(SparkJob):
    name = "export"
    description = __doc__
    epilog = EXAMPLES
    resources = Resources(cpus=1)  # one Parquet shard per task, no model

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--format", choices=FORMATS, required=True,
                            help="hf: Hugging Face dataset layout (parquet shards per language + dataset card)")
        parser.add_argument("--output", required=True, metavar="DIR",
                            help="folder or fsspec URL (s3://, abfss://, gs://, dbfs:/) to write to")
        parser.add_argument("--languages", type=language_list, default=None,
                            help="comma-separated ISO-639-3 codes to export (default: every language)")

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        try:
            self.destination = destination.check(args.output, "--output")
        except destination.DestinationError as exc:
            raise UsageError(str(exc)) from exc
        if int(confmod.get(conf, "export.rows_per_shard")) < 1:
            raise UsageError("export.rows_per_shard must be at least 1")

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return ["qa_pairs", "qa_annotations"]

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        pairs = read_table(spark, self.table(conf, "qa_pairs"))
        if args.languages:
            pairs = pairs.where(F.col("language").isin(args.languages))
        annotations_path = self.table(conf, "qa_annotations")
        annotations = read_table(spark, annotations_path) if is_delta_table(spark, annotations_path) else None
        if annotations is None:
            self.log("no qa_annotations table: similarity, topic and question type are left empty")
        written = exports.export_qa_pairs(
            pairs, annotations, self.destination, int(confmod.get(conf, "export.rows_per_shard")),
            license=str(confmod.get(conf, "export.license")), pretty_name=str(confmod.get(conf, "export.names.qa_pairs")))
        if not written:
            raise UsageError("nothing to export: qa_pairs has no pair" + (f" in {','.join(args.languages)}" if args.languages else ""))
        counters = {"languages": len(written), "pairs": sum(w["rows"] for w in written.values()),
                    "shards": sum(w["shards"] for w in written.values())}
        for language, w in written.items():
            counters[f"pairs_{language}"] = w["rows"]
            counters[f"annotated_{language}"] = w["annotated"]
        self.log(f"{counters['pairs']:,} pairs in {len(written)} languages written to {args.output}")
        return counters


if __name__ == "__main__":
    ExportJob.run()
