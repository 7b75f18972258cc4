"""Figures of the HTML report: matplotlib drawn to inline SVG, byte-identical for the same inputs.

Figures are made with :class:`matplotlib.figure.Figure` (no pyplot state), with ``svg.hashsalt`` fixed
and no date in the SVG metadata, so the same data always give the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

__all__ = ["bars", "coefficients", "fan", "interval_rows", "observed_vs_simulated", "prim_tradeoff", "scoped", "svg",
           "trajectories"]

RC = {"svg.hashsalt": "cluster_econ-report", "svg.fonttype": "path", "font.size": 9, "axes.titlesize": 9,
      "axes.spines.top": False, "axes.spines.right": False, "figure.dpi": 100}
BLUE, GREY, ORANGE = "#1f5f99", "#8a8a8a", "#d9822b"


def svg(draw: Callable[[Figure], None], *, size: tuple[float, float] = (7.0, 3.2)) -> str:
    """Draw on a new figure and return it as an ``<svg>`` element (no XML prolog)."""
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        fig = Figure(figsize=size)
        draw(fig)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):].strip()


def _grid(fig: Figure, n: int, ncols: int = 3) -> list[Any]:
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    return [fig.add_subplot(nrows, ncols, i + 1) for i in range(n)]


def _over_regions(da: xr.DataArray, keep: Sequence[str]) -> xr.DataArray:
    other = [d for d in da.dims if d not in keep]
    return da.sum(other) if other else da


def trajectories(data: xr.Dataset, names: Sequence[str]) -> str:
    """Line charts of a run's outputs (summed over regions)."""
    def draw(fig: Figure) -> None:
        for ax, name in zip(_grid(fig, len(names)), names, strict=True):
            da = _over_regions(data[name], ["time"])
            ax.plot(da["time"].values, da.values, color=BLUE, lw=1.4)
            ax.set_title(name)
            ax.set_xlabel("time")
    return svg(draw, size=(7.0, 2.4 * int(np.ceil(len(names) / 3))))


