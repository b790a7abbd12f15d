"""Schema.org FAQPage extraction from one HTML page: JSON-LD, Microdata and RDFa. No Spark.

Entry points: :func:`extract_faq_page` (one page -> :class:`FaqPage`) and
:func:`decode_html` (payload bytes -> text).

How a page is read
------------------
The page is parsed once by lexbor (selectolax), a browser-grade HTML5 parser: unclosed
tags, stray end tags and ``<?php ?>`` debris end up where a browser puts them, so questions a
browser shows stay inside their FAQPage scope (lxml, which extruct uses, closes scopes early on
such pages). Each syntax is turned into the same small graph (entities with schema.org types
and the five properties the FAQ rules need) and one set of rules reads pairs from it:

* An entity typed ``FAQPage`` (``http``/``https`` schema.org IRIs, ``schema:`` CURIEs, bare
  names, ``@type`` lists) owns the ``Question`` entities listed in its ``mainEntity``
  (objects, lists, nested lists, or ``@id``/``itemid``/``resource`` references resolved in the
  page's graph of that syntax).
* The question is the first non-empty ``name`` of the Question, else its first non-empty
  ``text`` (real pages put it in either; giromatch has ``name`` plus an empty ``text``).
* The answer is the first ``acceptedAnswer`` that resolves to an ``Answer`` with a ``text``
  (else ``name``) value. ``suggestedAnswer`` is used only when the Question has no
  ``acceptedAnswer`` at all (a FAQ author who wrote only suggestedAnswer still meant it as the
  answer; with an acceptedAnswer present, suggested ones are other people's answers).
* A pair exists when the Answer has such a value; question and answer may still render to an
  empty string: dropping those is the cleaning module's job (and its counters).
* A FAQPage can sit anywhere: top level, in ``@graph``, under ``subjectOf`` or any other
  property, nested in other Microdata items. A ``QAPage`` or a lone ``Question`` is *not* a
  FAQ page: it yields no pair and is counted as ``qapage_or_question_only``.

Pairs are rendered to plain text (:mod:`lib.extract.html_text`), listed JSON-LD first, then Microdata,
then RDFa, each in document order, and the same (question, answer) found twice on a page, in
one syntax or in several, is kept once.

Deliberate leniencies, each tested: bare RDFa terms with no ``vocab`` in scope are read as
schema.org; a plain ``<a href>`` around RDFa properties does not move their subject (RDFa Core
does, and loses accordion questions); a Microdata ``name``/``text`` whose value is a URL
(``<a itemprop="name" href>``) is not text.

Speed: the Microdata walk runs only when the page has an ``itemtype`` naming FAQPage or
Question, the RDFa walk only when a ``typeof`` does; only JSON-LD blocks that mention
``FAQPage``/``Question``/``Answer`` are turned into graphs; text is rendered only for the
``name``/``text`` values of the Questions and Answers actually used.
"""
from __future__ import annotations

import codecs
import collections
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import urljoin as _urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from lib.extract.html_text import html_to_text, node_text, unescape_entities
from lib.extract.jsonld import load_json_documents

__all__ = ["FaqPage", "decode_html", "extract_faq_page", "faq_pairs_from_json", "faq_pairs_from_statements",
           "statement_property", "STATS_KEYS", "STATEMENT_STATS_KEYS", "SYNTAXES"]

SYNTAXES = ("json-ld", "microdata", "rdfa")
#: Counter keys :func:`extract_faq_page` increments.
STATS_KEYS = (
    "pages_parsed",
    "pages_with_faq",
    "pairs_jsonld",
    "pairs_microdata",
    "pairs_rdfa",
    "pairs_duplicate_across_syntaxes",
    "invalid_jsonld",
    "truncated_html",
    "qapage_or_question_only",
)
_STATS_PAIRS_KEY = {"json-ld": "pairs_jsonld", "microdata": "pairs_microdata", "rdfa": "pairs_rdfa"}


@dataclass
class FaqPage:
    """What one HTML page holds for the FAQ dataset (pairs not yet cleaned or filtered)."""

    url: str
    title: str | None = None
    description: str | None = None
    hreflang: list[tuple[str, str]] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    syntaxes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SYNTAXES, 0))


def _join_url(base: str, url: str) -> str:
    """``urllib.parse.urljoin``, skipped for URLs that are already absolute and plain (most
    hreflang and ``@id`` values: urljoin costs ~10 us each, a big share of a page)."""
    if url.startswith(("https://", "http://")) and "/." not in url and " " not in url:
        return url
    if not base:
        return url
    try:
        return _urljoin(base, url)
    except ValueError:  # e.g. "Invalid IPv6 URL" from a broken base or href
        return url


