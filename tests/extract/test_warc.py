"""lib/extract/warc.py: the streaming WARC scan, on the real fixture WARCs and on WARCs written here.

Counts are checked against warcio's ArchiveIterator (the reference reader) on the same files.
Positive cases (FAQPage candidates) use WARCs written with warcio's WARCWriter from the real FAQ
pages in ``html-faqpage-jsonld-de/`` and real pages without FAQPage from ``html-hreflang/``.
"""
from __future__ import annotations

import collections
import gzip
import io
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import lib.extract.stream_io as stream_io
from lib.extract.warc import WarcRecord, make_needle_finder, normalise_warc_date, scan_warc

FAQ_PAGES = {  # fixture file -> the URL it was captured from
    "financescout24.de.autokredit.html": "https://www.financescout24.de/kredit/autokredit",
    "smava.de.privatkredit.html": "https://www.smava.de/privatkredit/privatkredit-zinsen/",
    "haus.de-Vorsatzschallung.html": "https://www.haus.de/bauen/vorsatzschalung-33656",
    "giromatch.com.kredit.html": "https://www.giromatch.com/online-kredit/1000-euro-kredit",
}
OTHER_PAGES = {
    "mozilla.org.firefox.developer.html": "https://www.mozilla.org/de/firefox/developer/",
    "wbf.admin.ch.14093.html": "https://www.wbf.admin.ch/wbf/de/home/dokumentation/nsb-news_list.msg-id-14093.html",
    "autosprint.ch-pistenstopp.html": "https://www.autosprint.ch/pistenstopp",
}
CHUNKED_URL = "https://chunked.example/faq"


def scan(data: bytes | Path, **kwargs) -> tuple[list[WarcRecord], collections.Counter]:
    stats = collections.Counter()
    raw = data.read_bytes() if isinstance(data, Path) else data
    records = list(scan_warc(io.BytesIO(raw), stats, **kwargs))
    return records, stats


def warcio_records(raw: bytes) -> list[tuple[str, str | None, int | None, bytes]]:
    """(type, target URI, HTTP status, decoded payload) of every record, as warcio reads them."""
    out = []
    for record in ArchiveIterator(io.BytesIO(raw), arc2warc=True):
        status = int(record.http_headers.get_statuscode()) if record.http_headers and \
            record.rec_type == "response" else None
        out.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"), status,
                    record.content_stream().read()))
    return out


def _chunk(body: bytes, size: int = 7000) -> bytes:
    pieces = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size)]
    return b"".join(pieces) + b"0\r\n\r\n"


def write_test_warc(shared_data: Path, gzip_members: bool = True, version: str | None = None) -> bytes:
    """A WARC, written with warcio, of request/response pairs: the real FAQ and non-FAQ pages,
    one FAQ page with chunked transfer coding, and responses that must not be candidates."""
    faq = [(url, (shared_data / "html-faqpage-jsonld-de" / name).read_bytes()) for name, url in FAQ_PAGES.items()]
    other = [(url, (shared_data / "html-hreflang" / name).read_bytes()) for name, url in OTHER_PAGES.items()]
    html = "text/html; charset=utf-8"
    responses = [  # (url, status line, content type, body, extra headers)
        (other[0][0], "200 OK", html, other[0][1], []),
        (faq[0][0], "200 OK", html, faq[0][1], []),
        ("https://img.example/faq.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\nFAQPage" * 50, []),
        (faq[1][0], "200 OK", "application/xhtml+xml", faq[1][1], []),
        (other[1][0], "200 OK", html, other[1][1], []),
        ("https://gone.example/faq", "404 Not Found", html, faq[2][1], []),
        ("https://moved.example/faq", "301 Moved Permanently", html, faq[2][1], [("Location", "https://x/")]),
        (faq[2][0], "200 OK", "TEXT/HTML", faq[2][1], []),
        (CHUNKED_URL, "200 OK", html, _chunk(faq[3][1]), [("Transfer-Encoding", "chunked")]),
        (other[2][0], "200 OK", html, other[2][1], []),
        (faq[3][0], "200 OK", html, faq[3][1], []),
    ]
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzip_members, **({"warc_version": version} if version else {}))
    for i, (url, status, ctype, body, extra) in enumerate(responses):
        date = f"2024-05-20T10:00:{i:02d}Z"
        request = StatusAndHeaders("GET / HTTP/1.1", [("Host", url.split("/")[2])], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b""),
                                                      http_headers=request, warc_headers_dict={"WARC-Date": date}))
        headers = [("Content-Type", ctype)] + extra
        if not extra or extra[0][0] != "Transfer-Encoding":
            headers.append(("Content-Length", str(len(body))))
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                      http_headers=http, warc_headers_dict={"WARC-Date": date}))
    return buf.getvalue()


