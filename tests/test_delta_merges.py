"""Merges that know the languages of their rows read and rewrite those language partitions only,
and leave the same rows as merges on the key alone (real COVID-QA pairs)."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from lib.schemas import QA_PAIRS, QA_PAIRS_KEY, QA_PAIRS_PARTITION
from tests.qa_fixtures import covidqa_pairs


def rows(spark, path: str) -> list[tuple]:
    return sorted(tuple(r) for r in spark.read.format("delta").load(path).select(*sorted(
        spark.read.format("delta").load(path).columns)).collect())


def last_predicate(spark, path: str) -> str:
    from delta.tables import DeltaTable

    params = DeltaTable.forPath(spark, path).history(1).first()["operationParameters"]
    return re.sub(r"#\d+", "", " ".join(json.loads(params["predicate"])))  # "language#12" -> "language"


def test_a_merge_of_known_languages_skips_the_other_partitions(spark, tmp_path, shared_data):
    from udfs.delta import merge_new_rows

    pairs = covidqa_pairs(shared_data)
    frame = lambda df: spark.createDataFrame(df, schema=QA_PAIRS)  # noqa: E731
    first = pairs[pairs.language.isin(["deu", "pol"]) | (pairs.index % 2 == 0)]
    second = pairs[pairs.language.isin(["eng", "ita"])]            # about half of them stored already
    new = len(set(second.id) - set(first.id))
    assert 0 < new < len(second)
    filtered, key_only = str(tmp_path / "filtered"), str(tmp_path / "key_only")
    for path in (filtered, key_only):
        merge_new_rows(spark, frame(first), path, QA_PAIRS_KEY, QA_PAIRS_PARTITION)

    # While a German file is out of reach, the merge of English and Italian rows does not need it ...
    german = sorted((tmp_path / "filtered" / "language=deu").glob("*.parquet"))[0]
    aside = tmp_path / "aside.parquet"
    german.rename(aside)
    result = merge_new_rows(spark, frame(second), filtered, QA_PAIRS_KEY, QA_PAIRS_PARTITION,
                            partitions={"language": ["eng", "ita"]})
    aside.rename(german)
    assert last_predicate(spark, filtered) == "(language IN (eng,ita) AND (id = id))"
    # ... and leaves the rows a merge on the key alone leaves.
    assert result == merge_new_rows(spark, frame(second), key_only, QA_PAIRS_KEY, QA_PAIRS_PARTITION) \
        == {"inserted": new, "updated": 0}
    assert rows(spark, filtered) == rows(spark, key_only)
    assert spark.read.format("delta").load(filtered).count() == len(set(first.id) | set(second.id))

    # The merge on the key alone reads every partition: without that file it cannot run.
    german = sorted((tmp_path / "key_only" / "language=deu").glob("*.parquet"))[0]
    german.rename(aside)
    with pytest.raises(Exception, match=r"(?i)FileNotFound|FILE_NOT_EXIST|does not exist"):
        merge_new_rows(spark, frame(second), key_only, QA_PAIRS_KEY, QA_PAIRS_PARTITION)
    aside.rename(german)


def test_qa_pairs_merged_by_language_equal_one_write_of_all_pairs(spark, tmp_path, shared_data):
    """The second batch repeats two questions of cdc.gov stored by the first: the merge flags the
    stored rows too (an update in the English partition), as one write of every pair does."""
    from lib.extract.clean import question_key
    from udfs.extract import merge_qa_pairs

    pairs = covidqa_pairs(shared_data)
    later = pairs.groupby([pairs.origin, pairs.question.map(question_key)]).cumcount() > 0
    second_mask = later | pairs.language.isin(["ita", "swe"]) | ((pairs.language == "eng") & (pairs.index % 3 == 0))
    first, second = pairs[~second_mask], pairs[second_mask]
    assert later.sum() == 2 and not later[first.index].any()
    frame = lambda df: spark.createDataFrame(df, schema=QA_PAIRS)  # noqa: E731

    merged, at_once = str(tmp_path / "merged"), str(tmp_path / "at_once")
    created = merge_qa_pairs(spark, frame(first), merged)
    result = merge_qa_pairs(spark, frame(second), merged)
    merge_qa_pairs(spark, frame(pairs), at_once)
    assert result["inserted"] == len(second) and result["flagged"] == 4   # 2 new rows, 2 stored ones
    # per source, counted on the way in (these rows have no source: a scrape published as a table)
    assert created["inserted_by_source"] == {"unknown": len(first)} and created["flagged"] == 0
    assert result["inserted_by_source"] == {"unknown": len(second)}
    assert rows(spark, merged) == rows(spark, at_once)
    assert last_predicate(spark, merged) == "(language IN (eng,ita,swe) AND (id = id))"
    shutil.rmtree(tmp_path / "at_once")
