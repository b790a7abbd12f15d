"""Web Data Commons N-Quads dumps -> FAQ pages (the WebFAQ v1 input). No Spark.

Web Data Commons publishes the schema.org data it extracts from Common Crawl as N-Quads, one
statement a line, ``subject predicate object graph .``, where the graph is the URL of the page the
statement was read from and subjects are mostly blank nodes (``_:n<hash>xb0``) scoped to that page.
Its class-specific subsets (``FAQPage``, ...) hold every statement of each page that has such an
entity, written page after page: the lines of one page are consecutive.

How a dump is read (:func:`read_faq_pages`):

1. The stream is decompressed when it starts with the gzip magic (ISA-L, multi-member gzip as
   ``gzip`` writes it) and cut into lines; a gzip stream cut short is counted as
   ``truncated_files`` and read as far as it goes.
2. Consecutive lines with the same graph term (found as the last term of the line, without
   parsing it) form one page.
3. Each page's lines are parsed by pyoxigraph's N-Quads parser (Oxigraph, in Rust) in one call,
   in lenient mode: IRIs are not validated, because real pages write IRIs such as
   ``https://example.org/?s={search_term_string}`` that strict parsers refuse. Literals come out
   unescaped (``\\"``, ``\\n``, ``\\uXXXX``), their language tags and datatypes dropped. If the
   page does not parse, or does not give one quad per line, its lines are parsed one by one: a
   malformed line is counted as ``nquads_malformed_lines`` and skipped, the others are kept.
   Statements outside any named graph (triples) have no page URL: ``nquads_lines_without_graph``.
4. The page's statements go to :func:`lib.extract.markup.faq_pairs_from_statements`, which applies
   the FAQ rules of the HTML markup (FAQPage -> mainEntity -> Question -> acceptedAnswer, else
   suggestedAnswer -> Answer text, else name) and renders literals as it renders JSON-LD strings.

Provenance: a page is located by its first line number (1-based) and its number of lines, so
``sed -n 'FIRST,+(LINES-1)p'`` on the decompressed dump shows its statements again.

A page whose lines are not consecutive (never seen in WDC's dumps, which are sorted by graph) is
read as separate pages with the same URL; links between the parts are lost.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

from isal import isal_zlib
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, RdfFormat, parse

from lib.extract.markup import faq_pairs_from_statements, statement_property

__all__ = ["NQuadsPage", "read_faq_pages", "statements_of", "STATS_KEYS"]

#: Counter keys :func:`read_faq_pages` increments (besides those of ``faq_pairs_from_statements``).
STATS_KEYS = (
    "nquads_lines",
    "nquads_malformed_lines",
    "nquads_lines_without_graph",
    "nquads_pages",
    "pages_with_faq",
    "truncated_files",
    "empty_files",
)

READ_SIZE = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class NQuadsPage:
    """The FAQ pairs one page's statements give (not yet cleaned or filtered)."""

    url: str
    first_line: int
    num_lines: int
    pairs: list[tuple[str, str]] = field(default_factory=list)


def _blocks(stream: BinaryIO, stats: collections.Counter) -> Iterator[bytes]:
    """Decompressed blocks of ``stream``: gzip (by its magic; one or more members, as ``gzip``
    and WDC write them) decompressed by ISA-L, anything else as it is. A gzip stream cut short or
    damaged is counted as ``truncated_files``; what was decompressed before is kept."""
    data = stream.read(READ_SIZE)
    if not data:
        stats["empty_files"] += 1
        return
    if not data.startswith(_GZIP_MAGIC):
        while data:
            yield data
            data = stream.read(READ_SIZE)
        return
    member = isal_zlib.decompressobj(31)
    while True:
        try:
            block = member.decompress(data)
        except isal_zlib.error:
            stats["truncated_files"] += 1
            return
        if block:
            yield block
        if member.eof:
            data = member.unused_data or stream.read(READ_SIZE)
            if not data:
                return
            if not data.startswith(_GZIP_MAGIC[:len(data)]):
                stats["truncated_files"] += 1  # garbage after the last member
                return
            member = isal_zlib.decompressobj(31)
            continue
        data = stream.read(READ_SIZE)
        if not data:
            stats["truncated_files"] += 1
            return


