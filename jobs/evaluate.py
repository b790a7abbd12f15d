"""evaluate: BM25, dense or hybrid retrieval on collections in BEIR layout; NDCG@10, MAP, MRR@10, Recall@100.

``--beir DIR`` is either one collection (``corpus.jsonl``, ``queries.jsonl``, ``qrels/test.tsv``;
give its language with ``--languages``, e.g. a MIRACL or Mr. TyDi copy) or a folder of collections
named by language, as ``benchmark --export`` writes them (``--languages`` picks some; default all).

- ``--retriever bm25``: Pyserini (title + text, the language's Lucene analyzer, lib/retrieval/bm25.py),
  queries searched by Spark tasks, BM25 with Anserini's defaults k1=0.9, b=0.4 (``--k1``/``--b``).
- ``--retriever dense --model NAME_OR_PATH``: a sentence-transformers model encodes corpus and
  queries in Spark tasks (once per executor, on the task's GPU when one is assigned), faiss searches
  exactly by inner product (cosine for cosine models) on the driver (udfs/retrieval/evaluate.py).
- ``--retriever hybrid --model ...``: BM25 and dense fused: a document in both top lists scores
  1.1 x dense + BM25 (``evaluate.hybrid.dense_weight``), the WebFAQ authors' rule; documents in only
  one list follow (lib/retrieval/dense.py).

``evaluate.hits`` (1,000) hits per query; measures by pytrec_eval (lib/retrieval/metrics.py), printed
per language, appended to the runs table (``metrics``: ``<system>/<language>/<measure>``, between 0
and 1) and written under ``--output`` (default ``evaluate.output_dir``): per system, a TREC run file
and per-query measures per language and an MTEB result JSON (lib/retrieval/results.py).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from jobs.base import SparkJob, UsageError, deprecated_alias, language_list
from lib import conf as confmod
from lib.resources import Resources
from lib.retrieval import beir, bm25, metrics, results

EXAMPLES = """examples:
  spark-submit.sh evaluate --retriever bm25 --beir build/webfaq-beir                 # every language
  spark-submit.sh evaluate --retriever bm25 --beir build/webfaq-beir --languages deu,eng
  spark-submit.sh evaluate --retriever dense --model build/models/denoised --beir build/webfaq-beir
  spark-submit.sh evaluate --retriever hybrid --model PaDaS-Lab/xlm-roberta-base-msmarco --beir build/webfaq-beir
  spark-submit.sh evaluate --retriever bm25 --beir /data/miracl-sw --languages swa --json out.json

