"""mine: hard negatives for every training query: BM25 top-200 (Pyserini), rescored by BGE-m3.

1. Training queries of the benchmark tables (split 'train'), with their positive (the relevant
   answer of qrels/train). Queries already in ``hard_negatives`` are skipped: a re-run after an
   interruption fills only the missing ones.
2. One Lucene index per language, built once on the driver with the language's analyzer
   (lib/retrieval/bm25.py; a language without one gets the neutral analyzer and is counted), then searched
   by many Spark tasks (udfs/retrieval/bm25.py says how executors reach it).
3. Per query: the top ``mine.top_k`` BM25 candidates minus the positive, minus duplicates of the
   positive's text, minus repeated texts (lib/retrieval/negatives.py). A small corpus gives what it has; a
   query with no BM25 hit gets a record with no negatives (counted, skipped by the export).
4. Every (query, positive) and (query, candidate) pair is scored with BGE-m3 through FlagEmbedding
   (udfs/retrieval/rerank.py), on the task's GPU where the executors have GPUs: the reranking then
   runs in a stage of its own, with the resource profile the job declares (``MineJob.resources``).
5. One record per query merged into Delta ``hard_negatives``:
   (query, positive, pos_score, negatives, neg_scores) plus ids, BM25 scores and bookkeeping.

``--export DIR --strategy S`` then writes ``DIR/<S>/<language>.jsonl`` with records
``{query_id, query, positive, pos_score, negatives, neg_scores}`` after strategy S (all, top4,
denoised, margin, top10-scores; seeded) and reports, per language, how many candidates each
strategy removes as likely false negatives. ``--export-only`` skips mining.
"""
from __future__ import annotations

import argparse
import json
import math
import os

from pyspark import StorageLevel
from pyspark.sql import functions as F

from jobs.base import SparkJob, UsageError
from lib import conf as confmod
from lib.resources import Resources
from lib.retrieval import negatives as neg
from lib.schemas import HARD_NEGATIVES, HARD_NEGATIVES_KEY, HARD_NEGATIVES_PARTITION, columns
from udfs.retrieval import bm25 as bm25_udf
from udfs.retrieval import rerank as rerank_udf
from udfs.progress import ProgressReporter
from udfs.delta import is_delta_table, merge_new_rows, read_table
from udfs.session import gpu_step_profile

EXPORT_CHOICES = ("all",) + neg.STRATEGIES

EXAMPLES = """examples:
  spark-submit.sh mine                                   # mine every language of the benchmark tables
  spark-submit.sh mine --languages deu --limit 1000      # a trial on 1,000 German training queries
  spark-submit.sh mine --export build/negatives --strategy denoised --export-only
  spark-submit.sh mine --profile gpu                     # BM25 on CPU cores, BGE-m3 on one GPU per task

Counters: queries_to_mine, queries_already_mined, queries_without_bm25_hit, candidates, candidates
per language, positives_in_bm25_top, removed_positive_duplicates, removed_repeated_texts,
languages_without_analyzer, indexes_built; with --export: exported_<strategy>_<lang>, skipped_without_negatives_<lang>,
fn_removed_<strategy>_<lang> (candidates a strategy drops as likely false negatives)."""


def training_queries(spark, conf: dict, table, languages: list[str]):
    """language, query_id, query, positive_id, positive for the train split."""
    queries = read_table(spark, table(conf, "benchmark_queries")).where(F.col("split") == "train")
    qrels = read_table(spark, table(conf, "benchmark_qrels")).where((F.col("split") == "train") & (F.col("score") > 0))
    corpus = read_table(spark, table(conf, "benchmark_corpus"))
    if languages:
        queries, qrels = queries.where(F.col("language").isin(languages)), qrels.where(F.col("language").isin(languages))
    # One positive per query: the smallest relevant id (WebFAQ has exactly one).
    positives = qrels.groupBy("language", "query_id").agg(F.min("corpus_id").alias("positive_id"))
    return (queries.select("language", F.col("_id").alias("query_id"), F.col("text").alias("query"))
            .join(positives, ["language", "query_id"])
            .join(corpus.select("language", F.col("_id").alias("positive_id"), F.col("text").alias("positive")),
                  ["language", "positive_id"])
            .select("language", "query_id", "query", "positive_id", "positive")), corpus


