"""End to end: jobs/extract.py on Web Data Commons N-Quads and Open Web Index Parquet inputs,
alone and mixed with WARC files in one warehouse; Delta tables read back without Spark.

Real inputs: the WDC FAQPage sample (1,000 lines), the smava.de FAQ page (a real capture with
JSON-LD), COVID-QA as OWI Parquet (tests/owi_fixtures.py). The smava page is also turned into
the other two formats here, as their producers would write it: its JSON-LD read as RDF by
pyoxigraph and written as N-Quads with the page URL as graph (Web Data Commons), and its
questions and answers as they stand in the JSON-LD put into an OWI row's ``faq`` items.
"""
from __future__ import annotations

import collections
import datetime as dt
import gzip
import json

import pyoxigraph as ox
import pytest
from deltalake import DeltaTable
from selectolax.lexbor import LexborHTMLParser

from jobs.extract import ExtractJob
from lib.extract.pipeline import ExtractSettings, extract_from_owi_rows
from lib.schemas import FAQ_PAGES, QA_PAIRS, columns
from tests.owi_fixtures import covidqa_owi_rows, url_parts, write_owi_parquet
from tests.qa_fixtures import covidqa_pairs
from tests.warc_fixtures import FAQ_PAGES_DE, real_pages, write_warc

pytestmark = pytest.mark.slow

SAMPLE = ("webfaq-wdc-nquads", "FAQPage_sample.txt.gz")
SMAVA = "smava.de.privatkredit.html"
SMAVA_URL = FAQ_PAGES_DE[SMAVA]


def read(path) -> list[dict]:
    return DeltaTable(str(path)).to_pyarrow_table().to_pylist()


def last_counters(warehouse) -> dict:
    runs = sorted(read(warehouse / "runs"), key=lambda r: r["started_at"])
    return dict(runs[-1]["counters"])


def run_extract(*args) -> int:
    return ExtractJob().main(list(args))


def smava_faqpage(shared_data) -> dict:
    """The FAQPage JSON-LD document of the smava page."""
    html = (shared_data / "html-faqpage-jsonld-de" / SMAVA).read_bytes()
    for script in LexborHTMLParser(html).css('script[type="application/ld+json"]'):
        doc = json.loads(script.text())
        if doc.get("@type") == "FAQPage":
            return doc
    raise AssertionError("no FAQPage JSON-LD on the smava page")


def smava_nquads(shared_data, path):
    """The smava FAQPage as a WDC dump: schema.org's context given inline (no network)."""
    doc = {**smava_faqpage(shared_data), "@context": {"@vocab": "http://schema.org/"}}
    triples = ox.parse(json.dumps(doc).encode(), format=ox.RdfFormat.JSON_LD)
    page = ox.NamedNode(SMAVA_URL)
    quads = [ox.Quad(t.subject, t.predicate, t.object, page) for t in triples]
    path.write_bytes(gzip.compress(ox.serialize(quads, format=ox.RdfFormat.N_QUADS)))
    return path


def smava_owi_row(shared_data, fetched: dt.datetime) -> dict:
    doc = smava_faqpage(shared_data)
    items = [{"question": q["name"], "answer": q["acceptedAnswer"]["text"], "language": "de"}
             for q in doc["mainEntity"]]
    return {**url_parts(SMAVA_URL), "title": doc.get("name"), "description": None, "warc_date": fetched,
            "faq": items}


