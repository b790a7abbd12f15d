"""Dense retrieval: exact inner-product search with faiss, and the hybrid BM25 + dense fusion. No Spark.

Search is exact (``faiss.IndexFlatIP``): every query is scored against every document of its
language, on all GPUs faiss sees when the faiss build has CUDA (``faiss-gpu``), else on the CPU.
Embeddings of a model whose similarity is cosine arrive L2-normalised, so the inner product is the
cosine; any other model is searched by its dot product.

Hybrid rule (the WebFAQ authors' ``bm25_evaluate_hybrid``): a document in both the BM25 and the
dense top-k of a query scores ``dense_weight x dense + bm25`` (``dense_weight`` 1.1); documents in
only one of the two lists come after all of those. The authors give them a score of 0 (so their
order among themselves is arbitrary); here they keep their own list's order, dense hits before
BM25-only hits, so the ranking is fully defined.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

Run = dict[str, dict[str, float]]


def faiss_gpus() -> int:
    """GPUs faiss can use (0 with faiss-cpu or without CUDA)."""
    import faiss

    try:
        return int(faiss.get_num_gpus())
    except AttributeError:  # pragma: no cover - a faiss build without the GPU API
        return 0


def exact_search(doc_ids: Sequence[str], doc_emb: np.ndarray, query_ids: Sequence[str], query_emb: np.ndarray,
                 k: int, use_gpu: bool | None = None, batch: int = 4096) -> Run:
    """Top-``k`` documents per query by inner product: ``{query id: {doc id: score}}``."""
    import faiss

    if len(query_ids) == 0:
        return {}
    if len(doc_ids) == 0:
        return {str(q): {} for q in query_ids}
    doc_emb = np.ascontiguousarray(doc_emb, dtype=np.float32)
    query_emb = np.ascontiguousarray(query_emb, dtype=np.float32)
    if doc_emb.shape[1] != query_emb.shape[1]:
        raise ValueError(f"documents have {doc_emb.shape[1]} dimensions, queries {query_emb.shape[1]}")
    index = faiss.IndexFlatIP(doc_emb.shape[1])
    if use_gpu is None:
        use_gpu = faiss_gpus() > 0
    if use_gpu:  # pragma: no cover - GPU only
        index = faiss.index_cpu_to_all_gpus(index)
    index.add(doc_emb)
    k = min(int(k), len(doc_ids))
    run: Run = {}
    for start in range(0, len(query_ids), batch):
        scores, idx = index.search(query_emb[start:start + batch], k)
        for row, qid in enumerate(query_ids[start:start + batch]):
            run[str(qid)] = {str(doc_ids[i]): float(s) for s, i in zip(scores[row], idx[row]) if i >= 0}
    return run


def fuse_hybrid(bm25: Run, dense: Run, dense_weight: float = 1.1) -> Run:
    """BM25 and dense runs fused by the rule of the module docstring."""
    out: Run = {}
    for qid in set(bm25) | set(dense):
        b, d = bm25.get(qid, {}), dense.get(qid, {})
        both = {doc: dense_weight * d[doc] + b[doc] for doc in d.keys() & b.keys()}
        ranked = sorted(both.items(), key=lambda kv: (-kv[1], kv[0]))
        floor = (min(both.values()) if both else 0.0) - 1.0
        rest = [doc for doc, _ in sorted(d.items(), key=lambda kv: (-kv[1], kv[0])) if doc not in both]
        rest += [doc for doc, _ in sorted(b.items(), key=lambda kv: (-kv[1], kv[0])) if doc not in both and doc not in d]
        scores = dict(ranked)
        # Below every fused score, in their order (scores strictly decreasing: trec_eval keeps the order).
        for i, doc in enumerate(rest):
            scores[doc] = floor - i / (len(rest) + 1)
        out[qid] = scores
    return out