Files under --output: <system>/<language>.trec, <system>/<language>.per-query.tsv, <system>/<task>.json.
Counters: queries_<lang>, queries_without_hit_<system>_<lang>, documents_<lang>; dense:
encode_milliseconds_<system>_<lang>, truncated_documents_<system>_<lang>."""


def find_collections(root: Path, language: str | None) -> dict[str, Path]:
    """``{language: folder}`` of the collections to evaluate under ``root``."""
    if beir.is_collection(root):
        lang = language or root.name
        if len(lang) not in (2, 3):
            raise UsageError(f"{root} is one collection: name its language with --languages (e.g. eng)")
        return {bm25.normalize_language(lang): root}
    found = {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and beir.is_collection(p)} if root.is_dir() else {}
    if not found:
        raise UsageError(f"{root} holds no BEIR collection (corpus.jsonl + queries.jsonl)")
    if language:
        if language not in found:
            raise UsageError(f"no collection for {language!r} in {root} (found: {', '.join(found)})")
        return {language: found[language]}
    return found


def parse_models(values: list[str], default_name: str) -> list[tuple[str, str]]:
    """``[NAME=]PATH`` options -> ``[(name, path)]`` (the name defaults to ``default_name``)."""
    out = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or "/" in name or not name:
            name, path = default_name if len(values) == 1 else Path(value.rstrip("/")).name, value
        if not results.SYSTEM_NAME.match(name):
            raise UsageError(f"--model {value}: the name {name!r} may only hold letters, digits and _ . + -")
        out.append((name, path))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise UsageError(f"--model: two models share a name ({', '.join(names)}); name them NAME=PATH")
    return out


class EvaluateJob(SparkJob):
    name = "evaluate"
    description = __doc__
    epilog = EXAMPLES
    resources = Resources(cpus=1)  # one Lucene search thread per task (evaluate.search_threads)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--retriever", choices=["bm25", "dense", "hybrid"], default="bm25",
                            help="bm25 (Pyserini), dense (a sentence-transformers model and faiss) or "
                                 "hybrid (both fused); default bm25")
        languages = parser.add_argument(
            "--languages", type=language_list, default=None,
            help="comma-separated ISO-639-3 codes: the collections of a folder to evaluate (default: all), or "
                 "the language of one collection")
        deprecated_alias(parser, "--language", languages)
        self.add_common_arguments(parser)

    def add_common_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--model", action="append", default=[], metavar="[NAME=]NAME_OR_PATH",
                            help="sentence-transformers model (hub name or folder) for dense and hybrid; "
                                 "repeatable, NAME names its rows and files")
        parser.add_argument("--beir", required=True, metavar="DIR", help="a BEIR collection or a folder of them")
        parser.add_argument("--split", default="test", help="qrels split to evaluate (default: test)")
        parser.add_argument("--k1", type=float, default=None, help="BM25 k1 (default: evaluate.k1 = 0.9)")
        parser.add_argument("--b", type=float, default=None, help="BM25 b (default: evaluate.b = 0.4)")
        parser.add_argument("--output", default=None, metavar="DIR",
                            help="folder of the TREC runs, per-query measures and MTEB JSON "
                                 "(default: evaluate.output_dir, build/evaluate)")
        parser.add_argument("--json", default=None, metavar="FILE", help="also write the figures as JSON")

    def systems(self, args: argparse.Namespace) -> list:
        from udfs.retrieval.evaluate import System

        if args.retriever == "bm25":
            if args.model:
                raise UsageError("--model is for --retriever dense or hybrid")
            return [System("bm25", "bm25")]
        if not args.model:
            raise UsageError(f"--retriever {args.retriever} needs --model NAME_OR_PATH")
        return [System(name, args.retriever, path) for name, path in parse_models(args.model, args.retriever)]

    def check_models(self, systems) -> None:
        from udfs.models.encoders import check_local_model

        for s in systems:
            if s.model:
                check_local_model(s.model, f"--model {s.name}")

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        root = Path(args.beir)
        if not root.exists():
            raise UsageError(f"{root} does not exist")
        wanted = self.wanted_languages(args)
        self.collections = find_collections(root, wanted[0] if len(wanted) == 1 else None)
        missing = [lang for lang in wanted if lang not in self.collections]
        if len(wanted) > 1 and missing:
            raise UsageError(f"no collection for {', '.join(missing)} in {root} (found: {', '.join(self.collections)})")
        if len(wanted) > 1:
            self.collections = {lang: self.collections[lang] for lang in wanted}
        for lang, folder in self.collections.items():
            if not (folder / "qrels" / f"{args.split}.tsv").is_file():
                raise UsageError(f"{folder}/qrels/{args.split}.tsv is missing")
        try:  # read now, so that a bad line stops the job before Spark starts
            self.loaded = {lang: beir.read_collection(folder, args.split) for lang, folder in self.collections.items()}
        except beir.BeirFormatError as exc:
            raise UsageError(str(exc)) from exc
        self.system_list = self.systems(args)
        self.check_models(self.system_list)

    def wanted_languages(self, args: argparse.Namespace) -> list[str]:
        return list(args.languages or [])

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return [str(p) for p in self.collections.values()] + \
            [f"{s.name}={s.kind}:{s.model}" if s.model else f"{s.name}={s.kind}" for s in self.system_list]

    def output_dir(self, args: argparse.Namespace, conf: dict) -> str:
        return args.output or str(confmod.get(conf, "evaluate.output_dir"))

    def evaluate(self, spark, args: argparse.Namespace, conf: dict):
        """Every system on every collection: ``(results, counters)``, files written, runs.metrics set."""
        from udfs.retrieval.evaluate import DenseSettings, evaluate_collection

        get = lambda key: confmod.get(conf, f"evaluate.{key}")  # noqa: E731
        k1 = args.k1 if args.k1 is not None else float(get("k1"))
        b = args.b if args.b is not None else float(get("b"))
        index_root = confmod.get(conf, "evaluate.index_dir", None)
        tmp = None if index_root else tempfile.TemporaryDirectory(prefix="webfaq-eval-")
        index_root = index_root or tmp.name
        dense_settings = DenseSettings.from_conf(get("dense"))
        counters: dict[str, int] = {}
        found: dict[str, dict[str, tuple]] = {s.name: {} for s in self.system_list}
        kinds = {s.name: s.kind for s in self.system_list}
        started = time.monotonic()
        try:
            for language in self.collections:
                collection = self.loaded[language]
                counters[f"documents_{language}"] = len(collection.corpus)
                if not collection.qrels:
                    self.log(f"{language}: qrels/{args.split}.tsv has no judged query, skipped")
                    counters[f"queries_{language}"] = 0
                    continue
                per_system = evaluate_collection(
                    spark, language, collection, self.system_list, index_root=index_root, hits=int(get("hits")),
                    k1=k1, b=b, queries_per_task=int(get("queries_per_task")), threads=int(get("search_threads")),
                    dense_settings=dense_settings, dense_weight=float(get("hybrid.dense_weight")), log=self.log)
                counters[f"queries_{language}"] = len(collection.qrels)
                for name, (run, per_query, result, stats) in per_system.items():
                    if kinds[name] in ("bm25", "hybrid"):
                        result.update({"analyzer": bm25.analyzer_for(language).describe(), "k1": k1, "b": b})
                    found[name][language] = (run, per_query, result, stats)
                    counters[f"queries_without_hit_{name}_{language}"] = sum(
                        1 for q in collection.queries if not run.get(q))
                    if "encode_seconds" in stats:
                        counters[f"encode_milliseconds_{name}_{language}"] = int(1000 * stats["encode_seconds"])
                        counters[f"truncated_documents_{name}_{language}"] = int(stats["truncated_documents"])
                    self.metrics.update(results.metrics_of(name, language, result))
        finally:
            if tmp is not None:
                tmp.cleanup()
        elapsed = time.monotonic() - started

        out_dir = self.output_dir(args, conf)
        task = str(get("mteb_task_name"))
        by_system = {}
        for s in self.system_list:
            per_lang = found[s.name]
            by_system[s.name] = {lang: v[2] for lang, v in per_lang.items()}
            if per_lang:
                results.write_system_files(out_dir, s.name, task, args.split,
                                           {lang: v[0] for lang, v in per_lang.items()},
                                           {lang: v[1] for lang, v in per_lang.items()},
                                           by_system[s.name], elapsed, s.model or s.kind)
        for s in self.system_list:
            print(self.describe(s, k1, b, int(get("hits"))) + f", split {args.split}")
            for language, result in by_system[s.name].items():
                print("  " + metrics.format_row(language, result) + (f"  [{result['analyzer']}]" if s.kind == "bm25" else ""))
        print(f"[{self.name}] TREC runs, per-query measures and {task}.json under {out_dir}/<system>/")
        if args.json:
            Path(args.json).write_text(json.dumps(by_system if len(by_system) > 1 else next(iter(by_system.values())),
                                                  indent=1))
        return by_system, counters

    @staticmethod
    def describe(system, k1: float, b: float, hits: int) -> str:
        if system.kind == "bm25":
            return f"{system.name}: BM25 (Pyserini/Lucene, k1={k1}, b={b}, {hits} hits)"
        if system.kind == "dense":
            return f"{system.name}: dense {system.model} (faiss exact inner product, {hits} hits)"
        return f"{system.name}: hybrid BM25 + dense {system.model} ({hits} hits each, fused)"

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        _, counters = self.evaluate(spark, args, conf)
        return counters


if __name__ == "__main__":
    EvaluateJob.run()
