"""extract: Common Crawl WARC files -> ``faq_pages`` and ``qa_pairs`` Delta tables.

Reads every WARC record, keeps HTTP 200 HTML responses that contain the bytes ``FAQPage``, parses
their schema.org FAQPage markup (JSON-LD, Microdata, RDFa), cleans, filters and language-tags the
question/answer pairs as WebFAQ 2.0 does, drops exact duplicates by id and merges the result into
the warehouse: a re-run adds nothing, a new crawl adds only what is new.
"""
from __future__ import annotations

import argparse

from pyspark import StorageLevel
from pyspark.sql import functions as F

from jobs.base import SparkJob, UsageError
from lib import conf as confmod
from lib.extract.manifest import ManifestError, check_inputs, expand_inputs
from lib.resources import Resources
from lib.schemas import FAQ_PAGES_KEY
from udfs.progress import ProgressReporter
from udfs.delta import merge_new_rows

EXAMPLES = """examples:
  spark-submit.sh extract --input tests/data/sample.warc.gz
  spark-submit.sh extract --input warc.paths.gz --profile cluster --limit 100
  spark-submit.sh extract --input s3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz \\
      --input-base-uri s3://commoncrawl/ --profile cluster

A manifest lists WARC paths or URLs one a line (local paths, file://, s3://, s3a://, https://),
like Common Crawl's warc.paths.gz; gzipped manifests work too. Relative entries are joined to
--input-base-uri (or extract.input_base_uri in the profile).

Counters printed at the end (and stored as a row of the runs table): files, records, responses,
html_responses, candidates, pages_with_faq, raw_pairs, dropped_<reason>, pairs_kept,
kept_<language>, duplicates_in_run, pairs_inserted, pages_inserted, unreadable_files/records."""


class ExtractJob(SparkJob):
    name = "extract"
    description = __doc__
    epilog = EXAMPLES
    resources = Resources(cpus=1)  # one WARC file per task, on one core; no model but fastText

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input", "-i", action="append", required=True, metavar="MANIFEST_OR_WARC",
                            help="a manifest of WARC paths/URLs (plain or .gz), a WARC file, or a folder "
                                 "of WARC files; repeatable")
        parser.add_argument("--input-base-uri", default=None,
                            help="prefix for relative manifest entries, e.g. s3://commoncrawl/ "
                                 "(default: extract.input_base_uri of the profile)")
        parser.add_argument("--limit", type=int, default=None, metavar="N",
                            help="process only the first N WARC files of the input (for a trial run)")
        parser.add_argument("--files-per-task", type=int, default=None, metavar="N",
                            help="WARC files per Spark task (default: extract.files_per_task, 1)")

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        base = args.input_base_uri or confmod.get(conf, "extract.input_base_uri", None)
        try:
            paths = expand_inputs(args.input, base_uri=base)
        except ManifestError as exc:
            raise UsageError(str(exc)) from exc
        if args.limit is not None:
            if args.limit < 1:
                raise UsageError("--limit must be at least 1")
            paths = paths[: args.limit]
        if not paths:
            raise UsageError(f"no WARC files in {', '.join(args.input)}")
        missing = check_inputs(paths)
        if missing:
            shown = "\n  ".join(missing[:10]) + ("\n  ..." if len(missing) > 10 else "")
            raise UsageError(f"{len(missing)} input file(s) do not exist:\n  {shown}")
        self.paths = paths

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return list(args.input)

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        # The parsing stack is imported here: the DAG reads this class where it is not installed.
        from lib.extract.pipeline import ExtractSettings
        from udfs import extract as ex

        settings = ExtractSettings.from_conf(confmod.get(conf, "extract"))
        settings.identifier()  # a missing or broken language-ID model fails here, before any work
        files_per_task = args.files_per_task or int(confmod.get(conf, "extract.files_per_task", 1))
        self.log(f"run {self.run_id}: {len(self.paths)} WARC file(s), profile {conf['profile']}")

        output = ex.scan(spark, self.paths, settings, files_per_task).persist(StorageLevel.MEMORY_AND_DISK)
        with ProgressReporter(spark, "extract", float(confmod.get(conf, "extract.progress_seconds", 10))):
            # One pass over the WARC files fills the cache and brings back each file's counters.
            counters = ex.add_counters(output.where(F.col("kind") == "stats").select("counters").collect())
        self.log(f"scanned {counters.get('records', 0):,} WARC records, {counters.get('pairs_kept', 0):,} pairs kept")

        pages = ex.faq_pages(output, self.run_id)
        pairs = ex.qa_pairs(output, self.run_id).persist(StorageLevel.MEMORY_AND_DISK)
        counters["duplicates_in_run"] = counters.get("pairs_kept", 0) - pairs.count()

        pages_path, pairs_path = self.table(conf, "faq_pages"), self.table(conf, "qa_pairs")
        result = merge_new_rows(spark, pages, pages_path, FAQ_PAGES_KEY,
                                update_when="s.fetch_date > t.fetch_date")
        counters["pages_inserted"], counters["pages_updated"] = result["inserted"], result["updated"]
        self.log(f"faq_pages: {result['inserted']:,} inserted, {result['updated']:,} updated")
        result = ex.merge_qa_pairs(spark, pairs, pairs_path)
        counters["pairs_inserted"] = result["inserted"]
        counters["pairs_already_present"] = counters.get("pairs_kept", 0) - counters["duplicates_in_run"] \
            - result["inserted"]
        counters["pairs_flagged_repeated_question"] = result["flagged"]
        self.log(f"qa_pairs: {result['inserted']:,} inserted, {result['flagged']:,} flagged as repeated questions")

        pairs.unpersist()
        output.unpersist()
        return counters


if __name__ == "__main__":
    ExtractJob.run()
