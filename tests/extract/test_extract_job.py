"""End to end: a WARC of real pages -> jobs/extract.py -> Delta tables, read back without Spark."""
from __future__ import annotations

import datetime
import gzip
import re

import pytest
from deltalake import DeltaTable

from jobs.extract import ExtractJob
from tests.warc_fixtures import FAQ_PAGES_DE, OTHER_PAGES, real_pages, write_warc

pytestmark = pytest.mark.slow

FIRST_CRAWL = dict(list(FAQ_PAGES_DE.items())[:4])
SECOND_CRAWL = dict(list(FAQ_PAGES_DE.items())[3:])   # one page seen again, two new ones


def read(path) -> list[dict]:
    """Rows of a Delta table, read with delta-rs (not Spark): what the Delta log says is live."""
    return DeltaTable(str(path)).to_pyarrow_table().to_pylist()


def run_extract(*args) -> int:
    return ExtractJob().main(list(args))


@pytest.fixture
def crawls(tmp_path, shared_data):
    first = write_warc(tmp_path / "crawl-1" / "first.warc.gz", real_pages(shared_data, FIRST_CRAWL, OTHER_PAGES))
    second = write_warc(tmp_path / "crawl-2" / "second.warc.gz", real_pages(shared_data, SECOND_CRAWL, {}),
                        date="2024-06-20T10:00:00Z")
    return first, second


# The FAQ pairs of the German pages, counted by hand on the pages' JSON-LD (SOURCES.md says the
# same): financescout24 14, smava 4, haus.de 4, haustiermagazin 5, computerbild 5, giromatch 2.
PAIRS_PER_PAGE = {"financescout24.de.autokredit.html": 14, "smava.de.privatkredit.html": 4,
                  "haus.de-Vorsatzschallung.html": 4, "haustiermagazin.com-katzenspielzeug.html": 5,
                  "computerbild.de-streamingcloud.html": 5, "giromatch.com.kredit.html": 2}


def jsonld_pairs(html: bytes) -> list[tuple[str, str]]:
    """(question, answer text) of a page's FAQPage JSON-LD, read with extruct and lxml: a parse
    independent of lib/extract. Whitespace runs are collapsed, HTML entities and tags resolved."""
    import html as htmlmod

    import extruct
    import lxml.html

    def walk(node):
        if isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, dict):
            kind = node.get("@type")
            if kind == "Question":
                yield node
            for key, value in node.items():
                if key != "@type":
                    yield from walk(value)

    def text(value: str) -> str:
        # a block element (paragraph, list item, line break) separates words; inline ones do not
        value = re.sub(r"<(/?)(p|li|ul|ol|br|div|h[1-6]|tr|td|table)\b", r" <\1\2", value, flags=re.I)
        plain = lxml.html.fromstring(f"<div>{value}</div>").text_content()
        return " ".join(htmlmod.unescape(plain).split())

    found = []
    for question in walk(extruct.extract(html.decode("utf-8"), syntaxes=["json-ld"], uniform=False)["json-ld"]):
        answer = question["acceptedAnswer"]
        answer = answer[0] if isinstance(answer, list) else answer
        found.append((text(question["name"]), text(answer["text"])))
    return found


def squash(value: str) -> str:
    return " ".join(value.split())


