"""WARC and ARC record headers: where a header ends, its fields, the record's length and date.

Every function here reads bytes that hold one record's start and returns positions and values;
none reads a stream (that is ``lib.extract.stream_io``) or judges a record (``lib.extract.warc``).

* :func:`crlf_head` reads a header as crawlers write it (CRLF line ends, ``Content-Length:`` and
  ``WARC-Type:`` spelled so) with three ``bytes.find`` calls: the scan's fast path.
* :func:`head_end` and :func:`header_fields` are the tolerant parser (bare LF line ends, any
  letter case, folded lines) for every other header.
* :func:`parse_length` is the one place a Content-Length (or an ARC length field) is read.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["MAX_HEADER_BYTES", "parse_length", "crlf_head", "crlf_field", "head_end", "header_fields",
           "arc_header", "record_size", "record_tail", "starts_warc_head", "normalise_warc_date"]

#: Most bytes a WARC or HTTP header block may take (beyond it the record is unreadable).
MAX_HEADER_BYTES = 1 << 20

_NO_HEAD = (-1, -1, -1)


def parse_length(value: bytes | None) -> int:
    """A Content-Length (or the length field of an ARC header) as a number of bytes; -1 when it
    is missing, not a whole number, or negative."""
    try:
        length = int(value)
    except (TypeError, ValueError):
        return -1
    return length if length >= 0 else -1


def crlf_head(rec: bytes) -> tuple[int, int, int]:
    """The header of the WARC record at the start of ``rec``, when it is written as crawlers
    write it: CRLF line ends and the field names ``Content-Length`` and ``WARC-Type`` in this
    letter case.

    Returns ``(hend, length, type_at)``: the index of the blank line (CRLF CRLF) that ends the
    header, the Content-Length, and the index of the WARC-Type value (-1 without that field);
    ``(-1, -1, -1)`` when the header is not of this form or its Content-Length is not valid (the
    tolerant parser then judges it).
    """
    hend = rec.find(b"\r\n\r\n")
    if hend < 0:
        return _NO_HEAD
    i = rec.find(b"\r\nContent-Length:", 0, hend)
    if i < 0:
        return _NO_HEAD
    if rec.startswith(b"\r\nWARC-Type: ", 8):  # right after 'WARC/1.0', where crawlers write it
        t = 21
    elif rec[rec.find(b"\n") - 1] != 13:  # the first line does not end in CRLF
        return _NO_HEAD
    else:
        t = rec.find(b"\r\nWARC-Type:", 0, hend) + 12
        if t == 11:
            t = -1
        elif rec[t] == 32:
            t += 1
    length = parse_length(rec[i + 17:rec.find(b"\r\n", i + 17)])
    if length < 0:
        return _NO_HEAD
    return hend, length, t


def crlf_field(rec: bytes, hend: int, name: bytes) -> bytes | None:
    """The value of the field ``name`` (e.g. ``b"WARC-Date:"``) in a header read by
    :func:`crlf_head` that ends at ``hend``; None without that field."""
    i = rec.find(b"\r\n" + name, 0, hend)
    if i < 0:
        return None
    i += 2 + len(name)
    return rec[i:rec.find(b"\r\n", i)]


def head_end(data: bytes, start: int, end: int) -> tuple[int, int]:
    """(end of the header block, start of the body) for a header starting at ``start``:
    the first blank line, CRLF or bare LF; (-1, -1) if there is none before ``end``."""
    crlf = data.find(b"\r\n\r\n", start, end)
    lf = data.find(b"\n\n", start, crlf + 2 if crlf >= 0 else end)
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 4
    return -1, -1


def header_fields(block: bytes) -> dict[bytes, bytes]:
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


def arc_header(rec: bytes) -> tuple[int, list[bytes], int]:
    """The header line of the ARC record at the start of ``rec``: ``(index of its line end, its
    fields, the block length)``; the length is -1 when the line is not an ARC header (five or more
    fields, the last one the length) or has no end."""
    eol = rec.find(b"\n")
    fields = rec[:eol].split() if eol >= 0 else []
    if len(fields) < 5:
        return eol, fields, -1
    return eol, fields, parse_length(fields[-1])


def record_size(head: bytes, arc: bool = False) -> int:
    """Size of the record at the start of ``head``, with the line ends that close it, or -1 if
    its header is not all in ``head`` (or in its first :data:`MAX_HEADER_BYTES`) or unreadable."""
    head = head[:MAX_HEADER_BYTES]
    if head.startswith(b"WARC/"):
        hend, length, _ = crlf_head(head)
        if hend >= 0:
            return hend + 8 + length
    elif arc:
        eol, _, length = arc_header(head)
        return eol + 1 + length if length >= 0 else -1
    hend, bstart = head_end(head, 0, len(head))
    if hend < 0:
        return -1
    length = parse_length(header_fields(head[:hend]).get(b"content-length"))
    return bstart + length if length >= 0 else -1


_VERSION_LINE = re.compile(rb"WARC/\d+\.\d+\r?\n")


def starts_warc_head(data: bytes, at: int) -> bool:
    """Whether a WARC record header starts at ``data[at]``: a version line (``WARC/1.0``) and a
    header block, all within :data:`MAX_HEADER_BYTES`, with a valid Content-Length."""
    return _VERSION_LINE.match(data, at) is not None and record_size(data[at:at + MAX_HEADER_BYTES]) >= 0


def record_tail(data: bytes, end: int) -> int:
    """Index past the line ends (at most four bytes) that close a block ending at ``end``."""
    stop = min(end + 4, len(data))
    while end < stop and data[end] in b"\r\n":
        end += 1
    return end


# --------------------------------------------------------------------------------------------
# Dates

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
