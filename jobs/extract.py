"""extract: Common Crawl WARC files (or WDC N-Quads, OWI Parquet) -> ``faq_pages`` and ``qa_pairs``.

Reads every WARC record, keeps HTTP 200 HTML responses that contain the bytes ``FAQPage``, parses
their schema.org FAQPage markup (JSON-LD, Microdata, RDFa), cleans, filters and language-tags the
question/answer pairs as WebFAQ 2.0 does, drops exact duplicates by id and merges the result into
the warehouse: a re-run adds nothing, a new crawl adds only what is new. Web Data Commons
FAQPage N-Quads dumps (WebFAQ v1's input) and Open Web Index Parquet exports (WebFAQ 2.0's) give
FAQ pages too and take the same steps from there: a pair read from two sources is stored once.
"""
from __future__ import annotations

import argparse
import collections

from pyspark import StorageLevel
from pyspark.sql import functions as F

from jobs.base import RunFailed, SparkJob, UsageError
from lib import conf as confmod
from lib.extract.manifest import ManifestError, check_inputs, expand_sources, total_size
from lib.resources import Resources
from lib.schemas import FAQ_PAGES_KEY, SOURCES
from udfs.progress import ProgressReporter
from udfs.delta import merge_new_rows

EXAMPLES = """examples (the build/sample files are made by `make demo`, from real pages and dumps):
  spark-submit.sh extract --input build/sample/sample.warc.gz               # a WARC file
  spark-submit.sh extract --input https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/warc.paths.gz \\
      --input-base-uri https://data.commoncrawl.org/ --limit 10             # the first 10 files of a crawl
  spark-submit.sh extract --input s3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz \\
      --input-base-uri s3://commoncrawl/ --profile cluster                  # the whole crawl, on a cluster
  spark-submit.sh extract --source wdc-nquads --input build/sample/FAQPage_sample.nq.gz   # a WDC N-Quads dump
  spark-submit.sh extract --source owi-parquet --input build/sample/owi/    # a folder of OWI .parquet files
  spark-submit.sh extract --input build/sample/sample.warc.gz --input build/sample/FAQPage_sample.nq.gz \\
      --input build/sample/owi/                                             # sniffed, one run

A manifest lists input paths or URLs one a line (local paths, file://, s3://, s3a://, https://),
like Common Crawl's warc.paths.gz; gzipped manifests work too. Relative entries are joined to
--input-base-uri (or extract.input_base_uri in the profile). Without --source an input is
sniffed (WARC/ARC, N-Quads after gunzip, Parquet; remote ones whose name does not tell, by their
first bytes) and manifest entries go by their name (.warc.gz, .nq.gz, .parquet), else they are
WARC files.

Where a stored row came from: the source column (warc, wdc-nquads, owi-parquet), and
warc_filename / warc_record_offset / warc_record_length: the WARC file, byte offset and length;
the N-Quads dump, first line number and number of lines of the page; the Parquet file and row index.

Counters printed at the end (and stored as a row of the runs table): files, records, responses,
html_responses, candidates, pages_with_faq, raw_pairs, dropped_<reason>, pairs_kept,
kept_<language>, duplicates_in_run, pairs_inserted, pages_inserted, unreadable_files/records;
N-Quads: nquads_lines, nquads_malformed_lines, nquads_pages, questions, questions_outside_faqpage,
questions_without_answer, main_entities_unresolved; Parquet: parquet_rows, faq_items; and per
source: files_<source>, pages_with_faq_<source>, raw_pairs_<source>, pairs_kept_<source>,
pairs_inserted_<source> (source as warc, wdc_nquads, owi_parquet).
Files that could not be read (unreachable, past extract.remote.deadline_seconds, empty, not a
WARC) are counted and listed with the reason in the runs table (unreadable_inputs); a run that
could read none of its files fails (exit 1)."""


