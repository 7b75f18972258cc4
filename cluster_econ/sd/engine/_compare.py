"""Engine results side by side with PySD's: PySD's flattened columns, and the worst difference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["pysd_frame", "worst_difference"]


def pysd_frame(ds: xr.Dataset, scenario: int = 0) -> pd.DataFrame:
    """One scenario of an engine result as a frame with PySD's column names (``name[a,b]`` per cell)."""
    one = ds.isel(scenario=scenario)
    cols: dict[str, np.ndarray] = {}
    for da in one.data_vars.values():
        label = da.attrs["vensim_name"]
        if da.ndim == 1:
            cols[label] = da.values
            continue
        values = da.values.reshape(da.shape[0], -1)
        for i, idx in enumerate(np.ndindex(*da.shape[1:])):
            elems = [str(da[d].values[k]) for d, k in zip(da.dims[1:], idx, strict=True)]
            cols[f"{label}[{','.join(elems)}]"] = values[:, i]
    return pd.DataFrame(cols, index=pd.Index(one["time"].values, name="time"))


def worst_difference(frame: pd.DataFrame, reference: pd.DataFrame, tol: float) -> tuple[float, str | None, int]:
    """The largest ``|a - b| / (tol + tol |b|)`` over shared columns and times, its column, the column count.

    A value above 1 is a difference beyond ``tol`` (relative and absolute); NaN in both is equal.
    """
    columns = [c for c in reference.columns if c in frame.columns]
    times = np.asarray(reference.index, dtype=float)
    rows = [t for t in frame.index if np.isclose(times, t, rtol=0, atol=1e-9).any()]
    at = [int(np.flatnonzero(np.isclose(times, t, rtol=0, atol=1e-9))[0]) for t in rows]
    worst, where = 0.0, None
    for c in columns:
        expected = pd.to_numeric(reference[c], errors="coerce").to_numpy(dtype=float)[at]
        actual = frame.loc[rows, c].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            d = np.abs(actual - expected) / (tol + tol * np.abs(expected))
        d = np.where(np.isnan(actual) & np.isnan(expected), 0.0, np.nan_to_num(d, nan=np.inf))
        if d.size and float(d.max()) > worst:
            worst, where = float(d.max()), c
    return worst, where, len(columns)
