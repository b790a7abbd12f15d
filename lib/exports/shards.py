"""Writing data files shard by shard through fsspec, from Arrow batches sorted by config and shard.

The Spark side (udfs/exports.py) gives every row its config key (e.g. its language) and a shard
number, sorts each task's rows by (key, shard, id) and hands the task's Arrow batches to
:func:`write_sorted_batches`, which streams each (key, shard) run into one file: memory stays at
one batch, whatever the shard size, and a retried task rewrites the same files. Files are parquet
(what ``datasets`` and the Hub read best) or JSON lines (what FlagEmbedding's trainer reads).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import pyarrow as pa

from lib.exports.hf import SPLIT, shard_name

SHARD = "_shard"          # column: this row's shard within its config
SHARDS = "_shards"        # column: how many shards its config has
FORMATS = {"parquet": "parquet", "jsonl": "jsonl"}


@dataclass(frozen=True)
class ShardLayout:
    """Where a config's shards go and what they hold.

    ``folder`` is a format string over the key columns (``"data/{language}"``); ``columns`` are
    the columns written, in order (key columns included only when listed).
    """

    key_columns: tuple[str, ...]
    folder: str
    columns: tuple[str, ...]
    fmt: str = "parquet"
    split: str = SPLIT

    def __post_init__(self):
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown file format {self.fmt!r} (one of {', '.join(FORMATS)})")

    def folder_of(self, key: tuple) -> str:
        return self.folder.format(**dict(zip(self.key_columns, key)))

    def path(self, key: tuple, index: int, total: int) -> str:
        return f"{self.folder_of(key)}/{shard_name(self.split, index, total, FORMATS[self.fmt])}"


class _ParquetSink:
    def __init__(self, fs, path: str, schema: pa.Schema):
        import pyarrow.parquet as pq

        self._fh = fs.open(path, "wb")
        self._writer = pq.ParquetWriter(self._fh, schema)
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self) -> None:
        self._writer.close()
        self._fh.close()


class _JsonlSink:
    def __init__(self, fs, path: str, schema: pa.Schema):
        self._fh = fs.open(path, "wb")
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        import orjson

        self._fh.write(b"".join(orjson.dumps(row) + b"\n" for row in batch.to_pylist()))
        self.rows += batch.num_rows

    def close(self) -> None:
        self._fh.close()


def _sink(fmt: str, fs, path: str, schema: pa.Schema):
    parent = path.rsplit("/", 1)[0]
    fs.makedirs(parent, exist_ok=True)
    return (_ParquetSink if fmt == "parquet" else _JsonlSink)(fs, path, schema)


def _runs(batch: pa.RecordBatch, columns: list[str]) -> Iterator[tuple[tuple, int, int]]:
    """``(key, start, end)`` for each run of equal values of ``columns`` in a sorted batch."""
    keys = list(zip(*(batch.column(c).to_pylist() for c in columns)))
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            yield keys[start], start, i
            start = i


def write_sorted_batches(batches: Iterable[pa.RecordBatch], dest_url: str, layout: ShardLayout) -> Iterator[dict]:
    """Write each (key, shard) run of sorted batches to its file below ``dest_url``.

    Yields one dict per file written: ``folder`` (the config's folder), ``shard``, ``shards``,
    ``rows`` and ``path`` (relative to the destination).
    """
    import fsspec

    fs, root = fsspec.core.url_to_fs(dest_url)
    root = root.rstrip("/")
    order = [*layout.key_columns, SHARD]
    current, sink, info = None, None, None
    for batch in batches:
        if batch.num_rows == 0:
            continue
        for run_key, start, end in _runs(batch, order):
            if run_key != current:
                if sink is not None:
                    sink.close()
                    yield {**info, "rows": sink.rows}
                key, shard = run_key[:-1], int(run_key[-1])
                total = int(batch.column(SHARDS)[start].as_py())
                rel = layout.path(key, shard, total)
                part = batch.select(list(layout.columns))
                sink = _sink(layout.fmt, fs, f"{root}/{rel}", part.schema)
                info = {"folder": layout.folder_of(key), "shard": shard, "shards": total, "path": rel}
                current = run_key
            sink.write(batch.slice(start, end - start).select(list(layout.columns)))
    if sink is not None:
        sink.close()
        yield {**info, "rows": sink.rows}


def write_empty_shard(dest_url: str, rel: str, fmt: str, schema: pa.Schema) -> None:
    """An empty shard (a config whose rows all hashed to its other shards keeps its numbering)."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(dest_url)
    path = f"{root.rstrip('/')}/{rel}"
    _sink(fmt, fs, path, schema).close()
