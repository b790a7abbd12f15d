"""Where an export goes: a local folder or any URL fsspec can write to.

``resolve(url)`` turns ``--output``/``--export`` values into a :class:`Destination` (an fsspec
filesystem and a root path on it) before any Spark session starts, so that a scheme whose package
is missing stops the job with a message naming the package (exit 2), instead of a folder literally
named ``s3:`` or ``dbfs:`` next to the working directory.

- no scheme, or ``file://``: the local filesystem (the path made absolute);
- ``s3://``/``s3a://`` (s3fs), ``gs://``/``gcs://`` (gcsfs), ``abfs://``/``abfss://``/``az://``
  (adlfs), ``hdfs://`` (pyarrow), ``memory://`` (tests) and every other fsspec protocol; credentials
  come the way each package documents (environment, instance profile, ``~/.aws``...);
- ``dbfs:/path``: on a Databricks cluster the DBFS mount ``/dbfs/path`` (on the driver and on every
  executor), elsewhere fsspec's Databricks filesystem with ``DATABRICKS_HOST`` and
  ``DATABRICKS_TOKEN`` from the environment.

Spark executors that write shards resolve ``Destination.url`` again in their own process.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import fsspec
from fsspec.registry import known_implementations

# Protocols fsspec names only once their package is installed (adlfs registers abfss itself).
EXTRA_PACKAGES = {"abfss": "adlfs", "wasb": "adlfs", "wasbs": "adlfs"}
DBFS_MOUNT = "/dbfs"


class DestinationError(ValueError):
    """The destination cannot be written: unknown scheme, missing package or missing settings."""


def scheme_of(url: str) -> str:
    """``'s3'`` for ``s3://b/k``, ``'dbfs'`` for ``dbfs:/x``, ``''`` for a local path."""
    head, sep, _ = url.partition(":")
    if not sep or len(head) < 2 or not head.replace("+", "").replace("-", "").isalnum():
        return ""          # a plain path, or a Windows drive letter
    return head.lower()


def package_for(scheme: str) -> str | None:
    """The package that provides a protocol to fsspec (``s3fs`` for ``s3``), if known."""
    if scheme in EXTRA_PACKAGES:
        return EXTRA_PACKAGES[scheme]
    impl = known_implementations.get(scheme)
    if impl is None:
        return None
    return impl["class"].split(".")[0]


@dataclass
class Destination:
    """A root on a filesystem; paths below it are given relative, with ``/``."""

    url: str                                  # what executors resolve again (normalised)
    fs: Any = field(repr=False)               # an fsspec AbstractFileSystem
    root: str                                 # the root's path on ``fs``

    def path(self, *parts: str) -> str:
        parts = [p.strip("/") for p in parts if p]
        return "/".join([self.root.rstrip("/"), *parts]) if parts else self.root

    def uri(self, *parts: str) -> str:
        """A full URL of a path below the root, for tools that take URLs."""
        parts = [p.strip("/") for p in parts if p]
        return "/".join([self.url.rstrip("/"), *parts]) if parts else self.url

    def open(self, rel: str, mode: str = "rb", **kwargs):
        path = self.path(rel)
        if "w" in mode:
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        return self.fs.open(path, mode, **kwargs)

    def write_text(self, rel: str, text: str) -> None:
        with self.open(rel, "w", encoding="utf-8") as fh:
            fh.write(text)

    def write_bytes(self, rel: str, data: bytes) -> None:
        with self.open(rel, "wb") as fh:
            fh.write(data)

    def read_text(self, rel: str) -> str:
        with self.open(rel, "r", encoding="utf-8") as fh:
            return fh.read()

    def exists(self, rel: str = "") -> bool:
        return self.fs.exists(self.path(rel))

    def remove(self, rel: str) -> None:
        """Delete a file or folder below the root (nothing if it is not there)."""
        path = self.path(rel)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def listdir(self, rel: str = "") -> list[str]:
        """Names (not paths) directly below a folder; empty when it does not exist."""
        path = self.path(rel)
        if not self.fs.exists(path):
            return []
        return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(path, detail=False))

    def makedirs(self, rel: str = "") -> None:
        self.fs.makedirs(self.path(rel), exist_ok=True)


def _databricks(path: str, env: dict) -> Destination:
    if os.path.isdir(DBFS_MOUNT):
        local = os.path.join(DBFS_MOUNT, path.lstrip("/"))
        return Destination(local, fsspec.filesystem("file", auto_mkdir=True), local)
    host, token = env.get("DATABRICKS_HOST"), env.get("DATABRICKS_TOKEN")
    if not (host and token):
        raise DestinationError("dbfs:/ needs a Databricks cluster (its /dbfs mount) or DATABRICKS_HOST and "
                               "DATABRICKS_TOKEN in the environment")
    instance = host.split("://", 1)[-1].rstrip("/")
    try:
        fs = fsspec.filesystem("dbfs", instance=instance, token=token)
    except ImportError as exc:
        raise DestinationError("dbfs:/ outside a cluster needs the package requests (pip install requests)") from exc
    return Destination(f"dbfs:/{path.lstrip('/')}", fs, "/" + path.lstrip("/"))


def resolve(url: str, env: dict | None = None) -> Destination:
    """The destination of ``url``; raises DestinationError with a one-line reason."""
    url = str(url).strip()
    if not url:
        raise DestinationError("empty destination")
    scheme = scheme_of(url)
    if scheme == "":
        local = os.path.abspath(url)
        return Destination(local, fsspec.filesystem("file", auto_mkdir=True), local)
    if scheme == "file":
        local = os.path.abspath(url.split("://", 1)[-1] if "://" in url else url[5:])
        return Destination(local, fsspec.filesystem("file", auto_mkdir=True), local)
    if scheme == "dbfs":
        return _databricks(url[5:], os.environ if env is None else env)
    try:
        cls = fsspec.get_filesystem_class(scheme)
    except ImportError as exc:
        package = package_for(scheme) or "its fsspec implementation"
        raise DestinationError(f"{scheme}:// needs the package {package} (pip install {package})") from exc
    except ValueError as exc:
        package = package_for(scheme)
        if package:
            raise DestinationError(f"{scheme}:// needs the package {package} (pip install {package})") from exc
        raise DestinationError(f"{scheme}:// is not a filesystem fsspec knows") from exc
    try:
        fs, root = fsspec.core.url_to_fs(url)
    except ImportError as exc:       # a protocol class that imports its own dependencies late
        package = package_for(scheme) or cls.__module__.split(".")[0]
        raise DestinationError(f"{scheme}:// needs the package {package} (pip install {package})") from exc
    return Destination(url.rstrip("/"), fs, root.rstrip("/") or root)


def check(url: str, option: str) -> Destination:
    """``resolve`` for a command-line option: the message names the option."""
    try:
        return resolve(url)
    except DestinationError as exc:
        raise DestinationError(f"{option} {url}: {exc}") from exc
