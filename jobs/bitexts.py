"""Stage 4b: LaBSE bitext mining within origins, with hreflang evidence, and the released export.

    ./spark-submit.sh bitexts [--profile gpu] [--export-dir DIR | --no-export]

Reads ``qa_pairs``, ``qa_annotations`` (the QA similarity filter; optional) and ``faq_pages`` (the
hreflang alternates; optional), writes the Delta table ``bitexts`` (key: the two QA-pair ids) and the
two released files ``bitexts_with_english.jsonl.gz`` and ``bitexts_others.jsonl.gz``. Thresholds are
under ``bitexts:`` in the configuration; the model is ``models.labse``. Every run mines the whole
corpus again (the per-language-pair minimum is a corpus-wide rule) and inserts only bitexts the
table does not hold yet: a re-run over unchanged input adds nothing.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os

from jobs.base import SparkJob, UsageError
from lib.conf import get
from lib.resources import Resources


class BitextsJob(SparkJob):
    name = "bitexts"
    description = __doc__
    # One GPU per task for LaBSE (470M parameters: 1.9 GB in fp32 while loading, and the CUDA context).
    resources = Resources(cpus=1, gpus=1, memory="4g")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--export-dir", default=None,
                            help="folder for the two JSONL.gz files (default: bitexts.export_dir, "
                                 "else <warehouse>/exports/bitexts)")
        parser.add_argument("--no-export", action="store_true", help="update the table only")

    def settings(self, conf: dict):
        from lib.models.bitexts import MiningSettings
        from udfs.models.bitexts import BitextSettings

        section = get(conf, "bitexts")
        try:
            mining = MiningSettings.from_conf(section)
        except (TypeError, ValueError) as exc:
            raise UsageError(str(exc)) from exc
        return BitextSettings(model=str(get(conf, "models.labse")), mining=mining,
                              batch_size=int(get(conf, "bitexts.batch_size")),
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
        if args.export_dir:
            return args.export_dir
        configured = get(conf, "bitexts.export_dir", None)
        if configured:
            return str(configured)
        warehouse = str(get(conf, "warehouse")).rstrip("/")
        if "://" not in warehouse:
            warehouse = os.path.abspath(warehouse)
        return f"{warehouse}/exports/bitexts"

    # -- steps -------------------------------------------------------------------------------
    def candidate_pairs(self, spark, conf: dict, counters: dict):
        """QA pairs that may be mined: similarity filter, question dedupe, origins in 2+ languages.

        Returns the pairs (persisted; the caller unpersists) and fills ``counters`` with three
        aggregations: before the filters, after the dedupe, and per origin.
        """
        from pyspark import StorageLevel
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        from udfs.delta import is_delta_table, read_table

        s = self.settings(conf).mining
        require = bool(get(conf, "bitexts.require_similarity"))
        qa = read_table(spark, self.table(conf, "qa_pairs")).select(
            "id", "origin", "url", "language", "question", "answer")
        empty = (F.length(F.trim(F.coalesce("question", F.lit("")))) == 0) | \
                (F.length(F.trim(F.coalesce("answer", F.lit("")))) == 0)
        ann_path = self.table(conf, "qa_annotations")
        if is_delta_table(spark, ann_path):
            scores = spark.read.format("delta").load(ann_path).select("id", "semantic_similarity_score")
            qa = qa.join(scores, "id", "left")
        else:
            if require:
                raise UsageError(f"bitexts.require_similarity is set but there is no qa_annotations table "
                                 f"at {ann_path}: run annotate first")
            print(f"[bitexts] no qa_annotations table at {ann_path}: the QA similarity filter "
                  f"(bitexts.min_qa_similarity) is not applied")
            counters["qa_annotations_missing"] = 1
            qa = qa.withColumn("semantic_similarity_score", F.lit(None).cast("float"))
        missing = F.col("semantic_similarity_score").isNull()
        low = F.coalesce(F.col("semantic_similarity_score") < F.lit(float(s.min_qa_similarity)), F.lit(False))
        flags = qa.agg(F.count("*").alias("n"), F.sum(empty.cast("int")).alias("e"),
                       F.sum(missing.cast("int")).alias("m"), F.sum(low.cast("int")).alias("l")).first()
        counters["qa_pairs"] = int(flags["n"] or 0)
        counters["pairs_empty"] = int(flags["e"] or 0)
        counters["pairs_without_similarity"] = int(flags["m"] or 0)
        counters["pairs_dropped_low_similarity"] = int(flags["l"] or 0)
        keep = ~empty & ~low & (~missing if require else F.lit(True))
        qa = qa.where(keep).drop("semantic_similarity_score")

        w = Window.partitionBy("origin", "language", "question").orderBy("id")
        qa = (qa.withColumn("_n", F.row_number().over(w))
                .withColumn("_dup", F.col("_n") > 1)
                .persist(StorageLevel.MEMORY_AND_DISK))
        per_lang = qa.where(~F.col("_dup")).groupBy("origin", "language").count()
        per_origin = per_lang.groupBy("origin").agg(F.count("*").alias("languages"), F.max("count").alias("max_pairs"),
                                                    F.sum("count").alias("pairs"))
        multi = F.col("languages") >= 2
        big = multi & (F.col("max_pairs") > F.lit(int(s.max_pairs_per_language)))
        stats = per_origin.agg(F.count("*").alias("origins"), F.sum(multi.cast("int")).alias("multi"),
                               F.sum(big.cast("int")).alias("big"),
                               F.sum(F.when(big, F.col("pairs")).otherwise(0)).alias("big_pairs"),
                               F.sum("pairs").alias("pairs")).first()
        dups = qa.where(F.col("_dup")).count()
        counters["duplicate_questions_dropped"] = int(dups)
        counters["origins"] = int(stats["origins"] or 0)
        counters["origins_in_two_or_more_languages"] = int(stats["multi"] or 0)
        counters["origins_skipped_too_many_pairs"] = int(stats["big"] or 0)
        counters["pairs_in_skipped_origins"] = int(stats["big_pairs"] or 0)
        eligible = per_origin.where(multi & ~big).select("origin")
        self._persisted = qa
        return qa.where(~F.col("_dup")).drop("_n", "_dup").join(F.broadcast(eligible), "origin")

    def alternates(self, spark, conf: dict, counters: dict):
        """``url -> alternates`` from faq_pages.hreflang, both directions; None without faq_pages."""
        from pyspark.sql import functions as F

        from udfs.delta import is_delta_table

        path = self.table(conf, "faq_pages")
        if not is_delta_table(spark, path):
            print(f"[bitexts] no faq_pages table at {path}: hreflang links are not used")
            counters["faq_pages_missing"] = 1
            return None
        pages = spark.read.format("delta").load(path).select("url", F.explode_outer("hreflang.url").alias("alt"))
        pages = pages.where(F.col("alt").isNotNull() & (F.col("alt") != F.col("url")))
        both = pages.unionByName(pages.select(F.col("alt").alias("url"), F.col("url").alias("alt")))
        return both.groupBy("url").agg(F.collect_set("alt").alias("alternates"))

    def run_job(self, spark, args: argparse.Namespace, conf: dict) -> dict:
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        from lib.schemas import BITEXT_INPUT, BITEXT_MINED, BITEXTS, BITEXTS_KEY, BITEXTS_PARTITION, columns
        from udfs.models.bitexts import mine_groups
        from udfs.progress import ProgressReporter, sum_counters
        from udfs.delta import merge_new_rows, read_table

        settings = self.settings(conf)
        counters: dict[str, int] = {}
        pairs = self.candidate_pairs(spark, conf, counters)
        alternates = self.alternates(spark, conf, counters)
        if alternates is None:
            pairs = pairs.withColumn("alternates", F.lit(None).cast("array<string>"))
        else:
            pairs = pairs.join(alternates, "url", "left")
        pairs = pairs.select(*columns(BITEXT_INPUT))

        mined = (pairs.groupBy("origin").applyInPandas(mine_groups(settings), schema=BITEXT_MINED)
                 .persist(StorageLevel.MEMORY_AND_DISK))
        try:
            with ProgressReporter(spark, "bitexts"):
                stats = sum_counters(mined.where(F.col("kind") == "stats"))
            counters.update({k: v for k, v in stats.items() if k != "hreflang_linked"})
            found = mined.where(F.col("kind") == "bitext").select(*columns(BITEXTS))
            per_pair = found.groupBy("language1", "language2").count()
            kept_pairs = per_pair.where(F.col("count") >= F.lit(int(settings.mining.min_pairs_per_language_pair)))
            counters["language_pairs_found"] = per_pair.count()
            counters["language_pairs_kept"] = kept_pairs.count()
            kept = found.join(F.broadcast(kept_pairs.select("language1", "language2")), ["language1", "language2"])
            kept = kept.select(*columns(BITEXTS))
            counters["bitexts_kept"] = kept.count()
            counters["bitexts_dropped_small_language_pair"] = counters.get("bitexts", 0) - counters["bitexts_kept"]
            counters["bitexts_kept_hreflang_linked"] = kept.where("hreflang_linked").count()
            if counters["bitexts_kept"] or read_table_exists(spark, self.table(conf, "bitexts")):
                result = merge_new_rows(spark, kept, self.table(conf, "bitexts"), BITEXTS_KEY, BITEXTS_PARTITION)
                counters["bitexts_inserted"] = result["inserted"]
            else:
                counters["bitexts_inserted"] = 0
        finally:
            mined.unpersist()
            self._persisted.unpersist()

        if not args.no_export and read_table_exists(spark, self.table(conf, "bitexts")):
            table = read_table(spark, self.table(conf, "bitexts"))
            counters.update(export_bitexts(table, self.export_dir(args, conf)))
        return counters


def read_table_exists(spark, path: str) -> bool:
    from udfs.delta import is_delta_table

    return is_delta_table(spark, path)


def export_bitexts(table, folder: str) -> dict[str, int]:
    """Write the two released files from the ``bitexts`` table, streaming rows through the driver.

    Lines are the released fields (``details.urls``), ordered by language pair, origin and ids so
    that two exports of one table are byte-identical. Each file is written beside its final name and
    renamed when complete. ``folder`` is a local or mounted path, or any fsspec URL.
    """
    from lib.models.bitexts import export_file, export_record
    from lib.schemas import BITEXTS, columns

    names = {"with_english": "bitexts_with_english.jsonl.gz", "others": "bitexts_others.jsonl.gz"}
    local = "://" not in folder or folder.startswith("file://")
    counts = {key: 0 for key in names}
    if local:
        folder = folder.removeprefix("file://")
        os.makedirs(folder, exist_ok=True)
        handles = {k: gzip.open(os.path.join(folder, v + ".tmp"), "wt", encoding="utf-8") for k, v in names.items()}
    else:  # pragma: no cover - remote storage
        import fsspec

        handles = {k: fsspec.open(f"{folder.rstrip('/')}/{v}", "wt", compression="gzip", encoding="utf-8").open()
                   for k, v in names.items()}
    try:
        ordered = table.select(*columns(BITEXTS)).orderBy("language1", "language2", "origin", "id1", "id2")
        for row in ordered.toLocalIterator():
            row = row.asDict()
            key = export_file(row)
            handles[key].write(json.dumps(export_record(row), ensure_ascii=False) + "\n")
            counts[key] += 1
    finally:
        for handle in handles.values():
            handle.close()
    if local:
        for v in names.values():
            os.replace(os.path.join(folder, v + ".tmp"), os.path.join(folder, v))
    return {"exported_with_english": counts["with_english"], "exported_others": counts["others"]}


if __name__ == "__main__":
    BitextsJob.run()
