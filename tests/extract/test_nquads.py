"""Tests of lib.extract.nquads: Web Data Commons FAQPage N-Quads -> FAQ pages and QA pairs.

The real input is ``webfaq-wdc-nquads/FAQPage_sample.txt.gz`` (1,000 lines of WDC's FAQPage
extraction: 13 pages, 56 Question entities). The pairs pinned below were read off the lines by
hand (line numbers given), then rendered and cleaned by the rules of lib/extract/markup.py and
lib/extract/clean.py. Tests that damage the sample or write a few quads say so.
"""
from __future__ import annotations

import collections
import gzip
import io

import pytest

from lib.extract.manifest import ManifestError, expand_sources, sniff_format
from lib.extract.nquads import read_faq_pages
from lib.extract.pipeline import ExtractSettings, extract_from_nquads

SAMPLE = ("webfaq-wdc-nquads", "FAQPage_sample.txt.gz")

# Lines 1-13: plain-text answers; the first has "\n" escapes, "5.   Logging" (spaces collapse) and
# a "1. " numbering prefix (removed by the cleaning).
ANYQUESTIONS = "http://anyquestions.info/index-137.html"
ANYQUESTIONS_PAIRS = {
    ("What are the Components of Cloud Workload Security?",
     "Access Control\n2. Encryption\n3. Intrusion Detection and Prevention\n4. Vulnerability Management\n"
     "5. Logging and Monitoring\n6. Continuous and Comprehensive Monitoring\n7. Provide Opportunities for "
     "Learning\n8. Defense in Depth\n9. Embrace Automation and Orchestration\n10. Make Compliance Easy", "eng"),
    ("What are the Best Practices for Cloud Workload Security?",
     "Effective cloud workload security means focusing on multiple elements, not all of them technical. "
     "While having the right tools in place at every layer of the application stack is critical, it\u2019s "
     "also important to have the right culture and processes in place. Implementing the technical details "
     "is much easier when an organization focuses on effective, holistic security and engineering "
     "practices.", "eng"),
}
# Lines 14-91: HTML answers (<p>, <br />, a mailto link); the second question's answer holds a "?"
# ("Wil je graag een Telefoon last minute boeken?") and is dropped.
BRUILOFT = "http://bruilofttelefoon.nl/bruilofttelefoon-wit-als-een-trouwjurk/"
BRUILOFT_PAIRS = {
    ("Wanneer kunnen wij een offerte verwachten als we een reservering hebben ingediend?",
     "Wij streven ernaar om doordeweeks alle aanvragen binnen 24 uur te lezen en te verwerken. Alle "
     "aanvragen in het weekend worden uiterlijk maandag door ons beantwoord.\nDit geldt ook voor de "
     "betalingsbevestigingen en mails met vragen.\nMocht u na 24 uur niets gehoord hebben, neem dan gerust "
     "contact met ons op via de mail!", "nld"),
    ("Hoe kan ik contact met jullie opnemen?",
     "Reserveringen kunnen geplaatst worden via het aanmeldformulier onder aan de pagina.\nDirect contact "
     "regelen wij voornamelijk via de mail omdat ons werk ons soms belet de telefoon op te nemen. Wel kunnen "
     "wij onze mail snel lezen en dat doen we ook. Voor noodgevallen zijn wij natuurlijk altijd bereikbaar. "
     "Stuur ons een mail met daarin het telefoonnummer waarop we je bereiken kunnen en we bellen z.s.m "
     "terug.\nVoor alle vragen kan je altijd terecht via de mail: info@bruilofttelefoon.nl\nWe hopen op "
     "jullie begrip!", "nld"),
}
# Lines 569-575: an answer with \" escapes, an <img alt="blog_5"> (alt text is not text), "\r\n"
# between two identical paragraphs.
TASHRIFAT = ("http://tashrifat-majales.com/faq-items/vivamus-ullamcorper-nim-sit-amet-consequat-laoreet-"
             "tortor-tortor-dictum-egestas-urna/")
_LOREM = ("لورم ایپسوم متن ساختگی با تولید سادگی نامفهوم از صنعت چاپ و با استفاده از طراحان گرافیک است. "
          "چاپگرها و متون بلکه روزنامه و مجله در ستون و سطرآنچنان که لازم است و برای شرایط فعلی تکنولوژی "
          "مورد نیاز است و کاربردهای متنوع با هدف بهبود ابزارهای کاربردی می باشد. کتابهای زیادی در شصت و سه "
          "درصد گذشته، حال و آینده شناخت فراوان جامعه و متخصصان را می طلبد تا با نرم افزارها شناخت بیشتری را "
          "برای طراحان رایانه ای علی الخصوص طراحان خلاقی و فرهنگ پیشرو در زبان فارسی ایجاد کرد.")
