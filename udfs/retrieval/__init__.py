"""Spark side of the retrieval stages: BM25 search and candidate rescoring in tasks."""
