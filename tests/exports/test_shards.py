"""lib/exports/shards.py: sorted Arrow batches streamed into one file per (config, shard), on fsspec's memory filesystem."""
from __future__ import annotations

import io
import json
import uuid

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.exports import hf
from lib.exports.shards import SHARD, SHARDS, ShardLayout, write_empty_shard, write_sorted_batches


@pytest.fixture
def memory_root():
    root = f"memory://webfaq-shards-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def batches(rows, size):
    """Rows (already sorted by language, shard, id) as Arrow batches of ``size`` rows, as Spark hands them over."""
    table = pa.Table.from_pylist(rows)
    return table.to_batches(max_chunksize=size)


ROWS = ([{"language": "deu", SHARD: 0, SHARDS: 2, "id": f"a{i}", "text": f"Frage {i}", "scores": [1.0, 0.5]} for i in range(5)]
        + [{"language": "deu", SHARD: 1, SHARDS: 2, "id": f"b{i}", "text": f"Frage {i}", "scores": [0.2]} for i in range(3)]
        + [{"language": "eng", SHARD: 0, SHARDS: 1, "id": f"c{i}", "text": f"Question {i}", "scores": []} for i in range(4)])


@pytest.mark.parametrize("size", [1, 3, 100])
def test_parquet_shards_whatever_the_batch_boundaries(memory_root, size):
    layout = ShardLayout(("language",), "data/{language}", ("id", "text", "scores"))
    written = list(write_sorted_batches(batches(ROWS, size), memory_root, layout))
    assert [(w["path"], w["rows"]) for w in written] == [
        ("data/deu/train-00000-of-00002.parquet", 5), ("data/deu/train-00001-of-00002.parquet", 3),
        ("data/eng/train-00000-of-00001.parquet", 4)]
    assert {w["folder"] for w in written} == {"data/deu", "data/eng"}
    fs = fsspec.filesystem("memory")
    root = memory_root.split("://", 1)[1]
    table = pq.read_table(io.BytesIO(fs.cat(f"{root}/data/deu/train-00001-of-00002.parquet")))
    assert table.column_names == ["id", "text", "scores"]                   # _shard, language dropped
    assert table.to_pylist() == [{"id": f"b{i}", "text": f"Frage {i}", "scores": [0.2]} for i in range(3)]


def test_jsonl_shards_keep_listed_key_columns(memory_root):
    layout = ShardLayout(("language",), "flagembedding/top4/{language}", ("query", "neg", "language"), "jsonl")
    rows = [{"language": "eng", SHARD: 0, SHARDS: 1, "query": "Q?", "neg": ["a", "b"]}]
    written = list(write_sorted_batches(batches(rows, 10), memory_root, layout))
    assert written[0]["path"] == "flagembedding/top4/eng/train-00000-of-00001.jsonl"
    text = fsspec.filesystem("memory").cat(memory_root.split("://", 1)[1] + "/" + written[0]["path"]).decode()
    assert [json.loads(line) for line in text.splitlines()] == [{"query": "Q?", "neg": ["a", "b"], "language": "eng"}]


def test_empty_shard_and_names(memory_root):
    schema = pa.schema([("id", pa.string())])
    write_empty_shard(memory_root, "data/x/train-00001-of-00002.parquet", "parquet", schema)
    data = fsspec.filesystem("memory").cat(memory_root.split("://", 1)[1] + "/data/x/train-00001-of-00002.parquet")
    assert pq.read_table(io.BytesIO(data)).num_rows == 0
    assert hf.shard_name("train", 3, 12, "parquet") == "train-00003-of-00012.parquet"
    assert [hf.shard_count(n, 100) for n in (0, 1, 100, 101, 250)] == [1, 1, 1, 2, 3]
    with pytest.raises(ValueError):
        ShardLayout(("language",), "x/{language}", ("id",), "csv")
