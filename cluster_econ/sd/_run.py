"""Run: the result of one simulation."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .. import _results_io
from .._frozen import copied_payloads, stored
from ..errors import ReproducibilityError
from ..provenance import Provenance
from ._model import SDModel, load_model

__all__ = ["Run"]


@copied_payloads("data")
@dataclasses.dataclass(frozen=True, eq=False)
class Run:
    """One simulation of a system-dynamics model.

    Attributes
    ----------
    data : xarray.Dataset
        A copy: changing it never changes the run. Dimensions ``time`` (float, model time units) plus
        the subscript ranges; one data variable per output, keyed by its PySD Python name, with attrs
        ``units``, ``description`` and ``vensim_name``.
    model : SDModel
        The model that was run.
    provenance : Provenance
        Model id, version and sha256, the parameters changed from their defaults, engine, method and
        time settings.
    """

    data: xr.Dataset
    model: SDModel
    provenance: Provenance
    _elements: Mapping[str, Mapping[str, list[Any]]] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def _stored(self) -> xr.Dataset:
        """The data itself, not a copy: read inside the class only."""
        return stored(self, "data")

    def __repr__(self) -> str:
        time = self._stored["time"].values
        span = f"{time[0]:g}-{time[-1]:g}" if time.size else "empty"
        return (f"Run(model={self.model.label!r}, time={span}, {len(self._stored.data_vars)} outputs, "
                f"engine={self.provenance.details.get('engine')!r})")

    def __getitem__(self, name: str) -> xr.DataArray:
        """One output by its PySD Python or Vensim name."""
        data = self._stored
        return data[self.model.resolve(name, what="output") if name not in data else name].copy(deep=True)

    def to_frame(self) -> pd.DataFrame:
        """The run as PySD's ``Model.run()`` returns it.

        A DataFrame indexed by ``time`` with one column per scalar variable (named by its Vensim name)
        and one column per element of a subscripted variable, named as PySD names them:
        ``'Stock A[Entry 1,Column 1]'``.
        """
        full = self.model.subscripts
        columns: dict[str, np.ndarray] = {}
        data = self._stored
        for key, da in data.data_vars.items():
            name = str(da.attrs.get("vensim_name", key))
            dims = [str(d) for d in da.dims if d != "time"]
            da = da.transpose("time", *dims)
            if not dims:
                columns[name] = np.asarray(da.values, dtype=float)
                continue
            # a variable defined on part of a range shares the range's dimension in the Dataset (padded
            # with NaN): keep only its own elements, as PySD does
            own = self._elements.get(str(key), {})
            keep = {d: [x for x in da[d].values if x in set(own.get(d, da[d].values))] for d in dims}
            da = da.sel(keep)
            values = np.asarray(da.values, dtype=float).reshape(da.sizes["time"], -1)
            if math.prod(len(own.get(d, full.get(d, data[d].values))) for d in dims) == 1:
                columns[name] = values[:, 0]
                continue
            labels = itertools.product(*(keep[d] for d in dims))
            for i, label in enumerate(labels):
                columns[name + "[" + ",".join(str(x) for x in label) + "]"] = values[:, i]
        index = pd.Index(np.asarray(data["time"].values, dtype=float), name="time")
        return pd.DataFrame(columns, index=index)

    # -- saving ---------------------------------------------------------------------------------
    def _save_parts(self) -> dict[str, Any]:
        """What :meth:`save` writes: the data as a Dataset and the partial-range elements."""
        return {"kind": "Run", "provenance": self.provenance, "datasets": {"data": self._stored},
                "state": {"elements": {k: dict(v) for k, v in self._elements.items()}}}

    def save(self, path: str | Path) -> Path:
        """Save the run to a folder: ``data.zarr`` and ``manifest.toml`` (see ``ce.save``)."""
        return _results_io.write_folder(path, **self._save_parts())

    @classmethod
    def _from_saved(cls, folder: _results_io.SavedFolder) -> Run:
        model = _saved_model(folder.manifest.get("model", {}), folder.manifest.get("call", {}), folder.path)
        elements = folder.manifest.get("state", {}).get("elements", {})
        return cls(data=folder.dataset("data"), model=model, provenance=folder.provenance, _elements=elements)


def _saved_model(spec: Mapping[str, Any], call: Mapping[str, Any], where: Path) -> SDModel:
    """The model a saved result names: a registered id and version, or a model file path."""
    arguments = call.get("arguments", {}) if isinstance(call, Mapping) else {}
    given = arguments.get("model") if isinstance(arguments.get("model"), Mapping) else {}
    if given.get("path"):
        model = load_model(Path(given["path"]))
    elif spec.get("id"):
        model = load_model(str(spec["id"]), version=spec.get("version"))
    else:
        raise ReproducibilityError(f"{where} names no model: the manifest has no [model] table.")
    recorded = spec.get("sha256") or given.get("sha256")
    if recorded and model.sha256 != recorded:
        raise ReproducibilityError(
            f"The model differs: {where} was made with {model.label} of sha256 {recorded}, but "
            f"{model.path} now has sha256 {model.sha256}."
        )
    return model
