"""Open Web Index Parquet files written in tests from real FAQ text.

No OWI export is among the fixtures, so the tests write files in the OWI schema (the columns the
WebFAQ 2.0 extraction reads: ``url``, ``url_scheme``, ``url_subdomain``, ``url_domain``,
``url_suffix``, ``title``, ``description``, ``keywords``, ``author``, ``warc_date`` and a ``faq``
list of ``{question, answer, language}``) from the real COVID-QA scrape
(``faq-covidqa-deepset/faq_200327.tsv``: 896 pairs from 34 official pages): one row per page,
its pairs as ``faq`` items, the scrape's ``name`` as title, ``source`` as description and
``last_update`` as ``warc_date``. The URL parts split the host at its last two dots (the real
exports use the public suffix list; no host here needs it).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FAQ_ITEM = pa.struct([("question", pa.string()), ("answer", pa.string()), ("language", pa.string())])
OWI_SCHEMA = pa.schema([
    ("url", pa.string()), ("url_scheme", pa.string()), ("url_subdomain", pa.string()),
    ("url_domain", pa.string()), ("url_suffix", pa.string()), ("title", pa.string()),
    ("description", pa.string()), ("keywords", pa.string()), ("author", pa.string()),
    ("warc_date", pa.timestamp("us", tz="UTC")), ("faq", pa.list_(FAQ_ITEM)),
])


def url_parts(url: str) -> dict:
    parts = urlsplit(url)
    labels = parts.hostname.split(".")
    return {"url": url, "url_scheme": parts.scheme, "url_subdomain": ".".join(labels[:-2]) or None,
            "url_domain": labels[-2], "url_suffix": labels[-1]}


def covidqa_owi_rows(shared_data: Path) -> list[dict]:
    """One OWI row per COVID-QA page, its pairs in the scrape's order as ``faq`` items."""
    raw = pd.read_csv(shared_data / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t")
    raw = raw.dropna(subset=["question", "answer", "link"])
    rows = []
    for url, page in raw.groupby("link", sort=True):
        first = page.iloc[0]
        rows.append({**url_parts(url), "title": first["name"], "description": first["source"],
                     "keywords": None, "author": None,
                     "warc_date": pd.Timestamp(first["last_update"].replace("/", "-"), tz="UTC").to_pydatetime(),
                     "faq": [{"question": q, "answer": a, "language": lang}
                             for q, a, lang in zip(page.question, page.answer, page.lang)]})
    return rows


def write_owi_parquet(path: Path, rows: list[dict], row_group_size: int = 8,
                      schema: pa.Schema = OWI_SCHEMA) -> Path:
    """Write ``rows`` as one Parquet file in the OWI schema (several row groups)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path
