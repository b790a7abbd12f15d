"""The JVM class-data archive of a local driver: one archive per Java runtime and class path.

A local session starts several seconds faster from a class-data archive of Spark's and Delta's
classes (``-XX:SharedArchiveFile``), which the first session writes when its JVM exits
(``-XX:ArchiveClassesAtExit``). The JVM maps an archive only for the runtime and the class path
it was written with (the same ``java``, the same jars, each with the size and time it had then);
for any other, ``-Xshare:auto`` drops it without a word and the session starts without it, every
time. One archive written from another virtual environment, before a reinstall of pyspark or
before an upgrade of the JDK would so cost every later run its start-up gain.

So the archive's file name carries a digest of what the JVM checks: the ``java`` that
``spark-class`` runs (``$JAVA_HOME/bin/java``, else the one on ``PATH``) with its ``libjvm`` and
base archive, every jar of Spark's class path (``$SPARK_HOME/jars``, else pyspark's) with its
size and time, and the driver's other JVM options and extra class path. Another runtime or class
path gets an archive of its own; the three last used are kept, older ones are removed when a new
one is written.

    options = archive_options("~/.cache/webfaq-spark/jvm/spark-classes.jsa", java_options="-XX:+UseSerialGC")
    # -> "-XX:ArchiveClassesAtExit=.../spark-classes-3f9c0d1a2b4e.jsa ..." the first time, then
    #    "-XX:SharedArchiveFile=.../spark-classes-3f9c0d1a2b4e.jsa -Xshare:auto ..."

The JVM may still refuse an archive for a reason the digest does not see (a damaged file, a JVM
option that changes its layout): ``udfs.session`` checks that the driver's JVM mapped the archive
it was given, and removes one it did not map, so that the next session writes it again.
"""
from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import shutil

__all__ = ["archive_options", "archive_path", "runtime_digest", "java_home", "spark_jars_dir", "mapped_archive",
           "process_maps_file", "KEEP"]

#: Archives kept in the folder (one per runtime and class path), the last used first.
KEEP = 3
_QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"


def java_home() -> str | None:
    """The Java home of the ``java`` that ``spark-class`` runs (``$JAVA_HOME/bin/java``, else the
    one on ``PATH``), links resolved; None when there is none."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    return os.path.dirname(os.path.dirname(os.path.realpath(java)))


def spark_jars_dir() -> str | None:
    """The folder of the jars on Spark's class path: ``$SPARK_HOME/jars``, else pyspark's own (as
    ``spark-class`` finds it in a pip install), found without importing pyspark."""
    home = os.environ.get("SPARK_HOME")
    if not home:
        spec = importlib.util.find_spec("pyspark")
        if spec is None or not spec.origin:
            return None
        home = os.path.dirname(spec.origin)
    jars = os.path.join(home, "jars")
    return os.path.realpath(jars) if os.path.isdir(jars) else None


def _stat_line(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path} -"
    return f"{path} {st.st_size} {st.st_mtime_ns}"


def runtime_digest(java_options: str = "", extra_class_path: str = "", java: str | None = None,
                   jars: str | None = None) -> str:
    """12 hex digits naming the runtime and class path an archive is valid for: the Java home
    ``java`` (default :func:`java_home`) with its ``libjvm.so`` and base archive, every jar in
    ``jars`` (default :func:`spark_jars_dir`) with its size and time, the driver's JVM options and
    its extra class path."""
    java = java if java is not None else java_home()
    jars = jars if jars is not None else spark_jars_dir()
    lines = [f"java {java}", f"options {' '.join(java_options.split())}", f"classpath {extra_class_path}"]
    if java:
        server = os.path.join(java, "lib", "server")
        lines += [_stat_line(os.path.join(server, name)) for name in ("libjvm.so", "classes.jsa")]
    if jars:
        with os.scandir(jars) as entries:
            lines += sorted(_stat_line(e.path) for e in entries if e.name.endswith(".jar"))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]


def _stem_suffix(path: str) -> tuple[str, str]:
    stem, suffix = os.path.splitext(os.path.abspath(os.path.expanduser(path)))
    return stem, suffix or ".jsa"


def archive_path(path: str, digest: str) -> str:
    """``path`` (the profile's ``spark.class_data_archive``) with ``digest`` before its suffix."""
    stem, suffix = _stem_suffix(path)
    return f"{stem}-{digest}{suffix}"


def _prune(path: str, keep: int) -> None:
    """Remove all but the ``keep`` last used archives of ``path``'s family, and the un-keyed
    ``path`` itself (written before archives were keyed: no session maps it any more)."""
    stem, suffix = _stem_suffix(path)
    family = glob.glob(glob.escape(stem) + "-" + "?" * 12 + glob.escape(suffix))
    family.sort(key=lambda p: os.stat(p).st_mtime if os.path.exists(p) else 0, reverse=True)
    for old in family[keep:] + [stem + suffix]:
        try:
            os.remove(old)
        except OSError:
            pass


def archive_options(path: str, java_options: str = "", extra_class_path: str = "", keep: int = KEEP) -> str:
    """JVM options for the class-data archive of ``path`` (the profile's setting) for this runtime
    and class path: map it when it exists (and mark it used), else write it at exit (removing
    the archives of other runtimes beyond the ``keep`` last used)."""
    target = archive_path(path, runtime_digest(java_options, extra_class_path))
    if os.path.isfile(target) and os.path.getsize(target) > 0:
        try:
            os.utime(target)  # last used: what pruning keeps
        except OSError:
            pass
        return f"-XX:SharedArchiveFile={target} -Xshare:auto {_QUIET}"
    os.makedirs(os.path.dirname(target), exist_ok=True)
    _prune(path, keep - 1)
    return f"-XX:ArchiveClassesAtExit={target} {_QUIET}"


def mapped_archive(options: str) -> str | None:
    """The archive ``options`` ask the JVM to map (``-XX:SharedArchiveFile=``), else None."""
    for option in options.split():
        if option.startswith("-XX:SharedArchiveFile="):
            return option.split("=", 1)[1]
    return None


def process_maps_file(pid: int, path: str) -> bool | None:
    """Whether process ``pid`` has ``path`` mapped into memory; None where that cannot be read
    (no ``/proc``, another user's process)."""
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            return any(line.rstrip("\n").endswith(" " + path) for line in maps)
    except OSError:
        return None
