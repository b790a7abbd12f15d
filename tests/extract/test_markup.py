"""Tests of lib.extract.markup: schema.org FAQPage extraction from JSON-LD, Microdata and RDFa.

Real fixtures come from ``../shared/data`` (see SOURCES.md there). Where a test builds markup or
invents a minimal string, its docstring says so; the expected outcomes are exact.

Accepted shapes, as asserted below:
* FAQPage at top level, inside ``@graph`` (haus.de), under ``subjectOf`` (haustiermagazin) or any
  other property, as a nested Microdata item; ``@type`` as string or list, bare, ``schema:``
  or http/https schema.org IRIs.
* ``mainEntity`` as object, list, nested list (computerbild), or ``@id`` reference.
* Question text from ``name``, else ``text`` (giromatch: ``name`` plus an empty ``text``).
* ``acceptedAnswer`` as object, list or ``@id`` reference; the Answer's ``text``, else ``name``.
* ``suggestedAnswer`` only when the Question has no ``acceptedAnswer`` at all.
* HTML and entities (also ``&comma;``, ``&amp;uuml;``) inside answers become plain text.
* Not a FAQ: QAPage, a lone Question, a Question nested elsewhere (counted as
  ``qapage_or_question_only``).
"""
from __future__ import annotations

import collections
import html as htmllib
import json
import re
from pathlib import Path

import pytest

from lib.extract.html_text import html_to_text
from lib.extract.jsonld import load_json_documents
from lib.extract.markup import FaqPage, decode_html, extract_faq_page, faq_pairs_from_json

DE = "html-faqpage-jsonld-de"


def read(shared_data: Path, *parts: str) -> bytes:
    return shared_data.joinpath(*parts).read_bytes()


def page_with_stats(html, url="https://example.org/faq", **kwargs) -> tuple[FaqPage, collections.Counter]:
    stats: collections.Counter = collections.Counter()
    return extract_faq_page(html, url, stats=stats, **kwargs), stats


# ------------------------------------------------------------------------------------------------
# The six real German JSON-LD pages
# ------------------------------------------------------------------------------------------------

# (file, page URL, number of pairs, one exact pair as a browser shows it)
GERMAN_PAGES = [
    pytest.param(
        "financescout24.de.autokredit.html", "https://www.financescout24.de/kredit/autokredit", 14,
        # answer written as HTML: two <p> become two lines, <strong> is dropped
        ("Autokredit und Autoleasing, wo sind die Unterschiede?",
         "Beim klassischen Autokredit ist die Gewährung der Kreditsumme an den Autokauf geknüpft, also "
         "zweckgebunden. Die Zulassungsbescheinigung Teil II dient als Sicherheit, entsprechend niedriger "
         "fallen die Zinsen gegenüber klassischen Ratenkrediten aus. Das Fahrzeug ist in Ihrem direkten "
         "Besitz, Sie können beispielsweise ohne Probleme das Auto verkaufen oder den Halter ändern.\n"
         "Beim Autoleasing hingegen wird das Fahrzeug für eine bestimmte Zeit überlassen, häufig zwischen "
         "drei und vier Jahre. Es handelt sich also sozusagen um eine Auto-Miete. Bei Gewerbetreibenden "
         "sind die Leasingraten abzugsfähig, weshalb diese kapitalschonende Variante häufig für Modelle der "
         "Oberklasse gewählt wird. Dafür zahlen Sie während der Laufzeit den Wertverlust, die Raten sind "
         "also höher bei der Kreditfinanzierung. Wird das Auto am Ende zurückgegeben, kann es sein, dass "
         "nach Kilometerständen, kleineren Kratzern und dergleichen, eine hohe Nachzahlung droht. Außerdem "
         "sind die Anforderungen an die Kfz-Versicherung hoch (Vollkasko), zudem tragen Sie selbst das "
         "Risiko für Reparaturen."),
        id="plain-financescout24"),
    pytest.param(
        "smava.de.privatkredit.html", "https://www.smava.de/privatkredit/privatkredit-zinsen/", 4,
        ("Wie wird die Höhe der fälligen Zinsen für meinen Privatkredit bestimmt?",
         "Die anfallenden Kosten für einen Privatkredit, die zusätzlich zum Darlehensbetrag als Zinsaufwand "
         "an die Bank zurückzuzahlen sind, ergeben sich aus der Darlehenshöhe, dem effektiven "
         "Jahreszinssatz und der Kreditlaufzeit."),
        id="plain-smava"),
    pytest.param(
        "haus.de-Vorsatzschallung.html", "https://www.haus.de/bauen/vorsatzschalung-33656", 4,
        # FAQPage inside @graph; "&comma;" is a comma; the link text stays, the tag goes
        ("Wie kann man eine Vorsatzschalung befestigen?",
         "Wie bereits erwähnt, stehen Ihnen zwei Möglichkeiten zur Seite, eine Vorsatzschalung umzusetzen. "
         "Die freistehende Variante verwenden Sie...Mehr Informationen"),
        id="graph-haus.de"),
    pytest.param(
        "haustiermagazin.com-katzenspielzeug.html",
        "https://www.haustiermagazin.com/kaufratgeber-vergleich-bestes-elektronisches-katzenspielzeug/", 5,
        # FAQPage under NewsArticle.subjectOf; no-break spaces in the question become spaces
        ("Warum ist Katzenspielzeug sinnvoll?",
         "Mit einem Spielzeug kannst du den Spiel- und Jagdtrieb deiner Katze fördern und dafür sorgen, "
         "dass ihr nicht langweilig wird. Ist deine Katze für längere Zeit alleine, kannst du dich nach "
         "interaktivem Spielzeug umschauen. Hier findest du unsere Produktempfehlungen."),
        id="subjectOf-haustiermagazin"),
    pytest.param(
        "computerbild.de-streamingcloud.html",
        "https://www.computerbild.de/artikel/cb-Tests-Streaming-Cloud-Gaming-Test-29577027.html", 5,
        # mainEntity is a list inside a list
        ("Ist Xbox Cloud Gaming kostenlos?",
         "Xbox Cloud Gaming ist Teil des Xbox Game Pass Ultimate. Das Abo kostet 13 Euro im Monat, das "
         "Spiele-Streaming ist also nicht kostenlos."),
        id="nested-array-computerbild"),
    pytest.param(
        "giromatch.com.kredit.html", "https://www.giromatch.com/online-kredit/1000-euro-kredit", 2,
        # Question.text is "": the name is the question; runs of spaces in the JSON collapse
        ("Wie beantrage ich einen 1000 Euro Kredit? Was benötige ich?",
         "Den Kredit beantragen Sie am einfachsten online von zu Hause. Dazu benötigen Sie lediglich einen "
         "Internetzugang. Für die Beantragung des Kredits müssen Sie nur wenige Angaben tätigen. Aufgrund "
         "der geringen Kreditsumme erfolgt die Prüfung schnell bzw. sofort (Sofortzusage). Grundsätzlich "
         "benötigen Sie folgendes: 1) einen Internetzugang und einen modernen Webbrowser, 2) eine gültige "
         "Emailadresse, 3) ein Ausweisdokument (Personalausweis bzw. Reisepass) für die "
         "Online-Identifikation und ggf. 4) Onlinebanking für Nachweis der Kontoauszüge. Durch die geringe "
         "Summe ist der 1000 Euro Kredit mit Expressüberweisung auch als Blitzkredit auszahlbar."),
        id="empty-text-giromatch"),
]


