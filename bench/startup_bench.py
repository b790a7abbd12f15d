"""The fixed part of a local extract run: each step, in wall time and CPU time, next to a baseline.

    .venv/bin/python bench/startup_bench.py [--repeats 3] [--baseline REV] [--entry submit|module]
                                            [--variant NAME=KEY=VALUE[,KEY=VALUE]] ...

Input: two WARC files of about 1 MB of real pages each (bench/make_bench_warc.py, 3 % FAQ pages),
so that almost nothing of a run grows with its input. Each run is the command a user types,
``./spark-submit.sh extract --input FILES --warehouse W`` (``--entry module``: ``python -m
jobs.extract``, as the tests and job_bench run it), twice on one warehouse:

* **first**: into an empty warehouse (the tables are created);
* **again**: the second file set merged into the tables the first run wrote (what every later
  run of a crawl pays).

Per run: the wall time from the command to its exit, the CPU time of all its processes (the
launcher, the driver JVM, the driver's Python, the Python workers: ``RUSAGE_CHILDREN``), the CPU
time of each kind of process (sampled from /proc every 0.1 s), and the steps the job's progress
lines mark: before the session (Python start-up, the launcher), the session (JVM, jars), the scan
(Python workers' start-up, language-ID model, the scan itself), the pairs commit, the pages
commit, and the rest (runs row, JVM exit).

Compared in the same run, taking turns: the code of the working tree against ``--baseline REV``
(that revision's jobs/, lib/, udfs/, conf/ and spark-submit.sh exported with ``git archive`` into a
temporary folder, run with the same interpreter), and any ``--variant`` of the working tree with
configuration overrides, e.g. ``--variant nocodegen=spark.conf.[spark.sql.codegen.wholeStage]=false``,
or with environment variables of the run, ``env:NAME=VALUE`` (``--variant
nopyc=env:PYTHONPYCACHEPREFIX=/tmp/empty``: Python finds no bytecode and compiles every module it imports).
Every figure is the best of ``--repeats`` runs (the median CPU time is printed too).
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HZ = os.sysconf("SC_CLK_TCK")
STEP_LINES = (("session", re.compile(r"Spark session ready")),
              ("scan", re.compile(r"scanned \d")),
              ("pairs commit", re.compile(r"qa_pairs: ")),
              ("pages commit", re.compile(r"faq_pages: ")))
LINE_TIME = re.compile(r"^\[extract\]\s+([0-9.]+)s\s")


def build_inputs(folder: Path) -> list[list[Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    sets = []
    for name, seeds in (("first", (2000, 2001)), ("again", (2002, 2003))):
        paths = []
        for seed in seeds:
            path = folder / f"startup-{seed}.warc.gz"
            if not path.exists():
                subprocess.run([sys.executable, str(ROOT / "bench" / "make_bench_warc.py"), "--out", str(path),
                                "--size-mb", "1", "--seed", str(seed)], check=True, capture_output=True)
            paths.append(path)
        sets.append(paths)
    return sets


def export_tree(rev: str, into: Path) -> Path:
    """``rev``'s code (jobs, lib, udfs, conf, spark-submit.sh) in a fresh folder; the working
    tree's .venv is linked in. Generated files (JVM class-data archive, jars) go to the cache
    folder (or, for revisions before it, the tree's own build/): an untimed first run of each tree
    fills them."""
    archive = subprocess.run(["git", "archive", "--format=tar", rev, "jobs", "lib", "udfs", "conf", "bench",
                              "spark-submit.sh", "setup.py"], cwd=ROOT, check=True, capture_output=True).stdout
    into.mkdir(parents=True)
    tar_path = into / "tree.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    tar_path.unlink()
    (into / ".venv").symlink_to(ROOT / ".venv")
    return into


class ProcessCpu:
    """CPU seconds of every descendant of a process, sampled from /proc while it runs."""

    def __init__(self, root_pid: int):
        self.root, self.seen = root_pid, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        parents = collections.defaultdict(list)
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat") as fh:
                    stat = fh.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            parents[int(fields[1])].append((int(name), int(fields[11]) + int(fields[12])))
        stack = [self.root]
        while stack:
            pid = stack.pop()
            for child, ticks in parents.get(pid, ()):
                try:  # read each time: a shell script's process becomes java by exec
                    with open(f"/proc/{child}/cmdline") as fh:
                        cmd = fh.read().replace("\0", " ")
                except OSError:
                    continue
                entry = self.seen.setdefault(child, [0, cmd])
                entry[0] = max(entry[0], ticks)
                entry[1] = cmd or entry[1]
                stack.append(child)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.1)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        kinds: collections.Counter = collections.Counter()
        for ticks, cmd in self.seen.values():
            if "pyspark.daemon" in cmd:
                kind = "python workers"
            elif "org.apache.spark.deploy.SparkSubmit" in cmd or ("java" in cmd.split(" ")[0] and "launcher.Main" not in cmd):
                kind = "driver JVM"
            elif "launcher.Main" in cmd:
                kind = "launcher JVM"
            elif "jobs/" in cmd or "jobs." in cmd:
                kind = "driver Python"
            else:
                kind = "other"
            kinds[kind] += ticks / HZ
        return dict(kinds)


def run_once(tree: Path, inputs: list[Path], warehouse: Path, entry: str, overrides: list[str]) -> dict:
    args = ["--warehouse", str(warehouse), "--conf", "extract.progress_seconds=0"]
    for path in inputs:
        args += ["--input", str(path)]
    python = str(ROOT / ".venv" / "bin" / "python")
    env = {**os.environ, "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python, "PYTHONPATH": str(tree),
           "WEBFAQ_CONF_DIR": str(tree / "conf")}
    for item in overrides:
        if item.startswith("env:"):  # an environment variable of every process of the run
            key, _, value = item[len("env:"):].partition("=")
            env[key] = value
        else:
            args += ["--conf", item]
    if entry == "submit":
        cmd = [str(tree / "spark-submit.sh"), "extract", *args]
    else:
        cmd = [python, "-m", "jobs.extract", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cpu = ProcessCpu(proc.pid)
    marks = {}
    output = []
    for line in proc.stdout:
        now = time.perf_counter() - start
        output.append(line)
        for name, pattern in STEP_LINES:
            if name not in marks and pattern.search(line):
                marks[name] = now
    proc.wait()
    wall = time.perf_counter() - start
    kinds = cpu.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"run failed in {tree} (exit {proc.returncode}):\n{''.join(output[-40:])}")
    # The job's own clock for its steps (seconds since the session was ready), where it printed one.
    job_clock = {}
    for line in output:
        match = LINE_TIME.match(line)
        if match:
            for name, pattern in STEP_LINES:
                if pattern.search(line):
                    job_clock[name] = float(match.group(1))
    session_ready = marks.get("session", 0.0)
    steps, previous = {}, 0.0
    for name, _ in STEP_LINES:
        if name == "session":
            session_seconds = float(re.search(r"ready in ([0-9.]+)s", next(
                line for line in output if "Spark session ready" in line)).group(1))
            steps["before the session"] = session_ready - session_seconds
            steps["session"] = session_seconds
            previous = session_ready
            continue
        at = session_ready + job_clock[name] if name in job_clock else marks.get(name)
        if at is None:
            continue
        steps[name] = at - previous
        previous = at
    steps["runs row, exit"] = wall - previous
    cpu_total = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"wall": wall, "cpu": cpu_total, "steps": steps, "kinds": kinds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each tree and case; the best is kept")
    parser.add_argument("--baseline", default=None, metavar="REV",
                        help="git revision whose code runs as the baseline (e.g. main)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=KEY=VALUE[,KEY=VALUE]",
                        help="the working tree with these configuration overrides, or env:NAME=VALUE for an "
                             "environment variable of the run (repeatable)")
    parser.add_argument("--entry", choices=("submit", "module"), default="submit",
                        help="submit: ./spark-submit.sh extract (default); module: python -m jobs.extract")
    parser.add_argument("--data", default=str(ROOT / "bench" / "data" / "startup"), help="folder for the inputs")
    args = parser.parse_args()

    first, again = build_inputs(Path(args.data))
    work = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    trees: list[tuple[str, Path, list[str]]] = []
    if args.baseline:
        trees.append((f"baseline {args.baseline}", export_tree(args.baseline, work / "baseline"), []))
    trees.append(("working tree", ROOT, []))
    for item in args.variant:
        name, _, overrides = item.partition("=")
        trees.append((name, ROOT, [o for o in overrides.split(",") if o]))
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    results: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    try:
        for name, tree, overrides in trees:  # untimed: each tree's build/ (class-data archive, jars) filled
            run_once(tree, first, work / f"warm-up-{name.replace(' ', '_')}", args.entry, overrides)
        for repeat in range(args.repeats):
            for name, tree, overrides in trees:
                warehouse = work / f"wh-{repeat}-{len(results)}"
                for case, inputs in (("first", first), ("again", again)):
                    result = run_once(tree, inputs, warehouse, args.entry, overrides)
                    results[(name, case)].append(result)
                    print(f"  [{repeat + 1}/{args.repeats}] {name:>18} {case:5}: wall {result['wall']:5.1f}s  "
                          f"cpu {result['cpu']:5.1f}s", flush=True)
                shutil.rmtree(warehouse, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")

    for case in ("first", "again"):
        print(f"\n{case} run ({'empty warehouse' if case == 'first' else 'tables exist'}), best of {args.repeats}:")
        names = [name for name, _, _ in trees]
        best = {n: min(results[(n, case)], key=lambda r: r["wall"]) for n in names}
        header = f"  {'':28}" + "".join(f"{n:>20}" for n in names)
        print(header)
        print(f"  {'whole run, wall (best)':28}" + "".join(f"{best[n]['wall']:19.1f}s" for n in names))
        print(f"  {'whole run, CPU (best)':28}" + "".join(
            f"{min(r['cpu'] for r in results[(n, case)]):19.1f}s" for n in names))
        print(f"  {'whole run, CPU (median)':28}" + "".join(
            f"{statistics.median(r['cpu'] for r in results[(n, case)]):19.1f}s" for n in names))
        steps = list(dict.fromkeys(s for n in names for s in best[n]["steps"]))
        for step in steps:
            print(f"  {'  ' + step + ', wall':28}" + "".join(
                f"{best[n]['steps'].get(step, float('nan')):19.1f}s" for n in names))
        kinds = sorted({k for n in names for r in results[(n, case)] for k in r["kinds"]})
        for kind in kinds:
            print(f"  {'  CPU ' + kind + ' (best)':28}" + "".join(
                f"{min(r['kinds'].get(kind, 0.0) for r in results[(n, case)]):19.1f}s" for n in names))


if __name__ == "__main__":
    main()
