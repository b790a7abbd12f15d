"""Exports on the Spark side: shards written by the executors, BEIR files streamed by the driver.

- :func:`write_configs`: one config per key (a language; a format, strategy and language), each
  split into ``ceil(rows / rows_per_shard)`` parquet or JSON-lines shards by a hash of the row's
  id. Every shard is written by one Spark task straight to the destination through fsspec
  (lib/exports/shards.py): nothing goes through the driver, and a retried task rewrites its file.
  A config's folder is emptied first, so no shard of an earlier export lingers under its glob.
- :func:`export_qa_pairs`, :func:`export_hard_negatives`: the main dataset and the trainers'
  formats on top of it; :func:`export_benchmark`: the BEIR folders (one JSONL file per language
  and kind, so the driver writes them, streaming the rows in id order) plus the JSONL qrels.

Each writes its dataset card (lib/exports/cards.py) last: a folder whose README.md is missing was
not finished. Executors write to the destination themselves: they need its fsspec package (s3fs,
adlfs, gcsfs) and credentials, as the driver does; ``memory://`` only works for the driver's files.
"""
from __future__ import annotations

from typing import Iterable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lib.exports import cards, hf, trainers
from lib.exports.destination import Destination
from lib.exports.shards import SHARD, SHARDS, ShardLayout, write_empty_shard, write_sorted_batches
from lib.retrieval import beir
from lib.retrieval import negatives as neg
from lib.schemas import HF_QA_PAIRS, columns

WRITTEN = "folder string, shard int, shards int, rows bigint, path string"


def write_configs(df: DataFrame, dest: Destination, layout: ShardLayout, rows_per_shard: int,
                  order_by: Iterable[str], counts: dict[tuple, int] | None = None) -> dict[tuple, dict]:
    """Write ``df`` as one sharded config per value of ``layout.key_columns``.

    ``counts`` (rows per key) saves a pass when the caller has them. Returns
    ``{key: {"folder", "rows", "shards", "files": [relative paths]}}`` for every key.
    """
    spark = df.sparkSession
    keys = list(layout.key_columns)
    order_by = list(order_by)
    if counts is None:
        counts = {tuple(r[k] for k in keys): int(r["count"]) for r in df.groupBy(*keys).count().collect()}
    if not counts:
        return {}
    plan = {key: hf.shard_count(n, rows_per_shard) for key, n in counts.items()}
    plan_df = spark.createDataFrame([(*key, n) for key, n in plan.items()],
                                    ", ".join(f"`{k}` string" for k in keys) + f", {SHARDS} int")
    for key in plan:
        dest.remove(layout.folder_of(key))
    rows = (df.join(F.broadcast(plan_df), keys)
            .withColumn(SHARD, F.pmod(F.xxhash64(*order_by), F.col(SHARDS)).cast("int")))
    url = dest.url

    def write(batches):
        import pyarrow as pa

        schema = pa.schema([("folder", pa.string()), ("shard", pa.int32()), ("shards", pa.int32()),
                            ("rows", pa.int64()), ("path", pa.string())])
        for info in write_sorted_batches(batches, url, layout):
            yield pa.RecordBatch.from_pylist([info], schema=schema)

    written = (rows.repartition(sum(plan.values()), *keys, SHARD)
               .sortWithinPartitions(*keys, SHARD, *order_by)
               .mapInArrow(write, WRITTEN).collect())
    by_folder: dict[str, dict[int, dict]] = {}
    for r in written:
        by_folder.setdefault(r["folder"], {})[int(r["shard"])] = r.asDict()
    out = {}
    for key, total in plan.items():
        folder = layout.folder_of(key)
        files = by_folder.get(folder, {})
        got = sum(int(f["rows"]) for f in files.values())
        if got != counts[key]:
            raise RuntimeError(f"{folder}: {got} rows written, {counts[key]} expected")
        missing = [i for i in range(total) if i not in files]
        if missing:        # every row hashed to the other shards: keep the numbering complete
            schema = _schema_of(dest, next(iter(files.values()))["path"], layout.fmt)
            for i in missing:
                write_empty_shard(url, layout.path(key, i, total), layout.fmt, schema)
        out[key] = {"folder": folder, "rows": counts[key], "shards": total,
                    "files": [layout.path(key, i, total) for i in range(total)]}
    return out


def _schema_of(dest: Destination, rel: str, fmt: str):
    if fmt != "parquet":
        return None
    import pyarrow.parquet as pq

    with dest.open(rel, "rb") as fh:
        return pq.read_schema(fh)


# ---- the main dataset -------------------------------------------------------------------------

