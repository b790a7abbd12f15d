"""The report's aggregations, in Spark: every table is reduced to small counts before the driver
sees it (one row per language, label, language pair, strategy or pair count).
"""
from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lib.exports import trainers
from lib.report.tables import EvaluationRun
from lib.retrieval import negatives as neg


def language_stats(pairs: DataFrame) -> pd.DataFrame:
    """``language, pairs, origins, mean_question_chars, mean_answer_chars`` (characters: code points)."""
    return (pairs.groupBy("language")
            .agg(F.count("*").alias("pairs"), F.countDistinct("origin").alias("origins"),
                 F.avg(F.length("question")).alias("mean_question_chars"),
                 F.avg(F.length("answer")).alias("mean_answer_chars"))
            .toPandas())


def origin_size_counts(pairs: DataFrame) -> pd.DataFrame:
    """``pairs_per_origin, origins``: how many origins have exactly that many pairs (all languages)."""
    return (pairs.groupBy("origin").agg(F.count("*").alias("pairs_per_origin"))
            .groupBy("pairs_per_origin").agg(F.count("*").alias("origins")).orderBy("pairs_per_origin")
            .toPandas())


def label_counts(annotations: DataFrame, label: str) -> pd.DataFrame:
    """``language, <label>, pairs`` over the pairs that have the label."""
    return (annotations.where(F.col(label).isNotNull()).groupBy("language", label)
            .agg(F.count("*").alias("pairs")).toPandas())


def bitext_counts(bitexts: DataFrame) -> pd.DataFrame:
    """``language1, language2, bitexts, origins``."""
    return (bitexts.groupBy("language1", "language2")
            .agg(F.count("*").alias("bitexts"), F.countDistinct("origin").alias("origins")).toPandas())


def hard_negative_counts(table: DataFrame, seed: int, params: neg.StrategyParams) -> pd.DataFrame:
    """``language, strategy, queries, queries_with_negatives, negatives``: what each export strategy
    (and ``all``) keeps of the stored candidates (lib/exports/trainers.py chooses, as the export does)."""
    strategies = list(trainers.STRATEGIES)

    def kept(batches):
        for pdf in batches:
            rows = []
            for rec in pdf.to_dict("records"):
                rec["neg_scores"] = list(rec["neg_scores"])
                for strategy in strategies:
                    n = len(trainers.selected(strategy, rec, seed, params))
                    rows.append((rec["language"], strategy, n))
            yield pd.DataFrame(rows, columns=["language", "strategy", "kept"])

    return (table.select("language", "query_id", "pos_score", "neg_scores")
            .mapInPandas(kept, "language string, strategy string, kept int")
            .groupBy("language", "strategy")
            .agg(F.count("*").alias("queries"), F.sum(F.when(F.col("kept") > 0, 1).otherwise(0)).alias("queries_with_negatives"),
                 F.sum("kept").alias("negatives"))
            .toPandas())


def evaluation_runs(runs: DataFrame) -> list[EvaluationRun]:
    """The ``evaluate`` and ``compare`` rows of the runs table (a few per language); ``metrics``
    is empty for a table written before that column existed."""
    metrics = F.col("metrics") if "metrics" in runs.columns else F.lit(None).cast("map<string,double>")
    return [EvaluationRun(r["run_id"], r["finished_at"], dict(r["counters"] or {}), dict(r["metrics"] or {}))
            for r in runs.where(F.col("job").isin("evaluate", "compare"))
            .select("run_id", "finished_at", "counters", metrics.alias("metrics")).collect()]
