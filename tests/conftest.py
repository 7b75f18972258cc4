"""Fixtures shared across test folders."""

from __future__ import annotations

import pytest

# The folders' conftest files are fixtures, not modules with doctests: collected as doctest modules
# (--doctest-modules) two of them would both import as ``conftest`` when a run names two folders.
collect_ignore_glob = ["*/conftest.py"]


@pytest.fixture(scope="session")
def dask_client():
    """A real Dask LocalCluster with 2 single-threaded worker processes, started once for the session."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(2)
        yield client
