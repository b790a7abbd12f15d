"""The per-WARC-file extraction pipeline, as small steps with counters (after datatrove).

    WARC records --scan--> FAQPage candidates --parse--> FAQ pages --clean/filter--> QA pairs
                 --language ID--> tagged QA pairs

Each step counts what it reads, forwards and drops (with the reason) into one ``Counter``; the
Spark side (udfs/extract.py) runs this per file and writes the counters as data.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from lib.extract.clean import clean_pair, normalize_text, origin_of, qa_id
from lib.extract.langid import LanguageIdentifier, get_identifier
from lib.extract.manifest import RemoteSettings
from lib.extract.markup import FaqPage, extract_faq_page
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


def _normalize_page(page: FaqPage, stats: collections.Counter) -> None:
    """The page's stored strings without control or invisible characters (one line each)."""
    page.url = normalize_text(page.url, False, stats)
    page.title = normalize_text(page.title, False, stats) or None
    page.description = normalize_text(page.description, False, stats) or None
    page.hreflang = [(normalize_text(code, False, stats), normalize_text(url, False, stats))
                     for code, url in page.hreflang]


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
        _normalize_page(page, stats)
        source = {
            "url": page.url,
            "origin": origin_of(page.url),
            "title": page.title,
            "description": page.description,
            "warc_filename": warc_filename,
            "warc_record_offset": record.offset,
            "warc_record_length": record.length,
            "fetch_date": record.date,
        }
        cleaned = []
        for question, answer in page.pairs:
            stats["raw_pairs"] += 1
            result = clean_pair(question, answer, stats)
            if isinstance(result, str):
                stats[f"dropped_{result}"] += 1
            else:
                cleaned.append(result)
        languages = identifier.identify_batch(
            [(q, a, page.title, page.description, page.url) for q, a in cleaned]) if cleaned else []
        kept = 0
        for (question, answer), language in zip(cleaned, languages):
            if language is None:
                stats["dropped_language_unidentified"] += 1
                continue
            code, confidence = language
            stats["pairs_kept"] += 1
            stats[f"kept_{code}"] += 1
            kept += 1
            yield "pair", {**source, "id": qa_id(question, answer), "language": code,
                           "language_confidence": float(confidence),
                           "question": question, "answer": answer}
        yield "page", {**source, "hreflang": [{"language": lang, "url": url} for lang, url in page.hreflang],
                       "num_pairs": kept}
