"""benchmark: ``qa_pairs`` -> per-language retrieval collections in BEIR/MTEB layout.

Per language: a corpus of every answer (``_id`` = 'd' + QA id, ``title`` empty, ``text``), the
questions as queries (``_id`` = 'q' + QA id) split into train and test, and qrels linking each
question to its own answer (score 1). The test split takes one QA pair per origin, up to
``benchmark.max_test_queries`` origins per language, chosen by seeded SHA-256 keys (lib/retrieval/beir.py):
the same seed gives the same split on any cluster. Every pair of a test origin is kept out of
train ('held_out' pairs are in neither split; their answers stay in the corpus).

Writes the Delta tables benchmark_corpus, benchmark_queries, benchmark_qrels (partitioned by
language; the languages built in this run are replaced, others kept) and, with ``--export DIR``
(a folder or any fsspec URL: s3://, abfss://, gs://, dbfs:/), for every language of the tables (not
only those built in this run) ``DIR/<language>/{corpus.jsonl, queries.jsonl, qrels/test.tsv,
qrels/test.jsonl}`` (and the train qrels when the language has training queries), plus
``DIR/README.md``, a dataset card whose configs ``<language>-corpus``, ``<language>-queries`` and
``<language>-qrels`` let ``datasets.load_dataset`` and MTEB read the folder as it is, while BEIR's
GenericDataLoader reads ``DIR/<language>``.
"""
from __future__ import annotations

import argparse

from pyspark.sql import Window
from pyspark.sql import functions as F

from jobs.base import SparkJob, UsageError, language_list
from lib.retrieval import beir
from lib import conf as confmod
from lib.exports import destination
from lib.resources import Resources
from lib.schemas import BENCHMARK_PARTITION
from udfs import exports
from udfs.delta import read_table

EXAMPLES = """examples:
  spark-submit.sh benchmark --export build/webfaq-beir
  spark-submit.sh benchmark --languages deu,eng --conf benchmark.max_test_queries=2000 --seed 7
  spark-submit.sh benchmark --profile databricks --warehouse /Volumes/main/webfaq/tables --export /Volumes/main/webfaq/files/retrieval
  spark-submit.sh benchmark --profile cluster --export s3://bucket/webfaq/retrieval     # needs s3fs

Load the export:
  datasets.load_dataset("build/webfaq-beir", "deu-qrels", split="test")
  beir.datasets.data_loader.GenericDataLoader("build/webfaq-beir/deu").load(split="test")

Counters: corpus_<lang>, train_<lang>, test_<lang>, held_out_<lang>, origins_<lang>, languages; with
--export: exported_corpus_<lang>, exported_queries_<lang>, exported_qrels_<split>_<lang>."""


def split_keys(pairs, seed: int):
    """Spark version of lib.retrieval.beir.split_pairs: adds a ``split`` column (train / test / held_out)."""
    key = lambda col: F.sha2(F.concat(F.lit(f"{seed}:"), F.col(col)), 256)  # noqa: E731
    pairs = pairs.withColumn("_pair_key", key("id")).withColumn("_origin_key", key("origin"))
    return pairs, key


def assign_splits(pairs, seed: int, max_test: int):
    pairs, _ = split_keys(pairs, seed)
    origins = (pairs.groupBy("language", "origin")
               .agg(F.min("_origin_key").alias("_origin_key"), F.min("_pair_key").alias("_chosen_key")))
    rank = Window.partitionBy("language").orderBy("_origin_key")
    test_origins = (origins.withColumn("_rank", F.row_number().over(rank))
                    .where(F.col("_rank") <= max_test).select("language", "origin", "_chosen_key"))
    out = (pairs.join(test_origins, ["language", "origin"], "left")
           .withColumn("split", F.when(F.col("_chosen_key").isNull(), F.lit("train"))
                       .when(F.col("_pair_key") == F.col("_chosen_key"), F.lit("test"))
                       .otherwise(F.lit("held_out"))))
    return out.drop("_pair_key", "_origin_key", "_chosen_key")


def write_language_partitions(df, path: str) -> None:
    (df.write.format("delta").mode("overwrite").option("partitionOverwriteMode", "dynamic")
       .partitionBy(*BENCHMARK_PARTITION).save(path))


