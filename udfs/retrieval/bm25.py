"""BM25 search inside Spark tasks: one Lucene index per language, built once, searched by many tasks.

Indexes are built on the driver (``build_language_indexes``) into ``mine.index_dir``, one folder
per language. Executors must be able to open them:

- local profile: a local folder (executors are threads of this machine);
- a cluster with a shared POSIX mount (``/dbfs/...`` on Databricks, NFS, Lustre): point
  ``mine.index_dir`` there;
- any other cluster: ``mine.ship_index: true`` ships each index folder with
  ``SparkContext.addFile(..., recursive=True)``; tasks open their local copy from ``SparkFiles``.

Lucene needs random access to its files, so object stores (s3a://) cannot hold the index directly.
A task opens the searcher of a language once per Python worker (cached) and searches its queries
in batches; ``threads`` > 1 lets one task search with several Lucene threads.
"""
from __future__ import annotations

import os
from typing import Iterator

import pandas as pd

from lib.worker import load_once


def open_searcher(index_dir: str, language: str, k1: float, b: float, shipped: bool = False):
    """This worker's searcher for an index (opened once, kept for later tasks)."""
    from lib.retrieval.bm25 import Bm25Searcher

    if shipped:
        from pyspark import SparkFiles

        index_dir = SparkFiles.get(os.path.basename(index_dir.rstrip("/")))
    return load_once(("bm25_searcher", index_dir, language, float(k1), float(b)),
                     lambda: Bm25Searcher(index_dir, language, k1=k1, b=b))


def build_language_indexes(spark, corpus, languages: list[str], index_root: str, rebuild: bool = False,
                           ship: bool = False, threads: int = 1) -> dict[str, dict]:
    """Build (or reuse) one index per language from ``corpus`` (language, _id, title, text).

    An index is reused when it exists and holds as many documents as the language's corpus;
    otherwise it is rebuilt. Returns ``{language: {"path", "documents", "analyzer", "built"}}``.
    """
    from pyspark.sql import functions as F

    from lib.retrieval import beir, bm25

    counts = {r["language"]: int(r["n"]) for r in
              corpus.where(F.col("language").isin(languages)).groupBy("language").agg(F.count("*").alias("n")).collect()}
    out = {}
    for language in languages:
        path = os.path.join(index_root, language)
        built = False
        try:
            info = bm25.index_info(path)
            fresh = info.get("documents") == counts.get(language, 0) and not rebuild
        except FileNotFoundError:
            fresh = False
        if not fresh:
            rows = (corpus.where(F.col("language") == language).select("_id", "title", "text")
                    .orderBy("_id").toLocalIterator())
            bm25.build_index(((r["_id"], beir.doc_contents(r["title"], r["text"])) for r in rows),
                             path, language, threads=threads)
            built = True
        if ship:
            spark.sparkContext.addFile(path, recursive=True)
        out[language] = {"path": path, "documents": counts.get(language, 0),
                         "analyzer": bm25.analyzer_for(language).kind, "built": built}
    return out


def search_partitions(index_dirs: dict[str, str], k: int, k1: float, b: float, threads: int = 1,
                      batch_size: int = 1000, with_text: bool = False, shipped: bool = False):
    """A ``mapInPandas`` function: (language, query_id, query) -> top-k hits per query.

    Output columns: language, query_id, doc_ids, scores, texts (texts empty unless ``with_text``).
    """
    from lib.retrieval.bm25 import search_batches

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            rows = []
            for language, group in pdf.groupby("language", sort=False):
                searcher = open_searcher(index_dirs[language], language, k1, b, shipped)
                pairs = zip(group["query_id"].astype(str), group["query"].fillna("").astype(str))
                for qid, hits in search_batches(searcher, pairs, k, threads, batch_size, with_text):
                    rows.append((language, qid, [h.doc_id for h in hits], [h.score for h in hits],
                                 [h.text or "" for h in hits] if with_text else []))
            yield pd.DataFrame(rows, columns=["language", "query_id", "doc_ids", "scores", "texts"])

    return run


SEARCH_OUTPUT = "language string, query_id string, doc_ids array<string>, scores array<float>, texts array<string>"


def mine_partitions(index_dirs: dict[str, str], top_k: int, slack: int, k1: float, b: float,
                    threads: int = 1, batch_size: int = 1000, shipped: bool = False):
    """A ``mapInPandas`` function: training queries -> cleaned BM25 candidates (lib.retrieval.negatives).

    Input: language, query_id, query, positive_id, positive. Searches ``top_k + slack`` hits, drops
    the positive, duplicates of the positive and repeated texts, keeps the best ``top_k``.
    """
    from lib.retrieval.bm25 import search_batches
    from lib.retrieval.negatives import clean_candidates

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            rows = []
            for language, group in pdf.groupby("language", sort=False):
                searcher = open_searcher(index_dirs[language], language, k1, b, shipped)
                info = {r.query_id: r for r in group.itertuples(index=False)}
                pairs = zip(group["query_id"].astype(str), group["query"].fillna("").astype(str))
                for qid, hits in search_batches(searcher, pairs, top_k + slack, threads, batch_size, True):
                    r = info[qid]
                    c = clean_candidates(r.positive_id, r.positive, [h.doc_id for h in hits],
                                         [h.text or "" for h in hits], [h.score for h in hits])
                    rows.append({"language": language, "query_id": qid, "query": r.query,
                                 "positive_id": r.positive_id, "positive": r.positive,
                                 "negative_ids": c.ids[:top_k], "negatives": c.texts[:top_k],
                                 "bm25_scores": c.bm25_scores[:top_k], "bm25_hits": len(hits),
                                 "positive_bm25_rank": c.positive_rank,
                                 "removed_positive_duplicates": c.removed_positive_duplicates,
                                 "removed_repeated_texts": c.removed_repeated_texts})
            yield pd.DataFrame(rows, columns=[f.split()[0] for f in MINED_CANDIDATES.split(",")])

    return run


MINED_CANDIDATES = ("language string, query_id string, query string, positive_id string, positive string, "
                    "negative_ids array<string>, negatives array<string>, bm25_scores array<float>, "
                    "bm25_hits int, positive_bm25_rank int, removed_positive_duplicates int, "
                    "removed_repeated_texts int")