class ExtractJob(SparkJob):
    name = "extract"
    description = __doc__
    epilog = EXAMPLES
    resources = Resources(cpus=1)  # one WARC file per task, on one core; no model but fastText

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input", "-i", action="append", required=True, metavar="MANIFEST_OR_FILE",
                            help="a manifest of input paths/URLs (plain or .gz), an input file, or a folder "
                                 "of them; repeatable")
        parser.add_argument("--source", choices=SOURCES, default=None,
                            help="what the inputs are: warc (WARC/ARC files), wdc-nquads (Web Data Commons "
                                 "N-Quads dumps, plain or gzipped), owi-parquet (Open Web Index Parquet "
                                 "files). Default: extract.source of the profile, else sniffed per input "
                                 "(warc where it cannot be told)")
        parser.add_argument("--input-base-uri", default=None,
                            help="prefix for relative manifest entries, e.g. s3://commoncrawl/ "
                                 "(default: extract.input_base_uri of the profile)")
        parser.add_argument("--limit", type=int, default=None, metavar="N",
                            help="process only the first N files of the input (for a trial run)")
        parser.add_argument("--files-per-task", type=int, default=None, metavar="N",
                            help="WARC files or N-Quads dumps per Spark task (default: extract.files_per_task, "
                                 "1); Parquet files are split by Spark's reader")

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        from lib.extract.owi import parquet_inputs_problem  # the parsing stack: see run_job
        from lib.extract.pipeline import ExtractSettings

        base = args.input_base_uri or confmod.get(conf, "extract.input_base_uri", None)
        source = args.source or confmod.get(conf, "extract.source", None)
        if source is not None and source not in SOURCES:
            raise UsageError(f"extract.source must be one of {', '.join(SOURCES)}, not {source!r}")
        try:
            self.settings = ExtractSettings.from_conf(confmod.get(conf, "extract"))
        except (TypeError, ValueError) as exc:
            raise UsageError(f"extract settings: {exc}") from exc
        try:
            files = expand_sources(args.input, base_uri=base, source=source, remote=self.settings.remote())
        except ManifestError as exc:
            raise UsageError(str(exc)) from exc
        if args.limit is not None:
            if args.limit < 1:
                raise UsageError("--limit must be at least 1")
            files = files[: args.limit]
        if not files:
            raise UsageError(f"no input files in {', '.join(args.input)}")
        missing = check_inputs([path for path, _ in files])
        if missing:
            shown = "\n  ".join(missing[:10]) + ("\n  ..." if len(missing) > 10 else "")
            raise UsageError(f"{len(missing)} input file(s) do not exist:\n  {shown}")
        problem = parquet_inputs_problem([path for path, fmt in files if fmt == "owi-parquet"])
        if problem:
            raise UsageError(problem)
        self.files = files

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return list(args.input)

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        # The parsing stack is imported here: the DAG reads this class where it is not installed.
        from udfs import extract as ex
        from udfs import extract_sources as sources

        settings = self.settings
        settings.identifier()  # a missing or broken language-ID model fails here, before any work
        files_per_task = args.files_per_task or int(confmod.get(conf, "extract.files_per_task", 1))
        kinds = collections.Counter(fmt for _, fmt in self.files)
        self.log(f"run {self.run_id}: {len(self.files)} input file(s) "
                 f"({', '.join(f'{n} {fmt}' for fmt, n in sorted(kinds.items()))}), profile {conf['profile']}")
        problem = sources.remote_parquet_problem(spark, self.files)  # local ones were checked before Spark
        if problem:
            raise UsageError(problem)

        output = ex.scan(spark, self.files, settings, files_per_task).persist(StorageLevel.MEMORY_AND_DISK)
        one_file_a_task = files_per_task == 1 and kinds.get("owi-parquet", 0) == 0  # Spark splits Parquet
        with ProgressReporter(spark, "extract", float(confmod.get(conf, "extract.progress_seconds", 10)),
                              unit="files" if one_file_a_task else "tasks",
                              input_bytes=total_size([path for path, _ in self.files]) if one_file_a_task else None):
            # One pass over the input files fills the cache and brings back each task's counters.
            stats = output.where(F.col("kind") == "stats").select("source", "warc_filename", "counters",
                                                                   "error").collect()
        counters = self.counters = sources.scan_counters(stats, self.files)
        self.unreadable_inputs = ex.unreadable_inputs(stats)
        self.log(f"scanned {counters['files']:,} file(s), {counters.get('pairs_kept', 0):,} pairs kept")
        for item in self.unreadable_inputs[:10]:
            self.log(f"could not read {item['input']}: {item['reason']}")
        if len(self.unreadable_inputs) == len(self.files):
            first = self.unreadable_inputs[0]
            raise RunFailed(f"none of the {len(self.files)} input file(s) could be read ({first['input']}: "
                            f"{first['reason']}); the runs table lists each in unreadable_inputs")

        pages = ex.faq_pages(output, self.run_id)
        pairs = ex.qa_pairs(output, self.run_id).persist(StorageLevel.MEMORY_AND_DISK)
        counters["duplicates_in_run"] = counters.get("pairs_kept", 0) - pairs.count()

        # Pairs first, then pages, then (SparkJob.main) the runs row: each is one Delta commit, and
        # a run stopped between them never leaves a page without its pairs; its re-run adds
        # what is missing (merges on the keys).
        pages_path, pairs_path = self.table(conf, "faq_pages"), self.table(conf, "qa_pairs")
        result = ex.merge_qa_pairs(spark, pairs, pairs_path)
        counters["pairs_inserted"] = result["inserted"]
        counters["pairs_already_present"] = counters.get("pairs_kept", 0) - counters["duplicates_in_run"] \
            - result["inserted"]
        counters["pairs_flagged_repeated_question"] = result["flagged"]
        counters.update(sources.inserted_by_source(result["inserted_by_source"]))
        self.log(f"qa_pairs: {result['inserted']:,} inserted, {result['flagged']:,} flagged as repeated questions")
        result = merge_new_rows(spark, pages, pages_path, FAQ_PAGES_KEY,
                                update_when="s.fetch_date > t.fetch_date", evolve_schema=True)
        counters["pages_inserted"], counters["pages_updated"] = result["inserted"], result["updated"]
        self.log(f"faq_pages: {result['inserted']:,} inserted, {result['updated']:,} updated")

        pairs.unpersist()
        output.unpersist()
        return counters


if __name__ == "__main__":
    ExtractJob.run()