def test_wdc_sample_into_the_warehouse(spark, warehouse, shared_data):
    sample = shared_data.joinpath(*SAMPLE)
    assert run_extract("--input", str(sample), "--warehouse", str(warehouse)) == 0  # sniffed
    pairs = read(warehouse / "qa_pairs")
    assert len(pairs) == 52 and {r["source"] for r in pairs} == {"wdc-nquads"}
    assert {r["warc_filename"] for r in pairs} == {str(sample)}
    kvartal = sorted((r["question"], r["warc_record_offset"], r["warc_record_length"], r["language"], r["origin"])
                     for r in pairs if r["url"] == "https://8kvartal.by/fundamenty/czokolnyj-fundament/")
    assert kvartal == [("Если фундамент уже готов, можно ли построить цоколь?", 726, 34, "rus", "https://8kvartal.by"),
                       ("Можно ли проводить работы по созданию цокольного этажа весной?", 726, 34, "rus", "https://8kvartal.by"),
                       ("Обязательно ли обустраивать дренаж на территории?", 726, 34, "rus", "https://8kvartal.by")]
    assert all(r["fetch_date"] is None for r in pairs)
    pages = read(warehouse / "faq_pages")
    assert len(pages) == 12 and sum(p["num_pairs"] for p in pages) == 52
    counters = last_counters(warehouse)
    assert {k: counters[k] for k in ("files", "files_wdc_nquads", "nquads_lines", "nquads_pages", "questions",
                                     "raw_pairs", "pairs_kept", "pairs_kept_wdc_nquads", "pairs_inserted",
                                     "pairs_inserted_wdc_nquads", "dropped_answer_has_question_mark",
                                     "dropped_question_too_short")} == {
        "files": 1, "files_wdc_nquads": 1, "nquads_lines": 1000, "nquads_pages": 13, "questions": 56,
        "raw_pairs": 56, "pairs_kept": 52, "pairs_kept_wdc_nquads": 52, "pairs_inserted": 52,
        "pairs_inserted_wdc_nquads": 52, "dropped_answer_has_question_mark": 3, "dropped_question_too_short": 1}


def test_owi_parquet_folder_into_the_warehouse(spark, warehouse, shared_data, tmp_path):
    rows = covidqa_owi_rows(shared_data)
    first = write_owi_parquet(tmp_path / "owi" / "part-0.parquet", rows[:17])
    second = write_owi_parquet(tmp_path / "owi" / "part-1.parquet", rows[17:])
    expected = {}
    for path, part in ((first, rows[:17]), (second, rows[17:])):
        records = [{**row, "file": str(path), "row": index} for index, row in enumerate(part)]
        for kind, row in extract_from_owi_rows(records, ExtractSettings(), collections.Counter()):
            if kind == "pair":
                expected.setdefault(row["id"], row)
    assert run_extract("--source", "owi-parquet", "--input", str(tmp_path / "owi"),
                       "--warehouse", str(warehouse)) == 0
    pairs = {r["id"]: r for r in read(warehouse / "qa_pairs")}
    assert set(pairs) == set(expected)
    for pair_id, want in expected.items():
        got = pairs[pair_id]
        assert (got["question"], got["answer"], got["language"], got["origin"], got["source"]) == \
               (want["question"], want["answer"], want["language"], want["origin"], "owi-parquet")
    # Provenance: the file as given and the row's index in it; the export's warc_date.
    cdc = [r for r in pairs.values() if r["url"] == "https://www.cdc.gov/coronavirus/2019-ncov/prepare/children-faq.html"]
    index = [row["url"] for row in rows].index(cdc[0]["url"])
    file, row_index = (first, index) if index < 17 else (second, index - 17)
    assert {(r["warc_filename"], r["warc_record_offset"], r["warc_record_length"]) for r in cdc} == \
           {(str(file), row_index, None)}
    assert {r["fetch_date"].date() for r in cdc} == {rows[index]["warc_date"].date()}
    counters = last_counters(warehouse)
    assert (counters["files"], counters["files_owi_parquet"], counters["parquet_rows"], counters["faq_items"]) == \
           (2, 2, 34, 896)
    assert counters["pairs_kept"] == 845 and counters["pairs_inserted_owi_parquet"] == len(expected)
    assert counters["duplicates_in_run"] == 845 - len(expected)


def test_owi_file_without_a_column_stops_before_spark(spark, warehouse, shared_data, tmp_path, capsys):
    import pyarrow as pa

    from tests.owi_fixtures import OWI_SCHEMA

    schema = pa.schema([f for f in OWI_SCHEMA if f.name != "url_domain"])
    path = write_owi_parquet(tmp_path / "old.parquet", covidqa_owi_rows(shared_data)[:3], schema=schema)
    assert run_extract("--input", str(path), "--warehouse", str(warehouse)) == 2
    err = capsys.readouterr().err
    assert "lacks column(s) url_domain" in err and str(path) in err
    assert list(warehouse.iterdir()) == []


