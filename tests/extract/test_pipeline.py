"""lib/extract/pipeline.py: what a WARC of real pages, damaged on purpose, stores (no Spark).

Each page here is a real capture from ../shared/data; the damage is made in the test and said
there: escaped control characters and invisible marks in JSON-LD, stray bytes, another encoding.
"""
from __future__ import annotations

import collections
import unicodedata

import pytest

from lib.extract.pipeline import ExtractSettings, extract_from_warc
from tests.warc_fixtures import FAQ_PAGES_DE, write_warc

FINANCESCOUT = "financescout24.de.autokredit.html"
SMAVA = "smava.de.privatkredit.html"


def page(shared_data, name: str) -> bytes:
    return (shared_data / "html-faqpage-jsonld-de" / name).read_bytes()


def extract(tmp_path, pages, content_type="text/html; charset=utf-8"):
    """(pairs, pages, counters) the pipeline gives for a WARC of ``pages`` ((name, html bytes))."""
    warc = write_warc(tmp_path / "t.warc.gz", [(FAQ_PAGES_DE[name], body) for name, body in pages],
                      content_type=content_type)
    stats: collections.Counter = collections.Counter()
    with open(warc, "rb") as fh:
        rows = list(extract_from_warc(str(warc), fh, ExtractSettings(), stats))
    return [r for k, r in rows if k == "pair"], [r for k, r in rows if k == "page"], stats


def stored_strings(pairs, pages):
    for row in pairs:
        yield from ((k, row[k]) for k in ("question", "answer", "title", "description", "url", "origin"))
    for row in pages:
        yield from ((k, row[k]) for k in ("title", "description", "url", "origin"))
        for alt in row["hreflang"]:
            yield "hreflang", alt["url"]
            yield "hreflang", alt["language"]


def has_control(text: str, newline_ok: bool) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") and not (newline_ok and ch == "\n")
               for ch in text)


def test_control_and_invisible_characters_are_never_stored(tmp_path, shared_data):
    # Real page; the JSON-LD of its first pair is changed: a NUL written as the JSON escape \u0000,
    # a zero-width space, a right-to-left mark and override, a BOM, a word joiner and C0/C1
    # controls, as pages copied from word processors carry them. The title gets a NUL too.
    raw = page(shared_data, FINANCESCOUT)
    damaged = raw.replace(b'"name": "Was ist ein Autokredit?"',
                          '"name": "Was ist\\u0000 ein \u200bAuto\u2060kredit?\u200f"'.encode())
    damaged = damaged.replace("Ein Autokredit ist ein zweckgebundener".encode(),
                              "Ein \ufeffAutokredit\u202e ist\\u0007 ein\\u001b zweck\u00adgebundener\x85".encode())
    damaged = damaged.replace(b"<title>", b"<title>&#0;\x01")
    assert damaged.count(b"\\u0000") == 1 and damaged != raw
    clean_pairs, _, _ = extract(tmp_path / "clean", [(FINANCESCOUT, raw)])
    pairs, pages, stats = extract(tmp_path / "damaged", [(FINANCESCOUT, damaged)])

    for field, value in stored_strings(pairs, pages):
        assert not has_control(value or "", newline_ok=field in ("question", "answer")), (field, value)
    # The damaged pair is stored as the clean page's pair, with the same id.
    first = next(p for p in pairs if p["question"].startswith("Was ist ein Autokredit"))
    want = next(p for p in clean_pairs if p["question"] == "Was ist ein Autokredit?")
    assert first["question"] == "Was ist ein Autokredit?"
    assert first["answer"].startswith("Ein Autokredit ist ein zweckgebundener Ratenkredit")
    assert first["answer"] == want["answer"] and first["id"] == want["id"]
    assert {p["id"] for p in pairs} == {p["id"] for p in clean_pairs}
    # Counted: 1 NUL + 4 invisible marks in the question; BOM, RLO, BEL, ESC, soft hyphen, NEL
    # in the answer; NUL and SOH of the title (twice: the page row and its pairs share it).
    assert stats["text_control_chars"] >= 4 and stats["text_invisible_chars"] >= 6
    assert stats["text_fields_normalised"] >= 3