@pytest.mark.parametrize("name, url, n_pairs, pair", GERMAN_PAGES)
def test_german_jsonld_pages(shared_data, name, url, n_pairs, pair):
    page, stats = page_with_stats(read(shared_data, DE, name), url)
    assert len(page.pairs) == n_pairs
    assert pair in page.pairs
    assert page.syntaxes == {"json-ld": n_pairs, "microdata": 0, "rdfa": 0}
    assert all(q and a for q, a in page.pairs)
    assert stats == collections.Counter(pages_parsed=1, pages_with_faq=1, pairs_jsonld=n_pairs)


def test_german_pages_question_lists_and_metadata(shared_data):
    page = extract_faq_page(read(shared_data, DE, "haus.de-Vorsatzschallung.html"),
                            "https://www.haus.de/bauen/vorsatzschalung-33656")
    assert [q for q, _ in page.pairs] == [
        "Was ist eine Vorsatzschalung?",
        "Welche Voraussetzungen gibt es für eine Vorsatzschalung?",
        "Kann eine Vorsatzschalung den Schallschutz verbessern?",
        "Wie kann man eine Vorsatzschalung befestigen?",
    ]
    assert page.title == "Was ist eine Vorsatzschalung und was bringt sie? - DAS HAUS"
    assert page.description == ("Eine Vorsatzschalung kann den Schallschutz verbessern, birgt aber auch "
                                "einen Nachteil. Wir erklären Ihnen, worauf Sie achten sollten.")
    assert page.hreflang == []

    page = extract_faq_page(read(shared_data, DE, "haustiermagazin.com-katzenspielzeug.html"),
                            "https://www.haustiermagazin.com/kaufratgeber-vergleich-bestes-elektronisches-katzenspielzeug/")
    assert page.hreflang == [
        ("x-default", "https://www.haustiermagazin.com/kaufratgeber-vergleich-bestes-elektronisches-katzenspielzeug/"),
        ("de-de", "https://www.haustiermagazin.com/kaufratgeber-vergleich-bestes-elektronisches-katzenspielzeug/"),
        ("de-at", "https://www.haustiermagazin.at/kaufratgeber-vergleich-bestes-elektronisches-katzenspielzeug/"),
        ("de-ch", "https://www.haustiermagazin.ch/kaufratgeber-vergleich-bestes-elektronisches-katzenspielzeug/"),
    ]
    # Answer lines: financescout24 writes <p>...</p> blocks; "Wann ist ein Kfz-Kredit ..." has 4 lines.
    page = extract_faq_page(read(shared_data, DE, "financescout24.de.autokredit.html"), "https://x.de/")
    assert [a.count("\n") for _, a in page.pairs] == [0, 0, 0, 1, 0, 0, 3, 2, 1, 6, 2, 1, 0, 2]


def test_same_result_from_text_and_from_bytes(shared_data):
    raw = read(shared_data, DE, "smava.de.privatkredit.html")
    assert extract_faq_page(raw, "https://x.de/") == extract_faq_page(raw.decode("utf-8"), "https://x.de/")


# ------------------------------------------------------------------------------------------------
# schema.org's own examples (examples.txt)
# ------------------------------------------------------------------------------------------------

SECTIONS = ("PRE-MARKUP:", "MICRODATA:", "RDFA:", "JSON:")


