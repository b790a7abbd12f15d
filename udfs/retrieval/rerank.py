"""BGE-m3 rescoring of query–candidate pairs inside Spark tasks (FlagEmbedding).

Scorer choice. ``BAAI/bge-m3`` (``models.bge_m3``) is an embedding model: it has no
classification head, so ``FlagReranker`` would load it with a randomly initialised head and
return noise. Its own relevance score for a (query, passage) pair is
``BGEM3FlagModel.compute_score``: both texts go through the model and the dense, sparse
(lexical-weight) and ColBERT (multi-vector) scores are combined, the reranking recipe of the
BGE-M3 model card (weights 0.4 / 0.2 / 0.4 for dense / sparse / colbert). This is the default
(``mine.rerank.scorer: bge_m3``). A true cross-encoder checkpoint (``BAAI/bge-reranker-v2-m3``,
itself initialised from bge-m3) is used with ``mine.rerank.scorer: reranker`` through
``FlagReranker.compute_score(normalize=True)`` (sigmoid scores in [0, 1]).

Any sentence-transformers model can score instead, by name or path (``mine.rerank.model``, which
replaces ``models.bge_m3`` when set): ``scorer: cross_encoder`` runs a ``CrossEncoder`` on each pair
(its activation applied: a sigmoid in [0, 1] for one-label rerankers such as ms-marco-MiniLM), and
``scorer: bi_encoder`` encodes query and passage apart with a ``SentenceTransformer`` and takes the
model's own similarity (the cosine for all-MiniLM-L6-v2); passage embeddings are kept per worker
(``cache_size`` texts), as the candidates of one language's queries overlap heavily.

The model is loaded once per Python worker process (Spark reuses workers,
``spark.python.worker.reuse``) and kept for every later task. On a GPU executor the task's GPU
comes from ``TaskContext.get().resources()['gpu']`` (Spark's GPU scheduling); without one the model
runs on CPU in float32. Pairs are scored sorted by length (less padding) and returned in input order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from udfs.models.encoders import load_model, task_device

SCORERS = ("bge_m3", "reranker", "cross_encoder", "bi_encoder")


@dataclass(frozen=True)
class RerankSettings:
    model: str                                  # models.bge_m3 in conf/
    scorer: str = "bge_m3"
    batch_size: int = 32
    max_query_length: int = 128
    max_passage_length: int = 512
    weights: tuple[float, float, float] = (0.4, 0.2, 0.4)   # dense, sparse, colbert (bge_m3)
    fp16_on_gpu: bool = True
    cache_size: int = 100_000                   # bi_encoder: passage embeddings kept per worker

    @classmethod
    def from_conf(cls, model: str, section: dict | None) -> "RerankSettings":
        section = dict(section or {})
        if "weights" in section:
            section["weights"] = tuple(float(w) for w in section["weights"])
        known = {k: v for k, v in section.items() if k in cls.__dataclass_fields__ and k != "model"}
        settings = cls(model=section.get("model") or model, **known)
        if settings.scorer not in SCORERS:
            raise ValueError(f"mine.rerank.scorer must be one of {', '.join(SCORERS)}, not {settings.scorer!r}")
        return settings


def _quiet_flagembedding() -> None:
    """FlagEmbedding draws a tqdm bar per compute_score call (thousands per task): silence them."""
    import importlib

    for name in ("FlagEmbedding.inference.embedder.encoder_only.m3",
                 "FlagEmbedding.inference.reranker.encoder_only.base"):
        module = importlib.import_module(name)
        bar = getattr(module, "tqdm", None)
        if bar is not None and not getattr(bar, "_webfaq_quiet", False):
            def quiet(*args, _bar=bar, **kwargs):
                kwargs["disable"] = True
                return _bar(*args, **kwargs)
            quiet._webfaq_quiet = True
            module.tqdm = quiet


class PairScorer:
    """A loaded BGE-m3 scorer: ``score([(query, passage), ...]) -> [float, ...]``."""

    def __init__(self, settings: RerankSettings, device: str = "cpu"):
        self.settings, self.device = settings, device
        fp16 = settings.fp16_on_gpu and device.startswith("cuda")
        _quiet_flagembedding()
        if settings.scorer == "bge_m3":
            from FlagEmbedding import BGEM3FlagModel

            self.model = BGEM3FlagModel(settings.model, use_fp16=fp16, devices=[device],
                                        batch_size=settings.batch_size,
                                        query_max_length=settings.max_query_length,
                                        passage_max_length=settings.max_passage_length)
        else:
            from FlagEmbedding import FlagReranker

            self.model = FlagReranker(settings.model, use_fp16=fp16, devices=[device],
                                      batch_size=settings.batch_size,
                                      max_length=settings.max_query_length + settings.max_passage_length)

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][1]))
        ordered = [(pairs[i][0], pairs[i][1]) for i in order]
        s = self.settings
        if s.scorer == "bge_m3":
            result = self.model.compute_score(ordered, batch_size=s.batch_size,
                                              max_query_length=s.max_query_length,
                                              max_passage_length=s.max_passage_length,
                                              weights_for_different_modes=list(s.weights))
            values = result["colbert+sparse+dense"]
        else:
            values = self.model.compute_score(ordered, batch_size=s.batch_size, normalize=True)
        if isinstance(values, float):
            values = [values]
        out = [0.0] * len(pairs)
        for pos, i in enumerate(order):
            out[i] = float(values[pos])
        return out


class CrossEncoderScorer:
    """A sentence-transformers ``CrossEncoder`` scoring each (query, passage) pair."""

    def __init__(self, settings: RerankSettings, device: str = "cpu"):
        from sentence_transformers import CrossEncoder

        self.settings, self.device = settings, device
        self.model = CrossEncoder(settings.model, device=device)
        # Query and passage together, within the model's own limit (512 for BERT and XLM-R).
        own = self.model.max_seq_length or settings.max_query_length + settings.max_passage_length
        self.model.max_seq_length = min(int(own), settings.max_query_length + settings.max_passage_length)
        if settings.fp16_on_gpu and device.startswith("cuda"):  # pragma: no cover - GPU only
            self.model.model.half()

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        values = self.model.predict([(q, p) for q, p in pairs], batch_size=self.settings.batch_size,
                                    show_progress_bar=False, convert_to_numpy=True)
        return [float(v) for v in values]


class BiEncoderScorer:
    """A sentence-transformers bi-encoder: the model's similarity of query and passage embeddings."""

    def __init__(self, settings: RerankSettings, device: str = "cpu"):
        from collections import OrderedDict

        from udfs.models.encoders import Encoder

        self.settings, self.device = settings, device
        self.encoder = Encoder(settings.model, "mine.rerank.model", device, max_seq_length=settings.max_passage_length,
                               fp16_on_gpu=settings.fp16_on_gpu)
        self.normalize = getattr(self.encoder.model, "similarity_fn_name", "cosine") in (None, "cosine")
        self.cache: OrderedDict[str, object] = OrderedDict()

    def _embed(self, texts: list[str], task: str, cache: bool):
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self.cache)) if cache else list(dict.fromkeys(texts))
        fresh = {}
        if missing:
            emb, _ = self.encoder.encode(missing, task=task, batch_size=self.settings.batch_size, normalize=self.normalize)
            fresh = dict(zip(missing, emb))
        if cache:
            for text, vector in fresh.items():
                self.cache[text] = vector
            for text in texts:
                self.cache.move_to_end(text)
            while len(self.cache) > max(0, self.settings.cache_size):
                self.cache.popitem(last=False)
            return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)
        return np.stack([fresh[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        import numpy as np

        queries = self._embed([q for q, _ in pairs], "query", cache=False)
        passages = self._embed([p for _, p in pairs], "document", cache=self.settings.cache_size > 0)
        return [float(x) for x in np.einsum("ij,ij->i", queries, passages)]


def get_scorer(settings: RerankSettings, device: str | None = None) -> PairScorer:
    """The scorer of this process for these settings, loaded on first use."""
    device = device or task_device()
    kind = {"cross_encoder": CrossEncoderScorer, "bi_encoder": BiEncoderScorer}.get(settings.scorer, PairScorer)
    return load_model(("pair_scorer", settings, device), lambda: kind(settings, device))


def rescore_batch(records: list[dict], settings: RerankSettings, device: str | None = None) -> list[dict]:
    """Add ``pos_score`` and ``neg_scores`` to mined records (``query``, ``positive``, ``negatives``).

    All pairs of the batch (each query with its positive and its candidates) go to the model in
    one call, so batches stay full across queries.
    """
    scorer = get_scorer(settings, device)
    pairs, spans = [], []
    for rec in records:
        start = len(pairs)
        pairs.append((rec["query"], rec["positive"]))
        pairs.extend((rec["query"], text) for text in rec["negatives"])
        spans.append((start, len(pairs)))
    scores = scorer.score(pairs)
    for rec, (start, end) in zip(records, spans):
        rec["pos_score"] = scores[start]
        rec["neg_scores"] = scores[start + 1:end]
    return records


def rescore_partitions(settings: RerankSettings, queries_per_batch: int, run_id: str, columns: list[str]):
    """A ``mapInPandas`` function: mined BM25 candidates -> ``hard_negatives`` rows with BGE-m3 scores."""
    import pandas as pd

    def run(batches):
        for pdf in batches:
            records = pdf.to_dict("records")
            for start in range(0, len(records), max(1, queries_per_batch)):
                chunk = records[start:start + queries_per_batch]
                for rec in chunk:
                    rec["negatives"] = list(rec["negatives"])
                    rec["negative_ids"] = list(rec["negative_ids"])
                    rec["bm25_scores"] = [float(x) for x in rec["bm25_scores"]]
                rescore_batch(chunk, settings)
                for rec in chunk:
                    rec["scorer"] = f"{settings.scorer}:{settings.model}"
                    rec["run_id"] = run_id
                yield pd.DataFrame(chunk)[columns]

    return run
