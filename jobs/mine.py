"""mine: hard negatives for every training query: BM25 top-200 (Pyserini), rescored by BGE-m3.

1. Training queries of the benchmark tables (split 'train'), with their positive (the relevant
   answer of qrels/train). Queries already in ``hard_negatives`` are skipped: a re-run after an
   interruption fills only the missing ones.
2. One Lucene index per language, built once on the driver with the language's analyzer
   (lib/retrieval/bm25.py; a language without one gets the neutral analyzer and is counted), then searched
   by many Spark tasks (udfs/retrieval/bm25.py says how executors reach it).
3. Per query: the top ``mine.top_k`` BM25 candidates minus the positive, minus duplicates of the
   positive's text, minus repeated texts (lib/retrieval/negatives.py). A small corpus gives what it has; a
   query with no BM25 hit gets a record with no negatives (counted, skipped by the export).
4. Every (query, positive) and (query, candidate) pair is scored with BGE-m3 through FlagEmbedding
   (udfs/retrieval/rerank.py), on the task's GPU where the executors have GPUs: the reranking then
   runs in a stage of its own, with the resource profile the job declares (``MineJob.resources``).
5. One record per query merged into Delta ``hard_negatives``:
   (query, positive, pos_score, negatives, neg_scores) plus ids, BM25 scores and bookkeeping.

``--export DIR --strategy S --export-format F`` then writes the records after strategy S (top4,
denoised, margin, top10-scores, all; seeded) in the layout F a trainer reads (lib/exports/trainers.py):
sentence-transformers' ``n-tuple`` or ``triplet`` (with a ``scores`` column for MarginMSE) or
FlagEmbedding's ``flagembedding`` JSON lines, as ``DIR/<F>/<S>/<language>/train-*``. The dataset
card ``DIR/README.md`` names one config ``<F>-<S>-<language>`` per sentence-transformers file set,
so that ``datasets.load_dataset(DIR, config)`` goes to a trainer as it is; FlagEmbedding's files are
a dataset of their own with their card in ``DIR/flagembedding/`` (configs ``<S>-<language>``). DIR
is a folder or any fsspec URL (s3://, abfss://, gs://, dbfs:/). The export also reports, per
language, how many candidates each strategy removes as likely false negatives.
``--export-only`` skips mining.
"""
from __future__ import annotations

import argparse
import math

from pyspark import StorageLevel

from jobs.base import SparkJob, UsageError, language_list
from lib import conf as confmod
from lib.exports import destination, trainers
from lib.resources import Resources
from lib.retrieval import negatives as neg
from lib.schemas import HARD_NEGATIVES_KEY, HARD_NEGATIVES_PARTITION
from udfs import exports
from udfs.delta import merge_new_rows
from udfs.progress import ProgressReporter
from udfs.retrieval import bm25 as bm25_udf
from udfs.retrieval import negatives as mining
from udfs.retrieval import rerank as rerank_udf
from udfs.session import gpu_step_profile

EXAMPLES = """examples:
  spark-submit.sh mine                                   # mine every language of the benchmark tables
  spark-submit.sh mine --languages deu --limit 1000      # a trial on 1,000 German training queries
  spark-submit.sh mine --export build/negatives --strategy denoised --export-only
  spark-submit.sh mine --export build/negatives --export-only --strategy top10-scores \
      --export-format n-tuple --export-format flagembedding --languages deu,eng
  spark-submit.sh mine --export s3://bucket/webfaq/negatives --export-only        # needs s3fs
  spark-submit.sh mine --profile gpu                     # BM25 on CPU cores, BGE-m3 on one GPU per task

Train on the export:
  train = datasets.load_dataset("build/negatives", "n-tuple-denoised-deu", split="train")
  SentenceTransformerTrainer(model=model, train_dataset=train, loss=MultipleNegativesRankingLoss(model))

Counters: queries_to_mine, queries_already_mined, queries_without_bm25_hit, candidates, candidates
per language, positives_in_bm25_top, removed_positive_duplicates, removed_repeated_texts,
languages_without_analyzer, indexes_built; with --export: exported_<format>_<strategy>_<lang> (rows),
skipped_short_<format>_<strategy>_<lang> (fewer negatives than an n-tuple needs),
skipped_empty_<format>_<strategy>_<lang> (no negative left), fn_removed_<strategy>_<lang> (candidates a
strategy drops as likely false negatives)."""


