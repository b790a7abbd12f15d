"""Job inputs: manifests (like Common Crawl's ``warc.paths.gz``), files, folders, and their streams.

A manifest lists one input path or URL a line: local paths, ``file://``, ``s3://``/``s3a://`` and
``http(s)://``; it may be gzipped. Relative entries are joined to a base URI
(``s3://commoncrawl/`` or ``https://data.commoncrawl.org/`` for Common Crawl's own manifests).
Streams are opened for sequential reading; nothing reads a whole file into memory.

Inputs come in three formats (``lib.schemas.SOURCES``): ``warc`` (WARC/ARC files),
``wdc-nquads`` (Web Data Commons N-Quads dumps) and ``owi-parquet`` (Open Web Index Parquet
files). :func:`expand_sources` tells them apart by content where it can (see there).

Remote reads (``http(s)://``, ``s3://``) are bounded (:class:`RemoteSettings`, conf
``extract.remote``): each socket read waits at most ``read_timeout_seconds``; a dropped
connection, a timeout or a server error (5xx, 429) is retried up to ``retries`` times after
``backoff_seconds``, doubled each time, and the read resumes where it stopped (an HTTP ``Range``
request, an S3 ``Range`` get); a permanent error (404, 403, missing credentials) is not retried;
and the whole file must be read within ``deadline_seconds``, however slowly its server sends it.
Past that, reading raises :class:`RemoteReadError`, whose message names the input and the cause.
"""
from __future__ import annotations

import gzip
import http.client
import io
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
NQUADS_SUFFIXES = (".nq", ".nq.gz", ".nquads", ".nquads.gz")
PARQUET_SUFFIXES = (".parquet",)
_SUFFIXES = {"warc": WARC_SUFFIXES, "wdc-nquads": NQUADS_SUFFIXES, "owi-parquet": PARQUET_SUFFIXES}
_SNIFF_BYTES = 4096
REMOTE_SCHEMES = ("s3", "s3a", "s3n", "http", "https")
#: Names of Common Crawl's manifests (warc.paths.gz, wat.paths.gz, ...): read as manifests unsniffed.
MANIFEST_SUFFIXES = (".paths", ".paths.gz")


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


@dataclass(frozen=True)
class RemoteSettings:
    """Bounds on reading one remote file (conf ``extract.remote``; see the module docstring)."""

    deadline_seconds: float = 3600.0
    read_timeout_seconds: float = 60.0
    retries: int = 4
    backoff_seconds: float = 2.0

    @classmethod
    def from_conf(cls, remote: dict | None) -> "RemoteSettings":
        remote = remote or {}
        return cls(**{name: type(getattr(cls, name))(remote[name])
                      for name in cls.__dataclass_fields__ if remote.get(name) is not None})


class RemoteReadError(OSError):
    """A remote input that could not be read: permanent error, retries spent or deadline passed."""

    def __init__(self, uri: str, cause: str):
        super().__init__(f"{uri}: {cause}")
        self.uri, self.cause = uri, cause


class _PermanentError(Exception):
    """An error that a retry cannot fix (404, 403, no credentials)."""


def _http_body(uri: str, start: int, timeout: float):
    headers = {"User-Agent": "webfaq-spark"}
    if start:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(uri, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - URLs come from the user's manifest
    except urllib.error.HTTPError as exc:
        if exc.code in (408, 429) or exc.code >= 500:
            raise
        raise _PermanentError(f"HTTP {exc.code} {exc.reason}") from exc
    if start and response.status != 206:  # the server sends the whole file: skip what was read
        _skip(response, start)
    return response


def _skip(body, n: int) -> None:
    while n > 0:
        got = len(body.read(min(n, 1 << 20)))
        if not got:
            raise ConnectionError("the file ended before the resumed position")
        n -= got


def _s3_body(uri: str, start: int, timeout: float):
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
    except ImportError as exc:
        raise ManifestError(f"reading {uri} needs boto3: pip install boto3 "
                            f"(or pip install 'webfaq-spark[s3]')") from exc
    parts = urllib.parse.urlsplit(uri)
    config = botocore.config.Config(connect_timeout=timeout, read_timeout=timeout,
                                     retries={"max_attempts": 1, "mode": "standard"})
    request = {"Bucket": parts.netloc, "Key": parts.path.lstrip("/")}
    if start:
        request["Range"] = f"bytes={start}-"
    try:
        body = boto3.client("s3", config=config).get_object(**request)["Body"]
    except botocore.exceptions.NoCredentialsError as exc:
        raise _PermanentError(f"no AWS credentials ({exc}); configure them as boto3 reads them "
                              f"(environment, ~/.aws, instance profile)") from exc
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if status in (408, 429) or status >= 500:
            raise
        raise _PermanentError(f"S3 {error.get('Code', status)}: {error.get('Message', exc)}") from exc
    return body._raw_stream if hasattr(body, "_raw_stream") else body


def _transient_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, http.client.HTTPException, TimeoutError]
    try:
        import botocore.exceptions
        import urllib3.exceptions

        errors += [botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
                   urllib3.exceptions.HTTPError]
    except ImportError:  # pragma: no cover - without boto3 there is no s3 stream to retry
        pass
    return tuple(errors)