def schemaorg_examples(shared_data: Path) -> dict[str, dict[str, str]]:
    """examples.txt -> {"#eg-0186": {"TYPES": ..., "MICRODATA": ..., "RDFA": ..., "JSON": ...}}."""
    examples: dict[str, dict[str, str]] = {}
    current: dict[str, list[str]] | None = None
    section = None
    for line in shared_data.joinpath("schemaorg-examples", "examples.txt").read_text("utf-8").splitlines():
        if line.startswith("TYPES:"):
            ident = line.split()[1]
            current = {"TYPES": [line[len("TYPES:"):].strip()]}
            examples[ident] = current  # type: ignore[assignment]
            section = None
        elif line.strip() in SECTIONS and current is not None:
            section = line.strip()[:-1]
            current[section] = []
        elif current is not None and section is not None:
            current[section].append(line)
    return {k: {s: "\n".join(v).strip() for s, v in ex.items()} for k, ex in examples.items()}


def as_page(markup: str) -> str:
    return f"<!DOCTYPE html><html><head><title>Example</title></head><body>\n{markup}\n</body></html>"


def test_schemaorg_examples_file_parses(shared_data):
    examples = schemaorg_examples(shared_data)
    assert len(examples) == 212
    assert examples["#eg-0186"]["TYPES"] == "#eg-0186 Question, Answer"
    assert set(examples["#eg-0186"]) == {"TYPES", "PRE-MARKUP", "MICRODATA", "RDFA", "JSON"}


def test_schemaorg_has_no_faqpage_example(shared_data):
    """No FAQPage example exists in this file; if one appears, it must be tested here."""
    examples = schemaorg_examples(shared_data)
    assert [k for k, ex in examples.items() if "FAQPage" in ex["TYPES"] or "FAQPage" in ex.get("JSON", "")] == []


@pytest.mark.parametrize("ident", ["#eg-0090", "#eg-0100"])
def test_schemaorg_question_examples_json_only_are_not_faq(shared_data, ident):
    """AskAction.question and ReplyAction's Answer.parentItem: Questions, but no FAQPage."""
    example = schemaorg_examples(shared_data)[ident]
    assert example["MICRODATA"] == "This example is JSON only."
    assert example["RDFA"] == "This example is JSON only."
    page, stats = page_with_stats(as_page(example["JSON"]))
    assert page.pairs == []
    assert page.syntaxes == {"json-ld": 0, "microdata": 0, "rdfa": 0}
    assert stats == collections.Counter(pages_parsed=1, qapage_or_question_only=1)


def test_schemaorg_qa_example_0186_same_in_three_syntaxes(shared_data):
    """A lone Question (QAPage style) in Microdata, RDFa and JSON-LD: no pair, counted in each."""
    example = schemaorg_examples(shared_data)["#eg-0186"]
    results = []
    for section in ("MICRODATA", "RDFA", "JSON"):
        page, stats = page_with_stats(as_page(example[section]))
        results.append((page.pairs, dict(stats)))
    assert results == [([], {"pages_parsed": 1, "qapage_or_question_only": 1})] * 3


def test_schemaorg_qa_example_0186_inside_a_faqpage(shared_data):
    """The real 0186 markup, wrapped in a FAQPage by the test (the wrapper is built, the Question is
    schema.org's): all three syntaxes give the same pair. Microdata/RDFa write
    ``itemprop="suggestedAnswer acceptedAnswer"`` on the first answer: it is the accepted one."""
    example = schemaorg_examples(shared_data)["#eg-0186"]
    microdata = example["MICRODATA"].replace(
        '<div itemscope itemtype="https://schema.org/Question">',
        '<div itemscope itemprop="mainEntity" itemtype="https://schema.org/Question">', 1)
    microdata = f'<div itemscope itemtype="https://schema.org/FAQPage">{microdata}</div>'
    rdfa = example["RDFA"].replace('<div vocab="https://schema.org/" typeof="Question">',
                                   '<div property="mainEntity" typeof="Question">', 1)
    rdfa = f'<div vocab="https://schema.org/" typeof="FAQPage">{rdfa}</div>'
    question = json.loads(re.search(r"<script[^>]*>(.*)</script>", example["JSON"], re.S).group(1))
    del question["@context"]
    jsonld = ('<script type="application/ld+json">'
              + json.dumps({"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": question})
              + "</script>")
    expected = [("What is attr_accessor in Ruby?", "(The text of the accepted answer goes here...).")]
    for markup, syntax in ((microdata, "microdata"), (rdfa, "rdfa"), (jsonld, "json-ld")):
        page, stats = page_with_stats(as_page(markup))
        assert page.pairs == expected, syntax
        assert page.syntaxes[syntax] == 1
        assert stats["qapage_or_question_only"] == 0


# ------------------------------------------------------------------------------------------------
# Microdata and RDFa pages built from a real page's FAQ text
# ------------------------------------------------------------------------------------------------

FS24 = "financescout24.de.autokredit.html"
FS24_URL = "https://www.financescout24.de/kredit/autokredit"

# Breakage put before question i (0-based) of the broken variants: an unclosed <p> and <a>, PHP
# left in the template, an unbalanced </div> (inside an <object>, where a browser ignores it),
# and a stray end of document from an included template.
BREAKAGE = {
    0: '<p>Antworten auf die wichtigsten Fragen <a href="#faq-1">',
    4: "<?php if ($faq->hasMore()) { ?>",
    7: '<object data="/video/autokredit.mp4"></div></object>',
    10: "<?php include 'teaser.php'; ?></body></html>",
}


