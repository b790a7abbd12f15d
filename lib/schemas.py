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


class MissingColumns(ValueError):
    """A table a stage reads lacks columns the stage needs (written by hand or another version)."""


def check_columns(table: str, present: list[str], needed) -> None:
    """Raise :class:`MissingColumns`, naming the table and the columns, when some are absent."""
    missing = [c for c in needed if c not in set(present)]
    if missing:
        raise MissingColumns(f"table {table} lacks column(s) {', '.join(missing)} "
                             f"(it has: {', '.join(present) or 'none'})")


HREFLANG = "array<struct<language:string,url:string>>"

# Where pages and pairs are read from (the ``source`` column): Common Crawl WARC files, Web Data
# Commons N-Quads dumps (WebFAQ v1's input), Open Web Index Parquet exports (WebFAQ 2.0's input).
# How warc_filename / warc_record_offset / warc_record_length locate a row in each:
#   warc         the WARC file, the record's byte offset and length
#   wdc-nquads   the dump file, the page's first line number (1-based) and its number of lines
#   owi-parquet  the Parquet file, the row's index in the file (0-based), null
# Rows written before the column existed have a null source (they came from WARC files).
SOURCES = ("warc", "wdc-nquads", "owi-parquet")

# What the extraction UDF emits per input file: page rows, pair rows and one counters row
# (``kind`` = 'page' | 'pair' | 'stats'), so counters travel as data and survive task retries;
# ``error`` on the counters row says why the file could not be read (null when it could).
EXTRACT_OUTPUT = f"""
kind string,
source string,
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
counters map<string,bigint>,
error string
"""

# One row per FAQ page (a page whose markup gave at least one question/answer pair); ``source``
# is where the stored row was read from.
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
run_id string,
source string
"""
FAQ_PAGES_KEY = ("url",)

# One row per cleaned, language-tagged, globally deduplicated QA pair; partitioned by language.
# ``source`` is where the pair was first read from: a pair later found in another source is not
# stored again.
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
run_id string,
source string
"""
QA_PAIRS_KEY = ("id",)
QA_PAIRS_PARTITION = ("language",)

# One row per job run with its counters (files, records, candidates, pairs dropped per reason...)
# and its measures as numbers (evaluate: ``<system>/<language>/<measure>`` between 0 and 1; train:
# final_loss, seconds). error: null for a run that succeeded, else why it failed (one line).
# unreadable_inputs: the input files the run could not read, and why, so that they can be run again
# (failed runs included). Columns added later reach older tables by Delta schema evolution
# (mergeSchema); their older rows read them as null (lib/retrieval/results.run_metrics).
RUNS = """
run_id string,
job string,
profile string,
started_at timestamp,
finished_at timestamp,
inputs array<string>,
counters map<string,bigint>,
error string,
unreadable_inputs array<struct<input:string,reason:string>>,
metrics map<string,double>
"""


# ---- model stages (annotate, bitexts) --------------------------------------------------------

# One row per annotated QA pair (jobs/annotate.py), keyed by the qa_pairs id. A table of its own
# rather than new qa_pairs columns: extract keeps sole ownership of qa_pairs, a re-run finds the
# pairs still missing with one anti-join, and no large table is rewritten to add three columns.
# label_status: ok | empty (question or answer empty: no score, no labels) | unsupported_language
# (score, but no labels); truncated: which model inputs were cut to the model's maximum length.
QA_ANNOTATIONS = """
id string,
language string,
semantic_similarity_score float,
topic string,
topic_score float,
question_type string,
question_type_score float,
label_status string,
truncated array<string>,
models string,
run_id string
"""
QA_ANNOTATIONS_KEY = ("id",)
QA_ANNOTATIONS_PARTITION = ("language",)

# What the per-origin mining UDF receives (jobs/bitexts.py): deduplicated QA pairs of origins in two
# or more languages, with the hreflang alternates of their page (both directions).
BITEXT_INPUT = """
id string,
origin string,
url string,
language string,
question string,
answer string,
alternates array<string>
"""
# The same rows with their L2-normalised mining vector and whether the mining text was cut at the
# encoder's limit (the encoding step of bitexts, before the rows are grouped by origin).
BITEXT_ENCODED = BITEXT_INPUT.rstrip() + """,
embedding array<float>,
truncated boolean
"""

# One row per mined bitext: the released fields first (language1 < language2), then the ids of the
# two QA pairs (the key), whether their pages link each other by hreflang, and the run.
BITEXTS = """
language1 string,
language2 string,
origin string,
labse_similarity double,
question1 string,
question2 string,
answer1 string,
answer2 string,
urls array<string>,
id1 string,
id2 string,
hreflang_linked boolean,
run_id string
"""
BITEXTS_KEY = ("id1", "id2")

