"""Retrieval runs inside Spark: BM25 (Pyserini) and dense (sentence-transformers + faiss) and their fusion.

- BM25: the collection is indexed on the driver (lib/retrieval/bm25.py), its queries searched by
  Spark tasks (udfs/retrieval/bm25.py), ``hits`` per query.
- Dense: corpus and queries are encoded by Spark tasks (``mapInPandas``), the model loaded once per
  Python worker on the task's GPU when Spark assigned one (udfs/models/encoders.py), texts in
  batches sorted by length; queries with the model's ``query`` prompt and documents with its
  ``document`` prompt where the model defines them. The embeddings come back to the driver as
  Arrow and are searched exactly with faiss (lib/retrieval/dense.py), ``hits`` per query.
- Hybrid: both runs fused by the rule of lib/retrieval/dense.py.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np

from lib.retrieval import beir, bm25, dense, metrics

ENCODED = "kind string, id string, embedding array<float>, truncated boolean"


@dataclass(frozen=True)
class DenseSettings:
    batch_size: int = 64
    texts_per_task: int = 2000
    max_seq_length: int | None = None
    fp16_on_gpu: bool = True
    gpus_per_task: float = 0.0

    @classmethod
    def from_conf(cls, section: dict | None) -> "DenseSettings":
        section = dict(section or {})
        return cls(**{k: v for k, v in section.items() if k in cls.__dataclass_fields__})


def bm25_run(spark, collection: beir.BeirCollection, language: str, index_dir: str, hits: int, k1: float,
             b: float, queries_per_task: int, threads: int = 1) -> dict[str, dict[str, float]]:
    """BM25 top-``hits`` of every query of ``collection`` (index built at ``index_dir``)."""
    from udfs.retrieval import bm25 as bm25_udf

    bm25.build_index(((i, beir.doc_contents(d["title"], d["text"])) for i, d in collection.corpus.items()),
                     index_dir, language)
    rows = [(language, q, t) for q, t in collection.queries.items()]
    df = spark.createDataFrame(rows, "language string, query_id string, query string")
    df = df.repartition(max(1, math.ceil(len(rows) / max(1, queries_per_task))))
    found = df.mapInPandas(bm25_udf.search_partitions({language: index_dir}, hits, k1, b, threads),
                           bm25_udf.SEARCH_OUTPUT).collect()
    return {r["query_id"]: dict(zip(r["doc_ids"], r["scores"])) for r in found}


def encode_partitions(model: str, conf_key: str, settings: DenseSettings):
    """A ``mapInPandas`` function: (kind 'query' | 'document', id, text) -> embedding per row.

    Embeddings are L2-normalised when the model's similarity is the cosine (inner product = cosine).
    """
    import pandas as pd

    def run(batches):
        from lib import worker
        from udfs.models import encoders

        # One model at a time per worker: a comparison of several models does not pile them up.
        if any(key[1] != str(model) for key in worker.held("encoder")):
            worker.release("encoder")
        options = {"fp16_on_gpu": bool(settings.fp16_on_gpu)}
        if settings.max_seq_length:
            options["max_seq_length"] = int(settings.max_seq_length)
        encoder = encoders.get_encoder(model, conf_key, **options)
        normalize = getattr(encoder.model, "similarity_fn_name", None) in (None, "cosine")
        for pdf in batches:
            parts = []
            for kind, group in pdf.groupby("kind", sort=False):
                emb, truncated = encoder.encode(list(group["text"].fillna("").astype(str)), task=kind,
                                                batch_size=settings.batch_size, normalize=normalize)
                parts.append(pd.DataFrame({"kind": kind, "id": group["id"].astype(str).values,
                                           "embedding": list(emb), "truncated": truncated}))
            yield pd.concat(parts) if parts else pd.DataFrame(columns=["kind", "id", "embedding", "truncated"])

    return run


def encode(spark, collection: beir.BeirCollection, model: str, conf_key: str, settings: DenseSettings):
    """Embeddings of the corpus and the queries: ``(doc_ids, doc_emb, query_ids, query_emb, truncated_docs)``."""
    rows = [("document", i, beir.doc_contents(d["title"], d["text"])) for i, d in collection.corpus.items()]
    rows += [("query", q, t) for q, t in collection.queries.items()]
    df = spark.createDataFrame(rows, "kind string, id string, text string")
    df = df.repartition(max(1, math.ceil(len(rows) / max(1, settings.texts_per_task))))
    fn = encode_partitions(model, conf_key, settings)
    if settings.gpus_per_task and float(settings.gpus_per_task) > 0:
        from pyspark.resource import ResourceProfileBuilder, TaskResourceRequests

        profile = ResourceProfileBuilder().require(
            TaskResourceRequests().cpus(1).resource("gpu", float(settings.gpus_per_task))).build
        encoded = df.mapInPandas(fn, ENCODED, profile=profile)
    else:
        encoded = df.mapInPandas(fn, ENCODED)
    table = encoded.toArrow()
    kinds = table.column("kind").to_pylist()
    ids = table.column("id").to_pylist()
    flat = table.column("embedding").combine_chunks()
    values = flat.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    dim = len(values) // max(1, len(ids))
    matrix = values.reshape(len(ids), dim) if ids else np.zeros((0, 0), np.float32)
    truncated = table.column("truncated").to_pylist()
    docs = [i for i, k in enumerate(kinds) if k == "document"]
    queries = [i for i, k in enumerate(kinds) if k == "query"]
    return ([ids[i] for i in docs], matrix[docs], [ids[i] for i in queries], matrix[queries],
            sum(1 for i in docs if truncated[i]))


def dense_run(spark, collection: beir.BeirCollection, model: str, conf_key: str, settings: DenseSettings,
              hits: int) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Dense top-``hits`` of every query; and timings (encode/search seconds, documents, truncated)."""
    started = time.monotonic()
    doc_ids, doc_emb, query_ids, query_emb, truncated = encode(spark, collection, model, conf_key, settings)
    encoded = time.monotonic()
    run = dense.exact_search(doc_ids, doc_emb, query_ids, query_emb, hits)
    searched = time.monotonic()
    return run, {"encode_seconds": encoded - started, "search_seconds": searched - encoded,
                 "documents": len(doc_ids), "queries": len(query_ids), "truncated_documents": truncated}


