"""jobs/extract.py when inputs are bad or the run breaks: what users see and what the tables hold.

Inputs are real WARCs and pages from ../shared/data; the damage is made here and said in each test.
"""
from __future__ import annotations

import pytest
from deltalake import DeltaTable

from jobs.extract import ExtractJob
from tests.extract.test_manifest import _server
from tests.warc_fixtures import FAQ_PAGES_DE, real_pages, write_warc

pytestmark = pytest.mark.slow

TWO_PAGES = dict(list(FAQ_PAGES_DE.items())[4:])  # haustiermagazin (5 pairs), smava (4 pairs)


def read(path) -> list[dict]:
    return DeltaTable(str(path)).to_pyarrow_table().to_pylist()


def runs(warehouse) -> list[dict]:
    return sorted(read(warehouse / "runs"), key=lambda r: r["started_at"])


@pytest.fixture
def inputs(tmp_path, shared_data):
    good = write_warc(tmp_path / "good.warc.gz", real_pages(shared_data, TWO_PAGES, {}))
    # The real gzip header of a WARC member, then bytes that are no deflate stream (a real
    # page's HTML): random data behind the gzip magic number.
    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(good.read_bytes()[:10] + (shared_data / "html-hreflang" / "kas.de-nordmazedonien.html").read_bytes()[:4096])
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    return good, garbage, empty


def test_unreadable_files_are_listed_in_runs_and_a_run_that_read_nothing_fails(spark, warehouse, inputs, capsys):
    good, garbage, empty = inputs
    # A runs table as the previous release wrote it (no error / unreadable_inputs columns):
    # the new rows must still go in.
    old_runs = """run_id string, job string, profile string, started_at timestamp, finished_at timestamp,
                  inputs array<string>, counters map<string,bigint>"""
    import datetime as dt
    spark.createDataFrame([("old", "extract", "local", dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1), [], {"files": 1})],
                          old_runs).write.format("delta").save(str(warehouse / "runs"))

    # An https input whose server sends one byte a second: past its deadline it is unreadable.
    server, base, _ = _server(good.read_bytes(), "trickle")
    try:
        slow = f"{base}/slow.warc.gz"
        code = ExtractJob().main(["--input", str(garbage), "--input", str(empty), "--input", str(good),
                                  "--input", slow, "--warehouse", str(warehouse),
                                  "--conf", "extract.remote.deadline_seconds=2", "--conf", "extract.remote.retries=0"])
    finally:
        server.shutdown()
    assert code == 0
    assert len(read(warehouse / "qa_pairs")) == 9
    row = runs(warehouse)[-1]
    assert row["error"] is None
    assert dict(row["counters"])["unreadable_files"] == 3 and dict(row["counters"])["files"] == 4
    reasons = {item["input"]: item["reason"] for item in row["unreadable_inputs"]}
    assert sorted(reasons) == sorted([str(empty), str(garbage), slow])
    assert reasons[str(empty)] == "empty file"
    assert reasons[str(garbage)] == "neither a WARC nor an ARC file (or a gzip stream damaged from its start)"
    assert reasons[slow].startswith("not read within 2 s (extract.remote.deadline_seconds) after ")

    capsys.readouterr()
    assert ExtractJob().main(["--input", str(garbage), "--input", str(empty), "--warehouse", str(warehouse)]) == 1
    err = capsys.readouterr().err
    assert "error: none of the 2 input file(s) could be read" in err
    assert "Traceback" not in err
    failed = runs(warehouse)[-1]
    assert failed["error"].startswith("none of the 2 input file(s) could be read")
    assert [item["input"] for item in failed["unreadable_inputs"]] == sorted([str(empty), str(garbage)])
    assert dict(failed["counters"])["files"] == 2
    old = runs(warehouse)[0]
    assert old["run_id"] == "old" and old["error"] is None and old["unreadable_inputs"] is None
    assert len(read(warehouse / "qa_pairs")) == 9  # nothing written by the failed run


def test_bad_remote_manifests_exit_2_with_one_line(tmp_path, warehouse, monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    manifest = "s3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz"
    assert ExtractJob().main(["--input", manifest, "--warehouse", str(warehouse)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot read manifest {manifest}: no AWS credentials" in err

    server, base, _ = _server(b"", "plain")
    try:
        assert ExtractJob().main(["--input", f"{base}/missing.paths.gz", "--warehouse", str(warehouse)]) == 2
    finally:
        server.shutdown()
    err = capsys.readouterr().err
    assert err == f"spark-submit.sh extract: error: cannot read manifest {base}/missing.paths.gz: HTTP 404 Not Found\n"
    assert list(warehouse.iterdir()) == []


def test_a_run_broken_between_its_writes_leaves_no_page_without_its_pairs(spark, warehouse, inputs, monkeypatch):
    """A run killed after its first table write: readers must not see its pages without their
    pairs, and the re-run completes it. The kill is simulated by making the second write raise."""
    import jobs.extract
    import udfs.extract

    good = inputs[0]
    calls: list[str] = []

    def second_write_fails(name, real):
        def write(*args, **kwargs):
            calls.append(name)
            if len(calls) == 2:
                raise RuntimeError("killed between the writes")
            return real(*args, **kwargs)
        return write

    with monkeypatch.context() as patch:
        patch.setattr(jobs.extract, "merge_new_rows", second_write_fails("faq_pages", jobs.extract.merge_new_rows))
        patch.setattr(udfs.extract, "merge_qa_pairs", second_write_fails("qa_pairs", udfs.extract.merge_qa_pairs))
        assert ExtractJob().main(["--input", str(good), "--warehouse", str(warehouse)]) == 1
    assert len(calls) == 2
    pages = read(warehouse / "faq_pages") if (warehouse / "faq_pages").exists() else []
    pair_urls = {row["url"] for row in read(warehouse / "qa_pairs")} if (warehouse / "qa_pairs").exists() else set()
    assert {row["url"] for row in pages} <= pair_urls
    failed = runs(warehouse)[-1]
    assert failed["error"] == "RuntimeError: killed between the writes"

    assert ExtractJob().main(["--input", str(good), "--warehouse", str(warehouse)]) == 0
    counters = dict(runs(warehouse)[-1]["counters"])
    assert counters["pages_inserted"] == 2
    assert counters["pairs_inserted"] + counters["pairs_already_present"] == 9
    assert len(read(warehouse / "qa_pairs")) == 9
    assert sorted(row["num_pairs"] for row in read(warehouse / "faq_pages")) == [4, 5]
