"""Streaming WARC reader that finds FAQPage candidates, without Spark and at the speed of gzip.

``scan_warc`` reads a web archive file as a stream, never holding the whole file in memory, and
yields one :class:`WarcRecord` for every HTTP ``response`` record that

* has HTTP status 200,
* has an HTML ``Content-Type`` (``text/html`` or ``application/xhtml+xml``; any type when
  ``html_only`` is false), and
* contains the bytes ``needle`` (``FAQPage``) in its payload.

The needle search runs on the raw payload before any parsing, so that the cost of the scan is,
as nearly as possible, the cost of decompression.

Formats, detected from the first bytes of the stream (never from the file name):

* **gzip WARC with one gzip member per record** (Common Crawl's layout). ``offset`` and
  ``length`` of a record are those of its gzip member in the file, what Common Crawl's CDX index
  calls offset and length: ``file[offset:offset + length]`` decompresses to the record alone.
* **gzip WARC whose members hold more than one record** (for example the whole file compressed
  as one gzip member). From the first such member on, the rest of the file is read as one
  decompressed stream, and ``offset`` / ``length`` of the records found there are positions in
  the *decompressed* stream (what ``zcat FILE`` would print), not in the file. The file is
  counted under ``non_multimember_gzip``.
* **uncompressed WARC**: ``offset`` / ``length`` are positions in the file.
* WARC/1.0, WARC/1.1 and the old WARC/0.18 (ClueWeb09), and the **ARC** format (gzip per record
  or plain), whose records are read as responses (counted under ``arc_files``).

Anything else (a text file, a zip) is counted under ``unsupported_format`` and yields nothing.

Errors are counted in ``stats`` and never raised: a truncated file, a corrupt gzip member,
garbage between records, a malformed header or Content-Length. Every record read before the
error is kept; the scan goes on after the damaged record where the format allows it.

Counters (``stats`` keys):

=====================  ===================================================================
``records``            WARC (or ARC) records seen, whatever their type
``responses``          ``response`` records (every ARC record but the file header)
``html_responses``     responses with HTTP status 200 and an HTML Content-Type
``candidates``         records yielded: HTML 200 responses containing ``needle``
``unreadable_records`` records (or gzip members) that could not be parsed or decompressed
``truncated_files``    the file ended in the middle of a record or of a gzip member
``malformed_dates``    candidates whose WARC-Date is not a valid date (``date`` is None)
``truncated_payloads`` candidates whose payload was cut at ``max_payload_bytes``
``unsupported_format`` files that are not WARC or ARC (nothing read)
``non_multimember_gzip`` gzip files with a member holding more than one record
``arc_files``          files in the ARC format
``empty_files``        files with no bytes at all
``garbage_between_records`` stretches of bytes between records that were skipped
``chunked_payloads``   candidate payloads de-chunked (HTTP ``Transfer-Encoding: chunked``)
``decoded_payloads``   responses whose gzip/deflate ``Content-Encoding`` was undone to search them
=====================  ===================================================================

Speed (see ``bench/scan_bench.py``): each gzip member is decompressed by ISA-L (``isal``) from
a memoryview slice of one reused read buffer, so that no input is copied. The slice ends where
the next member's gzip header is (crawlers write the same 10-byte header on every member; a
SIMD search finds it), so that one call decompresses the whole member; without that hint it is
sized from the record's Content-Length and the compression ratio seen so far. A member holding
one CRLF-headed record takes an inlined fast path: three ``bytes.find`` calls for a request or
metadata record, the HTTP status, Content-Type and the needle search for a response; nothing
else is parsed before the needle is found. The needle is found with StringZilla's SIMD search
when the ``stringzilla`` package is installed, else with ``memchr`` on the needle's rarest byte
(CPython's own ``bytes.find`` runs at about 1 GB/s for a 7-byte needle, slow next to ISA-L).

The counters ``records``, ``responses`` and ``html_responses`` are added to ``stats`` when the
iterator is exhausted or closed.
"""
from __future__ import annotations

import collections
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import BinaryIO, Callable, Iterator

from isal import isal_zlib

try:  # optional SIMD substring search; the pure-Python fallback is correct, only slower
    import stringzilla as _stringzilla
except ImportError:  # pragma: no cover - exercised by forcing _SZ_FIND = None in tests
    _stringzilla = None

__all__ = ["WarcRecord", "scan_warc", "normalise_warc_date", "make_needle_finder"]

#: Bytes read from the stream at a time.
READ_SIZE = 256 << 10
#: Most bytes a WARC or HTTP header block may take (beyond it the record is unreadable).
MAX_HEADER_BYTES = 1 << 20
#: First input slice for a gzip member: request and metadata members fit in it whole.
FIRST_SLICE = 2048
HTML_TYPES = (b"text/html", b"application/xhtml+xml")

_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_MEMBER = b"\x1f\x8b\x08"
_SZ_FIND = _stringzilla.find if _stringzilla is not None else None
try:  # the call this module makes: find(haystack, needle, start, end) on bytes and bytearray
    if _SZ_FIND is not None and (_SZ_FIND(b"xFAQ", b"FAQ", 1, 4), _SZ_FIND(bytearray(b"ab"), b"b", 0, 1)) != (1, -1):
        _SZ_FIND = None
except Exception:  # pragma: no cover - an stringzilla release with another signature
    _SZ_FIND = None


@dataclass(slots=True)
class WarcRecord:
    """One HTTP response record that is a FAQPage candidate."""

    offset: int          #: byte offset of the record (of its gzip member for per-record gzip)
    length: int          #: bytes the record takes in the file (its compressed member for gzip)
    target_uri: str      #: WARC-Target-URI
    date: str | None     #: WARC-Date as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC); None when malformed
    http_status: int     #: HTTP status code
    content_type: str    #: HTTP Content-Type header value ('' if absent)
    payload: bytes       #: HTTP body, de-chunked, at most ``max_payload_bytes``


