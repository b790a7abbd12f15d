"""Job inputs: manifests (like Common Crawl's ``warc.paths.gz``), files, folders, and their streams.

A manifest lists one input path or URL a line: local paths, ``file://``, ``s3://``/``s3a://`` and
``http(s)://``; it may be gzipped. Relative entries are joined to a base URI
(``s3://commoncrawl/`` or ``https://data.commoncrawl.org/`` for Common Crawl's own manifests).
Streams are opened for sequential reading; nothing reads a whole file into memory.

Inputs come in three formats (``lib.schemas.SOURCES``): ``warc`` (WARC/ARC files),
``wdc-nquads`` (Web Data Commons N-Quads dumps) and ``owi-parquet`` (Open Web Index Parquet
files). :func:`expand_sources` tells them apart by content where it can (see there).
"""
from __future__ import annotations

import gzip
import os
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import BinaryIO

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
NQUADS_SUFFIXES = (".nq", ".nq.gz", ".nquads", ".nquads.gz")
PARQUET_SUFFIXES = (".parquet",)
_SUFFIXES = {"warc": WARC_SUFFIXES, "wdc-nquads": NQUADS_SUFFIXES, "owi-parquet": PARQUET_SUFFIXES}
_SNIFF_BYTES = 4096
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


def _inner_head(head: bytes) -> bytes:
    """The first bytes of a file's content: decompressed when ``head`` starts a gzip stream."""
    if head[:2] != b"\x1f\x8b":
        return head
    # a gzip file: a WARC/ARC, an N-Quads dump, or a gzipped manifest?
    try:
        return zlib.decompressobj(31).decompress(head, _SNIFF_BYTES)
    except zlib.error:
        return b"WARC/"  # a damaged gzip is still a WARC input, read as far as it goes


def _looks_like_nquads(head: bytes) -> bool:
    """The first line starts like an N-Quads statement: an IRI or blank node, then an IRI."""
    line = head.lstrip().split(b"\n", 1)[0]
    if line.startswith(b"<"):
        end = line.find(b">")
        rest = line[end + 1:] if end > 0 else b""
    elif line.startswith(b"_:"):
        parts = line.split(None, 1)
        rest = parts[1] if len(parts) > 1 else b""
    else:
        return False
    rest = rest.lstrip(b" \t")
    return rest.startswith(b"<") and b">" in rest


def sniff_format(head: bytes) -> str | None:
    """The format of a file from its first bytes (as stored, maybe gzipped): ``warc``,
    ``wdc-nquads``, ``owi-parquet``, or None (text: a manifest, or not an input at all)."""
    if head.startswith(b"PAR1"):
        return "owi-parquet"
    inner = _inner_head(head)
    if _looks_like_warc(inner):
        return "warc"
    if _looks_like_nquads(inner):
        return "wdc-nquads"
    return None


def format_by_name(name: str) -> str | None:
    """The format a file name announces (``x.warc.gz``, ``x.parquet``, ``x.nq.gz``), else None."""
    for source, suffixes in _SUFFIXES.items():
        if name.endswith(suffixes):
            return source
    return None


def expand_inputs(inputs: list[str], base_uri: str | None = None) -> list[str]:
    """WARC paths/URLs from a mix of manifests, WARC files and folders of WARC files
    (:func:`expand_sources` with ``source="warc"``)."""
    return [uri for uri, _ in expand_sources(inputs, base_uri, "warc")]


def expand_sources(inputs: list[str], base_uri: str | None = None,
                   source: str | None = None) -> list[tuple[str, str]]:
    """``(path or URI, format)`` of every input file named by ``inputs``: manifests, files, folders.

    With ``source`` given, every file is read as that format: a local file whose content is
    another format is an error, a folder gives its files named like that format (``.warc.gz``,
    ``.arc.gz``, ... / ``.nq.gz``, ``.nquads.gz`` and any file whose content is N-Quads /
    ``.parquet``; names starting with ``.`` or ``_`` are skipped). With ``source`` None the
    format is sniffed where that is unambiguous: a local file by its content (WARC or ARC, N-Quads
    after gunzip, Parquet), a folder's files by name or content, a remote input and a manifest
    entry by name (``.parquet``, ``.nq.gz``, ...), else ``warc``. A local or remote input that
    is none of the three is read as a manifest. A missing local input is passed on as it is,
    so that :func:`check_inputs` can name every missing file at once.
    """
    found: list[tuple[str, str]] = []
    for item in inputs:
        if _is_remote(item):
            named = format_by_name(item)
            if named is not None:
                if source is not None and named != source:
                    raise ManifestError(f"{item} is named like a {named} file, not {source} (see --source)")
                found.append((item, named))
            elif source == "warc":
                found += _manifest_entries(item, base_uri, source)  # warc.paths.gz and kin
            else:
                found += _remote_input(item, base_uri, source)
            continue
        local = _local_path(item)
        if os.path.isdir(local):
            files = _folder_files(local, source)
            if not files:
                kinds = ", ".join(_SUFFIXES[source] if source else sum(_SUFFIXES.values(), ()))
                raise ManifestError(f"folder {item} holds no input files ({kinds})")
            found += [(str(path), fmt) for path, fmt in files]
        elif not os.path.exists(local):
            found.append((item, source or format_by_name(item) or "warc"))
        else:
            with open(local, "rb") as fh:
                fmt = sniff_format(fh.read(_SNIFF_BYTES))
            if fmt is None:
                found += _manifest_entries(item, base_uri, source)
            elif source is not None and fmt != source:
                raise ManifestError(f"{item} is a {fmt} file, not {source} (see --source)")
            else:
                found.append((item, fmt))
    return found


def _folder_files(folder: str, source: str | None) -> list[tuple[Path, str]]:
    files = []
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file() or path.name.startswith((".", "_")):
            continue
        fmt = format_by_name(path.name)
        if fmt is None and source in (None, "wdc-nquads"):
            with open(path, "rb") as fh:
                sniffed = sniff_format(fh.read(_SNIFF_BYTES))
            fmt = sniffed if sniffed == "wdc-nquads" else None  # not WAT/WET or notes named otherwise
        if fmt is not None and (source is None or fmt == source):
            files.append((path, fmt))
    return files


def _manifest_entries(uri: str, base_uri: str | None, source: str | None) -> list[tuple[str, str]]:
    return [(entry, source or format_by_name(entry) or "warc") for entry in read_manifest(uri, base_uri)]


def _remote_input(uri: str, base_uri: str | None, source: str | None) -> list[tuple[str, str]]:
    """A remote input whose name does not tell: a data file by its first bytes, else a manifest."""
    try:
        with open_uri(uri) as stream:
            head = stream.read(_SNIFF_BYTES)
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read {uri}: {exc}") from exc
    fmt = sniff_format(head)
    if fmt is None:
        return _manifest_entries(uri, base_uri, source)
    if source is not None and fmt != source:
        raise ManifestError(f"{uri} is a {fmt} file, not {source} (see --source)")
    return [(uri, fmt)]


def check_inputs(uris: list[str]) -> list[str]:
    """The local (or ``file://``) inputs that do not exist; remote ones are not checked here."""
    return [uri for uri in uris if not _is_remote(uri) and not os.path.isfile(_local_path(uri))]
