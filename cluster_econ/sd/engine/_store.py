"""The engine's disk cache of compiled kernels: data only, every file verified by its sha256.

An entry is three files beside an index: the generated kernel source (text), its constant arrays
(``.npz``, read with ``allow_pickle=False``) and its metadata (JSON). The index, written last, records
the sha256 of each file; an entry whose files are missing or do not match their recorded sha256 is
discarded with a logged warning and compiled again, never executed. Nothing is unpickled.

Folders, atomic writes and verified reads are the package's shared helpers
(:mod:`cluster_econ._cachefs`): a cache folder writable by others is refused, an unusable one falls
back to a private temporary cache with a warning, and a safe read-only cache (shared by another user)
is still read.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from cluster_econ._cachefs import atomic_write_bytes, cache_root, cache_roots, pysd_version, read_verified, sha256_bytes

logger = logging.getLogger(__name__)

__all__ = ["discard", "load_entry", "pysd_version", "store_entry"]

_FILES = ("source", "arrays", "meta")
_SUFFIX = {"source": ".py", "arrays": ".npz", "meta": ".json"}


# ---------------------------------------------------------------------- kernel entries
def _paths(key: str, folder: Path | None = None) -> dict[str, Path]:
    folder = cache_root("engine") if folder is None else folder
    paths = {name: folder / f"{key}{_SUFFIX[name]}" for name in _FILES}
    paths["index"] = folder / f"{key}.index.json"
    return paths


def _to_json(meta: dict) -> bytes:
    return json.dumps(meta, sort_keys=True, allow_nan=True).encode("utf-8")


def store_entry(key: str, source: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write one kernel entry (a read-only or full cache only costs compiling again, with a warning)."""
    paths = _paths(key)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types allow_pickle as a keyword
    blobs = {"source": source.encode("utf-8"), "arrays": buffer.getvalue(), "meta": _to_json(meta)}
    index = {"format": 1, "files": {name: {"file": paths[name].name, "sha256": sha256_bytes(blob)}
                                    for name, blob in blobs.items()}}
    try:
        for name, blob in blobs.items():
            atomic_write_bytes(paths[name], blob)
        atomic_write_bytes(paths["index"], _to_json(index))  # last: an entry without it does not exist
    except OSError as err:
        logger.warning("Could not write the engine cache entry %s: %s", paths["index"], err)


def discard(key: str, reason: str, folder: Path | None = None) -> None:
    """Remove an entry that failed verification (logged; it is compiled again)."""
    paths = _paths(key, folder)
    logger.warning("Discarding the engine cache entry %s (%s); the kernel is compiled again.", paths["index"], reason)
    for path in paths.values():
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def load_entry(key: str) -> tuple[str, dict[str, np.ndarray], dict[str, Any]] | None:
    """Source, arrays and metadata of a verified entry (from the first cache folder holding one)."""
    for folder in cache_roots("engine"):
        entry = _load_from(key, folder)
        if entry is not None:
            return entry
    return None


def _load_from(key: str, folder: Path) -> tuple[str, dict[str, np.ndarray], dict[str, Any]] | None:
    paths = _paths(key, folder)
    if not paths["index"].is_file():
        return None
    try:
        index = json.loads(paths["index"].read_bytes())
        files = index["files"]
        blobs = {}
        for name in _FILES:
            blob = read_verified(paths[name], str(files[name]["sha256"]))
            if blob is None:
                discard(key, f"{paths[name].name} is missing or does not match the sha256 in its index", folder)
                return None
            blobs[name] = blob
        with np.load(io.BytesIO(blobs["arrays"]), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(blobs["meta"])
        source = blobs["source"].decode("utf-8")
    except (OSError, ValueError, KeyError, TypeError) as err:
        discard(key, f"unreadable: {type(err).__name__}: {err}", folder)
        return None
    return source, arrays, meta
