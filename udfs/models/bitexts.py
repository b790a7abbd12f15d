"""The Spark side of bitext mining: the pairs that may be mined, the encoding and mining UDFs, the
corpus-wide language-pair minimum and the released export.

Mining runs in two steps so that the encoder's work is spread evenly over the tasks:

1. **encode** (``mapInPandas``): the pairs, cut into evenly sized partitions by their position in
   a range order of their ids (not by origin: one origin can hold 10,000 pairs in each of dozens
   of languages), are encoded with LaBSE (``models.labse``; any sentence-transformers folder
   works) and L2-normalised; each row leaves with its vector and whether its text was cut;
2. **mine** (``groupBy('origin').applyInPandas``): only then are the rows grouped by origin, and
   ``lib.models.bitexts.mine_origin`` aligns each language pair of an origin on the vectors.

The encoder is loaded once per Python worker on the task's GPU (``udfs.models.encoders``).
Besides the bitext rows, each origin emits one ``stats`` row with its counters (candidates,
thresholds, identical texts, hreflang-linked bitexts, truncated inputs).
"""
from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lib.log import logger
from lib.models import bitexts as rules
from lib.schemas import BITEXT_ENCODED, BITEXT_INPUT, BITEXT_MINED, BITEXTS, columns
from udfs.delta import is_delta_table, read_table
from udfs.progress import ProgressReporter, sum_counters


@dataclass(frozen=True)
class BitextSettings:
    model: str                                  # models.labse in conf/
    mining: rules.MiningSettings = rules.MiningSettings()
    batch_size: int = 64
    max_seq_length: int | None = None
    trust_remote_code: bool = False
    fp16_on_gpu: bool = True
    run_id: str = ""
    rows_per_task: int = 2048                   # encoding partitions hold about this many pairs


def encode_for_mining(texts, settings: BitextSettings, device: str | None = None):
    """L2-normalised embeddings of mining texts and which were truncated."""
    from udfs.models.encoders import get_encoder

    enc = get_encoder(settings.model, "models.labse", device, max_seq_length=settings.max_seq_length,
                      trust_remote_code=settings.trust_remote_code, fp16_on_gpu=settings.fp16_on_gpu)
    emb, truncated = enc.encode(list(texts), None, settings.batch_size, normalize=True)
    return rules.l2_normalise(emb), truncated


def encode_frame(pdf, settings: BitextSettings):
    """One batch of ``BITEXT_INPUT`` rows with their mining vectors (``BITEXT_ENCODED`` columns)."""
    texts = [rules.mining_text(q, a) for q, a in zip(pdf["question"], pdf["answer"])]
    embeddings, truncated = encode_for_mining(texts, settings)
    out = pdf[columns(BITEXT_INPUT)].copy()
    out["embedding"] = list(embeddings)
    out["truncated"] = truncated.astype(bool) if len(truncated) else []
    return out


def encode_batches(settings: BitextSettings):
    """A ``mapInPandas`` function: batches of ``BITEXT_INPUT`` rows -> ``BITEXT_ENCODED`` rows."""

    def run(batches):
        for pdf in batches:
            if len(pdf):
                yield encode_frame(pdf, settings)

    return run


def mine_frame(pdf, settings: BitextSettings):
    """Bitexts of one origin's encoded QA pairs (``lib.schemas.BITEXT_ENCODED`` columns) as
    BITEXT_MINED rows, plus one ``stats`` row."""
    import numpy as np
    import pandas as pd

    out_columns = columns(BITEXT_MINED)
    rows = pdf[columns(BITEXT_INPUT)].to_dict("records")
    linked = rules.hreflang_link_set((r["url"], list(r["alternates"]) if r["alternates"] is not None else [])
                                     for r in rows)
    embeddings = np.stack(list(pdf["embedding"])).astype(np.float32) if len(pdf) else np.zeros((0, 0), np.float32)
    bitexts, counters = rules.mine_origin(rows, embeddings, settings.mining, linked)
    counters["origins_mined"] = 1
    counters["pairs_encoded"] = len(rows)
    counters["truncated_mining_text"] = int(pdf["truncated"].sum())
    counters["hreflang_linked_page_pairs"] = len(linked)
    for row in bitexts:
        row["run_id"] = settings.run_id
        row["kind"] = "bitext"
        row["counters"] = None
    stats = {c: None for c in out_columns}
    stats.update({"origin": rows[0]["origin"] if rows else None, "kind": "stats", "run_id": settings.run_id,
                  "counters": {k: int(v) for k, v in counters.items()}})
    return pd.DataFrame(bitexts + [stats], columns=out_columns)


