"""Tables by name: with catalog.schema set, the tables a stage writes are registered in the
session's catalog (here Spark's own spark_catalog with Delta's catalog, as a metastore has them)."""
from __future__ import annotations

import pytest

from lib import conf as confmod
from lib.schemas import QA_PAIRS, QA_PAIRS_KEY, QA_PAIRS_PARTITION
from tests.qa_fixtures import covidqa_pairs


def test_table_names_are_quoted_and_path_only_is_the_default():
    assert confmod.table_name(confmod.load_conf("local"), "qa_pairs") is None
    conf = confmod.load_conf("local", ["catalog.name=main", "catalog.schema=web faq", "tables.qa_pairs=qa`pairs"])
    assert confmod.table_name(conf, "qa_pairs") == "`main`.`web faq`.`qa``pairs`"
    assert confmod.table_name(confmod.load_conf("local", ["catalog.schema=webfaq"]), "runs") == "`webfaq`.`runs`"


def test_a_catalog_without_a_schema_is_refused_before_spark(tmp_path, capsys):
    from jobs.maintain import MaintainJob

    assert MaintainJob().main(["--warehouse", str(tmp_path / "wh"), "--conf", "catalog.name=main"]) == 2
    assert capsys.readouterr().err == ("spark-submit.sh maintain: error: catalog.name=main needs catalog.schema, "
                                       "the schema to register the tables in\n")
    assert not (tmp_path / "wh").exists()


@pytest.mark.slow
def test_tables_a_stage_writes_are_queryable_by_name(spark, warehouse, shared_data, tmp_path, capsys):
    """qa_pairs of real COVID-QA pairs, then a maintain run with catalog.schema set: qa_pairs and
    runs are external tables of spark_catalog.webfaq_names over the same files."""
    from jobs.maintain import MaintainJob
    from udfs.delta import merge_new_rows, register_table

    pairs = covidqa_pairs(shared_data)
    merge_new_rows(spark, spark.createDataFrame(pairs, schema=QA_PAIRS), str(warehouse / "qa_pairs"),
                   QA_PAIRS_KEY, QA_PAIRS_PARTITION)
    # The schema made here, in the test's folder (one the job makes goes to spark.sql.warehouse.dir).
    spark.sql(f"CREATE SCHEMA webfaq_names LOCATION '{tmp_path / 'schema'}'")
    try:
        args = ["--warehouse", str(warehouse), "--tables", "qa_pairs", "--no-vacuum",
                "--conf", "catalog.name=spark_catalog", "--conf", "catalog.schema=webfaq_names"]
        assert MaintainJob().main(args) == 0
        assert "tables by name: spark_catalog.webfaq_names.qa_pairs" in capsys.readouterr().err
        by_name = spark.sql("SELECT language, count(*) AS n FROM spark_catalog.webfaq_names.qa_pairs GROUP BY language")
        assert dict(by_name.collect()) == pairs.groupby("language").size().to_dict()
        assert spark.sql("DESCRIBE DETAIL webfaq_names.qa_pairs").first()["location"] in (
            str(warehouse / "qa_pairs"), f"file:{warehouse / 'qa_pairs'}")
        assert [r["job"] for r in spark.table("webfaq_names.runs").collect()] == ["maintain"]
        # A second run finds the tables registered; its runs row shows through the same name.
        assert MaintainJob().main(args) == 0
        assert spark.table("webfaq_names.runs").count() == 2 and spark.table("webfaq_names.qa_pairs").count() == len(pairs)
        # A name that already stands for another location is left as it is, with a warning.
        warning = register_table(spark, "`webfaq_names`.`qa_pairs`", "`webfaq_names`", str(warehouse / "runs"))
        assert warning.startswith("`webfaq_names`.`qa_pairs` is a table at ") and warning.endswith(
            f"not {warehouse / 'runs'}: left as it is (drop it to register this warehouse)")
    finally:
        spark.sql("DROP SCHEMA IF EXISTS webfaq_names CASCADE")
    assert spark.read.format("delta").load(str(warehouse / "qa_pairs")).count() == len(pairs)  # external: files stay