@dataclass(frozen=True)
class System:
    name: str           # row of the tables, folder of the files, key prefix in runs.metrics
    kind: str           # bm25 | dense | hybrid
    model: str | None = None


def evaluate_collection(spark, language: str, collection: beir.BeirCollection, systems: list[System], *,
                        index_root: str, hits: int, k1: float, b: float, queries_per_task: int,
                        threads: int, dense_settings: DenseSettings, dense_weight: float, log=print):
    """Every system's run, per-query measures and means on one collection.

    Returns ``{system: (run, per_query, result, stats)}``; BM25 runs once for all systems needing it.
    """
    out = {}
    bm25_cache = None
    if any(s.kind in ("bm25", "hybrid") for s in systems):
        started = time.monotonic()
        bm25_cache = bm25_run(spark, collection, language, os.path.join(index_root, language), hits, k1, b,
                              queries_per_task, threads)
        bm25_stats = {"search_seconds": time.monotonic() - started}
    for system in systems:
        if system.kind == "bm25":
            run, stats = bm25_cache, dict(bm25_stats)
        else:
            log(f"{language}: encoding {len(collection.corpus)} documents and {len(collection.queries)} "
                f"queries with {system.model}")
            run, stats = dense_run(spark, collection, system.model, f"--model {system.name}", dense_settings, hits)
            if system.kind == "hybrid":
                run = dense.fuse_hybrid(bm25_cache, run, dense_weight)
        per_query = metrics.per_query(collection.qrels, run)
        result = metrics.evaluate(collection.qrels, run)
        result["documents"] = len(collection.corpus)
        out[system.name] = (run, per_query, result, stats)
    return out