EXPECTED_CANDIDATES = [FAQ_PAGES["financescout24.de.autokredit.html"], FAQ_PAGES["smava.de.privatkredit.html"],
                       FAQ_PAGES["haus.de-Vorsatzschallung.html"], CHUNKED_URL, FAQ_PAGES["giromatch.com.kredit.html"]]


@pytest.fixture(scope="module")
def test_warc(shared_data) -> bytes:
    return write_test_warc(shared_data)


def member_offsets(raw: bytes) -> list[tuple[int, int]]:
    """(offset, length) of every gzip member, found with zlib."""
    out, pos = [], 0
    while pos < len(raw):
        d = zlib.decompressobj(31)
        d.decompress(raw[pos:])
        length = len(raw) - pos - len(d.unused_data)
        out.append((pos, length))
        pos += length
    return out


# ------------------------------------------------------------------------------------------
# Positive cases: FAQPage candidates


def test_candidates_are_exactly_the_html_200_faq_pages(test_warc, shared_data):
    records, stats = scan(test_warc)
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert stats["records"] == 22 and stats["responses"] == 11
    # 200 + HTML: 3 other pages, 5 FAQ pages (one TEXT/HTML, one XHTML, one chunked); not the
    # PNG, the 404 or the 301.
    assert stats["html_responses"] == 8
    assert stats["candidates"] == 5
    assert stats["chunked_payloads"] == 1
    for problem in ("unreadable_records", "truncated_files", "malformed_dates", "truncated_payloads"):
        assert stats[problem] == 0, problem
    by_uri = {r.target_uri: r for r in records}
    for name, url in FAQ_PAGES.items():
        page = (shared_data / "html-faqpage-jsonld-de" / name).read_bytes()
        assert by_uri[url].payload == page
    assert by_uri[CHUNKED_URL].payload == (shared_data / "html-faqpage-jsonld-de" / "giromatch.com.kredit.html").read_bytes()
    first = records[0]
    assert first.http_status == 200
    assert first.content_type == "text/html; charset=utf-8"
    assert first.date == "2024-05-20T10:00:01Z"
    assert by_uri[FAQ_PAGES["smava.de.privatkredit.html"]].content_type == "application/xhtml+xml"


def test_payloads_match_warcio(test_warc):
    records, _ = scan(test_warc)
    reference = {uri: payload for kind, uri, status, payload in warcio_records(test_warc)
                 if kind == "response" and status == 200}
    for record in records:
        assert record.payload == reference[record.target_uri]


def test_offset_and_length_reread_each_record_alone(test_warc):
    records, _ = scan(test_warc)
    members = member_offsets(test_warc)
    assert len(members) == 22  # one gzip member per record
    starts = {offset: length for offset, length in members}
    for record in records:
        assert starts[record.offset] == record.length  # the offset of a gzip member, its length
        member = test_warc[record.offset:record.offset + record.length]
        d = zlib.decompressobj(31)
        alone = d.decompress(member)
        assert d.eof and not d.unused_data  # exactly one gzip member
        assert alone.startswith(b"WARC/1.")
        again, stats = scan(member)
        assert stats["records"] == 1
        assert [(r.target_uri, r.payload) for r in again] == [(record.target_uri, record.payload)]
        assert again[0].offset == 0 and again[0].length == record.length


def test_non_html_non_200_and_needle_outside_the_payload_are_not_candidates(test_warc):
    records, _ = scan(test_warc, html_only=False)
    uris = [r.target_uri for r in records]
    assert "https://img.example/faq.png" in uris  # the PNG holds the needle: kept without html_only
    assert "https://gone.example/faq" not in uris and "https://moved.example/faq" not in uris
    records, stats = scan(test_warc, needle=b"no such needle in any page")
    assert records == [] and stats["candidates"] == 0 and stats["html_responses"] == 8


