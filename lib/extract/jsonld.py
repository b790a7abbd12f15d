"""Reading the body of a ``<script type="application/ld+json">`` block, leniently.

Real pages ship JSON-LD that strict JSON parsers reject. :func:`load_json_documents` tries,
in order, and stops at the first that works:

1. ``orjson.loads`` (fast, strict);
2. ``json.loads(strict=False)``: raw control characters (tabs, newlines) inside strings;
3. a repair pass that respects string literals: drops ``//`` and ``/* */`` comments,
   trailing commas before ``]``/``}``, invalid backslash escapes (``\\'``), then reads one or
   more JSON documents written one after another (``{...}{...}``, ``{...};{...}``);
4. the same on the HTML-unescaped body (a script body written as ``{&quot;@context&quot;...``).

Wrappers around the body are removed before any of this: ``<!-- -->``, ``<![CDATA[ ]]>``
(also commented out as ``//<![CDATA[``), and a leading BOM.
"""
from __future__ import annotations

import html
import json
import re
from typing import Any

import orjson

__all__ = ["load_json_documents", "strip_script_wrappers", "repair_json"]

_LEADING_WRAPPER = re.compile(r"^\s*(?:(?://\s*)?<!\[CDATA\[|<!--)\s*")
_TRAILING_WRAPPER = re.compile(r"\s*(?:(?://\s*)?\]\]>|-->)\s*$")
# A JSON string literal (escapes included), or a comment, matched from left to right so that
# "//" inside a URL string is never taken for a comment.
_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n\r]*|/\*.*?(?:\*/|$)', re.S)
_STRING_OR_TRAILING_COMMA = re.compile(r'"(?:[^"\\]|\\.)*"|,(?=\s*[\]}])', re.S)
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.S)
_VALID_ESCAPES = frozenset('"\\/bfnrt')
_SEPARATORS = " \t\r\n,;\ufeff"


def strip_script_wrappers(body: str) -> str:
    """Remove a BOM, HTML comment and CDATA wrappers around a script body."""
    body = body.strip().lstrip("\ufeff")
    if body[:1] in ("<", "/"):
        body = _LEADING_WRAPPER.sub("", body, count=1)
    if body[-1:] == ">":
        body = _TRAILING_WRAPPER.sub("", body, count=1)
    return body.strip()


def _fix_escape(match: re.Match) -> str:
    """Keep a valid JSON escape; drop the backslash of an invalid one (``\\'`` -> ``'``)."""
    seq = match.group(1)
    return match.group(0) if len(seq) == 5 or seq in _VALID_ESCAPES else seq


def _keep_string(match: re.Match) -> str:
    token = match.group(0)
    if token[0] == '"':
        return _ESCAPE.sub(_fix_escape, token) if "\\" in token else token
    return ""


def repair_json(body: str) -> str:
    """Drop comments, trailing commas and invalid escapes, leaving string literals intact."""
    if "/" in body:
        body = _STRING_OR_COMMENT.sub(_keep_string, body)
    return _STRING_OR_TRAILING_COMMA.sub(_keep_string, body)


def _read_concatenated(body: str) -> list[Any]:
    """Read JSON documents written one after another; stop at the first unreadable one."""
    decoder = json.JSONDecoder(strict=False)
    docs: list[Any] = []
    pos, end = 0, len(body)
    while True:
        while pos < end and body[pos] in _SEPARATORS:
            pos += 1
        if pos >= end:
            break
        try:
            doc, pos = decoder.raw_decode(body, pos)
        except (ValueError, RecursionError):
            break
        docs.append(doc)
    return docs


def load_json_documents(body: str) -> list[Any] | None:
    """Parse a JSON-LD script body into its top-level JSON values.

    Returns a list (empty for an empty body, several items for concatenated documents), or
    ``None`` when nothing at all could be read even leniently.
    """
    body = strip_script_wrappers(body)
    if not body:
        return []
    try:
        return [orjson.loads(body)]
    except orjson.JSONDecodeError:
        pass
    try:
        return [json.loads(body, strict=False)]
    except ValueError:
        pass
    except RecursionError:
        return None  # nested deeper than any real JSON-LD: not worth reading
    docs = _read_concatenated(repair_json(body))
    if docs:
        return docs
    if "&quot;" in body or "&#34;" in body:
        docs = _read_concatenated(repair_json(html.unescape(body)))
        if docs:
            return docs
    return None