def test_invalid_utf8_page_stays_utf8_and_pairs_with_u_fffd_are_dropped(tmp_path, shared_data):
    # Real UTF-8 page (declared by <meta charset="utf-8"> and the HTTP header); 16 Latin-1
    # bytes are added, " f\xfcr" before every </p>, as a paragraph pasted from a Latin-1 source
    # would. The page must still be read as UTF-8, not re-guessed as a legacy charset.
    raw = page(shared_data, SMAVA)
    damaged = raw.replace(b"</p>", b" f\xfcr</p>")
    assert damaged.count(b"\xfc") == 16
    clean_pairs, _, _ = extract(tmp_path / "clean", [(SMAVA, raw)])
    pairs, pages, stats = extract(tmp_path / "damaged", [(SMAVA, damaged)])
    texts = " ".join(p["question"] + p["answer"] for p in pairs) + pages[0]["title"]
    assert "für" in texts and "Ã" not in texts  # UTF-8 kept: no mojibake
    # The 4 JSON-LD answers are not inside <p>: every pair is kept, exactly as on the clean page.
    assert [p["id"] for p in pairs] == [p["id"] for p in clean_pairs]

    # Now one bad byte inside the first answer: that pair holds U+FFFD and is dropped, counted.
    i = damaged.find("Die anfallenden Kosten für".encode())
    broken = damaged[:i] + damaged[i:].replace("für".encode(), b"f\xfcr", 1)
    pairs, pages, stats = extract(tmp_path / "broken", [(SMAVA, broken)])
    assert stats["dropped_replacement_character"] == 1
    # The page is still read as UTF-8: the other three pairs are the clean page's, no mojibake.
    assert [p["id"] for p in pairs] == [p["id"] for p in clean_pairs[1:]]
    assert "Ã" not in pages[0]["title"] + pages[0]["description"]
    assert all("\ufffd" not in p["question"] + p["answer"] for p in pairs)


def utf16_page(shared_data) -> tuple[bytes, str]:
    """The real smava page re-encoded as UTF-16 (little-endian, with a BOM), its <meta charset>
    changed to match: how some Windows-made sites serve their pages."""
    text = page(shared_data, SMAVA).decode("utf-8").replace('<meta charset="utf-8"/>', '<meta charset="utf-16"/>')
    return "\ufeff".encode("utf-16-le") + text.encode("utf-16-le"), "text/html; charset=utf-16"


def test_utf16_page_with_bom_gives_the_pairs_of_the_utf8_page(shared_data):
    from lib.extract.markup import extract_faq_page

    raw, content_type = utf16_page(shared_data)
    assert b"FAQPage" not in raw  # the WARC scan's byte needle cannot match it
    want = extract_faq_page(page(shared_data, SMAVA), FAQ_PAGES_DE[SMAVA])
    got = extract_faq_page(raw, FAQ_PAGES_DE[SMAVA], content_type)
    assert len(got.pairs) == 4 and got.pairs == want.pairs and got.title == want.title


def test_utf16_page_in_a_warc_is_extracted(tmp_path, shared_data):
    """The scan finds the UTF-16 form of the needle behind a UTF-16 BOM, and the page gives the
    same four pairs as its UTF-8 original."""
    raw, content_type = utf16_page(shared_data)
    pairs, _, stats = extract(tmp_path, [(SMAVA, raw)], content_type=content_type)
    assert stats["html_responses"] == 1 and stats["utf16_payloads"] == 1 and stats["candidates"] == 1
    (tmp_path / "utf8").mkdir()
    want, _, _ = extract(tmp_path / "utf8", [(SMAVA, page(shared_data, SMAVA))])
    assert len(pairs) == 4 and sorted(p["id"] for p in pairs) == sorted(p["id"] for p in want)
