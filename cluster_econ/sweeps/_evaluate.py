"""Evaluating one chunk of a sweep: its scenarios and their paired reference runs in one batch.

A :class:`Plan` holds everything a chunk needs (the compiled kernel, outputs, outcome and indicator
specs) and pickles, so a chunk can be evaluated in another process or on a Dask worker. A chunk's
result depends only on its own rows of the experiments, never on how the sweep is cut into chunks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _indicators

__all__ = ["Plan", "ResolvedOutcome", "concat_chunks", "default_chunk_size", "evaluate_chunk"]


@dataclasses.dataclass(frozen=True)
class ResolvedOutcome:
    """An outcome with its variable's Python name and subscript dimensions."""

    label: str
    variable: str
    time: float | str
    reduce: str | None
    dims: tuple[str, ...]

    @property
    def scalar(self) -> bool:
        return self.time != "all" and (self.reduce is not None or not self.dims)

    @property
    def out_dims(self) -> tuple[str, ...]:
        return (*(("time",) if self.time == "all" else ()), *(() if self.reduce else self.dims))


@dataclasses.dataclass(frozen=True)
class Plan:
    """What every chunk of a sweep runs (picklable)."""

    kernel: Any
    levers: tuple[str, ...]
    reference: Mapping[str, float]
    paired: bool
    outputs: tuple[str, ...]
    outcomes: tuple[ResolvedOutcome, ...]
    indicators: _indicators.IndicatorSpec | None
    label: str = ""
    coords: Mapping[str, list] = dataclasses.field(default_factory=dict)
    units: Mapping[str, str] = dataclasses.field(default_factory=dict)


def _integrate(kernel: Any, scenarios: pd.DataFrame, outputs: Sequence[str]) -> tuple[dict[str, np.ndarray],
                                                                                      np.ndarray]:
    """The one call into the batch engine: saved values (scenarios, time[, cells]) of ``outputs``."""
    ds = kernel.run(scenarios, outputs=list(outputs))
    return {k: np.asarray(ds[k].values) for k in outputs}, np.asarray(ds["time"].values, dtype=float)


#: working memory aimed at by the default chunk of a sweep (bytes)
CHUNK_BYTES = 256 * 2**20


def default_chunk_size(kernel: Any, paired: bool) -> int:
    """Scenarios per chunk so a chunk's working arrays (its reference runs included) stay near CHUNK_BYTES."""
    cells = sum(max(1, int(np.prod(kernel.shape_of(k), dtype=int))) for k in kernel.variables)
    cells += 4 * len(getattr(kernel, "statefuls", ()))
    return max(1, int(CHUNK_BYTES // (8 * 4 * max(cells, 1) * (2 if paired else 1))))


def _at(values: np.ndarray, times: np.ndarray, when: float | str) -> np.ndarray:
    if when == "all":
        return values
    if when == "final":
        return values[:, -1]
    k = int(np.searchsorted(times, float(when)))
    if times[k] == when:
        return values[:, k]
    w = (float(when) - times[k - 1]) / (times[k] - times[k - 1])
    return values[:, k - 1] + w * (values[:, k] - values[:, k - 1])


def _outcome(spec: ResolvedOutcome, values: np.ndarray, times: np.ndarray) -> np.ndarray:
    out = _at(values, times, spec.time)
    if spec.reduce and out.ndim > 1 + (spec.time == "all"):
        lead = 2 if spec.time == "all" else 1
        flat = out.reshape((*out.shape[:lead], -1))
        out = flat.sum(axis=-1) if spec.reduce == "sum" else flat.mean(axis=-1)
    return np.ascontiguousarray(out, dtype=float)


def evaluate_chunk(plan: Plan, rows: pd.DataFrame) -> dict[str, Any]:
    """Run one chunk of scenarios (and their reference runs) and reduce it to outcomes and indicators.

    Returns a dict with ``"times"``, ``"outcomes"`` (label -> array), ``"indicators"`` and
    ``"reasons"`` (name -> array over the chunk's scenarios).
    """
    m = len(rows)
    frame = rows.reset_index(drop=True)
    if plan.paired:
        reference = frame.copy()
        for name in plan.levers:
            reference[name] = float(plan.reference[name])
        frame = pd.concat([frame, reference], ignore_index=True)
    arrays, times = _integrate(plan.kernel, frame, plan.outputs)
    policy = {k: v[:m] for k, v in arrays.items()}
    outcomes = {o.label: _outcome(o, policy[o.variable], times) for o in plan.outcomes}
    indicators: dict[str, np.ndarray] = {}
    reasons: dict[str, np.ndarray] = {}
    if plan.paired and plan.indicators is not None:
        roles = plan.indicators.roles
        indicators, reasons = _indicators.compute(
            plan.indicators, {r: policy[v] for r, v in roles.items()}, {r: arrays[v][m:] for r, v in roles.items()},
            times)
    return {"times": times, "outcomes": outcomes, "indicators": indicators, "reasons": reasons}


def concat_chunks(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The chunks' results joined in scenario order."""
    first = parts[0]
    return {
        "times": first["times"],
        **{key: {k: np.concatenate([p[key][k] for p in parts]) for k in first[key]}
           for key in ("outcomes", "indicators", "reasons")},
    }
