"""What a user sees on the console: a run through spark-submit.sh shows the job's own lines."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from lib import conf as confmod
from tests.conftest import ROOT
from tests.warc_fixtures import real_pages, write_warc

IVY = (":: loading settings ::", "Ivy Default Cache", "The jars for the packages stored in", "added as a dependency",
       ":: resolving dependencies ::", "found io.delta", ":: resolution report ::", "artifacts copied")


def test_verbose_takes_the_quiet_logging_away():
    quiet = confmod.spark_settings(confmod.load_conf("local"))["spark.driver.extraJavaOptions"]
    assert f"-Dlog4j2.configurationFile={(ROOT / 'conf' / 'log4j2-quiet.properties').as_uri()}" in quiet
    verbose = confmod.spark_settings(confmod.load_conf("local", ["console.verbose=true"]))
    assert "log4j2" not in verbose["spark.driver.extraJavaOptions"]
    out = subprocess.run([sys.executable, "-m", "jobs.base", "spark-submit-args", "extract", "--verbose"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "log4j2" not in out.stdout and "-XX:TieredStopAtLevel=1" in out.stdout
    # a driver started elsewhere (cluster deploy mode) keeps its own logging
    remote = confmod.load_conf("cluster", ["spark.conf.[spark.submit.deployMode]=cluster"])
    assert "spark.driver.extraJavaOptions" not in confmod.spark_settings(remote)


def test_generated_files_go_to_the_cache_folder_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WEBFAQ_CACHE_DIR", str(tmp_path / "cache"))
    conf = confmod.load_conf("local")
    assert confmod.cache_dir(conf) == str(tmp_path / "cache")
    assert f"-XX:ArchiveClassesAtExit={tmp_path / 'cache' / 'jvm' / 'spark-classes-'}" in \
        confmod.spark_settings(conf)["spark.driver.extraJavaOptions"]
    assert confmod.cache_dir(confmod.load_conf("local", ["cache_dir=/srv/webfaq-cache"])) == "/srv/webfaq-cache"
    monkeypatch.delenv("WEBFAQ_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert confmod.cache_dir(conf) == str(tmp_path / "xdg" / "webfaq-spark")
    with pytest.raises(confmod.ConfError, match="cache_dir must be a local folder"):
        confmod.cache_dir(confmod.load_conf("local", ["cache_dir=s3://bucket/cache"]))
    # the code zip spark-submit.sh ships is made there too
    out = subprocess.run([sys.executable, "-m", "jobs.base", "spark-submit-args", "extract", "--with-code",
                          "--conf", f"cache_dir={tmp_path / 'other'}"], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    flags = out.stdout.splitlines()
    assert out.returncode == 0 and flags[-2:] == ["--py-files", str(tmp_path / "other" / "code" / "webfaq_spark.zip")]
    import zipfile

    names = zipfile.ZipFile(flags[-1]).namelist()
    assert "jobs/extract.py" in names and "lib/conf.py" in names and "udfs/session.py" in names
    assert not any("__pycache__" in n for n in names)
    # nothing in the working directory but the cache folders named (the archive's folder is made ready)
    assert sorted(os.listdir(tmp_path)) == ["cache", "other"] and os.listdir(tmp_path / "cache") == ["jvm"]


@pytest.mark.slow
def test_a_default_run_prints_the_jobs_lines_and_no_ivy_or_info_line(tmp_path, shared_data):
    """A real extract through spark-submit.sh, started from another folder: stderr holds the job's
    progress lines (and nothing of Ivy's report or Spark's INFO log), stdout its counters, and the
    working directory gets nothing but what the run was asked to write."""
    work = tmp_path / "elsewhere"
    warc = write_warc(work / "crawl.warc.gz", real_pages(shared_data))
    result = subprocess.run([str(ROOT / "spark-submit.sh"), "extract", "--input", "crawl.warc.gz",
                             "--warehouse", str(tmp_path / "wh"), "--conf", "extract.progress_seconds=1"],
                            cwd=work, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 0, result.stderr[-3000:]
    err = result.stderr.splitlines()
    assert not [line for line in err if any(marker in line for marker in IVY)], result.stderr[:3000]
    assert not [line for line in err if re.search(r"\bINFO\b", line)], result.stderr[:3000]
    assert "WARNING: Using incubator modules" not in result.stderr
    assert err[0].startswith("[extract] ") and "Spark session ready" in err[0], result.stderr[:3000]
    assert any(line.startswith("[extract]") and "qa_pairs:" in line for line in err)
    for line in err:  # a progress line, when the scan lasted long enough to get one, has its rate and ETA
        if re.match(r"\[extract\] +[\d.]+s  files ", line):
            assert re.search(r"files [01]/1 done.*; (ETA|finishing)", line), line
    import deltalake

    stored = deltalake.DeltaTable(str(tmp_path / "wh" / "qa_pairs")).to_pandas()
    counters = dict(re.findall(r"^  (\w+) +([\d,]+)$", result.stdout, flags=re.M))
    assert int(counters["pairs_inserted"].replace(",", "")) == len(stored) > 0
    assert sorted(os.listdir(work)) == ["crawl.warc.gz"]
