"""Sweep stores: each finished chunk written to a Zarr (v3) store as it completes, resumable.

Layout of a store folder: one Zarr group whose attributes hold the spec (the call), the chunk
boundaries and the provenance; one array per experiment column (``exp/<name>``), outcome
(``out/<label>``), indicator (``ind/<name>``) and indicator reason code (``why/<name>``), each
chunked along ``scenario`` exactly as the sweep is, so a chunk of the sweep is one Zarr chunk of
every array; and ``done/<i>``, a marker written (by rename) only after chunk ``i`` is fully
written. A chunk without its marker is a torn write and is computed again on resume.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cluster_econ.errors import SpecError
from cluster_econ.provenance import Provenance

__all__ = ["SweepStore", "open_sweep"]

FORMAT = "cluster_econ.sweep/1"


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} in the store, {b!r} now")
    return out


class SweepStore:
    """Writer of one sweep's store (created, or reopened to resume)."""

    def __init__(self, path: str | os.PathLike, spec: Mapping[str, Any], chunks: Sequence[tuple[int, int]], *,
                 overwrite: bool = False) -> None:
        import zarr

        self.path = Path(path)
        self.spec = _plain(spec)
        self.chunks = [tuple(map(int, c)) for c in chunks]
        self._arrays: dict[str, Any] = {}  # opened once: opening reads the array's metadata from disk
        if self.path.exists() and overwrite:
            shutil.rmtree(self.path)
        if self.path.exists():
            if not (self.path / "zarr.json").is_file():
                raise SpecError(f"{self.path} exists and is not a sweep store; give another path or overwrite=True.")
            group: Any = zarr.open_group(str(self.path), mode="r+")
            attrs: dict[str, Any] = dict(group.attrs)
            if attrs.get("format") != FORMAT:
                raise SpecError(f"{self.path} is not a cluster_econ sweep store; give another path or overwrite=True.")
            diff = _differences(attrs["spec"], self.spec)
            if not diff and [list(c) for c in self.chunks] != attrs["chunks"]:
                diff.append(f"chunk boundaries: {attrs['chunks'][:3]}... in the store, {self.chunks[:3]}... now")
            if diff:
                raise SpecError(f"The store {self.path} holds a different sweep (" + "; ".join(diff) +
                                "). Run the same call to resume it, give overwrite=True to start over, or use "
                                "another store path.")
            self.group: Any = group
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"))
            new: Any = zarr.open_group(str(tmp), mode="w", zarr_format=3)
            new.attrs.update({"format": FORMAT, "spec": self.spec, "chunks": [list(c) for c in self.chunks]})
            (tmp / "done").mkdir()
            os.replace(tmp, self.path)
            self.group = zarr.open_group(str(self.path), mode="r+")

    @property
    def done(self) -> set[int]:
        return {int(p.name) for p in (self.path / "done").iterdir() if p.name.isdigit()}

    def begin(self, experiments: pd.DataFrame, provenance: Provenance, template: Mapping[str, Any],
              coords: Mapping[str, Any]) -> None:
        """Create the arrays (once) from one evaluated chunk's shapes; write the experiments."""
        if "meta" in self.group.attrs:
            return
        n = len(experiments)
        size = max(b - a for a, b in self.chunks)
        for name in experiments.columns:
            self._array(f"exp/{name}", (n,), ("scenario",), size, "f8").__setitem__(
                slice(None), experiments[name].to_numpy(dtype=float))
        meta = {"outcomes": {}, "indicators": list(template["indicators"]), "coords": _plain(coords),
                "times": [float(t) for t in template["times"]], "columns": list(experiments.columns)}
        for label, (dims, attrs) in template["dims"].items():
            shape = (n, *template["outcomes"][label].shape[1:])
            self._array(f"out/{label}", shape, ("scenario", *dims), size, "f8")
            meta["outcomes"][label] = {"dims": list(dims), "attrs": _plain(attrs)}
        for name in template["indicators"]:
            self._array(f"ind/{name}", (n,), ("scenario",), size, "f8")
            self._array(f"why/{name}", (n,), ("scenario",), size, "i1")
        self.group.attrs.update({"meta": meta, "provenance": _plain(provenance.to_dict())})

    def _array(self, name: str, shape: tuple[int, ...], dims: tuple[str, ...], size: int, dtype: str) -> Any:
        fill = np.nan if dtype == "f8" else 0
        self._arrays[name] = self.group.create_array(name, shape=shape, chunks=(size, *shape[1:]), dtype=dtype,
                                                     fill_value=fill, dimension_names=list(dims), overwrite=True)
        return self._arrays[name]

    def _opened(self, name: str) -> Any:
        if name not in self._arrays:
            self._arrays[name] = self.group[name]
        return self._arrays[name]

    def write(self, index: int, part: Mapping[str, Any]) -> None:
        """Write a finished chunk (every array at once, concurrently), then its done marker (by rename)."""
        import asyncio

        from zarr.core.sync import sync

        a, b = self.chunks[index]
        values = {f"out/{k}": v for k, v in part["outcomes"].items()}
        values.update({f"ind/{k}": v for k, v in part["indicators"].items()})
        values.update({f"why/{k}": part["reasons"][k] for k in part["indicators"]})
        writes = [self._opened(name).async_array.setitem(slice(a, b), np.asarray(v)) for name, v in values.items()]

        async def every() -> None:
            await asyncio.gather(*writes)

        sync(every())
        marker = self.path / "done" / str(index)
        tmp = marker.with_name(f".{index}.tmp")
        tmp.write_text(json.dumps([a, b]))
        os.replace(tmp, marker)


