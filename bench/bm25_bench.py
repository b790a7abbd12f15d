"""BM25 top-200 queries per second with Pyserini inside Spark tasks, on a 100k+ document corpus.

    .venv/bin/python bench/bm25_bench.py                 # both core counts, one table
    .venv/bin/python bench/bm25_bench.py --cores 2 --repeats 3

Corpus (English, built from real text in ../shared/data, written once to build/bench/bm25/):
  - every distinct English sentence of the 112 Tatoeba xxx-eng files (one document each);
  - the same sentences windowed two at a time (consecutive lines of one file, stride 2);
  - XQuAD English paragraphs, whole and as windows of 3 sentences (stride 1);
  - all COVID-QA answers.
Queries: the 1,190 XQuAD English questions and the 224 COVID-QA English questions.

The index is built once (lib/retrieval/bm25.py, English analyzer). For each core count a fresh Spark
session ``local[N]`` searches all queries with udfs/bm25.search_partitions (the code the mine
and evaluate jobs use), top 200 hits, one Lucene thread per task, 4 x N tasks. The first pass
starts the JVM inside every Python worker (pyserini import + index open) and is reported apart;
the figure is the best of the timed passes that follow (warm workers, as in a long mining run).
A driver-side search without Spark is the baseline: one Lucene thread pinned to one core, and two
threads on two cores (what Lucene alone gets from the second core, the ceiling for Spark). Spark's
local[1] runs twice: pinned to one core (the process, its JVMs and its Python workers inherit the
affinity), and not pinned, where the JVMs' compiler and collector threads may use the other core.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "build" / "bench" / "bm25"
_SENT = re.compile(r"(?<=[.!?])\s+")


def build_corpus(shared: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict]:
    import pandas as pd

    docs: list[tuple[str, str]] = []
    stats = {}
    seen = set()
    files = sorted((shared / "tatoeba-laser").glob("tatoeba.*-eng.eng"))
    windows = 0
    for f in files:
        lines = [x.strip() for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
        for line in lines:
            if line not in seen:
                seen.add(line)
                docs.append((f"t{len(docs)}", line))
        for i in range(0, len(lines) - 1, 2):
            docs.append((f"w{len(docs)}", lines[i] + " " + lines[i + 1]))
            windows += 1
    stats["tatoeba_sentences"] = len(seen)
    stats["tatoeba_windows"] = windows
    data = json.loads((shared / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    questions = []
    paragraphs = 0
    for article in data:
        for para in article["paragraphs"]:
            ctx = para["context"]
            docs.append((f"x{len(docs)}", ctx))
            paragraphs += 1
            sents = _SENT.split(ctx)
            for i in range(max(1, len(sents) - 2)):
                docs.append((f"s{len(docs)}", " ".join(sents[i:i + 3])))
            questions += [(qa["id"], qa["question"]) for qa in para["qas"]]
    stats["xquad_paragraphs"] = paragraphs
    raw = pd.read_csv(shared / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t").dropna(subset=["question", "answer"])
    for a in raw.answer:
        docs.append((f"c{len(docs)}", a.strip()))
    questions += [(f"cq{i}", q.strip()) for i, q in enumerate(raw[raw.lang == "en"].question)]
    stats["covidqa_answers"] = len(raw)
    stats["documents"] = len(docs)
    stats["queries"] = len(questions)
    return docs, questions, stats


def prepare(shared: Path) -> dict:
    from lib.retrieval import bm25

    meta = WORK / "meta.json"
    if meta.is_file() and (WORK / "index").is_dir():
        return json.loads(meta.read_text())
    docs, queries, stats = build_corpus(shared)
    assert stats["documents"] >= 100_000, stats
    WORK.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    bm25.build_index(docs, WORK / "index", "eng", threads=2)
    stats["index_seconds"] = round(time.perf_counter() - t, 1)
    (WORK / "queries.json").write_text(json.dumps(queries))
    meta.write_text(json.dumps(stats))
    return stats


def run_spark(cores: int, repeats: int) -> dict:
    from lib.conf import load_conf
    from udfs.retrieval import bm25 as bm25_udf
    from udfs.session import get_spark

    queries = json.loads((WORK / "queries.json").read_text())
    conf = load_conf("local", [f"spark.master=local[{cores}]", f"spark.conf.[spark.default.parallelism]={cores}"])
    spark = get_spark(conf)
    rows = [("eng", q, t) for q, t in queries]
    df = spark.createDataFrame(rows, "language string, query_id string, query string").repartition(4 * cores).cache()
    df.count()
    fn = bm25_udf.search_partitions({"eng": str(WORK / "index")}, 200, 0.9, 0.4, threads=1)

    def one_pass():
        t = time.perf_counter()
        out = df.mapInPandas(fn, bm25_udf.SEARCH_OUTPUT).selectExpr("size(doc_ids) AS n").groupBy().sum("n").collect()
        return time.perf_counter() - t, int(out[0][0])

    cold, hits = one_pass()
    warm = [one_pass()[0] for _ in range(repeats)]
    spark.stop()
    return {"cores": cores, "queries": len(rows), "hits": hits, "cold_seconds": round(cold, 2),
            "best_seconds": round(min(warm), 2), "qps": round(len(rows) / min(warm), 1),
            "cold_qps": round(len(rows) / cold, 1)}


def run_driver(repeats: int, threads: int) -> dict:
    from lib.retrieval import bm25

    queries = json.loads((WORK / "queries.json").read_text())
    s = bm25.Bm25Searcher(WORK / "index", "eng")
    s.search([q for q, _ in queries[:50]], [t for _, t in queries[:50]], k=200, with_text=False)
    best = min(_timed(s, queries, threads) for _ in range(repeats))
    return {"queries": len(queries), "best_seconds": round(best, 2), "qps": round(len(queries) / best, 1)}


def _timed(s, queries, threads: int) -> float:
    t = time.perf_counter()
    s.search([q for q, _ in queries], [t for _, t in queries], k=200, threads=threads, with_text=False)
    return time.perf_counter() - t


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", type=int, default=None, help="one Spark run with local[N] (prints JSON)")
    parser.add_argument("--driver", action="store_true", help="one driver-side run without Spark (prints JSON)")
    parser.add_argument("--threads", type=int, default=1, help="Lucene threads of the driver-side run")
    parser.add_argument("--pin", default=None, metavar="CPUS",
                        help="run on these CPUs only (e.g. 0 or 0,1): this process, the JVMs it starts and the "
                             "Python workers inherit it")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args(argv)
    if args.pin:
        os.sched_setaffinity(0, {int(c) for c in args.pin.split(",")})
    if args.cores:
        print(json.dumps(run_spark(args.cores, args.repeats)))
        return 0
    if args.driver:
        print(json.dumps(run_driver(args.repeats, args.threads)))
        return 0
    stats = prepare(args.shared)
    print("corpus:", json.dumps(stats))
    both = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:2])
    runs = (("driver 1 thread, core 0", ["--driver", "--pin", "0"]),
            ("driver 2 threads, 2 cores", ["--driver", "--threads", "2", "--pin", both]),
            ("local[1], pinned to core 0", ["--cores", "1", "--pin", "0"]),
            ("local[1], not pinned", ["--cores", "1"]),
            ("local[2], 2 cores", ["--cores", "2", "--pin", both]))
    results = {}
    for label, extra in runs:
        out = subprocess.run([sys.executable, __file__, *extra, "--repeats", str(args.repeats)],
                             capture_output=True, text=True, cwd=ROOT, env=dict(os.environ))
        if out.returncode != 0:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        results[label] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {label}: {results[label]['qps']} queries/s", flush=True)
    print(f"\nBM25 top-200, {stats['documents']:,} documents, {stats['queries']:,} queries "
          f"(Pyserini/Lucene, English analyzer, k1=0.9 b=0.4)")
    for label, _ in runs:
        r = results[label]
        first = (f"; first pass {r['cold_seconds']} s = {r['cold_qps']} q/s with JVM start; {r['hits']:,} hits"
                 if "cold_seconds" in r else "")
        print(f"  {label:30} {r['qps']:>8} queries/s  ({r['best_seconds']} s warm{first})")
    qps = {label: results[label]["qps"] for label, _ in runs}
    print(f"  Lucene alone, 2 threads / 1 thread:       {qps['driver 2 threads, 2 cores'] / qps['driver 1 thread, core 0']:.2f}x")
    print(f"  Spark, local[2] / local[1] pinned:        {qps['local[2], 2 cores'] / qps['local[1], pinned to core 0']:.2f}x")
    print(f"  Spark, local[2] / local[1] not pinned:    {qps['local[2], 2 cores'] / qps['local[1], not pinned']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
