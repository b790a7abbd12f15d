"""Every table and intermediate row layout of webfaq-spark, in one place.

Schemas are Spark DDL strings, so this module needs no Spark import: ``udfs/`` and ``jobs/`` hand
them to ``mapInPandas``/``createDataFrame``, tests compare column lists. Column order is the order
of the released WebFAQ fields where one exists.
"""
from __future__ import annotations


def columns(ddl: str) -> list[str]:
    """Top-level column names of a DDL schema string (nested struct fields are skipped)."""
    names, depth, token = [], 0, ""
    for ch in ddl + ",":
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            names.append(token.strip().split()[0].strip("`"))
            token = ""
        else:
            token += ch
    return names


HREFLANG = "array<struct<language:string,url:string>>"

# What the extraction UDF emits per WARC file: page rows, pair rows and one counters row
# (``kind`` = 'page' | 'pair' | 'stats'), so counters travel as data and survive task retries.
EXTRACT_OUTPUT = f"""
kind string,
url string,
origin string,
title string,
description string,
hreflang {HREFLANG},
warc_filename string,
warc_record_offset bigint,
warc_record_length bigint,
fetch_date string,
num_pairs int,
id string,
language string,
language_confidence double,
question string,
answer string,
counters map<string,bigint>
"""

# One row per FAQ page (a page whose markup gave at least one question/answer pair).
FAQ_PAGES = f"""
url string,
origin string,
title string,
description string,
hreflang {HREFLANG},
num_pairs int,
warc_filename string,
warc_record_offset bigint,
warc_record_length bigint,
fetch_date timestamp,
run_id string
"""
FAQ_PAGES_KEY = ("url",)

# One row per cleaned, language-tagged, globally deduplicated QA pair; partitioned by language.
QA_PAIRS = """
id string,
origin string,
url string,
language string,
language_confidence double,
question string,
answer string,
title string,
description string,
duplicate_question boolean,
warc_filename string,
warc_record_offset bigint,
warc_record_length bigint,
fetch_date timestamp,
run_id string
"""
QA_PAIRS_KEY = ("id",)
QA_PAIRS_PARTITION = ("language",)

# One row per job run with its counters (files, records, candidates, pairs dropped per reason...).
RUNS = """
run_id string,
job string,
profile string,
started_at timestamp,
finished_at timestamp,
inputs array<string>,
counters map<string,bigint>
"""


# ---- model stages (annotate, bitexts) --------------------------------------------------------

# ---- retrieval stages (benchmark, mine) ------------------------------------------------------