def test_extract_writes_pairs_pages_and_runs(spark, warehouse, crawls, shared_data):
    first, _ = crawls
    expected = {url: jsonld_pairs((shared_data / "html-faqpage-jsonld-de" / name).read_bytes())
                for name, url in FIRST_CRAWL.items()}
    assert {url: len(pairs) for url, pairs in expected.items()} == \
           {url: PAIRS_PER_PAGE[name] for name, url in FIRST_CRAWL.items()}
    # None of these pairs meets a filter (checked on the parse above: no '?' in an answer, no
    # answer of 10+ lines or under 30 characters, no question under 10): all 25 are kept.
    total = sum(PAIRS_PER_PAGE[name] for name in FIRST_CRAWL)
    assert total == 25

    assert run_extract("--input", str(first), "--warehouse", str(warehouse)) == 0

    pairs = read(warehouse / "qa_pairs")
    assert len(pairs) == len({row["id"] for row in pairs}) == total
    for url, want in expected.items():
        got = sorted((squash(row["question"]), squash(row["answer"])) for row in pairs if row["url"] == url)
        assert got == sorted(want), url
    for row in pairs:
        assert row["warc_filename"] == str(first)
        assert row["origin"] == "https://" + row["url"].split("/")[2]
        assert row["fetch_date"] == datetime.datetime(2024, 5, 20, 10, 0, tzinfo=row["fetch_date"].tzinfo)
        assert row["language"] == "deu" and row["duplicate_question"] is False

    pages = read(warehouse / "faq_pages")
    assert {row["url"]: row["num_pairs"] for row in pages} == \
           {url: PAIRS_PER_PAGE[name] for name, url in FIRST_CRAWL.items()}
    # The WARC offsets point at the page's own record: the gzip member there is its response.
    for page in pages:
        with open(first, "rb") as fh:
            fh.seek(page["warc_record_offset"])
            record = gzip.decompress(fh.read(page["warc_record_length"]))
        assert record.startswith(b"WARC/1.")
        assert f"WARC-Target-URI: {page['url']}".encode() in record

    runs = read(warehouse / "runs")
    assert len(runs) == 1
    counters = dict(runs[0]["counters"])
    pages_in_warc = len(FIRST_CRAWL) + len(OTHER_PAGES)           # 4 FAQ pages + 2 without FAQPage
    assert {k: counters.get(k, 0) for k in (
        "files", "records", "responses", "html_responses", "candidates", "pages_with_faq", "raw_pairs",
        "pairs_kept", "kept_deu", "duplicates_in_run", "pairs_inserted", "pages_inserted", "unreadable_files",
        "truncated_files")} == {
        "files": 1, "records": 2 * pages_in_warc, "responses": pages_in_warc, "html_responses": pages_in_warc,
        "candidates": 4, "pages_with_faq": 4, "raw_pairs": total, "pairs_kept": total, "kept_deu": total,
        "duplicates_in_run": 0, "pairs_inserted": total, "pages_inserted": 4, "unreadable_files": 0,
        "truncated_files": 0}
    assert [k for k, v in counters.items() if k.startswith("dropped_") and v] == []
    assert [k for k in counters if k.startswith("kept_")] == ["kept_deu"]


def test_rerun_adds_nothing_and_a_new_crawl_adds_only_new_pairs(spark, warehouse, crawls):
    first, second = crawls
    assert run_extract("--input", str(first), "--warehouse", str(warehouse)) == 0
    before = sorted(row["id"] for row in read(warehouse / "qa_pairs"))

    assert run_extract("--input", str(first), "--warehouse", str(warehouse)) == 0
    assert sorted(row["id"] for row in read(warehouse / "qa_pairs")) == before
    runs = sorted(read(warehouse / "runs"), key=lambda r: r["started_at"])
    assert dict(runs[-1]["counters"])["pairs_inserted"] == 0

    assert run_extract("--input", str(second), "--warehouse", str(warehouse)) == 0
    after = {row["id"]: row for row in read(warehouse / "qa_pairs")}
    # The second crawl: haus.de again (4 pairs, already stored), haustiermagazin (5) and smava (4) new.
    new_ids = set(after) - set(before)
    assert len(before) == 25 and len(new_ids) == 5 + 4 and len(after) == sum(PAIRS_PER_PAGE.values()) == 34
    assert {after[i]["url"] for i in new_ids} == {FAQ_PAGES_DE["haustiermagazin.com-katzenspielzeug.html"],
                                                   FAQ_PAGES_DE["smava.de.privatkredit.html"]}
    runs = sorted(read(warehouse / "runs"), key=lambda r: r["started_at"])
    counters = dict(runs[-1]["counters"])
    assert (counters["raw_pairs"], counters["pairs_kept"], counters["pairs_inserted"],
            counters["pairs_already_present"], counters["pages_inserted"], counters["pages_updated"]) == \
           (13, 13, 9, 4, 2, 1)
    # The page seen in both crawls keeps one row, now with the later fetch date.
    pages = {row["url"]: row for row in read(warehouse / "faq_pages")}
    shared_url = list(SECOND_CRAWL.values())[0]
    assert pages[shared_url]["fetch_date"].month == 6


def test_bad_input_exits_non_zero_and_writes_nothing(spark, warehouse, tmp_path, crawls, capsys):
    missing = tmp_path / "nope.warc.gz"
    assert run_extract("--input", str(missing), "--warehouse", str(warehouse)) == 2
    assert "do not exist" in capsys.readouterr().err

    manifest = tmp_path / "warc.paths"
    manifest.write_text(f"{crawls[0]}\n{missing}\n")
    assert run_extract("--input", str(manifest), "--warehouse", str(warehouse)) == 2
    assert str(missing) in capsys.readouterr().err

    assert run_extract("--input", str(crawls[0]), "--warehouse", str(warehouse),
                       "--profile", "nonsense") == 2
    assert "unknown profile" in capsys.readouterr().err
    assert list(warehouse.iterdir()) == []


