"""Result folders: the data of a result plus a ``manifest.toml`` saying how to re-run it.

This is the lowest layer of saving, used by the result classes of every stage for ``result.save(path)``
(it imports nothing above :mod:`cluster_econ.provenance`). A folder holds

- ``manifest.toml``: the kind of result, the call that produced it (verb and arguments as data), the
  model (id, version, sha256), the datasets (name, sha256), the seed, the package versions, the
  platform, the files with the sha256 of their *values*, the result's own scalar state and its full
  provenance record;
- one file per payload: xarray Datasets as Zarr stores (``<name>.zarr``), frames as CSV (``<name>.csv``,
  floats written with ``repr`` so they read back bit for bit).

Value hashes (:func:`value_sha256`) digest the values in a canonical byte order (names, dimensions,
labels, numbers as little-endian float64 with one NaN and no negative zero), not the file bytes, which
carry timestamps and library versions. Writes are atomic: the folder is built next to its destination
and renamed into place, so a reader never sees half a result.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _toml
from .errors import SpecError
from .provenance import Provenance

if TYPE_CHECKING:  # xarray loads when a Dataset is hashed, written or read: `import cluster_econ` stays quick
    import xarray as xr

__all__ = ["FORMAT", "SavedFolder", "read_folder", "value_sha256", "write_folder"]

#: Written as ``format`` at the top of every manifest.
FORMAT = "cluster_econ result"
FORMAT_VERSION = 1
MANIFEST = "manifest.toml"


# -- value hashes ----------------------------------------------------------------------------------
def _canonical_numbers(values: np.ndarray) -> bytes:
    array = np.asarray(values, dtype="<f8").copy()
    array[np.isnan(array)] = np.nan  # one NaN bit pattern
    array[array == 0] = 0.0  # no negative zero
    return array.tobytes(order="C")


def _canonical_values(values: Any) -> bytes:
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        return b"n" + _canonical_numbers(array)
    if array.dtype.kind == "M":
        return b"t" + np.asarray(array, dtype="datetime64[ns]").astype("<i8").tobytes()
    digest = hashlib.sha256()
    for item in array.ravel(order="C"):
        if item is None or item is pd.NA or (isinstance(item, float) and np.isnan(item)):
            digest.update(b"\x00N")
        else:
            text = str(item).encode("utf-8")
            digest.update(len(text).to_bytes(8, "little") + text)
    return b"s" + digest.digest()


def _update(digest: Any, *parts: Any) -> None:
    for part in parts:
        data = part if isinstance(part, bytes) else json.dumps(part, default=str).encode("utf-8")
        digest.update(len(data).to_bytes(8, "little") + data)


def value_sha256(obj: pd.DataFrame | pd.Series | xr.Dataset | xr.DataArray) -> str:
    """sha256 of the values of a frame or Dataset, independent of file format and dtype width.

    Frames: index names and labels, then each column's name and values, in order. Datasets: each
    variable (coordinates and data variables, sorted by name) with its dimensions, shape and values.
    Numbers (integers, booleans, floats) are hashed as little-endian float64 with NaN and zero made
    canonical, strings as UTF-8. Attributes are not hashed: they carry provenance and timestamps.
    """
    import xarray as xr

    digest = hashlib.sha256()
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, xr.DataArray):
        obj = obj.to_dataset(name=str(obj.name or "values"))
    if isinstance(obj, pd.DataFrame):
        _update(digest, "frame", [str(n) for n in obj.index.names], obj.shape)
        for level in range(obj.index.nlevels):
            _update(digest, _canonical_values(obj.index.get_level_values(level).to_numpy()))
        for position, column in enumerate(obj.columns):
            _update(digest, str(column), _canonical_values(obj.iloc[:, position].to_numpy()))
        return digest.hexdigest()
    if isinstance(obj, xr.Dataset):
        _update(digest, "dataset")
        for name in sorted(map(str, obj.variables)):
            variable = obj.variables[name]
            _update(digest, name, [str(d) for d in variable.dims], list(variable.shape),
                    _canonical_values(variable.values))
        return digest.hexdigest()
    raise SpecError(f"value_sha256 takes a pandas frame or an xarray Dataset; got {type(obj).__name__}.")


# -- writing ---------------------------------------------------------------------------------------
def _plain_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, str | int | float | bool | np.number):
            out[str(key)] = value.item() if isinstance(value, np.number) else value
        else:
            out[str(key)] = json.dumps(value, default=str)
    return out


def _write_dataset(data: xr.Dataset, path: Path) -> None:
    data = data.copy()
    data.attrs = _plain_attrs(data.attrs)
    for name in data.variables:
        variable = data[name]
        variable.attrs = _plain_attrs(variable.attrs)
        variable.encoding = {}
        if variable.dtype == object:  # labels: fixed-width unicode stores portably
            data[name] = variable.astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr's notes on string dtypes outside the v3 core spec
        data.to_zarr(path, mode="w", consolidated=False, zarr_format=3)


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=True, lineterminator="\n", na_rep="NaN")


def _platform() -> dict[str, str]:
    return {"system": platform.system(), "machine": platform.machine(), "platform": platform.platform(),
            "python_implementation": platform.python_implementation()}


def _jsonable_provenance(prov: Provenance) -> dict[str, Any]:
    return json.loads(json.dumps(prov.to_dict(), default=str))


def write_folder(path: str | Path, *, kind: str, provenance: Provenance,
                 datasets: Mapping[str, xr.Dataset] | None = None,
                 frames: Mapping[str, pd.DataFrame] | None = None,
                 state: Mapping[str, Any] | None = None, overwrite: bool = True) -> Path:
    """Write a result folder atomically and return its path.

    Parameters
    ----------
    path : str or Path
        The folder to create. An existing result folder is replaced (``overwrite=True``); any other
        existing file or non-empty folder is refused.
    kind : str
        The result class (``"Run"``, ``"EstimationResult"``, ...), read by ``ce.load_result``.
    provenance : Provenance
        The result's provenance; ``details["call"]`` is the call that produced it.
    datasets, frames : mapping of name -> xarray.Dataset / pandas.DataFrame
        The payloads, written as ``<name>.zarr`` and ``<name>.csv``.
    state : mapping
        Scalars and small tables the result needs besides its payloads (TOML-writable).
    overwrite : bool
        Replace an existing result folder at ``path``.
    """
    target = Path(path).expanduser()
    if target.exists():
        if not target.is_dir():
            raise SpecError(f"{target} exists and is not a folder: choose another path for the result.")
        if any(target.iterdir()) and not (target / MANIFEST).is_file():
            raise SpecError(f"{target} is a non-empty folder that holds no saved result ({MANIFEST}); "
                            f"refusing to replace it. Choose an empty or new path.")
        if not overwrite:
            raise SpecError(f"{target} already holds a saved result; pass overwrite=True to replace it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        files: list[dict[str, Any]] = []
        for name, data in (datasets or {}).items():
            _write_dataset(data, tmp / f"{name}.zarr")
            files.append({"name": name, "path": f"{name}.zarr", "format": "zarr", "role": "dataset",
                          "variables": [str(v) for v in data.data_vars],
                          "coords": [str(c) for c in data.coords], "value_sha256": value_sha256(data)})
        for name, frame in (frames or {}).items():
            _write_frame(frame, tmp / f"{name}.csv")
            files.append({"name": name, "path": f"{name}.csv", "format": "csv", "role": "frame",
                          "index": [str(n) if n is not None else "" for n in frame.index.names],
                          "value_sha256": value_sha256(frame)})
        manifest = build_manifest(kind=kind, provenance=provenance, files=files, state=state or {})
        (tmp / MANIFEST).write_text(_toml.dumps(manifest), encoding="utf-8")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "old")
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old / "old", target)
                raise
            finally:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _writable_call(call: Mapping[str, Any]) -> dict[str, Any]:
    """The call as TOML-writable data; arguments that are not data (callables) make it non-reproducible."""
    from ._calls import NotData, to_data

    arguments: dict[str, Any] = {}
    problems = []
    for name, value in dict(call.get("arguments", {})).items():
        try:
            arguments[name] = to_data(value)
            _toml.dumps({"x": arguments[name]}) if arguments[name] is not None else None
        except (NotData, TypeError):
            arguments[name] = f"<not data: {type(value).__name__}>"
            problems.append(name)
    out = {**dict(call), "arguments": arguments}
    if problems:
        out["reproducible"] = False
        out["reason"] = (str(call.get("reason", "")) + "; " if call.get("reason") else "") + (
            "arguments that are not data: " + ", ".join(problems))
    return out


def build_manifest(*, kind: str, provenance: Provenance, files: list[dict[str, Any]],
                   state: Mapping[str, Any]) -> dict[str, Any]:
    prov = _jsonable_provenance(provenance)
    details = prov.get("details", {})
    call = _writable_call(details.get("call") or {})
    datasets = []
    if provenance.dataset:
        datasets.append({"name": provenance.dataset, "sha256": provenance.dataset_sha256})
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "seed": provenance.seed,
        "call": call,
        "model": {"id": provenance.model_id, "version": provenance.model_version,
                  "sha256": provenance.model_sha256} if provenance.model_id else {},
        "dataset": datasets,
        "versions": dict(provenance.versions),
        "platform": _platform(),
        "file": files,
        "state": dict(state),
        "provenance": {"json": json.dumps(prov)},
    }
    return manifest


# -- reading ---------------------------------------------------------------------------------------
@dataclass
class SavedFolder:
    """A result folder read back: its manifest, and its payloads loaded on first access."""

    path: Path
    manifest: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        return str(self.manifest.get("kind"))

    @property
    def provenance(self) -> Provenance:
        record = json.loads(self.manifest["provenance"]["json"])
        return Provenance(**record)

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return {str(row["name"]): row for row in self.manifest.get("file", [])}

    def dataset(self, name: str) -> xr.Dataset:
        if name not in self._cache:
            row = self._row(name, "zarr")
            import xarray as xr

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = xr.open_zarr(self.path / row["path"], consolidated=False).load()
            # a Zarr group lists its arrays in no fixed order: restore the saved order of variables
            order = [v for v in row.get("variables", []) if v in data.data_vars]
            data = data[order + [v for v in data.data_vars if v not in order]]
            coords = [c for c in row.get("coords", []) if c in data.coords]
            data = data.assign_coords({c: data.coords[c] for c in coords})
            for var in data.variables:
                if data[var].dtype.kind == "U":
                    data[var] = data[var].astype(object)
            self._cache[name] = data
        return self._cache[name].copy()

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            row = self._row(name, "csv")
            index = list(row.get("index", []))
            frame = pd.read_csv(self.path / row["path"], index_col=list(range(len(index))) or None,
                                keep_default_na=False, na_values=["NaN"])
            if index:
                frame.index.names = [n or None for n in index]
            self._cache[name] = frame
        return self._cache[name].copy()

    def _row(self, name: str, fmt: str) -> dict[str, Any]:
        row = self.files.get(name)
        if row is None or row.get("format") != fmt:
            raise SpecError(f"{self.path / MANIFEST} lists no {fmt} file named {name!r}; the folder is "
                            f"incomplete or was written by another program.")
        if not (self.path / row["path"]).exists():
            raise SpecError(f"{self.path} lacks {row['path']}, which its {MANIFEST} lists: the folder is "
                            f"incomplete. Save the result again.")
        return row

    def check_values(self) -> None:
        """Raise SpecError if a payload's values no longer match the hash its manifest records."""
        for name, row in self.files.items():
            data = self.dataset(name) if row["format"] == "zarr" else self.frame(name)
            if value_sha256(data) != row["value_sha256"]:
                raise SpecError(f"{self.path / row['path']} no longer holds the values its {MANIFEST} "
                                f"records (value sha256 {row['value_sha256'][:12]}): the file was changed.")


def read_folder(path: str | Path) -> SavedFolder:
    """Read a result folder's manifest; SpecError if it is not one."""
    folder = Path(path).expanduser()
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise SpecError(f"{folder} holds no {MANIFEST}: it is not a saved result. Give the folder written "
                        f"by ce.save(result, path) or result.save(path).")
    try:
        manifest = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{manifest_path} is not valid TOML: {exc}.") from exc
    if manifest.get("format") != FORMAT:
        raise SpecError(f"{manifest_path} is not a cluster_econ result manifest (format = "
                        f"{manifest.get('format')!r}, expected {FORMAT!r}).")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise SpecError(f"{manifest_path} has format_version {manifest['format_version']}, newer than this "
                        f"cluster_econ reads ({FORMAT_VERSION}): upgrade cluster_econ.")
    return SavedFolder(folder, manifest)
