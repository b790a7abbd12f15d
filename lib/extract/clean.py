"""Filtering, cleaning and identity of extracted question/answer pairs (WebFAQ 2.0 semantics).

The steps, in the order the WebFAQ 2.0 extraction applies them to one FAQ item:

0. **Invisible characters** (:func:`normalize_text`, our addition, before anything else): control
   characters (C0, C1, DEL; ``\n`` is kept in questions and answers), format characters
   (zero-width space, word joiner, soft hyphen, BOM, left-to-right/right-to-left marks, embeddings,
   overrides and isolates), lone surrogates (from JSON escapes such as ``\ud800``) and Unicode
   noncharacters are removed; whitespace controls (tab, CR, VT, FF, NEL, U+2028/U+2029) become a
   space or a newline, and the whitespace is collapsed again. A zero-width joiner or non-joiner
   between two letters is kept: Persian, Indic and other scripts need it to spell words. Users
   train tokenizers and models on this text, and none of these characters is visible on the page.
   Counted in ``text_control_chars``, ``text_invisible_chars`` (characters) and
   ``text_fields_normalised`` (strings changed). The extraction applies the same step to every
   stored string (title, description, URLs).
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
:func:`clean_pair` runs every step and adds two reasons of our own: ``replacement_character``
(after the filters: the question or answer holds U+FFFD, a character the page's bytes did not
encode validly, e.g. a Latin-1 byte in a UTF-8 page; such a pair is **dropped**, not kept with a
hole in its text) and ``empty_after_cleaning``.

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

import collections
import hashlib
import re
import unicodedata
from urllib.parse import urlsplit

import emoji

from lib.extract.html_text import normalize_whitespace

__all__ = [
    "DROP_REASONS",
    "MIN_QUESTION_CHARS",
    "MIN_ANSWER_CHARS",
    "MAX_ANSWER_NEWLINES",
    "filter_reason",
    "normalize_text",
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
    "replacement_character",
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


# ---- invisible characters ----------------------------------------------------------------

#: Format characters that are visible marks (prepended concatenation marks such as the Arabic
#: number sign): kept although their category is Cf.
_VISIBLE_FORMAT = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2"
                            "\U000110bd\U000110cd")
_JOINERS = frozenset("\u200c\u200d")
#: Control characters that are whitespace: they become a space (CR, NEL and the Unicode line and
#: paragraph separators a newline where newlines are kept).
_WHITESPACE_CONTROLS = {"\t": " ", "\x0b": " ", "\x0c": " ", "\x1c": " ", "\x1d": " ", "\x1e": " ",
                        "\x1f": " ", "\r": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n"}


def _format_characters() -> str:
    planes = (*range(0, 0x20000), *range(0xE0000, 0xE1000))  # no Cf code point lies elsewhere
    return "".join(chr(c) for c in planes
                   if unicodedata.category(chr(c)) == "Cf" and chr(c) not in _VISIBLE_FORMAT)


_FORMAT = frozenset(_format_characters())
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))
_INVISIBLE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff" + _NONCHARACTERS
    + "".join(re.escape(ch) for ch in sorted(_FORMAT)) + "]")


def normalize_text(text: str | None, newlines: bool = True,
                   stats: collections.Counter | None = None) -> str | None:
    """``text`` without control and invisible characters (step 0 of the module docstring).

    ``newlines``: keep ``\n`` (questions, answers) or turn every line break into a space
    (titles, descriptions, URLs). A text without such characters is returned as it is. When
    ``stats`` is given, ``text_control_chars``, ``text_invisible_chars`` and
    ``text_fields_normalised`` are incremented.
    """
    if not text:
        return text
    # Every character _INVISIBLE matches is one ``str.isprintable`` refuses (Unicode's Other and
    # Separator categories): most texts are printable as a whole, and that check runs ~70x faster
    # than the search over _INVISIBLE's large character class. The others (line breaks, no-break
    # spaces) take the search.
    if text.isprintable():
        return text
    found = _INVISIBLE.search(text)
    if found is None and (newlines or "\n" not in text):
        return text
    controls = invisible = 0
    out: list[str] = []
    last = 0
    for match in _INVISIBLE.finditer(text, found.start() if found else len(text)):
        ch = match.group()
        i = match.start()
        out.append(text[last:i])
        last = i + 1
        if ch in _JOINERS and 0 < i < len(text) - 1 and \
                unicodedata.category(text[i - 1])[0] in "LM" and unicodedata.category(text[i + 1])[0] in "LM":
            out.append(ch)  # a joiner inside a word: part of the spelling
            continue
        if ch in _FORMAT:
            invisible += 1
            continue
        controls += 1
        if ch == "\r" and text.startswith("\n", i + 1):
            continue  # CRLF: the LF stays
        replacement = _WHITESPACE_CONTROLS.get(ch)
        if replacement:
            out.append(replacement)
    out.append(text[last:])
    result = "".join(out)
    if newlines:
        result = normalize_whitespace(result)
    else:
        controls += result.count("\n")
        result = " ".join(result.split())
    if stats is not None and result != text:
        stats["text_control_chars"] += controls
        stats["text_invisible_chars"] += invisible
        stats["text_fields_normalised"] += 1
    return result


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


def clean_pair(question: str | None, answer: str | None,
               stats: collections.Counter | None = None) -> tuple[str, str] | str:
    """Remove invisible characters from, filter, then clean, one raw pair.

    Returns the cleaned ``(question, answer)``, or a drop reason from :data:`DROP_REASONS`
    (a ``str``: test with ``isinstance(result, str)``). ``stats`` receives the counters of
    :func:`normalize_text`.
    """
    question = normalize_text(question, True, stats)
    answer = normalize_text(answer, True, stats)
    reason = filter_reason(question, answer)
    if reason is not None:
        return reason
    if "\ufffd" in question or "\ufffd" in answer:
        return "replacement_character"
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
