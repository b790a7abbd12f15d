"""Parse benchmark: lib.extract.markup.extract_faq_page against extruct, one core, real pages.

Not a test: it prints figures. For each page set (the six German JSON-LD FAQ pages, the six
hreflang pages) it times

* ``ours``: ``extract_faq_page(payload_bytes, url)`` (decode, parse, all three syntaxes,
  title/description/hreflang, text rendering);
* ``extruct``: ``extruct.extract(payload_bytes, base_url=url, syntaxes=['json-ld',
  'microdata', 'rdfa'], uniform=True)`` plus turning its output into pairs by the same rules
  (:func:`lib.extract.markup.faq_pairs_from_json`);
* ``extruct, str input``: the same on the decoded text (lxml parses str more slowly);
* ``lexbor floor``: lexbor parse + JSON-LD script texts + listing ``[itemtype],[typeof]``
  nodes (what any lexbor-based extractor pays at least),

each for ``--seconds`` per repeat, ``--repeats`` times (the extractors take turns in every
repeat), and reports the best pages/s (the machine is shared and noisy: the best repeat is the
least disturbed one). Then, per page, the
pair counts from both extractors next to the count the page's markup holds (SOURCES.md). A
third set rewrites one real page's FAQ as Microdata and as RDFa, clean and broken (the
builders of tests/extract/test_markup.py).

    .venv/bin/python bench/parse_bench.py [--seconds 3] [--repeats 3] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.extract.markup import extract_faq_page, faq_pairs_from_json  # noqa: E402

SHARED = Path(os.environ.get("WEBFAQ_SHARED_DATA", ROOT.parent / "shared" / "data"))

# (folder, file, page URL, questions in its FAQ markup per SOURCES.md)
PAGES = {
    "german-faq": [
        ("html-faqpage-jsonld-de", "financescout24.de.autokredit.html",
         "https://www.financescout24.de/kredit/autokredit", 14),
        ("html-faqpage-jsonld-de", "smava.de.privatkredit.html",
         "https://www.smava.de/privatkredit/privatkredit-zinsen/", 4),
        ("html-faqpage-jsonld-de", "haus.de-Vorsatzschallung.html",
         "https://www.haus.de/bauen/vorsatzschalung-33656", 4),
        ("html-faqpage-jsonld-de", "haustiermagazin.com-katzenspielzeug.html",
         "https://www.haustiermagazin.com/kaufratgeber-vergleich-bestes-elektronisches-katzenspielzeug/", 5),
        ("html-faqpage-jsonld-de", "computerbild.de-streamingcloud.html",
         "https://www.computerbild.de/artikel/cb-Tests-Streaming-Cloud-Gaming-Test-29577027.html", 5),
        ("html-faqpage-jsonld-de", "giromatch.com.kredit.html",
         "https://www.giromatch.com/online-kredit/1000-euro-kredit", 2),
    ],
    "hreflang": [
        ("html-hreflang", "austria.info.radfahren.html",
         "https://www.austria.info/de/aktivitaten/radfahren/radfahren-in-der-weltstadt-salzburg", 0),
        ("html-hreflang", "autosprint.ch-pistenstopp.html",
         "https://www.autosprint.ch/de/classic/histo-monte-pistenstopp-in-rheinfelden/", 0),
        ("html-hreflang", "kas.de-nordmazedonien.html",
         "https://www.kas.de/de/laenderberichte/detail/-/content/kommunalwahlen-in-nordmazedonien", 0),
        ("html-hreflang", "mozilla.org.firefox.developer.html",
         "https://www.mozilla.org/en-US/firefox/developer/", 0),
        ("html-hreflang", "parallels.com.desktop.html", "https://www.parallels.com/products/desktop/", 0),
        ("html-hreflang", "wbf.admin.ch.14093.html",
         "https://www.wbf.admin.ch/wbf/de/home/dokumentation/nsb-news_list.msg-id-14093.html", 0),
    ],
}


def built_pages() -> list[tuple[str, bytes, str, int]]:
    """The financescout24 page with its JSON-LD FAQ rewritten as Microdata and as RDFa, clean and
    broken (the builders of tests/extract/test_markup.py: markup built, FAQ text real)."""
    from tests.test_markup import FS24_URL, built_markup, fs24_faq, into_page

    without_jsonld, raw = fs24_faq(SHARED)
    pages = []
    for syntax in ("microdata", "rdfa"):
        for broken in (False, True):
            html = into_page(without_jsonld, built_markup(raw, syntax, broken=broken))
            name = f"financescout24 as {syntax}{' (broken)' if broken else ''}"
            pages.append((name, html.encode("utf-8"), FS24_URL, 14))
    return pages


def ours(payload: bytes, url: str) -> list[tuple[str, str]]:
    return extract_faq_page(payload, url).pairs


def extruct_three_syntaxes(payload: bytes, url: str) -> list[tuple[str, str]]:
    import extruct

    data = extruct.extract(payload, base_url=url, syntaxes=["json-ld", "microdata", "rdfa"], uniform=True)
    return faq_pairs_from_json(data["json-ld"] + data["microdata"] + data["rdfa"], url)


def extruct_from_text(payload: bytes, url: str) -> list[tuple[str, str]]:
    """extruct given decoded text instead of bytes (how it is often called; lxml is slower so)."""
    return extruct_three_syntaxes(payload.decode("utf-8"), url)


def lexbor_floor(payload: bytes, url: str) -> int:
    from selectolax.lexbor import LexborHTMLParser

    parser = LexborHTMLParser(payload)
    scripts = [node.text() for node in parser.css('script[type="application/ld+json"]')]
    nodes = parser.css("[itemtype],[typeof]")
    return len(scripts) + len(nodes)


def pages_per_second(fn, pages, seconds: float) -> float:
    """Throughput of ``fn`` over ``pages`` (cycled for ``seconds``)."""
    count, start = 0, time.perf_counter()
    while True:
        for payload, url in pages:
            fn(payload, url)
        count += len(pages)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def best_rates(fns: dict, pages, seconds: float, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` pages/s per function, the functions taking turns in every repeat so
    that a noisy stretch on the shared machine does not hit one of them only."""
    best = dict.fromkeys(fns, 0.0)
    for _ in range(repeats):
        for name, fn in fns.items():
            best[name] = max(best[name], pages_per_second(fn, pages, seconds))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per repeat (default 3)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats; the best is reported (default 3)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of ours")
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.CRITICAL)  # extruct/rdflib log about RDFa they cannot read

    print(f"one core (cpu 0); best of {args.repeats} x {args.seconds:.0f} s; pages from {SHARED}")
    every = []
    sets = {name: [(file, (SHARED / folder / file).read_bytes(), url, expected)
                   for folder, file, url, expected in entries] for name, entries in PAGES.items()}
    sets["built-microdata-rdfa"] = built_pages()
    for set_name, entries in sets.items():
        pages = [(payload, url) for _, payload, url, _ in entries]
        every.extend(pages)
        size = sum(len(p) for p, _ in pages) / len(pages) / 1024
        print(f"\n== {set_name}: {len(pages)} pages, {size:.0f} KiB on average")
        rates = best_rates({"ours": ours, "extruct": extruct_three_syntaxes, "extruct_text": extruct_from_text,
                            "floor": lexbor_floor}, pages, args.seconds, args.repeats)
        ours_rate, extruct_rate = rates["ours"], rates["extruct"]
        extruct_text_rate, floor_rate = rates["extruct_text"], rates["floor"]
        print(f"ours (extract_faq_page)        {ours_rate:8.1f} pages/s")
        print(f"extruct json-ld+microdata+rdfa {extruct_rate:8.1f} pages/s   (bytes in, as ours)")
        print(f"extruct, str input             {extruct_text_rate:8.1f} pages/s")
        print(f"lexbor floor (parse + listing) {floor_rate:8.1f} pages/s")
        print(f"speed ratio ours / extruct     {ours_rate / extruct_rate:8.1f}x   "
              f"({ours_rate / extruct_text_rate:.1f}x against extruct on str)")
        print(f"{'page':45} {'markup':>6} {'ours':>5} {'extruct':>7} {'same text':>9}")
        for name, payload, url, expected in entries:
            mine = ours(payload, url)
            theirs = extruct_three_syntaxes(payload, url)
            same = len(set(mine) & set(theirs))
            print(f"{name[:45]:45} {expected:6d} {len(mine):5d} {len(theirs):7d} {same:9d}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        pages_per_second(ours, every, args.seconds)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print(out.getvalue())


if __name__ == "__main__":
    main()