def fs24_faq(shared_data) -> tuple[str, list[tuple[str, str]]]:
    """The real page's HTML and its FAQ as written in its JSON-LD (names, answer HTML)."""
    text = read(shared_data, DE, FS24).decode("utf-8")
    block = re.search(r'<script type="application/ld\+json">(\s*\{\s*"@context": "https://schema.org",'
                      r'\s*"@type": "FAQPage".*?)</script>', text, re.S)
    data = json.loads(block.group(1))
    raw = [(q["name"], q["acceptedAnswer"]["text"]) for q in data["mainEntity"]]
    return text[:block.start()] + text[block.end():], raw


def built_markup(raw, syntax: str, broken: bool = False) -> str:
    """Microdata or RDFa FAQ markup holding the real questions and answer HTML (markup built here)."""
    if syntax == "microdata":
        start = '<section itemscope itemtype="https://schema.org/FAQPage">'
        item = ('<div itemscope itemprop="mainEntity" itemtype="https://schema.org/Question">'
                '<h3 itemprop="name">{q}</h3><div itemscope itemprop="acceptedAnswer" '
                'itemtype="https://schema.org/Answer"><div itemprop="text">{a}</div></div></div>')
    else:
        start = '<section vocab="https://schema.org/" typeof="FAQPage">'
        item = ('<div property="mainEntity" typeof="Question"><h3 property="name">{q}</h3>'
                '<div property="acceptedAnswer" typeof="Answer"><div property="text">{a}</div></div></div>')
    parts = [start, "<h2>Häufige Fragen zum Autokredit</h2>"]
    for i, (question, answer) in enumerate(raw):
        if broken and i in BREAKAGE:
            parts.append(BREAKAGE[i])
        parts.append(item.format(q=htmllib.escape(question), a=answer))
    if broken:
        parts.append("<?php } ?>")
    parts.append("</section>")
    return "\n".join(parts)


def into_page(page_html: str, markup: str) -> str:
    """Put markup at the start of the real page's body."""
    body = page_html.index(">", page_html.index("<body")) + 1
    return page_html[:body] + markup + page_html[body:]


def extruct_pairs(html: str, url: str) -> list[tuple[str, str]]:
    import extruct

    data = extruct.extract(html, base_url=url, syntaxes=["json-ld", "microdata", "rdfa"], uniform=True)
    return faq_pairs_from_json(data["json-ld"] + data["microdata"] + data["rdfa"], url)


@pytest.mark.parametrize("syntax", ["microdata", "rdfa"])
def test_built_markup_gives_the_jsonld_pairs(shared_data, syntax):
    reference = extract_faq_page(read(shared_data, DE, FS24), FS24_URL).pairs
    without_jsonld, raw = fs24_faq(shared_data)
    assert extract_faq_page(without_jsonld, FS24_URL).pairs == []
    page, stats = page_with_stats(into_page(without_jsonld, built_markup(raw, syntax)), FS24_URL)
    assert page.pairs == reference
    assert page.syntaxes == {"json-ld": 0, "microdata": 0, "rdfa": 0} | {syntax: 14}
    assert stats[f"pairs_{syntax}"] == 14


def test_same_faq_in_three_syntaxes_is_kept_once(shared_data):
    reference = extract_faq_page(read(shared_data, DE, FS24), FS24_URL).pairs
    page_html = read(shared_data, DE, FS24).decode("utf-8")
    _, raw = fs24_faq(shared_data)
    html = into_page(page_html, built_markup(raw, "microdata") + built_markup(raw, "rdfa"))
    page, stats = page_with_stats(html, FS24_URL)
    assert page.pairs == reference
    assert page.syntaxes == {"json-ld": 14, "microdata": 14, "rdfa": 14}
    assert stats["pairs_duplicate_across_syntaxes"] == 28
    assert stats["pages_with_faq"] == 1


@pytest.mark.parametrize("syntax, extruct_keeps", [("microdata", 10), ("rdfa", 0)])
def test_broken_markup_keeps_every_question(shared_data, syntax, extruct_keeps):
    """Broken markup (built; the FAQ text is real): lexbor keeps all 14 questions in the FAQPage,
    extruct's lxml tree loses the last 4 Microdata questions (after the stray </body></html>)
    and every RDFa one."""
    reference = extract_faq_page(read(shared_data, DE, FS24), FS24_URL).pairs
    without_jsonld, raw = fs24_faq(shared_data)
    html = into_page(without_jsonld, built_markup(raw, syntax, broken=True))
    assert extract_faq_page(html, FS24_URL).pairs == reference
    theirs = extruct_pairs(html, FS24_URL)
    assert len(theirs) == extruct_keeps
    assert [q for q, _ in theirs] == [q for q, _ in reference][:extruct_keeps]


def test_rdfa_link_wrapper_does_not_move_the_subject():
    """Invented minimal RDFa accordion: the question sits in <a href="#...">. RDFa Core (pyRdfa via
    extruct) gives the name to the link target and loses the pair; a browser shows it, we keep it."""
    html = as_page(
        '<div vocab="https://schema.org/" typeof="FAQPage">'
        '<div property="mainEntity" typeof="Question">'
        '<a href="#antwort-1" class="accordion"><h3 property="name">Wie lange dauert die Auszahlung?</h3></a>'
        '<div id="antwort-1" property="acceptedAnswer" typeof="Answer">'
        '<p property="text">In der Regel zwei bis drei Werktage nach Vertragsabschluss.</p></div></div></div>')
    expected = [("Wie lange dauert die Auszahlung?", "In der Regel zwei bis drei Werktage nach Vertragsabschluss.")]
    assert extract_faq_page(html, "https://example.org/faq").pairs == expected
    assert extruct_pairs(html, "https://example.org/faq") == [
        ("", "In der Regel zwei bis drei Werktage nach Vertragsabschluss.")]


