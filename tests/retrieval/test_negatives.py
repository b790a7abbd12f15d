"""lib/retrieval/negatives.py: candidate cleaning and the four export strategies, on real COVID-QA answers."""
from __future__ import annotations

import dataclasses

import pytest

from lib.retrieval import negatives as neg
from tests.qa_fixtures import covidqa_pairs


@pytest.fixture(scope="module")
def answers(shared_data):
    pairs = covidqa_pairs(shared_data)
    return list(pairs[pairs.language == "eng"].answer[:30])


def test_clean_drops_positive_its_duplicates_and_repeats(answers):
    pos = answers[0]
    ids = ["d0", "dup", "d1", "d2", "d1bis", "d3"]
    texts = [pos, "  " + pos.upper().replace(" ", "\n ") + " ", answers[1], answers[2], answers[1], answers[3]]
    c = neg.clean_candidates("d0", pos, ids, texts, [9, 8, 7, 6, 5, 4])
    assert c.ids == ["d1", "d2", "d3"]
    assert c.texts == [answers[1], answers[2], answers[3]]
    assert c.bm25_scores == [7.0, 6.0, 4.0]
    assert (c.positive_rank, c.removed_positive_duplicates, c.removed_repeated_texts) == (1, 1, 1)
    # The positive not retrieved: rank 0, nothing removed for it.
    c = neg.clean_candidates("dX", "another answer entirely", ids[2:4], texts[2:4], [3, 2])
    assert (c.positive_rank, c.ids) == (0, ["d1", "d2"])


SCORES = [0.95, 0.2, 0.05, 0.5, 0.91, 0.3, 0.6, 0.7, 0.12, 0.08, 0.4, 0.85]


def test_top4_and_top10_take_the_best_scores():
    s = neg.select("top4", 0.8, SCORES, 1, "q1")
    assert [SCORES[i] for i in s.indices] == [0.95, 0.91, 0.85, 0.7]
    assert (s.removed_false_negatives, s.removed_other) == (0, 0)
    s = neg.select("top10-scores", 0.8, SCORES, 1, "q1")
    assert [SCORES[i] for i in s.indices] == sorted(SCORES, reverse=True)[:10]
    assert (s.removed_false_negatives, s.removed_other) == (0, 0)


def test_denoised_drops_above_high_and_below_low_and_is_seeded():
    s = neg.select("denoised", 0.8, SCORES, 7, "q1")
    picked = [SCORES[i] for i in s.indices]
    assert len(picked) == 4 and all(0.1 <= x <= 0.9 for x in picked)
    assert (s.removed_false_negatives, s.removed_other) == (2, 2)
    assert neg.select("denoised", 0.8, SCORES, 7, "q1").indices == s.indices      # same seed, same pick
    # The pick itself, so that an export made with a seed stays the same across versions: Python's
    # random.Random seeded with the first 16 hex digits of SHA-256("7:q1"), sampling 4 of the 8
    # candidates in [0.1, 0.9] listed best first.
    assert s.indices == [7, 3, 10, 1] and [SCORES[i] for i in s.indices] == [0.7, 0.5, 0.4, 0.2]
    draws = {tuple(neg.select("denoised", 0.8, SCORES, seed, "q1").indices) for seed in range(20)}
    assert len(draws) > 5                                                          # the seed matters
    few = neg.select("denoised", 0.8, [0.95, 0.5, 0.05], 7, "q1")                  # fewer than 4 left
    assert few.indices == [1]
    # Exactly 4 left: all of them, best first (not a draw: for "q2" a sample of 4 gives [0, 4, 3, 1]).
    four = neg.select("denoised", 0.8, [0.3, 0.6, 0.95, 0.2, 0.5], 7, "q2")
    assert four.indices == [1, 4, 0, 3]


