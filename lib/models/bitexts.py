"""Bitext mining rules of WebFAQ 2.0, without Spark or models (WEBFAQ_FACTS.md, "Bitext mining").

Within one origin present in two or more languages, every pair of languages is aligned by LaBSE
embeddings of ``question + " " + answer`` (L2-normalised): a QA pair ``i`` of language 1 and ``j`` of
language 2 are a candidate when each is the other's nearest neighbour (mutual best match) with
cosine >= ``candidate_threshold`` (0.8); a candidate is a bitext when its cosine is >= ``threshold``
(0.9) and neither the questions nor the answers are identical strings (copies, not translations).
Language pairs with fewer than ``min_pairs_per_language_pair`` (100) bitexts are dropped afterwards,
over the whole corpus. Origins where a language has more than ``max_pairs_per_language`` (10,000)
pairs are skipped (counted), as are pairs with question–answer similarity below 0.5.

hreflang: two pages that name each other as ``<link rel="alternate" hreflang>`` are translations by
the site's own word. Every bitext records whether its two pages are so linked (``hreflang_linked``);
the job counts them. The alignment itself stays embedding-based (a linked page pair does not say
which question matches which).

Nearest neighbours: exact inner products, either by blocked matrix products (numpy; memory bounded
by ``block`` rows at a time) or by a faiss flat inner-product index (faiss-gpu where present).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Iterable, Sequence

import numpy as np

ENGLISH = "eng"


@dataclass(frozen=True)
class MiningSettings:
    candidate_threshold: float = 0.8
    threshold: float = 0.9
    min_pairs_per_language_pair: int = 100
    max_pairs_per_language: int = 10_000
    min_qa_similarity: float = 0.5
    search: str = "numpy"          # numpy | faiss
    block: int = 4096

    @classmethod
    def from_conf(cls, section: dict | None) -> "MiningSettings":
        section = dict(section or {})
        known = {k: v for k, v in section.items() if k in cls.__dataclass_fields__}
        settings = cls(**known)
        if settings.search not in ("numpy", "faiss"):
            raise ValueError(f"bitexts.search must be numpy or faiss, not {settings.search!r}")
        if not 0 <= settings.candidate_threshold <= settings.threshold <= 1:
            raise ValueError("bitexts thresholds must satisfy 0 <= candidate_threshold <= threshold <= 1")
        return settings


def mining_text(question: str, answer: str) -> str:
    """What LaBSE embeds for one QA pair."""
    return f"{question} {answer}"


def l2_normalise(emb: np.ndarray) -> np.ndarray:
    emb = np.asarray(emb, dtype=np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.where(norms > 0, norms, 1.0)


def nearest_blocked(a: np.ndarray, b: np.ndarray, block: int = 4096) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best match of every row of ``a`` in ``b`` and of every row of ``b`` in ``a`` (inner product).

    Returns ``(a_best, a_score, b_best, b_score)``. One pass over row blocks of ``a``: the block's
    products give the rows' best matches, and a running maximum per column gives ``b``'s.
    """
    n, m = len(a), len(b)
    a_best = np.full(n, -1, dtype=np.int64)
    a_score = np.full(n, -np.inf, dtype=np.float32)
    b_best = np.full(m, -1, dtype=np.int64)
    b_score = np.full(m, -np.inf, dtype=np.float32)
    if n == 0 or m == 0:
        return a_best, a_score, b_best, b_score
    for start in range(0, n, max(1, block)):
        sims = a[start:start + block] @ b.T
        rows = np.argmax(sims, axis=1)
        a_best[start:start + len(rows)] = rows
        a_score[start:start + len(rows)] = sims[np.arange(len(rows)), rows]
        cols = np.argmax(sims, axis=0)
        col_scores = sims[cols, np.arange(m)]
        better = col_scores > b_score
        b_best[better] = cols[better] + start
        b_score[better] = col_scores[better]
    return a_best, a_score, b_best, b_score