def test_payload_cap_is_counted(test_warc):
    records, stats = scan(test_warc, max_payload_bytes=10_000)
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert all(len(r.payload) == 10_000 for r in records)
    assert stats["truncated_payloads"] == 5


def test_same_result_with_the_memchr_finder(test_warc, monkeypatch):
    expected, _ = scan(test_warc)
    monkeypatch.setattr(stream_io, "_SZ_FIND", None)
    records, _ = scan(test_warc)
    assert [(r.target_uri, r.offset, r.payload) for r in records] == \
        [(r.target_uri, r.offset, r.payload) for r in expected]


def test_small_read_buffer_and_short_reads(test_warc, monkeypatch):
    """Members straddle the read buffer; a stream that returns a few bytes a call and has no
    readinto (like some network bodies) gives the same result."""
    expected, expected_stats = scan(test_warc)
    monkeypatch.setattr(stream_io, "READ_SIZE", 4096)

    class Trickle:
        def __init__(self, data: bytes):
            self.data, self.pos = data, 0

        def read(self, n: int = -1) -> bytes:
            n = min(n if n >= 0 else len(self.data), 1500)
            chunk = self.data[self.pos:self.pos + n]
            self.pos += len(chunk)
            return chunk

    stats = collections.Counter()
    records = list(scan_warc(Trickle(test_warc), stats))
    assert [(r.target_uri, r.offset, r.length, r.payload) for r in records] == \
        [(r.target_uri, r.offset, r.length, r.payload) for r in expected]
    assert stats == expected_stats


def test_uncompressed_warc_offsets_are_file_positions(shared_data):
    raw = write_test_warc(shared_data, gzip_members=False)
    records, stats = scan(raw)
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert stats["records"] == 22 and stats["html_responses"] == 8
    for record in records:
        alone = raw[record.offset:record.offset + record.length]
        assert alone.startswith(b"WARC/1.")
        parsed = warcio_records(alone)
        assert parsed[0][1] == record.target_uri and parsed[0][3] == record.payload


def test_warc_1_1_dates_with_fractions(shared_data):
    raw = write_test_warc(shared_data, version="1.1")
    assert b"WARC/1.1\r\n" in gzip.decompress(raw)[:10]
    records, stats = scan(raw)
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert records[0].date == "2024-05-20T10:00:01Z"


def test_whole_file_as_one_gzip_member(test_warc):
    """A gzip that is one member for the whole WARC: records found, offsets in the decompressed
    stream."""
    plain = gzip.decompress(test_warc)
    one_member = gzip.compress(plain)
    records, stats = scan(one_member)
    assert stats["non_multimember_gzip"] == 1
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert stats["records"] == 22
    for record in records:
        alone = plain[record.offset:record.offset + record.length]
        assert warcio_records(alone)[0][1] == record.target_uri


def test_later_members_holding_several_records(test_warc):
    """Per-record members, then one member for the rest: nothing lost, nothing counted twice."""
    members = member_offsets(test_warc)
    head = test_warc[:members[6][0]]
    rest = gzip.compress(gzip.decompress(test_warc[members[6][0]:]))
    records, stats = scan(head + rest)
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert stats["records"] == 22 and stats["responses"] == 11 and stats["html_responses"] == 8
    assert stats["non_multimember_gzip"] == 1


# ------------------------------------------------------------------------------------------
# Damage: counted, never raised; the good records are kept