# --------------------------------------------------------------------------------------------
# Charset decoding
# --------------------------------------------------------------------------------------------

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^\s;"',]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_META_PRESCAN_BYTES = 8192
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels browsers read as a wider encoding (WHATWG Encoding Standard).
_LABEL_ALIASES = {
    "latin_1": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "iso8859_9": "cp1254",
    "tis_620": "cp874",
    "iso8859_11": "cp874",
}


def _charset_label(label: str | None) -> str | None:
    """Python codec name for a declared charset label, browser aliases applied; None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'").lower()).name
    except LookupError:
        return None
    name = name.replace("-", "_")
    return _LABEL_ALIASES.get(name, name)


def _declared_charset(payload: bytes, content_type: str | None) -> str | None:
    """Charset from the HTTP Content-Type header, else from ``<meta>`` in the first 8 KiB."""
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match:
            name = _charset_label(match.group(1))
            if name:
                return name
    match = _META_CHARSET.search(payload, 0, _META_PRESCAN_BYTES)
    if match:
        return _charset_label(match.group(1).decode("ascii", "ignore"))
    return None


def _decode(payload: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode a payload; returns (text, codec used). See :func:`decode_html` for the order."""
    for bom, codec in _BOMS:
        if payload.startswith(bom):
            return payload[len(bom):].decode(codec, "replace"), codec
    declared = _declared_charset(payload, content_type)
    if declared and declared.startswith(("utf_16", "utf_32")):
        if b"\x00" not in payload[:512]:
            declared = None  # ASCII-compatible bytes: the UTF-16/32 label is wrong
    if declared and declared.startswith(("utf_16", "utf_32")):
        try:
            return payload.decode(declared), declared
        except UnicodeDecodeError:
            declared = None
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        utf8_error = error
    if declared and declared != "utf_8":
        try:
            return payload.decode(declared), declared
        except UnicodeDecodeError:
            if declared == "cp1252":  # a latin-1 label with one of cp1252's five holes
                return payload.decode("latin-1"), "latin-1"
    # Valid UTF-8 cut inside its last character (a truncated record): drop the stub.
    if utf8_error.start >= len(payload) - 3 and utf8_error.reason == "unexpected end of data":
        try:
            return payload[: utf8_error.start].decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    if declared in (None, "utf_8"):
        # UTF-8 with a few stray bytes: keep UTF-8 (as a browser would, with U+FFFD).
        text = payload.decode("utf-8", "replace")
        bad = text.count("\ufffd")
        if bad <= max(2, len(text) // 5000):
            return text, "utf-8"
        # Declared UTF-8 and mostly valid: more well-formed multi-byte characters than bad
        # bytes (a Latin-1 page labelled UTF-8 has almost none). A guess would turn every
        # character of the page into mojibake to save the few bad ones.
        if declared == "utf_8" and len(text) - len(text.encode("ascii", "ignore")) >= 2 * bad:
            return text, "utf-8"
    try:
        import charset_normalizer

        best = charset_normalizer.from_bytes(payload).best()
    except Exception:  # the detector is a fallback; never let it fail a page
        best = None
    if best is not None and best.encoding:
        return payload.decode(best.encoding, "replace"), best.encoding
    return payload.decode("utf-8", "replace"), "utf-8"


def decode_html(payload: bytes, content_type: str | None = None) -> str:
    """Decode an HTML payload to text, robust to undeclared and wrongly declared charsets.

    Order: a byte-order mark; a declared UTF-16/32; UTF-8 when the bytes are valid UTF-8
    (this also repairs "header says ISO-8859-1, page is UTF-8"); the charset declared by the
    ``Content-Type`` header, else by ``<meta charset>`` / ``<meta http-equiv>`` (browser label
    aliases: ISO-8859-1 and ASCII read as windows-1252, GB2312 as GB18030, ...); UTF-8 cut
    inside its last character; UTF-8 with a few stray bytes (at most 2, or one per 5,000
    characters), or declared UTF-8 with more valid multi-byte characters than invalid bytes,
    the invalid bytes as U+FFFD (pairs holding one are dropped by the cleaning); then
    charset-normalizer's guess.
    A declared charset that fails to decode falls through to the next step. ``str`` input is
    returned unchanged.
    """
    if isinstance(payload, str):
        return payload
    return _decode(bytes(payload), content_type)[0]


# --------------------------------------------------------------------------------------------
# The graph every syntax is turned into
# --------------------------------------------------------------------------------------------

_SCHEMA_NAMESPACES = (
    "https://schema.org/",
    "http://schema.org/",
    "https://www.schema.org/",
    "http://www.schema.org/",
    "schema:",
)
#: The schema.org properties the FAQ rules read; everything else is not kept.
_FAQ_PROPS = frozenset(("mainEntity", "name", "text", "acceptedAnswer", "suggestedAnswer"))
_LINK_PROPS = frozenset(("mainEntity", "acceptedAnswer", "suggestedAnswer"))


def _select(parser: LexborHTMLParser, selector: str) -> list[LexborNode]:
    """Nodes matching a selector list, in document order, each once. (lexbor returns a node
    once per selector of the list it matches.)"""
    nodes = []
    seen = set()
    for node in parser.css(selector):
        mem_id = node.mem_id
        if mem_id not in seen:
            seen.add(mem_id)
            nodes.append(node)
    return nodes


def _schema_name(term: str) -> str | None:
    """Local name of a schema.org term: ``"FAQPage"``, ``"schema:FAQPage"``,
    ``"https://schema.org/FAQPage"`` -> ``"FAQPage"``; another vocabulary's IRI or CURIE ->
    None. Bare names count as schema.org (every syntax here writes them that way)."""
    if ":" not in term:
        return term or None
    for namespace in _SCHEMA_NAMESPACES:
        if term.startswith(namespace):
            return term[len(namespace):] or None
    return None


class _Entity:
    """One node of a page graph: its schema.org types and the FAQ-relevant properties."""

    __slots__ = ("types", "props")

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.props: dict[str, list[Any]] = {}

    def add(self, name: str, value: Any) -> None:
        values = self.props.get(name)
        if values is None:
            self.props[name] = [value]
        else:
            values.append(value)


class _Ref(str):
    """A reference by identifier (JSON-LD ``{"@id": ...}``, an RDFa resource IRI)."""

    __slots__ = ()


class _DomText:
    """A literal that is a DOM element's text content, rendered only when read."""

    __slots__ = ("node",)

    def __init__(self, node: LexborNode) -> None:
        self.node = node


class _Graph:
    """Entities of one syntax on one page, in document order, and their identifiers."""

    __slots__ = ("entities", "ids", "base")

    def __init__(self, base: str) -> None:
        self.entities: list[_Entity] = []
        self.ids: dict[str, _Entity] = {}
        self.base = base

    def new(self) -> _Entity:
        entity = _Entity()
        self.entities.append(entity)
        return entity

    def register(self, identifier: str, entity: _Entity) -> None:
        self.ids.setdefault(identifier, entity)
        absolute = _join_url(self.base, identifier)
        self.ids.setdefault(absolute, entity)

    def resolve(self, value: Any) -> _Entity | None:
        """The entity a property value stands for: itself, or the one its identifier names."""
        if isinstance(value, _Entity):
            return value
        if isinstance(value, str) and value:
            entity = self.ids.get(value)
            if entity is None and self.base:
                absolute = _join_url(self.base, value)
                if absolute != value:
                    entity = self.ids.get(absolute)
            return entity
        return None


def _literal_text(value: Any) -> str:
    """Plain text of a literal value; entities and references are not text."""
    if isinstance(value, _DomText):
        return node_text(value.node)
    if isinstance(value, _Ref) or isinstance(value, _Entity):
        return ""
    if isinstance(value, str):
        return html_to_text(value)
    return ""


def _has_literal(values: list[Any] | None) -> bool:
    if not values:
        return False
    for value in values:
        if isinstance(value, _DomText) or (
            isinstance(value, str) and not isinstance(value, _Ref) and value.strip()
        ):
            return True
    return False


def _first_text(values: list[Any] | None) -> str:
    """Rendered text of the first value that is not empty once rendered."""
    if values:
        for value in values:
            text = _literal_text(value)
            if text:
                return text
    return ""


def _answer_of(question: _Entity, graph: _Graph) -> str | None:
    """Text of the Question's answer, or None when it has no Answer with text."""
    for prop in ("acceptedAnswer", "suggestedAnswer"):
        values = question.props.get(prop)
        if not values:
            continue
        for value in values:
            answer = graph.resolve(value)
            if answer is None or "Answer" not in answer.types:
                continue
            texts, names = answer.props.get("text"), answer.props.get("name")
            if _has_literal(texts) or _has_literal(names):
                return _first_text(texts) or _first_text(names)
        return None  # it has acceptedAnswer(s), none usable: no fallback to suggestedAnswer
    return None


def _graph_pairs(graph: _Graph) -> tuple[list[tuple[str, str]], int, int]:
    """(pairs, Question entities, Question entities owned by a FAQPage) of one graph."""
    pairs: list[tuple[str, str]] = []
    owned: set[int] = set()
    for page in graph.entities:
        if "FAQPage" not in page.types:
            continue
        for value in page.props.get("mainEntity", ()):
            question = graph.resolve(value)
            if question is None or "Question" not in question.types:
                continue
            owned.add(id(question))
            answer = _answer_of(question, graph)
            if answer is None:
                continue
            text = _first_text(question.props.get("name")) or _first_text(question.props.get("text"))
            pairs.append((text, answer))
    n_questions = sum(1 for entity in graph.entities if "Question" in entity.types)
    return pairs, n_questions, len(owned)


# --------------------------------------------------------------------------------------------
# JSON-LD
# --------------------------------------------------------------------------------------------

_JSONLD_HINTS = ("FAQPage", "Question", "Answer")


def _jsonld_value(node: Any, graph: _Graph, depth: int = 0) -> list[Any]:
    """Turn a JSON value into property values, adding every object met to the graph."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        values: list[Any] = []
        for item in node:
            values.extend(_jsonld_value(item, graph, depth + 1))
        return values
    if isinstance(node, dict):
        return [_jsonld_object(node, graph, depth)] if node else []
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return [str(node)]
    return []


def _jsonld_object(node: dict, graph: _Graph, depth: int) -> Any:
    if depth > 200:
        raise RecursionError("JSON-LD nested too deeply")
    if "@value" in node:
        value = node["@value"]
        return value if isinstance(value, str) else (str(value) if isinstance(value, (int, float)) else None)
    for key in ("@list", "@set"):
        if key in node:
            # A list object stands for its items: return a marker the caller flattens.
            return _Flatten(_jsonld_value(node[key], graph, depth + 1))
    identifier = node.get("@id")
    if not isinstance(identifier, str) or not identifier:
        identifier = None
    elif all(key in ("@id", "@context") for key in node):
        return _Ref(identifier)
    entity = graph.ids.get(identifier) if identifier else None
    if entity is None:
        entity = graph.new()
        if identifier:
            graph.register(identifier, entity)
    types = node.get("@type")
    if types:
        for term in types if isinstance(types, list) else (types,):
            if isinstance(term, str):
                name = _schema_name(term.strip())
                if name:
                    entity.types.add(name)
    for key, value in node.items():
        if key[:1] == "@":
            if key == "@graph" or key == "@included":
                _jsonld_value(value, graph, depth + 1)
            continue
        name = _schema_name(key)
        if name not in _FAQ_PROPS:
            if isinstance(value, (dict, list)):
                _jsonld_value(value, graph, depth + 1)  # may hold a FAQPage (subjectOf, ...)
            continue
        values = _jsonld_value(value, graph, depth + 1)
        for item in values:
            if isinstance(item, _Flatten):
                for inner in item.items:
                    entity.add(name, inner)
            elif item is not None:
                entity.add(name, item)
    return entity


class _Flatten:
    """Items of a JSON-LD ``@list``/``@set`` object, spliced into the enclosing values."""

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items


def faq_pairs_from_json(data: Any, base_url: str = "") -> list[tuple[str, str]]:
    """FAQ pairs of already-parsed JSON-LD-shaped data, by the same rules as the pages.

    ``data`` is one JSON value or a list of them: JSON-LD documents, or what extruct returns
    with ``uniform=True`` for any syntax (nested objects, expanded IRIs, ``@value`` objects,
    ``@id`` references). Used to compare other extractors with this one.
    """
    graph = _Graph(base_url)
    _jsonld_value(data, graph)
    pairs, _, _ = _graph_pairs(graph)
    return list(dict.fromkeys(pairs))


#: Predicates that give a subject its type in RDF statements (``rdf:type``; ``schema:type`` as
#: Web Data Commons' older extractions write it).
TYPE_PREDICATES = frozenset((
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    "http://schema.org/type",
    "https://schema.org/type",
))
#: Counter keys :func:`faq_pairs_from_statements` increments.
STATEMENT_STATS_KEYS = (
    "questions",
    "questions_outside_faqpage",
    "questions_without_answer",
    "main_entities_unresolved",
    "pairs_duplicate_on_page",
)


@functools.lru_cache(maxsize=4096)
def statement_property(predicate: str) -> str | None:
    """What a statement's predicate IRI means to the FAQ rules: ``"@type"`` for a type
    predicate, the FAQ property it names (``mainEntity``, ``name``, ``text``, ``acceptedAnswer``,
    ``suggestedAnswer``), else None (the statement can be skipped)."""
    if predicate in TYPE_PREDICATES:
        return "@type"
    name = _schema_name(predicate)
    return name if name in _FAQ_PROPS else None


def faq_pairs_from_statements(statements: Iterable[tuple[str, str, str, bool]],
                              stats: collections.Counter | None = None) -> list[tuple[str, str]]:
    """FAQ pairs of one page's RDF statements (e.g. the quads of one N-Quads graph), by the same
    rules as the pages (see the module docstring).

    ``statements`` are ``(subject, predicate IRI, object, object_is_node)``: subject and node
    objects are identifiers (an IRI, or a blank node label such as ``_:b0``), literal objects
    their lexical value, already unescaped. Types come from ``rdf:type`` statements; literals are
    rendered as JSON-LD strings are (HTML-unescaped, markup to text, whitespace collapsed).
    Statements whose predicate :func:`statement_property` does not know are skipped.

    Returns the distinct pairs. When ``stats`` is given, :data:`STATEMENT_STATS_KEYS` count the
    Question entities, those no FAQPage lists as ``mainEntity``, those listed but without an
    Answer holding text, ``mainEntity`` values that name no entity of the page, and pairs given
    twice.
    """
    graph = _Graph("")
    ids = graph.ids

    def entity(identifier: str) -> _Entity:
        found = ids.get(identifier)
        if found is None:
            found = ids[identifier] = graph.new()
        return found

    for subject, predicate, obj, is_node in statements:
        name = statement_property(predicate)
        if name is None:
            continue
        if name == "@type":
            type_name = _schema_name(obj) if is_node else None
            if type_name:
                entity(subject).types.add(type_name)
        else:
            entity(subject).add(name, _Ref(obj) if is_node else obj)
    pairs, n_questions, n_owned = _graph_pairs(graph)
    distinct = list(dict.fromkeys(pairs))
    if stats is not None:
        unresolved = sum(1 for page in graph.entities if "FAQPage" in page.types
                         for value in page.props.get("mainEntity", ()) if graph.resolve(value) is None)
        counts = {"questions": n_questions, "questions_outside_faqpage": n_questions - n_owned,
                  "questions_without_answer": max(0, n_owned - len(pairs)), "main_entities_unresolved": unresolved,
                  "pairs_duplicate_on_page": len(pairs) - len(distinct)}
        stats.update({key: value for key, value in counts.items() if value})
    return distinct


def _jsonld_graph(scripts: Iterable[LexborNode], base: str, stats: collections.Counter | None) -> _Graph:
    graph = _Graph(base)
    for script in scripts:
        script_type = script.attributes.get("type") or ""
        if "ld+json" not in script_type.lower():
            continue
        body = script.text(deep=True)
        if not body or not any(hint in body for hint in _JSONLD_HINTS):
            continue
        docs = load_json_documents(body)
        if docs is None:
            if stats is not None:
                stats["invalid_jsonld"] += 1
            continue
        try:
            for doc in docs:
                _jsonld_value(doc, graph)
        except RecursionError:
            if stats is not None:
                stats["invalid_jsonld"] += 1
    return graph


# --------------------------------------------------------------------------------------------
# Microdata (HTML Living Standard, "microdata" section)
# --------------------------------------------------------------------------------------------

_URL_VALUE_ATTR = {
    "a": "href", "area": "href", "link": "href",
    "audio": "src", "embed": "src", "iframe": "src", "img": "src", "source": "src",
    "track": "src", "video": "src", "object": "data",
}


def _microdata_value(node: LexborNode, attrs: dict, base: str) -> Any:
    """The value of a non-item ``itemprop`` element, per element type."""
    tag = node.tag
    if tag == "meta":
        return attrs.get("content") or ""
    url_attr = _URL_VALUE_ATTR.get(tag)
    if url_attr is not None:
        value = (attrs.get(url_attr) or "").strip()
        return _Ref(_join_url(base, value)) if value else ""
    if tag in ("data", "meter"):
        return attrs.get("value") or ""
    if tag == "time" and attrs.get("datetime"):
        return attrs["datetime"]
    return _DomText(node)


def _microdata_graph(parser: LexborHTMLParser, base: str) -> _Graph:
    graph = _Graph(base)
    items: dict[int, _Entity] = {}
    itemrefs: list[tuple[_Entity, str]] = []
    for node in parser.css("[itemscope]"):
        attrs = node.attributes
        entity = graph.new()
        items[node.mem_id] = entity
        for term in (attrs.get("itemtype") or "").split():
            name = _schema_name(term)
            if name:
                entity.types.add(name)
        itemid = (attrs.get("itemid") or "").strip()
        if itemid:
            graph.register(_join_url(base, itemid), entity)
        if attrs.get("itemref"):
            itemrefs.append((entity, attrs["itemref"]))
    # Elements named by an itemref, and the items that name them.
    referenced: dict[int, list[_Entity]] = {}
    if itemrefs:
        by_id: dict[str, int] = {}
        for node in parser.css("[id]"):
            by_id.setdefault(node.attributes.get("id") or "", node.mem_id)
        for entity, refs in itemrefs:
            for ref in refs.split():
                mem_id = by_id.get(ref)
                if mem_id is not None:
                    referenced.setdefault(mem_id, []).append(entity)
    for node in parser.css("[itemprop]"):
        attrs = node.attributes
        names = [name for term in (attrs.get("itemprop") or "").split()
                 if (name := _schema_name(term)) in _FAQ_PROPS]
        if not names:
            continue
        mem_id = node.mem_id
        value = items.get(mem_id) or _microdata_value(node, attrs, base)
        owners: list[_Entity] = list(referenced.get(mem_id, ()))
        parent = node.parent
        while parent is not None:
            parent_id = parent.mem_id
            owner = items.get(parent_id)
            if owner is not None:
                owners.append(owner)
                break
            if referenced:
                owners.extend(referenced.get(parent_id, ()))
            parent = parent.parent
        for owner in owners:
            if owner is value:
                continue  # an item cannot be its own property (itemref loops)
            for name in names:
                owner.add(name, value)
    return graph


# --------------------------------------------------------------------------------------------
# RDFa (RDFa Core 1.1 / RDFa Lite as used on real pages)
# --------------------------------------------------------------------------------------------

# Every element with an RDFa attribute that can matter for FAQ markup. ``rel``/``rev`` only
# when naming the linking properties (``rel="nofollow"`` is everywhere and never matters).
_RDFA_SELECTOR = (
    "[vocab],[prefix],[typeof],[property],[about],[resource],"
    "[rel*=mainEntity],[rel*=acceptedAnswer],[rel*=suggestedAnswer]"
)
_DEFAULT_PREFIXES = {"schema": "https://schema.org/"}


def _rdfa_vocab(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    host_part = value.split("://", 1)[-1]
    if host_part.startswith(("schema.org", "www.schema.org")):
        return "https://schema.org/"
    return value


def _rdfa_prefixes(value: str) -> dict[str, str]:
    tokens = value.split()
    mapping = {}
    for prefix, iri in zip(tokens[::2], tokens[1::2]):
        if prefix.endswith(":"):
            mapping[prefix[:-1].lower()] = iri
    return mapping


def _rdfa_term(term: str, vocab: str | None, prefixes: dict[str, str]) -> str | None:
    """schema.org local name of an RDFa term, CURIE or IRI (None for other vocabularies).

    A bare term with no ``vocab`` in scope is read as schema.org (lenient: pages forget
    ``vocab``; only FAQPage/Question/Answer typed nodes are used anyway)."""
    if term.startswith("[") and term.endswith("]"):
        term = term[1:-1]
    if ":" in term:
        prefix, _, reference = term.partition(":")
        lowered = prefix.lower()
        if lowered in ("http", "https"):
            return _schema_name(term)
        namespace = prefixes.get(lowered) or _DEFAULT_PREFIXES.get(lowered)
        if namespace is None:
            return None
        vocab_ns = _rdfa_vocab(namespace)
        return reference if vocab_ns == "https://schema.org/" else None
    if vocab is None or vocab == "https://schema.org/":
        return term or None
    return _schema_name(vocab + term)


class _RdfaWalker:
    """Evaluates RDFa attributes top-down over the elements that carry them.

    Deviation from RDFa Core, on purpose: a plain ``href``/``src`` (no ``rel``, ``property``
    or ``typeof`` on the element) does not start a new subject. RDFa Core (and pyRdfa, which
    extruct uses) moves the subject to the link target there, so an accordion
    ``<a href="#q1"><h3 property="name">`` loses its question; a browser shows it.
    """

    def __init__(self, parser: LexborHTMLParser, base: str) -> None:
        self.graph = _Graph(base)
        self.base = base
        self.children: dict[int, list[LexborNode]] = {}
        self.roots: list[LexborNode] = []
        nodes = _select(parser, _RDFA_SELECTOR)
        relevant = {node.mem_id for node in nodes}
        for node in nodes:
            parent = node.parent
            while parent is not None and parent.mem_id not in relevant:
                parent = parent.parent
            if parent is None:
                self.roots.append(node)
            else:
                self.children.setdefault(parent.mem_id, []).append(node)

    def run(self) -> _Graph:
        for root in self.roots:
            self._visit(root, None, None, {}, None)
        return self.graph

    def _resource(self, value: str) -> _Entity:
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            value = value[1:-1]
        key = value if value.startswith("_:") else _join_url(self.base, value)
        entity = self.graph.ids.get(key)
        if entity is None:
            entity = self.graph.new()
            self.graph.ids[key] = entity
        return entity

    def _visit(self, node, subject, vocab, prefixes, hanging) -> None:
        attrs = node.attributes
        if "vocab" in attrs:
            vocab = _rdfa_vocab(attrs["vocab"] or "")
        if attrs.get("prefix"):
            prefixes = {**prefixes, **_rdfa_prefixes(attrs["prefix"])}
        about = attrs.get("about")
        typeof = attrs.get("typeof")
        prop = attrs.get("property")
        content = attrs.get("content")
        resource = attrs.get("resource")
        link = resource or attrs.get("href") or attrs.get("src")
        rels = []
        if attrs.get("rel"):
            rels = [name for term in attrs["rel"].split()
                    if (name := _rdfa_term(term, vocab, prefixes)) in _LINK_PROPS]
        new_subject, current_object, typed = subject, None, None
        if not rels:
            if prop is not None and content is None and "datatype" not in attrs:
                if about is not None:
                    new_subject = self._resource(about)
                if typeof is not None:
                    typed = self._resource(about) if about is not None else (
                        self._resource(link) if link else self.graph.new())
                    current_object = typed
            else:
                if about is not None:
                    new_subject = self._resource(about)
                elif resource is not None:
                    new_subject = self._resource(resource)
                elif typeof is not None:
                    new_subject = self._resource(link) if link else self.graph.new()
                if typeof is not None:
                    typed = new_subject
        else:
            if about is not None:
                new_subject = self._resource(about)
            if link:
                current_object = self._resource(link)
            elif typeof is not None and about is None:
                current_object = self.graph.new()
            if typeof is not None:
                typed = new_subject if about is not None else current_object
        if typed is not None:
            for term in typeof.split():
                name = _rdfa_term(term, vocab, prefixes)
                if name:
                    typed.types.add(name)
        # Links left hanging by an ancestor's rel are completed by the first new node below.
        established = typed if typed is not None else (new_subject if new_subject is not subject else None)
        if hanging and established is not None:
            for owner, names in hanging:
                for name in names:
                    owner.add(name, established)
            hanging = None
        if prop and new_subject is not None:
            names = [name for term in prop.split()
                     if (name := _rdfa_term(term, vocab, prefixes)) in _FAQ_PROPS]
            if names:
                if typed is not None and current_object is typed:
                    value: Any = typed
                elif content is not None:
                    value = content
                elif link and not rels and "datatype" not in attrs:
                    value = _Ref(_join_url(self.base, link.strip()))
                elif node.tag == "time" and attrs.get("datetime"):
                    value = attrs["datetime"]
                else:
                    value = _DomText(node)
                for name in names:
                    new_subject.add(name, value)
        child_hanging = hanging
        if rels and new_subject is not None:
            if current_object is not None:
                for name in rels:
                    new_subject.add(name, current_object)
            else:
                child_hanging = [(new_subject, rels)]
        child_subject = current_object if current_object is not None else new_subject
        for child in self.children.get(node.mem_id, ()):
            self._visit(child, child_subject, vocab, prefixes, child_hanging)


# --------------------------------------------------------------------------------------------
# Page metadata
# --------------------------------------------------------------------------------------------

def _one_line(text: str | None) -> str | None:
    if not text:
        return None
    text = " ".join(unescape_entities(text).split())
    return text or None


def _title(parser: LexborHTMLParser) -> str | None:
    head = parser.head
    node = head.css_first("title") if head is not None else None
    if node is None:
        node = parser.css_first("title")
    return _one_line(node.text(deep=True)) if node is not None else None


# One traversal finds everything the page-level code needs: base URL, descriptions, hreflang
# links, JSON-LD scripts, and whether Microdata or RDFa mention FAQPage/Question at all.
_PAGE_SELECTOR = ",".join((
    "base[href]",
    'meta[name="description" i]', 'meta[property="og:description" i]', 'meta[name="og:description" i]',
    "link[hreflang]",
    'script[type*="ld+json" i]',
    '[itemtype*="FAQPage"]', '[itemtype*="Question"]',
    '[typeof*="FAQPage"]', '[typeof*="Question"]',
))


class _PageNodes:
    """Page-level nodes, found in one pass over the DOM (each CSS query is a full traversal,
    ~20 us on a 230 KB page): base URL, description, hreflang, JSON-LD scripts, and whether
    a Microdata ``itemtype`` / RDFa ``typeof`` names FAQPage or Question."""

    __slots__ = ("base", "description", "hreflang", "scripts", "microdata", "rdfa")

    def __init__(self, parser: LexborHTMLParser, url: str) -> None:
        base_href = None
        description = og_description = None
        links: list[dict] = []
        self.scripts: list[LexborNode] = []
        self.microdata = self.rdfa = False
        for node in _select(parser, _PAGE_SELECTOR):
            tag = node.tag
            if tag == "script":
                self.scripts.append(node)
            attrs = node.attributes
            if "itemtype" in attrs or "typeof" in attrs:
                self.microdata = self.microdata or _names_faq_type(attrs.get("itemtype"))
                self.rdfa = self.rdfa or _names_faq_type(attrs.get("typeof"))
            if tag == "meta":
                key = (attrs.get("name") or attrs.get("property") or "").strip().lower()
                if key == "description" and description is None:
                    description = _one_line(attrs.get("content"))
                elif key == "og:description" and og_description is None:
                    og_description = _one_line(attrs.get("content"))
            elif tag == "link" and "hreflang" in attrs:
                links.append(attrs)
            elif tag == "base" and base_href is None:
                base_href = (attrs.get("href") or "").strip() or None
        self.base = _join_url(url, base_href) if base_href else url
        self.description = description or og_description
        self.hreflang = _hreflang(links, self.base)


def _names_faq_type(value: str | None) -> bool:
    return bool(value) and ("FAQPage" in value or "Question" in value)


def _hreflang(links: list[dict], base: str) -> list[tuple[str, str]]:
    """(code as written, absolute URL) of each ``<link rel="alternate" hreflang href>``, once."""
    alternates: list[tuple[str, str]] = []
    seen = set()
    for attrs in links:
        if "alternate" not in (attrs.get("rel") or "").lower().split():
            continue
        code = (attrs.get("hreflang") or "").strip()
        href = attrs.get("href")
        if not code or href is None:
            continue
        entry = (code, _join_url(base, href.strip()))
        if entry not in seen:
            seen.add(entry)
            alternates.append(entry)
    return alternates


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------

def extract_faq_page(
    html: str | bytes,
    url: str,
    content_type: str | None = None,
    stats: collections.Counter | None = None,
    max_html_chars: int = 2_000_000,
) -> FaqPage:
    """Read the FAQ pairs and page metadata of one HTML page (see the module docstring).

    ``html`` may be bytes (decoded as :func:`decode_html` does, with ``content_type``); input
    longer than ``max_html_chars`` characters is cut to that length before parsing
    (``truncated_html``). When ``stats`` is given, the counters in :data:`STATS_KEYS` are
    incremented.

    Bytes declared as UTF-8, or not declared at all, go to lexbor as they are (decoding a
    230 KB page to ``str`` costs about a third of parsing it). lexbor turns invalid UTF-8
    into U+FFFD; if any U+FFFD shows up in the result that the bytes did not hold, the page is
    read again through :func:`decode_html`'s fallbacks (wrong or missing declaration).
    """
    counts: collections.Counter = collections.Counter()
    if isinstance(html, str):
        page = _extract_text(html, url, counts, max_html_chars)
    else:
        raw = bytes(html)
        page = None
        if len(raw) <= max_html_chars and _utf8_as_is(raw, content_type):
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
            page = _extract(raw, raw, url, counts)
            if _has_replacement_char(page) and b"\xef\xbf\xbd" not in raw:
                page, counts = None, collections.Counter()  # not UTF-8 after all
        if page is None:
            text, codec = _decode(raw, content_type)
            page = _extract_text(text, url, counts, max_html_chars)
    counts["pages_parsed"] += 1
    if stats is not None:
        stats.update(counts)
    return page


def _utf8_as_is(raw: bytes, content_type: str | None) -> bool:
    """True when the bytes may go to lexbor undecoded: no UTF-16/32 BOM, and the header or
    ``<meta>`` declares UTF-8 or nothing."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or raw[:4] in (codecs.BOM_UTF32_BE,):
        return False
    return _declared_charset(raw, content_type) in (None, "utf_8")


def _has_replacement_char(page: FaqPage) -> bool:
    if "\ufffd" in (page.title or "") or "\ufffd" in (page.description or ""):
        return True
    return any("\ufffd" in q or "\ufffd" in a for q, a in page.pairs) or \
        any("\ufffd" in u for _, u in page.hreflang)


def _extract_text(text: str, url: str, counts: collections.Counter, max_html_chars: int) -> FaqPage:
    if len(text) > max_html_chars:
        text = text[:max_html_chars]
        counts["truncated_html"] += 1
    return _extract(text, text, url, counts)


def _extract(document: str | bytes, haystack: str | bytes, url: str, counts: collections.Counter) -> FaqPage:
    """Parse one page (``document``: text, or UTF-8 bytes) and read its FAQ and metadata."""
    parser = LexborHTMLParser(document)
    nodes = _PageNodes(parser, url)
    base = nodes.base
    page = FaqPage(url=url, title=_title(parser), description=nodes.description, hreflang=nodes.hreflang)
    if isinstance(haystack, bytes):
        hinted = b"Question" in haystack or b"FAQPage" in haystack
    else:
        hinted = "Question" in haystack or "FAQPage" in haystack
    if not hinted:
        return page  # no schema.org FAQ or Question markup in any syntax

    graphs: list[tuple[str, _Graph]] = [("json-ld", _jsonld_graph(nodes.scripts, base, counts))]
    if nodes.microdata:
        graphs.append(("microdata", _microdata_graph(parser, base)))
    if nodes.rdfa:
        try:
            graphs.append(("rdfa", _RdfaWalker(parser, base).run()))
        except RecursionError:
            pass  # pathological nesting: RDFa is skipped for this page

    seen: set[tuple[str, str]] = set()
    n_questions = n_owned = duplicates = 0
    for syntax, graph in graphs:
        pairs, questions, owned = _graph_pairs(graph)
        n_questions += questions
        n_owned += owned
        distinct = list(dict.fromkeys(pairs))
        page.syntaxes[syntax] = len(distinct)
        if distinct:
            counts[_STATS_PAIRS_KEY[syntax]] += len(distinct)
        for pair in distinct:
            if pair in seen:
                duplicates += 1  # already given by an earlier syntax
                continue
            seen.add(pair)
            page.pairs.append(pair)
    if duplicates:
        counts["pairs_duplicate_across_syntaxes"] += duplicates
    if page.pairs:
        counts["pages_with_faq"] += 1
    if n_questions and not n_owned:
        counts["qapage_or_question_only"] += 1
    return page
