"""Fixtures of the batch-engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def engine_cache(model_cache: Path) -> Path:
    """The cache folder compiled kernels of the test session are written to (see tests/conftest.py)."""
    return model_cache
