"""Spark's extra jars (Delta Lake's): resolved by Spark's own Ivy once, then started from a folder.

A session that asks for Maven packages (``spark.jars.packages``) runs Ivy on every start: about
1.5 s of JVM time and 60 lines of resolution report even when every jar is in ``~/.ivy2``, and
for ``io.delta:delta-spark`` it hands over 33 jars (87 MB), most of them older copies of jars
Spark ships itself (Hadoop, Parquet, Jackson, log4j), which each executor then fetches.

With a jars folder (conf ``spark.jars_cache``), the first session resolves the packages as
before. Its resolved jars that Spark does not ship (Delta's own, Unity Catalog's client and a few
small ones) are copied to ``<folder>/<packages>-<digest>/`` with a manifest, and later sessions
start from them (``spark.jars``) without any resolution. The copies Spark already ships are left
out: Spark's class loader asks its own class path first, so those copies were never read.

The folder is keyed by the package list, so a new Delta or Spark version (a new coordinate)
resolves once again. A folder is complete or absent: its manifest is written last and the folder
is moved into place in one rename.

    folder = jars_dir("build/jars", ["io.delta:delta-spark_4.2_2.13:4.4.0"])
    cached_jars(folder)          # None until a session recorded them, then the jar paths
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterable

__all__ = ["jars_dir", "cached_jars", "record_jars", "artifact_name"]

MANIFEST = "jars.txt"
_VERSION = re.compile(r"-\d")


def jars_dir(root: str | os.PathLike, packages: Iterable[str]) -> Path:
    """The folder of ``packages``' jars under ``root`` (relative roots are taken from the working
    directory): ``<root>/<first package>-<digest of all>``."""
    packages = sorted(p.strip() for p in packages if p.strip())
    digest = hashlib.sha256(",".join(packages).encode()).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", packages[0] if packages else "none")
    return Path(root).absolute() / f"{readable}-{digest}"


def cached_jars(folder: Path) -> list[str] | None:
    """The jar paths recorded in ``folder``, or None when it has no manifest or a jar is missing."""
    manifest = folder / MANIFEST
    try:
        names = [line.strip() for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        return None
    paths = [folder / name for name in names]
    if not all(path.is_file() for path in paths):
        return None
    return [str(path) for path in paths]


def artifact_name(jar: str) -> str:
    """The artifact a jar file holds, without organisation or version: Ivy's
    ``io.delta_delta-storage-4.4.0.jar`` and Spark's ``delta-storage-4.4.0.jar`` both give
    ``delta-storage``."""
    name = os.path.basename(jar)
    if name.endswith(".jar"):
        name = name[:-4]
    match = _VERSION.search(name)
    stem = name[:match.start()] if match else name
    return stem


def _local_path(uri: str) -> Path | None:
    parsed = urllib.parse.urlsplit(uri)
    if parsed.scheme in ("", "file", "local"):
        return Path(urllib.request.url2pathname(parsed.path))
    return None


def record_jars(folder: Path, resolved: Iterable[str], spark_jars_dir: str | os.PathLike | None) -> list[str]:
    """Copy the ``resolved`` jars (paths or ``file:`` URIs, as a session's ``spark.jars`` lists
    them) into ``folder`` with a manifest, leaving out those whose artifact Spark ships in
    ``spark_jars_dir`` (Ivy's ``organisation_artifact-version.jar`` against Spark's
    ``artifact-version.jar``). Returns the recorded paths; a folder another process recorded
    first is kept as it is."""
    shipped = set()
    if spark_jars_dir and os.path.isdir(spark_jars_dir):
        shipped = {artifact_name(name) for name in os.listdir(spark_jars_dir) if name.endswith(".jar")}
    keep: list[Path] = []
    for uri in resolved:
        path = _local_path(uri)
        if path is None or not path.is_file():
            raise FileNotFoundError(f"resolved jar {uri} is not a local file")
        organisation, _, rest = path.name.partition("_")
        if artifact_name(rest or organisation) not in shipped:
            keep.append(path)
    existing = cached_jars(folder)
    if existing is not None:
        return existing
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for path in keep:
            shutil.copy2(path, staging / path.name)
        (staging / MANIFEST).write_text("".join(f"{path.name}\n" for path in keep), encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp's folder is private
        try:
            os.rename(staging, folder)
        except OSError:  # another session recorded the folder first
            pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    recorded = cached_jars(folder)
    if recorded is None:
        raise OSError(f"could not record the resolved jars in {folder}")
    return recorded
