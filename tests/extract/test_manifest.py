"""Manifests and inputs: what the extraction reads, decided before Spark starts."""
from __future__ import annotations

import gzip

import pytest

from lib.extract.manifest import ManifestError, check_inputs, expand_inputs, join_base, open_uri, read_manifest


def test_gzipped_manifest_with_base_uri_like_common_crawl(tmp_path):
    manifest = tmp_path / "warc.paths.gz"
    with gzip.open(manifest, "wt") as fh:
        fh.write("# CC-MAIN-2024-22\ncrawl-data/CC-MAIN-2024-22/segments/1/warc/a.warc.gz\n\n"
                 "crawl-data/CC-MAIN-2024-22/segments/1/warc/b.warc.gz\n")
    assert read_manifest(str(manifest), base_uri="s3://commoncrawl/") == [
        "s3://commoncrawl/crawl-data/CC-MAIN-2024-22/segments/1/warc/a.warc.gz",
        "s3://commoncrawl/crawl-data/CC-MAIN-2024-22/segments/1/warc/b.warc.gz"]
    assert join_base("/abs/x.warc.gz", "s3://commoncrawl/") == "/abs/x.warc.gz"
    assert join_base("https://h/x.warc.gz", "s3://commoncrawl/") == "https://h/x.warc.gz"


def test_inputs_are_sniffed_not_judged_by_name(tmp_path, shared_data):
    warcs = shared_data / "warc-resiliparse"
    plain_manifest = tmp_path / "list.txt"
    plain_manifest.write_text(f"{warcs / 'warcfile.warc.gz'}\nfile://{warcs / 'clipped.warc.gz'}\n")
    arc = shared_data / "warc-warcio-edgecases" / "example.arc.gz"
    uncompressed = shared_data / "warc-warcio-edgecases" / "example-digest.warc"
    got = expand_inputs([str(plain_manifest), str(arc), str(uncompressed), str(warcs)])
    assert got[:4] == [str(warcs / "warcfile.warc.gz"), f"file://{warcs / 'clipped.warc.gz'}",
                       str(arc), str(uncompressed)]
    assert got[4:] == sorted(str(p) for p in warcs.glob("*.warc.gz"))
    assert check_inputs(got) == []


def test_missing_and_empty_inputs_are_reported(tmp_path):
    missing = str(tmp_path / "missing.warc.gz")
    assert expand_inputs([missing]) == [missing]
    assert check_inputs([missing, "s3://bucket/key.warc.gz"]) == [missing]
    empty = tmp_path / "empty.paths"
    empty.write_text("# nothing\n\n")
    with pytest.raises(ManifestError, match="lists no WARC files"):
        expand_inputs([str(empty)])
    (tmp_path / "folder").mkdir()
    with pytest.raises(ManifestError, match="holds no"):
        expand_inputs([str(tmp_path / "folder")])
    with pytest.raises(ManifestError, match="cannot read manifest"):
        read_manifest(missing)


def test_open_uri_streams_local_and_file_uris(shared_data):
    path = shared_data / "warc-whirlwind" / "whirlwind.warc.gz"
    with open_uri(f"file://{path}") as fh:
        assert fh.read(2) == b"\x1f\x8b"


def _serve(folder):
    """A local HTTP server for ``folder`` on 127.0.0.1 (no network beyond this machine)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_http_manifest_and_warc_are_streamed(tmp_path, shared_data):
    """A manifest over HTTP with relative entries, and the WARC it names read as a stream."""
    import collections
    import shutil

    from lib.extract.warc import scan_warc

    shutil.copy(shared_data / "warc-resiliparse" / "warcfile.warc.gz", tmp_path / "a.warc.gz")
    with gzip.open(tmp_path / "warc.paths.gz", "wt") as fh:
        fh.write("a.warc.gz\n")
    server, base = _serve(tmp_path)
    try:
        paths = expand_inputs([f"{base}/warc.paths.gz"], base_uri=base + "/")
        assert paths == [f"{base}/a.warc.gz"]
        assert check_inputs(paths) == []  # remote inputs are not checked before the job
        stats = collections.Counter()
        with open_uri(paths[0]) as stream:
            assert not isinstance(stream, (bytes, bytearray))
            assert list(scan_warc(stream, stats)) == []
        assert stats["records"] == 50 and stats["responses"] == 16
    finally:
        server.shutdown()


def test_s3_uris_use_boto3_lazily(monkeypatch):
    import sys
    import types

    monkeypatch.setitem(sys.modules, "boto3", None)  # not installed
    with pytest.raises(ManifestError, match="pip install boto3"):
        open_uri("s3://commoncrawl/crawl-data/x.warc.gz")

    calls = []

    class Body:
        _raw_stream = "the raw stream"

    fake = types.SimpleNamespace(client=lambda name: types.SimpleNamespace(
        get_object=lambda Bucket, Key: calls.append((name, Bucket, Key)) or {"Body": Body()}))
    monkeypatch.setitem(sys.modules, "boto3", fake)
    assert open_uri("s3a://commoncrawl/crawl-data/CC-MAIN-2024-22/x.warc.gz") == "the raw stream"
    assert calls == [("s3", "commoncrawl", "crawl-data/CC-MAIN-2024-22/x.warc.gz")]


def test_folder_lists_warc_and_arc_files_sorted_and_binary_is_no_manifest(tmp_path, shared_data):
    for name in ("b.warc.gz", "a.arc.gz", "c.warc", "notes.txt", "d.wat.gz"):
        (tmp_path / name).write_bytes((shared_data / "warc-whirlwind" / "whirlwind.warc.gz").read_bytes())
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / n) for n in ("a.arc.gz", "b.warc.gz", "c.warc")]
    binary = tmp_path / "image.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(ManifestError, match="neither a WARC file nor a text manifest"):
        expand_inputs([str(binary)])


def test_remote_inputs_whose_name_does_not_tell_are_sniffed(tmp_path, shared_data):
    """Over HTTP: a WDC dump named like WDC's parts (part_0.gz) and a manifest listing it."""
    import shutil

    from lib.extract.manifest import expand_sources

    shutil.copy(shared_data / "webfaq-wdc-nquads" / "FAQPage_sample.txt.gz", tmp_path / "part_0.gz")
    (tmp_path / "dumps.txt").write_text("part_0.gz\nowi/x.parquet\n")
    server, base = _serve(tmp_path)
    try:
        assert expand_sources([f"{base}/part_0.gz"]) == [(f"{base}/part_0.gz", "wdc-nquads")]
        assert expand_sources([f"{base}/dumps.txt"], base_uri=base + "/") == [
            (f"{base}/part_0.gz", "warc"), (f"{base}/owi/x.parquet", "owi-parquet")]
        assert expand_sources([f"{base}/dumps.txt"], base_uri=base + "/", source="wdc-nquads")[0] == \
            (f"{base}/part_0.gz", "wdc-nquads")
        with pytest.raises(ManifestError, match="is a wdc-nquads file, not owi-parquet"):
            expand_sources([f"{base}/part_0.gz"], source="owi-parquet")
    finally:
        server.shutdown()