# --------------------------------------------------------------------------------------------
# Small helpers


# Byte classes from rare to common in HTML, to pick the byte that memchr looks for.
_RARITY = {b: 0 for b in b"QZXJKVqzxjY"}
_RARITY.update({b: 1 for b in b"WUBGFHOPMNRLDCIESTAkvwyfb"})
_RARITY.update({b: 2 for b in b"0123456789gpmhulcdo"})
_RARITY.update({b: 4 for b in b" \n\r\t<>=\"'/etaisnr-.:;_"})


def make_needle_finder(needle: bytes, use_simd: bool | None = None) -> Callable[[bytes, int, int], int]:
    """A function ``find(data, start, end)`` returning the index of ``needle`` in
    ``data[start:end]`` or -1: StringZilla's SIMD search when available (``use_simd`` None or
    True), else ``memchr`` on the needle's rarest byte followed by a ``startswith`` check."""
    if not needle:
        raise ValueError("needle must not be empty")
    if use_simd is None:
        use_simd = _SZ_FIND is not None
    if use_simd:
        if _SZ_FIND is None:
            raise ImportError("stringzilla is not installed: pip install stringzilla")
        sz_find = _SZ_FIND

        def find_simd(data: bytes, start: int, end: int) -> int:
            return sz_find(data, needle, start, end)
        return find_simd

    k = min(range(len(needle)), key=lambda i: (_RARITY.get(needle[i], 3), -i))
    anchor = needle[k:k + 1]
    tail = len(needle) - k  # bytes from the anchor to the end of the needle

    def find_memchr(data: bytes, start: int, end: int) -> int:
        stop = end - tail + 1
        i = data.find(anchor, start + k, stop)
        while i >= 0:
            if data.startswith(needle, i - k, end):
                return i - k
            i = data.find(anchor, i + 1, stop)
        return -1
    return find_memchr


_DATE_RE = re.compile(
    rb"(\d{4})(?:-(\d\d)(?:-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.\d{1,9})?)?"
    rb"(Z|[+-]\d\d:?\d\d)?)?)?)?")
_ARC_DATE_RE = re.compile(rb"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)\d*")


_DATE_CANONICAL = re.compile(
    rb"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\dZ")


