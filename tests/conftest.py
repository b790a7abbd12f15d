"""Shared test fixtures.

Real third-party fixtures live in ``../shared/data`` beside the checkout (see SOURCES.md there).
"""
import os
from pathlib import Path

import pytest

# hypothesis keeps its files (constants, the nightly example database) in the cache folder, not the checkout.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "webfaq-spark", "hypothesis"))
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent

# Property-based tests (hypothesis): a CI-sized run by default; HYPOTHESIS_PROFILE=nightly runs
# 30,000 examples per property (over 10^5 generated inputs in all). HYPOTHESIS_EXAMPLES=N sets
# any other size.
_EXAMPLES = {"ci": 60, "nightly": 30_000}
# ci: derandomized, so no example database is kept (nothing written into the checkout).
settings.register_profile("ci", max_examples=_EXAMPLES["ci"], deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("nightly", max_examples=_EXAMPLES["nightly"], deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if os.environ.get("HYPOTHESIS_EXAMPLES"):
    settings.register_profile("custom", parent=settings.get_profile(_PROFILE),
                              max_examples=int(os.environ["HYPOTHESIS_EXAMPLES"]))
    _PROFILE = "custom"
settings.load_profile(_PROFILE)
SHARED_DATA = Path(os.environ.get("WEBFAQ_SHARED_DATA", ROOT.parent / "shared" / "data"))
# What the suite generates for itself (the JVM class-data archive, Delta's jars, the code zip of
# spark-submit.sh) goes to the user's cache folder as it does for every run (lib.conf.cache_dir:
# ~/.cache/webfaq-spark; WEBFAQ_CACHE_DIR chooses another), where it outlives a test run: a test
# run leaves the checkout as it found it.


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """matplotlib keeps a font cache in MPLCONFIGDIR (default ~/.config/matplotlib): give it the run's tmp folder."""
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None and "MPLCONFIGDIR" not in os.environ:
        os.environ["MPLCONFIGDIR"] = str(factory.mktemp("matplotlib", numbered=False))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared fixtures not found at {SHARED_DATA}; set WEBFAQ_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def spark_jars_cache(tmp_path_factory) -> Path:
    """The test session's folder for Delta's jars: empty at first, so that the session resolves
    them through Ivy and records them there (tests/test_jars.py)."""
    return tmp_path_factory.mktemp("spark-jars")


@pytest.fixture(scope="session")
def spark(spark_jars_cache):
    """One local[2] Spark session with Delta Lake for the whole test run (UTC, UI off)."""
    from lib.conf import load_conf
    from udfs.session import get_spark

    conf = load_conf("local", ["spark.master=local[2]", "spark.conf.[spark.sql.shuffle.partitions]=2",
                               f"spark.jars_cache={spark_jars_cache}"])
    session = get_spark(conf)
    yield session
    session.stop()


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """An empty warehouse folder for one test's Delta tables."""
    path = tmp_path / "warehouse"
    path.mkdir()
    return path


@pytest.fixture
def hf_cache(tmp_path, monkeypatch) -> Path:
    """Offline Hugging Face and MTEB, their caches in the test's tmp folder (not ~/.cache).

    ``datasets`` reads its cache folder per call; ``mteb`` reads MTEB_CACHE when it is imported,
    so a test imports mteb after asking for this fixture.
    """
    import datasets

    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("MTEB_CACHE", str(tmp_path / "mteb-cache"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    return cache
