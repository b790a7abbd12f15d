"""Filtering, cleaning and identity of extracted question/answer pairs (WebFAQ 2.0 semantics).

The steps, in the order the WebFAQ 2.0 extraction applies them to one FAQ item:

1. **Filters** (:func:`filter_reason`), on the raw strings with surrounding whitespace stripped:
   ``empty`` (question or answer empty), ``answer_has_question_mark`` (an ASCII ``?`` anywhere in
   the answer), ``answer_too_many_newlines`` (10 or more ``\\n``), ``question_too_short`` (fewer
   than 10 code points), ``answer_too_short`` (fewer than 30 code points). The first failing
   filter is the reason; there is no upper length bound.
2. **Cleaning** (:func:`clean_question`, :func:`clean_answer`): a leading ``Q:``/``Question:``
   (``A:``/``Answer:``) prefix, then a numbering prefix such as ``1.`` or ``2.3``, then one pair
   of matching surrounding quotation marks, then every emoji; the result is stripped.
3. **Identity** (:func:`qa_id`): ``md5(question + " " + answer)`` of the cleaned strings with
   newlines as spaces, hex-encoded.

Filters follow datatrove's convention: a filter answers "keep" (``None``) or the reason it drops.
:func:`clean_pair` runs both steps and adds one reason of our own, ``empty_after_cleaning``.

How this relates to the authors' code (padas-lab-de/webfaq, branch ``v2``,
``src/webfaq/cli/extract.py``, function ``process_parquet_file``):

* Same filters, same order, same thresholds; like the authors, both strings are ``str.strip()``-ed
  before the filters run, so surrounding whitespace neither counts towards the lengths nor adds
  newlines.
* Same prefix patterns (case-sensitive, at least one whitespace character after the colon:
  ``"Q:What"`` is kept as is), and the same numbering pattern (digits, a dot, optional digits,
  then at least one whitespace character: ``"1.What"`` and ``"1) What"`` are kept as is; a
  question that *starts* with a decimal number such as ``"1.5 million ..."`` loses it, as theirs does).
* Quotes: the same six pairs, tried in the same order: ``"…"``, ``“…”``, ``‘…’``, ``‟…”``,
  ``„…”``, ``„…“``. **Departure:** the authors test the pairs one after another, so a string quoted
  twice with different marks (``"“…”"``) loses both pairs; WEBFAQ_FACTS.md says *one* pair, so we
  remove only the first pair that matches. We also require at least two characters, so a lone
  ``"`` is not a pair (the authors would turn it into an empty string).
* Emoji: the ``emoji`` package's ``replace_emoji`` as the authors use it (it also removes ``©``,
  ``®``, ``™`` and lone skin-tone modifiers / variation selectors, which the emoji table lists).
  We call it only when the text holds a character that occurs in some emoji of that table, which
  gives the same output far faster (the package's tokenizer costs about 0.3 ms per answer).
* **Addition:** the authors never re-check a pair after cleaning; a question such as
  ``"Q:        😀😀"`` passes the filters and cleans to ``""``. We drop such pairs with the reason
  ``empty_after_cleaning``.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit

import emoji

__all__ = [
    "DROP_REASONS",
    "MIN_QUESTION_CHARS",
    "MIN_ANSWER_CHARS",
    "MAX_ANSWER_NEWLINES",
    "filter_reason",
    "clean_question",
    "clean_answer",
    "clean_pair",
    "qa_id",
    "question_key",
    "origin_of",
]

#: Every reason :func:`clean_pair` may give for dropping a pair, in the order they are checked.
DROP_REASONS = (
    "empty",
    "answer_has_question_mark",
    "answer_too_many_newlines",
    "question_too_short",
    "answer_too_short",
    "empty_after_cleaning",
)

#: A question needs at least this many code points (after stripping surrounding whitespace).
MIN_QUESTION_CHARS = 10
#: An answer needs at least this many code points (after stripping surrounding whitespace).
MIN_ANSWER_CHARS = 30
#: An answer with this many newline characters or more is dropped (list-like or boilerplate text).
MAX_ANSWER_NEWLINES = 10

_QUESTION_PREFIXES = (re.compile(r"^Q:\s+"), re.compile(r"^Question:\s+"))
_ANSWER_PREFIXES = (re.compile(r"^A:\s+"), re.compile(r"^Answer:\s+"))
# "1. ", "12. ", "2.3 ", "2.10\t": digits, a dot, optional digits, then whitespace.
_NUMBERING = re.compile(r"^\d+\.\d*\s+")

#: (opening, closing) quotation marks, tried in this order; the first that encloses the text is removed.
QUOTE_PAIRS = (
    ('"', '"'),            # straight double quotes
    ("\u201c", "\u201d"),  # “ ” curly double quotes
    ("\u2018", "\u2019"),  # ‘ ’ curly single quotes
    ("\u201f", "\u201d"),  # ‟ ” double high-reversed-9 ... right double quote
    ("\u201e", "\u201d"),  # „ ” double low-9 ... right double quote
    ("\u201e", "\u201c"),  # „ “ double low-9 ... left double quote (German style)
)

# Every non-ASCII code point that occurs in some emoji sequence of the emoji package's table.
# No emoji in that table is pure ASCII (keycaps need U+20E3), so a text without any of these
# code points has nothing for ``emoji.replace_emoji`` to remove.
# (A set test is used, not a regex character class: ``re`` scans such a large class slowly.)
_EMOJI_CODEPOINTS = frozenset(ch for seq in emoji.EMOJI_DATA for ch in seq if ord(ch) >= 0x80)


def filter_reason(question: str | None, answer: str | None) -> str | None:
    """Return the first WebFAQ 2.0 filter that drops this raw pair, or ``None`` to keep it.

    Both strings are stripped of surrounding whitespace first (``None`` counts as empty).
    Lengths are counted in Unicode code points (``len`` of a ``str``); newlines are ``\\n`` only.
    """
    question = (question or "").strip()
    answer = (answer or "").strip()
    if not question or not answer:
        return "empty"
    if "?" in answer:
        return "answer_has_question_mark"
    if answer.count("\n") >= MAX_ANSWER_NEWLINES:
        return "answer_too_many_newlines"
    if len(question) < MIN_QUESTION_CHARS:
        return "question_too_short"
    if len(answer) < MIN_ANSWER_CHARS:
        return "answer_too_short"
    return None


def _strip_quotes(text: str) -> str:
    """Remove the first pair of :data:`QUOTE_PAIRS` that encloses ``text`` (one pair only)."""
    if len(text) >= 2:
        for opening, closing in QUOTE_PAIRS:
            if text[0] == opening and text[-1] == closing:
                return text[1:-1]
    return text


def remove_emoji(text: str) -> str:
    """Remove every emoji (per the ``emoji`` package's table) from ``text``; nothing else changes."""
    if text.isascii() or _EMOJI_CODEPOINTS.isdisjoint(text):
        return text
    return emoji.replace_emoji(text, "")


def _clean(text: str, prefixes: tuple[re.Pattern, ...]) -> str:
    text = text.strip()
    for prefix in prefixes:
        text = prefix.sub("", text, count=1)
    text = _NUMBERING.sub("", text, count=1)
    text = _strip_quotes(text)
    return remove_emoji(text).strip()


def clean_question(text: str) -> str:
    """Clean a question: strip a ``Q:`` then a ``Question:`` prefix, a numbering prefix, one pair of
    surrounding quotes, and all emoji, in that order; the result is whitespace-stripped."""
    return _clean(text, _QUESTION_PREFIXES)


def clean_answer(text: str) -> str:
    """Clean an answer: strip an ``A:`` then an ``Answer:`` prefix, a numbering prefix, one pair of
    surrounding quotes, and all emoji, in that order; the result is whitespace-stripped."""
    return _clean(text, _ANSWER_PREFIXES)


def clean_pair(question: str | None, answer: str | None) -> tuple[str, str] | str:
    """Filter, then clean, one raw pair.

    Returns the cleaned ``(question, answer)``, or a drop reason from :data:`DROP_REASONS`
    (a ``str``: test with ``isinstance(result, str)``).
    """
    reason = filter_reason(question, answer)
    if reason is not None:
        return reason
    question = clean_question(question)
    answer = clean_answer(answer)
    if not question or not answer:
        return "empty_after_cleaning"
    return question, answer


def qa_id(question: str, answer: str) -> str:
    """The pair's id: hex md5 of ``question + " " + answer`` (UTF-8), newlines replaced by spaces,
    surrounding whitespace stripped. Pass the *cleaned* strings."""
    text = (question + " " + answer).replace("\n", " ").strip()
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def question_key(question: str) -> str:
    """Normalised form of a question, for flagging questions repeated within one origin.

    Two questions are "the same" when they differ only by letter case, whitespace, or
    punctuation at the end: the text is case-folded (``str.casefold``, so ``ß`` equals ``ss``),
    every run of whitespace becomes one space, and trailing Unicode punctuation (categories
    ``P*``: ``? ？ ؟ . ! …``) and whitespace are removed. Leading and inner punctuation is kept.
    """
    text = " ".join(question.casefold().split())
    end = len(text)
    while end and (text[end - 1] == " " or unicodedata.category(text[end - 1]).startswith("P")):
        end -= 1
    return text[:end]


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """The origin ``scheme://host[:port]`` of a URL, WebFAQ's per-domain key.

    Scheme and host are lower-cased; userinfo, path, query and fragment are dropped; a trailing
    dot of the host is removed; the port is kept only when it is not the scheme's default
    (80 for http, 443 for https) and is a valid number. IPv6 hosts keep their brackets.
    Returns ``""`` for a URL without a host (e.g. no scheme).
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    host = parts.hostname
    if not parts.scheme or not host:
        return ""
    scheme = parts.scheme.lower()
    host = host.rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"
