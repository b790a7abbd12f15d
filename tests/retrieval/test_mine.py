"""jobs/mine.py and udfs/retrieval/rerank.py: BM25 top-k from Pyserini, rescored by a tiny random-weight BGE-m3.

The model is built here (no hub): an XLM-R encoder with 2 layers of width 64, a Unigram tokenizer
trained on the COVID-QA text, and the ColBERT and sparse heads that BGEM3FlagModel loads from
``colbert_linear.pt`` / ``sparse_linear.pt`` (saved, so scores are repeatable across loads).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from deltalake import DeltaTable

from jobs.benchmark import BenchmarkJob
from jobs.mine import MineJob
from lib.retrieval import negatives as neg
from tests.qa_fixtures import covidqa_pairs, write_qa_pairs_table
from tests.tiny_models import build_tiny_bge_m3


@pytest.fixture(scope="module")
def tiny_m3(tmp_path_factory, shared_data) -> str:
    pairs = covidqa_pairs(shared_data)
    return str(build_tiny_bge_m3(tmp_path_factory.mktemp("tiny-bge-m3"), list(pairs.question) + list(pairs.answer)))


def test_rerank_scores_pairs_with_flagembedding(tiny_m3, shared_data):
    from FlagEmbedding import BGEM3FlagModel

    from udfs.retrieval.rerank import RerankSettings, get_scorer, rescore_batch

    pairs = covidqa_pairs(shared_data).query("language == 'eng'")
    settings = RerankSettings(model=tiny_m3, batch_size=4)
    q, answers = pairs.question.iloc[0], list(pairs.answer.iloc[:7])
    scorer = get_scorer(settings, "cpu")
    assert get_scorer(settings, "cpu") is scorer                      # loaded once per process
    got = scorer.score([(q, a) for a in answers])
    # Same figures as FlagEmbedding's own compute_score on a fresh load, pair by pair, unsorted.
    ref = BGEM3FlagModel(tiny_m3, use_fp16=False, devices=["cpu"]).compute_score(
        [(q, a) for a in answers], batch_size=1, weights_for_different_modes=[0.4, 0.2, 0.4])["colbert+sparse+dense"]
    assert got == pytest.approx(ref, abs=1e-5)
    assert len(set(round(x, 6) for x in got)) > 1
    recs = rescore_batch([{"query": q, "positive": answers[0], "negatives": answers[1:]},
                          {"query": "nothing", "positive": answers[1], "negatives": []}], settings, "cpu")
    assert recs[0]["pos_score"] == pytest.approx(got[0], abs=1e-5)
    assert recs[0]["neg_scores"] == pytest.approx(got[1:], abs=1e-5)
    assert recs[1]["neg_scores"] == []


def read(path):
    return DeltaTable(str(path)).to_pyarrow_table().to_pylist()


@pytest.mark.slow
def test_mine_end_to_end_rerun_and_export(spark, warehouse, shared_data, tiny_m3, tmp_path):
    write_qa_pairs_table(spark, shared_data, str(warehouse / "qa_pairs"))
    # English: 211 answers from 5 origins; one origin goes to test, the other four give the training queries.
    assert BenchmarkJob().main(["--warehouse", str(warehouse), "--languages", "eng",
                                "--conf", "benchmark.max_test_queries=1"]) == 0
    common = ["--warehouse", str(warehouse), "--conf", f"models.bge_m3={tiny_m3}",
              "--conf", f"mine.index_dir={tmp_path / 'indexes'}", "--conf", "mine.queries_per_task=8",
              "--conf", "mine.rerank.queries_per_batch=4",
              "--conf", "mine.rerank.max_passage_length=128"]
    # An interrupted run (only 10 queries done), then a run that goes on: it mines only missing queries.
    # (--limit N mines N missing queries; without it the run would finish all of them.)
    assert MineJob().main(common + ["--limit", "10"]) == 0
    first = {r["query_id"] for r in read(warehouse / "hard_negatives")}
    assert len(first) == 10
    assert MineJob().main(common + ["--limit", "14"]) == 0
    records = read(warehouse / "hard_negatives")
    ids = [r["query_id"] for r in records]
    assert len(ids) == len(set(ids)) == 24 and first < set(ids)
    queries = [q for q in read(warehouse / "benchmark_queries") if q["split"] == "train"]
    assert set(ids) <= {q["_id"] for q in queries}
    runs = sorted(read(warehouse / "runs"), key=lambda r: r["started_at"])
    last = dict(runs[-1]["counters"])
    assert last["queries_already_mined"] == 10 and last["training_queries"] == len(queries)
    assert last["queries_to_mine"] == 14 and last["records_inserted"] == 14
    assert last["indexes_built"] == 0                      # the index of the first run is reused

    corpus = {r["_id"]: r for r in read(warehouse / "benchmark_corpus")}
    size = len(corpus)
    for r in records:
        pos_text = neg.normalize_text(r["positive"])
        assert r["positive_id"] not in r["negative_ids"]
        assert all(neg.normalize_text(t) != pos_text for t in r["negatives"])
        assert len(r["negatives"]) == len(r["negative_ids"]) == len(r["neg_scores"]) == len(r["bm25_scores"])
        assert [corpus[i]["text"] for i in r["negative_ids"]] == r["negatives"]   # texts aligned with ids
        assert r["bm25_scores"] == sorted(r["bm25_scores"], reverse=True)
        # 200 where BM25 and the corpus allow: every hit but the positive and what was removed for it.
        room = min(size, r["bm25_hits"]) - (r["positive_bm25_rank"] > 0) - r["removed_positive_duplicates"] \
            - r["removed_repeated_texts"]
        assert len(r["negatives"]) == min(200, room)
        assert r["positive"] == corpus[r["positive_id"]]["text"]
        assert r["scorer"].startswith("bge_m3:")

    assert max(len(r["negatives"]) for r in records) > 100
    # Scores are aligned with texts: rescoring a record's pairs gives its stored scores.
    from udfs.retrieval.rerank import RerankSettings, get_scorer

    r = max(records, key=lambda x: len(x["negatives"]))
    scorer = get_scorer(RerankSettings(model=tiny_m3, max_passage_length=128), "cpu")
    fresh = scorer.score([(r["query"], r["positive"])] + [(r["query"], t) for t in r["negatives"][:10]])
    assert fresh[0] == pytest.approx(r["pos_score"], abs=1e-4)
    assert fresh[1:] == pytest.approx(r["neg_scores"][:10], abs=1e-4)

    out = tmp_path / "export"
    assert MineJob().main(["--warehouse", str(warehouse), "--export", str(out), "--export-only",
                           "--strategy", "all", "--strategy", "denoised", "--strategy", "top4",
                           "--strategy", "margin", "--strategy", "top10-scores",
                           "--export-format", "triplet", "--export-format", "flagembedding"]) == 0
    # FlagEmbedding's records after 'all': every mined candidate of every query that has one.
    lines = [json.loads(x) for f in sorted((out / "flagembedding" / "all" / "eng").glob("*.jsonl"))
             for x in f.read_text().splitlines()]
    assert len(lines) == sum(1 for x in records if x["negatives"])
    assert set(lines[0]) == {"query", "pos", "neg", "pos_scores", "neg_scores", "language", "query_id"}
    by_id = {r["query_id"]: r for r in records}
    for line in lines:
        rec = by_id[line["query_id"]]
        assert line["pos"] == [rec["positive"]] and sorted(line["neg"]) == sorted(rec["negatives"])
        assert line["neg_scores"] == sorted(line["neg_scores"], reverse=True)
    top4 = [json.loads(x) for f in (out / "flagembedding" / "top4" / "eng").glob("*.jsonl") for x in f.read_text().splitlines()]
    assert top4 and all(len(x["neg"]) == 4 for x in top4)
    triplets = pd.read_parquet(out / "triplet" / "denoised" / "eng")
    assert triplets.scores.map(lambda s: 0.1 <= s[1] <= 0.9).all()

    # margin and top10-scores, recounted here from the stored scores by the published rules:
    # margin keeps the 4 best candidates scored at most pos - |pos| x 0.05 (NV-Retriever's
    # TopK-PercPos, sentence-transformers' relative_margin); top10-scores is the 10 best with the
    # positive's score (MarginMSE's soft targets). Best score first, ties in mined order.
    def best(rec, keep, n):
        order = sorted((i for i, x in enumerate(rec["neg_scores"]) if keep(x)), key=lambda i: (-rec["neg_scores"][i], i))
        return [rec["negatives"][i] for i in order[:n]], [rec["neg_scores"][i] for i in order[:n]]

    def exported(strategy):
        return {x["query_id"]: x for f in (out / "flagembedding" / strategy / "eng").glob("*.jsonl")
                for x in map(json.loads, f.read_text().splitlines())}

    margin, top10 = exported("margin"), exported("top10-scores")
    removed_by_margin = 0
    for rec in records:
        limit = rec["pos_score"] - abs(rec["pos_score"]) * 0.05
        removed_by_margin += sum(1 for x in rec["neg_scores"] if x > limit)
        for got, (texts, scores) in ((margin.get(rec["query_id"]), best(rec, lambda x: x <= limit, 4)),
                                     (top10.get(rec["query_id"]), best(rec, lambda x: True, 10))):
            if not texts:
                assert got is None              # nothing left: no record (counted as skipped_empty)
                continue
            assert got["neg"] == texts and got["neg_scores"] == pytest.approx(scores)
            assert got["pos"] == [rec["positive"]] and got["pos_scores"] == pytest.approx([rec["pos_score"]])
    assert len(top10) == sum(1 for r in records if r["negatives"]) and \
        all(len(x["neg"]) == min(10, len(by_id[q]["negatives"])) for q, x in top10.items())
    assert 0 < len(margin) <= len(top10)
    # (The seeded draw itself is checked in tests/retrieval/test_negatives.py, the loads in tests/exports/.)
    runs = sorted(read(warehouse / "runs"), key=lambda r: r["started_at"])
    counters = dict(runs[-1]["counters"])
    assert counters["fn_removed_margin_eng"] == removed_by_margin
    assert counters.get("fn_removed_top4_eng", 0) == counters.get("fn_removed_top10-scores_eng", 0) == 0
    assert counters["fn_removed_denoised_eng"] == sum(1 for r in records for x in r["neg_scores"] if x > 0.9)
    assert counters["exported_flagembedding_margin_eng"] == len(margin)
    assert counters["exported_flagembedding_top10-scores_eng"] == len(top10)
    assert counters["exported_flagembedding_all_eng"] == len(lines)
    assert counters["exported_triplet_denoised_eng"] == len(triplets)


def test_mine_usage_errors(capsys):
    assert MineJob().main(["--export-only"]) == 2
    assert "--export-only needs --export" in capsys.readouterr().err
    assert MineJob().main(["--conf", "mine.rerank.scorer=colbert"]) == 2
    assert "mine.rerank.scorer" in capsys.readouterr().err


def test_the_reranking_takes_the_gpus_the_job_declares(spark):
    from udfs.session import gpu_step_profile, task_profile

    assert MineJob.resources.gpus == 1 and not MineJob.resources.every_task
    profile = task_profile(MineJob.resources)
    assert profile.taskResources["gpu"].amount == 1.0 and profile.taskResources["cpus"].amount == 1
    # This session's executors have no GPU: the reranking runs in the BM25 tasks, without a profile.
    assert gpu_step_profile(spark, MineJob.resources) is None
