"""Retrieval measures through pytrec_eval (trec_eval's own code), not re-implemented here.

``evaluate(qrels, run)`` gives the four figures the paper reports for BM25:

- ``ndcg_at_10``  trec_eval ``ndcg_cut_10`` (MTEB's main score for WebFAQRetrieval)
- ``map``         trec_eval ``map`` over the whole run (we search 1,000 hits per query)
- ``mrr_at_10``   trec_eval ``recip_rank`` on the run cut to its 10 best hits per query
- ``recall_at_100`` trec_eval ``recall_100``

Averages are over every query with a relevant document in ``qrels``: a query missing from the run
(no hit at all) counts as 0, as trec_eval's ``-c`` option does.
"""
from __future__ import annotations


MEASURES = ("ndcg_at_10", "map", "mrr_at_10", "recall_at_100")


def _top(run: dict[str, dict[str, float]], k: int) -> dict[str, dict[str, float]]:
    # trec_eval's order: score descending, then document id descending.
    out = {}
    for q, docs in run.items():
        ranked = sorted(docs.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:k]
        out[q] = dict(ranked)
    return out


def per_query(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """``{query-id: {measure: value}}`` for every judged query (0 where the run has nothing)."""
    qrels = {q: {d: int(s) for d, s in docs.items()} for q, docs in qrels.items()
             if any(int(s) > 0 for s in docs.values())}
    run = {q: {d: float(s) for d, s in docs.items()} for q, docs in run.items() if q in qrels and docs}
    import pytrec_eval  # the retrieval extra; the measure names above serve the report without it

    full = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10", "map", "recall_100"}).evaluate(run)
    cut = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(_top(run, 10))
    out = {}
    for q in qrels:
        f, c = full.get(q, {}), cut.get(q, {})
        out[q] = {"ndcg_at_10": f.get("ndcg_cut_10", 0.0), "map": f.get("map", 0.0),
                  "mrr_at_10": c.get("recip_rank", 0.0), "recall_at_100": f.get("recall_100", 0.0)}
    return out


def evaluate(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean of each measure over the judged queries, plus ``queries`` (how many were judged)."""
    scores = per_query(qrels, run)
    n = len(scores)
    out = {m: (sum(s[m] for s in scores.values()) / n if n else 0.0) for m in MEASURES}
    out["queries"] = n
    return out


def format_row(name: str, result: dict[str, float]) -> str:
    return (f"{name:<12} queries {int(result['queries']):>6}  NDCG@10 {result['ndcg_at_10']:.4f}  "
            f"MAP {result['map']:.4f}  MRR@10 {result['mrr_at_10']:.4f}  R@100 {result['recall_at_100']:.4f}")
