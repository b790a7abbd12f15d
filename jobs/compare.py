"""compare: BM25 and several dense retrievers on the same collections, as a table shaped like
Table 5 of WebFAQ 2.0 (rows: retrievers; columns: languages; NDCG@10 in %).

The collections are those of ``evaluate`` (``--beir``: one BEIR folder or a folder of them, one per
language). BM25 runs first (unless ``--no-bm25``), then every ``--model NAME=PATH`` as a dense
retriever, each evaluated exactly as ``evaluate --retriever dense`` does (encoding in Spark tasks,
exact faiss search, pytrec_eval); ``--hybrid`` adds each model fused with BM25 (``NAME+bm25``).

Writes to ``--output`` (default ``<evaluate.output_dir>/compare``): ``comparison.md``,
``comparison.csv`` and ``comparison.png`` (grouped bars), and per system the TREC runs, per-query
measures and MTEB result JSON of ``evaluate``. Every figure goes to the runs table
(``metrics``: ``<system>/<language>/<measure>``).
"""
from __future__ import annotations

import argparse
import os

from jobs.base import UsageError, deprecated_alias, language_list
from jobs.evaluate import EvaluateJob, parse_models
from lib import conf as confmod
from lib.retrieval import results

EXAMPLES = """examples:
  spark-submit.sh compare --beir build/webfaq-beir --model base=PaDaS-Lab/xlm-roberta-base-msmarco \\
      --model rn=build/models/rn --model top4=build/models/top4 --model denoised=build/models/denoised \\
      --model m-mse=build/models/margin-mse --output build/table5
  spark-submit.sh compare --beir build/webfaq-beir --languages eng,deu --model base=/models/base --hybrid

Files under --output: comparison.md, comparison.csv, comparison.png; <system>/<language>.trec,
<system>/<language>.per-query.tsv, <system>/<task>.json."""


class CompareJob(EvaluateJob):
    name = "compare"
    description = __doc__
    epilog = EXAMPLES

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        languages = parser.add_argument(
            "--languages", action="extend", type=language_list, default=None,
            help="comma-separated ISO-639-3 codes to compare (repeatable; default: every collection under --beir)")
        deprecated_alias(parser, "--language", languages)
        self.add_common_arguments(parser)
        parser.add_argument("--no-bm25", action="store_true", help="leave out the BM25 row")
        parser.add_argument("--hybrid", action="store_true", help="also each model fused with BM25 (NAME+bm25)")

    def wanted_languages(self, args: argparse.Namespace) -> list[str]:
        return list(args.languages or [])

    def systems(self, args: argparse.Namespace) -> list:
        from udfs.retrieval.evaluate import System

        if not args.model:
            raise UsageError("compare needs at least one --model NAME=PATH")
        models = parse_models(args.model, "dense")
        out = [] if args.no_bm25 else [System("bm25", "bm25")]
        out += [System(name, "dense", path) for name, path in models]
        if args.hybrid:
            out += [System(f"{name}+bm25", "hybrid", path) for name, path in models]
        return out

    def output_dir(self, args: argparse.Namespace, conf: dict) -> str:
        return args.output or os.path.join(str(confmod.get(conf, "evaluate.output_dir")), "compare")

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        by_system, counters = self.evaluate(spark, args, conf)
        out_dir = self.output_dir(args, conf)
        caption = f"NDCG@10 (%), split {args.split}, {', '.join(sorted(self.collections))}"
        paths = results.write_comparison(out_dir, by_system, caption=caption)
        print()
        print(results.comparison_markdown(by_system, caption=caption))
        print(f"[compare] {paths['markdown']}, {paths['csv']}, {paths['png']}")
        return counters


if __name__ == "__main__":
    CompareJob.run()