class RemoteStream(io.RawIOBase):
    """A remote file read forward once, within a deadline, resuming after transient errors."""

    def __init__(self, uri: str, opener: Callable[[str, int, float], object], settings: RemoteSettings,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        super().__init__()
        self.uri, self.settings = uri, settings
        self._opener, self._clock, self._sleep = opener, clock, sleep
        self.deadline = clock() + settings.deadline_seconds
        self.position = 0
        self.retries_used = 0
        self._body = None
        self._attempt(None)

    def _attempt(self, read):
        """``read(body)`` (or just open the body when ``read`` is None), retrying transient
        errors with backoff; a retry reopens the body at the current position."""
        transient = _transient_errors()
        while True:
            if self._clock() >= self.deadline:
                raise RemoteReadError(self.uri, f"not read within {self.settings.deadline_seconds:g} s "
                                      f"(extract.remote.deadline_seconds) after {self.position:,} bytes")
            try:
                if self._body is None:
                    timeout = max(0.001, min(self.settings.read_timeout_seconds, self.deadline - self._clock()))
                    self._body = self._opener(self.uri, self.position, timeout)
                return read(self._body) if read is not None else None
            except _PermanentError as exc:
                raise RemoteReadError(self.uri, str(exc)) from exc
            except RemoteReadError:
                raise
            except transient as exc:
                if self.retries_used >= self.settings.retries:
                    raise RemoteReadError(self.uri, f"{type(exc).__name__}: {exc} "
                                          f"(after {self.retries_used} retries)") from exc
                wait = self.settings.backoff_seconds * (2 ** self.retries_used)
                self.retries_used += 1
                self._close_body()
                self._sleep(max(0.0, min(wait, self.deadline - self._clock())))

    def _close_body(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            try:
                body.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close
                pass

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0

        def read_once(body) -> int:
            read1 = getattr(body, "read1", None)
            data = read1(len(view)) if read1 is not None else body.read(min(len(view), 1 << 16))
            if not data:  # the connection closed: early when the server promised more bytes
                due = getattr(body, "length", None) or getattr(body, "length_remaining", None)
                if due:
                    raise http.client.IncompleteRead(b"", due)
            view[:len(data)] = data
            return len(data)
        got = self._attempt(read_once)
        self.position += got
        return got

    def close(self) -> None:
        self._close_body()
        super().close()


def open_uri(uri: str, remote: RemoteSettings | None = None) -> BinaryIO:
    """A binary stream for a local path, ``file://``, ``s3://``/``s3a://`` or ``http(s)://`` URI.

    Remote streams are :class:`RemoteStream` objects bounded by ``remote`` (defaults when None).
    """
    scheme = urllib.parse.urlsplit(uri).scheme
    if scheme in ("s3", "s3a", "s3n"):
        return RemoteStream(uri, _s3_body, remote or RemoteSettings())
    if scheme in ("http", "https"):
        return RemoteStream(uri, _http_body, remote or RemoteSettings())
    return open(_local_path(uri), "rb")


def _looks_like_warc(head: bytes) -> bool:
    """WARC, ARC or a gzip stream (a manifest is recognised by its text after gunzip)."""
    return head.startswith((b"WARC/", b"filedesc://")) or head[:2] == b"\x1f\x8b"


def _read_lines(uri: str, remote: RemoteSettings | None = None) -> list[str]:
    with open_uri(uri, remote) as raw:
        data = raw.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ManifestError(f"manifest {uri}: broken gzip: {exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{uri}: neither a WARC file nor a text manifest") from exc
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def read_manifest(path_or_uri: str, base_uri: str | None = None, remote: RemoteSettings | None = None) -> list[str]:
    """The WARC paths/URLs listed in a manifest (plain or gzipped text, one a line, # comments).

    Any failure to read it (missing file, HTTP 404, no S3 credentials, deadline) is a
    :class:`ManifestError` whose one-line message names the manifest and the cause.
    """
    try:
        entries = _read_lines(path_or_uri, remote)
    except ManifestError:
        raise
    except RemoteReadError as exc:
        raise ManifestError(f"cannot read manifest {exc}") from exc
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise ManifestError(f"cannot read manifest {path_or_uri}: {exc.strerror or exc}") from exc
    except Exception as exc:  # noqa: BLE001 - whatever the storage client raises, said in one line
        raise ManifestError(f"cannot read manifest {path_or_uri}: {type(exc).__name__}: {exc}") from exc
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


def expand_inputs(inputs: list[str], base_uri: str | None = None,
                  remote: RemoteSettings | None = None) -> list[str]:
    """WARC paths/URLs from a mix of manifests, WARC files and folders of WARC files
    (:func:`expand_sources` with ``source="warc"``)."""
    return [uri for uri, _ in expand_sources(inputs, base_uri, "warc", remote)]


def expand_sources(inputs: list[str], base_uri: str | None = None, source: str | None = None,
                   remote: RemoteSettings | None = None) -> list[tuple[str, str]]:
    """``(path or URI, format)`` of every input file named by ``inputs``: manifests, files, folders.

    With ``source`` given, every file is read as that format: a local file whose content is
    another format is an error, a folder gives its files named like that format (``.warc.gz``,
    ``.arc.gz``, ... / ``.nq.gz``, ``.nquads.gz`` and any file whose content is N-Quads /
    ``.parquet``; names starting with ``.`` or ``_`` are skipped). With ``source`` None the
    format is sniffed where that is unambiguous: a local file by its content (WARC or ARC, N-Quads
    after gunzip, Parquet), a folder's files by name or content, a remote input and a manifest
    entry by name (``.parquet``, ``.nq.gz``, ...; ``*.paths.gz`` is a manifest), else ``warc``.
    A local or remote input that is none of the three is read as a manifest. A missing local input is passed on as it is,
    so that :func:`check_inputs` can name every missing file at once; an empty one too (the scan
    counts it as an unreadable file and the run lists it, instead of it stopping the whole run).
    Remote manifests are read within the bounds of ``remote``.
    """
    found: list[tuple[str, str]] = []
    for item in inputs:
        if _is_remote(item):
            named = format_by_name(item)
            if named is not None:
                if source is not None and named != source:
                    raise ManifestError(f"{item} is named like a {named} file, not {source} (see --source)")
                found.append((item, named))
            elif source == "warc" or item.endswith(MANIFEST_SUFFIXES):
                found += _manifest_entries(item, base_uri, source, remote)  # warc.paths.gz and kin
            else:
                found += _remote_input(item, base_uri, source, remote)
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
                head = fh.read(_SNIFF_BYTES)
            fmt = sniff_format(head) if head else source or format_by_name(item) or "warc"
            if fmt is None:
                found += _manifest_entries(item, base_uri, source, remote)
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


def _manifest_entries(uri: str, base_uri: str | None, source: str | None,
                      remote: RemoteSettings | None) -> list[tuple[str, str]]:
    return [(entry, source or format_by_name(entry) or "warc") for entry in read_manifest(uri, base_uri, remote)]


def _remote_input(uri: str, base_uri: str | None, source: str | None,
                  remote: RemoteSettings | None) -> list[tuple[str, str]]:
    """A remote input whose name does not tell: a data file by its first bytes, else a manifest."""
    try:
        with open_uri(uri, remote) as stream:
            head = stream.read(_SNIFF_BYTES)
    except RemoteReadError as exc:
        raise ManifestError(f"cannot read {exc}") from exc  # the message names the input
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read {uri}: {exc}") from exc
    fmt = sniff_format(head)
    if fmt is None:
        return _manifest_entries(uri, base_uri, source, remote)
    if source is not None and fmt != source:
        raise ManifestError(f"{uri} is a {fmt} file, not {source} (see --source)")
    return [(uri, fmt)]


def check_inputs(uris: list[str]) -> list[str]:
    """The local (or ``file://``) inputs that do not exist; remote ones are not checked here."""
    return [uri for uri in uris if not _is_remote(uri) and not os.path.isfile(_local_path(uri))]


def total_size(uris: list[str]) -> int | None:
    """The bytes of all ``uris`` when every one is a local file (for progress lines), else None:
    a remote size would cost a request per file."""
    if any(_is_remote(uri) for uri in uris):
        return None
    try:
        return sum(os.path.getsize(_local_path(uri)) for uri in uris)
    except OSError:
        return None

