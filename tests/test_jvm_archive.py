"""The driver's class-data archive, one per Java runtime and class path (lib/jvm_archive.py,
lib/conf.py, udfs/session.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from lib import conf as confmod
from lib import jvm_archive
from lib.jvm_archive import archive_options, archive_path, mapped_archive, runtime_digest

ROOT = Path(__file__).resolve().parent.parent


def _runtime(folder: Path) -> tuple[str, str]:
    """A Java home and a jars folder laid out as the digest reads them (invented: the digest only
    stats these files, and the real ones cannot be changed in a test)."""
    java = folder / "jdk"
    (java / "bin").mkdir(parents=True)
    (java / "bin" / "java").write_text("")
    (java / "lib" / "server").mkdir(parents=True)
    (java / "lib" / "server" / "libjvm.so").write_bytes(b"\x7fELF")
    jars = folder / "jars"
    jars.mkdir()
    for name in ("spark-core_2.13-4.2.0.jar", "scala-library-2.13.17.jar"):
        (jars / name).write_bytes(b"PK\x05\x06" + bytes(18))
    return str(java), str(jars)


def test_the_digest_follows_what_the_jvm_checks_an_archive_against(tmp_path):
    java, jars = _runtime(tmp_path)
    digest = runtime_digest("-XX:+UseSerialGC", "", java, jars)
    assert digest == runtime_digest("-XX:+UseSerialGC", "", java, jars) and len(digest) == 12
    assert runtime_digest(" -XX:+UseSerialGC  ", "", java, jars) == digest  # spacing is no option
    changed = []
    os.utime(Path(jars) / "scala-library-2.13.17.jar", ns=(1, 1))  # a reinstalled jar: another time
    changed.append(runtime_digest("-XX:+UseSerialGC", "", java, jars))
    (Path(jars) / "delta-extra.jar").write_bytes(b"PK")  # one more jar
    changed.append(runtime_digest("-XX:+UseSerialGC", "", java, jars))
    (Path(java) / "lib" / "server" / "libjvm.so").write_bytes(b"\x7fELF, upgraded")  # a JDK upgrade
    changed.append(runtime_digest("-XX:+UseSerialGC", "", java, jars))
    changed.append(runtime_digest("-XX:+UseSerialGC", "", java + "-21", jars))  # another JDK
    changed.append(runtime_digest("-XX:+UseG1GC", "", java, jars))  # other JVM options
    changed.append(runtime_digest("-XX:+UseG1GC", "/opt/extra.jar", java, jars))  # an extra class path
    assert len({digest, *changed}) == 7


def test_the_digest_reads_the_java_spark_class_runs_and_sparks_jars(tmp_path, monkeypatch):
    java, jars = _runtime(tmp_path)
    monkeypatch.setenv("JAVA_HOME", java)
    monkeypatch.setenv("SPARK_HOME", str(Path(jars).parent))
    assert jvm_archive.java_home() == java and jvm_archive.spark_jars_dir() == jars
    assert runtime_digest("-X") == runtime_digest("-X", "", java, jars)
    monkeypatch.delenv("SPARK_HOME")  # pyspark's own jars, as spark-class finds them in a pip install
    import pyspark
    assert jvm_archive.spark_jars_dir() == os.path.realpath(os.path.join(os.path.dirname(pyspark.__file__), "jars"))


def test_an_archive_is_written_once_per_runtime_and_the_last_used_are_kept(tmp_path, monkeypatch):
    java, jars = _runtime(tmp_path)
    monkeypatch.setenv("JAVA_HOME", java)
    monkeypatch.setenv("SPARK_HOME", str(Path(jars).parent))
    configured = str(tmp_path / "cache" / "jvm" / "spark-classes.jsa")
    legacy = Path(configured)
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"an archive from before archives were keyed")
    first = archive_options(configured, "-XX:+UseSerialGC")
    target = archive_path(configured, runtime_digest("-XX:+UseSerialGC"))
    assert first.startswith(f"-XX:ArchiveClassesAtExit={target} ") and mapped_archive(first) is None
    assert not legacy.exists()  # no session maps the un-keyed name any more
    Path(target).write_bytes(b"written at the JVM's exit")
    again = archive_options(configured, "-XX:+UseSerialGC")
    assert again.startswith(f"-XX:SharedArchiveFile={target} -Xshare:auto") and mapped_archive(again) == target
    # Other options (another runtime for the archive): another file; beyond KEEP the least recently used go.
    written = [target]
    for i in range(jvm_archive.KEEP + 1):
        options = archive_options(configured, f"-XX:+UseSerialGC -Dgeneration={i}")
        path = options.split()[0].split("=", 1)[1]
        Path(path).write_bytes(b"archive")
        os.utime(path, (time.time() + i + 1,) * 2)
        written.append(path)
    left = sorted(p.name for p in legacy.parent.iterdir())
    assert left == sorted(Path(p).name for p in written[-jvm_archive.KEEP:])


_SESSION = """
import json, sys
from lib import conf as confmod
from udfs.session import get_spark
spark = get_spark(confmod.load_conf("local", ["spark.master=local[1]", "spark.delta_jars=false"]))
jvm = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
options = spark.sparkContext.getConf().get("spark.driver.extraJavaOptions")
from lib.jvm_archive import mapped_archive, process_maps_file
path = mapped_archive(options)
print(json.dumps({"jvm": jvm, "options": options, "mapped": path and process_maps_file(jvm, path)}))
spark.stop()
"""


def _session(cache: Path) -> tuple[dict, str]:
    """Start and stop a local session in a fresh process with ``cache`` as its cache folder; wait
    until its JVM is gone (the archive is written as the JVM exits). Its report and stderr."""
    env = {**os.environ, "WEBFAQ_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _SESSION], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    deadline = time.monotonic() + 120
    while os.path.exists(f"/proc/{report['jvm']}") and time.monotonic() < deadline:
        time.sleep(0.2)
    return report, done.stderr


def test_a_session_maps_the_archive_the_last_one_wrote_and_drops_one_it_cannot_map(tmp_path):
    cache = tmp_path / "cache"
    first, _ = _session(cache)
    written = first["options"].split("-XX:ArchiveClassesAtExit=")[1].split()[0]
    assert Path(written).is_file() and Path(written).stat().st_size > 1 << 20
    second, _ = _session(cache)
    assert mapped_archive(second["options"]) == written and second["mapped"] is True
    # An archive the JVM refuses (invented here: its first 4 KB, the header, zeroed): the JVM
    # starts without it, and the session removes it so that the next one writes it again.
    os.chmod(written, 0o644)
    with open(written, "r+b") as archive:
        archive.write(bytes(4096))
    third, stderr = _session(cache)
    assert third["mapped"] is False and "did not use its class-data archive" in stderr
    assert not Path(written).exists()
    assert "-XX:ArchiveClassesAtExit=" + written in confmod.spark_settings(
        confmod.load_conf("local", [f"cache_dir={cache}"]))["spark.driver.extraJavaOptions"]
