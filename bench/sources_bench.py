"""N-Quads lines/s and Parquet rows/s of the extraction's other sources, per core, against baselines.

    .venv/bin/python bench/sources_bench.py [--copies 200] [--owi-copies 100] [--repeats 3] [--core 0]

Inputs (written to bench/data/ once, git-ignored):

* ``wdc-sample-x<copies>.nq.gz``: the real WDC FAQPage sample (``../shared/data/webfaq-wdc-nquads``,
  1,000 lines, 13 pages) repeated ``--copies`` times, each copy with its own graph names
  (``?copy=N`` added to every page URL) and blank node labels, so every copy is a new page;
  gzip level 6.
* ``owi-covidqa-x<owi-copies>.parquet``: COVID-QA as OWI rows (tests/owi_fixtures.py: 34 pages,
  896 FAQ items) repeated ``--owi-copies`` times with ``?copy=N`` URLs, row groups of 1,000 rows.

On one core (``sched_setaffinity``), best of ``--repeats``, every figure from this run:

* N-Quads, lines/s: ``gzip`` (zlib) line count and ISA-L line count of the same file (the floor
  of anything that reads it line by line); ``lib.extract.nquads.read_faq_pages`` (decompress,
  group, pyoxigraph parse, FAQ graph rules); ``lib.extract.pipeline.extract_from_nquads`` (plus
  cleaning, filters, language ID: what a Spark task runs per dump); and rdflib's N-Quads parser
  on a slice (the alternative RDF library, parse only). Language ID runs without its cache of
  recent predictions (``extract.langid.cache_size: 0``), since the copies repeat the same texts.
* Parquet, rows/s: a bare pyarrow scan of the columns the job reads (``iter_batches``), the same
  scan turned into Python rows (``to_pylist``), and ``extract_from_owi_rows`` over those rows.
  (In the job Spark's reader delivers the rows as pandas batches; its own cost is not measured here.)
"""
from __future__ import annotations

import argparse
import collections
import gzip
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyarrow.parquet as pq  # noqa: E402
from isal import igzip  # noqa: E402

from lib.extract.nquads import read_faq_pages  # noqa: E402
from lib.extract.owi import REQUIRED_COLUMNS  # noqa: E402
from lib.extract.pipeline import ExtractSettings, extract_from_nquads, extract_from_owi_rows  # noqa: E402
from tests.conftest import SHARED_DATA  # noqa: E402
from tests.owi_fixtures import covidqa_owi_rows, write_owi_parquet  # noqa: E402

DATA = ROOT / "bench" / "data"
SAMPLE = SHARED_DATA / "webfaq-wdc-nquads" / "FAQPage_sample.txt.gz"
_GRAPH = re.compile(rb"<([^<>]*)>(\s*\.\s*)$")
_BLANK = re.compile(rb"(_:[A-Za-z0-9]+)")


def build_nquads(copies: int) -> Path:
    path = DATA / f"wdc-sample-x{copies}.nq.gz"
    if path.exists():
        return path
    lines = gzip.decompress(SAMPLE.read_bytes()).rstrip(b"\n").split(b"\n")
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wb", compresslevel=6) as out:
        for copy in range(copies):
            tag = str(copy).encode()
            for line in lines:
                line = _BLANK.sub(rb"\1c" + tag, line)
                out.write(_GRAPH.sub(rb"<\1?copy=" + tag + rb">\2", line) + b"\n")
    tmp.rename(path)
    return path


def build_parquet(copies: int) -> Path:
    path = DATA / f"owi-covidqa-x{copies}.parquet"
    if path.exists():
        return path
    rows = covidqa_owi_rows(SHARED_DATA)
    many = [{**row, "url": f"{row['url']}?copy={copy}"} for copy in range(copies) for row in rows]
    write_owi_parquet(path.with_suffix(".tmp"), many, row_group_size=1000).rename(path)
    return path


def best_of(repeats: int, fn):
    best = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        if best is None or elapsed < best[0]:
            best = (elapsed, result)
    return best


