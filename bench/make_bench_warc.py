"""Build a large gzip WARC from real pages for the scan benchmark (bench/scan_bench.py).

The layout is Common Crawl's: a ``warcinfo`` record, then for every capture a ``request``, a
``response`` and a ``metadata`` record, each compressed as its own gzip member at zlib level 6
(the level of ``gzip`` and of Java's ``GZIPOutputStream``, which Common Crawl's crawler uses).

The pages are real captures (see ``../shared/data/SOURCES.md``):

* FAQ share (``--faq-share``, default 3 % of responses): the six German pages with JSON-LD FAQPage
  markup in ``html-faqpage-jsonld-de/``;
* non-FAQ filler: every HTML response of ``warc-resiliparse/*.warc.gz`` (Common Crawl 2020 and
  ClueWeb09 captures) and ``warc-whirlwind/whirlwind.warc.gz`` (Common Crawl 2024), with their
  real HTTP headers, plus the pages of ``html-hreflang/``. Each is checked not to contain
  ``FAQPage``.

Filler pages are drawn site by site: a site (host) first, uniformly, then one of its pages, so
that the 29 ClueWeb09 pages of one Japanese shop do not make up half of the filler (Common Crawl
also caps the pages it fetches per host). Target URIs, dates and record ids differ for every
capture, so no two records are the same. The builder works on two processes and takes roughly
10-20 s for 200 MB.

Real Common Crawl WARC files hold about 35-40 KB of compressed data per capture (1-1.2 GB for
some 30,000 pages); these pages are smaller (about 15 KB a capture), so this file has more
records per MB than Common Crawl's (about 205 against 75-85), which makes the per-record cost of a
reader weigh more, not less. ``--filler-pages N`` joins N filler pages (drawn as above) into the
body of each non-FAQ response, under the first one's URL and HTTP header: with 3, captures are
about Common Crawl's size and the file has about Common Crawl's records per MB. The bytes are
still real pages; only their grouping into responses is made up.

    python bench/make_bench_warc.py --out bench/data/bench.warc.gz --size-mb 200 --faq-share 0.03
    python bench/make_bench_warc.py --out bench/data/bench-cc.warc.gz --size-mb 200 --filler-pages 3
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import sys
import time
import uuid
import zlib
from base64 import b32encode
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("WEBFAQ_SHARED_DATA", ROOT.parent / "shared" / "data"))
NEEDLE = b"FAQPage"
GZIP_LEVEL = 6
MB = 1_000_000

# The URLs the real fixture pages were captured from (one list for tests and benchmarks).
sys.path.insert(0, str(ROOT))
from tests.warc_fixtures import FAQ_PAGES_DE as FAQ_URLS  # noqa: E402
from tests.warc_fixtures import HREFLANG_PAGES as HREFLANG_URLS  # noqa: E402

# HTTP headers the crawler decoded: Common Crawl renames them (X-Crawler-...) since the stored
# payload is the decoded one.
DECODED_HEADERS = (b"content-encoding", b"transfer-encoding", b"content-length")


def _synthetic_http_head(body: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nDate: Mon, 20 May 2024 10:00:00 GMT\r\nServer: nginx\r\n"
            b"Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n"
            b"Vary: Accept-Encoding\r\nConnection: close\r\n\r\n" % len(body))


def _crawler_http_head(head: bytes, body: bytes) -> bytes:
    """Real HTTP headers, with the ones a crawler decoded renamed as Common Crawl does."""
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    out = [lines[0]]
    for line in lines[1:]:
        name = line.split(b":", 1)[0].strip().lower()
        out.append(b"X-Crawler-" + line if name in DECODED_HEADERS else line)
    out.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(out) + b"\r\n\r\n"


def load_pages(shared: Path) -> tuple[list[tuple[str, bytes, bytes]], list[list[tuple[str, bytes, bytes]]]]:
    """(url, HTTP head, body) of the FAQ pages, and of the non-FAQ filler pages grouped by host."""
    from warcio.archiveiterator import ArchiveIterator  # only to read the fixture records

    faq = []
    for name, url in FAQ_URLS.items():
        body = (shared / "html-faqpage-jsonld-de" / name).read_bytes()
        assert NEEDLE in body, name
        faq.append((url, _synthetic_http_head(body), body))
    filler = []
    for name, url in HREFLANG_URLS.items():
        body = (shared / "html-hreflang" / name).read_bytes()
        if NEEDLE not in body:
            filler.append((url, _synthetic_http_head(body), body))
    for warc in ("warc-resiliparse/warcfile.warc.gz", "warc-resiliparse/clueweb-quirk.warc.gz",
                 "warc-whirlwind/whirlwind.warc.gz"):
        with open(shared / warc, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response" or not record.http_headers:
                    continue
                if "html" not in (record.http_headers.get_header("Content-Type") or ""):
                    continue
                body = record.content_stream().read()
                if NEEDLE in body:
                    continue
                head = record.http_headers.to_bytes()
                filler.append((record.rec_headers.get_header("WARC-Target-URI"),
                               _crawler_http_head(head, body), body))
    by_host: dict[str, list] = {}
    for page in filler:
        by_host.setdefault(page[0].split("/")[2], []).append(page)
    return faq, list(by_host.values())


def _member(data: bytes) -> bytes:
    comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return comp.compress(data) + comp.flush()


def _warc_record(rec_type: bytes, uri: bytes, date: bytes, block: bytes, content_type: bytes,
                 extra: bytes = b"") -> bytes:
    head = (b"WARC/1.0\r\nWARC-Type: " + rec_type + b"\r\nWARC-Date: " + date +
            b"\r\nWARC-Record-ID: <urn:uuid:" + str(uuid.uuid4()).encode() + b">\r\n"
            b"Content-Length: %d\r\nContent-Type: " % len(block) + content_type + b"\r\n" + extra +
            b"WARC-Target-URI: " + uri + b"\r\n\r\n")
    return head + block + b"\r\n\r\n"


def _digest(data: bytes) -> bytes:
    return b"sha1:" + b32encode(hashlib.sha1(data).digest())


def _joined(pages: list[tuple[str, bytes, bytes]]) -> tuple[str, bytes, bytes]:
    """One response of several filler pages: the first one's URL and HTTP header, the bodies
    joined, the header's Content-Length set to the joined body's."""
    url, head, _ = pages[0]
    body = b"".join(page[2] for page in pages)
    return url, re.sub(rb"\r\nContent-Length: \d+\r\n", b"\r\nContent-Length: %d\r\n" % len(body), head), body


def _captures(args: tuple[int, int, float, int, int]) -> tuple[bytes, int, int]:
    """Gzip members of captures ``start..stop-1``: (bytes, responses, FAQ responses)."""
    start, stop, faq_share, seed, filler_pages = args
    rng = random.Random(seed * 1_000_003 + start)
    out = []
    n_faq = 0
    for i in range(start, stop):
        # Deterministic share: capture i is an FAQ page when floor((i+1)*share) steps up.
        is_faq = int((i + 1) * faq_share) > int(i * faq_share)
        if is_faq:
            url, http_head, body = _FAQ[rng.randrange(len(_FAQ))]
        else:
            pages = []
            for _ in range(filler_pages):
                site = _FILLER[rng.randrange(len(_FILLER))]
                pages.append(site[rng.randrange(len(site))])
            url, http_head, body = pages[0] if filler_pages == 1 else _joined(pages)
        n_faq += is_faq
        scheme, _, rest = url.partition("://")
        host, _, path = rest.partition("/")
        host = f"s{i % 997}.{host}" if i % 3 else host
        uri = f"{scheme}://{host}/{path}{'&' if '?' in path else '?'}capture={i}".encode()
        sec = i % 86400
        date = b"2024-05-%02dT%02d:%02d:%02dZ" % (18 + i // 86400 % 10, sec // 3600, sec // 60 % 60, sec % 60)
        request = (b"GET /" + path.encode() + b" HTTP/1.1\r\nUser-Agent: CCBot/2.0 (https://commoncrawl.org/faq/)\r\n"
                   b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                   b"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: br,gzip\r\nHost: " +
                   host.encode() + b"\r\nConnection: Keep-Alive\r\n\r\n")
        out.append(_member(_warc_record(b"request", uri, date, request,
                                        b"application/http; msgtype=request",
                                        b"WARC-IP-Address: 10.0.%d.%d\r\n" % (i % 250, i % 199))))
        block = http_head + body
        extra = (b"WARC-IP-Address: 10.0.%d.%d\r\nWARC-Block-Digest: " % (i % 250, i % 199) + _digest(block) +
                 b"\r\nWARC-Payload-Digest: " + _digest(body) + b"\r\nWARC-Identified-Payload-Type: text/html\r\n")
        out.append(_member(_warc_record(b"response", uri, date, block,
                                        b"application/http; msgtype=response", extra)))
        meta = (b"fetchTimeMs: %d\r\ncharset-detected: UTF-8\r\nlanguages-cld2: "
                b"{\"reliable\":true,\"text-bytes\":%d,\"languages\":[{\"code\":\"de\",\"code-iso-639-3\":\"deu\","
                b"\"text-covered\":0.98,\"score\":%d.0,\"name\":\"GERMAN\"}]}\r\n" % (rng.randrange(50, 900), len(body) // 3, rng.randrange(500, 1500)))
        out.append(_member(_warc_record(b"metadata", uri, date, meta, b"application/warc-fields")))
    return b"".join(out), stop - start, n_faq


_FAQ: list = []
_FILLER: list = []


def _init(faq, filler):
    global _FAQ, _FILLER
    _FAQ, _FILLER = faq, filler


def build(out: Path, size_mb: float, faq_share: float = 0.03, seed: int = 0, processes: int = 2,
          shared: Path = SHARED_DATA, verbose: bool = True, filler_pages: int = 1) -> dict:
    """Write the benchmark WARC to ``out`` (at least ``size_mb`` MB); return what was written."""
    if filler_pages < 1:
        raise ValueError("filler_pages must be at least 1")
    faq, filler = load_pages(shared)
    out.parent.mkdir(parents=True, exist_ok=True)
    target = int(size_mb * MB)
    tmp = out.with_name(out.name + ".part")
    t0 = time.perf_counter()
    written = captures = faq_captures = 0
    batch = 200
    with open(tmp, "wb") as fh:
        info = (b"software: webfaq-spark bench/make_bench_warc.py\r\nformat: WARC File Format 1.0\r\n"
                b"description: real pages (see SOURCES.md) in Common Crawl's record layout\r\n")
        member = _member(_warc_record(b"warcinfo", b"bench.warc.gz", b"2024-05-18T00:00:00Z", info,
                                      b"application/warc-fields").replace(b"WARC-Target-URI", b"WARC-Filename"))
        fh.write(member)
        written += len(member)
        with Pool(processes, initializer=_init, initargs=(faq, filler)) as pool:
            start = 0
            while written < target:
                # Enough batches to pass the target by about one batch per process.
                avg = (written / captures) if captures else 60_000
                n_batches = max(processes, int((target - written) / (avg * batch)) + 1)
                jobs = [(start + k * batch, start + (k + 1) * batch, faq_share, seed, filler_pages)
                        for k in range(n_batches)]
                for data, n, n_faq in pool.imap(_captures, jobs):
                    fh.write(data)
                    written += len(data)
                    captures += n
                    faq_captures += n_faq
                    if written >= target:
                        break
                start += n_batches * batch
                # Captures stay numbered in the order written (a partial last round is fine).
                start = max(start, captures)
    os.replace(tmp, out)
    info = {"path": str(out), "bytes": written, "captures": captures, "faq_captures": faq_captures,
            "records": 1 + 3 * captures, "sites": len(filler) + len(faq),
            "seconds": round(time.perf_counter() - t0, 1)}
    if verbose:
        print(f"wrote {out}: {written / MB:.1f} MB, {captures} captures ({faq_captures} FAQ pages, "
              f"{info['sites']} sites), {info['records']} records ({info['records'] / (written / MB):.0f} per MB), "
              f"{info['seconds']} s", file=sys.stderr)
    return info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "data" / "bench.warc.gz")
    parser.add_argument("--size-mb", type=float, default=200, help="minimum size in MB (10^6 bytes)")
    parser.add_argument("--faq-share", type=float, default=0.03, help="share of responses that are FAQ pages")
    parser.add_argument("--filler-pages", type=int, default=1,
                        help="filler pages joined into each non-FAQ response (3: about Common Crawl's "
                             "capture size and records per MB; default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)
    if args.filler_pages < 1:
        parser.error("--filler-pages must be at least 1")
    build(args.out, args.size_mb, args.faq_share, args.seed, args.processes, filler_pages=args.filler_pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
