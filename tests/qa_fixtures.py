"""QA-pair rows made from real FAQ data, for stages that read ``qa_pairs``.

The COVID-QA scrape (``faq-covidqa-deepset/faq_200327.tsv``: 896 real pairs from 34 official
sites in de, en, pl, it, sv, each with its page URL and language) is turned into rows of the
``qa_pairs`` schema (lib/schemas.py), so model and retrieval stages can be tested on real text.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

ISO639_3 = {"de": "deu", "en": "eng", "pl": "pol", "it": "ita", "sv": "swe"}


def covidqa_pairs(shared_data: Path) -> pd.DataFrame:
    """The COVID-QA pairs as ``qa_pairs`` rows (one row per distinct id)."""
    from lib.extract.clean import origin_of, qa_id
    from lib.schemas import QA_PAIRS, columns

    raw = pd.read_csv(shared_data / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t")
    raw = raw.dropna(subset=["question", "answer", "link"])
    rows = pd.DataFrame({
        "id": [qa_id(q, a) for q, a in zip(raw.question, raw.answer)],
        "origin": raw.link.map(origin_of),
        "url": raw.link,
        "language": raw.lang.map(ISO639_3),
        "language_confidence": 1.0,
        "question": raw.question.str.strip(),
        "answer": raw.answer.str.strip(),
        "title": raw["name"],
        "description": raw.source,
        "duplicate_question": False,
        "warc_filename": None,
        "warc_record_offset": None,
        "warc_record_length": None,
        "fetch_date": pd.to_datetime(raw.last_update, format="%Y/%m/%d", utc=True),
        "run_id": "covidqa",
    })
    rows = rows.drop_duplicates("id").reset_index(drop=True)
    return rows[columns(QA_PAIRS)]


def write_qa_pairs_table(spark, shared_data: Path, path: str) -> int:
    """Write the COVID-QA pairs as a Delta ``qa_pairs`` table at ``path``; returns the row count."""
    from lib.schemas import QA_PAIRS, QA_PAIRS_PARTITION

    df = spark.createDataFrame(covidqa_pairs(shared_data), schema=QA_PAIRS)
    df.write.format("delta").mode("overwrite").partitionBy(*QA_PAIRS_PARTITION).save(path)
    return df.count()


def covidqa_faq_pages(shared_data: Path, languages: tuple[str, ...] = ("en",)) -> list[tuple[str, bytes]]:
    """The COVID-QA pairs of ``languages`` (ISO 639-1, as in the file) as schema.org FAQPage pages.

    One page per source URL, holding that URL's pairs in its JSON-LD ``mainEntity``, answers as the
    HTML the sites published (``answer_html``), the page title the scrape's ``name``. The text is
    real; the page around it is made here (the scrape kept the pairs, not the pages), in the shape
    real FAQ pages have (see html-faqpage-jsonld-de for captured ones).
    """
    import html
    import json

    raw = pd.read_csv(shared_data / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t")
    raw = raw[raw.lang.isin(languages)].dropna(subset=["question", "answer", "link"])
    pages = []
    for url, group in raw.groupby("link", sort=True):
        entities = [{"@type": "Question", "name": q.strip(),
                     "acceptedAnswer": {"@type": "Answer", "text": (a_html if isinstance(a_html, str) else a).strip()}}
                    for q, a, a_html in zip(group.question, group.answer, group.answer_html)]
        data = json.dumps({"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": entities},
                          ensure_ascii=False).replace("</", "<\\/")
        title = html.escape(str(group["name"].iloc[0]))
        lang = str(group.lang.iloc[0])
        body = (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
                f'<meta name="description" content="{html.escape(str(group.source.iloc[0]))}">'
                f'<script type="application/ld+json">{data}</script></head>'
                f"<body><h1>{title}</h1></body></html>\n")
        pages.append((url, body.encode("utf-8")))
    return pages