def normalise_warc_date(value: bytes | str | None) -> str | None:
    """A WARC-Date (W3C date-time, any precision, optional fraction and UTC offset) or an ARC
    date (``YYYYMMDDhhmmss``) as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; None if it is not a valid date."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode("ascii", "replace")
    value = value.strip()
    if _DATE_CANONICAL.fullmatch(value):  # already canonical, and a valid day in any month
        return value.decode("ascii")
    m = _DATE_RE.fullmatch(value)
    tz = None
    if m is not None:
        year, month, day, hour, minute, second, tz = m.groups()  # no zone: taken as UTC
    else:
        m = _ARC_DATE_RE.fullmatch(value)
        if m is None:
            return None
        year, month, day, hour, minute, second = m.groups()
    try:
        dt = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                      int(second or 0), tzinfo=timezone.utc)
    except ValueError:
        return None
    if tz and tz != b"Z":
        sign = 1 if tz[:1] == b"+" else -1
        digits = tz[1:].replace(b":", b"")
        dt -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def dechunk(body: bytes) -> bytes | None:
    """Undo HTTP chunked transfer coding; None if ``body`` is not validly chunked."""
    out = []
    pos = 0
    n = len(body)
    while True:
        eol = body.find(b"\n", pos)
        if eol < 0:
            return None if not out else b"".join(out)  # cut off: keep what was complete
        size_field = body[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            return None
        if size == 0:
            return b"".join(out)
        start = eol + 1
        out.append(body[start:start + size])
        pos = start + size
        if pos >= n:
            return b"".join(out)
        if body.startswith(b"\r\n", pos):
            pos += 2
        elif body.startswith(b"\n", pos):
            pos += 1
        else:
            return None


def _content_decode(body: bytes, encoding: bytes, limit: int) -> bytes | None:
    """Undo gzip/deflate Content-Encoding (at most ``limit`` bytes out); None if it fails."""
    if encoding in (b"gzip", b"x-gzip"):
        wbits = 31
    elif encoding == b"deflate":
        wbits = 15 if body[:1] == b"\x78" else -15
    else:
        return None
    try:
        d = isal_zlib.decompressobj(wbits)
        return d.decompress(body, limit + 1)
    except (isal_zlib.error, ValueError):
        return None


def _header_fields(block: bytes) -> dict[bytes, bytes]:
    """Header lines (after the first line) as {lower-case name: value}; first value wins.
    Tolerates bare LF line ends and folded continuation lines."""
    fields: dict[bytes, bytes] = {}
    last = None
    for line in block.split(b"\n")[1:]:
        line = line.rstrip(b"\r")
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and last is not None:
            fields[last] = fields[last] + b" " + line.strip()
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        last = name.strip().lower()
        fields.setdefault(last, value.strip())
    return fields


def _head_end(data: bytes, start: int, end: int) -> tuple[int, int]:
    """(end of the header block, start of the body) for a header starting at ``start``:
    the first blank line, CRLF or bare LF; (-1, -1) if there is none before ``end``."""
    crlf = data.find(b"\r\n\r\n", start, end)
    lf = data.find(b"\n\n", start, crlf + 2 if crlf >= 0 else end)
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 4
    return -1, -1


# --------------------------------------------------------------------------------------------
# Record handling, shared by every layout


class _Scanner:
    """Holds the options and counters of one ``scan_warc`` call and judges single records.

    The three counters touched for most records (``records``, ``responses``,
    ``html_responses``) are kept as attributes and added to ``stats`` by :meth:`flush`.
    """

    def __init__(self, stats: collections.Counter, needle: bytes, max_payload_bytes: int, html_only: bool):
        self.stats = stats
        if isinstance(needle, str):
            needle = needle.encode("utf-8")
        self.needle = needle
        self.find = make_needle_finder(needle)
        self.cap = max_payload_bytes
        self.html_only = html_only
        self.arc = False
        self.records = self.responses = self.html_responses = 0

    def flush(self) -> None:
        """Add the attribute counters to ``stats``."""
        for name in ("records", "responses", "html_responses"):
            value = getattr(self, name)
            if value:
                self.stats[name] += value
                setattr(self, name, 0)

    # -- WARC records ------------------------------------------------------------------------

    def warc(self, rec: bytes, offset: int, length: int, complete: bool = True,
             parts: list[bytes] | None = None):
        """Judge the WARC record at the start of ``rec``.

        Returns ``(end, result)``: ``end`` is the index just past the record's block in ``rec``
        (-1 if the header is unreadable), ``result`` a :class:`WarcRecord` for a candidate, else
        None. ``complete`` False means the record was cut short on purpose (a block larger than
        the payload cap): the block is then judged on the bytes present. ``parts``, when given,
        are the pieces of decompressed output whose first one is ``rec``: they are joined only
        when the record turns out to be a candidate.
        """
        # Fast path: CRLF line ends and the field names as every crawler writes them.
        hend = rec.find(b"\r\n\r\n")
        if hend < 0 and parts is not None:  # the header goes on in the next part
            rec = b"".join(parts)
            parts = None
            hend = rec.find(b"\r\n\r\n")
        i = rec.find(b"\r\nContent-Length:", 0, hend)
        if i < 0 or rec[rec.find(b"\n") - 1] != 13:
            return self._warc_slow(rec, offset, length, complete, parts)
        try:
            clen = int(rec[i + 17:rec.find(b"\r\n", i + 17)])
        except ValueError:
            return self._warc_slow(rec, offset, length, complete, parts)
        t = rec.find(b"\r\nWARC-Type:", 0, hend) + 12
        if t == 11:
            return self._warc_slow(rec, offset, length, complete, parts)
        self.records += 1
        end = hend + 4 + clen
        if rec[t] == 32:
            t += 1
        if not rec.startswith(b"response\r", t):
            if rec[t] in b" \t":  # unusual spacing: let the tolerant parser decide
                self.records -= 1
                return self._warc_slow(rec, offset, length, complete, parts)
            return end, None
        self.responses += 1
        if complete and (len(rec) if parts is None else sum(map(len, parts))) < end:
            return end, None  # a short block: the caller counts it (truncated / bad length)
        return end, self._response(rec, hend, hend + 4, end, offset, length, None, parts)

    def _warc_slow(self, rec: bytes, offset: int, length: int, complete: bool,
                   parts: list[bytes] | None = None):
        """The tolerant path: LF line ends, lower-case field names, odd spacing."""
        if parts is not None:
            rec = b"".join(parts)
        stats = self.stats
        self.records += 1
        hend, bstart = _head_end(rec, 0, min(len(rec), MAX_HEADER_BYTES))
        if hend < 0 or not rec.startswith(b"WARC/"):
            stats["unreadable_records"] += 1
            return -1, None
        fields = _header_fields(rec[:hend])
        try:
            clen = int(fields.get(b"content-length", b""))
            if clen < 0:
                raise ValueError
        except ValueError:
            stats["unreadable_records"] += 1
            return -1, None
        end = bstart + clen
        if fields.get(b"warc-type", b"").lower() != b"response":
            return end, None
        self.responses += 1
        if len(rec) < end and complete:
            return end, None
        return end, self._response(rec, hend, bstart, end, offset, length, fields)

    def _response(self, rec: bytes, hend: int, bstart: int, end: int, offset: int, length: int,
                  fields: dict | None = None, parts: list[bytes] | None = None):
        """Judge a response record's HTTP block ``rec[bstart:end]`` (continued in ``parts[1:]``
        when ``parts`` is given). ``hend`` ends the WARC header (used when ``fields`` is None)."""
        le = rec.find(b"\n", bstart + 12)
        if le < 0 and parts is not None:  # the status line goes on in the next part
            rec = b"".join(parts)
            parts = None
            le = rec.find(b"\n", bstart + 12)
        if rec.startswith(b" 200 ", bstart + 8) and rec.startswith(b"HTTP/1.", bstart):
            status = 200  # the common status line, 'HTTP/1.1 200 OK'
        else:
            if not rec.startswith(b"HTTP/", bstart):
                return None  # dns:, ftp:, or a block that is not an HTTP response
            le = rec.find(b"\n", bstart, end)
            if le < 0:
                return None
            status_line = rec[bstart:le].split(None, 2) if le >= 0 else ()
            if len(status_line) < 2 or not status_line[1].isdigit():
                return None
            status = int(status_line[1])
            if status != 200:
                return None
        he = rec.find(b"\r\n\r\n", le - 1) if rec[le - 1] == 13 else -1
        if he >= 0:
            pstart = he + 4
        else:  # bare LF line ends, or the header goes on past rec (parts)
            if parts is not None:
                rec = b"".join(parts)
                parts = None
            he, pstart = _head_end(rec, le - 1, min(len(rec), le + MAX_HEADER_BYTES))
        send = min(end, len(rec))
        if he < 0 or he >= end:
            he = pstart = send  # headers only, no body
        head = rec[le:he + 2].lower()
        i = head.find(b"\ncontent-type:")
        if i >= 0:
            j = head.find(b"\n", i + 14)
            ctype = head[i + 14:j]
            html = b"text/html" in ctype or b"application/xhtml+xml" in ctype
        else:
            html = False
        if html:
            self.html_responses += 1
        elif self.html_only:
            return None

        # The needle, before anything else is parsed: over the parts when the record came in
        # several, on the de-chunked / decoded body when the HTTP headers say it is coded.
        find = self.find
        coded = b"\ntransfer-encoding:" in head or b"\ncontent-encoding:" in head
        payload = None
        if parts is not None:
            if not coded:
                if find(rec, pstart, len(rec)) < 0 and not self._in_parts(parts):
                    return None
                # The payload straight from the parts, without what follows the block: one copy.
                views = [memoryview(rec)[pstart:], *parts[1:]]
                extra = sum(map(len, parts)) - end
                while extra > 0 and views:
                    last = views.pop()
                    if len(last) > extra:
                        views.append(memoryview(last)[:len(last) - extra])
                    extra -= len(last)
                payload = b"".join(views)
                found = True
            else:
                rec = b"".join(parts)
                send = min(end, len(rec))
                found = find(rec, pstart, send) >= 0
        else:
            found = find(rec, pstart, send) >= 0
        if coded:  # the payload the parser needs is the decoded one, needle or not
            payload = self._decode_body(rec, pstart, send, head)
            if payload is not None:
                found = find(payload, 0, len(payload)) >= 0
        if not found:
            return None

        stats = self.stats
        stats["candidates"] += 1
        if payload is None:
            payload = rec[pstart:send]
        elif parts is not None:
            send = end = pstart + len(payload)
        if len(payload) > self.cap or send < end:
            payload = payload[:self.cap]
            stats["truncated_payloads"] += 1
        if fields is None:
            d = rec.find(b"\r\nWARC-Date:", 0, hend)
            raw_date = rec[d + 12:rec.find(b"\r\n", d + 12)] if d >= 0 else None
            u = rec.find(b"\r\nWARC-Target-URI:", 0, hend)
            uri = rec[u + 18:rec.find(b"\r\n", u + 18)] if u >= 0 else b""
        else:
            raw_date = fields.get(b"warc-date")
            uri = fields.get(b"warc-target-uri", b"")
        date = normalise_warc_date(raw_date)
        if date is None:
            stats["malformed_dates"] += 1
        uri = uri.strip().strip(b"<>")
        content_type = rec[le:he + 2][i + 14:j].strip() if i >= 0 else b""
        return WarcRecord(offset, length, uri.decode("utf-8", "replace"), date, status,
                          content_type.decode("latin-1"), payload)

    def _in_parts(self, parts: list[bytes]) -> bool:
        """Whether the needle is in ``parts[1:]`` or across the border of two parts."""
        find = self.find
        needle = self.needle
        m = len(needle) - 1
        prev = parts[0]
        for part in parts[1:]:
            if find(part, 0, len(part)) >= 0:
                return True
            # Across the border: only when the first needle byte is among prev's last bytes.
            if m and prev.find(needle[:1], len(prev) - m) >= 0 and needle in prev[-m:] + part[:m]:
                return True
            prev = part
        return False

    @staticmethod
    def _header(head: bytes, name: bytes) -> bytes:
        i = head.find(name)
        j = head.find(b"\n", i + len(name))
        return head[i + len(name):j].strip()

    def _decode_body(self, rec: bytes, pstart: int, send: int, head: bytes) -> bytes | None:
        """The body ``rec[pstart:send]`` with its chunked transfer coding and its gzip/deflate
        content coding undone; None when neither applied (the body is used as it is)."""
        stats = self.stats
        body = None
        if b"\ntransfer-encoding:" in head and b"chunked" in self._header(head, b"\ntransfer-encoding:"):
            body = dechunk(rec[pstart:send])
            if body is not None:
                stats["chunked_payloads"] += 1
        if b"\ncontent-encoding:" in head:
            encoding = self._header(head, b"\ncontent-encoding:").lower()
            data = rec[pstart:pstart + 2] if body is None else body[:2]
            # Crawlers often store the decoded body but keep the header: decode only real data.
            if (data == _GZIP_MAGIC and encoding in (b"gzip", b"x-gzip")) or encoding == b"deflate":
                decoded = _content_decode(rec[pstart:send] if body is None else body, encoding, self.cap)
                if decoded is not None:
                    stats["decoded_payloads"] += 1
                    return decoded
        return body

    # -- ARC records -------------------------------------------------------------------------

    def arc_record(self, rec: bytes, offset: int, length: int, complete: bool = True):
        """Judge the ARC record at the start of ``rec`` (same contract as :meth:`warc`)."""
        eol = rec.find(b"\n")
        fields = rec[:eol].split() if eol >= 0 else []
        self.records += 1
        if len(fields) < 5 or not fields[-1].isdigit():
            self.stats["unreadable_records"] += 1
            return -1, None
        bstart = eol + 1
        end = bstart + int(fields[-1])
        if fields[0].startswith(b"filedesc:"):
            return end, None
        self.responses += 1
        if len(rec) < end and complete:
            return end, None
        # The ARC header line gives the date and URI that _response reads from WARC fields.
        fake = {b"warc-date": fields[2], b"warc-target-uri": fields[0]}
        return end, self._response(rec, eol, bstart, end, offset, length, fake)

    def record(self, rec: bytes, offset: int, length: int, complete: bool = True,
               parts: list[bytes] | None = None):
        """Judge the WARC or ARC record at the start of ``rec`` (see :meth:`warc`)."""
        if rec.startswith(b"WARC/"):
            return self.warc(rec, offset, length, complete, parts)
        if parts is not None:
            rec = b"".join(parts)
        if self.arc:
            return self.arc_record(rec, offset, length, complete)
        self.records += 1
        self.stats["unreadable_records"] += 1
        return -1, None


# --------------------------------------------------------------------------------------------
# Layouts


class _ByteBuffer:
    """A forward-only window over an iterator of byte pieces, for the stream layouts."""

    def __init__(self, pieces: Iterator[bytes], base: int):
        self.pieces = pieces
        self.buf = b""
        self.pos = 0
        self.base = base  # stream offset of buf[0]
        self.eof = False

    def available(self) -> int:
        return len(self.buf) - self.pos

    def fill(self, n: int) -> bool:
        """Have at least ``n`` bytes after ``pos``; False if the stream ends first."""
        while len(self.buf) - self.pos < n and not self.eof:
            piece = next(self.pieces, None)
            if piece is None:
                self.eof = True
                break
            if piece:
                self.base += self.pos
                self.buf = self.buf[self.pos:] + piece
                self.pos = 0
        return len(self.buf) - self.pos >= n

    def find(self, pattern: bytes, limit: int) -> int:
        """Offset from ``pos`` of ``pattern`` within the next ``limit`` bytes, or -1."""
        searched = 0
        while True:
            i = self.buf.find(pattern, self.pos + max(0, searched - len(pattern) + 1), self.pos + limit)
            if i >= 0:
                return i - self.pos
            searched = self.available()
            if searched >= limit or not self.fill(searched + 1):
                return -1

    def take(self, n: int) -> bytes:
        self.fill(n)
        data = self.buf[self.pos:self.pos + n]
        self.pos += len(data)
        return data

    def skip(self, n: int) -> int:
        """Drop ``n`` bytes without keeping them; the number dropped (fewer at the end)."""
        have = min(n, self.available())
        self.pos += have
        while have < n and not self.eof:
            piece = next(self.pieces, None)
            if piece is None:
                self.eof = True
                break
            self.base += len(self.buf)
            if len(piece) <= n - have:
                have += len(piece)
                self.base += len(piece)
                self.buf, self.pos = b"", 0
            else:
                self.buf, self.pos = piece, n - have
                have = n
        return have

    def skip_blank(self) -> bool:
        """Skip blank lines and NUL padding; False at the end of the stream."""
        while True:
            buf = self.buf
            stripped = len(buf) - len(buf.lstrip(b"\r\n\t \x00")) if self.pos == 0 else None
            if stripped is None:
                p = self.pos
                n = len(buf)
                while p < n and buf[p] in b"\r\n\t \x00":
                    p += 1
                self.pos = p
            else:
                self.pos = stripped
            if self.pos < len(buf):
                return True
            if not self.fill(1):
                return False

    @property
    def offset(self) -> int:
        return self.base + self.pos


def _scan_stream(sc: _Scanner, buf: _ByteBuffer) -> Iterator[WarcRecord]:
    """Records one after another in a decompressed (or never compressed) byte stream.

    Offsets are positions in that stream, lengths run from a record's first byte to the end
    of its block. Bytes between records other than blank lines are skipped up to the next line
    starting with ``WARC/`` (counted ``garbage_between_records``).
    """
    stats = sc.stats
    while buf.skip_blank():
        offset = buf.offset
        buf.fill(5)
        if buf.buf.startswith(b"WARC/", buf.pos):
            h = buf.find(b"\r\n\r\n", MAX_HEADER_BYTES)
            h2 = buf.find(b"\n\n", h + 2 if h >= 0 else MAX_HEADER_BYTES)
            if h2 >= 0 and (h < 0 or h2 < h):
                head_len = h2 + 2
            elif h >= 0:
                head_len = h + 4
            else:
                sc.records += 1
                stats["truncated_files" if buf.eof else "unreadable_records"] += 1
                if buf.eof:
                    return
                buf.skip(5)
                continue
            fields = _header_fields(buf.buf[buf.pos:buf.pos + head_len])
            try:
                clen = int(fields.get(b"content-length", b""))
                if clen < 0:
                    raise ValueError
            except ValueError:
                sc.records += 1
                stats["unreadable_records"] += 1
                buf.skip(5)
                continue
        elif sc.arc:  # ARC: one header line whose last field is the block length
            eol = buf.find(b"\n", 64 << 10)
            line = buf.buf[buf.pos:buf.pos + eol].split() if eol >= 0 else []
            if len(line) < 5 or not line[-1].isdigit():
                sc.records += 1
                stats["unreadable_records"] += 1
                if eol < 0:
                    return
                buf.skip(eol + 1)
                continue
            head_len = eol + 1
            clen = int(line[-1])
        else:
            stats["garbage_between_records"] += 1
            at = buf.find(b"\nWARC/", 1 << 62)
            if at < 0:
                return
            buf.skip(at + 1)
            continue
        total = head_len + clen
        keep = min(total, head_len + sc.cap + MAX_HEADER_BYTES)
        complete = buf.fill(keep)
        rec = buf.take(keep)
        if complete and keep < total:
            complete = buf.skip(total - keep) == total - keep
        if not complete:  # the stream ends inside this record
            stats["truncated_files"] += 1
            sc.record(rec, offset, total)
            return
        _end, result = sc.record(rec, offset, total, complete=keep == total)
        if result is not None:
            yield result


def _gunzip_pieces(sc: _Scanner, d, data: memoryview, read: Callable[[int], bytes]) -> Iterator[bytes]:
    """Decompressed bytes of ``data`` and of the rest of the stream, member after member, as
    ``gzip -d`` gives them; ``d`` is the decompressor of the member ``data`` continues, or None
    when ``data`` starts a new member."""
    stats = sc.stats
    carry = b""
    while True:
        pos = 0
        n = len(data)
        while pos < n:
            if d is None:
                if n - pos < 3:
                    carry = bytes(data[pos:])
                    break
                if data[pos] != 0x1F or data[pos + 1] != 0x8B:
                    if bytes(data[pos:]).strip(b"\x00\r\n\t "):
                        stats["garbage_between_records"] += 1
                    return  # garbage after the last member ends the stream
                d = isal_zlib.decompressobj(31)
            piece = data[pos:pos + (256 << 10)]
            try:
                out = d.decompress(piece)
            except isal_zlib.error:
                stats["unreadable_records"] += 1
                return
            if out:
                yield out
            if d.eof:
                pos += len(piece) - len(d.unused_data)
                d = None
            else:
                pos += len(piece)
        more = read(READ_SIZE)
        if not more:
            if d is not None:
                stats["truncated_files"] += 1
            elif carry.strip(b"\x00\r\n\t "):
                stats["garbage_between_records"] += 1
            return
        data = memoryview(carry + more) if carry else memoryview(more)
        carry = b""


def _switch_to_stream(sc: _Scanner, data: bytes, ubase: int, d, rest: bytes | None,
                      stream: BinaryIO) -> Iterator[WarcRecord]:
    """Go on as one decompressed stream: ``data`` (decompressed, at offset ``ubase`` of the
    decompressed stream), then the compressed bytes ``rest`` (None: the file has no more) and
    what follows in the file (see _gunzip_pieces)."""
    sc.stats["non_multimember_gzip"] += 1

    def pieces():
        yield data
        if rest is None:
            if d is not None:
                sc.stats["truncated_files"] += 1
            return
        yield from _gunzip_pieces(sc, d, memoryview(rest), stream.read)
    yield from _scan_stream(sc, _ByteBuffer(pieces(), ubase))


def _member_tail(sc: "_Scanner", stats, data: bytes, end: int, size: int, arc: bool, result,
                 ubase: int, rest_of_buffer: Callable[[], bytes | None], stream: BinaryIO):
    """A gzip member whose first record does not end 4 bytes before the member does.

    The record's Content-Length overruns the member: it is unreadable. Another record follows
    inside the same member: the file is one gzip stream (or members hold several records), so the
    rest is read as a stream from here. Used through ``yield from``; returns ``(result,
    switched)``, where ``switched`` says the stream reader has taken over the rest of the file.
    """
    if size < end:
        stats["unreadable_records"] += 1  # the Content-Length overruns the member
        return None, False
    if size - end > 8 and (arc or data.find(b"WARC/", end, end + 64) >= 0):
        tail = _record_tail(data, end)
        if result is not None:
            result.offset, result.length = ubase, tail
            yield result
        yield from _switch_to_stream(sc, data[tail:], ubase + tail, None, rest_of_buffer(), stream)
        return None, True
    return result, False


def _record_tail(data: bytes, end: int) -> int:
    """Index past the line ends (at most four bytes) that close a block ending at ``end``."""
    stop = min(end + 4, len(data))
    while end < stop and data[end] in b"\r\n":
        end += 1
    return end


def _expected_size(head: bytes, arc: bool) -> int:
    """Decompressed size of the record at the start of ``head`` (with the CRLFs closing it),
    or -1 if its header is not all in ``head`` or unreadable."""
    if head.startswith(b"WARC/"):
        hend = head.find(b"\r\n\r\n")
        i = head.find(b"\r\nContent-Length:", 0, hend) if hend > 0 else -1
        if i > 0:
            j = head.find(b"\r\n", i + 17)
            try:
                return hend + 8 + int(head[i + 17:j])
            except ValueError:
                pass
    if arc and not head.startswith(b"WARC/"):
        eol = head.find(b"\n")
        fields = head[:eol].split() if eol >= 0 else []
        return eol + 1 + int(fields[-1]) if fields and fields[-1].isdigit() else -1
    hend, bstart = _head_end(head, 0, len(head))
    if hend < 0:
        return -1
    try:
        return bstart + int(_header_fields(head[:hend]).get(b"content-length", b""))
    except ValueError:
        return -1


def _reader(stream: BinaryIO) -> Callable[[memoryview], int]:
    """``readinto(view) -> bytes read`` for ``stream``, also when it only has ``read``."""
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        return readinto

    def readinto_by_read(view: memoryview) -> int:
        data = stream.read(len(view))
        view[:len(data)] = data
        return len(data)
    return readinto_by_read


def _refill(buf: bytearray, whole: memoryview, readinto, base: int, pos: int, n: int):
    """Move the unread bytes ``buf[pos:n]`` to the front and read more behind them.

    Returns the new ``(base, pos, n, mv, at_end)``: the file offset of ``buf[0]``, 0, the number
    of valid bytes, a view of them, and whether the stream is exhausted.
    """
    keep = n - pos
    buf[:keep] = buf[pos:n]
    got = readinto(whole[keep:])
    n = keep + got
    return base + pos, 0, n, whole[:n], not got


def _scan_gzip(sc: _Scanner, stream: BinaryIO, head: bytes) -> Iterator[WarcRecord]:
    """The per-record gzip layout: one gzip member per record (Common Crawl).

    The file is read into one reused buffer (so its pages stay in the CPU cache). Each member
    is decompressed by one ISA-L decompressor fed from a memoryview of that buffer: first a
    slice of ``FIRST_SLICE`` bytes (request and metadata members end in it), then, for larger
    members, a slice as long as the rest of the record should take (its size from the header
    times the compression ratio of the previous large members). The member ends where the
    decompressor reports its end (``unused_data``).

    A member that holds exactly one WARC record with CRLF headers (what crawlers write) takes
    the inlined fast path: three ``find`` calls and, for a response, :meth:`_Scanner._response`.
    Anything else goes through :meth:`_Scanner.record`.
    """
    nrec = nresp = 0         # hot counters, added to sc at the end
    try:
        stats = sc.stats
        readinto = _reader(stream)
        decompressobj = isal_zlib.decompressobj
        gzip_error = isal_zlib.error
        arc = sc.arc
        record = sc.record if arc else sc.warc
        response = sc._response
        cap_limit = sc.cap + MAX_HEADER_BYTES
        buf = bytearray(max(READ_SIZE, len(head)))
        whole = memoryview(buf)
        n = len(head)
        buf[:n] = head
        mv = whole[:n]           # the valid bytes of buf: slices of it stop at n by themselves
        base = 0                 # file offset of buf[0]
        ubase = 0                # decompressed bytes of the members before the current one
        pos = 0
        first = FIRST_SLICE
        ratio = 0.3              # compressed bytes per decompressed byte in large members
        garbage = False          # inside a stretch of bytes that is no gzip member
        at_end = False           # the stream has no more bytes
        # Member-end hints: a crawler writes the same 10-byte gzip header on every member, so
        # the next occurrence of the first member's header (found by SIMD search) is where the
        # current member most likely ends, and the member can be decompressed in one call from
        # a slice that ends there. A wrong hint only costs time: the decompressor says where the
        # member really ends. Without stringzilla, or when hints keep missing, the slices are
        # sized as described above.
        sz_find = _SZ_FIND
        header = bytes(buf[:10]) if sz_find is not None and n >= 10 and buf[3] == 0 else None
        hint_tries = hint_misses = 0
        while True:
            if pos + 3 > n:      # refill; keep the last bytes so that a gzip magic is never split
                if not at_end:
                    base, pos, n, mv, at_end = _refill(buf, whole, readinto, base, pos, n)
                if at_end and pos + 3 > n:
                    if pos < n and bytes(buf[pos:n]).strip(b"\x00\r\n\t ") and not garbage:
                        stats["garbage_between_records"] += 1
                    return

            if header is not None:
                hint = sz_find(buf, header, pos + 10, n)
                if hint < 0 and pos and not at_end:
                    # The next header is not in the buffer yet: move this member to the front
                    # and read on, so that it is still decompressed in one call.
                    base, pos, n, mv, at_end = _refill(buf, whole, readinto, base, pos, n)
                    hint = sz_find(buf, header, 10, n)
                piece = mv[pos:hint] if hint > 0 else mv[pos:]
            else:
                hint = -1
                piece = mv[pos:pos + first]
            start = base + pos
            d = decompressobj(31)
            try:
                out = d.decompress(piece, cap_limit)
            except gzip_error:
                if buf.startswith(_GZIP_MAGIC, pos):
                    stats["unreadable_records"] += 1  # a corrupt member
                    garbage = True
                    pos += 2
                # Blank or NUL padding, or garbage: go on at the next gzip member header.
                k = buf.find(_GZIP_MEMBER, pos, n)
                stop = k if k >= 0 else max(pos, n - 2)
                if not garbage and bytes(buf[pos:stop]).strip(b"\x00\r\n\t "):
                    stats["garbage_between_records"] += 1
                    garbage = True
                pos = stop
                continue
            if garbage:
                garbage = False
            if hint > 0:
                hint_tries += 1
                if not d.eof or d.unused_data:
                    hint_misses += 1
                    if hint_misses > 32 and hint_misses * 4 > hint_tries:
                        header = None  # this file's members do not share one header
            if d.eof:
                # The common case: the member ended within the first slice.
                pos += len(piece) - len(d.unused_data)
                size = len(out)
                hend = out.find(b"\r\n\r\n")
                i = out.find(b"\r\nContent-Length:", 0, hend)
                t = 8 if out.startswith(b"WARC-Type: ", 10) else out.find(b"\r\nWARC-Type: ", 0, hend)
                if i > 0 and t > 0:
                    try:
                        clen = int(out[i + 17:out.find(b"\r\n", i + 17)])
                    except ValueError:
                        clen = -1
                    if hend + 8 + clen == size:  # exactly one record, closed by CRLF CRLF
                        nrec += 1
                        ubase += size
                        if out.startswith(b"response\r", t + 13):
                            nresp += 1
                            result = response(out, hend, hend + 4, size - 4, start, base + pos - start)
                            if result is not None:
                                yield result
                        continue
                if not out:
                    continue  # an empty gzip member (some writers end a file with one)
                end, result = record(out, start, base + pos - start)
                if size - end != 4 and end >= 0:
                    result, switched = yield from _member_tail(
                        sc, stats, out, end, size, arc, result, ubase,
                        lambda: None if at_end else bytes(mv[pos:n]), stream)
                    if switched:
                        return
                ubase += size
                if result is not None:
                    yield result
                continue

            # A member larger than the first slice: its record's size (from the header in
            # `out`) times the compression ratio of the last large members gives the input
            # still to feed.
            parts = [out]
            total = kept = size0 = len(out)
            first_in = len(piece) - len(d.unconsumed_tail)  # input used by the first call
            # The decompressed size of the record (header, block, CRLF CRLF), or -1.
            hend = out.find(b"\r\n\r\n")
            i = out.find(b"\r\nContent-Length:", 0, hend) if hend > 0 else -1
            if i > 0:
                try:
                    expected = hend + 8 + int(out[i + 17:out.find(b"\r\n", i + 17)])
                except ValueError:
                    expected = -1
            else:
                expected = _expected_size(out, arc)
            p = pos + first_in
            resumed = False      # the member went on into a newly read buffer
            state = 0            # 0: member ended, 1: file ended in it, 2: corrupt, 3: more records
            while True:
                if p >= n:
                    got = 0 if at_end else readinto(whole)
                    if not got:
                        at_end = True
                        state = 1
                        break
                    base += n
                    n = got
                    mv = whole[:n]
                    p = 0
                    resumed = True
                if expected > total:
                    step = int((expected - total) * ratio) + 1024
                else:
                    step = 32768 if expected < 0 else 4096
                piece = mv[p:p + step]
                try:
                    out = d.decompress(piece)
                except gzip_error:
                    state = 2
                    break
                total += len(out)
                if kept < cap_limit:
                    parts.append(out)
                    kept += len(out)
                if d.eof:
                    p += len(piece) - len(d.unused_data)
                    break
                p += len(piece)
                if expected < 0:
                    expected = _expected_size(b"".join(parts[:64])[:MAX_HEADER_BYTES], arc)
                if 0 <= expected < total - 64 and expected < cap_limit:
                    state = 3    # the member goes on past its first record
                    break
            if state == 2:
                stats["unreadable_records"] += 1
                garbage = True
                # Look for the next member right after this one's header, unless the bytes
                # there have already left the buffer.
                pos = 0 if resumed else pos + 2
                continue
            if state == 3:
                rest = None if at_end else bytes(mv[p:n])
                yield from _switch_to_stream(sc, b"".join(parts), ubase, d, rest, stream)
                return
            pos = p
            length = base + pos - start
            if state == 0 and total > size0 + 4096:
                # Input per output byte after the first slice: the next member's estimate.
                ratio = (length - first_in) / (total - size0)
            rec = parts[0]
            if state == 0 and expected == total and kept == total and i > 0:
                # Fast path, as above: one record with CRLF headers (expected counts them).
                t = 8 if rec.startswith(b"WARC-Type: ", 10) else rec.find(b"\r\nWARC-Type: ", 0, hend)
                if t > 0:
                    nrec += 1
                    ubase += total
                    if rec.startswith(b"response\r", t + 13):
                        nresp += 1
                        result = response(rec, hend, hend + 4, total - 4, start, length, None,
                                          parts if len(parts) > 1 else None)
                        if result is not None:
                            yield result
                    continue
            end, result = record(rec, start, length, kept == total, parts if len(parts) > 1 else None)
            if state == 1:
                stats["truncated_files"] += 1
                if end >= 0 and kept >= end and result is not None:
                    yield result
                return
            if end >= 0 and kept == total and total - end != 4:
                rec = parts[0] if len(parts) == 1 else b"".join(parts)
                result, switched = yield from _member_tail(
                    sc, stats, rec, end, total, arc, result, ubase,
                    lambda: None if at_end else bytes(mv[pos:n]), stream)
                if switched:
                    return
            ubase += total
            if result is not None:
                yield result
    finally:
        sc.records += nrec
        sc.responses += nresp


def scan_warc(stream: BinaryIO, stats: collections.Counter, needle: bytes = b"FAQPage",
              max_payload_bytes: int = 5_000_000, html_only: bool = True) -> Iterator[WarcRecord]:
    """Stream the WARC (or ARC) file ``stream`` and yield its FAQPage candidates.

    ``stream`` is any binary file object with ``read(n)`` (a local file, an HTTP response, an
    S3 body); it is read forward once, in blocks of :data:`READ_SIZE`. Counters are added to
    ``stats`` (see the module docstring for their names). Candidates are HTTP 200 responses with
    an HTML Content-Type (any type when ``html_only`` is false) whose payload contains
    ``needle``; their payload is cut at ``max_payload_bytes``.
    """
    sc = _Scanner(stats, needle, max_payload_bytes, html_only)
    try:
        yield from _scan(sc, stream)
    finally:
        sc.flush()


def _scan(sc: _Scanner, stream: BinaryIO) -> Iterator[WarcRecord]:
    """Sniff the format from the first bytes and run the matching layout."""
    stats = sc.stats
    chunk = stream.read(READ_SIZE)
    while chunk and len(chunk) < 64:  # a short read from a network stream
        more = stream.read(READ_SIZE)
        if not more:
            break
        chunk += more
    if not chunk:
        stats["empty_files"] += 1
        return
    if chunk.startswith(_GZIP_MAGIC):
        inner = _peek_gzip(chunk)
        if inner.startswith(b"filedesc:"):
            sc.arc = True
            stats["arc_files"] += 1
        elif not inner.startswith(b"WARC/"):
            stats["unsupported_format"] += 1
            return
        yield from _scan_gzip(sc, stream, chunk)
        return
    if chunk.startswith(b"filedesc:"):
        sc.arc = True
        stats["arc_files"] += 1
    elif not chunk.lstrip(b"\r\n").startswith(b"WARC/"):
        stats["unsupported_format"] += 1
        return

    def pieces():
        yield chunk
        while True:
            more = stream.read(READ_SIZE)
            if not more:
                return
            yield more
    yield from _scan_stream(sc, _ByteBuffer(pieces(), 0))


def _peek_gzip(chunk: bytes) -> bytes:
    """The first decompressed bytes of a gzip stream, past empty members (b'' if none)."""
    data = chunk[:1 << 16]
    out = b""
    try:
        while data[:2] == _GZIP_MAGIC and len(out) < 16:
            d = isal_zlib.decompressobj(31)
            out += d.decompress(data, 64)
            if not d.eof:
                break
            data = d.unused_data
    except isal_zlib.error:
        pass
    return out
