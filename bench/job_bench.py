"""The whole extraction job in WARC records per second, on local[1] and local[2].

    .venv/bin/python bench/job_bench.py [--files 4] [--size-mb 100] [--repeats 1]

Builds ``--files`` WARC files of ``--size-mb`` each from real pages (bench/make_bench_warc.py,
3 % FAQ pages), then in the same run measures:

1. ISA-L igzip decompression of all files to the end, one core (the floor of any WARC reader);
2. the scan alone (lib.extract.warc.scan_warc: every record read, FAQPage candidates found), one core;
3. the extraction job (jobs/extract.py: scan, parse, clean, language ID, Delta merges) into an
   empty warehouse, once pinned to one core with ``local[1]`` and once on both cores with
   ``local[2]``. The job's time is the run's own (``milliseconds`` counter): the Spark session's
   start-up (JVM, Delta jars) is printed apart, since a cluster pays it once per application.

Every figure is records/s (and compressed MB/s); ratios are between figures of this run.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from isal import igzip  # noqa: E402

from lib.extract.warc import scan_warc  # noqa: E402

MB = 1_000_000


def build_inputs(folder: Path, files: int, size_mb: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        path = folder / f"part-{i:03d}-{size_mb}mb.warc.gz"
        if not path.exists():
            subprocess.run([sys.executable, str(ROOT / "bench" / "make_bench_warc.py"), "--out", str(path),
                            "--size-mb", str(size_mb), "--seed", str(1000 + i)], check=True)
        paths.append(path)
    return paths


def best_of(repeats: int, fn):
    best = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        if best is None or elapsed < best[0]:
            best = (elapsed, result)
    return best


def igzip_all(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with igzip.open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                total += len(chunk)
    return total


def scan_all(paths: list[Path]) -> collections.Counter:
    stats: collections.Counter = collections.Counter()
    for path in paths:
        with open(path, "rb") as fh:
            for _ in scan_warc(fh, stats):
                pass
    return stats


def run_job(paths: list[Path], master: str, cpus: set[int]) -> dict:
    warehouse = Path(tempfile.mkdtemp(prefix="job-bench-"))
    manifest = warehouse / "warc.paths"
    manifest.write_text("".join(f"{p}\n" for p in paths))
    cmd = [sys.executable, "-m", "jobs.extract", "--input", str(manifest), "--warehouse", str(warehouse / "wh"),
           "--conf", f"spark.master={master}", "--conf", "spark.conf.[spark.ui.showConsoleProgress]=false",
           "--conf", "extract.progress_seconds=0"]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                         preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    wall = time.perf_counter() - start
    shutil.rmtree(warehouse, ignore_errors=True)
    if out.returncode != 0:
        sys.exit(f"job failed ({master}):\n{out.stderr[-3000:]}")
    counters = json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])["counters"]
    session = next((line for line in out.stderr.splitlines() if "Spark session ready" in line), "")
    return {"counters": counters, "wall": wall, "session": session.split("ready in ")[-1].split("s ")[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=4, help="WARC files (tasks) in the input (default 4)")
    parser.add_argument("--size-mb", type=int, default=100, help="size of each WARC file in MB (default 100)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each measurement; the best is kept")
    parser.add_argument("--data", default=str(ROOT / "bench" / "data" / "job"), help="folder for the inputs")
    args = parser.parse_args()

    paths = build_inputs(Path(args.data), args.files, args.size_mb)
    size = sum(p.stat().st_size for p in paths)
    print(f"input: {len(paths)} WARC files, {size / MB:.0f} MB compressed")

    os.sched_setaffinity(0, {0})
    t_gz, raw = best_of(args.repeats, lambda: igzip_all(paths))
    t_scan, stats = best_of(args.repeats, lambda: scan_all(paths))
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    records = stats["records"]
    print(f"igzip decompress, 1 core : {size / MB / t_gz:7.1f} MB/s  ({raw / MB:.0f} MB out)")
    print(f"scan_warc, 1 core        : {size / MB / t_scan:7.1f} MB/s  {records / t_scan:9.0f} records/s  "
          f"({t_scan / t_gz:.2f}x igzip time, {stats['candidates']} candidates)")

    jobs = {}
    for master, cpus in (("local[1]", {0}), ("local[2]", {0, 1})):
        best = None
        for _ in range(args.repeats):
            result = run_job(paths, master, cpus)
            if best is None or result["counters"]["milliseconds"] < best["counters"]["milliseconds"]:
                best = result
        jobs[master] = best
        c = best["counters"]
        seconds = c["milliseconds"] / 1000
        assert c["records"] == records, (c["records"], records)
        print(f"extract job, {master}     : {size / MB / seconds:7.1f} MB/s  {records / seconds:9.0f} records/s  "
              f"run {seconds:.1f}s (+ session start {best['session']}s), {c.get('pairs_kept', 0)} pairs kept, "
              f"{c.get('pairs_inserted', 0)} inserted")

    one = jobs["local[1]"]["counters"]["milliseconds"]
    two = jobs["local[2]"]["counters"]["milliseconds"]
    print(f"ratio job local[1] / scan (1 core) : {t_scan * 1000 / one:.2f}x")
    print(f"ratio job local[2] / local[1]      : {one / two:.2f}x")

    # The job's fixed part (Python workers' start, Delta commits) does not grow with the input:
    # the same files listed four times give the marginal rate, what each further WARC file costs.
    print("marginal rate (each file listed 4 times against once; added records over added time):")
    for master, cpus in (("local[1]", {0}), ("local[2]", {0, 1})):
        double = min((run_job(paths * 4, master, cpus)["counters"] for _ in range(args.repeats)),
                     key=lambda c: c["milliseconds"])
        once = jobs[master]["counters"]
        added = (double["milliseconds"] - once["milliseconds"]) / 1000
        rate = (double["records"] - once["records"]) / added
        print(f"  {master}: {rate:9.0f} records/s  = {rate * t_scan / records:.2f}x the 1-core scan")


if __name__ == "__main__":
    main()
