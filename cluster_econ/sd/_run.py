"""Run: the result of one simulation."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import xarray as xr

from ..provenance import Provenance
from ._model import SDModel

__all__ = ["Run"]


@dataclasses.dataclass(frozen=True, eq=False)
class Run:
    """One simulation of a system-dynamics model.

    Attributes
    ----------
    data : xarray.Dataset
        Dimensions ``time`` (float, model time units) plus the subscript ranges; one data variable per
        output, keyed by its PySD Python name, with attrs ``units``, ``description`` and
        ``vensim_name``.
    model : SDModel
        The model that was run.
    provenance : Provenance
        Model id, version and sha256, the parameters changed from their defaults, engine, method and
        time settings.
    """

    data: xr.Dataset
    model: SDModel
    provenance: Provenance

    def __repr__(self) -> str:
        time = self.data["time"].values
        span = f"{time[0]:g}-{time[-1]:g}" if time.size else "empty"
        return (f"Run(model={self.model.label!r}, time={span}, {len(self.data.data_vars)} outputs, "
                f"engine={self.provenance.details.get('engine')!r})")

    def __getitem__(self, name: str) -> xr.DataArray:
        """One output by its PySD Python or Vensim name."""
        return self.data[self.model.resolve(name, what="output") if name not in self.data else name]

    def to_frame(self) -> pd.DataFrame:
        """The run as PySD's ``Model.run()`` returns it.

        A DataFrame indexed by ``time`` with one column per scalar variable (named by its Vensim name)
        and one column per element of a subscripted variable, named as PySD names them:
        ``'Stock A[Entry 1,Column 1]'``.
        """
        full = self.model.subscripts
        columns: dict[str, np.ndarray] = {}
        for da in self.data.data_vars.values():
            name = str(da.attrs.get("vensim_name", da.name))
            dims = [d for d in da.dims if d != "time"]
            da = da.transpose("time", *dims)
            if not dims:
                columns[name] = np.asarray(da.values, dtype=float)
                continue
            model_size = math.prod(len(full.get(str(d), da[d].values)) for d in dims)
            values = np.asarray(da.values, dtype=float).reshape(da.sizes["time"], -1)
            if model_size == 1:
                columns[name] = values[:, 0]
                continue
            labels = itertools.product(*(da[d].values for d in dims))
            for i, label in enumerate(labels):
                columns[name + "[" + ",".join(str(x) for x in label) + "]"] = values[:, i]
        index = pd.Index(np.asarray(self.data["time"].values, dtype=float), name="time")
        return pd.DataFrame(columns, index=index)