def test_rdfa_prefixes_about_resource_and_rel():
    """Invented minimal RDFa 1.1 (not Lite): a declared prefix and the default ``schema:`` one,
    about/resource identifiers, a Question outside the FAQPage element joined by resource,
    ``rel`` links completed by the typed node below them, a content attribute. pyRdfa (through
    extruct) reads the same pairs."""
    html = as_page(
        '<div prefix="s: http://schema.org/"><div about="#faq" typeof="s:FAQPage">'
        '<span rel="s:mainEntity" resource="#q1"></span>'
        '<div rel="schema:mainEntity"><div typeof="schema:Question" about="#q2">'
        '<h3 property="schema:name">Zweite Frage per rel?</h3>'
        '<div rel="schema:acceptedAnswer"><p typeof="schema:Answer">'
        '<span property="schema:text">Antwort zwei.</span></p></div></div></div></div>'
        '<div about="#q1" typeof="s:Question"><h3 property="s:name">Erste Frage per resource?</h3>'
        '<div property="s:acceptedAnswer" typeof="s:Answer" resource="#a1">'
        '<meta property="s:text" content="Antwort &amp;eins."></div></div></div>')
    expected = [("Erste Frage per resource?", "Antwort &eins."), ("Zweite Frage per rel?", "Antwort zwei.")]
    assert extract_faq_page(html, "https://x.de/faq").pairs == expected
    assert sorted(extruct_pairs(html, "https://x.de/faq")) == expected  # rdflib's order varies


def test_microdata_itemref_itemid_and_meta_content():
    """Invented minimal Microdata: Questions outside the FAQPage element joined by itemref, an
    answer given as <link itemprop="acceptedAnswer" href> to an item's itemid, a meta content value."""
    html = as_page(
        '<div itemscope itemtype="http://schema.org/FAQPage" itemref="q1 q2"></div>'
        '<div id="q1" itemprop="mainEntity" itemscope itemtype="http://schema.org/Question">'
        '<span itemprop="name">Kann ich online bezahlen?</span>'
        '<link itemprop="acceptedAnswer" href="#a1"></div>'
        '<div id="q2" itemprop="mainEntity" itemscope itemtype="https://schema.org/Question">'
        '<meta itemprop="name" content="Gibt es Rabatt&amp;auml;tte?">'
        '<div itemprop="acceptedAnswer" itemscope itemtype="https://schema.org/Answer">'
        '<meta itemprop="text" content="&lt;p&gt;Nur f&amp;uuml;r Mitglieder.&lt;/p&gt;"></div></div>'
        '<div itemscope itemid="#a1" itemtype="https://schema.org/Answer">'
        '<div itemprop="text">Ja, mit Karte<br>oder per Überweisung.</div></div>')
    assert extract_faq_page(html, "https://shop.example/faq").pairs == [
        ("Kann ich online bezahlen?", "Ja, mit Karte\noder per Überweisung."),
        ("Gibt es Rabattätte?", "Nur für Mitglieder."),
    ]


# ------------------------------------------------------------------------------------------------
# hreflang alternates (real pages)
# ------------------------------------------------------------------------------------------------

HREFLANG = [
    ("austria.info.radfahren.html",
     "https://www.austria.info/de/aktivitaten/radfahren/radfahren-in-der-weltstadt-salzburg", 24,
     ("de-AT", "https://www.austria.info/at/aktivitaten/radfahren/radfahren-in-der-weltstadt-salzburg")),
    ("autosprint.ch-pistenstopp.html",
     "https://www.autosprint.ch/de/classic/histo-monte-pistenstopp-in-rheinfelden/", 8,
     ("de-DE-formal", "https://www.autosprint.ch/de/classic/histo-monte-pistenstopp-in-rheinfelden/")),
    ("kas.de-nordmazedonien.html",
     "https://www.kas.de/de/laenderberichte/detail/-/content/kommunalwahlen-in-nordmazedonien", 36,
     ("in", "https://www.kas.de/in/laenderberichte/detail/-/content/kommunalwahlen-in-nordmazedonien")),
    # 44 <link hreflang>, one of them rel="canonical": 43 alternates
    ("mozilla.org.firefox.developer.html", "https://www.mozilla.org/en-US/firefox/developer/", 43,
     ("x-default", "https://www.mozilla.org/firefox/39.0a2/firstrun/")),
    ("parallels.com.desktop.html", "https://www.parallels.com/products/desktop/", 27,
     ("en-CA", "https://www.parallels.com/ca/products/desktop/")),
    # relative hrefs, resolved against the page URL
    ("wbf.admin.ch.14093.html",
     "https://www.wbf.admin.ch/wbf/de/home/dokumentation/nsb-news_list.msg-id-14093.html", 4,
     ("it", "https://www.wbf.admin.ch/wbf/it/home/dokumentation/nsb-news_list.html")),
]


@pytest.mark.parametrize("name, url, count, example", HREFLANG)
def test_hreflang_alternates(shared_data, name, url, count, example):
    page, stats = page_with_stats(read(shared_data, "html-hreflang", name), url)
    assert len(page.hreflang) == count
    assert example in page.hreflang
    assert page.pairs == []
    assert stats == collections.Counter(pages_parsed=1)