TASHRIFAT_PAIRS = {
    ("لورم ایپسوم متن ساختگی با تولید سادگی نامفهوم از صنعت چاپ و با استفاده از طراحان گرافیک است",
     _LOREM + "\n" + _LOREM, "fas"),
}
# Lines 726-759: three Russian pairs, plain text.
KVARTAL = "https://8kvartal.by/fundamenty/czokolnyj-fundament/"
KVARTAL_PAIRS = {
    ("Если фундамент уже готов, можно ли построить цоколь?",
     "Важен вид грунта. Герметизация стыков пола и стен будет крайне непростой. Поэтому следует обратиться "
     "к профессиональным специалистам в этой области.", "rus"),
    ("Обязательно ли обустраивать дренаж на территории?",
     "Да, обязательно. При наличии подвала бетон подвергается повышенным нагрузкам, его нужно хорошо "
     "оградить от воздействия влаги.", "rus"),
    ("Можно ли проводить работы по созданию цокольного этажа весной?",
     "Крайне нежелательно. Во-первых, таяние приводит к подвижкам почвы, что может породить ошибки при "
     "расчетах. Во-вторых, в это время года много воды, а значит ее придется или откачивать, или ждать пока "
     "отдельные элементы конструкции подсохнут.", "rus"),
}


@pytest.fixture(scope="module")
def sample_rows(shared_data):
    stats: collections.Counter = collections.Counter()
    path = shared_data.joinpath(*SAMPLE)
    with open(path, "rb") as fh:
        rows = list(extract_from_nquads(str(path), fh, ExtractSettings(), stats))
    return rows, stats


def pairs_of(rows, url) -> set[tuple[str, str, str]]:
    return {(r["question"], r["answer"], r["language"]) for kind, r in rows if kind == "pair" and r["url"] == url}


def test_sample_pages_lines_and_questions(shared_data):
    stats: collections.Counter = collections.Counter()
    with open(shared_data.joinpath(*SAMPLE), "rb") as fh:
        pages = list(read_faq_pages(fh, stats))
    assert [(p.first_line, p.num_lines, len(p.pairs)) for p in pages] == [
        (1, 13, 2), (14, 78, 3), (92, 31, 5), (123, 184, 12), (307, 157, 4), (464, 59, 1), (523, 46, 3),
        (569, 7, 1), (576, 150, 6), (726, 34, 3), (760, 73, 5), (833, 146, 11)]
    assert pages[0].url == ANYQUESTIONS and pages[9].url == KVARTAL
    # 13 pages; the last (abcelektrik.org, lines 979-1000) is cut by the sample's end: its FAQPage
    # names two mainEntity blank nodes whose statements are not in the file.
    assert {k: stats[k] for k in ("nquads_lines", "nquads_pages", "pages_with_faq", "questions",
                                  "main_entities_unresolved")} == {
        "nquads_lines": 1000, "nquads_pages": 13, "pages_with_faq": 12, "questions": 56,
        "main_entities_unresolved": 2}
    assert stats["nquads_malformed_lines"] == stats["questions_outside_faqpage"] == 0
    assert stats["questions_without_answer"] == stats["pairs_duplicate_on_page"] == 0


def test_sample_exact_pairs_of_four_hand_checked_pages(sample_rows):
    rows, _ = sample_rows
    assert pairs_of(rows, ANYQUESTIONS) == ANYQUESTIONS_PAIRS
    assert pairs_of(rows, BRUILOFT) == BRUILOFT_PAIRS
    assert pairs_of(rows, TASHRIFAT) == TASHRIFAT_PAIRS
    assert pairs_of(rows, KVARTAL) == KVARTAL_PAIRS
    page = next(r for kind, r in rows if kind == "page" and r["url"] == BRUILOFT)
    assert (page["source"], page["warc_record_offset"], page["warc_record_length"], page["num_pairs"]) == \
           ("wdc-nquads", 14, 78, 2)
    assert page["origin"] == "http://bruilofttelefoon.nl" and page["fetch_date"] is None


def test_sample_counts_every_dropped_pair_by_reason(sample_rows):
    rows, stats = sample_rows
    assert stats["raw_pairs"] == 56 and stats["pairs_kept"] == 52
    dropped = {k: v for k, v in stats.items() if k.startswith("dropped_")}
    # answers holding "?": bruilofttelefoon (last minute boeken), usenet-start.info (upgrade at TUI,
    # flight status); question under 10 characters: rgfisc.6679shop.com "我该如何开始?" (7).
    assert dropped == {"dropped_answer_has_question_mark": 3, "dropped_question_too_short": 1}
    kept_questions = {r["question"] for kind, r in rows if kind == "pair"}
    for question in ("Kunnen we een Bruiloft Telefoon ook last minute boeken?", "How do I upgrade at TUI?",
                     "How do I check my TUI flight status?", "我该如何开始?"):
        assert question not in kept_questions
    assert {k: v for k, v in stats.items() if k.startswith("kept_")} == {
        "kept_eng": 24, "kept_zho": 16, "kept_tur": 5, "kept_rus": 3, "kept_nld": 2, "kept_spa": 1, "kept_fas": 1}


def _sample_lines(shared_data) -> list[bytes]:
    return gzip.decompress(shared_data.joinpath(*SAMPLE).read_bytes()).split(b"\n")


