"""Rebuild docs/report.png, the screenshot of the statistics report shown in the README.

The data is the sample the tests use: the 896 real FAQ pairs of the COVID-QA scrape (34 official
sites, 5 languages; ../shared/data/faq-covidqa-deepset) as a qa_pairs table, then the real
benchmark, evaluate (BM25) and report stages. Sections of stages that need the large models
(annotate, bitexts, mine) say so on the page. Needs Debian's chromium:

    .venv/bin/python docs/make_report_screenshot.py            # writes build/screenshot/ and docs/report.png
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from PIL import Image

    from jobs.benchmark import BenchmarkJob
    from jobs.evaluate import EvaluateJob
    from jobs.report import ReportJob
    from lib.conf import load_conf
    from tests.conftest import SHARED_DATA
    from tests.qa_fixtures import write_qa_pairs_table
    from udfs.session import get_spark

    os.chdir(ROOT)
    work = Path("build") / "screenshot"
    shutil.rmtree(work, ignore_errors=True)
    warehouse = work / "warehouse"
    get_spark(load_conf("local"))
    from pyspark.sql import SparkSession

    write_qa_pairs_table(SparkSession.getActiveSession(), SHARED_DATA, str(warehouse / "qa_pairs"))
    common = ["--warehouse", str(warehouse)]
    assert BenchmarkJob().main(common + ["--export", str(work / "beir"), "--conf", "benchmark.max_test_queries=100"]) == 0
    assert EvaluateJob().main(common + ["--beir", str(work / "beir")]) == 0
    assert ReportJob().main(common + ["--output", str(work / "report"), "--title", "WebFAQ statistics: COVID-QA sample"]) == 0

    shot = work / "report-full.png"
    profile = (work / "chromium").resolve()
    env = {**os.environ, "XDG_CONFIG_HOME": str(profile / "config"), "XDG_CACHE_HOME": str(profile / "cache")}
    subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                    "--hide-scrollbars", "--window-size=1100,1500", f"--screenshot={shot}",
                    (work / "report" / "report.html").resolve().as_uri()], check=True, env=env, capture_output=True)
    image = Image.open(shot).convert("RGB")
    image = image.resize((image.width * 2 // 3, image.height * 2 // 3), Image.LANCZOS)
    image.quantize(colors=128).save(ROOT / "docs" / "report.png", optimize=True)
    print(f"docs/report.png: {image.width}x{image.height}, {(ROOT / 'docs' / 'report.png').stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
