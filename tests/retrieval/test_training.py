"""lib/retrieval/training.py: the training rows of the four strategies, on real COVID-QA answers."""
from __future__ import annotations

import pytest

from lib.retrieval import negatives as neg
from lib.retrieval import training
from lib.schemas import columns
from tests.qa_fixtures import covidqa_pairs


@pytest.fixture(scope="module")
def eng(shared_data):
    pairs = covidqa_pairs(shared_data)
    return pairs[pairs.language == "eng"].reset_index(drop=True)


# Rescoring scores of 12 candidates (as in tests/retrieval/test_negatives.py).
SCORES = [0.95, 0.2, 0.05, 0.5, 0.91, 0.3, 0.6, 0.7, 0.12, 0.08, 0.4, 0.85]


def record(eng, n=12, scores=SCORES):
    return {"language": "eng", "query_id": "q1", "query": eng.question[0], "positive": eng.answer[0],
            "pos_score": 0.8, "negatives": list(eng.answer[1:1 + n]), "neg_scores": scores[:n]}


def test_columns_match_the_schema_the_files_are_written_with():
    from udfs.retrieval.train import SKIPPED_COLUMN, examples_schema

    p = neg.StrategyParams()
    for strategy in training.STRATEGIES:
        assert columns(examples_schema(strategy, p)) == training.example_columns(strategy, p) + [SKIPPED_COLUMN]
    assert training.input_columns("rn", p) == ["anchor", "positive", "negative_1", "negative_2", "negative_3",
                                               "negative_4"]
    assert training.input_columns("margin-mse", p)[-1] == "negative_10"
    assert training.example_columns("margin-mse", p)[-1] == "label"


def test_top4_takes_the_best_scored_candidates(eng):
    ex = training.mined_example("top4", record(eng), 42)
    # 0.95, 0.91, 0.85, 0.7 are candidates 0, 4, 11, 7 -> answers 1, 5, 12, 8
    assert [ex.row[f"negative_{i}"] for i in range(1, 5)] == [eng.answer[1], eng.answer[5], eng.answer[12], eng.answer[8]]
    assert ex.row["anchor"] == eng.question[0] and ex.row["positive"] == eng.answer[0]
    assert "label" not in ex.row and ex.skipped is None


def test_denoised_samples_between_the_thresholds_reproducibly(eng):
    a = training.mined_example("denoised", record(eng), 42)
    b = training.mined_example("denoised", record(eng), 42)
    assert a.row == b.row
    scores = {eng.answer[1 + i]: s for i, s in enumerate(SCORES)}
    picked = [a.row[f"negative_{i}"] for i in range(1, 5)]
    assert len(set(picked)) == 4 and all(0.1 <= scores[t] <= 0.9 for t in picked)
    # Only three candidates in range: the query is skipped, not padded.
    few = record(eng, 12, [0.95, 0.05, 0.5, 0.3, 0.6, 0.02, 0.99, 0.01, 0.93, 0.97, 0.08, 0.04])
    assert training.mined_example("denoised", few, 42).skipped == training.SKIP_TOO_FEW


def test_margin_mse_label_is_positive_then_negative_scores(eng):
    ex = training.mined_example("margin-mse", record(eng), 42)
    assert ex.row["query"] == eng.question[0]
    assert ex.row["label"] == pytest.approx([0.8] + sorted(SCORES, reverse=True)[:10])
    assert ex.row["negative_1"] == eng.answer[1] and ex.row["negative_10"] == eng.answer[9]   # 0.95 ... 0.12
    assert training.mined_example("margin-mse", record(eng, 9), 42).skipped == training.SKIP_TOO_FEW
    empty = {**record(eng), "negatives": [], "neg_scores": []}
    assert training.mined_example("margin-mse", empty, 42).skipped == training.SKIP_NO_CANDIDATES


def test_random_negatives_never_the_positive_nor_its_text(eng):
    answers = list(eng.answer[:40])
    pool = training.RandomNegativePool(answers + ["  " + answers[3].upper() + " "])   # a duplicate of answer 3
    for i in range(10):
        ex = training.random_example(pool, "eng", f"q{i}", eng.question[i], answers[3], 7)
        picked = [ex.row[f"negative_{k}"] for k in range(1, 5)]
        assert len(set(picked)) == 4
        assert all(neg.normalize_text(t) != neg.normalize_text(answers[3]) for t in picked)
    # Seeded per query: same seed and query -> same draw; another seed -> (here) another draw.
    same = [training.random_example(pool, "eng", "q1", "x", answers[0], 7).row for _ in range(2)]
    assert same[0] == same[1]
    assert training.random_example(pool, "eng", "q1", "x", answers[0], 8).row != same[0]
    small = training.RandomNegativePool(answers[:4])
    assert training.random_example(small, "eng", "q", "x", answers[0], 7).skipped == training.SKIP_TOO_FEW


def test_loss_summary_and_card_section():
    history = [{"loss": 2.0, "step": 1}, {"loss": 1.0, "step": 2}, {"grad_norm": 3.0, "step": 2},
               {"loss": 0.5, "step": 3}, {"loss": 0.25, "step": 4}, {"train_loss": 0.9, "step": 4}]
    points = training.loss_points(history)
    assert points == [(1, 2.0), (2, 1.0), (3, 0.5), (4, 0.25)]
    s = training.loss_summary(points, steps_per_epoch=2)
    assert s == {"first_loss": 2.0, "final_loss": 0.25, "mean_loss_first": 1.5, "mean_loss_last": 0.375}
    section = training.card_section(base_model="base", strategy="denoised", samples={"eng": 120, "deu": 80},
                                    skipped={"eng": 3}, hyperparameters={"batch_size": 128}, summary=s, steps=4,
                                    seconds=12.0, processes=2, loss_plot="loss_curve.png")
    assert "| eng | 120 | 3 |" in section and "| deu | 80 | 0 |" in section and "**200**" in section
    assert "MultipleNegativesRankingLoss" in section and "final 0.2500" in section
    card = "---\nx\n---\n# Model\n\ntext\n\n## Training Details\n\nmore\n"
    out = training.insert_card_section(card, section)
    assert out.index("## WebFAQ training") < out.index("## Training Details")
    assert training.insert_card_section("# plain\n", section).endswith(section)
