"""Open Web Index Parquet exports -> FAQ pages (the WebFAQ 2.0 input). No Spark.

An OWI export has one row per crawled page: ``url`` and its parts (``url_scheme``,
``url_subdomain``, ``url_domain``, ``url_suffix``), ``title``, ``description``, ``warc_date``
(beside ``keywords``, ``author`` and others not used here) and a ``faq`` list of
``{question, answer, language}`` items the OWI pipeline already read from the page's markup.

What a row gives (:func:`owi_page`):

* origin ``scheme://[subdomain.]domain.suffix`` from the URL parts (lower-cased), as the
  WebFAQ 2.0 extraction builds it; :func:`lib.extract.clean.origin_of` of the URL when the parts
  are missing;
* the items' question and answer, rendered as JSON-LD strings are in the WARC path
  (:func:`lib.extract.html_text.html_to_text`: HTML-unescaped, markup to text, whitespace runs
  collapsed), so that a pair read from a WARC and from OWI has the same id; the same pair twice on
  a page is kept once (``pairs_duplicate_on_page``);
* the item's ``language`` is not used: language ID decides, as in the paper;
* title and description on one line, HTML-unescaped.

:func:`missing_columns` checks a file's schema before anything is read.
"""
from __future__ import annotations

import collections
import datetime as dt
import urllib.parse
from typing import Any, Iterable, Mapping

from lib.extract.clean import origin_of
from lib.extract.html_text import html_to_text, unescape_entities

__all__ = ["REQUIRED_COLUMNS", "FAQ_ITEM_FIELDS", "STATS_KEYS", "missing_columns", "arrow_schema_fields",
           "schema_problem", "is_local", "parquet_inputs_problem", "owi_origin", "owi_page"]

#: Columns an OWI file must have (``faq``: a list of structs with :data:`FAQ_ITEM_FIELDS`).
REQUIRED_COLUMNS = ("url", "url_scheme", "url_subdomain", "url_domain", "url_suffix", "title",
                    "description", "warc_date", "faq")
FAQ_ITEM_FIELDS = ("question", "answer")
#: Counter keys :func:`owi_page` increments.
STATS_KEYS = ("parquet_rows", "parquet_rows_without_faq", "parquet_rows_without_url", "faq_items",
              "pairs_duplicate_on_page", "pages_with_faq")


def missing_columns(columns: Mapping[str, Iterable[str] | None]) -> list[str]:
    """The required columns a schema lacks, as ``name`` or ``faq.field``.

    ``columns`` maps each top-level column name to the field names of its list items when it is
    a list of structs, else None (see :func:`arrow_schema_fields`).
    """
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if "faq" in columns:
        fields = columns["faq"]
        if fields is None:
            missing.append("faq (a list of {question, answer} structs)")
        else:
            missing += [f"faq.{name}" for name in FAQ_ITEM_FIELDS if name not in set(fields)]
    return missing


def arrow_schema_fields(schema) -> dict[str, list[str] | None]:
    """:func:`missing_columns`'s input from a ``pyarrow.Schema``."""
    import pyarrow as pa

    columns: dict[str, list[str] | None] = {}
    for item in schema:
        fields = None
        if pa.types.is_list(item.type) or pa.types.is_large_list(item.type):
            value = item.type.value_type
            if pa.types.is_struct(value):
                fields = [value.field(i).name for i in range(value.num_fields)]
        columns[item.name] = fields
    return columns


def schema_problem(path: str, missing: list[str]) -> str | None:
    """The one-line message for an input whose schema lacks ``missing`` (None when nothing is)."""
    if not missing:
        return None
    return (f"{path} is not an Open Web Index export: it lacks column(s) {', '.join(missing)} "
            f"(needed: {', '.join(REQUIRED_COLUMNS)}; faq items with {', '.join(FAQ_ITEM_FIELDS)})")


def is_local(path: str) -> bool:
    """True for a plain path or a ``file:`` URI (what the driver can read before Spark starts)."""
    return urllib.parse.urlsplit(path).scheme in ("", "file")


def parquet_inputs_problem(paths: Iterable[str]) -> str | None:
    """The first problem with OWI Parquet inputs that shows before Spark starts, else None:
    an ``http(s)://`` input (Spark's Parquet reader has no such file system), or a local file
    whose footer is unreadable or lacks a column (only footers are read). Other remote files
    are checked by Spark (``udfs.extract_sources.remote_parquet_problem``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for path in paths:
        if path.startswith(("http://", "https://")):
            return (f"{path}: Parquet files are read by Spark's Parquet reader, which has no http(s) "
                    "file system; copy them to a folder or to s3a:// first")
        if not is_local(path):
            continue
        try:
            schema = pq.read_schema(urllib.parse.urlsplit(path).path if path.startswith("file:") else path)
        except (OSError, pa.ArrowException) as exc:
            return f"{path} is not a readable Parquet file: {exc}"
        problem = schema_problem(path, missing_columns(arrow_schema_fields(schema)))
        if problem:
            return problem
    return None


def owi_origin(row: Mapping[str, Any]) -> str:
    """``scheme://[subdomain.]domain.suffix`` of an OWI row (lower-cased); ``origin_of(url)``
    when scheme or domain is missing."""
    scheme, domain = row.get("url_scheme"), row.get("url_domain")
    if not scheme or not domain:
        return origin_of(row.get("url") or "")
    host = ".".join(part for part in (row.get("url_subdomain"), domain, row.get("url_suffix")) if part)
    return f"{scheme}://{host}".lower()


def _one_line(text: Any) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    return " ".join(unescape_entities(text).split()) or None


def _item_field(item: Any, name: str) -> Any:
    try:
        return item[name]
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _fetch_date(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        return _fetch_date(value.to_pydatetime())
    text = str(value).strip()
    return text or None


def owi_page(row: Mapping[str, Any], stats: collections.Counter) -> tuple[dict, list[tuple[str, str]]] | None:
    """The shared columns and raw pairs of one OWI row, or None when it has no FAQ pair.

    ``row`` holds the OWI columns plus ``file`` and ``row`` (its 0-based index in the file).
    """
    stats["parquet_rows"] += 1
    url = row.get("url")
    if not url:
        stats["parquet_rows_without_url"] += 1
        return None
    items = row.get("faq")
    if items is None or len(items) == 0:
        stats["parquet_rows_without_faq"] += 1
        return None
    pairs = []
    for item in items:
        stats["faq_items"] += 1
        question, answer = _item_field(item, "question"), _item_field(item, "answer")
        pairs.append((html_to_text(question) if isinstance(question, str) else "",
                      html_to_text(answer) if isinstance(answer, str) else ""))
    distinct = list(dict.fromkeys(pairs))
    if len(distinct) != len(pairs):
        stats["pairs_duplicate_on_page"] += len(pairs) - len(distinct)
    stats["pages_with_faq"] += 1
    common = {
        "url": url,
        "origin": owi_origin(row),
        "title": _one_line(row.get("title")),
        "description": _one_line(row.get("description")),
        "source": "owi-parquet",
        "warc_filename": row.get("file"),
        "warc_record_offset": row.get("row"),
        "warc_record_length": None,
        "fetch_date": _fetch_date(row.get("warc_date")),
    }
    return common, distinct
