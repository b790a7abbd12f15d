"""Spark side of the extraction: input files in, page/pair/counter rows out, and the Delta writes.

``extract_files`` is a ``mapInPandas`` function over a DataFrame of WARC files and N-Quads dumps
(one file per task, as Common Crawl jobs do); Open Web Index Parquet files are read by Spark's
Parquet reader (``udfs/extract_sources.py``). A file that cannot be opened or read to the end is
counted, never fatal: the rows of its good records are kept. Counters leave each task as one
``stats`` row, so a retried task cannot count twice (its first attempt's rows are discarded with it).
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
from lib.extract.manifest import RemoteReadError, open_uri
from lib.extract.pipeline import ExtractSettings, extract_from_nquads, extract_from_warc
from lib.log import logger
from lib.schemas import EXTRACT_OUTPUT, FAQ_PAGES, QA_PAIRS, QA_PAIRS_PARTITION, columns

OUTPUT_COLUMNS = columns(EXTRACT_OUTPUT)
ROWS_PER_BATCH = 2000
#: The per-file pipeline of each streamed source.
STREAMED = {"warc": extract_from_warc, "wdc-nquads": extract_from_nquads}


def frame(rows: list[dict]) -> pd.DataFrame:
    # object columns keep a missing value as None (not NaN), which Arrow reads as null in any type
    return pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in OUTPUT_COLUMNS})


def extract_files(settings: ExtractSettings):
    """The ``mapInPandas`` function: batches of ``(path, source)`` rows -> ``EXTRACT_OUTPUT`` rows."""
    settings_dict = asdict(settings)

    def run(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        local_settings = ExtractSettings(**settings_dict)
        remote = local_settings.remote()
        for batch in batches:
            for path, source in zip(batch["path"], batch["source"]):
                stats: collections.Counter = collections.Counter(files=1)
                rows: list[dict] = []
                error = None
                try:
                    with open_uri(path, remote) as stream:
                        for kind, row in STREAMED[source](path, stream, local_settings, stats):
                            row["kind"] = kind
                            rows.append(row)
                            if len(rows) >= ROWS_PER_BATCH:
                                yield frame(rows)
                                rows = []
                except Exception as exc:  # noqa: BLE001 - a bad file is counted, not fatal
                    error = unreadable_reason(exc)
                    logger.warning(f"{path}: {error}", extra={"stage": "extract"})
                    traceback.print_exc(limit=3, file=sys.stderr)
                error = error or unreadable_reason(None, stats)
                if error:
                    stats["unreadable_files"] += 1
                rows.append({"kind": "stats", "source": source, "warc_filename": path, "error": error,
                             "counters": {k: int(v) for k, v in stats.items()}})
                yield frame(rows)

    return run


def unreadable_reason(exc: BaseException | None, stats: collections.Counter | None = None) -> str | None:
    """Why a WARC file gave nothing, in one line (None when it was read): the error that stopped
    the read, or what the scan found (an empty file, a file that is neither WARC nor ARC)."""
    if exc is not None:
        if isinstance(exc, RemoteReadError):
            return " ".join(exc.cause.split())
        return f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    if stats and stats.get("empty_files"):
        return "empty file"
    if stats and stats.get("unsupported_format"):
        return "neither a WARC nor an ARC file (or a gzip stream damaged from its start)"
    return None


def unreadable_inputs(rows) -> list[dict[str, str]]:
    """``[{'input': file, 'reason': why}]`` from the per-file counters rows, in file order."""
    return sorted(({"input": row["warc_filename"], "reason": row["error"]} for row in rows if row["error"]),
                  key=lambda item: item["input"])


def scan(spark: SparkSession, inputs: list[tuple[str, str]], settings: ExtractSettings,
         files_per_task: int = 1) -> DataFrame:
    """The extraction output of ``inputs`` (``(path, source)``, lazy): one task per
    ``files_per_task`` WARC files or N-Quads dumps; Parquet files as Spark's reader splits them."""
    from udfs.extract_sources import scan_owi

    streamed = [(path, source) for path, source in inputs if source in STREAMED]
    parquet = [path for path, source in inputs if source == "owi-parquet"]
    parts = []
    if streamed:
        slices = max(1, -(-len(streamed) // max(1, files_per_task)))
        rdd = spark.sparkContext.parallelize(streamed, numSlices=slices)
        parts.append(spark.createDataFrame(rdd, "path string, source string").mapInPandas(
            extract_files(settings), schema=EXTRACT_OUTPUT))
    if parquet:
        parts.append(scan_owi(spark, parquet, settings))
    output = parts[0]
    for part in parts[1:]:
        output = output.unionByName(part)
    return output


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


def _tally(rows: DataFrame, new) -> list:
    """One pass over the rows a commit writes, per (language, source): how many are new inserts
    (``new``, a boolean column) and how many of those are flagged as repeated questions."""
    return (rows.groupBy("language", "source")
            .agg(F.sum(F.when(new, 1).otherwise(0)).alias("new"),
                 F.sum(F.when(new & F.col("duplicate_question"), 1).otherwise(0)).alias("new_flagged"))
            .collect())


def _by_source(tally: list) -> dict[str, int]:
    counts: collections.Counter = collections.Counter()
    for row in tally:
        counts[row["source"] or "unknown"] += int(row["new"])
    return {source: n for source, n in counts.items() if n}


def merge_qa_pairs(spark: SparkSession, pairs: DataFrame, path: str) -> dict:
    """Insert the pairs whose id is new and refresh ``duplicate_question`` in their origins.

    One Delta commit: the new rows, plus the stored rows of the same origins whose flag changes
    because a new pair repeats their question. Returns ``{'inserted': n, 'flagged': n,
    'inserted_by_source': {source: n}}``, where ``flagged`` counts the pairs this run marked as
    repeated (new ones and stored ones). The counts come from the rows the commit writes, counted
    on their way in: the table is not read again (at a crawl's scale it holds every earlier run).

    The merge reads and rewrites only the language partitions of those rows: a stored row it
    updates carries its own language, and a new id is in no partition (the anti-join says so).
    """
    from delta.tables import DeltaTable

    from udfs.delta import is_delta_table, merge_metrics, partition_condition

    if not is_delta_table(spark, path):
        rows = _flag_repeated(pairs).select(*columns(QA_PAIRS)).persist()
        tally = _tally(rows, F.lit(True))
        rows.write.format("delta").partitionBy(*QA_PAIRS_PARTITION).mode("errorifexists").save(path)
        rows.unpersist()
        return {"inserted": sum(int(r["new"]) for r in tally), "flagged": sum(int(r["new_flagged"]) for r in tally),
                "inserted_by_source": _by_source(tally)}

    table = DeltaTable.forPath(spark, path)
    stored = table.toDF()
    fresh = pairs.join(stored.select("id"), "id", "left_anti")
    neighbours = stored.join(F.broadcast(fresh.select("origin").distinct()), "origin")
    candidates = _flag_repeated(  # (a table from before a column was added lacks it: null there)
        neighbours.withColumn("_stored_flag", F.col("duplicate_question"))
        .unionByName(fresh.withColumn("_stored_flag", F.lit(None).cast("boolean")), allowMissingColumns=True))
    source = candidates.where(F.col("_stored_flag").isNull()
                              | (F.col("_stored_flag") != F.col("duplicate_question"))).persist()
    tally = _tally(source, F.col("_stored_flag").isNull())
    new_flagged = sum(int(r["new_flagged"]) for r in tally)
    languages = sorted({r["language"] for r in tally})
    if not languages:
        source.unpersist()
        return {"inserted": 0, "flagged": new_flagged, "inserted_by_source": {}}
    condition = f"{partition_condition({'language': languages})} AND t.id = s.id"
    metrics = merge_metrics(
        table.alias("t").merge(source.alias("s"), condition).withSchemaEvolution()  # adds new columns
        .whenMatchedUpdate(set={"duplicate_question": "s.duplicate_question"})
        .whenNotMatchedInsert(values={c: f"s.`{c}`" for c in columns(QA_PAIRS)})
        .execute())
    source.unpersist()
    return {"inserted": metrics["inserted"], "flagged": new_flagged + metrics["updated"],
            "inserted_by_source": _by_source(tally)}