def test_hreflang_details(shared_data):
    mozilla = extract_faq_page(read(shared_data, "html-hreflang", "mozilla.org.firefox.developer.html"),
                               "https://www.mozilla.org/en-US/firefox/developer/")
    assert mozilla.hreflang[:2] == [
        ("x-default", "https://www.mozilla.org/firefox/39.0a2/firstrun/"),
        ("an", "https://www.mozilla.org/an/firefox/39.0a2/firstrun/"),
    ]
    # the rel="canonical" link also carries hreflang="en": only the rel="alternate" one counts
    assert [alt for alt in mozilla.hreflang if alt[0] == "en"] == [
        ("en", "https://www.mozilla.org/en-US/firefox/39.0a2/firstrun/")]
    assert mozilla.title == "Welcome to Firefox Developer Edition"
    wbf = extract_faq_page(read(shared_data, "html-hreflang", "wbf.admin.ch.14093.html"),
                           "https://www.wbf.admin.ch/wbf/de/home/dokumentation/nsb-news_list.msg-id-14093.html")
    assert [code for code, _ in wbf.hreflang] == ["de", "en", "it", "fr"]
    assert wbf.title == "Städteschutz statt Alpentrutz"


def test_hreflang_resolved_against_base_element():
    """Invented minimal page: <base href> changes where relative alternates point."""
    html = ('<html><head><base href="https://cdn.example.com/site/"><link rel="Alternate" hreflang="fr" '
            'href="fr/faq.html"></head><body></body></html>')
    page = extract_faq_page(html, "https://www.example.com/de/faq.html")
    assert page.hreflang == [("fr", "https://cdn.example.com/site/fr/faq.html")]


# ------------------------------------------------------------------------------------------------
# Invalid JSON-LD (invented minimal strings, the shapes seen on real pages)
# ------------------------------------------------------------------------------------------------

FAQ_TEMPLATE = ('{{"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": [{{"@type": "Question", '
                '"name": "{q}", "acceptedAnswer": {{"@type": "Answer", "text": "{a}"}}{extra}}}]}}')


def jsonld_page(*bodies: str) -> str:
    return as_page("".join(f'<script type="application/ld+json">{body}</script>' for body in bodies))


@pytest.mark.parametrize("body", [
    pytest.param(FAQ_TEMPLATE.format(q="Q?", a="A.", extra=",") + "\n", id="trailing-comma"),
    pytest.param("// FAQ schema\n" + FAQ_TEMPLATE.format(q="Q?", a="A.", extra="/* no url */"), id="comments"),
    pytest.param(FAQ_TEMPLATE.format(q="Q?", a="A.", extra=', "url": "http://x.de/a//b"'), id="slashes-in-string"),
    pytest.param(FAQ_TEMPLATE.format(q="Q?", a="A.", extra="").replace('"@type": "Answer"', '"@type":\t"Answer"'),
                 id="tab-outside-string"),
    pytest.param("<!--\n" + FAQ_TEMPLATE.format(q="Q?", a="A.", extra="") + "\n-->", id="html-comment"),
    pytest.param("//<![CDATA[\n" + FAQ_TEMPLATE.format(q="Q?", a="A.", extra="") + "\n//]]>", id="cdata"),
    pytest.param(FAQ_TEMPLATE.format(q="Q?", a="A.", extra="") + '\n{"@context": "https://schema.org", "@type": "Organization"}',
                 id="concatenated"),
    pytest.param(FAQ_TEMPLATE.format(q="Q?", a="A.", extra=', "x": "it\\\'s"'), id="invalid-escape"),
])
def test_lenient_jsonld_repairs(body):
    page, stats = page_with_stats(jsonld_page(body))
    assert page.pairs == [("Q?", "A.")]
    assert stats["invalid_jsonld"] == 0


def test_control_characters_inside_strings():
    body = FAQ_TEMPLATE.format(q="Erste\tFrage?", a="Zeile eins\nZeile zwei\r\n\n  Zeile drei", extra="")
    page, stats = page_with_stats(jsonld_page(body))
    assert page.pairs == [("Erste Frage?", "Zeile eins\nZeile zwei\nZeile drei")]
    assert stats["invalid_jsonld"] == 0


def test_unreadable_jsonld_is_counted_and_other_blocks_still_read():
    good = FAQ_TEMPLATE.format(q="Q?", a="A.", extra="")
    page, stats = page_with_stats(jsonld_page('{"@type": "FAQPage", "mainEntity": [{"@type": "Question"', good))
    assert page.pairs == [("Q?", "A.")]
    assert stats["invalid_jsonld"] == 1


def test_load_json_documents():
    assert load_json_documents("") == []
    assert load_json_documents("  <!-- -->  ") == []
    assert load_json_documents('{"a": [1, 2,],}') == [{"a": [1, 2]}]
    assert load_json_documents('{"a": 1}\n{"b": 2};') == [{"a": 1}, {"b": 2}]
    assert load_json_documents('{"u": "https://x.de/a/*b*/"} // c') == [{"u": "https://x.de/a/*b*/"}]
    assert load_json_documents('{"a": "x\\\\\'y"}') == [{"a": "x\\'y"}]
    assert load_json_documents("{&quot;a&quot;: 1}") == [{"a": 1}]
    assert load_json_documents("{not json") is None


# ------------------------------------------------------------------------------------------------
# FAQ semantics on invented minimal JSON-LD
# ------------------------------------------------------------------------------------------------

