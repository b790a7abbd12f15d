"""lib/exports/trainers.py: stored hard-negative records in sentence-transformers' and FlagEmbedding's layouts."""
from __future__ import annotations

import pytest

from lib.exports import trainers
from lib.retrieval import negatives as neg
from lib.schemas import columns

SCORES = [0.95, 0.2, 0.05, 0.5, 0.91, 0.3, 0.6, 0.7, 0.12, 0.08, 0.4, 0.85]
RECORD = {"language": "eng", "query_id": "q1", "query": "Is it safe?", "positive": "the answer", "pos_score": 0.8,
          "negatives": [f"text {x}" for x in SCORES], "neg_scores": SCORES}


def test_n_tuple_rows_follow_mine_hard_negatives():
    out = trainers.convert("n-tuple", "top4", RECORD, 5)
    (row,) = out.rows
    assert list(row) == ["query", "positive", "negative_1", "negative_2", "negative_3", "negative_4", "scores",
                         "language", "query_id"]
    assert [row[f"negative_{i}"] for i in range(1, 5)] == ["text 0.95", "text 0.91", "text 0.85", "text 0.7"]
    assert row["scores"] == [0.8, 0.95, 0.91, 0.85, 0.7]                 # positive first: MarginMSE's layout
    assert trainers.trainer_columns("n-tuple", "top4") == list(row)[:7]
    (wide,) = trainers.convert("n-tuple", "top10-scores", RECORD, 5).rows
    assert len(wide["scores"]) == 11 and "negative_10" in wide
    assert columns(trainers.schema("n-tuple", "top10-scores"))[:3] == ["query", "positive", "negative_1"]
    # Too few negatives left for a fixed-width row: skipped and counted, as mine_hard_negatives does.
    few = dict(RECORD, negatives=["a", "b", "c"], neg_scores=[0.5, 0.4, 0.3])
    assert trainers.convert("n-tuple", "top4", few, 5).skipped_short == 1
    none = dict(RECORD, negatives=["a"], neg_scores=[0.99])
    assert trainers.convert("triplet", "denoised", none, 5).skipped_empty == 1


def test_every_format_keeps_texts_and_scores_aligned():
    for strategy in trainers.STRATEGIES:
        for fmt in trainers.FORMATS:
            if fmt == "n-tuple" and strategy == "all":
                with pytest.raises(trainers.FormatError, match="n-tuple needs a fixed number"):
                    trainers.check(fmt, strategy)
                continue
            rows = trainers.convert(fmt, strategy, RECORD, 5).rows
            assert rows and all(r["language"] == "eng" and r["query_id"] == "q1" for r in rows)
            if fmt == "triplet":
                pairs = [(r["negative"], r["scores"][1]) for r in rows]
            elif fmt == "flagembedding":
                (r,) = rows
                assert r["pos"] == ["the answer"] and r["pos_scores"] == [0.8]
                pairs = list(zip(r["neg"], r["neg_scores"]))
            else:
                (r,) = rows
                pairs = [(r[f"negative_{i}"], r["scores"][i]) for i in range(1, len(r["scores"]))]
            assert all(text == f"text {score}" for text, score in pairs)
            assert [s for _, s in pairs] == sorted((s for _, s in pairs), reverse=True)   # best first
            chosen = neg.select(strategy, 0.8, SCORES, 5, "q1").indices if strategy != "all" else range(len(SCORES))
            assert sorted(s for _, s in pairs) == sorted(SCORES[i] for i in chosen)


def test_names_and_notes():
    assert trainers.config_name("n-tuple", "top10-scores", "deu") == "n-tuple-top10-scores-deu"
    assert trainers.folder("triplet", "margin", "deu") == "triplet/margin/deu"
    notes = trainers.strategy_notes(neg.StrategyParams(relative_margin=0.1))
    assert set(notes) == set(trainers.STRATEGIES) and "relative_margin=0.1" in notes["margin"]
    with pytest.raises(trainers.FormatError, match="unknown format"):
        trainers.check("csv", "top4")
