"""Scan throughput on one core: lib.extract.warc.scan_warc next to ISA-L decompression, FastWARC and warcio.

Every reader goes through the whole file and finds the FAQPage candidates: HTTP 200 ``response``
records with an HTML Content-Type whose payload holds ``FAQPage``. The floor is ISA-L's igzip
decompressing the same file to its end (``isal.igzip.open(...).read`` in 1 MiB pieces): a scan
cannot beat reading the bytes. Figures are compressed MB (10^6 bytes) per second, the best of
``--repeat`` rounds in which the readers take turns (so that a noisy stretch on a shared machine
does not hit one reader only); ratios are against igzip in the same run. Both wall-clock time
and the process's CPU time are measured: on a shared machine the CPU time leaves out the time the
process waited for the core. The candidate counts of
all readers must agree, else the script says so and exits 1.

    python bench/scan_bench.py [--warc FILE] [--repeat N] [--skip-slow] [--floor]

Without ``--warc`` it uses (and, if missing, builds with make_bench_warc.py) a 200 MB WARC of
real pages in ``bench/data/bench.warc.gz``.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import lib.extract.stream_io  # noqa: E402
from lib.extract.warc import scan_warc  # noqa: E402

NEEDLE = b"FAQPage"
MB = 1_000_000


def read_igzip(path: Path) -> int:
    """ISA-L decompression to the end of the file: the floor."""
    from isal import igzip

    n = 0
    with igzip.open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            if not block:
                return n
            n += len(block)


def scan_ours(path: Path) -> int:
    stats = collections.Counter()
    with open(path, "rb") as fh:
        return sum(1 for _ in scan_warc(fh, stats, needle=NEEDLE))


def scan_floor(path: Path) -> int:
    """The least a Python reader of this layout can do: each gzip member found by the next copy
    of the first member's header and decompressed in one call, the needle searched in the
    response records; no header is parsed and nothing is checked (status, Content-Type,
    Content-Length, damaged members; a member longer than the 256 KiB buffer is cut, and the
    benchmark file has none). Not a reader (it would be wrong on many files): the ceiling of a
    per-member Python loop over ISA-L."""
    import stringzilla
    from isal import isal_zlib

    find, decompressobj = stringzilla.find, isal_zlib.decompressobj
    buf = bytearray(256 << 10)
    whole = memoryview(buf)
    found = 0
    with open(path, "rb") as fh:
        n = fh.readinto(whole)
        header = bytes(buf[:10])
        find_header = stringzilla.Str(buf).find
        pos = 0
        while pos < n:
            hint = find_header(header, pos + 10, n)
            if hint < 0:  # move the member's start to the front and read on
                keep = n - pos
                buf[:keep] = buf[pos:n]
                n, pos = keep + fh.readinto(whole[keep:]), 0
                hint = find_header(header, 10, n)
                if hint < 0:
                    hint = n
            rec = decompressobj(31).decompress(whole[pos:hint])
            pos = hint
            if rec.startswith(b"response", 21) and find(rec, NEEDLE, rec.find(b"\r\n\r\n"), len(rec)) >= 0:
                found += 1
    return found


def scan_fastwarc(path: Path) -> int:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    found = 0
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=True):
            if record.http_headers.status_code != 200:
                continue
            ctype = (record.http_content_type or "").lower()
            if "text/html" not in ctype and "application/xhtml+xml" not in ctype:
                continue
            if NEEDLE in record.reader.read():
                found += 1
    return found


def scan_warcio(path: Path) -> int:
    from warcio.archiveiterator import ArchiveIterator

    found = 0
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type != "response" or not record.http_headers:
                continue
            if record.http_headers.get_statuscode() != "200":
                continue
            ctype = (record.http_headers.get_header("Content-Type") or "").lower()
            if "text/html" not in ctype and "application/xhtml+xml" not in ctype:
                continue
            if NEEDLE in record.content_stream().read():
                found += 1
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warc", type=Path, default=ROOT / "bench" / "data" / "bench.warc.gz")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the best of each reader is kept")
    parser.add_argument("--size-mb", type=float, default=200, help="size of the WARC built when missing")
    parser.add_argument("--faq-share", type=float, default=0.03)
    parser.add_argument("--core", type=int, default=0, help="the CPU core to run on")
    parser.add_argument("--skip-slow", action="store_true", help="leave out warcio (slowest)")
    parser.add_argument("--floor", action="store_true",
                        help="also time the least a per-member Python loop does (no checks; needs stringzilla and "
                             "members sharing one gzip header)")
    parser.add_argument("--no-simd", action="store_true",
                        help="scan as without the stringzilla package (memchr needle search, no member-end hints)")
    args = parser.parse_args(argv)
    if args.no_simd:
        lib.extract.stream_io._SZ_FIND = None

    if not args.warc.exists():
        from make_bench_warc import build
        build(args.warc, args.size_mb, args.faq_share)
    os.sched_setaffinity(0, {args.core})
    size = args.warc.stat().st_size
    stats = collections.Counter()
    with open(args.warc, "rb") as fh:
        for _ in scan_warc(fh, stats):
            pass

    readers = [("isal igzip, decompress only", read_igzip),
               ("lib.extract.warc.scan_warc", scan_ours),
               ("FastWARC", scan_fastwarc)]
    if args.floor:
        readers.insert(1, ("floor: members + needle only", scan_floor))
    if not args.skip_slow:
        readers.append(("warcio", scan_warcio))
    best = {name: float("inf") for name, _ in readers}
    best_cpu = dict(best)
    result = {}
    for round_ in range(args.repeat):
        for name, fn in readers:
            t0, c0 = time.perf_counter(), time.process_time()
            result[name] = fn(args.warc)
            best[name] = min(best[name], time.perf_counter() - t0)
            best_cpu[name] = min(best_cpu[name], time.process_time() - c0)

    floor = best[readers[0][0]]
    floor_cpu = best_cpu[readers[0][0]]
    print(f"file: {args.warc} ({size / MB:.1f} MB compressed, {result[readers[0][0]] / MB:.1f} MB "
          f"decompressed, {stats['records']} records = {stats['records'] / (size / MB):.0f} per MB, "
          f"{stats['responses']} responses, {stats['candidates']} with {NEEDLE.decode()})")
    print(f"one core (core {args.core}), best of {args.repeat} rounds; needle search: "
          f"{'stringzilla' if lib.extract.stream_io._SZ_FIND else 'memchr on the rarest byte, no member-end hints'}")
    print(f"{'reader':30s} {'wall MB/s':>10s} {'x igzip':>8s} {'CPU MB/s':>9s} {'x igzip':>8s} {'candidates':>11s}")
    for name, _ in readers:
        count = "-" if name == readers[0][0] else str(result[name])
        print(f"{name:30s} {size / MB / best[name]:10.1f} {floor / best[name]:8.2f} "
              f"{size / MB / best_cpu[name]:9.1f} {floor_cpu / best_cpu[name]:8.2f} {count:>11s}")
    counts = {result[name] for name, _ in readers[1:] if not name.startswith("floor")}
    if len(counts) != 1:
        print("MISMATCH: the readers found different candidate counts")
        return 1
    print(f"candidates agree: {counts.pop()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
