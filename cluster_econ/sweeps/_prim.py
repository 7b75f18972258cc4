"""Scenario discovery with PRIM (the Patient Rule Induction Method), written on numpy.

``prim`` peels a box in the space of levers and uncertainties, a small share of points at a time,
towards the scenarios where a condition holds, then pastes back what peeling took too eagerly. The
trajectory of boxes trades coverage (share of the condition's scenarios inside) against density
(share of the box's scenarios where it holds).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from cluster_econ.errors import SpecError, plain

__all__ = ["PrimResult", "prim"]


@dataclasses.dataclass(frozen=True, eq=False)
class PrimResult:
    """The peeling-and-pasting trajectory of :func:`prim` and one selected box.

    Attributes
    ----------
    trajectory : pandas.DataFrame
        One row per step: ``kind`` (start, peel, paste), ``coverage``, ``density``, ``mass``, ``res_dim``
        (number of restricted dimensions).
    step : int
        The selected step.
    """

    _trajectory: pd.DataFrame
    _lower: np.ndarray
    _upper: np.ndarray
    names: tuple[str, ...]
    step: int

    @property
    def trajectory(self) -> pd.DataFrame:
        return self._trajectory.copy()

    @property
    def box(self) -> pd.DataFrame:
        """The selected box: ``lower``, ``upper`` and ``restricted`` per parameter."""
        lo, hi = self._lower[self.step], self._upper[self.step]
        restricted = (lo > self._lower[0]) | (hi < self._upper[0])
        return pd.DataFrame({"lower": lo, "upper": hi, "restricted": restricted},
                            index=pd.Index(self.names, name="parameter"))

    @property
    def coverage(self) -> float:
        return float(self._trajectory["coverage"].iloc[self.step])

    @property
    def density(self) -> float:
        return float(self._trajectory["density"].iloc[self.step])

    @property
    def mass(self) -> float:
        return float(self._trajectory["mass"].iloc[self.step])

    def select(self, step: int) -> PrimResult:
        """The same trajectory with another step selected."""
        if isinstance(step, bool) or not isinstance(step, int | np.integer) or not 0 <= step < len(self._trajectory):
            raise SpecError(f"step={plain(step)!r} is not a step of this trajectory (0-{len(self._trajectory) - 1}).")
        return dataclasses.replace(self, step=int(step))

    def __repr__(self) -> str:
        return (f"<PrimResult step {self.step}: coverage {self.coverage:.3f}, density {self.density:.3f}, "
                f"mass {self.mass:.3f}, {int(self.box['restricted'].sum())} restricted dimensions>")

    def plot(self, ax: Any = None) -> Any:
        """The coverage-density trade-off along the trajectory, the selected step marked."""
        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.subplots(figsize=(5, 4))[1]
        t = self._trajectory
        points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
        ax.scatter([self.coverage], [self.density], s=120, facecolors="none", edgecolors="red",
                   label=f"selected step {self.step}")
        ax.figure.colorbar(points, ax=ax, label="restricted dimensions")
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.legend(fontsize="small")
        return ax


def _stats(inbox: np.ndarray, y: np.ndarray, total: int) -> tuple[float, float, float]:
    n_in = int(inbox.sum())
    hits = int(y[inbox].sum())
    return hits / total, (hits / n_in if n_in else math.nan), n_in / len(y)


def _peel(x: np.ndarray, y: np.ndarray, inbox: np.ndarray, alpha: float, min_n: int):
    """The best single peel (dimension, side, new bound, new mask), or None."""
    n_box = int(inbox.sum())
    mean_old = y[inbox].mean()
    k = max(1, math.ceil(alpha * n_box))
    best: tuple[float, int, int, float, np.ndarray] | None = None
    for j in range(x.shape[1]):
        xj = x[:, j]
        values = np.sort(xj[inbox])
        if k >= n_box:
            continue
        for side, bound in ((0, values[k]), (1, values[n_box - 1 - k])):
            keep = inbox & ((xj >= bound) if side == 0 else (xj <= bound))
            n_keep = int(keep.sum())
            if n_keep == n_box or n_keep < min_n:
                continue
            gain = (y[keep].mean() - mean_old) / ((n_box - n_keep) / n_box)
            if best is None or gain > best[0]:
                best = (gain, j, side, float(bound), keep)
    return best


def _paste(x: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, inbox: np.ndarray, alpha: float):
    """The best single paste that raises the density, or None."""
    n_box = int(inbox.sum())
    mean_old = y[inbox].mean()
    k = max(1, math.ceil(alpha * n_box))
    best: tuple[float, int, int, float, np.ndarray] | None = None
    for j in range(x.shape[1]):
        others = np.ones(len(y), bool)
        for i in range(x.shape[1]):
            if i != j:
                others &= (x[:, i] >= lo[i]) & (x[:, i] <= hi[i])
        xj = x[:, j]
        below = np.sort(xj[others & (xj < lo[j])])
        above = np.sort(xj[others & (xj > hi[j])])
        candidates = []
        if below.size:
            candidates.append((0, float(below[max(0, below.size - k)])))
        if above.size:
            candidates.append((1, float(above[min(above.size, k) - 1])))
        for side, bound in candidates:
            grown = others & ((xj >= bound) & (xj <= hi[j]) if side == 0 else (xj >= lo[j]) & (xj <= bound))
            mean_new = y[grown].mean()
            if mean_new > mean_old and (best is None or mean_new > best[0]):
                best = (mean_new, j, side, bound, grown)
    return best


def _inputs(result: Any, condition: Any) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(result, pd.DataFrame):
        experiments = result.copy()
        lo, hi = experiments.min().to_numpy(float), experiments.max().to_numpy(float)
    elif hasattr(result, "experiments"):
        experiments = result.experiments
        args = result.provenance.details["call"]["arguments"]
        ranges = {s["name"]: (s["lower"], s["upper"]) for s in [*args["levers"], *args["uncertainties"]]}
        lo = np.array([ranges.get(c, (experiments[c].min(), 0))[0] for c in experiments.columns], float)
        hi = np.array([ranges.get(c, (0, experiments[c].max()))[1] for c in experiments.columns], float)
    else:
        raise SpecError(f"prim() needs a SweepResult or a DataFrame of experiments; got {type(result).__name__}.")
    n = len(experiments)
    if isinstance(condition, pd.Series):
        if len(condition) != n:
            raise SpecError(f"condition has {len(condition)} values for {n} scenarios; give one per scenario.")
        if not condition.index.equals(experiments.index):
            raise SpecError("condition's index is not the experiments' index; build it from the sweep's frames.")
        values = condition.to_numpy()
    elif isinstance(condition, np.ndarray):
        values = condition
    else:
        raise SpecError(f"condition must be a boolean pandas Series aligned with the experiments; got "
                        f"{type(condition).__name__}.")
    if values.dtype != bool:
        raise SpecError(f"condition must be boolean (e.g. result.indicators['net_jobs'] > 0); got dtype "
                        f"{values.dtype}.")
    if values.shape != (n,):
        raise SpecError(f"condition has shape {values.shape} for {n} scenarios; give one value per scenario.")
    if not values.any():
        raise SpecError("condition holds in no scenario; there is nothing for PRIM to find.")
    return experiments, np.array(values, dtype=float), lo, hi


def prim(result: Any, condition: Any, *, peel_alpha: float = 0.05, paste_alpha: float = 0.05,
         mass_min: float = 0.05, threshold: float | None = None) -> PrimResult:
    """Scenario discovery: the box of levers and uncertainties where ``condition`` holds.

    Parameters
    ----------
    result : SweepResult or pandas.DataFrame
        A sweep (its experiments are searched) or a frame of experiments.
    condition : pandas.Series of bool
        One value per scenario, aligned with ``result.experiments``.
    peel_alpha, paste_alpha : float, default 0.05
        Share of the box's points removed by one peel, added by one paste.
    mass_min : float, default 0.05
        Peeling stops before a box would hold less than this share of all scenarios.
    threshold : float, optional
        Select the first step whose density reaches it. By default the step with the largest coverage
        among those whose density is within 0.05 of the trajectory's highest density.

    Returns
    -------
    PrimResult

    References
    ----------
    Friedman and Fisher (1999), Bump hunting in high-dimensional data, Statistics and Computing 9(2),
    123-143; Bryant and Lempert (2010), Thinking inside the box, Technol. Forecast. Soc. Change 77(1), 34-49.
    """
    _check_alphas(peel_alpha, paste_alpha, mass_min)
    experiments, y, lo0, hi0 = _inputs(result, condition)
    steps = _steps(experiments.to_numpy(dtype=float), y, lo0, hi0, float(peel_alpha), float(paste_alpha),
                   max(1, math.ceil(mass_min * len(y))))
    trajectory = _trajectory(steps, y, lo0, hi0)
    step = _select_step(trajectory, threshold)
    return PrimResult(trajectory, np.array([s[1] for s in steps]), np.array([s[2] for s in steps]),
                      tuple(map(str, experiments.columns)), step)


def _check_alphas(peel_alpha: Any, paste_alpha: Any, mass_min: Any) -> None:
    for name, value, top in (("peel_alpha", peel_alpha, 0.5), ("paste_alpha", paste_alpha, 0.5),
                             ("mass_min", mass_min, 1.0)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < top:
            raise SpecError(f"{name}={plain(value)!r} is not valid; give a number in (0, {top:g}).")


_Step = tuple[str, np.ndarray, np.ndarray, np.ndarray]


def _steps(x: np.ndarray, y: np.ndarray, lo0: np.ndarray, hi0: np.ndarray, peel_alpha: float,
           paste_alpha: float, min_n: int) -> list[_Step]:
    """The boxes (kind, lower, upper, points inside) of the peeling then pasting trajectory."""
    lo, hi = lo0.copy(), hi0.copy()
    inbox = np.ones(len(y), bool)
    steps: list[_Step] = [("start", lo.copy(), hi.copy(), inbox)]
    while True:
        best = _peel(x, y, inbox, peel_alpha, min_n)
        if best is None:
            break
        _, j, side, bound, inbox = best
        (lo if side == 0 else hi)[j] = bound
        steps.append(("peel", lo.copy(), hi.copy(), inbox))
    while True:
        grown = _paste(x, y, lo, hi, inbox, paste_alpha)
        if grown is None:
            break
        _, j, side, bound, inbox = grown
        (lo if side == 0 else hi)[j] = bound
        steps.append(("paste", lo.copy(), hi.copy(), inbox))
    return steps


def _trajectory(steps: list[_Step], y: np.ndarray, lo0: np.ndarray, hi0: np.ndarray) -> pd.DataFrame:
    total = int(y.sum())
    rows = []
    for kind, slo, shi, mask in steps:
        coverage, density, mass = _stats(mask, y.astype(bool), total)
        rows.append({"kind": kind, "coverage": coverage, "density": density, "mass": mass,
                     "res_dim": int(((slo > lo0) | (shi < hi0)).sum())})
    return pd.DataFrame(rows, index=pd.RangeIndex(len(rows), name="step"))


def _select_step(trajectory: pd.DataFrame, threshold: float | None) -> int:
    density = trajectory["density"].to_numpy()
    if threshold is None:
        near = np.flatnonzero(density >= density.max() - 0.05)
        return int(near[np.argmax(trajectory["coverage"].to_numpy()[near])])
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise SpecError(f"threshold={plain(threshold)!r} is not valid; give a density in (0, 1].")
    reached = np.flatnonzero(density >= threshold)
    if not reached.size:
        raise SpecError(f"No step reaches density {threshold:g}; the highest is {density.max():.3f}. "
                        "Lower threshold or omit it.")
    return int(reached[0])
