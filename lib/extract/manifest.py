"""Job inputs: WARC manifests (like Common Crawl's ``warc.paths.gz``) and the streams they name.

A manifest lists one WARC path or URL a line: local paths, ``file://``, ``s3://``/``s3a://`` and
``http(s)://``; it may be gzipped. Relative entries are joined to a base URI
(``s3://commoncrawl/`` or ``https://data.commoncrawl.org/`` for Common Crawl's own manifests).
Streams are opened for sequential reading; nothing reads a whole file into memory.

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


def _sniff_local(path: str) -> bytes:
    """The first bytes of a local input (after gunzip); ``b"WARC/"`` for inputs that go to the
    scan whatever they hold: an empty file, a gzip file damaged from its start (the scan counts
    them as unreadable files and the run lists them, instead of one stopping the whole run)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if not head:
        return b"WARC/"
    if head[:2] == b"\x1f\x8b":  # a gzip file: a WARC/ARC, or a gzipped manifest?
        with gzip.open(path, "rb") as fh:
            try:
                return fh.read(64)
            except (OSError, EOFError, zlib.error):
                return b"WARC/"  # a damaged gzip is still a WARC input, read as far as it goes
    return head


def expand_inputs(inputs: list[str], base_uri: str | None = None, remote: RemoteSettings | None = None) -> list[str]:
    """WARC paths/URLs from a mix of manifests, WARC files and folders of WARC files.

    A local input is sniffed (its first bytes, after gunzip), not judged by its name; a remote one
    is a WARC when its name ends like one, else a manifest. A missing local input is passed on as
    it is, so that :func:`check_inputs` can name every missing file at once.
    """
    paths: list[str] = []
    for item in inputs:
        if _is_remote(item):
            paths += [item] if item.endswith(WARC_SUFFIXES) else read_manifest(item, base_uri, remote)
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
            paths += read_manifest(item, base_uri, remote)
    return paths


def check_inputs(uris: list[str]) -> list[str]:
    """The local (or ``file://``) inputs that do not exist; remote ones are not checked here."""
    return [uri for uri in uris if not _is_remote(uri) and not os.path.isfile(_local_path(uri))]
