"""Properties of the WARC scan on generated input (hypothesis): nothing raises, every record is
yielded or counted, and damage never costs a record that lies before it.

WARCs are written with warcio (the reference writer); their payloads are generated, or slices
of the real pages of ../shared/data. Sizes: see tests/conftest.py (HYPOTHESIS_PROFILE=nightly).
"""
from __future__ import annotations

import collections
import io
from dataclasses import dataclass

from hypothesis import assume, given
from hypothesis import strategies as st
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from lib.extract.warc import scan_warc
from tests.conftest import SHARED_DATA

REAL_PAGE = (SHARED_DATA / "html-faqpage-jsonld-de" / "smava.de.privatkredit.html").read_bytes()


@dataclass
class Rec:
    kind: str          # response | request | metadata
    status: int
    content_type: str
    payload: bytes
    url: str

    @property
    def candidate(self) -> bool:
        return (self.kind == "response" and self.status == 200 and self.content_type.startswith("text/html")
                and b"FAQPage" in self.payload)


payloads = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda a, b: REAL_PAGE[a:a + b], st.integers(0, len(REAL_PAGE)), st.integers(0, 3000)),
    st.builds(lambda pre, post: pre + b'{"@type": "FAQPage"}' + post, st.binary(max_size=200), st.binary(max_size=200)),
)
records = st.builds(
    Rec,
    kind=st.sampled_from(["response", "response", "request", "metadata"]),
    status=st.sampled_from([200, 200, 404, 301]),
    content_type=st.sampled_from(["text/html; charset=utf-8", "text/html", "application/json", "image/png"]),
    payload=payloads,
    url=st.builds(lambda n: f"https://example.org/faq/{n}", st.integers(0, 10**6)),
)


def write(recs: list[Rec], gzipped: bool) -> tuple[bytes, list[int]]:
    """The WARC bytes and the offset where each record ends."""
    out, ends = io.BytesIO(), []
    writer = WARCWriter(out, gzip=gzipped)
    for i, rec in enumerate(recs):
        fixed = {"WARC-Date": "2024-05-20T10:00:00Z", "WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-{i:012d}>"}
        if rec.kind == "response":
            headers = StatusAndHeaders(f"{rec.status} X", [("Content-Type", rec.content_type),
                                                            ("Content-Length", str(len(rec.payload)))],
                                       protocol="HTTP/1.1")
            record = writer.create_warc_record(rec.url, "response", payload=io.BytesIO(rec.payload),
                                               http_headers=headers,
                                               warc_headers_dict=fixed)
        elif rec.kind == "request":
            headers = StatusAndHeaders("GET /faq HTTP/1.1", [("Host", "example.org")], protocol="HTTP/1.1")
            record = writer.create_warc_record(rec.url, "request", payload=io.BytesIO(rec.payload),
                                               http_headers=headers,
                                               warc_headers_dict=fixed)
        else:
            record = writer.create_warc_record(rec.url, rec.kind, payload=io.BytesIO(rec.payload),
                                               warc_content_type="application/warc-fields",
                                               warc_headers_dict=fixed)
        writer.write_record(record)
        ends.append(out.tell())
    return out.getvalue(), ends


def scan(data: bytes):
    stats: collections.Counter = collections.Counter()
    found = list(scan_warc(io.BytesIO(data), stats))
    return found, stats


@given(st.lists(records, max_size=8), st.booleans())
def test_every_record_of_a_good_warc_is_counted_and_every_candidate_yielded(recs, gzipped):
    data, _ = write(recs, gzipped)
    found, stats = scan(data)
    assert stats["records"] == len(recs)
    assert stats["responses"] == sum(r.kind == "response" for r in recs)
    assert [r.target_uri for r in found] == [r.url for r in recs if r.candidate]
    assert [r.payload for r in found] == [r.payload for r in recs if r.candidate]
    assert stats["candidates"] == len(found)
    assert not stats["unreadable_records"] and not stats["truncated_files"]


@given(st.lists(records, min_size=1, max_size=6), st.booleans(), st.data())
def test_damage_never_costs_a_record_before_it(recs, gzipped, data):
    raw, ends = write(recs, gzipped)
    at = data.draw(st.integers(0, 10**6 - 1), label="damage position") * len(raw) // 10**6
    how = data.draw(st.sampled_from(["cut", "overwrite", "insert"]), label="damage")
    junk = data.draw(st.binary(min_size=1, max_size=64), label="junk")
    if how == "cut":
        damaged = raw[:at]
    elif how == "overwrite":
        damaged = raw[:at] + junk + raw[at + len(junk):]
    else:
        damaged = raw[:at] + junk + raw[at:]
    assume(damaged != raw)
    found, stats = scan(damaged)  # never raises
    intact = [r.url for r, end in zip(recs, ends) if end <= at and r.candidate]
    assert [r.target_uri for r in found][:len(intact)] == intact
    assert stats["candidates"] == len(found)
    starts = [0, *ends[:-1]]
    tail = 0 if gzipped else 4  # the CRLF CRLF after a record's block: losing it loses nothing
    if how == "cut" and any(start < at < end - tail for start, end in zip(starts, ends)):
        # cut inside a record: said so (or the bytes left are not a WARC at all)
        assert stats["truncated_files"] + stats["unreadable_records"] + stats["unsupported_format"] \
            + stats["garbage_between_records"] >= 1


@given(st.sampled_from([b"", b"\x1f\x8b", b"\x1f\x8b\x08\x00", b"WARC/1.0\r\n", b"WARC/1.1\r\nContent-Length: ",
                        b"filedesc://", b"\r\n\r\nWARC/1.0\r\n"]), st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(prefix, tail):
    found, stats = scan(prefix + tail)
    assert stats["candidates"] == len(found)
    assert all(b"FAQPage" in r.payload for r in found)