# What the per-origin mining UDF emits: bitext rows (kind 'bitext') and one counters row per origin
# (kind 'stats'), so counters travel as data like extract's.
BITEXT_MINED = BITEXTS.rstrip() + """,
kind string,
counters map<string,bigint>
"""
BITEXTS_PARTITION = ("language1",)

# ---- retrieval stages (benchmark, mine) ------------------------------------------------------

# Per-language retrieval collections in BEIR/MTEB layout (jobs/benchmark.py); ids carry a prefix,
# 'd<qa id>' for documents and 'q<qa id>' for queries (lib/retrieval/beir.py says why).
BENCHMARK_CORPUS = """
language string,
_id string,
title string,
text string
"""
BENCHMARK_QUERIES = """
language string,
_id string,
text string,
split string,
origin string
"""
BENCHMARK_QRELS = """
language string,
split string,
query_id string,
corpus_id string,
score float
"""
BENCHMARK_PARTITION = ("language",)

# One record per training query (jobs/mine.py): BM25 top-200 candidates minus the positive and its
# duplicates, all rescored by BGE-m3; negatives, negative_ids, neg_scores and bm25_scores align.
HARD_NEGATIVES = """
language string,
query_id string,
query string,
positive_id string,
positive string,
pos_score float,
negative_ids array<string>,
negatives array<string>,
neg_scores array<float>,
bm25_scores array<float>,
bm25_hits int,
positive_bm25_rank int,
removed_positive_duplicates int,
removed_repeated_texts int,
scorer string,
run_id string
"""
HARD_NEGATIVES_KEY = ("language", "query_id")
HARD_NEGATIVES_PARTITION = ("language",)

#: The columns each table's rows are looked up by within a partition (its key without the partition
#: columns): ``maintain`` Z-orders the table's files by them, so that merges and readers that look
#: rows up by key skip most files. A table not listed (``runs``) is compacted only.
ZORDER_BY = {
    "faq_pages": FAQ_PAGES_KEY,
    "qa_pairs": QA_PAIRS_KEY,
    "qa_annotations": QA_ANNOTATIONS_KEY,
    "bitexts": BITEXTS_KEY,
    "benchmark_corpus": ("_id",),
    "benchmark_queries": ("_id",),
    "benchmark_qrels": ("query_id",),
    "hard_negatives": ("query_id",),
}

# ---- exports people load as they are (jobs/export.py, benchmark --export, mine --export) -----

# The main dataset in the Hugging Face layout, one config per language (lib/exports/qa.py): the
# fields of the released WebFAQ datasets, labels from qa_annotations (null where not annotated).
HF_QA_PAIRS = """
id string,
origin string,
url string,
question string,
answer string,
semantic_similarity_score float,
topic string,
question_type string
"""

# Hard negatives in the layouts trainers take (lib/exports/trainers.py). sentence-transformers:
# the inputs in order, then ``scores`` (the label column: positive score first, the soft targets of
# MarginMSE); FlagEmbedding: its JSON-lines record. ``language`` and ``query_id`` close every row:
# the dataset card's configs leave them out of what a sentence-transformers trainer is handed.
HARD_NEGATIVE_TRACE = "language string, query_id string"


def n_tuple_schema(num_negatives: int) -> str:
    negatives = ", ".join(f"negative_{i} string" for i in range(1, num_negatives + 1))
    return f"query string, positive string, {negatives}, scores array<float>, {HARD_NEGATIVE_TRACE}"


TRIPLET = f"query string, positive string, negative string, scores array<float>, {HARD_NEGATIVE_TRACE}"
FLAGEMBEDDING = ("query string, pos array<string>, neg array<string>, pos_scores array<float>, "
                 f"neg_scores array<float>, {HARD_NEGATIVE_TRACE}")

# Training examples of jobs/train.py (parquet files the training processes read with ``datasets``):
# language and query id, then the model inputs in the order the loss reads them
# (lib/retrieval/training.py), and for MarginMSE the label [pos_score, neg_score_1..n].
def training_examples(first: str, num_negatives: int, with_label: bool) -> str:
    cols = ["language string", "query_id string", f"{first} string", "positive string"]
    cols += [f"negative_{i} string" for i in range(1, num_negatives + 1)]
    if with_label:
        cols.append("label array<float>")
    return ",\n".join(cols)
