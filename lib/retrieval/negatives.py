"""Hard negatives: cleaning BM25 candidates, and the selection strategies of the export.

Mining keeps, per training query, its BM25 top-200 minus the positive itself and minus every
*duplicate of the positive* (a candidate whose normalised text equals the positive's answer: the
same answer published under another QA pair is not a negative), minus repeated candidate texts
(the first, best-ranked copy stays). What is left is rescored by BGE-m3 and stored whole.

The export then picks negatives with one of these strategies (WebFAQ 2.0 section on hard
negatives), each reproducible from a seed: the random draws of a query use a generator seeded by
SHA-256 of ``"<seed>:<query id>"``, so the choice does not depend on partitioning or row order.

- ``top4``:  the ``num_negatives`` (4) highest-scored candidates (1:4), no filtering.
- ``denoised``: RocketQA's denoising: drop candidates scored above ``max_score`` (0.9, likely false
  negatives) or below ``min_score`` (0.1, uninformative), then sample ``num_negatives`` of the rest.
- ``margin``: positive-aware filtering of NV-Retriever ("TopK-PercPos"): drop candidates scored
  above ``pos_score - |pos_score| * relative_margin`` (0.05: 95 % of a positive score), then take
  the ``num_negatives`` highest of the rest.
- ``top10-scores``: the ``scores_num_negatives`` (10) highest-scored candidates with their scores
  and the positive's score, the soft targets of MarginMSE; no filtering.

The parameters carry the names sentence-transformers' ``mine_hard_negatives`` gives the same
rules (``num_negatives``, ``max_score``, ``min_score``, ``relative_margin``; ``top4`` and
``top10-scores`` are its ``sampling_strategy="top"``, ``denoised`` its ``"random"``).

``false_negative_removals`` counts, per strategy, the candidates it drops as likely false
negatives (``top4`` and ``top10-scores`` drop none by design: that is their known weakness).
"""
from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

STRATEGIES = ("top4", "denoised", "margin", "top10-scores")


@dataclass(frozen=True)
class StrategyParams:
    num_negatives: int = 4          # top4, denoised, margin
    max_score: float = 0.9          # denoised: above = likely false negative
    min_score: float = 0.1          # denoised: below = too easy / noise
    relative_margin: float = 0.05   # margin: drop scores above pos - |pos| x relative_margin
    scores_num_negatives: int = 10  # top10-scores

    @classmethod
    def from_conf(cls, section: dict | None, ignore: tuple[str, ...] = ("seed",)) -> "StrategyParams":
        """The parameters of a configuration section; an unknown key is an error, not ignored."""
        section = dict(section or {})
        unknown = sorted(k for k in section if k not in cls.__dataclass_fields__ and k not in ignore)
        if unknown:
            raise ValueError(f"unknown hard-negative parameter(s) {', '.join(unknown)} "
                             f"(known: {', '.join(cls.__dataclass_fields__)})")
        return cls(**{k: type(getattr(cls(), k))(v) for k, v in section.items() if k in cls.__dataclass_fields__})


_SPACE = re.compile(r"\s+")


def normalize_text(text: str | None) -> str:
    """The form two answers are compared in: NFKC, case-folded, whitespace collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().casefold()


@dataclass
class CleanedCandidates:
    ids: list[str]
    texts: list[str]
    bm25_scores: list[float]
    positive_rank: int              # 1-based rank of the positive in the BM25 list, 0 = not retrieved
    removed_positive_duplicates: int
    removed_repeated_texts: int


def clean_candidates(positive_id: str, positive_text: str, ids: Sequence[str], texts: Sequence[str],
                     bm25_scores: Sequence[float]) -> CleanedCandidates:
    """Drop the positive, duplicates of the positive's text and repeated texts from a BM25 list."""
    pos_norm = normalize_text(positive_text)
    seen: set[str] = set()
    out_ids, out_texts, out_scores = [], [], []
    rank, dup_pos, repeated = 0, 0, 0
    for i, (doc, text, score) in enumerate(zip(ids, texts, bm25_scores), start=1):
        if doc == positive_id:
            rank = rank or i
            continue
        norm = normalize_text(text)
        if norm == pos_norm:
            dup_pos += 1
            continue
        if norm in seen:
            repeated += 1
            continue
        seen.add(norm)
        out_ids.append(doc)
        out_texts.append(text)
        out_scores.append(float(score))
    return CleanedCandidates(out_ids, out_texts, out_scores, rank, dup_pos, repeated)


def query_rng(seed: int | str, query_id: str) -> random.Random:
    """The random generator of one query for one seed (independent of order and partitioning)."""
    return random.Random(int(hashlib.sha256(f"{seed}:{query_id}".encode("utf-8")).hexdigest()[:16], 16))


def _ranked(scores: Sequence[float]) -> list[int]:
    # Highest score first; ties keep the mined (BM25) order.
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


@dataclass
class Selection:
    indices: list[int]              # positions in the stored negatives list, in output order
    removed_false_negatives: int    # dropped as likely false negatives (above a threshold)
    removed_other: int              # dropped for another reason (denoised: below the low threshold)


def select(strategy: str, pos_score: float, neg_scores: Sequence[float], seed: int | str, query_id: str,
           params: StrategyParams = StrategyParams()) -> Selection:
    """Which stored negatives a strategy exports for one query."""
    order = _ranked(neg_scores)
    if strategy == "top4":
        return Selection(order[: params.num_negatives], 0, 0)
    if strategy == "top10-scores":
        return Selection(order[: params.scores_num_negatives], 0, 0)
    if strategy == "denoised":
        high = [i for i in order if neg_scores[i] > params.max_score]
        low = [i for i in order if neg_scores[i] < params.min_score]
        rest = [i for i in order if params.min_score <= neg_scores[i] <= params.max_score]
        rng = query_rng(seed, query_id)
        picked = rest if len(rest) <= params.num_negatives else rng.sample(rest, params.num_negatives)
        return Selection(picked, len(high), len(low))
    if strategy == "margin":
        limit = margin_limit(pos_score, params)
        kept = [i for i in order if neg_scores[i] <= limit]
        return Selection(kept[: params.num_negatives], len(order) - len(kept), 0)
    raise ValueError(f"unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")


def margin_limit(pos_score: float, params: StrategyParams = StrategyParams()) -> float:
    """The highest score a ``margin`` negative may have (sentence-transformers' ``relative_margin``)."""
    return pos_score - abs(pos_score) * params.relative_margin


def false_negative_removals(pos_score: float, neg_scores: Sequence[float],
                            params: StrategyParams = StrategyParams()) -> dict[str, int]:
    """How many candidates each strategy drops as likely false negatives, for one query."""
    return {
        "top4": 0,
        "denoised": sum(1 for s in neg_scores if s > params.max_score),
        "margin": sum(1 for s in neg_scores if s > margin_limit(pos_score, params)),
        "top10-scores": 0,
    }