def fan(series: dict[str, xr.DataArray], q: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> str:
    """Fan charts: quantile bands over scenarios of time series ``(scenario, time)``."""
    def draw(fig: Figure) -> None:
        for ax, (name, da) in zip(_grid(fig, len(series)), series.items(), strict=True):
            values = np.asarray(da.transpose("scenario", "time").values, dtype=float)
            time = np.asarray(da["time"].values, dtype=float)
            bands = np.nanquantile(values, list(q), axis=0)
            ax.fill_between(time, bands[0], bands[-1], color=BLUE, alpha=0.18, lw=0, label=f"{q[0]:.0%}-{q[-1]:.0%}")
            if len(q) >= 5:
                ax.fill_between(time, bands[1], bands[-2], color=BLUE, alpha=0.32, lw=0,
                                label=f"{q[1]:.0%}-{q[-2]:.0%}")
            ax.plot(time, bands[len(q) // 2], color=BLUE, lw=1.4, label="median")
            ax.set_title(name)
            ax.set_xlabel("time")
        fig.axes[0].legend(frameon=False, fontsize=7)
    return svg(draw, size=(7.0, 2.4 * int(np.ceil(len(series) / 3))))


def coefficients(table: pd.DataFrame) -> str:
    """Estimates with their confidence intervals (columns estimate, ci_lower, ci_upper; index terms)."""
    def draw(fig: Figure) -> None:
        ax = fig.add_subplot(1, 1, 1)
        y = np.arange(len(table))[::-1]
        ax.errorbar(table["estimate"], y, xerr=[table["estimate"] - table["ci_lower"],
                                                table["ci_upper"] - table["estimate"]],
                    fmt="o", color=BLUE, ms=4, capsize=3)
        ax.axvline(0, color=GREY, lw=0.8)
        ax.set_yticks(y, [str(t) for t in table.index])
        ax.set_xlabel("estimate (95% interval)")
    return svg(draw, size=(6.0, 0.4 * len(table) + 1.0))


def observed_vs_simulated(residuals: pd.DataFrame, target: str, regions: Sequence[str]) -> str:
    """Observed points and simulated lines of one calibration target, by region."""
    rows = residuals[residuals["target"] == target]

    def draw(fig: Figure) -> None:
        for ax, region in zip(_grid(fig, len(regions)), regions, strict=True):
            part = rows[rows["region"] == region].sort_values("time")
            ax.plot(part["time"], part["simulated"], color=BLUE, lw=1.4, label="simulated")
            if "sample" in part:
                for sample, marker in (("fit", "o"), ("holdout", "s")):
                    sel = part[part["sample"] == sample]
                    if len(sel):
                        ax.plot(sel["time"], sel["observed"], marker, color=ORANGE if sample == "holdout" else GREY,
                                ms=3, ls="none", label=f"observed ({sample})")
            else:
                ax.plot(part["time"], part["observed"], "o", color=GREY, ms=3, ls="none", label="observed")
            ax.set_title(str(region))
        fig.axes[0].legend(frameon=False, fontsize=7)
    return svg(draw, size=(7.0, 2.2 * int(np.ceil(len(regions) / 3))))


def interval_rows(table: pd.DataFrame) -> str:
    """One small panel per row of a (name x [q05, q50, q95]) table: the 5-95 % band and the median."""
    def draw(fig: Figure) -> None:
        for ax, (name, row) in zip(_grid(fig, len(table), ncols=2), table.iterrows(), strict=True):
            lo, mid, hi = (float(v) for v in row.iloc[:3])
            ax.plot([lo, hi], [0, 0], color=BLUE, lw=6, alpha=0.35, solid_capstyle="butt")
            ax.plot([mid], [0], "o", color=BLUE)
            ax.set_yticks([])
            ax.locator_params(axis="x", nbins=4)
            ax.spines["left"].set_visible(False)
            ax.set_title(str(name))
    return svg(draw, size=(7.0, 1.1 * int(np.ceil(len(table) / 2)) + 0.4))


def bars(indices: pd.DataFrame, title: str) -> str:
    """Sobol' first-order and total indices with their intervals (columns S1, S1_conf, ST, ST_conf)."""
    def draw(fig: Figure) -> None:
        ax = fig.add_subplot(1, 1, 1)
        x = np.arange(len(indices))
        width = 0.38
        ax.bar(x - width / 2, indices["S1"], width, yerr=indices.get("S1_conf"), color=BLUE, label="S1", capsize=2)
        ax.bar(x + width / 2, indices["ST"], width, yerr=indices.get("ST_conf"), color=ORANGE, label="ST", capsize=2)
        ax.set_xticks(x, [str(i) for i in indices.index], rotation=30, ha="right")
        ax.set_ylabel("Sobol' index")
        ax.set_title(title)
        ax.legend(frameon=False)
    return svg(draw, size=(6.5, 3.0))


def prim_tradeoff(trajectory: pd.DataFrame, selected: int | None) -> str:
    """PRIM's peeling trajectory: coverage against density, the selected box marked."""
    def draw(fig: Figure) -> None:
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(trajectory["coverage"], trajectory["density"], "-o", color=BLUE, ms=3)
        if selected is not None and selected in trajectory.index:
            row = trajectory.loc[selected]
            ax.plot([row["coverage"]], [row["density"]], "o", color=ORANGE, ms=8,
                    label=f"selected box (step {selected})")
            ax.legend(frameon=False)
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
    return svg(draw, size=(5.0, 3.2))


def scoped(text: str, prefix: str) -> str:
    """SVG text with every id (and every reference to one) prefixed, so figures share a page safely."""
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    if not ids:
        return text
    names = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    pattern = re.compile(r'(\bid="|url\(#|href="#)(' + names + r')(?=[")])')
    return pattern.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
