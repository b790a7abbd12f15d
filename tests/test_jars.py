"""Delta's jars resolved once and started from a folder (lib/jars.py, lib/conf.py, udfs/session.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from lib import conf as confmod
from lib.jars import artifact_name, jars_dir, cached_jars, record_jars


def test_artifact_names_of_ivy_and_spark_jars_agree():
    assert artifact_name("io.delta_delta-storage-4.4.0.jar".partition("_")[2]) == "delta-storage"
    assert artifact_name("delta-storage-4.4.0.jar") == "delta-storage"
    assert artifact_name("delta-spark_4.2_2.13-4.4.0.jar") == "delta-spark_4.2_2.13"
    assert artifact_name("zstd-jni-1.5.7-7.jar") == "zstd-jni"
    assert artifact_name("jackson-datatype-jdk8-2.13.5.jar") == "jackson-datatype-jdk8"
    assert artifact_name("log4j-slf4j2-impl-2.25.4.jar") == "log4j-slf4j2-impl"


def _jar(folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip file
    return (folder / name).as_uri()


def test_recorded_jars_leave_out_what_spark_ships_and_are_found_again(tmp_path):
    ivy, spark_jars = tmp_path / "ivy" / "jars", tmp_path / "spark" / "jars"
    resolved = [_jar(ivy, "io.delta_delta-spark_4.2_2.13-4.4.0.jar"), _jar(ivy, "io.delta_delta-storage-4.4.0.jar"),
                _jar(ivy, "org.apache.hadoop_hadoop-client-api-3.4.2.jar"),
                _jar(ivy, "com.fasterxml.jackson.core_jackson-core-2.13.5.jar")]
    _jar(spark_jars, "hadoop-client-api-3.5.0.jar")
    _jar(spark_jars, "jackson-core-2.21.2.jar")
    folder = jars_dir(tmp_path / "cache", ["io.delta:delta-spark_4.2_2.13:4.4.0"])
    assert cached_jars(folder) is None
    recorded = record_jars(folder, resolved, spark_jars)
    assert [os.path.basename(p) for p in recorded] == ["io.delta_delta-spark_4.2_2.13-4.4.0.jar",
                                                      "io.delta_delta-storage-4.4.0.jar"]
    assert all(Path(p).parent == folder for p in recorded) and cached_jars(folder) == recorded
    # Another package list is another folder; a removed jar makes the folder unusable.
    assert jars_dir(tmp_path / "cache", ["io.delta:delta-spark_4.2_2.13:4.5.0"]) != folder
    Path(recorded[1]).unlink()
    assert cached_jars(folder) is None


def test_settings_ask_for_packages_until_the_jars_are_recorded(tmp_path):
    conf = confmod.load_conf("local", [f"spark.jars_cache={tmp_path}"])
    before = confmod.spark_settings(conf)
    coordinate = confmod.delta_maven_coordinate()
    assert before["spark.jars.packages"] == coordinate and "spark.jars" not in before
    folder = confmod.jars_folder(conf, before)
    assert folder.parent == tmp_path
    ivy = tmp_path / "ivy"
    record_jars(folder, [_jar(ivy, "io.delta_delta-spark_4.2_2.13-4.4.0.jar")], None)
    after = confmod.spark_settings(conf)
    assert "spark.jars.packages" not in after
    assert after["spark.jars"] == str(folder / "io.delta_delta-spark_4.2_2.13-4.4.0.jar")
    args = confmod.spark_submit_args(conf)
    assert "--packages" not in args and args[args.index("--jars") + 1] == after["spark.jars"]
    # Without a folder (clusters), every start resolves.
    cluster = confmod.spark_settings(confmod.load_conf("cluster"))
    assert cluster["spark.jars.packages"] == coordinate and "spark.jars" not in cluster


def test_the_test_session_recorded_deltas_jars_and_starts_from_them(spark, spark_jars_cache):
    """The test session (conftest.spark) resolved Delta through Ivy into an empty folder: its jars
    are recorded there, without the copies of jars Spark ships, and a session of that profile
    now starts from them."""
    conf = confmod.load_conf("local", [f"spark.jars_cache={spark_jars_cache}"])
    folder = confmod.jars_folder(conf, {"spark.jars.packages": confmod.delta_maven_coordinate()})
    jars = cached_jars(folder)
    names = sorted(os.path.basename(j) for j in jars)
    version = confmod.delta_maven_coordinate().rsplit(":", 1)[1]
    assert f"io.delta_delta-storage-{version}.jar" in names
    assert any(n.startswith("io.delta_delta-spark_") for n in names)
    assert not any("hadoop-client" in n or "parquet" in n or "log4j" in n for n in names)
    settings = confmod.spark_settings(conf)
    assert "spark.jars.packages" not in settings and settings["spark.jars"].split(",") == jars
    # The session that started with the packages found Delta in them.
    assert spark.range(1).count() == 1 and spark.conf.get("spark.sql.extensions").startswith("io.delta")
