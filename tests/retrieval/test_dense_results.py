"""lib/retrieval/dense.py and results.py: faiss search, the hybrid rule, TREC runs, MTEB JSON, Table 5."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from lib.retrieval import dense, metrics, results


def test_exact_search_equals_numpy():
    rng = np.random.default_rng(0)
    docs = rng.normal(size=(300, 16)).astype(np.float32)
    queries = rng.normal(size=(7, 16)).astype(np.float32)
    doc_ids = [f"d{i}" for i in range(300)]
    run = dense.exact_search(doc_ids, docs, [f"q{i}" for i in range(7)], queries, k=20, use_gpu=False)
    scores = queries @ docs.T
    for i in range(7):
        top = np.argsort(-scores[i])[:20]
        assert list(run[f"q{i}"]) == [doc_ids[j] for j in top]
        assert list(run[f"q{i}"].values()) == pytest.approx(scores[i][top].tolist(), rel=1e-5)
    # k larger than the corpus: every document once.
    assert len(dense.exact_search(doc_ids[:5], docs[:5], ["q"], queries[:1], k=1000, use_gpu=False)["q"]) == 5


def test_hybrid_rule():
    bm25 = {"q": {"a": 10.0, "b": 8.0, "c": 7.0, "e": 6.0}}
    dense_run = {"q": {"b": 0.9, "a": 0.2, "d": 0.8, "c": 0.1}}
    fused = dense.fuse_hybrid(bm25, dense_run, 1.1)["q"]
    # In both lists: b = 1.1*0.9 + 8 = 8.99, a = 10.22, c = 7.11; then dense-only d, then BM25-only e.
    assert [doc for doc, _ in results.ranked(fused)] == ["a", "b", "c", "d", "e"]
    assert fused["a"] == pytest.approx(10.22) and fused["b"] == pytest.approx(8.99)
    assert fused["d"] < fused["c"] and fused["e"] < fused["d"]
    assert dense.fuse_hybrid({"q": {}}, {"q": {"x": 0.5}})["q"] == {"x": -1.0}


def test_trec_run_round_trip_and_per_query(tmp_path):
    qrels = {"q1": {"d1": 1}, "q2": {"d9": 1}}
    run = {"q1": {"d3": 2.0, "d1": 1.5, "d2": 1.5}, "q2": {"d4": 0.3}}
    path = tmp_path / "bm25" / "eng.trec"
    assert results.write_trec_run(path, run, "bm25") == 4
    lines = path.read_text().splitlines()
    # Best first; ties by document id descending, as trec_eval orders them.
    assert lines[:3] == ["q1 Q0 d3 1 2.000000 bm25", "q1 Q0 d2 2 1.500000 bm25", "q1 Q0 d1 3 1.500000 bm25"]
    back = results.read_trec_run(path)
    assert metrics.evaluate(qrels, back) == metrics.evaluate(qrels, run)
    per_query = metrics.per_query(qrels, run)
    results.write_per_query(tmp_path / "pq.tsv", per_query)
    rows = list(csv.DictReader(open(tmp_path / "pq.tsv"), delimiter="\t"))
    assert [r["query-id"] for r in rows] == ["q1", "q2"]
    assert float(rows[0]["mrr_at_10"]) == pytest.approx(1 / 3) and float(rows[1]["ndcg_at_10"]) == 0.0


def test_mteb_result_json_and_metric_keys(tmp_path):
    r = {"ndcg_at_10": 0.5, "map": 0.4, "mrr_at_10": 0.45, "recall_at_100": 0.9, "queries": 3}
    files = results.write_system_files(tmp_path, "dense", "WebFAQRetrieval", "test", {"eng": {"q": {"d": 1.0}}},
                                       {"eng": {"q": r}}, {"eng": r, "jpn": r}, 1.5, "model")
    data = json.loads((tmp_path / "dense" / "WebFAQRetrieval.json").read_text())
    assert str(tmp_path / "dense" / "WebFAQRetrieval.json") in files
    assert data["task_name"] == "WebFAQRetrieval" and data["evaluation_time"] == 1.5
    eng, jpn = data["scores"]["test"]
    assert eng == {"ndcg_at_10": 0.5, "map_at_1000": 0.4, "mrr_at_10": 0.45, "recall_at_100": 0.9,
                   "main_score": 0.5, "hf_subset": "eng", "languages": ["eng-Latn"]}
    assert jpn["languages"] == ["jpn-Jpan"]
    keys = results.metrics_of("rn", "eng", r)
    assert keys == {"rn/eng/ndcg_at_10": 0.5, "rn/eng/map": 0.4, "rn/eng/mrr_at_10": 0.45, "rn/eng/recall_at_100": 0.9}
    assert results.parse_metric_key("m+bm25/eng/map") == ("m+bm25", "eng", "map")
    # Rows from before the metrics column: integer counters x 10,000 of BM25.
    old = results.run_metrics({"ndcg_at_10_x10000_eng": 5569, "queries_eng": 211}, None)
    assert old == {"bm25/eng/ndcg_at_10": 0.5569}
    assert results.run_metrics({"ndcg_at_10_x10000_eng": 1}, {"x/eng/map": 0.25}) == {"x/eng/map": 0.25}


def test_comparison_table(tmp_path):
    res = {"bm25": {"eng": {"ndcg_at_10": 0.244}, "ara": {"ndcg_at_10": 0.297}},
           "rn": {"eng": {"ndcg_at_10": 0.6}}}
    md = results.comparison_markdown(res, caption="NDCG@10 (%)")
    assert md.splitlines()[2:] == ["| system | ara | eng |", "|---|---:|---:|", "| bm25 | 29.7 | 24.4 |",
                                   "| rn |  | 60.0 |"]
    paths = results.write_comparison(tmp_path, res)
    assert list(csv.reader(open(paths["csv"]))) == [["system", "ara", "eng"], ["bm25", "29.70", "24.40"],
                                                     ["rn", "", "60.00"]]
    from PIL import Image

    with Image.open(paths["png"]) as img:
        assert img.size[0] > 300 and len(set(img.convert("L").getdata())) > 10   # a drawn chart, not blank
