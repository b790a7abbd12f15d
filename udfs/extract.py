"""Spark side of the extraction: WARC files in, page/pair/counter rows out, and the Delta writes.

``extract_warc_files`` is a ``mapInPandas`` function over a DataFrame of WARC paths (one file per
task, as Common Crawl jobs do). A file that cannot be opened or read to the end is counted, never
fatal: the rows of its good records are kept. Counters leave each task as one ``stats`` row, so a
retried task cannot count twice (its first attempt's rows are discarded with it).
"""
from __future__ import annotations

import collections
import sys
import traceback
from dataclasses import asdict
from typing import Iterable, Iterator

import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lib.extract.clean import question_key
from lib.extract.manifest import open_uri
from lib.extract.pipeline import ExtractSettings, extract_from_warc
from lib.log import logger
from lib.schemas import EXTRACT_OUTPUT, FAQ_PAGES, QA_PAIRS, QA_PAIRS_PARTITION, columns

OUTPUT_COLUMNS = columns(EXTRACT_OUTPUT)
ROWS_PER_BATCH = 2000


def _frame(rows: list[dict]) -> pd.DataFrame:
    # object columns keep a missing value as None (not NaN), which Arrow reads as null in any type
    return pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in OUTPUT_COLUMNS})


def extract_warc_files(settings: ExtractSettings):
    """The ``mapInPandas`` function: batches of ``warc_path`` rows -> ``EXTRACT_OUTPUT`` rows."""
    settings_dict = asdict(settings)

    def run(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        local_settings = ExtractSettings(**settings_dict)
        for batch in batches:
            for path in batch["warc_path"]:
                stats: collections.Counter = collections.Counter(files=1)
                rows: list[dict] = []
                try:
                    with open_uri(path) as stream:
                        for kind, row in extract_from_warc(path, stream, local_settings, stats):
                            row["kind"] = kind
                            rows.append(row)
                            if len(rows) >= ROWS_PER_BATCH:
                                yield _frame(rows)
                                rows = []
                except Exception as exc:  # noqa: BLE001 - a bad file is counted, not fatal
                    stats["unreadable_files"] += 1
                    logger.warning(f"{path}: {type(exc).__name__}: {exc}", extra={"stage": "extract"})
                    traceback.print_exc(limit=3, file=sys.stderr)
                rows.append({"kind": "stats", "warc_filename": path,
                             "counters": {k: int(v) for k, v in stats.items()}})
                yield _frame(rows)

    return run


def scan(spark: SparkSession, paths: list[str], settings: ExtractSettings, files_per_task: int = 1) -> DataFrame:
    """The extraction output of ``paths`` (lazy): one task per ``files_per_task`` WARC files."""
    slices = max(1, -(-len(paths) // max(1, files_per_task)))
    rdd = spark.sparkContext.parallelize([(p,) for p in paths], numSlices=slices)
    return spark.createDataFrame(rdd, "warc_path string").mapInPandas(
        extract_warc_files(settings), schema=EXTRACT_OUTPUT)


def add_counters(rows) -> dict[str, int]:
    """The sum of the per-file ``counters`` maps (one small row per WARC file)."""
    total: collections.Counter = collections.Counter()
    for row in rows:
        total.update(row["counters"] or {})
    return dict(total)


def _one_row_per(output: DataFrame, kind: str, key: str, fetch_date, run_id: str) -> DataFrame:
    """The run's rows of ``kind``, one per ``key``: the first by ``fetch_date``, file, offset."""
    order = Window.partitionBy(key).orderBy(fetch_date, "warc_filename", "warc_record_offset")
    return (output.where(F.col("kind") == kind)
            .withColumn("fetch_date", F.to_timestamp("fetch_date"))
            .withColumn("run_id", F.lit(run_id))
            .withColumn("_rank", F.row_number().over(order)).where("_rank = 1"))


def faq_pages(output: DataFrame, run_id: str) -> DataFrame:
    """One row per page URL (the latest fetch when a run saw the same URL twice)."""
    return (_one_row_per(output, "page", "url", F.col("fetch_date").desc_nulls_last(), run_id)
            .select(*columns(FAQ_PAGES)))


def qa_pairs(output: DataFrame, run_id: str) -> DataFrame:
    """The run's kept pairs, one row per id: the first sighting (fetch date, file, offset) wins."""
    return (_one_row_per(output, "pair", "id", F.col("fetch_date").asc_nulls_last(), run_id)
            .withColumn("duplicate_question", F.lit(False))
            .select(*columns(QA_PAIRS)))


def question_keys(questions: pd.Series) -> pd.Series:
    """``lib.extract.clean.question_key`` of each question: the rule for "the same question"
    (letter case, whitespace runs and trailing punctuation do not make a new one)."""
    return questions.map(lambda q: None if q is None else question_key(q))


def _flag_repeated(rows: DataFrame) -> DataFrame:
    """``duplicate_question``: the question occurs more than once in the row's origin (the same
    question by :func:`question_keys`)."""
    repeated = Window.partitionBy("origin", "_question")
    return (rows.withColumn("_question", F.pandas_udf(question_keys, "string")("question"))
            .withColumn("duplicate_question", F.count(F.lit(1)).over(repeated) > 1)
            .drop("_question"))


def merge_qa_pairs(spark: SparkSession, pairs: DataFrame, path: str) -> dict[str, int]:
    """Insert the pairs whose id is new and refresh ``duplicate_question`` in their origins.

    One Delta commit: the new rows, plus the stored rows of the same origins whose flag changes
    because a new pair repeats their question. Returns ``{'inserted': n, 'flagged': n}``, where
    ``flagged`` counts the pairs this run marked as repeated (new ones and stored ones).
    """
    from delta.tables import DeltaTable

    from udfs.delta import is_delta_table, merge_metrics

    if not is_delta_table(spark, path):
        (_flag_repeated(pairs).select(*columns(QA_PAIRS)).write.format("delta")
         .partitionBy(*QA_PAIRS_PARTITION).mode("errorifexists").save(path))
        flagged = spark.read.format("delta").load(path).where("duplicate_question").count()
        return {"inserted": pairs.count(), "flagged": flagged}

    table = DeltaTable.forPath(spark, path)
    stored = table.toDF()
    fresh = pairs.join(stored.select("id"), "id", "left_anti")
    neighbours = stored.join(F.broadcast(fresh.select("origin").distinct()), "origin")
    candidates = _flag_repeated(
        neighbours.withColumn("_stored_flag", F.col("duplicate_question"))
        .unionByName(fresh.withColumn("_stored_flag", F.lit(None).cast("boolean"))))
    source = candidates.where(F.col("_stored_flag").isNull()
                              | (F.col("_stored_flag") != F.col("duplicate_question"))).persist()
    new_flagged = source.where(F.col("_stored_flag").isNull() & F.col("duplicate_question")).count()
    metrics = merge_metrics(
        table.alias("t").merge(source.alias("s"), "t.id = s.id")
        .whenMatchedUpdate(set={"duplicate_question": "s.duplicate_question"})
        .whenNotMatchedInsert(values={c: f"s.`{c}`" for c in columns(QA_PAIRS)})
        .execute())
    source.unpersist()
    return {"inserted": metrics["inserted"], "flagged": new_flagged + metrics["updated"]}
