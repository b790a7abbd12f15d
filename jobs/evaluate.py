"""evaluate: BM25 on any collection in BEIR layout; prints NDCG@10, MAP, MRR@10 and Recall@100.

``--beir DIR`` is either one collection (``corpus.jsonl``, ``queries.jsonl``, ``qrels/test.tsv``;
give its language with ``--languages``, e.g. a MIRACL or Mr. TyDi copy) or a folder of collections
named by language, as ``benchmark --export`` writes them (``--languages`` picks some; default all).

The corpus is indexed with Pyserini (title + text, the language's Lucene analyzer, lib/retrieval/bm25.py),
the split's queries are searched by Spark tasks (udfs/retrieval/bm25.py), ``evaluate.hits`` (1,000) hits per
query, BM25 with Anserini's defaults k1=0.9, b=0.4 (``--k1``/``--b``), and the run is scored
with pytrec_eval (lib/retrieval/metrics.py). The same figures are appended to the runs table, times 10,000.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path

from jobs.base import SparkJob, UsageError, deprecated_alias, language_list
from lib.retrieval import beir, bm25, metrics
from lib import conf as confmod
from lib.resources import Resources
from udfs.retrieval import bm25 as bm25_udf

EXAMPLES = """examples:
  spark-submit.sh evaluate --retriever bm25 --beir build/webfaq-beir                 # every language
  spark-submit.sh evaluate --retriever bm25 --beir build/webfaq-beir --languages deu,eng
  spark-submit.sh evaluate --retriever bm25 --beir /data/miracl-sw --languages swa --json out.json"""


def find_collections(root: Path, languages: list[str] | None) -> dict[str, Path]:
    """``{language: folder}`` of the collections to evaluate under ``root``."""
    if beir.is_collection(root):
        if languages and len(languages) > 1:
            raise UsageError(f"{root} is one collection: name its one language with --languages")
        lang = languages[0] if languages else root.name
        if len(lang) not in (2, 3):
            raise UsageError(f"{root} is one collection: name its language with --languages (e.g. eng)")
        return {bm25.normalize_language(lang): root}
    found = {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and beir.is_collection(p)} if root.is_dir() else {}
    if not found:
        raise UsageError(f"{root} holds no BEIR collection (corpus.jsonl + queries.jsonl)")
    if languages:
        missing = [language for language in languages if language not in found]
        if missing:
            raise UsageError(f"no collection for {', '.join(missing)} in {root} (found: {', '.join(found)})")
        return {language: found[language] for language in languages}
    return found


class EvaluateJob(SparkJob):
    name = "evaluate"
    description = __doc__
    epilog = EXAMPLES
    resources = Resources(cpus=1)  # one Lucene search thread per task (evaluate.search_threads)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--retriever", choices=["bm25"], default="bm25", help="retrieval model (bm25)")
        parser.add_argument("--beir", required=True, metavar="DIR", help="a BEIR collection or a folder of them")
        languages = parser.add_argument(
            "--languages", type=language_list, default=None,
            help="comma-separated ISO-639-3 codes: the collections of a folder to evaluate (default: all), or "
                 "the language of one collection")
        deprecated_alias(parser, "--language", languages)
        parser.add_argument("--split", default="test", help="qrels split to evaluate (default: test)")
        parser.add_argument("--k1", type=float, default=None, help="BM25 k1 (default: evaluate.k1 = 0.9)")
        parser.add_argument("--b", type=float, default=None, help="BM25 b (default: evaluate.b = 0.4)")
        parser.add_argument("--json", default=None, metavar="FILE", help="also write the figures as JSON")

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        root = Path(args.beir)
        if not root.exists():
            raise UsageError(f"{root} does not exist")
        self.collections = find_collections(root, args.languages)
        for lang, folder in self.collections.items():
            if not (folder / "qrels" / f"{args.split}.tsv").is_file():
                raise UsageError(f"{folder}/qrels/{args.split}.tsv is missing")
        try:  # read now, so that a bad line stops the job before Spark starts
            self.loaded = {lang: beir.read_collection(folder, args.split) for lang, folder in self.collections.items()}
        except beir.BeirFormatError as exc:
            raise UsageError(str(exc)) from exc

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return [str(p) for p in self.collections.values()]

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        k1 = args.k1 if args.k1 is not None else float(confmod.get(conf, "evaluate.k1"))
        b = args.b if args.b is not None else float(confmod.get(conf, "evaluate.b"))
        hits = int(confmod.get(conf, "evaluate.hits"))
        per_task = int(confmod.get(conf, "evaluate.queries_per_task"))
        threads = int(confmod.get(conf, "evaluate.search_threads"))
        index_root = confmod.get(conf, "evaluate.index_dir", None)
        tmp = None if index_root else tempfile.TemporaryDirectory(prefix="webfaq-eval-")
        index_root = index_root or tmp.name
        counters: dict[str, int] = {}
        results = {}
        try:
            for language, folder in self.collections.items():
                collection = self.loaded[language]
                if not collection.qrels:
                    self.log(f"{language}: qrels/{args.split}.tsv has no judged query, skipped")
                    counters[f"queries_{language}"] = 0
                    continue
                index = os.path.join(index_root, language)
                bm25.build_index(((i, beir.doc_contents(d["title"], d["text"])) for i, d in collection.corpus.items()),
                                 index, language)
                rows = [(language, q, t) for q, t in collection.queries.items()]
                df = spark.createDataFrame(rows, "language string, query_id string, query string")
                df = df.repartition(max(1, math.ceil(len(rows) / per_task)))
                found = df.mapInPandas(bm25_udf.search_partitions({language: index}, hits, k1, b, threads),
                                       bm25_udf.SEARCH_OUTPUT).collect()
                run = {r["query_id"]: dict(zip(r["doc_ids"], r["scores"])) for r in found}
                result = metrics.evaluate(collection.qrels, run)
                result.update({"documents": len(collection.corpus),
                               "analyzer": bm25.analyzer_for(language).describe(), "k1": k1, "b": b})
                results[language] = result
                for m in metrics.MEASURES:
                    counters[f"{m}_x10000_{language}"] = int(round(result[m] * 10000))
                counters[f"queries_{language}"] = int(result["queries"])
                counters[f"queries_without_hit_{language}"] = sum(1 for q in collection.queries if not run.get(q))
        finally:
            if tmp is not None:
                tmp.cleanup()
        print(f"BM25 (Pyserini/Lucene, k1={k1}, b={b}, {hits} hits), split {args.split}")
        for language, result in results.items():
            print("  " + metrics.format_row(language, result) + f"  [{result['analyzer']}]")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
        return counters


if __name__ == "__main__":
    EvaluateJob.run()