def qa_rows(pairs: DataFrame, annotations: DataFrame | None) -> DataFrame:
    """``language`` + the released fields (lib/schemas.py HF_QA_PAIRS), labels joined by id."""
    fields = columns(HF_QA_PAIRS)
    if annotations is None:
        labels = [F.lit(None).cast("float").alias("semantic_similarity_score"),
                  F.lit(None).cast("string").alias("topic"), F.lit(None).cast("string").alias("question_type")]
        return pairs.select("language", "id", "origin", "url", "question", "answer", *labels)
    ann = annotations.select("id", "semantic_similarity_score", "topic", "question_type")
    return pairs.join(ann, "id", "left").select("language", *fields)


def export_qa_pairs(pairs: DataFrame, annotations: DataFrame | None, dest: Destination, rows_per_shard: int,
                    *, license: str, pretty_name: str) -> dict[str, dict]:
    """``data/<language>/train-*.parquet`` and the card.

    Returns ``{language: {"rows", "shards", "annotated"}}`` (annotated: pairs with a topic).
    """
    from pyspark import StorageLevel

    dest.remove("README.md")                      # until the new card is written: not finished
    rows = qa_rows(pairs, annotations).persist(StorageLevel.MEMORY_AND_DISK)
    sizes = rows.groupBy("language").agg(F.count("*").alias("n"), F.count("topic").alias("annotated")).collect()
    annotated = {r["language"]: int(r["annotated"]) for r in sizes}
    layout = ShardLayout(("language",), "data/{language}", tuple(columns(HF_QA_PAIRS)), "parquet")
    written = write_configs(rows, dest, layout, rows_per_shard, ["id"], {(r["language"],): int(r["n"]) for r in sizes})
    rows.unpersist()
    configs = [hf.Config(lang, {hf.SPLIT: f"data/{lang}/*.parquet"}, {hf.SPLIT: info["rows"]})
               for (lang,), info in sorted(written.items())]
    if configs:
        dest.write_text("README.md", cards.qa_card(configs, license=license, pretty_name=pretty_name,
                                                   annotated=annotations is not None))
    return {lang: {"rows": info["rows"], "shards": info["shards"], "annotated": annotated.get(lang, 0)}
            for (lang,), info in written.items()}


# ---- hard negatives in trainers' formats ------------------------------------------------------

def hard_negative_rows(table: DataFrame, fmt: str, strategies: list[str], seed: int,
                       params: neg.StrategyParams) -> DataFrame:
    """The rows of one format after each strategy (lib/exports/trainers.py) in one pass over the
    table: ``strategy`` + the format's columns, plus one row per query and strategy that gave none,
    flagged in ``_skipped`` ('short' or 'empty') for the counters.

    All strategies of a format share a schema only when they give the same number of negatives
    per row; n-tuple is therefore called with strategies of one width (see
    :func:`export_hard_negatives`).
    """
    ddl = trainers.schema(fmt, strategies[0], params)
    names = columns(ddl)

    def convert(batches):
        import pandas as pd

        for pdf in batches:
            out = []
            for rec in pdf.to_dict("records"):
                rec["negatives"], rec["neg_scores"] = list(rec["negatives"]), list(rec["neg_scores"])
                for strategy in strategies:
                    got = trainers.convert(fmt, strategy, rec, seed, params)
                    out.extend({**row, "strategy": strategy, "_skipped": None} for row in got.rows)
                    if got.skipped_short or got.skipped_empty:
                        out.append({**dict.fromkeys(names), "language": rec["language"], "query_id": rec["query_id"],
                                    "strategy": strategy, "_skipped": "short" if got.skipped_short else "empty"})
            yield pd.DataFrame(out, columns=["strategy", *names, "_skipped"])

    return (table.select("language", "query_id", "query", "positive", "pos_score", "negatives", "neg_scores")
            .mapInPandas(convert, f"strategy string, {ddl}, _skipped string"))