def test_suggested_answer_only_as_fallback():
    """suggestedAnswer counts only when the Question has no acceptedAnswer at all."""
    both = {"@type": "Question", "name": "Beide?",
            "acceptedAnswer": {"@type": "Answer", "text": "Die akzeptierte."},
            "suggestedAnswer": {"@type": "Answer", "text": "Ein Vorschlag."}}
    only_suggested = {"@type": "Question", "name": "Nur Vorschlag?",
                      "suggestedAnswer": [{"@type": "Answer", "text": ""},
                                          {"@type": "Answer", "text": "Der zweite Vorschlag."}]}
    accepted_without_text = {"@type": "Question", "name": "Leer?",
                             "acceptedAnswer": {"@type": "Answer", "url": "https://x.de/#a"},
                             "suggestedAnswer": {"@type": "Answer", "text": "Nicht genommen."}}
    doc = {"@context": "https://schema.org", "@type": "FAQPage",
           "mainEntity": [both, only_suggested, accepted_without_text]}
    assert extract_faq_page(jsonld_page(json.dumps(doc)), "https://x.de/").pairs == [
        ("Beide?", "Die akzeptierte."), ("Nur Vorschlag?", "Der zweite Vorschlag.")]


def test_references_types_and_text_fallbacks():
    """@id references for mainEntity and acceptedAnswer, @type lists and IRIs, schema: keys,
    Question text in `text`, Answer text in `name`, untyped or foreign-typed nodes ignored."""
    doc = {
        "@context": {"schema": "https://schema.org/"},
        "@graph": [
            {"@type": ["WebPage", "http://schema.org/FAQPage"], "@id": "#faq",
             "schema:mainEntity": [{"@id": "#q1"}, "#q2", {"@id": "#q3"}, {"@id": "#q4"}]},
            {"@type": "schema:Question", "@id": "#q1", "text": "Frage im Feld text?",
             "acceptedAnswer": {"@id": "#a1"}},
            {"@type": "https://schema.org/Question", "@id": "#q2", "name": "Antwort im Feld name?",
             "acceptedAnswer": [{"@type": "Answer", "name": "So steht es im name."}]},
            {"@type": "http://example.org/Question", "@id": "#q3", "name": "Fremdes Vokabular?",
             "acceptedAnswer": {"@type": "Answer", "text": "Nein."}},
            {"@id": "#q4", "name": "Ohne Typ?", "acceptedAnswer": {"@type": "Answer", "text": "Nein."}},
            {"@type": "Answer", "@id": "#a1", "text": "Aufgelöst über @id."},
        ],
    }
    page, stats = page_with_stats(jsonld_page(json.dumps(doc)), "https://x.de/hilfe")
    assert page.pairs == [("Frage im Feld text?", "Aufgelöst über @id."),
                          ("Antwort im Feld name?", "So steht es im name.")]
    assert stats["qapage_or_question_only"] == 0


def test_qapage_and_lone_question_are_not_faq():
    qapage = {"@context": "https://schema.org", "@type": "QAPage",
              "mainEntity": {"@type": "Question", "name": "Wie?",
                             "acceptedAnswer": {"@type": "Answer", "text": "So."}}}
    page, stats = page_with_stats(jsonld_page(json.dumps(qapage)))
    assert page.pairs == []
    assert stats == collections.Counter(pages_parsed=1, qapage_or_question_only=1)


def test_text_rendering():
    """Entities (also double-escaped), escaped markup, <br>, blocks, lists, alt texts, scripts."""
    assert html_to_text("Gr&amp;uuml;&szlig;e &amp;amp; mehr") == "Grüße & mehr"
    assert html_to_text("&lt;p&gt;Eins&lt;/p&gt;&lt;p&gt;Zwei&lt;/p&gt;") == "Eins\nZwei"
    assert html_to_text('Erst<br/>dann <img alt="Bild" src="x.png"><b>fett</b>'
                        '<ul><li>a</li>\n  <li> b </li></ul><script>var x;</script>Ende') == \
        "Erst\ndann fett\na\nb\nEnde"
    assert html_to_text("Keine  Tags,\n\n  aber   Zeilen \n") == "Keine Tags,\naber Zeilen"
    assert html_to_text("a < b und c > d") == "a < b und c > d"


# ------------------------------------------------------------------------------------------------
# Charsets and size cap
# ------------------------------------------------------------------------------------------------

def test_decode_header_says_latin1_but_page_is_utf8(shared_data):
    raw = read(shared_data, DE, "haus.de-Vorsatzschallung.html")
    text = decode_html(raw, "text/html; charset=ISO-8859-1")
    assert text == raw.decode("utf-8")
    page = extract_faq_page(raw, "https://www.haus.de/", content_type="text/html; charset=ISO-8859-1")
    assert page.pairs[0][0] == "Was ist eine Vorsatzschalung?"
    assert "Gebäudefassade" in page.pairs[0][1]


def latin1_smava(shared_data, meta: str | None) -> tuple[bytes, str]:
    """The real smava page re-encoded as windows-1252, with its charset declaration replaced."""
    text = read(shared_data, DE, "smava.de.privatkredit.html").decode("utf-8")
    text = re.sub(r"<meta[^>]*charset[^>]*>", "", text, flags=re.I)
    if meta:
        text = text.replace("<head>", "<head>" + meta, 1)
    return text.encode("cp1252", "xmlcharrefreplace"), text


def test_decode_meta_charset_only(shared_data):
    payload, text = latin1_smava(shared_data, '<meta charset="windows-1252">')
    assert decode_html(payload) == payload.decode("cp1252")
    page = extract_faq_page(payload, "https://www.smava.de/")
    assert page.pairs == extract_faq_page(read(shared_data, DE, "smava.de.privatkredit.html"),
                                          "https://www.smava.de/").pairs