def test_margin_is_relative_to_the_positive():
    s = neg.select("margin", 0.8, SCORES, 1, "q1")       # limit 0.76
    assert [SCORES[i] for i in s.indices] == [0.7, 0.6, 0.5, 0.4]
    assert (s.removed_false_negatives, s.removed_other) == (3, 0)   # 0.95, 0.91 and 0.85 are above 0.76
    s = neg.select("margin", 0.5, SCORES, 1, "q1", neg.StrategyParams(relative_margin=0.0))
    assert max(SCORES[i] for i in s.indices) <= 0.5
    # sentence-transformers' rule: pos - |pos| x relative_margin, also for a negative positive score.
    s = neg.select("margin", -0.5, [-0.4, -0.53, -0.6], 1, "q1", neg.StrategyParams(relative_margin=0.05))
    assert s.indices == [1, 2] and s.removed_false_negatives == 1           # limit -0.525


def test_scores_exactly_on_a_bound_are_kept():
    # The bounds are inclusive, as in sentence-transformers' mine_hard_negatives, which removes
    # `scores > max_score`, `scores < min_score` and `scores > pos - |pos| x relative_margin`:
    # a candidate scored exactly 0.9, 0.1 or at the margin limit is a negative.
    s = neg.select("denoised", 0.8, [0.95, 0.9, 0.1, 0.05], 7, "q1")
    assert s.indices == [1, 2]                                   # 0.9 and 0.1 kept (both: fewer than 4)
    assert (s.removed_false_negatives, s.removed_other) == (1, 1)  # only 0.95 above, only 0.05 below
    assert neg.false_negative_removals(0.8, [0.95, 0.9, 0.1, 0.05])["denoised"] == 1
    # The margin limit of a 0.8 positive is 0.8 - 0.8 x 0.05 = 0.76, a float compared exactly.
    limit = neg.margin_limit(0.8)
    assert limit == 0.76
    s = neg.select("margin", 0.8, [0.77, 0.76, 0.75], 1, "q1")
    assert s.indices == [1, 2] and s.removed_false_negatives == 1
    assert neg.false_negative_removals(0.8, [0.77, 0.76, 0.75])["margin"] == 1
    s = neg.select("margin", -0.5, [-0.525, -0.52], 1, "q1")     # negative positive score: limit -0.525
    assert s.indices == [0] and s.removed_false_negatives == 1


def test_names_and_ids_compare_by_value():
    # Strategy names and ids arrive as strings built at run time (argparse, Delta rows), not as the
    # interned literals of the code: equal text must do.
    def built(text):
        return "".join(list(text))

    for strategy in neg.STRATEGIES:
        assert neg.select(built(strategy), 0.8, SCORES, 7, "q1").indices == neg.select(strategy, 0.8, SCORES, 7, "q1").indices
    c = neg.clean_candidates(built("d1"), "an answer", ["d0", "d1"], ["other text", "an answer"], [2, 1])
    assert (c.positive_rank, c.ids) == (2, ["d0"])


def test_false_negative_removals_match_the_selections():
    counts = neg.false_negative_removals(0.8, SCORES)
    assert counts == {"top4": 0, "denoised": 2, "margin": 3, "top10-scores": 0}
    for strategy in neg.STRATEGIES:
        assert neg.select(strategy, 0.8, SCORES, 3, "q").removed_false_negatives == counts[strategy]


def test_unknown_strategy():
    # 'all' is an export choice (every candidate), not a selection rule; names sorting before or
    # after the known ones are refused alike.
    for name in ("random", "all", "zzz", "Top4"):
        with pytest.raises(ValueError, match="unknown strategy"):
            neg.select(name, 0.8, SCORES, 1, "q")


def test_params_from_conf():
    from lib.conf import load_conf

    p = neg.StrategyParams.from_conf(load_conf("local")["mine"]["export"])
    with pytest.raises(dataclasses.FrozenInstanceError):      # the shared default cannot be changed
        neg.StrategyParams().max_score = 0.5
    assert (p.max_score, p.min_score, p.relative_margin, p.num_negatives, p.scores_num_negatives) == (0.9, 0.1, 0.05, 4, 10)
    with pytest.raises(ValueError, match="unknown hard-negative parameter.*denoise_high"):
        neg.StrategyParams.from_conf({"seed": 1, "denoise_high": 0.9})
