"""Manifests and inputs: what the extraction reads, decided before Spark starts."""
from __future__ import annotations

import gzip

import pytest

from lib.manifest import ManifestError, check_inputs, expand_inputs, join_base, open_uri, read_manifest


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