class MineJob(SparkJob):
    name = "mine"
    description = __doc__
    epilog = EXAMPLES
    # The BGE-m3 reranking takes one GPU per task (BM25 tasks one CPU core): 568M parameters, 2.3 GB
    # in fp32 while loading, the CUDA context and the Lucene JVM in the Python worker fit in 6 GB.
    resources = Resources(cpus=1, gpus=1, memory="6g", every_task=False)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--languages", default=None, help="comma-separated ISO-639-3 codes (default: all)")
        parser.add_argument("--limit", type=int, default=None, metavar="N",
                            help="mine at most N missing queries (a trial run)")
        parser.add_argument("--rebuild-index", action="store_true", help="rebuild the BM25 indexes")
        parser.add_argument("--export", default=None, metavar="DIR", help="write JSONL to DIR/<strategy>/<language>.jsonl")
        parser.add_argument("--strategy", choices=EXPORT_CHOICES, action="append", default=None,
                            help="negatives in the export (repeatable; default: all)")
        parser.add_argument("--seed", type=int, default=None, help="export seed (default: mine.export.seed)")
        parser.add_argument("--export-only", action="store_true", help="skip mining, only export")

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        if args.export_only and not args.export:
            raise UsageError("--export-only needs --export DIR")
        if args.limit is not None and args.limit < 1:
            raise UsageError("--limit must be at least 1")
        if int(confmod.get(conf, "mine.top_k")) < 1:
            raise UsageError("mine.top_k must be at least 1")
        try:
            rerank_udf.RerankSettings.from_conf(confmod.get(conf, "models.bge_m3"), confmod.get(conf, "mine.rerank"))
        except ValueError as exc:
            raise UsageError(str(exc)) from exc

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return ["benchmark_queries", "benchmark_qrels", "benchmark_corpus"]

    def languages(self, args, conf) -> list[str]:
        if args.languages:
            return [x.strip() for x in args.languages.split(",") if x.strip()]
        return list(confmod.get(conf, "mine.languages", []) or [])

    # -- mining ----------------------------------------------------------------------------
    def mine(self, spark, args, conf) -> dict:
        get = lambda key: confmod.get(conf, f"mine.{key}")  # noqa: E731
        wanted = self.languages(args, conf)
        queries, corpus = training_queries(spark, conf, self.table, wanted)
        out_path = self.table(conf, "hard_negatives")
        total = queries.count()
        if is_delta_table(spark, out_path):
            done = read_table(spark, out_path).select("language", "query_id")
            queries = queries.join(done, ["language", "query_id"], "left_anti")
        queries = queries.persist(StorageLevel.MEMORY_AND_DISK)
        missing = queries.count()
        if args.limit and args.limit < missing:
            limited = queries.orderBy("language", "query_id").limit(args.limit).persist(StorageLevel.MEMORY_AND_DISK)
            queries.unpersist()
            queries = limited
        todo = min(missing, args.limit or missing)
        counters = {"training_queries": total, "queries_to_mine": todo, "queries_already_mined": total - missing}
        if todo == 0:
            queries.unpersist()
            print("[mine] nothing to mine: every training query has its record")
            return counters
        languages = sorted(r["language"] for r in queries.select("language").distinct().collect())

        index_root = os.path.abspath(str(get("index_dir"))) if "://" not in str(get("index_dir")) else str(get("index_dir"))
        ship = bool(get("ship_index"))
        indexes = bm25_udf.build_language_indexes(spark, corpus, languages, index_root,
                                                  rebuild=args.rebuild_index, ship=ship)
        counters["indexes_built"] = sum(1 for i in indexes.values() if i["built"])
        counters["languages_without_analyzer"] = sum(1 for i in indexes.values() if i["analyzer"] == "neutral")
        for lang, info in indexes.items():
            print(f"[mine] {lang}: index {info['path']} ({info['documents']} documents, analyzer {info['analyzer']}"
                  f"{', built' if info['built'] else ', reused'})")

        top_k, per_task = int(get("top_k")), int(get("queries_per_task"))
        tasks = max(1, math.ceil(todo / max(1, per_task)))
        mined = (queries.repartitionByRange(tasks, "language", "query_id")
                 .mapInPandas(bm25_udf.mine_partitions({l: i["path"] for l, i in indexes.items()}, top_k,
                                                       int(get("search_slack")), float(get("k1")), float(get("b")),
                                                       int(get("search_threads")), int(get("search_batch")), ship),
                              bm25_udf.MINED_CANDIDATES))
        settings = rerank_udf.RerankSettings.from_conf(confmod.get(conf, "models.bge_m3"), get("rerank"))
        rerank_fn = rerank_udf.rescore_partitions(settings, int(get("rerank.queries_per_batch")), self.run_id,
                                                  columns(HARD_NEGATIVES))
        rerank_tasks = int(get("rerank.tasks")) or tasks
        profile = gpu_step_profile(spark, self.resources)
        if profile is not None:
            scored = mined.repartition(rerank_tasks).mapInPandas(rerank_fn, HARD_NEGATIVES, profile=profile)
        elif rerank_tasks != tasks:
            scored = mined.repartition(rerank_tasks).mapInPandas(rerank_fn, HARD_NEGATIVES)
        else:
            scored = mined.mapInPandas(rerank_fn, HARD_NEGATIVES)
        scored = scored.persist(StorageLevel.MEMORY_AND_DISK)
        with ProgressReporter(spark, "mine", 10.0):
            scored.count()
        stats = scored.groupBy("language").agg(
            F.count("*").alias("queries"),
            F.sum(F.when(F.col("bm25_hits") == 0, 1).otherwise(0)).alias("no_hit"),
            F.sum(F.size("negatives")).alias("candidates"),
            F.sum(F.when(F.col("positive_bm25_rank") > 0, 1).otherwise(0)).alias("pos_found"),
            F.sum("removed_positive_duplicates").alias("dup"),
            F.sum("removed_repeated_texts").alias("rep"),
            F.sum(F.when(F.size("negatives") < top_k, 1).otherwise(0)).alias("short")).collect()
        for key, col in (("queries_without_bm25_hit", "no_hit"), ("candidates", "candidates"),
                         ("positives_in_bm25_top", "pos_found"), ("removed_positive_duplicates", "dup"),
                         ("removed_repeated_texts", "rep"), ("queries_with_fewer_candidates", "short")):
            counters[key] = sum(int(r[col] or 0) for r in stats)
        for r in stats:
            counters[f"mined_{r['language']}"] = int(r["queries"])
        result = merge_new_rows(spark, scored, out_path, HARD_NEGATIVES_KEY, partition_by=HARD_NEGATIVES_PARTITION)
        counters["records_inserted"] = result["inserted"]
        scored.unpersist()
        queries.unpersist()
        return counters

    # -- export ----------------------------------------------------------------------------
    def export(self, spark, args, conf) -> dict:
        params = neg.StrategyParams.from_conf(confmod.get(conf, "mine.export"))
        seed = args.seed if args.seed is not None else int(confmod.get(conf, "mine.export.seed"))
        strategies = args.strategy or ["all"]
        table = read_table(spark, self.table(conf, "hard_negatives"))
        wanted = self.languages(args, conf)
        if wanted:
            table = table.where(F.col("language").isin(wanted))
        counters: dict[str, int] = {}
        # Per language, how many candidates each strategy drops as likely false negatives.
        fn_schema = "language string, " + ", ".join(f"`{s}` bigint" for s in neg.STRATEGIES) + ", candidates bigint"

        def removals(batches):
            import pandas as pd

            for pdf in batches:
                rows = []
                for r in pdf.itertuples(index=False):
                    c = neg.false_negative_removals(float(r.pos_score), list(r.neg_scores), params)
                    rows.append({"language": r.language, **c, "candidates": len(r.neg_scores)})
                yield pd.DataFrame(rows, columns=["language", *neg.STRATEGIES, "candidates"])

        fn = (table.select("language", "pos_score", "neg_scores").mapInPandas(removals, fn_schema)
              .groupBy("language").agg(*[F.sum(F.col(f"`{s}`")).alias(s) for s in neg.STRATEGIES],
                                       F.sum("candidates").alias("candidates")).orderBy("language").collect())
        print("[mine] candidates removed as likely false negatives, per language "
              f"(denoised > {params.denoise_high}, margin > {params.margin_fraction} x positive score)")
        print(f"  {'language':<9}{'candidates':>11}" + "".join(f"{s:>14}" for s in neg.STRATEGIES))
        for r in fn:
            print(f"  {r['language']:<9}{int(r['candidates']):>11}" + "".join(f"{int(r[s]):>14}" for s in neg.STRATEGIES))
            for s in neg.STRATEGIES:
                counters[f"fn_removed_{s}_{r['language']}"] = int(r[s])
            counters[f"fn_candidates_{r['language']}"] = int(r["candidates"])

        languages = [r["language"] for r in fn]
        for strategy in strategies:
            folder = os.path.join(args.export, strategy)
            os.makedirs(folder, exist_ok=True)
            for language in languages:
                rows = (table.where(F.col("language") == language).orderBy("query_id")
                        .select("query_id", "query", "positive", "pos_score", "negatives", "neg_scores").toLocalIterator())
                n = skipped = 0
                with open(os.path.join(folder, f"{language}.jsonl"), "w", encoding="utf-8") as fh:
                    for row in rows:
                        rec = row.asDict()
                        if not rec["negatives"]:
                            skipped += 1
                            continue
                        if strategy == "all":
                            out = {k: rec[k] for k in ("query_id", "query", "positive", "pos_score", "negatives", "neg_scores")}
                        else:
                            out = neg.export_record(strategy, rec, seed, params)
                        fh.write(json.dumps(out, ensure_ascii=False) + "\n")
                        n += 1
                counters[f"exported_{strategy}_{language}"] = n
                counters[f"skipped_without_negatives_{language}"] = skipped
            print(f"[mine] {strategy}: {folder}/<language>.jsonl")
        return counters

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        counters = {} if args.export_only else self.mine(spark, args, conf)
        if args.export:
            counters.update(self.export(spark, args, conf))
        return counters


if __name__ == "__main__":
    MineJob.run()