def _lines(stream: BinaryIO, stats: collections.Counter) -> Iterator[bytes]:
    """The lines of the decompressed stream, without their line ends."""
    rest = b""
    for block in _blocks(stream, stats):
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


def _graph_term(line: bytes) -> bytes | None:
    """The last term of a statement line (its graph, when it has one), found without parsing;
    None when the line does not end like a quad with an IRI or blank-node graph."""
    if not line.endswith(b"."):
        return None
    body = line[:-1].rstrip()
    if body.endswith(b">"):
        start = body.rfind(b"<")
        return body[start:] if start > 0 else None
    start = max(body.rfind(b" "), body.rfind(b"\t")) + 1
    term = body[start:]
    return term if start > 0 and term.startswith(b"_:") else None


def _node_id(term) -> str:
    return term.value if type(term) is NamedNode else "_:" + term.value


def statements_of(quads) -> Iterator[tuple[str, str, str, bool]]:
    """``(subject, predicate, object, object_is_node)`` of pyoxigraph quads (or triples), as
    :func:`lib.extract.markup.faq_pairs_from_statements` takes them; statements the FAQ rules do
    not read (:func:`~lib.extract.markup.statement_property`) and RDF-star statements skipped."""
    for quad in quads:
        predicate = quad.predicate.value
        if statement_property(predicate) is None:
            continue
        subject, obj = quad.subject, quad.object
        kind = type(obj)
        if kind is Literal:
            value, is_node = obj.value, False
        elif kind is NamedNode or kind is BlankNode:
            value, is_node = _node_id(obj), True
        else:
            continue
        if type(subject) is NamedNode or type(subject) is BlankNode:
            yield _node_id(subject), predicate, value, is_node


def _parse(data: bytes) -> list:
    return list(parse(data, format=RdfFormat.N_QUADS, lenient=True))


def _parse_lines(lines: list[bytes], stats: collections.Counter) -> list:
    """The quads of a page's lines: in one call, else line by line (malformed lines skipped)."""
    quads = None
    try:
        quads = _parse(b"\n".join(lines))
    except SyntaxError:
        pass
    if quads is None or len(quads) != len(lines):
        quads = []
        for line in lines:
            try:
                parsed = _parse(line)
            except SyntaxError:
                parsed = []
            if len(parsed) == 1:
                quads.append(parsed[0])
            else:
                stats["nquads_malformed_lines"] += 1
    named = [quad for quad in quads if type(quad.graph_name) is not DefaultGraph]
    if len(named) != len(quads):
        stats["nquads_lines_without_graph"] += len(quads) - len(named)
    return named


def read_faq_pages(stream: BinaryIO, stats: collections.Counter) -> Iterator[NQuadsPage]:
    """Stream an N-Quads dump (plain or gzipped) and yield one :class:`NQuadsPage` per page
    with at least one FAQ pair. Counters (:data:`STATS_KEYS` and those of
    :func:`lib.extract.markup.faq_pairs_from_statements`) are added to ``stats``."""
    group: list[bytes] = []
    group_term: bytes | None = None
    group_start = group_end = number = 0

    def page(lines: list[bytes], first: int, last: int) -> NQuadsPage | None:
        quads = _parse_lines(lines, stats)
        if not quads:
            return None
        stats["nquads_pages"] += 1
        pairs = faq_pairs_from_statements(statements_of(quads), stats)
        if not pairs:
            return None
        stats["pages_with_faq"] += 1
        return NQuadsPage(url=quads[0].graph_name.value, first_line=first, num_lines=last - first + 1, pairs=pairs)

    try:
        for line in _lines(stream, stats):
            number += 1
            line = line.strip()
            if not line or line.startswith(b"#"):
                continue
            term = _graph_term(line)
            if term is None:  # not a quad with a graph: a triple, or malformed
                _parse_lines([line], stats)
                continue
            if term != group_term:
                if group and (found := page(group, group_start, group_end)) is not None:
                    yield found
                group, group_term, group_start = [], term, number
            group.append(line)
            group_end = number
        if group and (found := page(group, group_start, group_end)) is not None:
            yield found
    finally:
        stats["nquads_lines"] += number
