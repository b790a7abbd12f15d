"""Hard negatives in the layouts trainers read, one config per format, strategy and language.

From one stored record per training query (``query, positive, pos_score, negatives, neg_scores``,
all BM25 candidates rescored by BGE-m3) and a selection strategy of lib/retrieval/negatives.py:

- ``n-tuple`` (sentence-transformers): ``query, positive, negative_1 .. negative_n, scores`` with
  ``scores = [pos_score, neg_score_1 .. neg_score_n]``: MultipleNegativesRankingLoss takes the
  text columns (the ``scores`` label column is ignored by it), MarginMSELoss takes ``scores`` as its
  soft targets. ``n`` is fixed per strategy (``num_negatives``, or ``scores_num_negatives`` for
  top10-scores); a query with fewer negatives left is skipped and counted, as
  ``mine_hard_negatives`` does.
- ``triplet`` (sentence-transformers): one row ``query, positive, negative, scores`` per negative,
  ``scores = [pos_score, neg_score]``.
- ``flagembedding``: FlagEmbedding's JSON-lines record ``{query, pos: [positive], neg: [...],
  pos_scores: [...], neg_scores: [...]}`` (``--knowledge_distillation`` uses the scores).

Every row ends with ``language`` and ``query_id``; the dataset card's configs list the trainer's
columns only, so ``load_dataset(folder, config)`` hands a trainer what it takes while the files
keep which language and query each row came from. Negatives are ordered by score, best first. The
strategy ``all`` (every stored candidate) has no fixed count: triplet and flagembedding only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from lib.retrieval import negatives as neg
from lib.schemas import FLAGEMBEDDING, TRIPLET, columns, n_tuple_schema

FORMATS = ("n-tuple", "triplet", "flagembedding")
ALL = "all"
STRATEGIES = (ALL,) + neg.STRATEGIES
TRACE = ("language", "query_id")
FILE_FORMAT = {"n-tuple": "parquet", "triplet": "parquet", "flagembedding": "jsonl"}


class FormatError(ValueError):
    """A format and strategy that do not go together."""


def fixed_negatives(strategy: str, params: neg.StrategyParams) -> int | None:
    """How many negatives a strategy gives at most per query (None: no bound, ``all``)."""
    if strategy == ALL:
        return None
    if strategy == "top10-scores":
        return params.scores_num_negatives
    if strategy in neg.STRATEGIES:
        return params.num_negatives
    raise FormatError(f"unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")


def check(fmt: str, strategy: str, params: neg.StrategyParams = neg.StrategyParams()) -> None:
    if fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if fmt == "n-tuple" and fixed_negatives(strategy, params) is None:
        raise FormatError("n-tuple needs a fixed number of negatives: strategy 'all' goes with "
                          "triplet or flagembedding")


def schema(fmt: str, strategy: str, params: neg.StrategyParams = neg.StrategyParams()) -> str:
    """The Spark DDL of a format's rows (lib/schemas.py)."""
    check(fmt, strategy, params)
    if fmt == "n-tuple":
        return n_tuple_schema(fixed_negatives(strategy, params))
    return TRIPLET if fmt == "triplet" else FLAGEMBEDDING


def trainer_columns(fmt: str, strategy: str, params: neg.StrategyParams = neg.StrategyParams()) -> list[str]:
    """The columns a trainer is handed (everything but ``language`` and ``query_id``)."""
    return [c for c in columns(schema(fmt, strategy, params)) if c not in TRACE]


def config_name(fmt: str, strategy: str, language: str) -> str:
    return f"{fmt}-{strategy}-{language}"


def folder(fmt: str, strategy: str, language: str) -> str:
    return f"{fmt}/{strategy}/{language}"


@dataclass
class Converted:
    rows: list[dict]
    skipped_short: int      # queries with fewer negatives than the n-tuple needs
    skipped_empty: int      # queries with no negative at all after the strategy


def selected(strategy: str, record: dict, seed: int | str, params: neg.StrategyParams) -> list[int]:
    """Positions of the record's negatives a strategy keeps, best score first."""
    scores: Sequence[float] = record["neg_scores"]
    if strategy == ALL:
        picked = list(range(len(scores)))
    else:
        picked = neg.select(strategy, record["pos_score"], scores, seed, record["query_id"], params).indices
    return sorted(picked, key=lambda i: (-scores[i], i))


def convert(fmt: str, strategy: str, record: dict, seed: int | str,
            params: neg.StrategyParams = neg.StrategyParams()) -> Converted:
    """The rows of one stored record in a format after a strategy."""
    idx = selected(strategy, record, seed, params)
    if not idx:
        return Converted([], 0, 1)
    query, positive, pos = record["query"], record["positive"], float(record["pos_score"])
    texts = [record["negatives"][i] for i in idx]
    scores = [float(record["neg_scores"][i]) for i in idx]
    trace = {"language": record["language"], "query_id": record["query_id"]}
    if fmt == "n-tuple":
        n = fixed_negatives(strategy, params)
        if len(idx) < n:
            return Converted([], 1, 0)
        row = {"query": query, "positive": positive}
        row.update({f"negative_{i}": t for i, t in enumerate(texts[:n], start=1)})
        row["scores"] = [pos, *scores[:n]]
        return Converted([{**row, **trace}], 0, 0)
    if fmt == "triplet":
        return Converted([{"query": query, "positive": positive, "negative": t, "scores": [pos, s], **trace}
                          for t, s in zip(texts, scores)], 0, 0)
    if fmt == "flagembedding":
        return Converted([{"query": query, "pos": [positive], "neg": texts, "pos_scores": [pos],
                           "neg_scores": scores, **trace}], 0, 0)
    raise FormatError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def strategy_notes(params: neg.StrategyParams) -> dict[str, str]:
    """One line per strategy for the dataset card, with the parameters it ran with."""
    return {
        ALL: "every stored candidate (BM25 top-k minus the positive and its duplicates), best score first",
        "top4": f"the {params.num_negatives} highest-scored candidates, no filtering",
        "denoised": f"RocketQA denoising: candidates scored above max_score={params.max_score} (likely false "
                    f"negatives) or below min_score={params.min_score} dropped, {params.num_negatives} "
                    "sampled from the rest (seeded per query)",
        "margin": f"NV-Retriever TopK-PercPos: candidates scored above pos_score - |pos_score| x "
                  f"relative_margin={params.relative_margin} dropped, the {params.num_negatives} highest kept",
        "top10-scores": f"the {params.scores_num_negatives} highest-scored candidates with their scores "
                        "(MarginMSE soft targets), no filtering",
    }
