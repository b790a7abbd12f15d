"""Spark side of the extraction's other inputs: Open Web Index Parquet files, and counters per source.

WARC files and Web Data Commons N-Quads dumps are streamed one file per task
(``udfs.extract.extract_files``). Open Web Index Parquet files are read by Spark's Parquet reader:
it splits them at row-group boundaries across tasks (``spark.sql.files.maxPartitionBytes``), reads
only the columns used, and hands each task Arrow batches
(``spark.sql.execution.arrow.maxRecordsPerBatch`` rows), which :func:`extract_owi_batches` turns
into the same page/pair/stats rows as the streamed files (``lib.schemas.EXTRACT_OUTPUT``).
"""
from __future__ import annotations

import collections
import os
import urllib.parse
from dataclasses import asdict
from typing import Iterable, Iterator

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lib.extract.owi import REQUIRED_COLUMNS, is_local, missing_columns, schema_problem
from lib.extract.pipeline import ExtractSettings, extract_from_owi_rows
from lib.schemas import EXTRACT_OUTPUT, SOURCES

#: Counters also reported per source, as ``<counter>_<source>`` (``files_wdc_nquads``, ...).
PER_SOURCE_COUNTERS = ("files", "pages_with_faq", "raw_pairs", "pairs_kept")


def source_suffix(source: str) -> str:
    """``wdc-nquads`` -> ``wdc_nquads``: the source as it ends a counter name."""
    return source.replace("-", "_")


def spark_schema_fields(schema: T.StructType) -> dict[str, list[str] | None]:
    """``lib.extract.owi.missing_columns``'s input from a Spark schema."""
    columns: dict[str, list[str] | None] = {}
    for field in schema.fields:
        fields = None
        if isinstance(field.dataType, T.ArrayType) and isinstance(field.dataType.elementType, T.StructType):
            fields = field.dataType.elementType.fieldNames()
        columns[field.name] = fields
    return columns


def remote_parquet_problem(spark: SparkSession, inputs: list[tuple[str, str]]) -> str | None:
    """A one-line message when Spark's view of the remote OWI Parquet inputs' schema lacks a
    column, else None (local ones are checked before Spark starts:
    ``lib.extract.owi.parquet_inputs_problem``)."""
    files = [path for path, fmt in inputs if fmt == "owi-parquet" and not is_local(path)]
    if not files:
        return None
    schema = spark.read.parquet(*files).schema
    name = files[0] + (f" (and {len(files) - 1} more)" if len(files) > 1 else "")
    return schema_problem(name, missing_columns(spark_schema_fields(schema)))


def _path_key(path: str) -> str:
    """A file path as Spark's ``_metadata.file_path`` and the user may write it, made comparable."""
    path = urllib.parse.unquote(path)
    if not is_local(path):
        return path
    if path.startswith("file:"):
        path = urllib.parse.urlsplit(path).path
    return os.path.abspath(path)


def extract_owi_batches(settings: ExtractSettings, given_paths: dict[str, str]):
    """The ``mapInPandas`` function: Arrow batches of OWI rows (plus ``file``, ``row``) ->
    ``EXTRACT_OUTPUT`` rows, with one ``stats`` row per batch. ``file`` is reported as the
    user gave it (``given_paths``: Spark's path key -> the input as written)."""
    settings_dict = asdict(settings)

    def run(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from udfs.extract import frame

        local_settings = ExtractSettings(**settings_dict)
        for batch in batches:
            stats: collections.Counter = collections.Counter()
            records = batch.to_dict("records")
            for record in records:
                record["file"] = given_paths.get(_path_key(record["file"]), record["file"])
            rows = []
            for kind, row in extract_from_owi_rows(records, local_settings, stats):
                row["kind"] = kind
                rows.append(row)
            rows.append({"kind": "stats", "source": "owi-parquet",
                         "counters": {k: int(v) for k, v in stats.items()}})
            yield frame(rows)

    return run


def scan_owi(spark: SparkSession, files: list[str], settings: ExtractSettings) -> DataFrame:
    """The extraction output of OWI Parquet ``files`` (lazy), read by Spark's Parquet reader."""
    given = {_path_key(path): path for path in files}
    rows = spark.read.parquet(*files).select(
        *[F.col(c) for c in REQUIRED_COLUMNS if c != "warc_date"],
        F.col("warc_date").cast("string").alias("warc_date"),
        F.col("_metadata.file_path").alias("file"),
        F.col("_metadata.row_index").alias("row"))
    return rows.mapInPandas(extract_owi_batches(settings, given), schema=EXTRACT_OUTPUT)


def scan_counters(rows, inputs: list[tuple[str, str]]) -> dict[str, int]:
    """The run's counters from the ``stats`` rows (``source``, ``counters``) of the scan: their
    sum, and :data:`PER_SOURCE_COUNTERS` per source. Parquet counters come per Arrow batch, not
    per file: Parquet files are counted from ``inputs``."""
    total: collections.Counter = collections.Counter()
    for row in rows:
        counters = row["counters"] or {}
        total.update(counters)
        source = row["source"]
        if source in SOURCES:
            for key in PER_SOURCE_COUNTERS:
                if counters.get(key):
                    total[f"{key}_{source_suffix(source)}"] += int(counters[key])
    parquet_files = sum(1 for _, fmt in inputs if fmt == "owi-parquet")
    if parquet_files:
        total["files"] += parquet_files
        total[f"files_{source_suffix('owi-parquet')}"] += parquet_files
    return {key: int(value) for key, value in total.items()}


def inserted_by_source(counts: dict[str, int]) -> dict[str, int]:
    """``pairs_inserted_<source>`` counters from ``{source: rows inserted}``."""
    return {f"pairs_inserted_{source_suffix(source)}": int(n) for source, n in counts.items()}
