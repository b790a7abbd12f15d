"""Tests of lib.extract.owi and the OWI branch of lib/extract/pipeline.py (no Spark).

Parquet files are written here in the OWI schema from the real COVID-QA scrape
(tests/owi_fixtures.py says how); rows built by hand say so.
"""
from __future__ import annotations

import collections

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.extract.manifest import expand_sources, sniff_format
from lib.extract.owi import missing_columns, arrow_schema_fields, owi_origin, owi_page, parquet_inputs_problem
from lib.extract.pipeline import ExtractSettings, extract_from_owi_rows
from tests.owi_fixtures import FAQ_ITEM, OWI_SCHEMA, covidqa_owi_rows, write_owi_parquet
from tests.qa_fixtures import ISO639_3


@pytest.fixture(scope="module")
def covid_rows(shared_data):
    return covidqa_owi_rows(shared_data)


def rows_of(path):
    rows = pq.read_table(path).to_pylist()
    for index, row in enumerate(rows):
        row["file"], row["row"] = str(path), index
    return rows


def test_covidqa_parquet_through_the_pipeline(covid_rows, tmp_path):
    """The row's ``language`` is not used: every item claims "xx" here, language ID decides."""
    rows = [{**row, "faq": [{**item, "language": "xx"} for item in row["faq"]]} for row in covid_rows]
    path = write_owi_parquet(tmp_path / "owi.parquet", rows)
    stats: collections.Counter = collections.Counter()
    out = list(extract_from_owi_rows(rows_of(path), ExtractSettings(), stats))
    pairs = [row for kind, row in out if kind == "pair"]
    pages = [row for kind, row in out if kind == "page"]
    assert (stats["parquet_rows"], stats["faq_items"], stats["pages_with_faq"]) == (34, 896, 34)
    # 4 items repeat a pair of their page; the filters drop 32 + 11 + 4 of the 892 others.
    assert stats["pairs_duplicate_on_page"] == 4 and stats["raw_pairs"] == 892
    assert {k: v for k, v in stats.items() if k.startswith("dropped_")} == {
        "dropped_answer_has_question_mark": 32, "dropped_answer_too_many_newlines": 11,
        "dropped_answer_too_short": 4}
    assert stats["pairs_kept"] == len(pairs) == 845
    assert len(pages) == 34 and sum(p["num_pairs"] for p in pages) == 845
    by_url = {row["url"]: row for row in pages}
    cdc = by_url["https://www.cdc.gov/coronavirus/2019-ncov/prepare/children-faq.html"]
    assert (cdc["origin"], cdc["source"], cdc["warc_filename"], cdc["warc_record_length"]) == \
           ("https://www.cdc.gov", "owi-parquet", str(path), None)
    assert cdc["fetch_date"].startswith("2020-03-") and cdc["fetch_date"].endswith("+00:00")
    rows_in_file = [row["url"] for row in pq.read_table(path, columns=["url"]).to_pylist()]
    assert cdc["warc_record_offset"] == rows_in_file.index(cdc["url"])


def test_language_id_agrees_with_the_scrape(covid_rows, tmp_path):
    """Each COVID-QA page is in one language: language ID gives it to every kept pair."""
    path = write_owi_parquet(tmp_path / "owi.parquet", covid_rows)
    stats: collections.Counter = collections.Counter()
    pairs = [row for kind, row in extract_from_owi_rows(rows_of(path), ExtractSettings(), stats) if kind == "pair"]
    page_language = {row["url"]: ISO639_3[row["faq"][0]["language"]] for row in covid_rows}
    assert all(len({item["language"] for item in row["faq"]}) == 1 for row in covid_rows)
    assert [row for row in pairs if row["language"] != page_language[row["url"]]] == []
    assert collections.Counter(row["language"] for row in pairs) == {
        "deu": 368, "eng": 213, "pol": 122, "ita": 78, "swe": 64}


def test_owi_row_rules():
    """Rows made here: the origin from the URL parts, HTML and whitespace in items rendered as
    the WARC path renders JSON-LD strings, the same pair twice kept once, a string warc_date."""
    row = {"url": "https://Shop.Example.co/faq?x=1", "url_scheme": "https", "url_subdomain": "Shop",
           "url_domain": "example", "url_suffix": "co", "title": " FAQ &amp; help\n", "description": None,
           "warc_date": "2025-01-02T03:04:05Z", "file": "f.parquet", "row": 7,
           "faq": [{"question": "What  is\n\n it?", "answer": "<p>One</p><p>Two &amp; three</p>", "language": "en"},
                   {"question": "What is\n it?", "answer": "One\n Two & three", "language": "de"},
                   {"question": None, "answer": "x"}]}
    stats: collections.Counter = collections.Counter()
    common, pairs = owi_page(row, stats)
    assert common["origin"] == "https://shop.example.co" and common["title"] == "FAQ & help"
    assert (common["warc_filename"], common["warc_record_offset"], common["fetch_date"]) == \
           ("f.parquet", 7, "2025-01-02T03:04:05Z")
    assert pairs == [("What is\nit?", "One\nTwo & three"), ("", "x")]
    assert stats["pairs_duplicate_on_page"] == 1 and stats["faq_items"] == 3
    assert owi_origin({"url": "http://h.example:8080/a", "url_scheme": None}) == "http://h.example:8080"
    assert owi_origin({"url_scheme": "http", "url_subdomain": "", "url_domain": "example", "url_suffix": "org"}) == \
        "http://example.org"
    assert owi_page({**row, "faq": []}, stats) is None and stats["parquet_rows_without_faq"] == 1


def test_schema_is_checked_before_anything_is_read(covid_rows, tmp_path):
    good = write_owi_parquet(tmp_path / "good.parquet", covid_rows[:2])
    assert missing_columns(arrow_schema_fields(pq.read_schema(good))) == []
    assert parquet_inputs_problem([str(good), f"file://{good}"]) is None
    no_date = write_owi_parquet(tmp_path / "no_date.parquet", covid_rows[:2],
                                schema=pa.schema([f for f in OWI_SCHEMA if f.name != "warc_date"]))
    problem = parquet_inputs_problem([str(good), str(no_date)])
    assert problem.startswith(f"{no_date} is not an Open Web Index export: it lacks column(s) warc_date (")
    no_answer = pa.schema([f if f.name != "faq" else pa.field("faq", pa.list_(pa.struct([FAQ_ITEM[0]])))
                           for f in OWI_SCHEMA])
    rows = [{**row, "faq": [{"question": i["question"]} for i in row["faq"]]} for row in covid_rows[:1]]
    bad = write_owi_parquet(tmp_path / "no_answer.parquet", rows, schema=no_answer)
    assert "lacks column(s) faq.answer" in parquet_inputs_problem([str(bad)])
    assert "no http(s) file system" in parquet_inputs_problem(["https://example.org/x.parquet"])
    assert parquet_inputs_problem(["s3a://bucket/x.parquet", "dbfs:/owi/x.parquet"]) is None  # Spark checks those
    text = tmp_path / "x.parquet"
    text.write_text("not parquet")
    assert "not a readable Parquet file" in parquet_inputs_problem([str(text)])
    # Sniffed by content; a folder of Parquet files (Spark's _SUCCESS and .crc files skipped).
    assert sniff_format(good.read_bytes()[:4096]) == "owi-parquet"
    (tmp_path / "_SUCCESS").write_text("")
    assert expand_sources([str(tmp_path)], source="owi-parquet") == [
        (str(tmp_path / n), "owi-parquet") for n in ("good.parquet", "no_answer.parquet", "no_date.parquet", "x.parquet")]
