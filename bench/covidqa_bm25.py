"""BM25 (Pyserini, Anserini defaults k1=0.9 b=0.4) on COVID-QA as per-language question->answer retrieval.

    .venv/bin/python bench/covidqa_bm25.py [--shared ../shared/data] [--json]

The 896 real FAQ pairs of the COVID-QA scrape (faq-covidqa-deepset/faq_200327.tsv; de, en, pl, it,
sv) become, per language, a collection whose corpus is every answer of that language and whose
queries are every question, each with its own answer as the one relevant document (the
"all questions" task). Each language is indexed with its Lucene analyzer (lib/retrieval/bm25.py), searched
top-1000, and scored with pytrec_eval (lib/retrieval/metrics.py). The one-pair-per-origin test split of
lib/retrieval/beir.py (seed 42) is scored too, but it has only as many queries as the language has origins.
tests/retrieval/test_bm25.py checks the NDCG@10 of the all-questions task against bounds around these figures.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ISO639_3 = {"de": "deu", "en": "eng", "pl": "pol", "it": "ita", "sv": "swe"}


def covidqa_collections(shared: Path) -> dict[str, list[dict]]:
    """Per language (ISO-639-3): ``[{id, origin, question, answer}]`` from the COVID-QA scrape."""
    import pandas as pd

    from lib.extract.clean import origin_of, qa_id

    raw = pd.read_csv(shared / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t")
    raw = raw.dropna(subset=["question", "answer", "link"])
    out: dict[str, dict[str, dict]] = {}
    for q, a, link, lang in zip(raw.question, raw.answer, raw.link, raw.lang):
        q, a = q.strip(), a.strip()
        row = {"id": qa_id(q, a), "origin": origin_of(link), "question": q, "answer": a}
        out.setdefault(ISO639_3[lang], {}).setdefault(row["id"], row)
    return {lang: list(rows.values()) for lang, rows in sorted(out.items())}


def evaluate_language(language: str, rows: list[dict], workdir: Path, seed: int = 42) -> dict:
    from lib.retrieval import beir, bm25, metrics

    index = workdir / f"index-{language}"
    bm25.build_index(((beir.doc_id(r["id"]), r["answer"]) for r in rows), index, language)
    searcher = bm25.Bm25Searcher(index, language)
    qids = [beir.query_id(r["id"]) for r in rows]
    hits = searcher.search(qids, [r["question"] for r in rows], k=1000, with_text=False)
    run = {q: {h.doc_id: h.score for h in hs} for q, hs in hits.items()}
    qrels = {beir.query_id(r["id"]): {beir.doc_id(r["id"]): 1} for r in rows}
    split = beir.split_pairs(((r["id"], r["origin"]) for r in rows), seed=seed, max_test=10_000)
    test = {q: rel for q, rel in qrels.items() if split[beir.qa_id_of(q)] == "test"}
    searcher.close()
    return {"language": language, "analyzer": searcher.choice.describe(), "documents": len(rows),
            "origins": len({r["origin"] for r in rows}),
            "all_questions": metrics.evaluate(qrels, run), "test_split": metrics.evaluate(test, run)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    from lib.retrieval import metrics

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for language, rows in covidqa_collections(args.shared).items():
            results.append(evaluate_language(language, rows, Path(tmp)))
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    print("BM25 (Pyserini/Lucene, k1=0.9 b=0.4) on COVID-QA, question -> answer, per language")
    for r in results:
        print(f"\n{r['language']}  {r['documents']} answers, {r['origins']} origins, {r['analyzer']}")
        print("  " + metrics.format_row("all", r["all_questions"]))
        print("  " + metrics.format_row("test split", r["test_split"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
