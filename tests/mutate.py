"""Mutation testing of lib/ with cosmic-ray: how many deliberate bugs the tests notice.

    python -m tests.mutate lib/retrieval/negatives.py lib/extract/clean.py
    python -m tests.mutate --tests tests/extract/test_clean.py lib/extract/clean.py
    python -m tests.mutate --sample 60 lib/models/bitexts.py

For each module, cosmic-ray applies one mutation at a time (``<=`` -> ``<``, a constant changed, a
``not`` dropped, ...) and runs the module's tests on the mutated code; a mutant *survives* when
every test still passes. The run works in a copy of the checkout under ``build/mutate/tree`` (the
files git tracks or would track), so the checkout itself is never modified, even by an interrupted
run. ``WEBFAQ_SHARED_DATA`` points the copy's tests at the real fixtures beside the checkout.

The tests of a module are, unless ``--tests`` names them, the test files that import it (``from
lib.retrieval import negatives``, ``from lib.retrieval.negatives import ...``,
``lib.retrieval.negatives``); ``-m`` passes a pytest marker expression (default ``not gpu``).
Each mutant runs ``pytest -x`` once: a module with slow (Spark) tests costs their start-up per
mutant, so scope a run to the modules at hand.

``--sample N`` runs N of a module's mutants, drawn with a fixed seed (the same N mutants on every
run while the module is unchanged), for an estimate where the whole set would take too long; the
others are recorded as skipped.

Results: one line per module (killed / survived / incompetent / skipped / total, survival rate
over the mutants run), the
surviving mutants with their diff in ``build/mutate/<module>.survivors.txt``, and cosmic-ray's
session database ``build/mutate/<module>.sqlite`` (``cr-report`` reads it).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: str) -> str:
    return path[:-3].replace("/", ".") if path.endswith(".py") else path.replace("/", ".")


def tests_importing(module: str) -> list[str]:
    """Test files that import ``module`` (dotted name), by their import lines."""
    package, _, leaf = module.rpartition(".")
    patterns = [re.compile(rf"^\s*from {re.escape(package)} import .*\b{re.escape(leaf)}\b", re.M),
                re.compile(rf"\b{re.escape(module)}\b")]
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        if any(p.search(text) for p in patterns):
            found.append(str(path.relative_to(ROOT)))
    return found


def copy_tree(dest: Path) -> None:
    """The files git tracks (and untracked ones it does not ignore) copied to ``dest``."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    shutil.rmtree(dest, ignore_errors=True)
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def summary(session: Path, survivors_file: Path) -> dict[str, int]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    from cosmic_ray.work_item import WorkerOutcome

    counts = {"killed": 0, "survived": 0, "incompetent": 0, "skipped": 0, "total": 0}
    lines = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        counts["total"] = db.num_work_items
        for item, result in db.completed_work_items:
            if result.test_outcome == TestOutcome.SURVIVED:
                counts["survived"] += 1
                m = item.mutations[0]
                lines.append(f"{m.module_path}:{m.start_pos[0]} {m.operator_name} #{m.occurrence}\n{result.diff}\n")
            elif result.worker_outcome == WorkerOutcome.SKIPPED:
                counts["skipped"] += 1
            elif result.test_outcome == TestOutcome.KILLED:
                counts["killed"] += 1
            else:
                counts["incompetent"] += 1
    survivors_file.write_text("".join(lines), encoding="utf-8")
    return counts


def keep_sample(session: Path, sample: int) -> None:
    """Mark all but ``sample`` mutants (a fixed-seed draw) as skipped, so that ``exec`` runs those only."""
    import random

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        # job ids are random per init: order the mutants by what they are, not by id
        items = sorted(db.work_items, key=lambda w: (str(w.mutations[0].module_path), w.mutations[0].operator_name,
                                                     w.mutations[0].occurrence))
        if sample >= len(items):
            return
        chosen = set(random.Random(0).sample(range(len(items)), sample))
        db.set_multiple_results([w.job_id for i, w in enumerate(items) if i not in chosen],
                                WorkResult(worker_outcome=WorkerOutcome.SKIPPED))


def run_module(path: str, tests: list[str], marker: str, timeout: float, build: Path,
               sample: int | None = None) -> dict[str, int]:
    slug = module_name(path)
    tree = build / "tree"
    config = build / f"{slug}.toml"
    session = build / f"{slug}.sqlite"
    pytest = f"{sys.executable} -m pytest -x -q -p no:cacheprovider -m '{marker}' {' '.join(tests)}"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{path}"\n'
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f'test-command = "{pytest}"\n\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n', encoding="utf-8")
    session.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1",
           "WEBFAQ_SHARED_DATA": os.environ.get("WEBFAQ_SHARED_DATA", str(ROOT.parent / "shared" / "data"))}
    cosmic = [sys.executable, "-m", "cosmic_ray.cli"]
    subprocess.run(cosmic + ["init", str(config), str(session)], cwd=tree, env=env, check=True)
    if sample:
        keep_sample(session, sample)
    baseline = subprocess.run(cosmic + ["baseline", str(config)], cwd=tree, env=env)
    if baseline.returncode != 0:
        raise SystemExit(f"{path}: the tests fail on the unmutated code ({' '.join(tests)}); fix them first")
    subprocess.run(cosmic + ["exec", str(config), str(session)], cwd=tree, env=env, check=True)
    return summary(session, build / f"{slug}.survivors.txt")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="+", help="lib/ files to mutate, e.g. lib/retrieval/negatives.py")
    parser.add_argument("--tests", action="append", default=None, metavar="FILE",
                        help="a test file to run against every mutant, repeatable "
                             "(default: the test files that import the module)")
    parser.add_argument("-m", dest="marker", default="not gpu", help="pytest marker expression (default: not gpu)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant before it counts as killed")
    parser.add_argument("--sample", type=int, default=None, metavar="N",
                        help="run N mutants per module, a fixed-seed draw (default: all)")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "mutate",
                        help="work folder: the copy of the checkout and the results (default: build/mutate)")
    args = parser.parse_args(argv)
    for path in args.modules:
        if not (ROOT / path).is_file() or not path.startswith("lib/"):
            parser.error(f"{path}: not a file under lib/")
    build = args.build.resolve()
    build.mkdir(parents=True, exist_ok=True)
    copy_tree(build / "tree")
    results = {}
    for path in args.modules:
        tests = args.tests or tests_importing(module_name(path))
        if not tests:
            print(f"{path}: no test file imports it; skipped", file=sys.stderr)
            continue
        print(f"== {path}: {len(tests)} test file(s): {' '.join(tests)}", flush=True)
        results[path] = run_module(path, tests, args.marker, args.timeout, build, args.sample)
    print("\nmodule                                  killed survived incompetent skipped  total  survival")
    for path, c in results.items():
        done = c["killed"] + c["survived"] + c["incompetent"]
        rate = 100.0 * c["survived"] / done if done else 0.0
        print(f"{path:40s} {c['killed']:6d} {c['survived']:8d} {c['incompetent']:11d} {c['skipped']:7d} "
              f"{c['total']:6d}  {rate:6.1f} %")
    print(f"surviving mutants: {build}/<module>.survivors.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
