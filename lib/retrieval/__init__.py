"""The retrieval stages: BEIR benchmarks, BM25, hard negatives and IR measures."""