def test_malformed_lines_are_counted_and_skipped(shared_data):
    """The sample damaged on purpose: a line cut in half inside the anyquestions page (line 9, a
    Question's type), a garbage line, a triple without graph; the other pages are untouched."""
    lines = _sample_lines(shared_data)
    damaged = lines[:8] + [lines[8][:40]] + lines[9:300] + [b"this is not a quad ."] + \
        [b'_:x <http://schema.org/name> "no graph" .'] + lines[300:]
    stats: collections.Counter = collections.Counter()
    pages = {p.url: p for p in read_faq_pages(io.BytesIO(b"\n".join(damaged)), stats)}
    assert stats["nquads_malformed_lines"] == 2 and stats["nquads_lines_without_graph"] == 1
    # The Question whose type line was lost is no Question any more: one pair left on that page.
    assert [q for q, _ in pages[ANYQUESTIONS].pairs] == ["What are the Components of Cloud Workload Security?"]
    assert stats["questions"] == 55 and len(pages) == 12
    assert sum(len(p.pairs) for p in pages.values()) == 55


def test_a_cut_gzip_stream_keeps_the_pages_before_the_cut(shared_data):
    data = shared_data.joinpath(*SAMPLE).read_bytes()
    stats: collections.Counter = collections.Counter()
    pages = list(read_faq_pages(io.BytesIO(data[: len(data) // 2]), stats))
    assert stats["truncated_files"] == 1
    assert [p.url for p in pages][:3] == [ANYQUESTIONS, BRUILOFT, "http://caveartproject.org/ultrabet"]
    assert 0 < stats["nquads_lines"] < 1000


def test_literal_escapes_tags_datatypes_and_answer_rules():
    """A few quads written here (no real file has every shape): N-Triples escapes, a language
    tag, a datatype, https schema.org IRIs, suggestedAnswer without acceptedAnswer, an Answer with
    only a name, a Question with only text, a Question outside the FAQPage and one without answer."""
    g = "<https://example.org/faq>"
    s = "<https://schema.org/"
    t = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    quads = f"""
_:p {t} {s}FAQPage> {g} .
_:p {s}mainEntity> _:q1 {g} .
_:p {s}mainEntity> _:q2 {g} .
_:p {s}mainEntity> _:q3 {g} .
_:q1 {t} {s}Question> {g} .
_:q1 {s}name> "Was hei\\u00DFt \\"FAQ\\"?"@de {g} .
_:q1 {s}suggestedAnswer> _:a1 {g} .
_:a1 {t} {s}Answer> {g} .
_:a1 {s}text> "Zeile eins\\nZeile zwei \\U0001F600"^^<http://www.w3.org/2001/XMLSchema#string> {g} .
_:q2 {t} {s}Question> {g} .
_:q2 {s}text> "Only text" {g} .
_:q2 {s}acceptedAnswer> <https://example.org/faq#a2> {g} .
<https://example.org/faq#a2> {t} {s}Answer> {g} .
<https://example.org/faq#a2> {s}name> "An answer in its name" {g} .
_:q3 {t} {s}Question> {g} .
_:q3 {s}name> "No answer here" {g} .
_:q4 {t} {s}Question> {g} .
_:q4 {s}name> "Not listed" {g} .
_:q4 {s}acceptedAnswer> <https://example.org/faq#a2> {g} .
""".encode()
    stats: collections.Counter = collections.Counter()
    (page,) = read_faq_pages(io.BytesIO(gzip.compress(quads)), stats)
    assert page.url == "https://example.org/faq" and page.first_line == 2 and page.num_lines == 19
    assert sorted(page.pairs) == [("Only text", "An answer in its name"),
                                  ('Was heißt "FAQ"?', "Zeile eins\nZeile zwei \U0001F600")]
    assert (stats["questions"], stats["questions_outside_faqpage"], stats["questions_without_answer"]) == (4, 1, 1)


def test_dumps_are_sniffed_by_content_and_source_mismatches_refused(shared_data, tmp_path):
    sample = shared_data.joinpath(*SAMPLE)
    assert sniff_format(sample.read_bytes()[:4096]) == "wdc-nquads"
    warc = shared_data / "warc-resiliparse" / "warcfile.warc.gz"
    assert expand_sources([str(sample), str(warc)]) == [(str(sample), "wdc-nquads"), (str(warc), "warc")]
    # A folder: N-Quads found by content whatever the name (WDC names its parts part_N.gz).
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "part_0.gz").write_bytes(sample.read_bytes())
    (tmp_path / "dump" / "notes.txt").write_text("not an input\n")
    assert expand_sources([str(tmp_path / "dump")], source="wdc-nquads") == [
        (str(tmp_path / "dump" / "part_0.gz"), "wdc-nquads")]
    # A manifest's entries go by name, else the given source.
    manifest = tmp_path / "dumps.txt"
    manifest.write_text("https://example.org/FAQPage/part_0.gz\nx.nq.gz\n")
    assert expand_sources([str(manifest)]) == [("https://example.org/FAQPage/part_0.gz", "warc"),
                                               ("x.nq.gz", "wdc-nquads")]
    assert expand_sources([str(manifest)], source="wdc-nquads")[0][1] == "wdc-nquads"
    with pytest.raises(ManifestError, match="is a wdc-nquads file, not warc"):
        expand_sources([str(sample)], source="warc")
