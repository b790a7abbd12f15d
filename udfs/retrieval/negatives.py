"""The Spark side of hard-negative mining (lib/retrieval/negatives.py): the training queries to mine,
BM25 candidates and their BGE-m3 scores, the counters of a mining run, and the report of likely
false negatives per strategy (the exports are udfs/exports.py's).
"""
from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.retrieval import negatives as neg
from lib.schemas import HARD_NEGATIVES, columns
from udfs.delta import is_delta_table, read_table
from udfs.retrieval import bm25 as bm25_udf
from udfs.retrieval import rerank as rerank_udf


def training_queries(spark: SparkSession, queries_path: str, qrels_path: str, corpus_path: str,
                     languages: list[str]) -> tuple[DataFrame, DataFrame]:
    """``(queries, corpus)``: language, query_id, query, positive_id, positive for the train split
    of the benchmark tables (all languages when ``languages`` is empty), and the corpus."""
    queries = read_table(spark, queries_path).where(F.col("split") == "train")
    qrels = read_table(spark, qrels_path).where((F.col("split") == "train") & (F.col("score") > 0))
    corpus = read_table(spark, corpus_path)
    if languages:
        queries, qrels = queries.where(F.col("language").isin(languages)), qrels.where(F.col("language").isin(languages))
    # One positive per query: the smallest relevant id (WebFAQ has exactly one).
    positives = qrels.groupBy("language", "query_id").agg(F.min("corpus_id").alias("positive_id"))
    return (queries.select("language", F.col("_id").alias("query_id"), F.col("text").alias("query"))
            .join(positives, ["language", "query_id"])
            .join(corpus.select("language", F.col("_id").alias("positive_id"), F.col("text").alias("positive")),
                  ["language", "positive_id"])
            .select("language", "query_id", "query", "positive_id", "positive")), corpus


def queries_to_mine(spark: SparkSession, queries: DataFrame, out_path: str, limit: int | None):
    """The training queries without a record in ``hard_negatives`` (at ``out_path``), the first
    ``limit`` of them when given, persisted (the caller unpersists them); and the counters
    ``training_queries``, ``queries_to_mine`` and ``queries_already_mined``."""
    total = queries.count()
    if is_delta_table(spark, out_path):
        done = read_table(spark, out_path).select("language", "query_id")
        queries = queries.join(done, ["language", "query_id"], "left_anti")
    queries = queries.persist(StorageLevel.MEMORY_AND_DISK)
    missing = queries.count()
    if limit and limit < missing:
        limited = queries.orderBy("language", "query_id").limit(limit).persist(StorageLevel.MEMORY_AND_DISK)
        queries.unpersist()
        queries = limited
    todo = min(missing, limit or missing)
    return queries, {"training_queries": total, "queries_to_mine": todo, "queries_already_mined": total - missing}


def languages_of(queries: DataFrame) -> list[str]:
    return sorted(r["language"] for r in queries.select("language").distinct().collect())


def bm25_candidates(queries: DataFrame, index_dirs: dict[str, str], tasks: int, top_k: int, slack: int,
                    k1: float, b: float, threads: int, batch: int, shipped: bool) -> DataFrame:
    """Each query's cleaned BM25 candidates (``udfs.retrieval.bm25.mine_partitions``), in ``tasks``
    tasks ranged by language and query id."""
    return (queries.repartitionByRange(tasks, "language", "query_id")
            .mapInPandas(bm25_udf.mine_partitions(index_dirs, top_k, slack, k1, b, threads, batch, shipped),
                         bm25_udf.MINED_CANDIDATES))


def rescore(mined: DataFrame, settings: rerank_udf.RerankSettings, queries_per_batch: int, run_id: str,
            tasks: int, rerank_tasks: int, profile=None) -> DataFrame:
    """``hard_negatives`` rows: the candidates scored by BGE-m3, in ``rerank_tasks`` tasks (a stage
    of their own under the resource ``profile`` when one is given)."""
    rerank_fn = rerank_udf.rescore_partitions(settings, queries_per_batch, run_id, columns(HARD_NEGATIVES))
    if profile is not None:
        return mined.repartition(rerank_tasks).mapInPandas(rerank_fn, HARD_NEGATIVES, profile=profile)
    if rerank_tasks != tasks:
        return mined.repartition(rerank_tasks).mapInPandas(rerank_fn, HARD_NEGATIVES)
    return mined.mapInPandas(rerank_fn, HARD_NEGATIVES)


def mined_counters(scored: DataFrame, top_k: int) -> dict[str, int]:
    """The counters of a mining run, from its ``hard_negatives`` rows."""
    stats = scored.groupBy("language").agg(
        F.count("*").alias("queries"),
        F.sum(F.when(F.col("bm25_hits") == 0, 1).otherwise(0)).alias("queries_without_bm25_hit"),
        F.sum(F.size("negatives")).alias("candidates"),
        F.sum(F.when(F.col("positive_bm25_rank") > 0, 1).otherwise(0)).alias("positives_in_bm25_top"),
        F.sum("removed_positive_duplicates").alias("removed_positive_duplicates"),
        F.sum("removed_repeated_texts").alias("removed_repeated_texts"),
        F.sum(F.when(F.size("negatives") < top_k, 1).otherwise(0)).alias("queries_with_fewer_candidates")).collect()
    counters = {key: sum(int(r[key] or 0) for r in stats)
                for key in ("queries_without_bm25_hit", "candidates", "positives_in_bm25_top",
                            "removed_positive_duplicates", "removed_repeated_texts", "queries_with_fewer_candidates")}
    for r in stats:
        counters[f"mined_{r['language']}"] = int(r["queries"])
    return counters


def hard_negatives(spark: SparkSession, path: str, languages: list[str]) -> DataFrame:
    """The ``hard_negatives`` table, of ``languages`` only when given."""
    table = read_table(spark, path)
    return table.where(F.col("language").isin(languages)) if languages else table


def false_negative_removals(table: DataFrame, params: neg.StrategyParams) -> list[dict]:
    """Per language (in order): how many candidates each strategy drops as likely false
    negatives (``lib.retrieval.negatives.false_negative_removals``), and the candidates."""
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
    return [{k: (v if k == "language" else int(v)) for k, v in r.asDict().items()} for r in fn]
