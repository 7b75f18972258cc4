"""Fit statistics of simulated against observed trajectories, after Sterman (1984).

References
----------
Sterman, J. D. (1984). Appropriate summary statistics for evaluating the historical fit of system
dynamics models. Dynamica 10(2), 51-66.
Theil, H. (1966). Applied Economic Forecasting. Amsterdam: North-Holland.
Durbin, J. and Watson, G. S. (1950). Testing for serial correlation in least squares regression I.
Biometrika 37(3/4), 409-428.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FIT_COLUMNS", "fit_statistics", "fit_table"]

FIT_COLUMNS = ["n", "rmse", "mape", "r2", "theil_um", "theil_us", "theil_uc", "durbin_watson"]


def fit_statistics(observed: np.ndarray, simulated: np.ndarray, resid: np.ndarray, region: np.ndarray,
                   time: np.ndarray) -> dict[str, float]:
    """The fit statistics of one target.

    ``rmse``, ``mape`` (percent), ``r2`` (1 - SSE/SST) and Theil's decomposition of the mean squared
    error into bias ``theil_um``, unequal variation ``theil_us`` and unequal covariation ``theil_uc``
    (summing to 1; Sterman 1984, with population moments) are computed on levels in data units, pooled
    over regions and times. ``durbin_watson`` uses the residuals of the loss, differenced within each
    region along time.
    """
    a, s = np.asarray(observed, float), np.asarray(simulated, float)
    n = len(a)
    nan = float("nan")
    if n == 0:
        return dict.fromkeys(FIT_COLUMNS, nan) | {"n": 0}
    err = s - a
    mse = float(np.mean(err**2))
    if mse <= 1e-24 * float(np.mean(a**2)):  # an exact fit: the shares of a zero error are undefined
        mse = 0.0
    with np.errstate(all="ignore"):
        sst = float(np.sum((a - a.mean()) ** 2))
        sa, ss = float(a.std()), float(s.std())
        r = float(np.corrcoef(a, s)[0, 1]) if sa > 0 and ss > 0 else nan
        um = (s.mean() - a.mean()) ** 2 / mse if mse > 0 else nan
        us = (ss - sa) ** 2 / mse if mse > 0 else nan
        uc = 2 * (1 - r) * ss * sa / mse if mse > 0 and np.isfinite(r) else nan
        mape = float(np.mean(np.abs(err) / np.abs(a)) * 100)
    order = np.lexsort((time, region))
    e, g = np.asarray(resid, float)[order], np.asarray(region)[order]
    same = g[1:] == g[:-1]
    denom = float(np.sum(e**2))
    dw = float(np.sum((e[1:] - e[:-1])[same] ** 2) / denom) if denom > 0 else nan
    return {"n": n, "rmse": float(np.sqrt(mse)), "mape": mape,
            "r2": 1 - float(np.sum(err**2)) / sst if sst > 0 else nan,
            "theil_um": float(um), "theil_us": float(us), "theil_uc": float(uc), "durbin_watson": dw}


def fit_table(residuals: pd.DataFrame, targets: list[str]) -> pd.DataFrame:
    """One row per target (index ``target``), columns :data:`FIT_COLUMNS`, from a residual frame."""
    rows = {}
    for target in targets:
        part = residuals[residuals["target"] == target]
        rows[target] = fit_statistics(part["observed"].to_numpy(), part["simulated"].to_numpy(),
                                      part["residual"].to_numpy(), part["region"].to_numpy(),
                                      part["time"].to_numpy())
    table = pd.DataFrame.from_dict(rows, orient="index", columns=FIT_COLUMNS)
    table.index.name = "target"
    return table.astype({"n": int})
