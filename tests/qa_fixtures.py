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
        "source": None,  # none of the extract sources: a scrape published as a table
    })
    rows = rows.drop_duplicates("id").reset_index(drop=True)
    return rows[columns(QA_PAIRS)]


def write_qa_pairs_table(spark, shared_data: Path, path: str) -> int:
    """Write the COVID-QA pairs as a Delta ``qa_pairs`` table at ``path``; returns the row count."""
    from lib.schemas import QA_PAIRS, QA_PAIRS_PARTITION

    df = spark.createDataFrame(covidqa_pairs(shared_data), schema=QA_PAIRS)
    df.write.format("delta").mode("overwrite").partitionBy(*QA_PAIRS_PARTITION).save(path)
    return df.count()
