"""Fixtures of the batch-engine tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def engine_cache(tmp_path_factory):
    """Keep compiled kernels of the test session in a temporary cache folder."""
    old = os.environ.get("CLUSTER_ECON_CACHE")
    path = tmp_path_factory.mktemp("cecache")
    os.environ["CLUSTER_ECON_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("CLUSTER_ECON_CACHE", None)
    else:
        os.environ["CLUSTER_ECON_CACHE"] = old