def test_damaged_files_are_counted_and_good_records_kept(spark, warehouse, tmp_path, shared_data, crawls):
    first, _ = crawls
    # A copy of the crawl cut in its last record, and real damaged WARCs from other readers' tests.
    cut = tmp_path / "cut.warc.gz"
    data = first.read_bytes()
    cut.write_bytes(data[: len(data) - 5000])
    inputs = [cut, shared_data / "warc-resiliparse" / "clipped.warc.gz",
              shared_data / "warc-resiliparse" / "clueweb-quirk.warc.gz",
              shared_data / "warc-warcio-edgecases" / "example.arc.gz"]
    manifest = tmp_path / "warc.paths.gz"
    with gzip.open(manifest, "wt") as fh:
        fh.write("\n".join(str(p) for p in inputs) + "\n")

    assert run_extract("--input", str(manifest), "--warehouse", str(warehouse)) == 0
    counters = dict(read(warehouse / "runs")[0]["counters"])
    # Truncated: the cut copy and clipped.warc.gz (one clipped record, SOURCES.md); the WARC/0.18
    # file and the ARC file are read to their end. Every FAQ page sits before the cut.
    assert {k: counters.get(k, 0) for k in ("files", "truncated_files", "unreadable_files", "arc_files",
                                             "pages_with_faq", "raw_pairs", "pairs_kept")} == {
        "files": 4, "truncated_files": 2, "unreadable_files": 0, "arc_files": 1, "pages_with_faq": 4,
        "raw_pairs": 25, "pairs_kept": 25}
    # The cut falls in the last (non-FAQ) page: every FAQ page before it made it.
    kept = {row["url"] for row in read(warehouse / "faq_pages")}
    assert kept == set(FIRST_CRAWL.values())


def test_repeated_questions_in_an_origin_are_flagged_across_runs(spark, warehouse, tmp_path, shared_data):
    # Invented variant of a real page: the same FAQ at a second URL of the same origin, with one
    # answer reworded, so its first question is asked twice in the origin with different answers.
    page = (shared_data / "html-faqpage-jsonld-de" / "financescout24.de.autokredit.html").read_bytes()
    variant = page.replace("Ein Autokredit ist ein zweckgebundener".encode(),
                           "Ein Autokredit ist ein klassischer zweckgebundener".encode())
    assert variant != page
    first = write_warc(tmp_path / "a.warc.gz", [("https://www.financescout24.de/kredit/autokredit", page)])
    second = write_warc(tmp_path / "b.warc.gz", [("https://www.financescout24.de/autokredit-rechner", variant)])

    assert run_extract("--input", str(first), "--warehouse", str(warehouse)) == 0
    assert not any(row["duplicate_question"] for row in read(warehouse / "qa_pairs"))

    assert run_extract("--input", str(second), "--warehouse", str(warehouse)) == 0
    rows = read(warehouse / "qa_pairs")
    flagged = [row for row in rows if row["duplicate_question"]]
    assert [row["question"] for row in flagged] == ["Was ist ein Autokredit?"] * 2
    assert {row["url"] for row in flagged} == {"https://www.financescout24.de/kredit/autokredit",
                                               "https://www.financescout24.de/autokredit-rechner"}
    runs = sorted(read(warehouse / "runs"), key=lambda r: r["started_at"])
    counters = dict(runs[-1]["counters"])
    assert counters["pairs_inserted"] == 1          # only the reworded pair is new
    assert counters["pairs_flagged_repeated_question"] == 2   # the new pair and the stored one


def test_case_whitespace_and_trailing_punctuation_do_not_make_a_new_question(spark, warehouse, tmp_path,
                                                                            shared_data):
    # Invented variant of a real page: the same FAQ at a second URL of the same origin, its first
    # question written in capitals, with two spaces and '?!' at the end. The pair is a new one (its
    # id changes with the question), but the question is the one users already saw there.
    page = (shared_data / "html-faqpage-jsonld-de" / "financescout24.de.autokredit.html").read_bytes()
    variant = page.replace(b'"name": "Was ist ein Autokredit?"', b'"name": "WAS IST EIN  Autokredit ?!"')
    assert variant != page
    warc = write_warc(tmp_path / "a.warc.gz", [("https://www.financescout24.de/kredit/autokredit", page),
                                              ("https://www.financescout24.de/autokredit-rechner", variant)])

    assert run_extract("--input", str(warc), "--warehouse", str(warehouse)) == 0
    rows = read(warehouse / "qa_pairs")
    flagged = sorted(row["question"] for row in rows if row["duplicate_question"])
    assert len(flagged) == 2 and flagged[1] == "Was ist ein Autokredit?"
    assert flagged[0].startswith("WAS IST EIN") and flagged[0].endswith("Autokredit ?!")
    # 14 pairs on the page, the same 14 at the variant URL but for the rewritten question: 13 are the
    # same pairs (same id, stored once), one is new.
    assert len(rows) == len({row["id"] for row in rows}) == 15
    counters = dict(read(warehouse / "runs")[0]["counters"])
    assert (counters["raw_pairs"], counters["duplicates_in_run"], counters["pairs_inserted"],
            counters["pairs_flagged_repeated_question"]) == (28, 13, 15, 2)