def data_labels(meta: Mapping[str, Any]) -> list[str]:
    return [k for k, v in meta["outcomes"].items() if v["dims"]]


def open_sweep(store: str | os.PathLike, *, partial: bool = True) -> Any:
    """Open a sweep store (finished or partial) as a :class:`SweepResult`, its time series read lazily.

    Parameters
    ----------
    store : path
        A folder written by ``ce.sweep(..., store=...)``.
    partial : bool, default True
        Allow a store whose sweep did not finish: the result then holds the finished chunks' scenarios.

    Returns
    -------
    SweepResult
        Experiments, scalar outcomes and indicators in memory; ``data`` backed by dask arrays over the
        Zarr store, so outcomes larger than memory can be analysed chunk by chunk.
    """
    import zarr

    from ._indicators import REASONS
    from ._result import SweepResult

    path = Path(store)
    if not (path / "zarr.json").is_file():
        raise SpecError(f"{path} is not a sweep store (no zarr.json); give the path given as store= to ce.sweep.")
    group: Any = zarr.open_group(str(path), mode="r")
    attrs: dict[str, Any] = dict(group.attrs)
    if attrs.get("format") != FORMAT or "meta" not in attrs:
        raise SpecError(f"{path} is not a cluster_econ sweep store, or no chunk of it was ever written.")
    meta = attrs["meta"]
    done = sorted(int(p.name) for p in (path / "done").iterdir() if p.name.isdigit())
    chunks = attrs["chunks"]
    if len(done) < len(chunks) and not partial:
        raise SpecError(f"{path} holds {len(done)} of {len(chunks)} chunks; run the same sweep again to finish it.")
    rows = np.concatenate([np.arange(*chunks[i]) for i in done]) if done else np.empty(0, int)
    index = pd.RangeIndex(int(chunks[-1][1]), name="scenario")[rows] if len(rows) else pd.Index([], name="scenario")
    experiments = pd.DataFrame({c: group[f"exp/{c}"][:][rows] for c in meta["columns"]}, index=index)
    lazy = xr.open_zarr(str(path), group="out", consolidated=False, zarr_format=3) if data_labels(meta) else None
    outcomes, data_vars = {}, {}
    coords: dict[str, Any] = {"scenario": np.asarray(index)}
    for label, info in meta["outcomes"].items():
        dims = info["dims"]
        if len(dims) == 0:
            outcomes[label] = group[f"out/{label}"][:][rows]
            continue
        var = lazy[label].isel(scenario=rows)  # type: ignore[index]
        data_vars[label] = xr.Variable(("scenario", *dims), var.data, attrs=info["attrs"])
        for d in dims:
            coords.setdefault(d, meta["times"] if d == "time" else meta["coords"][d])
    indicators = {k: group[f"ind/{k}"][:][rows] for k in meta["indicators"]}
    categories = [REASONS[i] for i in sorted(REASONS)]
    reasons = {k: pd.Categorical.from_codes(group[f"why/{k}"][:][rows], categories=categories)
               for k in meta["indicators"]}
    prov = dict(attrs["provenance"])
    details = {**prov.pop("details"), "store": str(path), "chunks_done": len(done), "chunks": len(chunks)}
    provenance = Provenance(**prov, details=details)
    return SweepResult(experiments, pd.DataFrame(outcomes, index=index), xr.Dataset(data_vars, coords=coords),
                       pd.DataFrame(indicators, index=index), pd.DataFrame(reasons, index=index), provenance)