def mine_groups(settings: BitextSettings):
    """An ``applyInPandas`` function over the encoded pairs of each origin."""

    def run(pdf):
        return mine_frame(pdf, settings)

    return run


def encode_pairs(spark: SparkSession, pairs: DataFrame, settings: BitextSettings, rows: int) -> DataFrame:
    """``pairs`` (``BITEXT_INPUT``, ``rows`` of them) with their mining vectors (``BITEXT_ENCODED``),
    encoded in evenly sized tasks (``udfs.models.encoders.even_partitions``)."""
    from udfs.models.encoders import even_partitions

    balanced = even_partitions(pairs, rows, settings.rows_per_task)
    return balanced.mapInPandas(encode_batches(settings), schema=BITEXT_ENCODED)


def candidate_pairs(spark: SparkSession, qa_path: str, annotations_path: str | None,
                    mining: rules.MiningSettings, require_similarity: bool, counters: dict):
    """QA pairs that may be mined: similarity filter, question dedupe, origins in 2+ languages.

    ``annotations_path`` is the ``qa_annotations`` table (None: there is none, the similarity
    filter is not applied). Returns ``(pairs, cached)``: the pairs, and the persisted frame they are
    read from, which the caller unpersists when the pairs are mined. Fills ``counters`` with three
    aggregations: before the filters, after the dedupe, and per origin.
    """
    qa = read_table(spark, qa_path, ("id", "origin", "url", "language", "question", "answer"))
    empty = (F.length(F.trim(F.coalesce("question", F.lit("")))) == 0) | \
            (F.length(F.trim(F.coalesce("answer", F.lit("")))) == 0)
    if annotations_path is not None:
        scores = spark.read.format("delta").load(annotations_path).select("id", "semantic_similarity_score")
        qa = qa.join(scores, "id", "left")
    else:
        counters["qa_annotations_missing"] = 1
        qa = qa.withColumn("semantic_similarity_score", F.lit(None).cast("float"))
    missing = F.col("semantic_similarity_score").isNull()
    low = F.coalesce(F.col("semantic_similarity_score") < F.lit(float(mining.min_qa_similarity)), F.lit(False))
    flags = qa.agg(F.count("*").alias("qa_pairs"), F.sum(empty.cast("int")).alias("pairs_empty"),
                   F.sum(missing.cast("int")).alias("pairs_without_similarity"),
                   F.sum(low.cast("int")).alias("pairs_dropped_low_similarity")).first()
    for name in ("qa_pairs", "pairs_empty", "pairs_without_similarity", "pairs_dropped_low_similarity"):
        counters[name] = int(flags[name] or 0)
    keep = ~empty & ~low & (~missing if require_similarity else F.lit(True))
    qa = qa.where(keep).drop("semantic_similarity_score")

    w = Window.partitionBy("origin", "language", "question").orderBy("id")
    cached = (qa.withColumn("_n", F.row_number().over(w))
                .withColumn("_dup", F.col("_n") > 1)
                .persist(StorageLevel.MEMORY_AND_DISK))
    eligible = _eligible_origins(cached, int(mining.max_pairs_per_language), counters)
    return cached.where(~F.col("_dup")).drop("_n", "_dup").join(F.broadcast(eligible), "origin"), cached


