"""Fixtures of the sd tests."""

from __future__ import annotations

import pytest
from sd_helpers import make_registry


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A private model registry holding one copy of SIR; ``CLUSTER_ECON_MODELS`` points at it."""
    root = tmp_path / "models"
    folder = make_registry(root)
    monkeypatch.setenv("CLUSTER_ECON_MODELS", str(root))
    return folder
