"""Plain text from HTML, the way the WebFAQ extraction wants it.

The WebFAQ text cleaning is: HTML-unescape, HTML to plain text (no formatting, no alt
texts), collapse runs of whitespace around newlines into one newline. This module does it for
the two places text comes from:

* :func:`html_to_text` for *strings* that may hold HTML: JSON-LD values, ``content``
  attributes. Entities are unescaped first (so double-escaped ``&amp;uuml;`` and escaped markup
  ``&lt;p&gt;`` end up as text), then, if the string contains tags, it is parsed as an HTML
  fragment by lexbor and rendered like a DOM node. A string without tags is plain text: its
  own newlines are kept.
* :func:`node_text` for *DOM nodes* (Microdata / RDFa values): the element's text content as
  a browser lays it out: source whitespace collapses to one space, ``<br>`` and block
  elements (``p``, ``div``, ``li``, headings, table rows, ...) become newlines, ``<pre>``
  keeps its whitespace; ``script``/``style``/``template``/``noscript`` and attribute texts
  (``alt``, ``title``) are not text.

Both end in :func:`normalize_whitespace`: horizontal whitespace runs (including no-break
spaces) become one space, whitespace runs containing a newline become one newline, and the
result is stripped.
"""
from __future__ import annotations

import html
import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = [
    "BLOCK_TAGS",
    "html_to_text",
    "node_text",
    "normalize_whitespace",
    "unescape_entities",
]

#: Elements that start and end a line when rendered (CSS ``display: block`` and kin).
BLOCK_TAGS = frozenset(
    """address article aside blockquote body caption center dd details dialog dir div dl dt
    fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li
    listing main menu nav ol p plaintext pre section summary table tbody tfoot thead tr ul
    xmp""".split()
)
#: Elements whose content is never shown as text.
SKIP_TAGS = frozenset(
    "script style template noscript head title iframe object embed svg math select".split()
)
#: Table cells sit side by side: separate them by a space.
_CELL_TAGS = frozenset(("td", "th"))

# A tag or comment start as an HTML tokenizer sees it: "<" then a letter, "/" + letter, "!".
_TAG_START = re.compile(r"<[A-Za-z!/?]")
# Something html.unescape could change: a named, decimal or hex character reference.
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*;?|#[0-9]+;?|#[xX][0-9A-Fa-f]+;?)")


def normalize_whitespace(text: str) -> str:
    """Collapse whitespace: runs with a newline -> one ``\\n``, other runs -> one space; strip."""
    if not text:
        return ""
    if "\n" not in text:
        return " ".join(text.split())
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def unescape_entities(text: str, rounds: int = 3) -> str:
    """HTML-unescape repeatedly (at most ``rounds`` times) to undo double escaping.

    ``"&amp;uuml;"`` -> ``"ü"``; a text without character references is returned as is.
    """
    for _ in range(rounds):
        if "&" not in text or not _ENTITY.search(text):
            break
        new = html.unescape(text)
        if new == text:
            break
        text = new
    return text


_PRE_TAGS = frozenset(("pre", "listing", "xmp", "plaintext"))


def _render(node: LexborNode, out: list[str], pre: bool = False) -> None:
    """Append the rendered text of ``node``'s children to ``out`` (browser-like layout).

    Iterative (an explicit stack), so pages nested thousands of levels deep (unclosed
    ``<font>`` or ``<div>`` tags) cannot hit Python's recursion limit.
    """
    stack: list = [(node.child, pre)]
    while stack:
        item = stack.pop()
        if item.__class__ is str:
            out.append(item)
            continue
        child, pre = item
        while child is not None:
            tag = child.tag
            if tag == "-text":
                text = child.text_content
                if text:
                    # Source line breaks are spaces; normalize_whitespace collapses the runs.
                    out.append(text if pre else text.replace("\n", " "))
            elif tag is None or tag[0] == "-" or tag in SKIP_TAGS:
                pass  # comments, processing instructions, invisible elements
            elif tag == "br":
                out.append("\n")
            else:
                separator = "\n" if tag in BLOCK_TAGS else (" " if tag in _CELL_TAGS else "")
                first = child.child
                if first is not None:
                    stack.append((child.next, pre))  # resume with the next sibling afterwards
                    if separator:
                        out.append(separator)
                        stack.append(separator)
                    pre = pre or tag in _PRE_TAGS
                    child = first
                    continue
                if separator:
                    out.append(separator)
            child = child.next


def node_text(node: LexborNode) -> str:
    """Text content of a DOM element as a browser shows it, normalised (see module doc)."""
    out: list[str] = []
    if node.tag == "-text":
        out.append((node.text_content or "").replace("\n", " "))
    else:
        _render(node, out, node.tag in _PRE_TAGS)
    return normalize_whitespace(unescape_entities("".join(out)))


def html_to_text(value: str) -> str:
    """Plain text of a string that may contain (escaped) HTML, normalised (see module doc).

    >>> html_to_text("<p>Ja&comma; das geht.</p><p>Zweiter&nbsp;Absatz</p>")
    'Ja, das geht.\\nZweiter Absatz'
    """
    if not value:
        return ""
    value = unescape_entities(value)
    if "<" in value and _TAG_START.search(value):
        parser = LexborHTMLParser(value)
        root = parser.body
        out: list[str] = []
        if root is not None:
            _render(root, out)
        # Text that was entity-escaped twice *inside* markup is unescaped once more here.
        return normalize_whitespace(unescape_entities("".join(out)))
    return normalize_whitespace(value)
