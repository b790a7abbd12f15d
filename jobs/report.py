"""report: the statistics of the WebFAQ 2.0 paper (its Tables 1-4) from the tables, as one page.

Reads ``qa_pairs`` and, where they exist, ``qa_annotations``, ``bitexts``, ``hard_negatives`` and
``runs``; aggregates each with Spark (udfs/report.py) and writes to DIR (a folder or any fsspec
URL: s3://, abfss://, gs://, dbfs:/):

  report.html         one self-contained page: summary, figures (inline SVG) and tables; opens offline
  report.md           the same tables in Markdown
  tables/*.csv        languages (pairs, share, origins, mean question/answer length), origin_sizes,
                      topics and topics_by_language, question_types and question_types_by_language
                      (shares of the labelled pairs), bitexts (per language pair), hard_negatives
                      (per language and strategy), evaluation (the latest run of each language), summary
  figures/*.svg       QA pairs per language (log scale), origin sizes, topic x language heatmap,
                      question types, bitext language-pair matrix

A table that does not exist yet leaves its section with a note (e.g. "run the annotate stage").
"""
from __future__ import annotations

import argparse

from jobs.base import SparkJob, UsageError
from lib import conf as confmod
from lib.exports import destination
from lib.models.annotate import QUESTION_TYPES, TOPICS
from lib.report import page
from lib.resources import Resources
from lib.retrieval import negatives as neg
from udfs import report
from udfs.delta import is_delta_table, read_table

EXAMPLES = """examples:
  spark-submit.sh report --output build/report                 # then open build/report/report.html
  spark-submit.sh report --output build/report --conf report.figure_languages=20
  spark-submit.sh report --profile databricks --warehouse /Volumes/main/webfaq/tables --output /Volumes/main/webfaq/files/report
  spark-submit.sh report --profile cluster --output s3://bucket/webfaq/report     # needs s3fs

Counters: languages, pairs, origins, files, tables_missing (optional tables not built yet)."""

OPTIONAL = ("qa_annotations", "bitexts", "hard_negatives", "runs")


class ReportJob(SparkJob):
    name = "report"
    description = __doc__
    epilog = EXAMPLES
    resources = Resources(cpus=1)  # aggregations of the tables, no model

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--output", required=True, metavar="DIR",
                            help="folder or fsspec URL (s3://, abfss://, gs://, dbfs:/) for report.html, "
                                 "report.md, tables/ and figures/")
        parser.add_argument("--title", default="WebFAQ statistics", help="the page's title")

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        try:
            self.destination = destination.check(args.output, "--output")
        except destination.DestinationError as exc:
            raise UsageError(str(exc)) from exc
        if int(confmod.get(conf, "report.figure_languages")) < 1:
            raise UsageError("report.figure_languages must be at least 1")
        if int(confmod.get(conf, "report.origin_size_base")) < 2:
            raise UsageError("report.origin_size_base must be at least 2")
        try:
            neg.StrategyParams.from_conf(confmod.get(conf, "mine.export"))
        except ValueError as exc:
            raise UsageError(str(exc)) from exc

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return ["qa_pairs", *OPTIONAL]

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        pairs = read_table(spark, self.table(conf, "qa_pairs"))
        present = {name: read_table(spark, self.table(conf, name)) for name in OPTIONAL
                   if is_delta_table(spark, self.table(conf, name))}
        self.log(f"tables: qa_pairs{''.join(', ' + n for n in present)}")
        ann = present.get("qa_annotations")
        params = neg.StrategyParams.from_conf(confmod.get(conf, "mine.export"))
        inputs = page.Inputs(
            language_stats=report.language_stats(pairs),
            origin_size_counts=report.origin_size_counts(pairs),
            topic_counts=report.label_counts(ann, "topic") if ann is not None else None,
            question_type_counts=report.label_counts(ann, "question_type") if ann is not None else None,
            bitext_counts=report.bitext_counts(present["bitexts"]) if "bitexts" in present else None,
            hard_negative_counts=(report.hard_negative_counts(present["hard_negatives"],
                                                              int(confmod.get(conf, "mine.export.seed")), params)
                                  if "hard_negatives" in present else None),
            evaluation_runs=report.evaluation_runs(present["runs"]) if "runs" in present else [],
            topic_order=list(TOPICS), question_type_order=list(QUESTION_TYPES))
        if inputs.language_stats.empty:
            raise UsageError("qa_pairs has no pair: nothing to report")
        files = page.build(inputs, title=args.title, source=str(confmod.get(conf, "warehouse")),
                           figure_languages=int(confmod.get(conf, "report.figure_languages")),
                           origin_size_base=int(confmod.get(conf, "report.origin_size_base")))
        for rel in sorted(files, key=lambda p: p == "report.html"):     # the page last
            self.destination.write_text(rel, files[rel])
        missing = [name for name in OPTIONAL if name not in present]
        self.log(f"{len(files)} files written to {args.output} (open report.html)"
                 + (f"; not built yet: {', '.join(missing)}" if missing else ""))
        stats = inputs.language_stats
        return {"languages": len(stats), "pairs": int(stats.pairs.sum()),
                "origins": int(inputs.origin_size_counts.origins.sum()), "files": len(files),
                "tables_missing": len(missing)}


if __name__ == "__main__":
    ReportJob.run()
