"""The engine's disk cache of compiled kernels: data only, every file verified by its sha256.

An entry is three files beside an index: the generated kernel source (text), its constant arrays
(``.npz``, read with ``allow_pickle=False``) and its metadata (JSON). The index, written last, records
the sha256 of each file; an entry whose files are missing or do not match their recorded sha256 is
discarded with a logged warning and compiled again, never executed. Nothing is unpickled.

The low-level helpers (cache folder, atomic write, verified read, PySD version) are the only
file-system code here, so they can be shared with the rest of the package in one place.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["discard", "load_entry", "store_entry"]

_FILES = ("source", "arrays", "meta")
_SUFFIX = {"source": ".py", "arrays": ".npz", "meta": ".json"}


# ---------------------------------------------------------------------- low-level helpers
def cache_root(sub: str) -> Path:
    """``$CLUSTER_ECON_CACHE/<sub>`` (``~`` and variables expanded) or ``~/.cache/cluster_econ/<sub>``."""
    env = os.environ.get("CLUSTER_ECON_CACHE")
    base = Path(os.path.expandvars(env)).expanduser() if env else Path.home() / ".cache" / "cluster_econ"
    return base / sub


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and one rename (never a partial file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_verified(path: Path, sha256: str) -> bytes | None:
    """The bytes of ``path`` if their sha256 is ``sha256``, else None (missing, unreadable or changed)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if sha256_bytes(data) == sha256 else None


def pysd_version() -> str:
    import pysd

    return str(pysd.__version__)


# ---------------------------------------------------------------------- kernel entries
def _paths(key: str) -> dict[str, Path]:
    folder = cache_root("engine")
    paths = {name: folder / f"{key}{_SUFFIX[name]}" for name in _FILES}
    paths["index"] = folder / f"{key}.index.json"
    return paths


def _to_json(meta: dict) -> bytes:
    return json.dumps(meta, sort_keys=True, allow_nan=True).encode("utf-8")


def store_entry(key: str, source: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write one kernel entry (a read-only or full cache only costs compiling again, with a warning)."""
    paths = _paths(key)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    blobs = {"source": source.encode("utf-8"), "arrays": buffer.getvalue(), "meta": _to_json(meta)}
    index = {"format": 1, "files": {name: {"file": paths[name].name, "sha256": sha256_bytes(blob)}
                                    for name, blob in blobs.items()}}
    try:
        for name, blob in blobs.items():
            atomic_write_bytes(paths[name], blob)
        atomic_write_bytes(paths["index"], _to_json(index))  # last: an entry without it does not exist
    except OSError as err:
        logger.warning("Could not write the engine cache entry %s: %s", paths["index"], err)


def discard(key: str, reason: str) -> None:
    """Remove an entry that failed verification (logged; it is compiled again)."""
    paths = _paths(key)
    logger.warning("Discarding the engine cache entry %s (%s); the kernel is compiled again.", paths["index"], reason)
    for path in paths.values():
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def load_entry(key: str) -> tuple[str, dict[str, np.ndarray], dict[str, Any]] | None:
    """Source, arrays and metadata of a verified entry; None when absent or discarded."""
    paths = _paths(key)
    if not paths["index"].is_file():
        return None
    try:
        index = json.loads(paths["index"].read_bytes())
        files = index["files"]
        blobs = {}
        for name in _FILES:
            blob = read_verified(paths[name], str(files[name]["sha256"]))
            if blob is None:
                discard(key, f"{paths[name].name} is missing or does not match the sha256 in its index")
                return None
            blobs[name] = blob
        with np.load(io.BytesIO(blobs["arrays"]), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(blobs["meta"])
        source = blobs["source"].decode("utf-8")
    except (OSError, ValueError, KeyError, TypeError) as err:
        discard(key, f"unreadable: {type(err).__name__}: {err}")
        return None
    return source, arrays, meta
