"""Annotation rules of WebFAQ 2.0, without Spark or models: inputs, scores, labels, bookkeeping.

What a QA pair gets (WEBFAQ_FACTS.md, "Annotations"):

- ``semantic_similarity_score``: cosine of the question embedding (Jina-v3 task ``retrieval.query``)
  and the answer embedding (task ``retrieval.passage``), Matryoshka-truncated to 512 dimensions,
  kept at float16 precision (the value is rounded through ``numpy.float16`` and stored as float).
- ``topic``: one of 8 topics, from the input ``q ### a ### Title: t ### Description: d``.
- ``question_type``: one of 8 NFQA classes, from the question alone.

The two labels are given only for the languages the configuration lists; a pair in another language
gets null labels and the status ``unsupported_language`` (counted). Empty questions or answers get
no score (null, status ``empty``). Inputs longer than a model's maximum length are truncated by the
tokenizer and recorded in ``truncated`` (which inputs were cut), so the job can count them.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

TOPICS = (
    "Traveling and Hospitality",
    "Products and Commercial Services",
    "Healthcare Services, Wellness and Lifestyle",
    "Entertainment, Recreation and Leisure",
    "Banking, Financial Services and Insurance",
    "General Information and Other",
    "Employment, Education and Training",
    "Legal Services, Regulations and Government",
)
QUESTION_TYPES = (
    "Not-a-Question", "Factoid", "Debate", "Evidence-Based",
    "Instruction", "Reason", "Experience", "Comparison",
)

# Jina-v3 task names; a model that knows them as prompts or as a ``task`` argument gets them.
QUERY_TASK = "retrieval.query"
PASSAGE_TASK = "retrieval.passage"

STATUS_OK = "ok"
STATUS_EMPTY = "empty"
STATUS_UNSUPPORTED = "unsupported_language"


def topic_input(question: str, answer: str, title: str | None = None, description: str | None = None) -> str:
    """The topic classifier's input: ``q ### a[ ### Title: t][ ### Description: d]``."""
    text = f"{question} ### {answer}"
    if title and str(title).strip():
        text += f" ### Title: {str(title).strip()}"
    if description and str(description).strip():
        text += f" ### Description: {str(description).strip()}"
    return text


def is_empty(text) -> bool:
    return text is None or (isinstance(text, float) and np.isnan(text)) or not str(text).strip()


def truncate_dims(emb: np.ndarray, dims: int | None) -> np.ndarray:
    """Matryoshka truncation to the first ``dims`` dimensions (no-op when the model is smaller)."""
    if dims and emb.shape[-1] > dims:
        return emb[..., :dims]
    return emb


def pair_cosines(questions: np.ndarray, answers: np.ndarray, dims: int | None = 512) -> np.ndarray:
    """Row-wise cosine of question and answer embeddings after truncation, at float16 precision."""
    q = truncate_dims(np.asarray(questions, dtype=np.float32), dims)
    a = truncate_dims(np.asarray(answers, dtype=np.float32), dims)
    qn = np.linalg.norm(q, axis=1)
    an = np.linalg.norm(a, axis=1)
    denom = np.where((qn > 0) & (an > 0), qn * an, 1.0)
    cos = np.einsum("ij,ij->i", q, a) / denom
    cos = np.clip(cos, -1.0, 1.0)
    return float16_precision(cos)


def float16_precision(values: np.ndarray) -> np.ndarray:
    """Values rounded to the nearest float16, returned as float32 (what the table stores)."""
    return np.asarray(values, dtype=np.float32).astype(np.float16).astype(np.float32)


def resolve_labels(id2label: dict | None, num_labels: int, conf_labels: Sequence[str] | None,
                   conf_key: str) -> list[str]:
    """Class names of a classifier: its own ``id2label`` unless generic (``LABEL_0``), else the conf list.

    Raises ValueError naming ``conf_key`` when the conf list does not have one name per class.
    """
    names = [str((id2label or {}).get(i, (id2label or {}).get(str(i), f"LABEL_{i}"))) for i in range(num_labels)]
    generic = all(n == f"LABEL_{i}" for i, n in enumerate(names))
    if generic and conf_labels:
        if len(conf_labels) != num_labels:
            raise ValueError(f"{conf_key} lists {len(conf_labels)} names but the model has {num_labels} classes")
        return [str(n) for n in conf_labels]
    return names


def languages_with_min_origins(origin_counts: dict[str, int], min_origins: int) -> list[str]:
    """Languages with at least ``min_origins`` distinct origins (how WebFAQ 2.0 chose its 49)."""
    return sorted(lang for lang, n in origin_counts.items() if n >= min_origins)


def label_status(language: str | None, question, answer, label_languages: Iterable[str] | None) -> str:
    """``empty``, ``unsupported_language`` or ``ok`` for one pair (``None`` languages = all supported)."""
    if is_empty(question) or is_empty(answer):
        return STATUS_EMPTY
    if label_languages is not None and language not in set(label_languages):
        return STATUS_UNSUPPORTED
    return STATUS_OK
