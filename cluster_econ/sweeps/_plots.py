"""Figures of a sweep (matplotlib): fan charts, sensitivity bars, scatter plots."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cluster_econ.errors import SpecError, unknown_name

__all__ = ["fan", "scatter", "sensitivity"]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 4))[1]


def fan(result: Any, outcome: str, *, by: str | None, q: Sequence[float], ax: Any) -> Any:
    values = result._values(outcome)
    if "time" not in values.dims:
        raise SpecError(f"plot_fan needs a time-series outcome (time='all'); {outcome!r} has dims {values.dims}.")
    extra = [d for d in values.dims if d not in ("scenario", "time")]
    series = values.sum(extra) if extra else values
    ax = _axes(ax)
    times = series["time"].values
    qs = sorted(float(x) for x in q)
    if by is None:
        groups: list[tuple[str, np.ndarray]] = [("all scenarios", np.ones(series.shape[0], bool))]
    else:
        key = result._experiments[by]
        if key.nunique() > 8:
            key = pd.qcut(key, 3, duplicates="drop")
        groups = [(f"{by} {g}", (key == g).to_numpy()) for g in sorted(key.unique())]
    bands = _bands(series, [mask for _, mask in groups], qs)
    for i, ((label, _), band) in enumerate(zip(groups, bands, strict=True)):
        colour = f"C{i}"
        ax.fill_between(times, band[0], band[-1], color=colour, alpha=0.2)
        ax.plot(times, band[len(qs) // 2], color=colour, label=f"{label} (median, {qs[0]:.0%}-{qs[-1]:.0%})")
    ax.set_xlabel("time")
    ax.set_ylabel(f"{outcome} [{values.attrs.get('units', '')}]")
    ax.legend(fontsize="small")
    return ax


def _bands(series: Any, masks: list[np.ndarray], qs: list[float]) -> list[np.ndarray]:
    """Quantiles over scenarios at every time, per group; a series read lazily is read a block of times at a time.

    Each time's quantiles depend only on that time's values, so blocks give the bytes of one pass.
    """
    if not hasattr(series.data, "compute"):
        arr = np.asarray(series.values)
        return [np.nanquantile(arr[mask], qs, axis=0) for mask in masks]
    from ._result import BLOCK_BYTES

    step = max(1, BLOCK_BYTES // (8 * max(1, series.shape[0])))
    parts: list[list[np.ndarray]] = [[] for _ in masks]
    for a in range(0, series.shape[1], step):
        block = np.asarray(series.data[:, a:a + step].compute())
        for part, mask in zip(parts, masks, strict=True):
            part.append(np.nanquantile(block[mask], qs, axis=0))
    return [np.concatenate(part, axis=1) for part in parts]


def sensitivity(result: Any, outcome: str, *, ax: Any) -> Any:
    ax = _axes(ax)
    if result.design == "sobol":
        table = result.sobol(outcome)
        if not isinstance(table, pd.DataFrame):
            raise SpecError(f"plot_sensitivity needs a scalar outcome; {outcome!r} is a time series or regional.")
        table = table.sort_values("ST")
        y = np.arange(len(table))
        ax.barh(y - 0.2, table["S1"], 0.4, xerr=table["S1_conf"], label="S1 (first order)")
        ax.barh(y + 0.2, table["ST"], 0.4, xerr=table["ST_conf"], label="ST (total)")
        ax.set_xlabel("Sobol' index")
    elif result.design == "morris":
        table = result.morris(outcome)
        if not isinstance(table, pd.DataFrame):
            raise SpecError(f"plot_sensitivity needs a scalar outcome; {outcome!r} is a time series or regional.")
        table = table.sort_values("mu_star")
        y = np.arange(len(table))
        ax.barh(y, table["mu_star"], 0.6, xerr=table["mu_star_conf"], label="mu* (Morris)")
        ax.set_xlabel("mean absolute elementary effect")
    else:
        raise SpecError(f"plot_sensitivity needs design='sobol' or 'morris'; this sweep used {result.design!r}.")
    ax.set_yticks(y, list(table.index))
    ax.set_title(outcome)
    ax.legend(fontsize="small")
    return ax


def scatter(result: Any, y: str, x: str, *, ax: Any) -> Any:
    if x not in result._experiments.columns:
        raise unknown_name(x, list(result._experiments.columns), "lever or uncertainty", where="this sweep")
    values = result._values(y)
    if values.ndim != 1:
        raise SpecError(f"plot_scatter needs a scalar outcome or indicator; {y!r} has dims {values.dims}.")
    ax = _axes(ax)
    ax.scatter(result._experiments[x], values.values, s=6, alpha=0.5)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    return ax
