"""lib/exports/destination.py: local folders and fsspec URLs; a scheme without its package stops the job."""
from __future__ import annotations

import uuid

import fsspec
import pytest

from lib.exports import destination
from lib.exports.destination import DestinationError, resolve


@pytest.fixture
def memory_root():
    """A fresh folder on fsspec's in-memory filesystem, removed afterwards."""
    root = f"memory://webfaq-test-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_memory_and_local_destinations(memory_root, tmp_path):
    mem = resolve(memory_root + "/out/")
    assert mem.url == memory_root + "/out"
    mem.write_text("a/b/c.txt", "données")
    assert mem.read_text("a/b/c.txt") == "données"
    assert mem.listdir("a") == ["b"] and mem.uri("a", "b") == memory_root + "/out/a/b"
    mem.remove("a")
    assert not mem.exists("a") and mem.listdir("a") == []
    mem.remove("never-written")                                   # nothing there: no error

    for url in (str(tmp_path / "x"), f"file://{tmp_path}/x"):
        local = resolve(url)
        assert local.url == str(tmp_path / "x") and local.root == str(tmp_path / "x")
        local.write_text("deep/file.txt", "ok")
        assert (tmp_path / "x" / "deep" / "file.txt").read_text() == "ok"


@pytest.mark.parametrize("url, package", [
    ("s3://bucket/webfaq", "s3fs"), ("s3a://bucket/webfaq", "s3fs"), ("gs://bucket/webfaq", "gcsfs"),
    ("abfss://container@account.dfs.core.windows.net/webfaq", "adlfs"), ("az://container/webfaq", "adlfs"),
])
def test_a_scheme_without_its_package_names_the_package(url, package):
    try:
        __import__(package)
    except ImportError:
        pass
    else:
        pytest.skip(f"{package} is installed here")
    with pytest.raises(DestinationError, match=f"needs the package {package} \\(pip install {package}\\)"):
        resolve(url)


def test_unknown_scheme_and_dbfs(tmp_path, monkeypatch):
    with pytest.raises(DestinationError, match="not a filesystem fsspec knows"):
        resolve("nosuchfs://x/y")
    # Off Databricks and without a token: a clear error, not a folder named "dbfs:".
    monkeypatch.setattr(destination, "DBFS_MOUNT", str(tmp_path / "no-mount"))
    with pytest.raises(DestinationError, match="DATABRICKS_HOST and DATABRICKS_TOKEN"):
        resolve("dbfs:/webfaq/exports", env={})
    # On a cluster, dbfs:/path is the FUSE mount /dbfs/path (a stand-in folder here).
    mount = tmp_path / "dbfs"
    mount.mkdir()
    monkeypatch.setattr(destination, "DBFS_MOUNT", str(mount))
    d = resolve("dbfs:/webfaq/exports", env={})
    assert d.url == str(mount / "webfaq" / "exports")
    d.write_text("README.md", "card")
    assert (mount / "webfaq" / "exports" / "README.md").read_text() == "card"
    assert not (tmp_path / "dbfs:").exists()


@pytest.mark.parametrize("job, argv", [
    ("jobs.export:ExportJob", ["--format", "hf", "--output", "s3://bucket/webfaq-hf"]),
    ("jobs.benchmark:BenchmarkJob", ["--export", "gs://bucket/beir"]),
    ("jobs.mine:MineJob", ["--export", "abfss://c@a.dfs.core.windows.net/neg", "--export-only"]),
    ("jobs.report:ReportJob", ["--output", "s3://bucket/report"]),
])
def test_jobs_stop_before_spark_on_a_missing_filesystem_package(job, argv, capsys, tmp_path):
    import importlib

    module, cls = job.split(":")
    code = getattr(importlib.import_module(module), cls)().main(["--warehouse", str(tmp_path / "wh"), *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "needs the package" in err and "pip install" in err
    assert not (tmp_path / "wh").exists()
