"""Shared test fixtures.

Real third-party fixtures live in ``../shared/data`` beside the checkout (see SOURCES.md there).
"""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("WEBFAQ_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared fixtures not found at {SHARED_DATA}; set WEBFAQ_SHARED_DATA")
    return SHARED_DATA
