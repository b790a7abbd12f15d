"""jobs/export.py: the main dataset in the Hugging Face layout, loaded with datasets.load_dataset.

qa_pairs are the real COVID-QA pairs; qa_annotations hold stand-in labels for deu and eng
(tests/qa_fixtures.py says why they are invented), none for the other languages.
"""
from __future__ import annotations

import glob
import os

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from deltalake import DeltaTable

from jobs.export import ExportJob
from tests.qa_fixtures import covidqa_pairs, stand_in_annotations, write_annotations_table, write_qa_pairs_table


@pytest.mark.slow
def test_export_hf_loads_per_language(spark, warehouse, shared_data, tmp_path, hf_cache):
    import datasets

    pairs = covidqa_pairs(shared_data)
    annotations = stand_in_annotations(pairs).set_index("id")
    write_qa_pairs_table(spark, shared_data, str(warehouse / "qa_pairs"))
    write_annotations_table(spark, annotations.reset_index(), str(warehouse / "qa_annotations"))
    out = tmp_path / "webfaq-hf"
    assert ExportJob().main(["--warehouse", str(warehouse), "--format", "hf", "--output", f"file://{out}",
                             "--conf", "export.rows_per_shard=100"]) == 0

    card = (out / "README.md").read_text()
    meta = yaml.safe_load(card.split("---\n")[1])
    assert [c["config_name"] for c in meta["configs"]] == ["deu", "eng", "ita", "pol", "swe"]
    assert meta["configs"][0]["data_files"] == [{"split": "train", "path": "data/deu/*.parquet"}]
    assert meta["license"] == "cc-by-4.0" and set(meta["language"]) == {"de", "en", "it", "pl", "sv"}
    assert "| `deu` | German | 395 |" in card
    # deu: 395 pairs at 100 per shard -> 4 shards, named as datasets names them, each sorted by id.
    shards = sorted(os.path.basename(p) for p in glob.glob(str(out / "data" / "deu" / "*.parquet")))
    assert shards == [f"train-0000{i}-of-00004.parquet" for i in range(4)]
    for path in glob.glob(str(out / "data" / "*" / "*.parquet")):
        ids = pq.read_table(path, columns=["id"]).column("id").to_pylist()
        assert ids == sorted(ids)

    for language, group in pairs.groupby("language"):
        ds = datasets.load_dataset(str(out), language, split="train", cache_dir=str(hf_cache))
        assert ds.column_names == ["id", "origin", "url", "question", "answer", "semantic_similarity_score",
                                   "topic", "question_type"]
        got = ds.to_pandas().set_index("id").sort_index()
        want = group.set_index("id").sort_index()
        assert list(got.index) == list(want.index)
        assert (got.question == want.question).all() and (got.answer == want.answer).all()
        assert (got.origin == want.origin).all() and (got.url == want.url).all()
        ann = annotations.loc[want.index]
        if language in ("deu", "eng"):
            assert (got.topic == ann.topic).all() and (got.question_type == ann.question_type).all()
        else:
            assert got.topic.isna().all() and got.question_type.isna().all()
        assert got.semantic_similarity_score.to_numpy() == pytest.approx(ann.semantic_similarity_score.to_numpy(), abs=1e-6)
    assert str(ds.features["semantic_similarity_score"].dtype) == "float32"
    with pytest.raises(ValueError, match="Config name is missing"):
        datasets.load_dataset(str(out), cache_dir=str(hf_cache))

    runs = DeltaTable(str(warehouse / "runs")).to_pandas()
    counters = dict(runs[runs.job == "export"].iloc[-1]["counters"])
    assert counters["pairs_deu"] == 395 and counters["annotated_deu"] == 395 and counters["annotated_pol"] == 0
    assert counters["pairs"] == len(pairs) and counters["shards"] == 4 + 3 + 1 + 2 + 1

    # A second export into the same folder replaces a language's shards: none of the first lingers.
    assert ExportJob().main(["--warehouse", str(warehouse), "--format", "hf", "--output", str(out),
                             "--languages", "deu"]) == 0
    assert sorted(os.listdir(out / "data" / "deu")) == ["train-00000-of-00001.parquet"]
    assert len(datasets.load_dataset(str(out), "deu", split="train", cache_dir=str(hf_cache))) == 395
    assert pd.read_parquet(out / "data" / "deu").id.is_monotonic_increasing


def test_export_usage_errors(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        ExportJob().main(["--format", "csv", "--output", str(tmp_path / "x")])
    assert exc.value.code == 2 and "invalid choice: 'csv'" in capsys.readouterr().err
    assert ExportJob().main(["--warehouse", str(tmp_path / "wh"), "--format", "hf", "--output", str(tmp_path / "x"),
                             "--conf", "export.rows_per_shard=0"]) == 2
    assert "export.rows_per_shard must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "wh").exists() and not (tmp_path / "x").exists()
