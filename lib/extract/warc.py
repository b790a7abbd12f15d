"""Streaming WARC reader that finds FAQPage candidates, without Spark and at the speed of gzip.

Three layers, as FastWARC splits ``stream_io`` from ``warc``: ``lib.extract.stream_io`` reads
bytes and gzip members and knows nothing of WARC; ``lib.extract.warc_headers`` reads record
headers (one fast parser for the CRLF headers crawlers write, one tolerant parser for the rest,
Content-Length read in one place); this module judges records and runs the layouts on top.

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
``bad_content_length``  records whose Content-Length is missing, not a number, negative, longer
                       than the record (unreadable; in an uncompressed WARC the scan goes on at
                       the next record's header) or shorter (bytes left in its gzip member; the
                       record is kept as its Content-Length gives it)
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
``utf16_payloads``     candidates found by the UTF-16 form of ``needle`` (a page with a UTF-16 BOM)
=====================  ===================================================================

Speed (see ``bench/scan_bench.py``): each gzip member is decompressed by ISA-L in one call where
the next member's header can be found (``stream_io.GzipMembers``). A member holding one CRLF-headed
record takes the fast path of :meth:`_Scanner.warc`: three ``bytes.find`` calls for a request or
metadata record, the HTTP status, Content-Type and the needle search for a response; nothing else
is parsed before the needle is found (StringZilla's SIMD search when the ``stringzilla`` package
is installed, else ``memchr`` on the needle's rarest byte).

The counters ``records``, ``responses`` and ``html_responses`` are added to ``stats`` when the
iterator is exhausted or closed.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import BinaryIO, Iterator

from isal import isal_zlib

from lib.extract import stream_io
from lib.extract.stream_io import (COMPLETE, GZIP_MAGIC, OVERSIZED, TRUNCATED, ByteWindow, GzipMembers, Member,
                                   make_needle_finder, peek_gzip, read_start)
from lib.extract.warc_headers import (MAX_HEADER_BYTES, arc_header, crlf_field, crlf_head, head_end,
                                      header_fields, normalise_warc_date, parse_length, record_size,
                                      record_tail, starts_warc_head)

__all__ = ["WarcRecord", "scan_warc", "normalise_warc_date", "make_needle_finder"]

#: The counter of records whose Content-Length does not fit them (every path counts here).
BAD_LENGTH = "bad_content_length"

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
# HTTP bodies


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


def _status_200_line_end(rec: bytes, bstart: int, end: int) -> int:
    """End of the status line of an HTTP response block at ``rec[bstart:end]`` whose status is
    200 (written in any of the ways servers write it); -1 for another status or no HTTP block."""
    if not rec.startswith(b"HTTP/", bstart):
        return -1  # dns:, ftp:, or a block that is not an HTTP response
    le = rec.find(b"\n", bstart, end)
    if le < 0:
        return -1
    status_line = rec[bstart:le].split(None, 2)
    if len(status_line) < 2 or not status_line[1].isdigit() or int(status_line[1]) != 200:
        return -1
    return le


def _header_value(head: bytes, name: bytes) -> bytes:
    i = head.find(name)
    j = head.find(b"\n", i + len(name))
    return head[i + len(name):j].strip()


def _payload_from_parts(rec: bytes, pstart: int, end: int, parts: list[bytes]) -> bytes:
    """The block ``rec[pstart:end]`` continued in ``parts[1:]`` (``parts[0]`` is ``rec``), without
    what follows the block: one copy."""
    views = [memoryview(rec)[pstart:], *parts[1:]]
    extra = sum(map(len, parts)) - end
    while extra > 0 and views:
        last = views.pop()
        if len(last) > extra:
            views.append(memoryview(last)[:len(last) - extra])
        extra -= len(last)
    return b"".join(views)


# --------------------------------------------------------------------------------------------
# Records


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
        # UTF-16 pages (with their byte-order mark) hold the needle in UTF-16: searched for only
        # where the needle is missing and the payload starts with a BOM.
        text = needle.decode("utf-8")
        self.needle_utf16 = {b"\xff\xfe": text.encode("utf-16-le"), b"\xfe\xff": text.encode("utf-16-be")}
        self.sz_find = stream_io._SZ_FIND  # the SIMD search itself, called without a wrapper where it counts
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

    def bad_length(self) -> None:
        """Count a record that cannot be read because its Content-Length is missing, not a
        number, negative, or runs past the record's end."""
        self.stats["unreadable_records"] += 1
        self.stats[BAD_LENGTH] += 1

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

        The fast path: the header as crawlers write it (:func:`crlf_head`); a request or metadata
        record costs its three ``find`` calls, a response adds :meth:`_response`.
        """
        hend, clen, t = crlf_head(rec)
        if hend < 0 and parts is not None:  # the header may go on in the next part
            rec = b"".join(parts)
            parts = None
            hend, clen, t = crlf_head(rec)
        if t < 0:
            return self._warc_slow(rec, offset, length, complete, parts)
        end = hend + 4 + clen
        if not rec.startswith(b"response\r", t):
            if rec[t] in b" \t":  # unusual spacing: let the tolerant parser decide
                return self._warc_slow(rec, offset, length, complete, parts)
            self.records += 1
            return end, None
        self.records += 1
        self.responses += 1
        if complete and (len(rec) if parts is None else sum(map(len, parts))) < end:
            return end, None  # a short block: the caller counts it (truncated / bad length)
        return end, self.response(rec, hend, hend + 4, end, offset, length, None, parts)

    def _warc_slow(self, rec: bytes, offset: int, length: int, complete: bool,
                   parts: list[bytes] | None = None):
        """The tolerant path: LF line ends, lower-case field names, odd spacing."""
        if parts is not None:
            rec = b"".join(parts)
        self.records += 1
        hend, bstart = head_end(rec, 0, min(len(rec), MAX_HEADER_BYTES))
        if hend < 0 or not rec.startswith(b"WARC/"):
            self.stats["unreadable_records"] += 1
            return -1, None
        fields = header_fields(rec[:hend])
        clen = parse_length(fields.get(b"content-length"))
        if clen < 0:
            self.bad_length()
            return -1, None
        end = bstart + clen
        if fields.get(b"warc-type", b"").lower() != b"response":
            return end, None
        self.responses += 1
        if len(rec) < end and complete:
            return end, None
        return end, self.response(rec, hend, bstart, end, offset, length, fields)

    def response(self, rec: bytes, hend: int, bstart: int, end: int, offset: int, length: int,
                  fields: dict | None = None, parts: list[bytes] | None = None):
        """Judge a response record's HTTP block ``rec[bstart:end]`` (continued in ``parts[1:]``
        when ``parts`` is given): a :class:`WarcRecord` for a candidate, else None. ``hend`` ends
        the WARC header (its fields are read from there when ``fields`` is None)."""
        le = rec.find(b"\n", bstart + 12)
        if le < 0 and parts is not None:  # the status line goes on in the next part
            rec = b"".join(parts)
            parts = None
            le = rec.find(b"\n", bstart + 12)
        if not (rec.startswith(b" 200 ", bstart + 8) and rec.startswith(b"HTTP/1.", bstart)):
            le = _status_200_line_end(rec, bstart, end)  # not the common 'HTTP/1.1 200 OK'
            if le < 0:
                return None
        he = rec.find(b"\r\n\r\n", le - 1) if rec[le - 1] == 13 else -1
        if he >= 0:
            pstart = he + 4
        else:  # bare LF line ends, or the header goes on past rec (parts)
            if parts is not None:
                rec = b"".join(parts)
                parts = None
            he, pstart = head_end(rec, le - 1, min(len(rec), le + MAX_HEADER_BYTES))
        send = min(end, len(rec))
        if he < 0 or he >= end:
            he = pstart = send  # headers only, no body
        head = rec[le:he + 2].lower()
        i = head.find(b"\ncontent-type:")
        j = head.find(b"\n", i + 14) if i >= 0 else -1
        if i >= 0 and (b"text/html" in head[i + 14:j] or b"application/xhtml+xml" in head[i + 14:j]):
            self.html_responses += 1
        elif self.html_only:
            return None
        if parts is None and b"\ntransfer-encoding:" not in head and b"\ncontent-encoding:" not in head:
            # The common case: the needle in the body as it is, before anything is copied.
            sz_find = self.sz_find
            if (sz_find(rec, self.needle, pstart, send) if sz_find else self.find(rec, pstart, send)) < 0 \
                    and not self._utf16_match(rec, pstart, send):
                return None
            payload, cut = rec[pstart:send], send < end
        else:
            payload, cut = self._payload(rec, pstart, send, end, head, parts)
            if payload is None:
                return None
        content_type = rec[le:he + 2][i + 14:j].strip() if i >= 0 else b""
        return self._candidate(payload, cut, rec, hend, fields, content_type, offset, length)

    def _payload(self, rec: bytes, pstart: int, send: int, end: int, head: bytes,
                 parts: list[bytes] | None) -> tuple[bytes | None, bool]:
        """The payload of the block ``rec[pstart:send]`` (``end`` where it should end; continued
        in ``parts[1:]``), de-chunked and decoded as its HTTP ``head`` says, when it holds the
        needle (else None), and whether the block was cut short. The needle is searched before
        anything is copied."""
        find = self.find
        coded = b"\ntransfer-encoding:" in head or b"\ncontent-encoding:" in head
        if parts is not None:
            if not coded:
                if find(rec, pstart, len(rec)) < 0 and not self._in_parts(parts) \
                        and not self._utf16_match(rec, pstart, len(rec), parts):
                    return None, False
                return _payload_from_parts(rec, pstart, end, parts), False
            rec = b"".join(parts)
            send = min(end, len(rec))
        payload = self._decode_body(rec, pstart, send, head) if coded else None
        if payload is None:
            if find(rec, pstart, send) < 0 and not self._utf16_match(rec, pstart, send):
                return None, False
            payload = rec[pstart:send]
        elif find(payload, 0, len(payload)) < 0 and not self._utf16_match(payload, 0, len(payload)):
            return None, False
        return payload, send < end

    def _utf16_match(self, buf: bytes, start: int, end: int, parts: list[bytes] | None = None) -> bool:
        """Whether ``buf[start:end]`` (continued in ``parts[1:]``) starts with a UTF-16 byte-order
        mark and holds the needle in that encoding (counted as ``utf16_payloads``)."""
        needle = self.needle_utf16.get(buf[start:start + 2])
        if needle is None:
            return False
        if parts is not None:
            buf, end = b"".join(parts), sum(len(p) for p in parts)
        if buf.find(needle, start, end) < 0:
            return False
        self.stats["utf16_payloads"] += 1
        return True

    def _candidate(self, payload: bytes, cut: bool, rec: bytes, hend: int, fields: dict | None,
                   content_type: bytes, offset: int, length: int) -> WarcRecord:
        """The :class:`WarcRecord` of a candidate, its payload cut at the cap (counted)."""
        stats = self.stats
        stats["candidates"] += 1
        if len(payload) > self.cap or cut:
            payload = payload[:self.cap]
            stats["truncated_payloads"] += 1
        if fields is None:
            raw_date = crlf_field(rec, hend, b"WARC-Date:")
            uri = crlf_field(rec, hend, b"WARC-Target-URI:") or b""
        else:
            raw_date = fields.get(b"warc-date")
            uri = fields.get(b"warc-target-uri", b"")
        date = normalise_warc_date(raw_date)
        if date is None:
            stats["malformed_dates"] += 1
        uri = uri.strip().strip(b"<>")
        return WarcRecord(offset, length, uri.decode("utf-8", "replace"), date, 200,
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

    def _decode_body(self, rec: bytes, pstart: int, send: int, head: bytes) -> bytes | None:
        """The body ``rec[pstart:send]`` with its chunked transfer coding and its gzip/deflate
        content coding undone; None when neither applied (the body is used as it is)."""
        stats = self.stats
        body = None
        if b"\ntransfer-encoding:" in head and b"chunked" in _header_value(head, b"\ntransfer-encoding:"):
            body = dechunk(rec[pstart:send])
            if body is not None:
                stats["chunked_payloads"] += 1
        if b"\ncontent-encoding:" in head:
            encoding = _header_value(head, b"\ncontent-encoding:").lower()
            data = rec[pstart:pstart + 2] if body is None else body[:2]
            # Crawlers often store the decoded body but keep the header: decode only real data.
            if (data == GZIP_MAGIC and encoding in (b"gzip", b"x-gzip")) or encoding == b"deflate":
                decoded = _content_decode(rec[pstart:send] if body is None else body, encoding, self.cap)
                if decoded is not None:
                    stats["decoded_payloads"] += 1
                    return decoded
        return body

    # -- ARC records -------------------------------------------------------------------------

    def arc_record(self, rec: bytes, offset: int, length: int, complete: bool = True):
        """Judge the ARC record at the start of ``rec`` (same contract as :meth:`warc`)."""
        eol, fields, clen = arc_header(rec)
        self.records += 1
        if clen < 0:
            self.stats["unreadable_records"] += 1
            return -1, None
        bstart = eol + 1
        end = bstart + clen
        if fields[0].startswith(b"filedesc:"):
            return end, None
        self.responses += 1
        if len(rec) < end and complete:
            return end, None
        # The ARC header line gives the date and URI that _response reads from WARC fields.
        fake = {b"warc-date": fields[2], b"warc-target-uri": fields[0]}
        return end, self.response(rec, eol, bstart, end, offset, length, fake)

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


def _scan_gzip(sc: _Scanner, stream: BinaryIO, head: bytes) -> Iterator[WarcRecord]:
    """The per-record gzip layout: one gzip member per record (Common Crawl).

    The fast path takes a member decompressed in one call (``lib.extract.stream_io.GzipMembers``)
    that holds one record with a CRLF header, what crawlers write: its header (three ``find``
    calls, :func:`crlf_head`) says the record ends 4 bytes (CRLF CRLF) before the member does. A
    request or metadata record costs nothing more; a response is judged by
    :meth:`_Scanner.response`. Every other member goes through :func:`_member`.
    """
    members = GzipMembers(stream, head, sc.stats, partial(record_size, arc=sc.arc), sc.cap + MAX_HEADER_BYTES)
    response = sc.response
    ubase = 0                # decompressed bytes of the members before the current one
    nrec = nresp = 0         # hot counters, added to sc at the end
    try:
        for rec, large, start, length in members:
            if large is None:
                size = len(rec)
                hend, clen, t = crlf_head(rec)
                if t >= 0 and hend + 8 + clen == size:  # exactly one record, closed by CRLF CRLF
                    if rec.startswith(b"response\r", t):
                        nrec += 1
                        nresp += 1
                        ubase += size
                        result = response(rec, hend, hend + 4, size - 4, start, length)
                        if result is not None:
                            yield result
                        continue
                    if rec[t] not in b" \t":  # (unusual spacing: the tolerant parser decides)
                        nrec += 1
                        ubase += size
                        continue
                if not size:
                    continue  # an empty gzip member (some writers end a file with one)
            size = yield from _member(sc, members, rec, large, start, length, ubase)
            if size < 0:
                return
            ubase += size
    finally:
        sc.records += nrec
        sc.responses += nresp


def _member(sc: _Scanner, members: GzipMembers, rec: bytes, large: Member | None, start: int, length: int,
            ubase: int):
    """Judge a member the fast path did not take (``large`` None: decompressed in one call), at
    offset ``ubase`` of the decompressed file. Used through ``yield from``; returns the member's
    decompressed size, or -1 when the file has ended or the rest of it was read as one stream."""
    state, parts, total, kept = large or (COMPLETE, [rec], len(rec), len(rec))
    if state is OVERSIZED:
        yield from _switch_to_stream(sc, chain([b"".join(parts)], members.rest(start + length)), ubase)
        return -1
    end, result = sc.record(rec, start, length, kept == total, parts if len(parts) > 1 else None)
    if state is TRUNCATED:
        if end >= 0 and kept >= end and result is not None:
            yield result
        return -1
    if total - end != 4 and end >= 0 and kept == total:
        data = rec if len(parts) == 1 else b"".join(parts)
        result, tail = _member_tail(sc, data, end, total, result)
        if tail >= 0:
            if result is not None:
                result.offset, result.length = ubase, tail
                yield result
            yield from _switch_to_stream(sc, chain([data[tail:]], members.rest(start + length)), ubase + tail)
            return -1
    if result is not None:
        yield result
    return total


def _member_tail(sc: _Scanner, data: bytes, end: int, size: int, result):
    """A gzip member whose first record does not end 4 bytes before the member does.

    Another record follows inside the member: the file is one gzip stream (or members hold
    several records); returns ``(result, tail)``, ``tail`` the index where the next record
    starts. Else the Content-Length does not fit the member: longer than the member, the record
    is unreadable; shorter (more than line ends left after its block), the record is kept as its
    Content-Length gives it; both are counted. Returns ``(result, -1)`` then.
    """
    if size < end:
        sc.bad_length()  # the Content-Length overruns the member
        return None, -1
    if size - end > 8 and (sc.arc or data.find(b"WARC/", end, end + 64) >= 0):
        return result, record_tail(data, end)
    if data[end:size].strip(b"\r\n"):
        sc.stats[BAD_LENGTH] += 1  # bytes left over: the Content-Length is too short
    return result, -1


def _switch_to_stream(sc: _Scanner, pieces: Iterator[bytes], ubase: int) -> Iterator[WarcRecord]:
    """Go on as one decompressed stream: ``pieces`` at offset ``ubase`` of the decompressed file."""
    sc.stats["non_multimember_gzip"] += 1
    yield from _scan_stream(sc, ByteWindow(pieces, ubase))


_SKIP, _STOP = (-1, 0), (-2, 0)


def _scan_stream(sc: _Scanner, window: ByteWindow) -> Iterator[WarcRecord]:
    """Records one after another in a decompressed (or never compressed) byte stream.

    Offsets are positions in that stream, lengths run from a record's first byte to the end
    of its block. Bytes between records other than blank lines are skipped up to the next line
    starting with ``WARC/`` (counted ``garbage_between_records``). A record whose block runs into
    the next record's header (a Content-Length too long) is unreadable: the scan goes on at that
    header. (A block longer than the payload cap is read past unsearched: a wrong Content-Length
    that large is found only when the file ends inside it.)
    """
    stats = sc.stats
    while window.skip_blank():
        offset = window.offset
        head_len, clen = _stream_head(sc, window)
        if head_len < 0:
            if head_len == _STOP[0]:
                return
            continue
        total = head_len + clen
        keep = min(total, head_len + sc.cap + MAX_HEADER_BYTES)
        complete = window.fill(keep)
        rec = window.take(keep)
        if not complete or (keep == total and not (sc.arc or _at_record_or_end(window))):
            at = _next_warc_head(rec, head_len, window)
            if at > 0:  # the Content-Length runs into the next record: go on there
                sc.records += 1
                sc.bad_length()
                window.unread(rec[at:])
                continue
        if complete and keep < total:
            complete = window.skip(total - keep) == total - keep
        if not complete:  # the stream ends inside this record
            stats["truncated_files"] += 1
            sc.record(rec, offset, total)
            return
        _end, result = sc.record(rec, offset, total, complete=keep == total)
        if result is not None:
            yield result


def _stream_head(sc: _Scanner, window: ByteWindow) -> tuple[int, int]:
    """``(header length, block length)`` of the record at the window's position, or ``_SKIP``
    (bytes skipped and counted: look again) or ``_STOP`` (nothing more to read)."""
    stats = sc.stats
    if window.startswith(b"WARC/"):
        h = window.find(b"\r\n\r\n", MAX_HEADER_BYTES)
        h2 = window.find(b"\n\n", h + 2 if h >= 0 else MAX_HEADER_BYTES)
        if h2 >= 0 and (h < 0 or h2 < h):
            head_len = h2 + 2
        elif h >= 0:
            head_len = h + 4
        else:
            sc.records += 1
            stats["truncated_files" if window.eof else "unreadable_records"] += 1
            if window.eof:
                return _STOP
            window.skip(5)
            return _SKIP
        fields = header_fields(window.buf[window.pos:window.pos + head_len])
        clen = parse_length(fields.get(b"content-length"))
        if clen < 0:
            sc.records += 1
            sc.bad_length()
            window.skip(5)
            return _SKIP
        return head_len, clen
    if sc.arc:  # ARC: one header line whose last field is the block length
        eol = window.find(b"\n", 64 << 10)
        clen = arc_header(window.buf[window.pos:window.pos + eol + 1])[2] if eol >= 0 else -1
        if clen < 0:
            sc.records += 1
            stats["unreadable_records"] += 1
            if eol < 0:
                return _STOP
            window.skip(eol + 1)
            return _SKIP
        return eol + 1, clen
    stats["garbage_between_records"] += 1
    at = window.find(b"\nWARC/", 1 << 62)
    if at < 0:
        return _STOP
    window.skip(at + 1)
    return _SKIP


def _at_record_or_end(window: ByteWindow) -> bool:
    """Whether only blank lines stand between the window's position and a WARC header or the end."""
    return not window.skip_blank() or window.startswith(b"WARC/")