def export_hard_negatives(table: DataFrame, dest: Destination, formats: list[str], strategies: list[str],
                          seed: int, params: neg.StrategyParams, rows_per_shard: int, strategy_notes: dict[str, str],
                          *, license: str, pretty_name: str) -> dict[str, int]:
    """``<format>/<strategy>/<language>/train-*`` for each pair of format and strategy, and the cards.

    ``datasets`` reads one file format per dataset, so the export is two datasets: the
    sentence-transformers layouts (parquet) with their card at the root, configs
    ``<format>-<strategy>-<language>``, and FlagEmbedding's JSON lines with their own card in
    ``flagembedding/``, configs ``<strategy>-<language>`` (FlagEmbedding itself reads the folders).
    The table is read once per format (once per n-tuple width).

    Counters: ``exported_<format>_<strategy>_<language>`` (rows), ``skipped_short_...`` (queries
    with fewer negatives than an n-tuple needs) and ``skipped_empty_...`` (no negative left).
    """
    from pyspark import StorageLevel

    counters: dict[str, int] = {}
    configs: dict[str, list[hf.Config]] = {}
    for fmt in formats:
        for strategy in strategies:
            trainers.check(fmt, strategy, params)
    dest.remove("README.md")                      # until the new cards are written: not finished
    dest.remove("flagembedding/README.md")
    for fmt in formats:
        groups: dict[str, list[str]] = {}          # one schema per group of strategies
        for strategy in strategies:
            groups.setdefault(trainers.schema(fmt, strategy, params), []).append(strategy)
        for ddl, group in groups.items():
            rows = hard_negative_rows(table, fmt, group, seed, params).persist(StorageLevel.MEMORY_AND_DISK)
            counts = {}
            for r in rows.groupBy("strategy", "language", "_skipped").count().collect():
                if r["_skipped"]:
                    counters[f"skipped_{r['_skipped']}_{fmt}_{r['strategy']}_{r['language']}"] = int(r["count"])
                else:
                    counts[(r["strategy"], r["language"])] = int(r["count"])
            ext = trainers.FILE_FORMAT[fmt]
            layout = ShardLayout(("strategy", "language"), f"{fmt}/{{strategy}}/{{language}}", tuple(columns(ddl)), ext)
            order = ["query_id", "negative"] if fmt == "triplet" else ["query_id"]
            written = write_configs(rows.where(F.col("_skipped").isNull()).drop("_skipped"), dest, layout,
                                    rows_per_shard, order, counts)
            rows.unpersist()
            for (strategy, lang), info in sorted(written.items()):
                counters[f"exported_{fmt}_{strategy}_{lang}"] = info["rows"]
                if fmt == "flagembedding":
                    config = hf.Config(f"{strategy}-{lang}", {hf.SPLIT: f"{strategy}/{lang}/*.{ext}"},
                                       {hf.SPLIT: info["rows"]})
                else:
                    config = hf.Config(trainers.config_name(fmt, strategy, lang),
                                       {hf.SPLIT: f"{info['folder']}/*.{ext}"}, {hf.SPLIT: info["rows"]},
                                       trainers.trainer_columns(fmt, strategy, params))
                configs.setdefault(fmt, []).append(config)
    notes = {s: strategy_notes[s] for s in strategies}
    if "flagembedding" in configs:
        dest.write_text("flagembedding/README.md", cards.negatives_card(
            configs["flagembedding"], ["flagembedding"], notes, license=license, pretty_name=pretty_name))
    st = [c for fmt in formats if fmt != "flagembedding" for c in configs.get(fmt, [])]
    if st:
        dest.write_text("README.md", cards.negatives_card(
            st, [f for f in formats if f != "flagembedding"], notes, license=license, pretty_name=pretty_name,
            flagembedding="flagembedding" in configs))
    return counters


# ---- the retrieval benchmark ------------------------------------------------------------------

def export_benchmark(corpus: DataFrame, queries: DataFrame, qrels: DataFrame, languages: list[str],
                     dest: Destination, *, license: str, pretty_name: str) -> dict[str, int]:
    """Each language's BEIR folder ``<language>/`` (rows streamed to the driver in id order), the
    JSONL qrels beside the TSV ones, and the card naming the three configs of each language."""
    counts: dict[str, int] = {}
    configs: list[hf.Config] = []
    dest.remove("README.md")                      # until the new card is written: not finished
    for language in languages:
        dest.remove(language)
        folder = dest.uri(language)
        rows: dict[str, int] = {}
        c = corpus.where(F.col("language") == language).orderBy("_id")
        rows["corpus"] = beir.write_corpus(folder, ((r["_id"], r["title"], r["text"]) for r in c.toLocalIterator()))
        q = queries.where((F.col("language") == language) & F.col("split").isin(*beir.SPLITS)).orderBy("_id")
        rows["queries"] = beir.write_queries(folder, ((r["_id"], r["text"]) for r in q.toLocalIterator()))
        for split in beir.SPLITS:
            rel = qrels.where((F.col("language") == language) & (F.col("split") == split)).orderBy("query_id")
            rows[f"qrels_{split}"] = beir.write_qrels(
                folder, split, ((r["query_id"], r["corpus_id"], r["score"]) for r in rel.toLocalIterator()))
        counts[f"exported_queries_{language}"] = rows["queries"]
        counts[f"exported_corpus_{language}"] = rows["corpus"]
        for split in beir.SPLITS:
            counts[f"exported_qrels_{split}_{language}"] = rows[f"qrels_{split}"]
        configs += cards.retrieval_configs(language, rows)
    dest.write_text("README.md", cards.retrieval_card(configs, license=license, pretty_name=pretty_name))
    return counts
