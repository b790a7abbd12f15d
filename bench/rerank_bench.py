"""BGE-m3 reranking throughput (query–candidate pairs per second) through udfs/retrieval/rerank.py.

    .venv/bin/python bench/rerank_bench.py [--pairs 64] [--repeats 2] [--device cpu|cuda:0]

No model hub here, so the model has BGE-m3's exact architecture but random weights: XLM-R large
(24 layers, hidden 1024, 16 heads, FFN 4096, 250,002-token vocabulary, 8,194 positions,
568M parameters) with its ColBERT (1024x1024) and sparse (1024x1) heads. Compute per pair does not
depend on the weights, only on the token counts; the tokenizer is a Unigram model trained here on
the benchmark texts (vocabulary 8,000), so token counts are close to, not equal to, the real
sentencepiece tokenizer's: the script prints tokens per pair to make the figure comparable.
A tiny model (2 layers, width 64) is timed too: it is the test model, and shows the overhead floor.

Pairs: COVID-QA English questions, each with the BM25 candidates mining would give it (answers of
the same corpus), scored by BGEM3FlagModel.compute_score (dense + sparse + ColBERT, weights
0.4/0.2/0.4), batch 32, passages cut at 512 tokens, float32 on CPU (fp16 on a GPU).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "build" / "bench" / "rerank"


def texts_and_pairs(shared: Path, n_pairs: int):
    import pandas as pd

    from lib.retrieval import bm25

    raw = pd.read_csv(shared / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t").dropna(subset=["question", "answer"])
    en = raw[raw.lang == "en"]
    index = WORK / "index"
    if not index.is_dir():
        bm25.build_index(((f"d{i}", a) for i, a in enumerate(en.answer)), index, "eng")
    s = bm25.Bm25Searcher(index, "eng")
    questions = list(en.question)
    pairs = []
    hits = s.search([f"q{i}" for i in range(len(questions))], questions, k=16)
    for i, q in enumerate(questions):
        pairs += [(q, h.text) for h in hits[f"q{i}"]]
        if len(pairs) >= n_pairs:
            break
    xquad = json.loads((shared / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    corpus = list(raw.question) + list(raw.answer) + [p["context"] for a in xquad for p in a["paragraphs"]]
    return corpus, pairs[:n_pairs]


def build_model(path: Path, texts, layers: int, hidden: int, heads: int, ffn: int, vocab: int, positions: int):
    """A random-weight BGE-m3 look-alike of the given shape (built once, then reused)."""
    from tests.tiny_models import build_tiny_bge_m3

    if (path / "config.json").is_file():
        return path
    return build_tiny_bge_m3(path, list(texts), hidden=hidden, layers=layers, heads=heads, ffn=ffn,
                             vocab_size=8000, model_vocab_size=vocab, max_positions=positions - 2)


def time_model(path: Path, pairs, device: str, repeats: int) -> dict:
    from transformers import AutoTokenizer

    from udfs.retrieval.rerank import RerankSettings, get_scorer

    settings = RerankSettings(model=str(path), batch_size=32)
    t = time.perf_counter()
    scorer = get_scorer(settings, device)
    load = time.perf_counter() - t
    scorer.score(pairs[:8])                                   # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        scores = scorer.score(pairs)
        best = min(best, time.perf_counter() - t)
    tok = AutoTokenizer.from_pretrained(str(path))
    tokens = sum(min(len(tok(q)["input_ids"]), 128) + min(len(tok(p)["input_ids"]), 512) for q, p in pairs)
    return {"pairs": len(pairs), "seconds": round(best, 2), "pairs_per_s": round(len(pairs) / best, 2),
            "tokens_per_pair": round(tokens / len(pairs), 1), "load_seconds": round(load, 1),
            "score_range": [round(min(scores), 3), round(max(scores), 3)]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default=None, help="cpu or cuda:N (default: cuda:0 if available)")
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--skip-large", action="store_true", help="time only the tiny model")
    args = parser.parse_args(argv)
    import torch

    device = args.device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    threads = torch.get_num_threads()
    corpus, pairs = texts_and_pairs(args.shared, args.pairs)
    tiny = build_model(WORK / "tiny", corpus, 2, 64, 2, 128, 8000, 514)
    results = {"tiny (2x64)": time_model(tiny, pairs * 4, device, args.repeats)}
    if not args.skip_large:
        large = build_model(WORK / "bge-m3-shape", corpus, 24, 1024, 16, 4096, 250_002, 8194)
        results["bge-m3 shape (24x1024, 568M)"] = time_model(large, pairs, device, args.repeats)
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else f"CPU, {threads} torch threads"
    print(f"BGE-m3 compute_score (dense+sparse+colbert) on {device} ({name}), batch 32, float"
          f"{'16' if device.startswith('cuda') else '32'}")
    for label, r in results.items():
        print(f"  {label:<30} {r['pairs_per_s']:>9} pairs/s  ({r['pairs']} pairs in {r['seconds']} s, "
              f"{r['tokens_per_pair']} tokens/pair, model load {r['load_seconds']} s)")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