def nearest_faiss(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The same as ``nearest_blocked`` with faiss flat inner-product indexes (exact search)."""
    import faiss

    def search(index_vectors: np.ndarray, queries: np.ndarray):
        index = faiss.IndexFlatIP(index_vectors.shape[1])
        if hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0:  # pragma: no cover - GPU only
            index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
        index.add(np.ascontiguousarray(index_vectors, dtype=np.float32))
        scores, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32), 1)
        return ids[:, 0].astype(np.int64), scores[:, 0].astype(np.float32)

    if len(a) == 0 or len(b) == 0:
        return nearest_blocked(a, b)
    a_best, a_score = search(b, a)
    b_best, b_score = search(a, b)
    return a_best, a_score, b_best, b_score


def mutual_best_matches(a: np.ndarray, b: np.ndarray, min_score: float, search: str = "numpy",
                        block: int = 4096) -> list[tuple[int, int, float]]:
    """``(i, j, cosine)`` where ``a[i]`` and ``b[j]`` are each other's best match with cosine >= min_score.

    ``a`` and ``b`` must be L2-normalised (inner product = cosine).
    """
    if search == "faiss":
        a_best, a_score, b_best, _ = nearest_faiss(a, b)
    else:
        a_best, a_score, b_best, _ = nearest_blocked(a, b, block)
    out = []
    for i, j in enumerate(a_best):
        if j >= 0 and b_best[j] == i and a_score[i] >= min_score:
            out.append((i, int(j), float(a_score[i])))
    return out


def ordered_language_pairs(languages: Iterable[str]) -> list[tuple[str, str]]:
    """Every unordered pair of distinct languages, each as (smaller code, larger code)."""
    return list(combinations(sorted(set(languages)), 2))


def link_key(url1: str | None, url2: str | None) -> tuple[str, str]:
    return tuple(sorted((url1 or "", url2 or "")))  # type: ignore[return-value]


def hreflang_link_set(pages: Iterable[tuple[str, Sequence[str]]]) -> set[tuple[str, str]]:
    """Unordered page pairs linked by hreflang: ``(url, [alternate urls])`` -> {(u1, u2), ...}.

    A link in either direction counts (many sites list alternates on one side only).
    """
    links = set()
    for url, alternates in pages:
        for alt in alternates or ():
            if alt and url and alt != url:
                links.add(link_key(url, alt))
    return links


def mine_origin(rows: Sequence[dict], embeddings: np.ndarray, settings: MiningSettings,
                linked: set[tuple[str, str]] | None = None) -> tuple[list[dict], dict[str, int]]:
    """Bitexts of one origin.

    ``rows`` are the origin's QA pairs (``id, language, url, question, answer``, questions already
    deduplicated per language), ``embeddings`` their L2-normalised mining embeddings (same order).
    Returns the bitext rows (``language1 < language2``) and counters. The per-language-pair minimum
    (``bitexts.min_pairs_per_language_pair``) is applied later, over all origins, by the job.
    """
    counters = {"candidates": 0, "below_threshold": 0, "identical_question": 0, "identical_answer": 0,
                "bitexts": 0, "hreflang_linked": 0, "language_pairs_compared": 0}
    linked = linked or set()
    by_language: dict[str, list[int]] = {}
    for idx, row in enumerate(rows):
        by_language.setdefault(row["language"], []).append(idx)
    out: list[dict] = []
    emb = np.asarray(embeddings, dtype=np.float32)
    for lang1, lang2 in ordered_language_pairs(by_language):
        idx1, idx2 = by_language[lang1], by_language[lang2]
        counters["language_pairs_compared"] += 1
        for i, j, score in mutual_best_matches(emb[idx1], emb[idx2], settings.candidate_threshold,
                                               settings.search, settings.block):
            r1, r2 = rows[idx1[i]], rows[idx2[j]]
            counters["candidates"] += 1
            if score < settings.threshold:
                counters["below_threshold"] += 1
                continue
            if r1["question"].strip() == r2["question"].strip():
                counters["identical_question"] += 1
                continue
            if r1["answer"].strip() == r2["answer"].strip():
                counters["identical_answer"] += 1
                continue
            is_linked = link_key(r1.get("url"), r2.get("url")) in linked
            counters["bitexts"] += 1
            counters["hreflang_linked"] += int(is_linked)
            out.append({
                "language1": lang1, "language2": lang2, "origin": r1.get("origin"),
                "labse_similarity": round(min(score, 1.0), 6),
                "question1": r1["question"], "question2": r2["question"],
                "answer1": r1["answer"], "answer2": r2["answer"],
                "urls": [r1.get("url"), r2.get("url")],
                "id1": r1["id"], "id2": r2["id"], "hreflang_linked": is_linked,
            })
    return out, counters


def export_record(row: dict) -> dict:
    """One line of the released files: the released fields, URLs under ``details``."""
    return {
        "language1": row["language1"], "language2": row["language2"], "origin": row["origin"],
        "labse_similarity": float(row["labse_similarity"]),
        "question1": row["question1"], "question2": row["question2"],
        "answer1": row["answer1"], "answer2": row["answer2"],
        "details": {"urls": list(row["urls"] or [])},
    }


def export_file(row: dict) -> str:
    """``with_english`` for pairs with English, else ``others`` (the two released files)."""
    return "with_english" if ENGLISH in (row["language1"], row["language2"]) else "others"


def precision_recall(mined: Iterable[tuple], gold: Iterable[tuple]) -> dict[str, float]:
    """Precision, recall and F1 of mined pairs against a gold alignment (pairs as hashable keys)."""
    mined, gold = set(mined), set(gold)
    hits = len(mined & gold)
    precision = hits / len(mined) if mined else 0.0
    recall = hits / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "mined": len(mined), "gold": len(gold),
            "correct": hits}
