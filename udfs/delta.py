"""The Delta reads and writes every job shares: read a table, merge new rows on a key, append."""
from __future__ import annotations

from typing import Iterable

from pyspark.sql import DataFrame, SparkSession


def is_delta_table(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


def read_table(spark: SparkSession, path: str, columns: Iterable[str] = ()) -> DataFrame:
    """A Delta table (only ``columns``, when given); a clear error when it does not exist yet
    (FileNotFoundError) or lacks one of ``columns`` (lib.schemas.MissingColumns)."""
    from lib.schemas import check_columns

    if not is_delta_table(spark, path):
        raise FileNotFoundError(f"no Delta table at {path} (run the stage that writes it first)")
    df = spark.read.format("delta").load(path)
    columns = list(columns)
    if columns:
        check_columns(path, df.columns, columns)
        df = df.select(*columns)
    return df


def _last_operation_metrics(spark: SparkSession, path: str) -> dict[str, int]:
    from delta.tables import DeltaTable

    row = DeltaTable.forPath(spark, path).history(1).select("operationMetrics").first()
    metrics = (row and row["operationMetrics"]) or {}
    return {k: int(v) for k, v in metrics.items() if str(v).lstrip("-").isdigit()}


def partition_condition(values: dict[str, Iterable[str]], alias: str = "t") -> str:
    """The partitions of the target a merge may touch, as a condition Delta prunes files by:
    ``{"language": ["deu", "eng"]}`` -> ``t.`language` IN ('deu', 'eng')``."""
    def literal(value) -> str:
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    return " AND ".join(f"{alias}.`{column}` IN ({', '.join(literal(v) for v in sorted(set(vals)))})"
                        for column, vals in values.items())


def merge_new_rows(spark: SparkSession, source: DataFrame, path: str, keys: Iterable[str],
                   partition_by: Iterable[str] = (), update_when: str | None = None,
                   evolve_schema: bool = False, partitions: dict[str, Iterable[str]] | None = None) -> dict[str, int]:
    """Insert the rows of ``source`` whose key is not in the table yet (one atomic Delta commit).

    The first write creates the table (partitioned by ``partition_by``). ``update_when`` is an
    optional SQL condition over ``t`` (target) and ``s`` (source) under which a matched row is
    replaced. With ``evolve_schema``, columns of ``source`` the table lacks are added in the same
    commit (stored rows read null there): a table written by an older version keeps taking merges.
    ``partitions``: the values of the partition columns the rows of ``source`` have (``{"language":
    ["deu"]}``), where the caller knows them without computing ``source``; the merge then reads and
    rewrites those partitions only (a key lives in one partition: the one its row was inserted in).
    Returns ``{'inserted': n, 'updated': n}`` from the commit's operation metrics.
    """
    from delta.tables import DeltaTable

    keys, partition_by = list(keys), list(partition_by)
    partitions = {column: list(values) for column, values in (partitions or {}).items()}
    if not is_delta_table(spark, path):
        writer = source.write.format("delta").mode("errorifexists")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.save(path)
        metrics = _last_operation_metrics(spark, path)
        return {"inserted": metrics.get("numOutputRows", 0), "updated": 0}
    condition = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
    if partitions and all(partitions.values()):
        condition = f"{partition_condition(partitions)} AND {condition}"
    merge = DeltaTable.forPath(spark, path).alias("t").merge(source.alias("s"), condition)
    if evolve_schema:
        merge = merge.withSchemaEvolution()
    if update_when:
        merge = merge.whenMatchedUpdateAll(condition=update_when)
    return merge_metrics(merge.whenNotMatchedInsertAll().execute())


def merge_metrics(result: DataFrame) -> dict[str, int]:
    """``{'inserted': n, 'updated': n}`` from the one-row DataFrame a Delta MERGE returns."""
    row = result.first()
    values = row.asDict() if row is not None else {}
    return {"inserted": int(values.get("num_inserted_rows") or 0),
            "updated": int(values.get("num_updated_rows") or 0)}


def append_rows(spark: SparkSession, rows: list[dict], schema: str, path: str, merge_schema: bool = False) -> None:
    """Append a few driver-side rows (e.g. one ``runs`` row) to a Delta table.

    ``merge_schema``: columns of ``schema`` the table does not have yet are added to it (Delta
    schema evolution; its older rows read them as null).
    """
    writer = spark.createDataFrame(rows, schema=schema).write.format("delta").mode("append")
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    writer.save(path)


def _location(path: str) -> str:
    """A table location as Delta reports it, for comparison: ``file:/x`` and ``/x`` are the same."""
    path = str(path).rstrip("/")
    if path.startswith("file:"):
        path = "/" + path[len("file:"):].lstrip("/")
    return path


def register_table(spark: SparkSession, name: str, schema: str, path: str) -> str | None:
    """Register the Delta table at ``path`` as ``name`` (quoted ``schema.table``): an external table
    over the same files, made once (the schema too when it does not exist). Returns None, or a
    warning when ``name`` is already a table at another location (it is left as it is)."""
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    location = path.replace("\\", "\\\\").replace("'", "\\'")  # a SQL string literal
    spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION '{location}'")
    registered = spark.sql(f"DESCRIBE DETAIL {name}").first()["location"]
    if _location(registered) != _location(path):
        return f"{name} is a table at {registered}, not {path}: left as it is (drop it to register this warehouse)"
    return None