def test_tables_from_before_the_source_column_keep_taking_merges(spark, warehouse, shared_data):
    """qa_pairs and faq_pages written with the schemas of the previous release (no source)."""
    old_pairs = covidqa_pairs(shared_data).drop(columns=["source"])
    old_ddl = ",".join(line for line in QA_PAIRS.strip().split(",\n") if not line.startswith("source"))
    spark.createDataFrame(old_pairs, schema=old_ddl).write.format("delta").partitionBy("language") \
        .save(str(warehouse / "qa_pairs"))
    page_ddl = ",".join(line for line in FAQ_PAGES.strip().split(",\n") if not line.startswith("source"))
    old_pages = [{"url": "https://anyquestions.info/old", "origin": "https://anyquestions.info", "num_pairs": 1,
                  "run_id": "old"}]
    spark.createDataFrame([{c: r.get(c) for c in columns(page_ddl)} for r in old_pages], schema=page_ddl) \
        .write.format("delta").save(str(warehouse / "faq_pages"))
    assert "source" not in DeltaTable(str(warehouse / "qa_pairs")).schema().to_arrow().names

    assert run_extract("--input", str(shared_data.joinpath(*SAMPLE)), "--warehouse", str(warehouse)) == 0
    rows = read(warehouse / "qa_pairs")
    assert len(rows) == len(old_pairs) + 52
    assert collections.Counter(r["source"] for r in rows) == {None: len(old_pairs), "wdc-nquads": 52}
    pages = read(warehouse / "faq_pages")
    assert collections.Counter(p["source"] for p in pages) == {None: 1, "wdc-nquads": 12}
    assert last_counters(warehouse)["pairs_inserted"] == 52


def test_one_run_over_warc_nquads_and_parquet_stores_each_pair_once(spark, warehouse, shared_data, tmp_path):
    """The smava page in all three formats, beside the WDC sample and COVID-QA in the same run."""
    warc = write_warc(tmp_path / "crawl.warc.gz", real_pages(shared_data, {SMAVA: SMAVA_URL}, {}),
                      date="2024-05-20T10:00:00Z")
    dump = smava_nquads(shared_data, tmp_path / "smava.nq.gz")
    owi_rows = covidqa_owi_rows(shared_data)[:5] + [smava_owi_row(shared_data, dt.datetime(
        2024, 3, 1, tzinfo=dt.timezone.utc))]
    owi = write_owi_parquet(tmp_path / "owi.parquet", owi_rows)
    owi_ids = {row["id"] for kind, row in extract_from_owi_rows(
        [{**r, "file": str(owi), "row": i} for i, r in enumerate(owi_rows)], ExtractSettings(),
        collections.Counter()) if kind == "pair"}
    sample = shared_data.joinpath(*SAMPLE)
    assert run_extract("--input", str(warc), "--input", str(dump), "--input", str(owi), "--input", str(sample),
                       "--warehouse", str(warehouse)) == 0
    rows = read(warehouse / "qa_pairs")
    smava = [r for r in rows if r["url"] == SMAVA_URL]
    assert len(smava) == 4 and {r["id"] for r in smava} <= owi_ids
    assert len({r["id"] for r in rows}) == len(rows) == len(owi_ids) + 52
    # Seen three times each; the earliest fetch wins: the OWI row (March) before the WARC (May),
    # the N-Quads dump (no date) last.
    assert {r["source"] for r in smava} == {"owi-parquet"}
    counters = last_counters(warehouse)
    assert (counters["pairs_kept_warc"], counters["pairs_kept_wdc_nquads"]) == (4, 4 + 52)
    assert counters["files"] == 4 and counters["files_warc"] == counters["files_owi_parquet"] == 1
    assert counters["duplicates_in_run"] == counters["pairs_kept"] - len(rows)
    assert counters["pairs_inserted"] == len(rows)
    assert counters["pairs_inserted_owi_parquet"] == len(owi_ids)
    assert counters["pairs_inserted_wdc_nquads"] == 52 and "pairs_inserted_warc" not in counters

    # The WARC again, alone: nothing new, the stored rows keep their first source.
    assert run_extract("--input", str(warc), "--warehouse", str(warehouse)) == 0
    counters = last_counters(warehouse)
    assert (counters["pairs_inserted"], counters["pairs_already_present"]) == (0, 4)
    assert {r["source"] for r in read(warehouse / "qa_pairs") if r["url"] == SMAVA_URL} == {"owi-parquet"}