class BenchmarkJob(SparkJob):
    name = "benchmark"
    description = __doc__
    epilog = EXAMPLES
    resources = Resources(cpus=1)  # DataFrame work only

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--languages", type=language_list, default=None,
                            help="comma-separated ISO-639-3 codes (default: benchmark.languages, else all)")
        parser.add_argument("--seed", type=int, default=None, help="split seed (default: benchmark.seed)")
        parser.add_argument("--export", default=None, metavar="DIR",
                            help="also write every language of the benchmark tables to DIR (a folder or an "
                                 "fsspec URL such as s3://..., abfss://..., gs://..., dbfs:/...): BEIR folders "
                                 "DIR/<language>/ and a dataset card for datasets.load_dataset and MTEB")

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        if int(confmod.get(conf, "benchmark.max_test_queries")) < 1:
            raise UsageError("benchmark.max_test_queries must be at least 1")
        self.destination = None
        if args.export:
            try:
                self.destination = destination.check(args.export, "--export")
            except destination.DestinationError as exc:
                raise UsageError(str(exc)) from exc

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return ["qa_pairs"]

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        seed = args.seed if args.seed is not None else int(confmod.get(conf, "benchmark.seed"))
        max_test = int(confmod.get(conf, "benchmark.max_test_queries"))
        wanted = args.languages or list(confmod.get(conf, "benchmark.languages", []) or [])
        min_pairs = int(confmod.get(conf, "benchmark.min_pairs", 1))

        pairs = read_table(spark, self.table(conf, "qa_pairs"), ("id", "origin", "language", "question", "answer"))
        if wanted:
            pairs = pairs.where(F.col("language").isin(wanted))
        sizes = {r["language"]: int(r["n"]) for r in pairs.groupBy("language").agg(F.count("*").alias("n")).collect()}
        languages = sorted(lang for lang, n in sizes.items() if n >= min_pairs)
        if not languages:
            raise UsageError(f"no language of qa_pairs has {min_pairs}+ pairs"
                             + (f" among {', '.join(wanted)}" if wanted else ""))
        pairs = pairs.where(F.col("language").isin(languages))

        split = assign_splits(pairs, seed, max_test).cache()
        corpus = split.select("language", F.concat(F.lit(beir.DOC_PREFIX), "id").alias("_id"),
                              F.lit("").alias("title"), F.col("answer").alias("text"))
        queries = split.select("language", F.concat(F.lit(beir.QUERY_PREFIX), "id").alias("_id"),
                               F.col("question").alias("text"), "split", "origin")
        qrels = (split.where(F.col("split").isin(*beir.SPLITS))
                 .select("language", "split", F.concat(F.lit(beir.QUERY_PREFIX), "id").alias("query_id"),
                         F.concat(F.lit(beir.DOC_PREFIX), "id").alias("corpus_id"), F.lit(1.0).cast("float").alias("score")))

        write_language_partitions(corpus, self.table(conf, "benchmark_corpus"))
        write_language_partitions(queries, self.table(conf, "benchmark_queries"))
        write_language_partitions(qrels, self.table(conf, "benchmark_qrels"))

        counters: dict[str, int] = {"languages": len(languages), "seed": seed}
        for r in split.groupBy("language", "split").agg(F.count("*").alias("n")).collect():
            counters[f"{r['split']}_{r['language']}"] = int(r["n"])
        for r in split.groupBy("language").agg(F.count("*").alias("n"),
                                                F.countDistinct("origin").alias("o")).collect():
            counters[f"corpus_{r['language']}"] = int(r["n"])
            counters[f"origins_{r['language']}"] = int(r["o"])
        if args.export:
            tables = [read_table(spark, self.table(conf, t)) for t in
                      ("benchmark_corpus", "benchmark_queries", "benchmark_qrels")]
            exported = sorted(r["language"] for r in tables[0].select("language").distinct().collect())
            counters.update(exports.export_benchmark(
                *tables, exported, self.destination, license=str(confmod.get(conf, "export.license")),
                pretty_name=str(confmod.get(conf, "export.names.benchmark"))))
            self.log(f"BEIR collections and dataset card written to {args.export}")
        split.unpersist()
        return counters


if __name__ == "__main__":
    BenchmarkJob.run()
