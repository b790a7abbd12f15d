"""End to end: a WARC of real pages -> jobs/extract.py -> Delta tables, read back without Spark."""
from __future__ import annotations

import collections
import gzip

import pytest
from deltalake import DeltaTable

from jobs.extract import ExtractJob
from lib.extract.pipeline import ExtractSettings, extract_from_warc
from tests.warc_fixtures import FAQ_PAGES_DE, OTHER_PAGES, real_pages, write_warc

pytestmark = pytest.mark.slow

FIRST_CRAWL = dict(list(FAQ_PAGES_DE.items())[:4])
SECOND_CRAWL = dict(list(FAQ_PAGES_DE.items())[3:])   # one page seen again, two new ones


def read(path) -> list[dict]:
    """Rows of a Delta table, read with delta-rs (not Spark): what the Delta log says is live."""
    return DeltaTable(str(path)).to_pyarrow_table().to_pylist()


def expected_pairs(warc_path) -> dict[str, dict]:
    """The pairs lib/extract/pipeline.py keeps from a WARC, without Spark: the job must write the same."""
    stats: collections.Counter = collections.Counter()
    with open(warc_path, "rb") as fh:
        rows = [row for kind, row in extract_from_warc(str(warc_path), fh, ExtractSettings(), stats)
                if kind == "pair"]
    return {row["id"]: row for row in rows}


def run_extract(*args) -> int:
    return ExtractJob().main(list(args))


@pytest.fixture
def crawls(tmp_path, shared_data):
    first = write_warc(tmp_path / "crawl-1" / "first.warc.gz", real_pages(shared_data, FIRST_CRAWL, OTHER_PAGES))
    second = write_warc(tmp_path / "crawl-2" / "second.warc.gz", real_pages(shared_data, SECOND_CRAWL, {}),
                        date="2024-06-20T10:00:00Z")
    return first, second


def test_extract_writes_pairs_pages_and_runs(spark, warehouse, crawls):
    first, _ = crawls
    expected = expected_pairs(first)
    assert len(expected) > 10

    assert run_extract("--input", str(first), "--warehouse", str(warehouse)) == 0

    pairs = read(warehouse / "qa_pairs")
    assert {row["id"] for row in pairs} == set(expected)
    by_id = {row["id"]: row for row in pairs}
    for pair_id, want in expected.items():
        got = by_id[pair_id]
        assert (got["question"], got["answer"], got["language"], got["url"]) == \
               (want["question"], want["answer"], want["language"], want["url"])
        assert got["warc_filename"] == str(first)
        assert got["origin"] == "https://" + got["url"].split("/")[2]
        assert got["fetch_date"].year == 2024
    assert {row["language"] for row in pairs} == {"deu"}

    pages = read(warehouse / "faq_pages")
    assert {row["url"] for row in pages} <= set(FIRST_CRAWL.values())
    assert sum(row["num_pairs"] for row in pages) == len(expected)
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
    assert counters["files"] == 1
    assert counters["records"] == 2 * (len(FIRST_CRAWL) + len(OTHER_PAGES))
    assert counters["candidates"] == len(FIRST_CRAWL)
    assert counters["pairs_inserted"] == len(expected)
    assert counters["raw_pairs"] == counters["pairs_kept"] + sum(
        v for k, v in counters.items() if k.startswith("dropped_"))


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
    new_ids = set(expected_pairs(second)) - set(before)
    assert new_ids, "the second crawl brings new pages"
    assert set(after) == set(before) | new_ids
    runs = sorted(read(warehouse / "runs"), key=lambda r: r["started_at"])
    assert dict(runs[-1]["counters"])["pairs_inserted"] == len(new_ids)
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
    assert counters["files"] == 4
    assert counters["truncated_files"] >= 2
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
    assert len(rows) == len({row["id"] for row in rows}) == len(expected_pairs(warc))
