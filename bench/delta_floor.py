"""The least a local run of any stage pays: Python, the Spark session with Delta, a few-row Delta
commit, and the exit, with nothing of the stages' own work.

    .venv/bin/python bench/delta_floor.py [--repeats 3] [--profile local] [--conf KEY=VALUE ...]

Each repeat is a fresh process (``python bench/delta_floor.py --once``), as a run of a stage is,
with the session of the profile (``udfs.session.get_spark``: the same master, Spark settings, jars
folder and class-data archive as ``./spark-submit.sh extract``). In it, one after another:

* **python**: the interpreter start and ``import pyspark.sql`` (what any driver imports);
* **session**: the JVM, Delta's jars, the session (what the job prints as "Spark session ready");
* **first commit**: a 10-row table written as a new Delta table (the first run into a warehouse);
* **merge**: 10 rows MERGEd into it on a key, 5 of them new (what each later run's commit is);
* **append**: one row appended to a second table (the runs row);
* **exit**: the session stopped and the JVM gone.

Figures are the best of ``--repeats`` (wall time per step; CPU time of the Python process and,
sampled from /proc, of the JVM it starts). ``bench/startup_bench.py`` times the same steps of the extract job; the
difference is what the job adds to the floor.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from startup_bench import ProcessCpu  # noqa: E402


def once(profile: str, warehouse: str, overrides: list[str]) -> dict:
    """One run in this process; returns each step's wall seconds."""
    marks = {"start": time.perf_counter()}
    from pyspark.sql import functions as F  # noqa: F401 - what every driver imports

    sys.path.insert(0, str(ROOT))
    from lib import conf as confmod
    from udfs.session import get_spark

    marks["python"] = time.perf_counter()
    conf = confmod.load_conf(profile, overrides)
    spark = get_spark(conf)
    marks["session"] = time.perf_counter()
    from delta.tables import DeltaTable

    table = os.path.join(warehouse, "floor")
    rows = [(i, f"row {i}", "eng" if i % 2 else "deu") for i in range(10)]
    spark.createDataFrame(rows, "id long, text string, language string").write.format("delta") \
        .partitionBy("language").mode("errorifexists").save(table)
    marks["first commit"] = time.perf_counter()
    more = [(i, f"row {i}", "eng" if i % 2 else "deu") for i in range(5, 15)]
    (DeltaTable.forPath(spark, table).alias("t")
     .merge(spark.createDataFrame(more, "id long, text string, language string").alias("s"), "t.id = s.id")
     .whenNotMatchedInsertAll().execute().first())
    marks["merge"] = time.perf_counter()
    spark.createDataFrame([("run", 1)], "run_id string, n long").write.format("delta").mode("append") \
        .save(os.path.join(warehouse, "runs"))
    marks["append"] = time.perf_counter()
    spark.stop()
    marks["exit"] = time.perf_counter()
    names = list(marks)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": usage.ru_utime + usage.ru_stime, **{b: marks[b] - marks[a] for a, b in zip(names, names[1:])}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes; the best of each step is kept")
    parser.add_argument("--profile", default="local", help="the profile whose session is started (default local)")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="a configuration override of the session, as a stage's --conf (repeatable), e.g. "
                             "'spark.conf.[spark.databricks.delta.stats.collect]=false'")
    parser.add_argument("--once", metavar="WAREHOUSE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        print(json.dumps(once(args.profile, args.once, args.conf)))
        return

    load = os.getloadavg()
    print(f"load average at start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    runs = []
    # The first process fills the class-data archive and the jars folder where they are missing: untimed.
    for repeat in range(args.repeats + 1):
        with tempfile.TemporaryDirectory(prefix="delta-floor-") as warehouse:
            start = time.perf_counter()
            conf_args = [arg for override in args.conf for arg in ("--conf", override)]
            proc = subprocess.Popen([sys.executable, __file__, "--once", warehouse, "--profile", args.profile, *conf_args],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
            sampler = ProcessCpu(proc.pid)  # the JVM is the Python process's child, not waited for by it
            out, _ = proc.communicate()
            wall = time.perf_counter() - start
            kinds = sampler.stop()
        if proc.returncode != 0:
            sys.exit(f"the run failed (exit {proc.returncode})")
        if repeat == 0:
            continue
        steps = json.loads(out.strip().splitlines()[-1])
        python_cpu = steps.pop("cpu")
        runs.append({"wall": wall, "cpu": python_cpu + sum(kinds.values()), "CPU driver Python": python_cpu,
                     **{f"CPU {kind}": seconds for kind, seconds in kinds.items()}, **steps})
        print(f"  [{repeat}/{args.repeats}] wall {wall:5.1f}s  cpu {runs[-1]['cpu']:5.1f}s", flush=True)
    print(f"\nbest of {args.repeats} fresh processes (profile {args.profile}"
          f"{''.join(', ' + c for c in args.conf)}):")
    for key in runs[0]:
        label = {"wall": "whole process, wall", "cpu": "whole process, CPU"}.get(
            key, f"  {key}" if key.startswith("CPU") else f"  {key}, wall")
        print(f"  {label:28} {min(r.get(key, 0.0) for r in runs):6.1f}s")


if __name__ == "__main__":
    main()
