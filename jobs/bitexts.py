"""Stage 4b: LaBSE bitext mining within origins, with hreflang evidence, and the released export.

    ./spark-submit.sh bitexts [--profile cluster,gpu] [--export DIR | --no-export]

Reads ``qa_pairs``, ``qa_annotations`` (the QA similarity filter; optional) and ``faq_pages`` (the
hreflang alternates; optional), writes the Delta table ``bitexts`` (key: the two QA-pair ids) and the
two released files ``bitexts_with_english.jsonl.gz`` and ``bitexts_others.jsonl.gz``. Thresholds are
under ``bitexts:`` in the configuration; the model is ``models.labse``. Every run mines the whole
corpus again (the per-language-pair minimum is a corpus-wide rule) and inserts only bitexts the
table does not hold yet: a re-run over unchanged input adds nothing.
"""
from __future__ import annotations

import argparse

from jobs.base import SparkJob, UsageError, deprecated_alias
from lib.conf import absolute_location, get
from lib.resources import Resources

EXAMPLES = """examples:
  spark-submit.sh bitexts --profile cluster,gpu --warehouse s3a://bucket/webfaq    # files in <warehouse>/exports/bitexts
  spark-submit.sh bitexts --export build/bitexts                                  # the two JSONL.gz files there
  spark-submit.sh bitexts --no-export --conf bitexts.threshold=0.95               # the table only, stricter
  spark-submit.sh bitexts --conf models.labse=/models/LaBSE --conf bitexts.search=faiss

Counters: candidate pairs and origins (origins_skipped_too_large, ...), bitexts_kept per language
pair, bitexts_inserted; with the export, the rows of each file."""


class BitextsJob(SparkJob):
    name = "bitexts"
    description = __doc__
    epilog = EXAMPLES
    # One GPU per task for LaBSE (470M parameters: 1.9 GB in fp32 while loading, and the CUDA context).
    resources = Resources(cpus=1, gpus=1, memory="4g")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        export = parser.add_argument("--export", default=None, metavar="DIR",
                                     help="folder for the two JSONL.gz files (default: bitexts.export_dir, "
                                          "else <warehouse>/exports/bitexts)")
        deprecated_alias(parser, "--export-dir", export)
        parser.add_argument("--no-export", action="store_true", help="update the table only")

    def settings(self, conf: dict):
        from lib.models.bitexts import MiningSettings
        from udfs.models.bitexts import BitextSettings

        section = get(conf, "bitexts")
        try:
            mining = MiningSettings.from_conf(section)
        except (TypeError, ValueError) as exc:
            raise UsageError(str(exc)) from exc
        if int(get(conf, "bitexts.rows_per_task")) < 1:
            raise UsageError("bitexts.rows_per_task must be at least 1")
        return BitextSettings(model=str(get(conf, "models.labse")), mining=mining,
                              batch_size=int(get(conf, "bitexts.batch_size")),
                              rows_per_task=int(get(conf, "bitexts.rows_per_task")),
                              max_seq_length=get(conf, "bitexts.max_seq_length"),
                              trust_remote_code=bool(get(conf, "bitexts.trust_remote_code")),
                              fp16_on_gpu=bool(get(conf, "bitexts.fp16_on_gpu")), run_id=self.run_id)

    def validate(self, args: argparse.Namespace, conf: dict) -> None:
        from udfs.models.encoders import check_local_model

        self.settings(conf)
        check_local_model(get(conf, "models.labse"), "models.labse")

    def inputs(self, args: argparse.Namespace) -> list[str]:
        return ["qa_pairs", "qa_annotations", "faq_pages"]

    def export_dir(self, args: argparse.Namespace, conf: dict) -> str:
        if args.export:
            return args.export
        configured = get(conf, "bitexts.export_dir", None)
        if configured:
            return str(configured)
        return f"{absolute_location(str(get(conf, 'warehouse')).rstrip('/'))}/exports/bitexts"

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        from lib.schemas import BITEXTS_KEY, BITEXTS_PARTITION
        from udfs.delta import is_delta_table, merge_new_rows, read_table
        from udfs.models import bitexts as udf

        settings = self.settings(conf)
        require = bool(get(conf, "bitexts.require_similarity"))
        annotations = self.table(conf, "qa_annotations")
        if not is_delta_table(spark, annotations):
            if require:
                raise UsageError(f"bitexts.require_similarity is set but there is no qa_annotations table "
                                 f"at {annotations}: run annotate first")
            self.log(f"no qa_annotations table at {annotations}: the QA similarity filter "
                     f"(bitexts.min_qa_similarity) is not applied")
            annotations = None
        counters: dict[str, int] = {}
        pairs, cached = udf.candidate_pairs(spark, self.table(conf, "qa_pairs"), annotations, settings.mining,
                                            require, counters)
        bitexts = self.table(conf, "bitexts")
        try:
            alternates = udf.hreflang_alternates(spark, self.table(conf, "faq_pages"), counters)
            kept, mined = udf.mine_bitexts(spark, pairs, alternates, settings, counters)
            try:
                if counters["bitexts_kept"] or is_delta_table(spark, bitexts):
                    first = [r[0] for r in kept.select(*BITEXTS_PARTITION).distinct().collect()]  # from the cache
                    counters["bitexts_inserted"] = merge_new_rows(spark, kept, bitexts, BITEXTS_KEY, BITEXTS_PARTITION,
                                                                  partitions={BITEXTS_PARTITION[0]: first})["inserted"]
                else:
                    counters["bitexts_inserted"] = 0
            finally:
                mined.unpersist()
        finally:
            cached.unpersist()

        if not args.no_export and is_delta_table(spark, bitexts):
            counters.update(udf.export_bitexts(read_table(spark, bitexts), self.export_dir(args, conf)))
        return counters


if __name__ == "__main__":
    BitextsJob.run()
