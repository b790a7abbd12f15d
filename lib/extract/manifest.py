"""Job inputs: WARC manifests (like Common Crawl's ``warc.paths.gz``) and the streams they name.

A manifest lists one WARC path or URL a line: local paths, ``file://``, ``s3://``/``s3a://`` and
``http(s)://``; it may be gzipped. Relative entries are joined to a base URI
(``s3://commoncrawl/`` or ``https://data.commoncrawl.org/`` for Common Crawl's own manifests).
Streams are opened for sequential reading; nothing reads a whole file into memory.
"""
from __future__ import annotations

import gzip
import os
import urllib.parse
import urllib.request
from pathlib import Path
from typing import BinaryIO

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
REMOTE_SCHEMES = ("s3", "s3a", "s3n", "http", "https")


class ManifestError(ValueError):
    """A manifest or input that cannot be used: missing, unreadable or empty."""


def _is_remote(uri: str) -> bool:
    return urllib.parse.urlsplit(uri).scheme in REMOTE_SCHEMES


def _local_path(uri: str) -> str:
    if uri.startswith("file://"):
        return urllib.parse.unquote(urllib.parse.urlsplit(uri).path)
    return uri


def join_base(entry: str, base_uri: str | None) -> str:
    """A manifest entry as a full path/URI: relative entries are prefixed by ``base_uri``."""
    if not base_uri or "://" in entry or entry.startswith("/"):
        return entry
    return base_uri.rstrip("/") + "/" + entry.lstrip("/")


def open_uri(uri: str) -> BinaryIO:
    """A binary stream for a local path, ``file://``, ``s3://``/``s3a://`` or ``http(s)://`` URI."""
    scheme = urllib.parse.urlsplit(uri).scheme
    if scheme in ("s3", "s3a", "s3n"):
        try:
            import boto3
        except ImportError as exc:
            raise ManifestError(f"reading {uri} needs boto3: pip install boto3 "
                                f"(or pip install 'webfaq-spark[s3]')") from exc
        parts = urllib.parse.urlsplit(uri)
        body = boto3.client("s3").get_object(Bucket=parts.netloc, Key=parts.path.lstrip("/"))["Body"]
        return body._raw_stream if hasattr(body, "_raw_stream") else body
    if scheme in ("http", "https"):
        request = urllib.request.Request(uri, headers={"User-Agent": "webfaq-spark"})
        return urllib.request.urlopen(request, timeout=60)  # noqa: S310 - URLs come from the user's manifest
    return open(_local_path(uri), "rb")


def _looks_like_warc(head: bytes) -> bool:
    """WARC, ARC or a gzip stream (a manifest is recognised by its text after gunzip)."""
    return head.startswith((b"WARC/", b"filedesc://")) or head[:2] == b"\x1f\x8b"


def _read_lines(uri: str) -> list[str]:
    with open_uri(uri) as raw:
        data = raw.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ManifestError(f"manifest {uri}: broken gzip: {exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{uri}: neither a WARC file nor a text manifest") from exc
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def read_manifest(path_or_uri: str, base_uri: str | None = None) -> list[str]:
    """The WARC paths/URLs listed in a manifest (plain or gzipped text, one a line, # comments)."""
    try:
        entries = _read_lines(path_or_uri)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise ManifestError(f"cannot read manifest {path_or_uri}: {exc.strerror or exc}") from exc
    if not entries:
        raise ManifestError(f"manifest {path_or_uri} lists no WARC files")
    return [join_base(entry, base_uri) for entry in entries]


def _sniff_local(path: str) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head[:2] == b"\x1f\x8b":  # a gzip file: a WARC/ARC, or a gzipped manifest?
        with gzip.open(path, "rb") as fh:
            try:
                return fh.read(64)
            except (OSError, EOFError):
                return b"WARC/"  # a damaged gzip is still a WARC input, read as far as it goes
    return head


def expand_inputs(inputs: list[str], base_uri: str | None = None) -> list[str]:
    """WARC paths/URLs from a mix of manifests, WARC files and folders of WARC files.

    A local input is sniffed (its first bytes, after gunzip), not judged by its name; a remote one
    is a WARC when its name ends like one, else a manifest. A missing local input is passed on as
    it is, so that :func:`check_inputs` can name every missing file at once.
    """
    paths: list[str] = []
    for item in inputs:
        if _is_remote(item):
            paths += [item] if item.endswith(WARC_SUFFIXES) else read_manifest(item, base_uri)
            continue
        local = _local_path(item)
        if os.path.isdir(local):
            found = sorted(str(p) for p in Path(local).iterdir() if p.name.endswith(WARC_SUFFIXES))
            if not found:
                raise ManifestError(f"folder {item} holds no .warc/.warc.gz/.arc.gz files")
            paths += found
        elif not os.path.exists(local):
            paths.append(item)
        elif _looks_like_warc(_sniff_local(local)):
            paths.append(item)
        else:
            paths += read_manifest(item, base_uri)
    return paths


def check_inputs(uris: list[str]) -> list[str]:
    """The local (or ``file://``) inputs that do not exist; remote ones are not checked here."""
    return [uri for uri in uris if not _is_remote(uri) and not os.path.isfile(_local_path(uri))]
