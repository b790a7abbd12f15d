"""What one extract task costs in Python, step by step, against the scan alone, on one core.

    .venv/bin/python bench/task_bench.py [--warc FILE] [--repeats 3] [--core 0] [--conf KEY=VALUE ...]

The work of the ``mapInPandas`` function of ``jobs/extract.py`` on one WARC file, without Spark,
each step added to the one before, in CPU time of this process (pinned to ``--core``):

1. **igzip**: ISA-L decompression to the end, the floor of any reader;
2. **scan**: ``lib.extract.warc.scan_warc``, every record read, the FAQPage candidates found;
3. **+ parse**: ``lib.extract.markup.extract_faq_page`` on each candidate (JSON-LD, Microdata, RDFa,
   title, description, hreflang, text rendering);
4. **+ clean, language ID**: ``lib.extract.pipeline.extract_from_warc``, which adds the cleaning,
   the filters and fastText language ID of every pair (the rows of the table);
5. **+ pandas, Arrow**: the rows as the task hands them to Spark (``udfs.extract.frame`` in batches
   of ``ROWS_PER_BATCH``, each made an Arrow record batch).

Every figure is the best of ``--repeats`` rounds (the steps take turns), and each is printed as a
multiple of the scan's time: 1.5x means the task costs half as much again as reading the file.
The input defaults to the first file ``bench/job_bench.py`` builds (100 MB of real pages, 3 % FAQ
pages, made when missing). ``--conf extract.langid.cache_size=0`` turns the language-ID cache off
(that file repeats six real FAQ pages, so the cache answers most of its predictions; a crawl's
pages repeat less).
"""
from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pyarrow as pa  # noqa: E402

from lib import conf as confmod  # noqa: E402
from lib.extract.markup import extract_faq_page  # noqa: E402
from lib.extract.pipeline import ExtractSettings, extract_from_warc  # noqa: E402
from lib.extract.warc import scan_warc  # noqa: E402
from scan_bench import read_igzip  # noqa: E402
from udfs.extract import ROWS_PER_BATCH, frame  # noqa: E402


def steps(path: str, settings: ExtractSettings) -> dict:
    def igzip_only():
        read_igzip(path)

    def scan():
        with open(path, "rb") as fh:
            return sum(1 for _ in scan_warc(fh, collections.Counter(), needle=settings.needle,
                                            max_payload_bytes=settings.max_payload_bytes))

    def parse():
        stats, pairs = collections.Counter(), 0
        with open(path, "rb") as fh:
            for record in scan_warc(fh, stats, needle=settings.needle, max_payload_bytes=settings.max_payload_bytes):
                pairs += len(extract_faq_page(record.payload, record.target_uri, record.content_type,
                                              stats=stats, max_html_chars=settings.max_html_chars).pairs)
        return pairs

    def rows():
        with open(path, "rb") as fh:
            return sum(1 for _ in extract_from_warc(path, fh, settings, collections.Counter()))

    def arrow():
        batch, n = [], 0
        with open(path, "rb") as fh:
            for kind, row in extract_from_warc(path, fh, settings, collections.Counter()):
                row["kind"] = kind
                batch.append(row)
                if len(batch) >= ROWS_PER_BATCH:
                    n += pa.RecordBatch.from_pandas(frame(batch), preserve_index=False).num_rows
                    batch = []
        return n + pa.RecordBatch.from_pandas(frame(batch), preserve_index=False).num_rows

    return {"igzip": igzip_only, "scan": scan, "+ parse": parse, "+ clean, language ID": rows,
            "+ pandas, Arrow": arrow}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warc", default=str(ROOT / "bench" / "data" / "job" / "part-000-100mb.warc.gz"),
                        help="the WARC file (built with make_bench_warc.py when it is the default and missing)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the best of each step is kept")
    parser.add_argument("--core", type=int, default=0, help="the CPU this process is pinned to")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="a profile override, as on the stages (e.g. extract.langid.cache_size=0)")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    if not Path(args.warc).exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_bench_warc.py"), "--out", args.warc,
                        "--size-mb", "100", "--seed", "1000"], check=True)
    conf = confmod.load_conf("local", args.conf)
    settings = ExtractSettings.from_conf(confmod.get(conf, "extract"))
    settings.identifier()  # the model loaded before any timing
    best: dict[str, float] = {}
    outputs = {}
    for _ in range(args.repeats):
        for name, fn in steps(args.warc, settings).items():
            start = time.process_time()
            outputs[name] = fn()
            best[name] = min(best.get(name, float("inf")), time.process_time() - start)
    size = os.path.getsize(args.warc) / 1e6
    print(f"{args.warc}: {size:.1f} MB; {outputs['scan']} candidates, {outputs['+ parse']} raw pairs, "
          f"{outputs['+ clean, language ID']} rows (pairs and pages); best of {args.repeats}, CPU time, core {args.core}")
    for name, seconds in best.items():
        print(f"  {name:24} {seconds:6.2f} s  {size / seconds:7.1f} MB/s  {seconds / best['scan']:5.2f}x the scan")


if __name__ == "__main__":
    main()
