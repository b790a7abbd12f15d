"""The per-file extraction pipeline, as small steps with counters (after datatrove).

    WARC records --scan--> FAQPage candidates --parse--> FAQ pages --clean/filter--> QA pairs
                 --language ID--> tagged QA pairs

Web Data Commons N-Quads dumps (:mod:`lib.extract.nquads`) and Open Web Index Parquet rows
(:mod:`lib.extract.owi`) give FAQ pages too; from there on every source takes the same steps
(:func:`page_rows`).

Each step counts what it reads, forwards and drops (with the reason) into one ``Counter``; the
Spark side (udfs/extract.py) runs this per file and writes the counters as data.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator

from lib.extract.clean import clean_pair, normalize_text, origin_of, qa_id
from lib.extract.langid import LanguageIdentifier, get_identifier
from lib.extract.manifest import RemoteSettings
from lib.extract.markup import extract_faq_page
from lib.extract.nquads import read_faq_pages
from lib.extract.owi import owi_page
from lib.extract.warc import scan_warc


@dataclass(frozen=True)
class ExtractSettings:
    """What the extraction reads from ``conf`` (section ``extract``)."""

    needle: bytes = b"FAQPage"
    max_payload_bytes: int = 5_000_000
    max_html_chars: int = 2_000_000
    langid_model: str | None = None
    langid_top_k: int = 10
    langid_hint_threshold: float = 0.12
    langid_top1_threshold: float = 0.25
    langid_cache_size: int = 50_000
    remote_deadline_seconds: float = RemoteSettings.deadline_seconds
    remote_read_timeout_seconds: float = RemoteSettings.read_timeout_seconds
    remote_retries: int = RemoteSettings.retries
    remote_backoff_seconds: float = RemoteSettings.backoff_seconds

    @classmethod
    def from_conf(cls, extract: dict) -> "ExtractSettings":
        langid = extract.get("langid") or {}
        needle = extract.get("needle", "FAQPage")
        remote = RemoteSettings.from_conf(extract.get("remote"))
        return cls(
            remote_deadline_seconds=remote.deadline_seconds,
            remote_read_timeout_seconds=remote.read_timeout_seconds,
            remote_retries=remote.retries,
            remote_backoff_seconds=remote.backoff_seconds,
            needle=needle.encode() if isinstance(needle, str) else bytes(needle),
            max_payload_bytes=int(extract.get("max_payload_bytes", cls.max_payload_bytes)),
            max_html_chars=int(extract.get("max_html_chars", cls.max_html_chars)),
            langid_model=langid.get("model"),
            langid_top_k=int(langid.get("top_k", cls.langid_top_k)),
            langid_hint_threshold=float(langid.get("hint_threshold", cls.langid_hint_threshold)),
            langid_top1_threshold=float(langid.get("top1_threshold", cls.langid_top1_threshold)),
            langid_cache_size=int(langid.get("cache_size", cls.langid_cache_size)),
        )

    def remote(self) -> RemoteSettings:
        """Bounds on reading https:// and s3:// inputs (conf ``extract.remote``)."""
        return RemoteSettings(self.remote_deadline_seconds, self.remote_read_timeout_seconds,
                              self.remote_retries, self.remote_backoff_seconds)

    def identifier(self) -> LanguageIdentifier:
        """The language identifier of these settings, loaded once per process."""
        return get_identifier(self.langid_model, k=self.langid_top_k,
                              hint_threshold=self.langid_hint_threshold,
                              top1_threshold=self.langid_top1_threshold,
                              cache_size=self.langid_cache_size)


def extract_from_warc(warc_filename: str, stream: BinaryIO, settings: ExtractSettings,
                      stats: collections.Counter) -> Iterator[tuple[str, dict]]:
    """Yield ``('pair', row)`` for every kept QA pair and ``('page', row)`` for every FAQ page.

    Counters (besides the WARC and markup ones): ``raw_pairs``, ``dropped_<reason>`` for each
    filter, ``dropped_language_unidentified``, ``pairs_kept``, ``kept_<iso639-3>``, and
    ``text_control_chars``, ``text_invisible_chars``, ``text_fields_normalised`` for what was
    removed from stored strings (lib/extract/clean.py, step 0).
    """
    identifier = settings.identifier()
    for record in scan_warc(stream, stats, needle=settings.needle,
                            max_payload_bytes=settings.max_payload_bytes):
        page = extract_faq_page(record.payload, record.target_uri, record.content_type,
                                stats=stats, max_html_chars=settings.max_html_chars)
        if not page.pairs:
            continue
        common = {
            "url": page.url,
            "origin": origin_of(page.url),
            "title": page.title,
            "description": page.description,
            "source": "warc",
            "warc_filename": warc_filename,
            "warc_record_offset": record.offset,
            "warc_record_length": record.length,
            "fetch_date": record.date,
        }
        yield from page_rows(common, page.pairs, page.hreflang, identifier, stats)


