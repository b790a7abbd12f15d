"""BM25 with Pyserini (Anserini's Lucene): one index per language, batch search, analyzers.

Languages are ISO-639-3 codes (as in ``qa_pairs``). Each is analysed by the Lucene analyzer that
Anserini's ``AnalyzerMap`` has for it (stemming and stopwords of that language; ``jpn`` is
morphological through Kuromoji, ``zho``/``kor`` are CJK bigrams, ``pol`` is Morfologik). English
gets Anserini's default (Porter stemming, Lucene's English stopwords).

A language without a Lucene analyzer (of the 20 WebFAQ retrieval languages only ``vie``) is *not*
left to Anserini's silent default, which would be the English analyzer with Porter stemming; it
gets the language-neutral analyzer instead: Lucene's StandardTokenizer (Unicode UAX#29 word
boundaries), lowercasing, no stemming, no stopwords. ``analyzer_for(lang).kind == 'neutral'`` says
so, and the jobs count such languages (``languages_without_analyzer``).

The index stores each document's text, so a search hit carries it (the mining stage needs the
candidate texts for reranking, without a join of 200 rows per query).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from lib.retrieval.pyserini_env import ensure_java

# Anserini's defaults for BM25 (the paper's BM25 rows use them).
DEFAULT_K1 = 0.9
DEFAULT_B = 0.4

# ISO-639-3 -> the key of Anserini's AnalyzerMap (Lucene's language analyzers).
LUCENE_ANALYZERS = {
    "ara": "ar", "ben": "bn", "dan": "da", "deu": "de", "spa": "es", "fas": "fa", "pes": "fa",
    "fin": "fi", "fra": "fr", "hin": "hi", "hun": "hu", "ind": "id", "ita": "it", "jpn": "ja",
    "kor": "ko", "nld": "nl", "nor": "no", "nob": "no", "nno": "no", "pol": "pl", "por": "pt",
    "rus": "ru", "swe": "sv", "tel": "te", "tha": "th", "tur": "tr", "ukr": "uk", "zho": "zh",
    "cmn": "zh",
}
ISO639_1_TO_3 = {v: k for k, v in LUCENE_ANALYZERS.items() if len(k) == 3}
ISO639_1_TO_3.update({"en": "eng", "fa": "fas", "no": "nor", "zh": "zho", "vi": "vie"})


@dataclass(frozen=True)
class AnalyzerChoice:
    language: str          # ISO-639-3 code asked for
    kind: str              # 'lucene' (language analyzer) | 'english' | 'neutral'
    code: str | None       # Anserini language key ('de', ...) for kind 'lucene'

    def describe(self) -> str:
        if self.kind == "lucene":
            return f"Lucene analyzer '{self.code}'"
        if self.kind == "english":
            return "Anserini DefaultEnglishAnalyzer (Porter)"
        return "neutral (StandardTokenizer + lowercase, no stemming, no stopwords)"


def normalize_language(language: str) -> str:
    """ISO-639-3 from a 3-letter code or a 2-letter one (``de`` -> ``deu``)."""
    lang = language.strip().lower()
    if len(lang) == 2:
        return ISO639_1_TO_3.get(lang, lang)
    return lang


def analyzer_for(language: str) -> AnalyzerChoice:
    lang = normalize_language(language)
    if lang == "eng":
        return AnalyzerChoice(lang, "english", None)
    if lang in LUCENE_ANALYZERS:
        return AnalyzerChoice(lang, "lucene", LUCENE_ANALYZERS[lang])
    return AnalyzerChoice(lang, "neutral", None)


def _indexer_args(choice: AnalyzerChoice, index_dir: str) -> list[str]:
    args = ["-index", index_dir, "-storeContents"]
    if choice.kind == "lucene":
        args += ["-language", choice.code]
    elif choice.kind == "neutral":
        args += ["-stemmer", "none", "-keepStopwords"]
    return args


def build_index(docs: Iterable[tuple[str, str]], index_dir: str | os.PathLike, language: str,
                threads: int = 1, batch_size: int = 10_000, overwrite: bool = True) -> int:
    """Index ``(doc_id, text)`` pairs into a new Lucene index at ``index_dir``; returns the count.

    The index is written to ``<index_dir>.tmp`` and renamed when complete, so a reader never sees
    a half-built index and an interrupted build leaves no index behind.
    """
    ensure_java()
    from pyserini.index.lucene import LuceneIndexer

    index_dir = str(index_dir)
    tmp = index_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    if os.path.exists(index_dir):
        if not overwrite:
            raise FileExistsError(index_dir)
        shutil.rmtree(index_dir)
    Path(tmp).parent.mkdir(parents=True, exist_ok=True)
    indexer = LuceneIndexer(args=_indexer_args(analyzer_for(language), tmp), threads=threads)
    count, batch = 0, []
    try:
        for doc_id, text in docs:
            batch.append(json.dumps({"id": str(doc_id), "contents": text or ""}, ensure_ascii=False))
            if len(batch) >= batch_size:
                indexer.add_batch_raw(batch)
                count += len(batch)
                batch = []
        if batch:
            indexer.add_batch_raw(batch)
            count += len(batch)
    finally:
        indexer.close()
    with open(os.path.join(tmp, "webfaq_index.json"), "w", encoding="utf-8") as fh:
        json.dump({"language": normalize_language(language), "analyzer": analyzer_for(language).kind,
                   "documents": count}, fh)
    os.replace(tmp, index_dir)
    return count


def index_info(index_dir: str | os.PathLike) -> dict:
    """What ``build_index`` recorded beside the index (language, analyzer, documents)."""
    path = Path(index_dir) / "webfaq_index.json"
    if not path.is_file():
        raise FileNotFoundError(f"no BM25 index at {index_dir} (no webfaq_index.json)")
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Hit:
    doc_id: str
    score: float
    text: str | None


class Bm25Searcher:
    """A Lucene index opened for BM25 search with its language's analyzer."""

    def __init__(self, index_dir: str | os.PathLike, language: str | None = None,
                 k1: float = DEFAULT_K1, b: float = DEFAULT_B):
        ensure_java()
        from pyserini.search.lucene import LuceneSearcher

        self.index_dir = str(index_dir)
        self.language = normalize_language(language or index_info(index_dir)["language"])
        self.choice = analyzer_for(self.language)
        self.searcher = LuceneSearcher(self.index_dir)
        if self.choice.kind == "lucene":
            self.searcher.set_language(self.choice.code)
        elif self.choice.kind == "neutral":
            from pyserini.analysis import get_lucene_analyzer

            self.searcher.set_analyzer(get_lucene_analyzer(language="en", stemming=False, stopwords=False))
        self.searcher.set_bm25(float(k1), float(b))

    @property
    def num_docs(self) -> int:
        return int(self.searcher.num_docs)

    def search(self, qids: list[str], queries: list[str], k: int = 200, threads: int = 1,
               with_text: bool = True) -> dict[str, list[Hit]]:
        """Top-``k`` hits per query id (an empty list where nothing matched), best first."""
        if not qids:
            return {}
        results = self.searcher.batch_search(list(queries), [str(q) for q in qids], k=int(k),
                                             threads=int(threads))
        out: dict[str, list[Hit]] = {}
        for qid in qids:
            hits = results.get(str(qid), [])
            out[str(qid)] = [Hit(h.docid, float(h.score),
                                 h.lucene_document.get("contents") if with_text else None) for h in hits]
        return out

    def close(self) -> None:
        self.searcher.close()


def search_batches(searcher: Bm25Searcher, rows: Iterable[tuple[str, str]], k: int, threads: int = 1,
                   batch_size: int = 1000, with_text: bool = True) -> Iterator[tuple[str, list[Hit]]]:
    """``(qid, hits)`` for ``(qid, query)`` rows, searched ``batch_size`` queries at a time."""
    batch: list[tuple[str, str]] = []

    def flush():
        result = searcher.search([q for q, _ in batch], [t for _, t in batch], k, threads, with_text)
        for qid, _ in batch:
            yield qid, result[str(qid)]

    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            yield from flush()
            batch = []
    if batch:
        yield from flush()