def _eligible_origins(qa: DataFrame, max_pairs_per_language: int, counters: dict) -> DataFrame:
    """Origins with pairs in two or more languages and no language over the maximum (counted)."""
    per_lang = qa.where(~F.col("_dup")).groupBy("origin", "language").count()
    per_origin = per_lang.groupBy("origin").agg(F.count("*").alias("languages"), F.max("count").alias("max_pairs"),
                                                F.sum("count").alias("pairs"))
    multi = F.col("languages") >= 2
    big = multi & (F.col("max_pairs") > F.lit(max_pairs_per_language))
    stats = per_origin.agg(F.count("*").alias("origins"), F.sum(multi.cast("int")).alias("multi"),
                           F.sum(big.cast("int")).alias("big"),
                           F.sum(F.when(big, F.col("pairs")).otherwise(0)).alias("big_pairs"),
                           F.sum("pairs").alias("pairs")).first()
    counters["duplicate_questions_dropped"] = int(qa.where(F.col("_dup")).count())
    counters["origins"] = int(stats["origins"] or 0)
    counters["origins_in_two_or_more_languages"] = int(stats["multi"] or 0)
    counters["origins_skipped_too_many_pairs"] = int(stats["big"] or 0)
    counters["pairs_in_skipped_origins"] = int(stats["big_pairs"] or 0)
    return per_origin.where(multi & ~big).select("origin")


def hreflang_alternates(spark: SparkSession, faq_pages_path: str, counters: dict):
    """``url -> alternates`` from faq_pages.hreflang, both directions; None without faq_pages."""
    if not is_delta_table(spark, faq_pages_path):
        logger.info(f"no faq_pages table at {faq_pages_path}: hreflang links are not used")
        counters["faq_pages_missing"] = 1
        return None
    pages = spark.read.format("delta").load(faq_pages_path).select("url", F.explode_outer("hreflang.url").alias("alt"))
    pages = pages.where(F.col("alt").isNotNull() & (F.col("alt") != F.col("url")))
    both = pages.unionByName(pages.select(F.col("alt").alias("url"), F.col("url").alias("alt")))
    return both.groupBy("url").agg(F.collect_set("alt").alias("alternates"))


def mine_bitexts(spark: SparkSession, pairs: DataFrame, alternates: DataFrame | None,
                 settings: BitextSettings, counters: dict):
    """Mine every origin of ``pairs`` (with their pages' hreflang ``alternates``) and keep the
    language pairs with at least ``min_pairs_per_language_pair`` bitexts over the whole corpus.

    Returns ``(kept, mined)``: the kept bitexts (``BITEXTS`` columns) and the persisted mining output
    they are read from, which the caller unpersists when they are written. Fills ``counters``.
    """
    if alternates is None:
        pairs = pairs.withColumn("alternates", F.lit(None).cast("array<string>"))
    else:
        pairs = pairs.join(alternates, "url", "left")
    pairs = pairs.select(*columns(BITEXT_INPUT))
    encoded = encode_pairs(spark, pairs, settings, pairs.count())
    mined = (encoded.groupBy("origin").applyInPandas(mine_groups(settings), schema=BITEXT_MINED)
             .persist(StorageLevel.MEMORY_AND_DISK))
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
    return kept, mined


def export_bitexts(table: DataFrame, folder: str) -> dict[str, int]:
    """Write the two released files from the ``bitexts`` table, streaming rows through the driver.

    Lines are the released fields (``details.urls``), ordered by language pair, origin and ids so
    that two exports of one table are byte-identical. Each file is written beside its final name and
    renamed when complete. ``folder`` is a local or mounted path, or any fsspec URL.
    """
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
            key = rules.export_file(row)
            handles[key].write(json.dumps(rules.export_record(row), ensure_ascii=False) + "\n")
            counts[key] += 1
    finally:
        for handle in handles.values():
            handle.close()
    if local:
        for v in names.values():
            os.replace(os.path.join(folder, v + ".tmp"), os.path.join(folder, v))
    return {"exported_with_english": counts["with_english"], "exported_others": counts["others"]}