class MineJob(SparkJob):
    name = "mine"
    description = __doc__
    epilog = EXAMPLES
    # The BGE-m3 reranking takes one GPU per task (BM25 tasks one CPU core): 568M parameters, 2.3 GB
    # in fp32 while loading, the CUDA context and the Lucene JVM in the Python worker fit in 6 GB.
    resources = Resources(cpus=1, gpus=1, memory="6g", every_task=False)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--languages", type=language_list, default=None,
                            help="comma-separated ISO-639-3 codes (default: mine.languages, else all)")
        parser.add_argument("--limit", type=int, default=None, metavar="N",
                            help="mine at most N missing queries (a trial run)")
        parser.add_argument("--rebuild-index", action="store_true", help="rebuild the BM25 indexes")
        parser.add_argument("--export", default=None, metavar="DIR",
                            help="write the hard negatives to DIR (a folder or an fsspec URL such as s3://..., "
                                 "dbfs:/...) as DIR/<format>/<strategy>/<language>/ with a dataset card listing "
                                 "the configs of this export (use a new folder per export)")
        parser.add_argument("--strategy", choices=trainers.STRATEGIES, action="append", default=None,
                            help="how negatives are chosen (repeatable; default: "
                                 f"{', '.join(neg.STRATEGIES)}; 'all' keeps every candidate)")
        parser.add_argument("--export-format", choices=trainers.FORMATS, action="append", default=None,
                            help="layout of the export (repeatable; default: n-tuple): n-tuple and triplet for "
                                 "sentence-transformers, flagembedding for FlagEmbedding")
        parser.add_argument("--seed", type=int, default=None, help="export seed (default: mine.export.seed)")
        parser.add_argument("--export-only", action="store_true", help="skip mining, only export")

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        if args.export_only and not args.export:
            raise UsageError("--export-only needs --export DIR")
        if args.export:
            try:
                self.destination = destination.check(args.export, "--export")
                params = neg.StrategyParams.from_conf(confmod.get(conf, "mine.export"))
                for fmt in self.formats(args):
                    for strategy in self.strategies(args):
                        trainers.check(fmt, strategy, params)
            except (destination.DestinationError, trainers.FormatError, ValueError) as exc:
                raise UsageError(str(exc)) from exc
        if args.limit is not None and args.limit < 1:
            raise UsageError("--limit must be at least 1")
        if int(confmod.get(conf, "mine.top_k")) < 1:
            raise UsageError("mine.top_k must be at least 1")
        try:
            rerank_udf.RerankSettings.from_conf(confmod.get(conf, "models.bge_m3"), confmod.get(conf, "mine.rerank"))
        except ValueError as exc:
            raise UsageError(str(exc)) from exc

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return ["benchmark_queries", "benchmark_qrels", "benchmark_corpus"]

    def strategies(self, args) -> list[str]:
        return list(dict.fromkeys(args.strategy or neg.STRATEGIES))

    def formats(self, args) -> list[str]:
        return list(dict.fromkeys(args.export_format or ["n-tuple"]))

    def languages(self, args, conf) -> list[str]:
        return args.languages or list(confmod.get(conf, "mine.languages", []) or [])

    # -- mining ----------------------------------------------------------------------------
    def mine(self, spark, args, conf) -> dict:
        get = lambda key: confmod.get(conf, f"mine.{key}")  # noqa: E731
        queries, corpus = mining.training_queries(
            spark, self.table(conf, "benchmark_queries"), self.table(conf, "benchmark_qrels"),
            self.table(conf, "benchmark_corpus"), self.languages(args, conf))
        out_path = self.table(conf, "hard_negatives")
        queries, counters = mining.queries_to_mine(spark, queries, out_path, args.limit)
        todo = counters["queries_to_mine"]
        if todo == 0:
            queries.unpersist()
            self.log("nothing to mine: every training query has its record")
            return counters

        languages = mining.languages_of(queries)
        ship = bool(get("ship_index"))
        index_dir = get("index_dir")  # default: in the cache folder, one per benchmark_corpus table
        index_dir = (confmod.absolute_location(index_dir) if index_dir else
                     confmod.cache_path(conf, f"bm25_indexes/{confmod.location_key(self.table(conf, 'benchmark_corpus'))}"))
        indexes = bm25_udf.build_language_indexes(spark, corpus, languages, index_dir,
                                                  rebuild=args.rebuild_index, ship=ship)
        counters["indexes_built"] = sum(1 for i in indexes.values() if i["built"])
        counters["languages_without_analyzer"] = sum(1 for i in indexes.values() if i["analyzer"] == "neutral")
        for lang, info in indexes.items():
            self.log(f"{lang}: index {info['path']} ({info['documents']} documents, analyzer {info['analyzer']}"
                     f"{', built' if info['built'] else ', reused'})")

        top_k, tasks = int(get("top_k")), max(1, math.ceil(todo / max(1, int(get("queries_per_task")))))
        mined = mining.bm25_candidates(queries, {lang: info["path"] for lang, info in indexes.items()}, tasks,
                                       top_k, int(get("search_slack")), float(get("k1")), float(get("b")),
                                       int(get("search_threads")), int(get("search_batch")), ship)
        settings = rerank_udf.RerankSettings.from_conf(confmod.get(conf, "models.bge_m3"), get("rerank"))
        scored = mining.rescore(mined, settings, int(get("rerank.queries_per_batch")), self.run_id, tasks,
                                int(get("rerank.tasks")) or tasks, gpu_step_profile(spark, self.resources))
        scored = scored.persist(StorageLevel.MEMORY_AND_DISK)
        with ProgressReporter(spark, "mine", 10.0):
            scored.count()
        counters.update(mining.mined_counters(scored, top_k))
        result = merge_new_rows(spark, scored, out_path, HARD_NEGATIVES_KEY, partition_by=HARD_NEGATIVES_PARTITION,
                                partitions={"language": languages})
        counters["records_inserted"] = result["inserted"]
        scored.unpersist()
        queries.unpersist()
        return counters

    # -- export ----------------------------------------------------------------------------
    def export(self, spark, args, conf) -> dict:
        params = neg.StrategyParams.from_conf(confmod.get(conf, "mine.export"))
        seed = args.seed if args.seed is not None else int(confmod.get(conf, "mine.export.seed"))
        table = mining.hard_negatives(spark, self.table(conf, "hard_negatives"), self.languages(args, conf))
        removals = mining.false_negative_removals(table, params)
        self.print_removals(removals, params)
        counters: dict[str, int] = {}
        for r in removals:
            for s in neg.STRATEGIES:
                counters[f"fn_removed_{s}_{r['language']}"] = r[s]
            counters[f"fn_candidates_{r['language']}"] = r["candidates"]
        counters.update(exports.export_hard_negatives(
            table, self.destination, self.formats(args), self.strategies(args), seed, params,
            int(confmod.get(conf, "export.rows_per_shard")), trainers.strategy_notes(params),
            license=str(confmod.get(conf, "export.license")),
            pretty_name=str(confmod.get(conf, "export.names.hard_negatives"))))
        self.log(f"hard negatives written to {args.export} (configs <format>-<strategy>-<language>, README.md)")
        return counters

    @staticmethod
    def print_removals(removals: list[dict], params: neg.StrategyParams) -> None:
        """The report of likely false negatives: per language, the candidates each strategy drops."""
        print("candidates removed as likely false negatives, per language "
              f"(denoised > max_score {params.max_score}, margin > positive score - |positive score| x "
              f"relative_margin {params.relative_margin})")
        print(f"  {'language':<9}{'candidates':>11}" + "".join(f"{s:>14}" for s in neg.STRATEGIES))
        for r in removals:
            print(f"  {r['language']:<9}{r['candidates']:>11}" + "".join(f"{r[s]:>14}" for s in neg.STRATEGIES))

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        counters = {} if args.export_only else self.mine(spark, args, conf)
        if args.export:
            counters.update(self.export(spark, args, conf))
        return counters


if __name__ == "__main__":
    MineJob.run()