def test_decode_no_declaration_and_wrong_declaration(shared_data):
    reference = extract_faq_page(read(shared_data, DE, "smava.de.privatkredit.html"), "https://www.smava.de/").pairs
    payload, _ = latin1_smava(shared_data, None)
    assert b"charset" not in payload.lower()
    assert "Höhe der fälligen Zinsen" in decode_html(payload)
    page, stats = page_with_stats(payload, "https://www.smava.de/")
    assert page.pairs == reference
    # read twice (first as UTF-8, then through the fallbacks), counted once
    assert stats == collections.Counter(pages_parsed=1, pages_with_faq=1, pairs_jsonld=4)
    # declared UTF-8 (header and meta), bytes are windows-1252: the declaration fails, we fall back
    payload, _ = latin1_smava(shared_data, '<meta charset="utf-8">')
    assert "Höhe der fälligen Zinsen" in decode_html(payload, "text/html; charset=utf-8")
    assert extract_faq_page(payload, "https://www.smava.de/", "text/html; charset=UTF-8").pairs == reference
    # an unknown label is ignored
    assert decode_html("Grüße".encode("utf-8"), "text/html; charset=x-no-such-charset") == "Grüße"


def test_decode_bom_and_truncated_utf8():
    assert decode_html(b"\xef\xbb\xbf<p>Gr\xc3\xbc\xc3\x9fe</p>") == "<p>Grüße</p>"
    assert decode_html("<p>Grüße</p>".encode("utf-16")) == "<p>Grüße</p>"
    assert decode_html("<p>Grü".encode("utf-8") + b"\xc3") == "<p>Grü"


def test_html_over_the_cap_is_cut_and_counted(shared_data):
    raw = read(shared_data, DE, "smava.de.privatkredit.html").decode("utf-8")
    end_of_faq = raw.index("</script>", raw.index('"@type":"FAQPage"')) + len("</script>")
    page, stats = page_with_stats(raw, max_html_chars=end_of_faq)
    assert len(page.pairs) == 4
    assert stats["truncated_html"] == 1
    page, stats = page_with_stats(raw, max_html_chars=end_of_faq - 200)
    assert page.pairs == []
    assert stats["truncated_html"] == 1 and stats["invalid_jsonld"] == 1


def test_deep_nesting_does_not_crash():
    """Invented pathological pages: 20,000 unclosed <font> tags inside an answer, JSON nested
    5,000 levels deep (counted as invalid JSON-LD)."""
    deep_answer = ('<div itemscope itemtype="https://schema.org/FAQPage"><div itemprop="mainEntity" itemscope '
                   'itemtype="https://schema.org/Question"><span itemprop="name">Wie tief geht das?</span>'
                   '<div itemprop="acceptedAnswer" itemscope itemtype="https://schema.org/Answer">'
                   '<div itemprop="text">' + "<font>" * 20000 + "Ganz unten.</div></div></div></div>")
    assert extract_faq_page(as_page(deep_answer), "https://x.de/").pairs == [("Wie tief geht das?", "Ganz unten.")]
    page, stats = page_with_stats(jsonld_page('{"@type": "FAQPage", "x": ' + "[" * 5000 + "]" * 5000 + "}"))
    assert page.pairs == []
    assert stats["invalid_jsonld"] == 1


def test_leniencies_rdfa_without_vocab_and_url_valued_microdata_name():
    """Invented minimal pages. RDFa terms with no vocab in scope are read as schema.org (pages
    forget vocab; pyRdfa drops them). A Microdata name on <a href> has the URL as its value by
    the HTML spec: that is not question text, so the Question's `text` is used instead."""
    rdfa = as_page('<div typeof="FAQPage"><div property="mainEntity" typeof="Question">'
                   '<h3 property="name">Ohne vocab?</h3><div property="acceptedAnswer" typeof="Answer">'
                   '<p property="text">Wird trotzdem gelesen.</p></div></div></div>')
    assert extract_faq_page(rdfa, "https://x.de/").pairs == [("Ohne vocab?", "Wird trotzdem gelesen.")]
    assert extruct_pairs(rdfa, "https://x.de/") == []
    microdata = as_page(
        '<div itemscope itemtype="https://schema.org/FAQPage"><div itemprop="mainEntity" itemscope '
        'itemtype="https://schema.org/Question"><a itemprop="name" href="/faq#1">Link-Frage?</a>'
        '<p itemprop="text">Die eigentliche Frage?</p><div itemprop="acceptedAnswer" itemscope '
        'itemtype="https://schema.org/Answer"><p itemprop="text">Die Antwort.</p></div></div></div>')
    assert extract_faq_page(microdata, "https://x.de/").pairs == [("Die eigentliche Frage?", "Die Antwort.")]


def test_selector_lists_give_each_node_once():
    """lexbor returns a node once per selector of a list it matches; the RDFa walk and the page
    pass must see it once (else an element with typeof and property is walked twice)."""
    from selectolax.lexbor import LexborHTMLParser

    from lib.extract.markup import _select

    parser = LexborHTMLParser('<a x></a><b y></b><c x y></c><d x></d>')
    assert len(parser.css("[x],[y]")) == 5
    assert [node.tag for node in _select(parser, "[x],[y]")] == ["a", "b", "c", "d"]


def test_unparseable_urls_do_not_fail_the_page():
    """Invented: a broken IPv6 base makes urljoin raise ValueError; the href is kept as written."""
    html = ('<html><head><base href="http://[::1/"><link rel="alternate" hreflang="de" href="de/">'
            '</head><body></body></html>')
    assert extract_faq_page(html, "https://x.de/").hreflang == [("de", "de/")]