def _normalize_common(common: dict, stats: collections.Counter) -> dict:
    """The page's stored strings without control or invisible characters, each on one line."""
    out = dict(common)
    for key in ("url", "origin"):
        out[key] = normalize_text(common[key], False, stats)
    for key in ("title", "description"):
        out[key] = normalize_text(common[key], False, stats) or None
    return out


def page_rows(common: dict, pairs: list[tuple[str, str]], hreflang: list[tuple[str, str]],
              identifier: LanguageIdentifier, stats: collections.Counter) -> Iterator[tuple[str, dict]]:
    """Clean, filter and language-tag one page's raw pairs, whatever the source.

    ``common`` holds the columns the page's rows share (url, origin, title, description, source,
    file, offset, length, fetch date). Yields ``('pair', row)`` per kept pair, then the
    ``('page', row)``; counts ``raw_pairs``, ``dropped_<reason>``, ``pairs_kept``, ``kept_<lang>``.
    """
    common = _normalize_common(common, stats)
    hreflang = [(normalize_text(code, False, stats), normalize_text(link, False, stats))
                for code, link in hreflang]
    cleaned = []
    for question, answer in pairs:
        stats["raw_pairs"] += 1
        result = clean_pair(question, answer, stats)
        if isinstance(result, str):
            stats[f"dropped_{result}"] += 1
        else:
            cleaned.append(result)
    title, description, url = common["title"], common["description"], common["url"]
    languages = identifier.identify_batch(
        [(q, a, title, description, url) for q, a in cleaned]) if cleaned else []
    kept = 0
    for (question, answer), language in zip(cleaned, languages):
        if language is None:
            stats["dropped_language_unidentified"] += 1
            continue
        code, confidence = language
        stats["pairs_kept"] += 1
        stats[f"kept_{code}"] += 1
        kept += 1
        yield "pair", {**common, "id": qa_id(question, answer), "language": code,
                       "language_confidence": float(confidence),
                       "question": question, "answer": answer}
    yield "page", {**common, "hreflang": [{"language": lang, "url": link} for lang, link in hreflang],
                   "num_pairs": kept}


def extract_from_nquads(dump_filename: str, stream: BinaryIO, settings: ExtractSettings,
                        stats: collections.Counter) -> Iterator[tuple[str, dict]]:
    """:func:`extract_from_warc` for a Web Data Commons N-Quads dump (:mod:`lib.extract.nquads`).

    Provenance: ``warc_filename`` is the dump, ``warc_record_offset`` the page's first line
    number (1-based) and ``warc_record_length`` its number of lines; no title, description,
    hreflang or fetch date (the dump has none).
    """
    identifier = settings.identifier()
    for page in read_faq_pages(stream, stats):
        common = {
            "url": page.url,
            "origin": origin_of(page.url),
            "title": None,
            "description": None,
            "source": "wdc-nquads",
            "warc_filename": dump_filename,
            "warc_record_offset": page.first_line,
            "warc_record_length": page.num_lines,
            "fetch_date": None,
        }
        yield from page_rows(common, page.pairs, [], identifier, stats)


def extract_from_owi_rows(rows: Iterable[dict], settings: ExtractSettings,
                          stats: collections.Counter) -> Iterator[tuple[str, dict]]:
    """:func:`extract_from_warc` for rows of Open Web Index Parquet files (:mod:`lib.extract.owi`).

    Each row carries its ``file`` and ``row`` (0-based index in the file): they become
    ``warc_filename`` and ``warc_record_offset``; the OWI ``warc_date`` is the fetch date.
    """
    identifier = settings.identifier()
    for row in rows:
        page = owi_page(row, stats)
        if page is None:
            continue
        common, pairs = page
        yield from page_rows(common, pairs, [], identifier, stats)
