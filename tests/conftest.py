"""Fixtures shared across test folders, and the test session's own model cache."""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import pytest

# The folders' conftest files are fixtures, not modules with doctests: collected as doctest modules
# (--doctest-modules) two of them would both import as ``conftest`` when a run names two folders.
collect_ignore_glob = ["*/conftest.py"]

PACKAGE = Path(__file__).resolve().parents[1] / "cluster_econ"
_SAVED = "_CLUSTER_ECON_CACHE_BEFORE_TESTS"
_OWN = pytest.StashKey[bool]()


#: the code that writes translation entries (the engine's kernels carry its own fingerprint in their keys)
_TRANSLATION_CODE = ["_cachefs.py", "errors.py", "sd/_cache.py", "sd/_modelfile.py", "sd/_translate.py",
                     "sd/_verify.py"]


def _fingerprint(paths: list[Path], *extra: str) -> str:
    digest = hashlib.sha256("\0".join(extra).encode())
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _test_cache(config: pytest.Config) -> tuple[Path, bool]:
    """The cache folder of this run and whether it is this run's own (removed at the end).

    Every test (and every child process a test starts) shares one cache of PySD translations and
    compiled kernels, so a model is translated once per run rather than once per test. Outside CI the
    folder is kept in ``.pytest_cache`` between runs, named by a fingerprint of the code that writes
    translations and of the PySD version, so a change to that code starts from an empty cache
    (``pytest --cache-clear`` does too); the compiled kernels are dropped when the engine's source
    changes. Entries are verified by sha256 on every read, as in a user's cache. In CI (``CI`` set)
    every run starts from an empty folder of its own. Tests about the cache itself set their own folders.
    """
    cache = getattr(config, "cache", None)
    if os.environ.get("CI") or cache is None:
        return Path(tempfile.mkdtemp(prefix="cluster_econ-test-cache-")), True
    parent = cache.mkdir("cluster_econ_models")
    fingerprint = _fingerprint([PACKAGE / name for name in _TRANSLATION_CODE], metadata.version("pysd"))
    for old in parent.iterdir():
        if old.name != fingerprint:
            shutil.rmtree(old, ignore_errors=True)
    folder = parent / fingerprint
    folder.mkdir(exist_ok=True)
    folder.chmod(0o755)  # the package refuses a cache folder others can write to
    # the hash engine_fingerprint() of cluster_econ.sd.engine takes, cut to 16: importing the package would add its
    # imports to the start of every run, before the workers start
    engine = _fingerprint(list(PACKAGE.glob("sd/engine/*.py")))
    stamp = folder / "engine.fingerprint"
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != engine:
        shutil.rmtree(folder / "engine", ignore_errors=True)  # kernels of another engine are never used again
        stamp.write_text(engine, encoding="utf-8")
    return folder, False


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the controller set the folder before it started the workers
        return
    folder, own = _test_cache(config)
    os.environ[_SAVED] = os.environ.get("CLUSTER_ECON_CACHE", "")
    os.environ["CLUSTER_ECON_CACHE"] = str(folder)
    config.stash[_OWN] = own


def pytest_collection_finish(session: pytest.Session) -> None:
    # the modules, test functions and parameters collected live until the end: the garbage collector
    # need not walk them again in every full collection during the tests
    gc.freeze()


def pytest_unconfigure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") or _SAVED not in os.environ:
        return
    folder = os.environ["CLUSTER_ECON_CACHE"]
    before = os.environ.pop(_SAVED)
    if before:
        os.environ["CLUSTER_ECON_CACHE"] = before
    else:
        os.environ.pop("CLUSTER_ECON_CACHE", None)
    if config.stash.get(_OWN, False):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """The folder of the session's shared cache of translations and compiled kernels."""
    return Path(os.environ["CLUSTER_ECON_CACHE"])


@pytest.fixture(scope="session")
def dask_client():
    """A real Dask LocalCluster with 2 single-threaded worker processes, started once for the session."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(2)
        yield client
