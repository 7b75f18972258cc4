"""Model evaluations for calibration: many parameter sets in one batch run of the compiled kernel."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ._spec import Problem

__all__ = ["Evaluator", "loss_residuals", "run_kernel"]

logger = logging.getLogger(__name__)

#: working memory aimed at per chunk of scenarios (bytes)
_CHUNK_BYTES = 256 * 2**20


def run_kernel(model: Any, frame: pd.DataFrame, *, outputs: list[str], final_time: float,
               saveper: float) -> tuple[Any, dict[str, np.ndarray], np.ndarray]:
    """Run a scenario frame through the batch engine: the only place calibration calls the engine.

    Returns the compiled model, each output as an array ``(scenario, time, region)`` and the saved times.
    """
    from cluster_econ.errors import NumericalWarning
    from cluster_econ.sd.engine import compile_model

    compiled = compile_model(model)
    try:
        cells = sum(max(1, int(np.prod(compiled.shape_of(k), dtype=int))) for k in compiled.variables)
    except Exception:  # the kernel's layout is an implementation detail: fall back to one chunk
        cells = 0
    size = max(1, int(_CHUNK_BYTES // (8 * 4 * max(cells, 1)))) if cells else len(frame)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in outputs}
    times = np.empty(0)
    for start in range(0, len(frame), size):
        with warnings.catch_warnings():
            # a trial point whose trajectories are not finite is rejected by the objective (a large loss), and
            # a non-finite start is a CalibrationError naming the parameters: the engine's warning adds nothing
            warnings.simplefilter("ignore", NumericalWarning)
            data = compiled.run(frame.iloc[start:start + size], final_time=final_time, saveper=saveper,
                                outputs=outputs)
        times = np.asarray(data["time"].values, dtype=float)
        for k in outputs:
            array = data[k]
            parts[k].append(array.transpose("scenario", "time", *[d for d in array.dims
                                                                   if d not in ("scenario", "time")]).values)
    return compiled, {k: np.concatenate(v, axis=0) for k, v in parts.items()}, times


def loss_residuals(simulated: np.ndarray, observed: np.ndarray, loss: str) -> np.ndarray:
    """Residuals in the space of the loss: log(sim) - log(obs), sim - obs, or (sim - obs) / obs.

    Non-finite where the simulation is non-finite (or, for the log loss, not positive).
    """
    with np.errstate(all="ignore"):
        if loss == "log":
            sim = np.where(simulated > 0, simulated, np.nan)
            return np.log(sim) - np.log(observed)
        if loss == "relative":
            return (simulated - observed) / np.abs(observed)
        return simulated - observed


class Evaluator:
    """Simulated values of every observation for many parameter sets at once.

    Parameters are given on their natural scale, one row per parameter set; all rows are integrated
    together by the vectorised engine. ``n_evaluations`` counts the parameter sets simulated.
    """

    def __init__(self, problem: Problem):
        self.problem = problem
        self.outputs = [t.variable for t in problem.targets]
        self.n_evaluations = 0
        self.n_batches = 0
        self._time_rows: np.ndarray | None = None

    def simulate_scaled(self, points: np.ndarray) -> np.ndarray:
        """:meth:`simulate` of parameters scaled to their bounds (0 = lower, 1 = upper)."""
        return self.simulate(self.problem.to_natural(np.atleast_2d(points)))

    def simulate(self, points: np.ndarray) -> np.ndarray:
        """Simulated values in data units, shape ``(len(points), n_obs)``."""
        p = self.problem
        points = np.atleast_2d(np.asarray(points, dtype=float))
        frame = pd.DataFrame(points, columns=list(p.names))
        for name, value in p.fixed.items():
            frame[name] = value
        _, arrays, times = run_kernel(p.model, frame, outputs=self.outputs, final_time=p.final_time,
                                      saveper=p.saveper)
        if self._time_rows is None:
            rows = np.searchsorted(times, p.times - 1e-6)
            rows = np.minimum(rows, len(times) - 1)
            if not np.allclose(times[rows], p.times, atol=1e-6):
                raise RuntimeError(f"saved times {times} do not include the panel times {p.times}")
            self._time_rows = rows
        out = np.empty((len(points), len(p.observed)))
        region = p.group_region[p.obs_group]
        time = self._time_rows[p.obs_time]
        for k, target in enumerate(p.targets):
            mask = p.obs_target == k
            out[:, mask] = target.scale * arrays[target.variable][:, time[mask], region[mask]]
        self.n_evaluations += len(points)
        self.n_batches += 1
        logger.debug("evaluated %d parameter sets", len(points))
        return out