def test_truncated_in_the_middle_of_a_record_keeps_the_records_before(test_warc):
    members = member_offsets(test_warc)
    offset, length = members[7]  # the response of the second FAQ page (smava)
    records, stats = scan(test_warc[:offset + length // 2])
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES[:1]
    assert stats["truncated_files"] == 1
    assert stats["records"] == 8  # seven whole records, and the header of the cut one


def test_truncated_uncompressed_warc(shared_data):
    raw = write_test_warc(shared_data, gzip_members=False)
    cut = raw.index(b"WARC-Target-URI: " + EXPECTED_CANDIDATES[2].encode())
    records, stats = scan(raw[:cut + 5000])
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES[:2]
    assert stats["truncated_files"] == 1


def test_garbage_between_members_and_a_corrupt_member(test_warc):
    members = member_offsets(test_warc)
    pieces = [test_warc[o:o + n] for o, n in members]
    pieces.insert(4, b"\x00\x00 some junk that is no gzip member \r\n")  # before the PNG request
    damaged = bytearray(pieces[18])  # member 17, the chunked FAQ response, moved by the insert
    damaged[200:260] = b"\xff" * 60
    pieces[18] = bytes(damaged)
    records, stats = scan(b"".join(pieces))
    assert [r.target_uri for r in records] == [u for u in EXPECTED_CANDIDATES if u != CHUNKED_URL]
    assert stats["garbage_between_records"] >= 1
    assert stats["unreadable_records"] >= 1


def test_bad_content_length_is_unreadable_not_fatal(test_warc):
    members = member_offsets(test_warc)
    pieces = [gzip.decompress(test_warc[o:o + n]) for o, n in members]
    i = pieces[3].index(b"Content-Length: ") + len(b"Content-Length: ")
    pieces[3] = pieces[3][:i] + b"9" + pieces[3][i:]  # the financescout24 response: 10x too long
    records, stats = scan(b"".join(gzip.compress(p) for p in pieces))
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES[1:]
    assert stats["unreadable_records"] == 1 and stats["bad_content_length"] == 1


def _with_content_length(record: bytes, change) -> bytes:
    """``record`` with the Content-Length of its WARC header replaced by ``change(old value)``."""
    i = record.index(b"Content-Length: ") + len(b"Content-Length: ")
    j = record.index(b"\r\n", i)
    return record[:i] + str(change(int(record[i:j]))).encode() + record[j:]


@pytest.mark.parametrize("damage", ["negative", "too short", "negative, LF header"])
def test_content_length_too_short_or_negative_is_counted(test_warc, shared_data, damage):
    """The real financescout24 response record (written by warcio from the fixture page), one gzip
    member, its WARC Content-Length made negative or 1,000 bytes short; the last case also has LF
    line ends in its WARC header, so that the tolerant parser reads it instead of the fast one.
    Both count the record under the same name; a negative length makes it unreadable, a short
    one keeps it as its Content-Length gives it."""
    members = member_offsets(test_warc)
    pieces = [gzip.decompress(test_warc[o:o + n]) for o, n in members]
    record = pieces[3]
    assert FAQ_PAGES["financescout24.de.autokredit.html"].encode() in record[:record.index(b"\r\n\r\n")]
    if damage == "too short":
        pieces[3] = _with_content_length(record, lambda n: n - 1000)
    else:
        pieces[3] = _with_content_length(record, lambda n: -n)
    if damage == "negative, LF header":
        head, sep, block = pieces[3].partition(b"\r\n\r\n")
        pieces[3] = head.replace(b"\r\n", b"\n") + b"\n\n" + block
    records, stats = scan(b"".join(gzip.compress(p) for p in pieces))
    assert stats["bad_content_length"] == 1
    assert stats["records"] == 22
    if damage == "too short":
        assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
        page = (shared_data / "html-faqpage-jsonld-de" / "financescout24.de.autokredit.html").read_bytes()
        assert records[0].payload == page[:-1000]
        assert stats["unreadable_records"] == 0
    else:
        assert [r.target_uri for r in records] == EXPECTED_CANDIDATES[1:]
        assert stats["unreadable_records"] == 1


@pytest.mark.parametrize("extra", [300, 10 ** 8])
def test_uncompressed_content_length_too_long_resyncs_on_the_next_record(shared_data, extra):
    """An uncompressed WARC (warcio-written from the real pages) whose request record before the
    financescout24 response claims ``extra`` bytes more than it has: 300 swallow the start of the
    response, 10^8 everything to the end of the file. The scan goes on at the response's header
    line; the damaged request is unreadable and counted."""
    raw = write_test_warc(shared_data, gzip_members=False)
    url = FAQ_PAGES["financescout24.de.autokredit.html"].encode()
    request = raw.rindex(b"WARC/1.0\r\n", 0, raw.index(b"WARC-Target-URI: " + url))
    assert b"WARC-Type: request\r\n" in raw[request:request + 100]
    response = raw.index(b"WARC/1.0\r\n", request + 1)
    damaged = raw[:request] + _with_content_length(raw[request:response], lambda n: n + extra) + raw[response:]
    records, stats = scan(damaged)
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert stats["records"] == 22 and stats["responses"] == 11
    assert stats["unreadable_records"] == 1 and stats["bad_content_length"] == 1
    assert stats["garbage_between_records"] == 0 and stats["truncated_files"] == 0
    for record in records:  # offsets are still file positions
        assert warcio_records(damaged[record.offset:record.offset + record.length])[0][1] == record.target_uri


def test_lf_line_ends_and_lower_case_field_names(test_warc):
    """Tolerated as warcio tolerates them: the slow path of the header parser."""
    members = member_offsets(test_warc)
    pieces = []
    for o, n in members:
        record = gzip.decompress(test_warc[o:o + n])
        head, sep, block = record.partition(b"\r\n\r\n")
        head = head.replace(b"\r\n", b"\n").replace(b"WARC-Type", b"warc-type")
        pieces.append(gzip.compress(head + b"\n\n" + block))
    records, stats = scan(b"".join(pieces))
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert stats["records"] == 22 and stats["unreadable_records"] == 0


def test_not_a_warc_is_unsupported(tmp_path):
    for data in (b"just a text file\nwith lines\n", gzip.compress(b"a gzipped text\n"), b"PK\x03\x04zip"):
        records, stats = scan(data)
        assert records == [] and stats["unsupported_format"] == 1 and stats["records"] == 0
    records, stats = scan(b"")
    assert records == [] and stats["empty_files"] == 1


# ------------------------------------------------------------------------------------------
# The real fixture WARCs, against warcio


def _all_200_responses(raw: bytes) -> list[str]:
    return [uri for kind, uri, status, _ in warcio_records(raw) if kind == "response" and status == 200]


@pytest.mark.parametrize("name", [
    "warc-resiliparse/warcfile.warc.gz",
    "warc-resiliparse/clueweb-quirk.warc.gz",
    "warc-whirlwind/whirlwind.warc.gz",
    "warc-whirlwind/whirlwind.warc.wat.gz",
    "warc-whirlwind/whirlwind.warc.wet.gz",
    "warc-warcio-edgecases/example.warc.gz",
    "warc-warcio-edgecases/example-digest.warc",
    "warc-warcio-edgecases/example-iana.org-chunked.warc",
    "warc-warcio-edgecases/example.arc.gz",
])
def test_counts_and_response_uris_equal_warcio(shared_data, name):
    raw = (shared_data / name).read_bytes()
    reference = warcio_records(raw)
    # A needle every HTML page holds makes every 200 HTML response a candidate.
    records, stats = scan(raw, needle=b"<")
    assert stats["records"] == len(reference)
    assert stats["responses"] == sum(kind == "response" for kind, *_ in reference)
    assert [r.target_uri for r in records] == _all_200_responses(raw)
    payloads = {uri: payload for kind, uri, status, payload in reference if kind == "response"}
    for record in records:
        assert record.payload == payloads[record.target_uri]
    assert stats["unreadable_records"] == 0 and stats["truncated_files"] == 0
    assert stats["bad_content_length"] == 0


def test_common_crawl_slice_has_no_faq_page(shared_data):
    records, stats = scan(shared_data / "warc-resiliparse" / "warcfile.warc.gz")
    assert records == []
    assert dict(stats) == {"records": 50, "responses": 16, "html_responses": 16}
    records, stats = scan(shared_data / "warc-whirlwind" / "whirlwind.warc.gz", needle=b"Escopete")
    assert [(r.target_uri, r.date, r.http_status) for r in records] == \
        [("https://an.wikipedia.org/wiki/Escopete", "2024-05-18T01:58:10Z", 200)]
    assert records[0].offset == 1023 and records[0].length == 17351  # its gzip member


def test_clueweb_warc_0_18_with_malformed_dates(shared_data):
    raw = (shared_data / "warc-resiliparse" / "clueweb-quirk.warc.gz").read_bytes()
    assert gzip.decompress(raw).startswith(b"WARC/0.18\r\n")
    records, stats = scan(raw, needle=b"<html")
    assert stats["records"] == 30 and stats["responses"] == 29 and stats["html_responses"] == 29
    assert len(records) == stats["candidates"] > 0
    assert all(r.date is None for r in records)  # WARC-Date: 2008-10-294T05:21:46-0700
    assert stats["malformed_dates"] == len(records)
    records, stats = scan(raw)
    assert records == [] and stats["malformed_dates"] == 0


def test_clipped_file_is_truncated(shared_data):
    records, stats = scan(shared_data / "warc-resiliparse" / "clipped.warc.gz", needle=b"<")
    assert records == []
    assert stats["truncated_files"] == 1 and stats["records"] == 1 and stats["responses"] == 1


def test_gzip_content_encoding_is_decoded_to_search(shared_data):
    raw = (shared_data / "warc-warcio-edgecases" / "example.warc.gz").read_bytes()
    records, stats = scan(raw, needle=b"Example Domain")
    assert [r.target_uri for r in records] == ["http://example.com/"]
    assert stats["decoded_payloads"] == 1
    assert records[0].payload.startswith(b"<!doctype html>")


def test_chunked_fixture_is_dechunked(shared_data):
    raw = (shared_data / "warc-warcio-edgecases" / "example-iana.org-chunked.warc").read_bytes()
    records, stats = scan(raw, needle=b"Internet Assigned Numbers Authority")
    assert [r.target_uri for r in records] == ["http://www.iana.org/"]
    assert stats["chunked_payloads"] == 1
    assert not records[0].payload.startswith(b"001c37")
    assert records[0].payload == warcio_records(raw)[1][3]


def test_arc_file(shared_data):
    raw = (shared_data / "warc-warcio-edgecases" / "example.arc.gz").read_bytes()
    records, stats = scan(raw, needle=b"Example Domain")
    assert stats["arc_files"] == 1 and stats["records"] == 2 and stats["responses"] == 1
    assert [(r.target_uri, r.date, r.content_type) for r in records] == \
        [("http://example.com/", "2014-02-16T05:02:21Z", "text/html")]
    assert records[0].offset == 171 and records[0].length == 856
    # The same ARC file uncompressed.
    plain, plain_stats = scan(gzip.decompress(raw), needle=b"Example Domain")
    assert [r.payload for r in plain] == [r.payload for r in records]
    assert plain_stats["arc_files"] == 1 and plain_stats["records"] == 2


def test_single_member_gzip_fixture_that_warcio_rejects(shared_data):
    raw = (shared_data / "warc-warcio-edgecases" / "example-bad-non-chunked.warc.gz").read_bytes()
    with pytest.raises(Exception):
        warcio_records(raw)
    plain = gzip.decompress(raw)
    reference = warcio_records(plain)
    records, stats = scan(raw, needle=b"<")
    assert stats["non_multimember_gzip"] == 1
    assert stats["records"] == len(reference)
    assert [r.target_uri for r in records] == _all_200_responses(plain)
    for record in records:  # offsets in the decompressed stream
        assert warcio_records(plain[record.offset:record.offset + record.length])[0][1] == record.target_uri


# ------------------------------------------------------------------------------------------
# Helpers


@pytest.mark.parametrize("raw, expected", [
    ("2024-05-18T01:58:10Z", "2024-05-18T01:58:10Z"),
    ("2024-05-18T01:58:10.123456Z", "2024-05-18T01:58:10Z"),
    ("2024-05-18T03:58:10+02:00", "2024-05-18T01:58:10Z"),
    ("2024-05-18T01:58:10-0130", "2024-05-18T03:28:10Z"),
    ("2024-05-18", "2024-05-18T00:00:00Z"),
    ("2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"),
    ("20140216050221", "2014-02-16T05:02:21Z"),
    ("2008-10-294T05:21:46-0700", None),
    ("2023-02-29T12:00:00Z", None),
    ("2024-13-01T00:00:00Z", None),
    ("yesterday", None),
    ("", None),
    (None, None),
])
def test_normalise_warc_date(raw, expected):
    assert normalise_warc_date(raw) == expected


@pytest.mark.parametrize("use_simd", [True, False])
def test_needle_finder(use_simd):
    if use_simd and stream_io._SZ_FIND is None:
        pytest.skip("stringzilla not installed")
    find = make_needle_finder(b"FAQPage", use_simd=use_simd)
    data = b"<script>{'@type': 'FAQPage'}</script> QQQ FAQPag FAQPage"
    assert find(data, 0, len(data)) == data.index(b"FAQPage")
    assert find(data, 30, len(data)) == len(data) - 7
    assert find(data, 30, len(data) - 1) == -1  # the end bound is respected
    assert find(b"FAQPag", 0, 6) == -1 and find(b"", 0, 0) == -1
    with pytest.raises(ValueError):
        make_needle_finder(b"")


# ------------------------------------------------------------------------------------------
# Member-end hints (the next occurrence of the first member's gzip header)


def _recompress(raw: bytes, **gzip_kwargs) -> bytes:
    return b"".join(gzip.compress(gzip.decompress(raw[o:o + n]), **gzip_kwargs)
                    for o, n in member_offsets(raw))


@pytest.mark.parametrize("simd", [True, False])
def test_members_with_differing_headers(test_warc, monkeypatch, simd):
    """Each member with its own mtime: the header hints miss, the result does not change."""
    if not simd:
        monkeypatch.setattr(stream_io, "_SZ_FIND", None)
    members = member_offsets(test_warc)
    raw = b"".join(gzip.compress(gzip.decompress(test_warc[o:o + n]), mtime=1_700_000_000 + i)
                   for i, (o, n) in enumerate(members))
    records, stats = scan(raw)
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert stats["records"] == 22 and stats["unreadable_records"] == 0
    for record in records:
        assert gzip.decompress(raw[record.offset:record.offset + record.length]).startswith(b"WARC/1.")


def test_gzip_header_bytes_inside_a_member(test_warc):
    """A response whose incompressible body holds the members' gzip header (stored deflate
    blocks keep it as it is): the false hint is passed over."""
    import random

    header = test_warc[:10]
    rng = random.Random(7)
    body = bytes(rng.randrange(256) for _ in range(40_000)) + header + b"FAQPage" + \
        bytes(rng.randrange(256) for _ in range(40_000))
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
                            protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record("https://stored.example/", "response",
                                                  payload=io.BytesIO(body), http_headers=http))
    member = buf.getvalue()
    assert member[:10] == header and member.find(header, 10) > 0  # the false hint is there
    records, stats = scan(test_warc + member + test_warc)
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES + ["https://stored.example/"] + EXPECTED_CANDIDATES
    assert records[5].payload == body and records[5].offset == len(test_warc)
    assert stats["records"] == 45 and stats["unreadable_records"] == 0


def test_record_far_larger_than_the_cap_is_read_in_bounded_pieces(test_warc):
    """A highly compressible 30 MB page: decompressed piece by piece (never whole), cut at the
    payload cap, and the records after it are still found."""
    body = b"<html>FAQPage" + b" " * 30_000_000 + b"</html>"
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
                            protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record("https://huge.example/", "response",
                                                  payload=io.BytesIO(body), http_headers=http))
    assert len(buf.getvalue()) < 100_000
    records, stats = scan(buf.getvalue() + test_warc, max_payload_bytes=100_000)
    assert [r.target_uri for r in records] == ["https://huge.example/"] + EXPECTED_CANDIDATES
    assert len(records[0].payload) == 100_000 and records[0].payload.startswith(b"<html>FAQPage")
    full, _ = scan(test_warc)
    assert stats["truncated_payloads"] == 1 + sum(len(r.payload) > 100_000 for r in full) == 4


def test_empty_gzip_members_are_skipped(test_warc):
    members = member_offsets(test_warc)
    empty = gzip.compress(b"")
    raw = empty + test_warc[:members[5][0]] + empty + test_warc[members[5][0]:] + empty
    records, stats = scan(raw)
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert stats["records"] == 22 and stats["unreadable_records"] == 0 and stats["garbage_between_records"] == 0


def test_uncompressed_warc_with_garbage_and_a_payload_cap(shared_data):
    raw = write_test_warc(shared_data, gzip_members=False)
    at = raw.index(b"WARC/1.0", raw.index(b"WARC-Target-URI: " + EXPECTED_CANDIDATES[1].encode()) - 300)
    damaged = raw[:at] + b"stray bytes\r\nnot a record\r\n\r\n" + raw[at:]
    records, stats = scan(damaged, max_payload_bytes=10_000)
    assert [r.target_uri for r in records] == EXPECTED_CANDIDATES
    assert all(len(r.payload) == 10_000 for r in records)
    assert stats["garbage_between_records"] == 1 and stats["truncated_payloads"] == 5
    assert stats["records"] == 22 and stats["unreadable_records"] == 0