def _next_warc_head(rec: bytes, start: int, window: ByteWindow) -> int:
    """Index of the first WARC header that starts in ``rec`` after ``start`` (and may go on in the
    window's unread bytes) and follows a blank line, where a record's block ends; -1 if none."""
    i = rec.find(b"\nWARC/", start)
    while i >= 0:
        if rec[i - 1] == 10 or rec[i - 2:i] == b"\n\r":
            head = rec[i + 1:i + 1 + MAX_HEADER_BYTES]
            if len(head) < MAX_HEADER_BYTES:
                head += window.peek(MAX_HEADER_BYTES - len(head))
            if starts_warc_head(head, 0):
                return i + 1
        i = rec.find(b"\nWARC/", i + 1)
    return -1


# --------------------------------------------------------------------------------------------
# Entry point


def scan_warc(stream: BinaryIO, stats: collections.Counter, needle: bytes = b"FAQPage",
              max_payload_bytes: int = 5_000_000, html_only: bool = True) -> Iterator[WarcRecord]:
    """Stream the WARC (or ARC) file ``stream`` and yield its FAQPage candidates.

    ``stream`` is any binary file object with ``read(n)`` (a local file, an HTTP response, an
    S3 body); it is read forward once, in blocks of ``stream_io.READ_SIZE``. Counters are added
    to ``stats`` (see the module docstring for their names). Candidates are HTTP 200 responses
    with an HTML Content-Type (any type when ``html_only`` is false) whose payload contains
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
    chunk = read_start(stream)
    if not chunk:
        stats["empty_files"] += 1
        return
    start = peek_gzip(chunk) if chunk.startswith(GZIP_MAGIC) else chunk.lstrip(b"\r\n")
    if start.startswith(b"filedesc:"):
        sc.arc = True
        stats["arc_files"] += 1
    elif not start.startswith(b"WARC/"):
        stats["unsupported_format"] += 1
        return
    if chunk.startswith(GZIP_MAGIC):
        yield from _scan_gzip(sc, stream, chunk)
        return

    def pieces():
        yield chunk
        while True:
            more = stream.read(stream_io.READ_SIZE)
            if not more:
                return
            yield more
    yield from _scan_stream(sc, ByteWindow(pieces(), 0))
