"""``ce.save``, ``ce.load_result`` and ``ce.reproduce``: results as folders that re-run bit for bit."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .. import _results_io
from ..errors import ReproducibilityError, ReproducibilityWarning, SpecError
from ..provenance import Provenance, package_versions
from ._rerun import run_call

__all__ = ["load_result", "reproduce", "save"]

logger = logging.getLogger(__name__)


def _batch_provenance(data: xr.Dataset) -> Provenance:
    text = data.attrs.get("provenance")
    if not isinstance(text, str):
        raise SpecError("This xarray Dataset carries no cluster_econ provenance (attrs['provenance']): only the "
                        "Datasets returned by ce.simulate_batch can be saved as results.")
    return Provenance(**json.loads(text))


def _parts(result: Any) -> dict[str, Any]:
    if isinstance(result, xr.Dataset):
        return {"kind": "Batch", "provenance": _batch_provenance(result), "datasets": {"data": result}}
    parts = getattr(result, "_save_parts", None)
    if parts is None:
        raise SpecError(f"ce.save() takes a result of cluster_econ (Run, simulate_batch Dataset, EstimationResult, "
                        f"CalibrationResult, SweepResult); got {type(result).__name__}.")
    return dict(parts())


def save(result: Any, path: str | Path, *, overwrite: bool = True) -> Path:
    """Save a result to a folder that :func:`reproduce` can re-run.

    The folder holds the data (xarray Datasets as Zarr stores, frames as CSV) and ``manifest.toml``:
    the kind of result, the call that produced it (verb and arguments as data), the model's id,
    version and sha256, the datasets' names and sha256, the seed, the package versions, the platform
    and the sha256 of each data file's values. It is written next to ``path`` and renamed into place,
    so it is either complete or absent.

    Parameters
    ----------
    result : Run, xarray.Dataset, EstimationResult, CalibrationResult or SweepResult
        A result of ``simulate``, ``simulate_batch``, an estimator, ``calibrate`` or ``sweep``.
    path : str or Path
        The folder to write. An existing result folder there is replaced when ``overwrite``.

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> import cluster_econ as ce
    >>> fe = ce.panel_ols("log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp", ce.load_dataset("us_states"),
    ...                   effects=("entity",))
    >>> folder = ce.save(fe, "fe_result")  # doctest: +SKIP
    >>> ce.reproduce(folder)  # doctest: +SKIP
    """
    return _results_io.write_folder(path, overwrite=overwrite, **_parts(result))


def load_result(path: str | Path) -> Any:
    """Read a saved result back: the same type as was saved, with its provenance.

    Raises
    ------
    SpecError
        ``path`` is not a saved result, or its files no longer hold the values the manifest records.
    """
    import cluster_econ

    folder = _results_io.read_folder(path)
    folder.check_values()
    if folder.kind == "Batch":
        return folder.dataset("data")
    cls = getattr(cluster_econ, folder.kind, None)
    loader = getattr(cls, "_from_saved", None)
    if loader is None:
        raise SpecError(f"{folder.path} holds a {folder.kind!r} result, which this cluster_econ cannot read.")
    return loader(folder)


# -- comparison ------------------------------------------------------------------------------------
def _largest(old: np.ndarray, new: np.ndarray) -> tuple[float, tuple[int, ...]] | None:
    if old.shape != new.shape:
        return None
    if old.dtype.kind not in "fiub" or new.dtype.kind not in "fiub":
        unequal = np.asarray(old != new)
        if not unequal.any():
            return 0.0, ()
        return float("nan"), tuple(int(i) for i in np.argwhere(unequal)[0])
    a, b = np.asarray(old, dtype=float), np.asarray(new, dtype=float)
    diff = np.abs(a - b)
    diff[np.isnan(a) & np.isnan(b)] = 0.0
    diff[np.isnan(a) ^ np.isnan(b)] = np.inf
    if diff.size == 0 or not np.any(diff > 0):
        return 0.0, ()
    where = np.unravel_index(int(np.nanargmax(diff)), diff.shape)
    return float(diff[where]), tuple(int(i) for i in where)


def _describe_dataset(name: str, old: xr.Dataset, new: xr.Dataset) -> list[str]:
    notes = []
    for var in sorted(set(map(str, old.variables)) | set(map(str, new.variables))):
        if var not in old.variables or var not in new.variables:
            notes.append(f"{name}/{var} is {'new' if var not in old.variables else 'missing'} in the re-run")
            continue
        a, b = old.variables[var], new.variables[var]
        if a.dims != b.dims or a.shape != b.shape:
            notes.append(f"{name}/{var} has shape {dict(zip(b.dims, b.shape, strict=True))} in the re-run, "
                         f"{dict(zip(a.dims, a.shape, strict=True))} saved")
            continue
        found = _largest(a.values, b.values)
        if found and found[0] != 0:
            size, at = found
            label = ", ".join(f"{d}={old[d].values[i]!s}" if d in old.coords else f"{d}={i}"
                              for d, i in zip(a.dims, at, strict=True))
            notes.append((size, f"{name}/{var} differs by up to {size:.6g} (at {label})"))  # type: ignore[arg-type]
    return _sorted_notes(notes)


def _describe_frame(name: str, old: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    if old.shape != new.shape or list(map(str, old.columns)) != list(map(str, new.columns)):
        return [f"{name} has shape {new.shape} and columns {list(new.columns)[:6]} in the re-run, "
                f"{old.shape} and {list(old.columns)[:6]} saved"]
    notes: list[Any] = []
    if not old.index.equals(new.index):
        notes.append(f"{name} has other row labels in the re-run")
    for position, column in enumerate(old.columns):
        found = _largest(old.iloc[:, position].to_numpy(), new.iloc[:, position].to_numpy())
        if found and found[0] != 0:
            size, at = found
            row = old.index[at[0]] if at else "?"
            notes.append((size, f"{name}[{column}] differs by up to {size:.6g} (at row {row!s})"))
    return _sorted_notes(notes)


def _sorted_notes(notes: list[Any]) -> list[str]:
    plain = [n for n in notes if isinstance(n, str)]
    sized = sorted((n for n in notes if not isinstance(n, str)), key=lambda n: -n[0] if np.isfinite(n[0]) else -1e308)
    return plain + [text for _, text in sized]


def _version_changes(saved: Mapping[str, Any]) -> list[str]:
    now = package_versions()
    return [f"{name} {saved.get(name, 'absent')} (saved) vs {now.get(name, 'absent')} (now)"
            for name in sorted(set(saved) | set(now)) if str(saved.get(name)) != str(now.get(name))]


def reproduce(path: str | Path) -> Any:
    """Re-run the call a saved result records and check that it gives the same values.

    Parameters
    ----------
    path : str or Path
        A folder written by :func:`save` (or ``result.save``).

    Returns
    -------
    object
        The new result, when the sha256 of every data file's values equals the saved one.

    Raises
    ------
    ReproducibilityError
        The values differ (naming each file and variable with its largest difference, and the package
        versions and platform that changed), or the model file differs from the saved sha256.
    SpecError
        ``path`` is not a saved result, or its call cannot be re-run.

    Warns
    -----
    ReproducibilityWarning
        The values are equal but the package versions differ from the saved ones.
    """
    folder = _results_io.read_folder(path)
    manifest = folder.manifest
    where = str(folder.path / _results_io.MANIFEST)
    new = run_call(manifest.get("call", {}), where=where)
    parts = _parts(new)
    saved_model = manifest.get("model", {})
    new_prov: Provenance = parts["provenance"]
    if saved_model.get("sha256") and new_prov.model_sha256 and saved_model["sha256"] != new_prov.model_sha256:
        raise ReproducibilityError(
            f"The model differs: {where} records {saved_model.get('id')} {saved_model.get('version', '')} with "
            f"sha256 {saved_model['sha256']}, the re-run used sha256 {new_prov.model_sha256}."
        )
    payloads: dict[str, Any] = {**parts.get("datasets", {}), **parts.get("frames", {})}
    notes: list[str] = []
    for name, row in folder.files.items():
        if name not in payloads:
            notes.append(f"{name} is missing from the re-run")
            continue
        if _results_io.value_sha256(payloads[name]) == row["value_sha256"]:
            continue
        if row["format"] == "zarr":
            found = _describe_dataset(name, folder.dataset(name), payloads[name])
        else:
            found = _describe_frame(name, folder.frame(name), payloads[name])
        notes.extend(found or [f"{name} has other values (value sha256 {row['value_sha256'][:12]} saved)"])
    versions = _version_changes(manifest.get("versions", {}))
    if notes:
        message = [f"Re-running {where} gave other values:", *(f"  - {n}" for n in notes)]
        if versions:
            message.append("Package versions differ: " + "; ".join(versions) + ".")
        saved_platform = manifest.get("platform", {}).get("platform")
        now_platform = _results_io._platform()["platform"]
        if saved_platform and saved_platform != now_platform:
            message.append(f"Platform differs: {saved_platform} (saved) vs {now_platform} (now).")
        raise ReproducibilityError("\n".join(message))
    if versions:
        warnings.warn(f"{folder.path} reproduced with equal values, but package versions differ: "
                      + "; ".join(versions) + ".", ReproducibilityWarning, stacklevel=2)
    logger.info("%s reproduced: the values of %d files are equal", folder.path, len(folder.files))
    return new