def count_lines(opener, path: Path) -> int:
    with opener(path, "rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))


# The inputs repeat the same texts: language ID runs without its cache of recent predictions, so
# every copy pays for its own (as distinct pages would).
SETTINGS = ExtractSettings(langid_cache_size=0)


def nquads_figures(path: Path, repeats: int) -> None:
    settings = SETTINGS
    settings.identifier()  # the model load is not part of the figures

    def ours_read():
        stats = collections.Counter()
        with open(path, "rb") as fh:
            pairs = sum(len(page.pairs) for page in read_faq_pages(fh, stats))
        return stats["nquads_lines"], pairs

    def ours_full():
        stats = collections.Counter()
        with open(path, "rb") as fh:
            kept = sum(1 for kind, _ in extract_from_nquads(str(path), fh, settings, stats) if kind == "pair")
        return stats["nquads_lines"], kept

    t_gzip, lines = best_of(repeats, lambda: count_lines(gzip.open, path))
    t_isal, _ = best_of(repeats, lambda: count_lines(igzip.open, path))
    t_read, (read_lines, pairs) = best_of(repeats, ours_read)
    t_full, (_, kept) = best_of(repeats, ours_full)
    assert read_lines == lines, (read_lines, lines)
    slice_lines = min(lines, 20_000)
    with igzip.open(path, "rb") as fh:
        head = b"".join(fh.readline() for _ in range(slice_lines))

    def rdflib_parse():
        import rdflib

        dataset = rdflib.Dataset()
        dataset.parse(data=head, format="nquads")
        return len(dataset)

    import logging
    logging.getLogger("rdflib").setLevel(logging.ERROR)  # it warns on every {search_term_string} IRI
    t_rdflib, _ = best_of(1, rdflib_parse)
    size = path.stat().st_size / 1e6
    print(f"\nN-Quads: {path.name}, {lines:,} lines, {size:.1f} MB gzip; {pairs:,} raw pairs, {kept:,} kept")
    print(f"  {'gzip (zlib) line count':<46} {lines / t_gzip:>12,.0f} lines/s")
    print(f"  {'ISA-L line count':<46} {lines / t_isal:>12,.0f} lines/s")
    print(f"  {'read_faq_pages (parse + FAQ rules)':<46} {lines / t_read:>12,.0f} lines/s"
          f"   {t_gzip / t_read:5.2f}x the gzip count")
    print(f"  {'extract_from_nquads (+ clean, filter, langid)':<46} {lines / t_full:>12,.0f} lines/s"
          f"   {t_gzip / t_full:5.2f}x the gzip count")
    print(f"  {'rdflib Dataset.parse, first ' + format(slice_lines, ',') + ' lines':<46} "
          f"{slice_lines / t_rdflib:>12,.0f} lines/s")


def parquet_figures(path: Path, repeats: int) -> None:
    settings = SETTINGS
    settings.identifier()
    columns = list(REQUIRED_COLUMNS)

    def bare():
        return sum(batch.num_rows for batch in pq.ParquetFile(path).iter_batches(columns=columns))

    def as_rows():
        return sum(len(batch.to_pylist()) for batch in pq.ParquetFile(path).iter_batches(columns=columns))

    def ours():
        stats = collections.Counter()
        index = 0
        for batch in pq.ParquetFile(path).iter_batches(columns=columns):
            rows = batch.to_pylist()
            for row in rows:
                row["file"], row["row"] = str(path), index
                index += 1
            for _ in extract_from_owi_rows(rows, settings, stats):
                pass
        return stats["parquet_rows"], stats["faq_items"], stats["pairs_kept"]

    t_bare, rows = best_of(repeats, bare)
    t_rows, _ = best_of(repeats, as_rows)
    t_ours, (ours_rows, items, kept) = best_of(repeats, ours)
    assert ours_rows == rows
    groups = pq.ParquetFile(path).metadata.num_row_groups
    print(f"\nParquet: {path.name}, {rows:,} rows in {groups} row groups, {items:,} FAQ items, {kept:,} pairs kept")
    print(f"  {'pyarrow iter_batches (bare scan)':<46} {rows / t_bare:>12,.0f} rows/s")
    print(f"  {'pyarrow iter_batches + to_pylist':<46} {rows / t_rows:>12,.0f} rows/s")
    print(f"  {'extract_from_owi_rows (+ clean, filter, langid)':<46} {rows / t_ours:>12,.0f} rows/s"
          f"   {items / t_ours:,.0f} FAQ items/s   {t_bare / t_ours:6.3f}x the bare scan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=200, help="copies of the 1,000-line WDC sample")
    parser.add_argument("--owi-copies", type=int, default=100, help="copies of the 34 COVID-QA OWI rows")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--core", type=int, default=0, help="the one core to run on")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    print(f"one core ({args.core}), best of {args.repeats}")
    nquads_figures(build_nquads(args.copies), args.repeats)
    parquet_figures(build_parquet(args.owi_copies), args.repeats)


if __name__ == "__main__":
    main()
