"""The integration loops of a compiled kernel: Euler as PySD, classical RK4, and PySD's loop for
models whose TIME STEP, FINAL TIME or SAVEPER change during the run.

Times are generated step by step with PySD's own float operations; only the saved times are kept,
so the time grid is never built in memory. Saved values are written straight into preallocated
result arrays (which may be slices of the caller's arrays), so a chunk's memory is its working
arrays plus its share of the results.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["RPREC", "max_saved", "save_times", "steps_upper_bound"]

RPREC = 1e-5


def save_times(t0: float, tf: float, dt: float, sp: float) -> Iterator[tuple[float, bool, bool]]:
    """``(time, saved, last)`` for every time PySD visits (same float operations as PySD's loop)."""
    prec = dt * RPREC
    t = t0
    while True:
        in_bounds = t + dt * RPREC < tf
        delay = t - t0
        yield t, bool(delay % sp < prec or -delay % sp < prec), not in_bounds
        if not in_bounds:
            return
        t = t + dt


def steps_upper_bound(t0: float, tf: float, dt: float) -> int:
    """An upper bound of the number of times :func:`save_times` visits."""
    return max(1, math.floor((tf - t0) / dt * (1 + 1e-9)) + 2)


def max_saved(t0: float, tf: float, dt: float, sp: float) -> int:
    """An upper bound of the number of saved times (without visiting them)."""
    return min(steps_upper_bound(t0, tf, dt), max(1, math.floor((tf - t0) / sp * (1 + 1e-9)) + 2))


def _rk4(X: dict, k1: dict, t: float, dt: float, step: Callable, C: dict, params: dict, ctl: tuple,
         keys: list[str]) -> dict:
    def shifted(D: dict, h: float) -> dict:
        Y = dict(X)
        for k in keys:
            Y[k] = X[k] + D[k] * h
        return Y

    k2 = step(t + dt / 2, C, shifted(k1, dt / 2), params, *ctl)[1]
    k3 = step(t + dt / 2, C, shifted(k2, dt / 2), params, *ctl)[1]
    k4 = step(t + dt, C, shifted(k3, dt), params, *ctl)[1]
    new = dict(X)
    for k in keys:
        new[k] = X[k] + dt / 6 * (k1[k] + 2 * k2[k] + 2 * k3[k] + k4[k])
    return new


def integrate_fixed(functions: tuple, params: dict, n: int, names: list[str], shapes: dict[str, tuple],
                    control: dict, method: str, rk4_keys: list[str],
                    out: dict[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Integrate ``n`` scenarios on a fixed time grid; the saved values of ``names``, and the saved times.

    ``out`` may hold, per name, an array of shape ``(n, max_saved, *shape)`` to write into.
    """
    init, step, euler, _ = functions
    t0, tf, dt, sp = (control[k] for k in ("initial_time", "final_time", "time_step", "saveper"))
    prec = dt * RPREC
    digits = -int(np.log10(prec))
    rows = max_saved(t0, tf, dt, sp)
    ctl = (t0, dt, tf, sp)
    with np.errstate(all="ignore"):  # non-finite results are reported from the outputs, after the run
        C, X = init(params, n, t0, dt, tf, sp)
        fixed = [k for k in names if k in C or k in control]  # constant in time: stored once below
        moving = [k for k in names if k not in fixed]
        dest = {k: (out[k] if out is not None and k in out else np.empty((n, rows, *shapes[k]))) for k in names}
        saved: list[float] = []
        for t, flag, last in save_times(t0, tf, dt, sp):
            V, D = step(t, C, X, params, *ctl)
            if flag:
                j = len(saved)
                for k in moving:
                    dest[k][:, j] = V[k]
                saved.append(float(np.round(t, digits)))
            if last:
                break
            X = euler(X, D, dt) if method == "euler" else _rk4(X, D, t, dt, step, C, params, ctl, rk4_keys)
    count = len(saved)
    for k in fixed:
        value = np.asarray(C[k] if k in C else control[k], dtype=float)
        value = value.reshape((*value.shape[:1], 1, *value.shape[1:])) if value.ndim else value
        dest[k][:, :count] = np.broadcast_to(value, (n, count, *shapes[k]))
    return {k: v[:, :count] for k, v in dest.items()}, np.asarray(saved)


def integrate_dynamic(functions: tuple, params: dict, n: int, names: list[str], shapes: dict[str, tuple],
                      control: dict) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Euler integration when TIME STEP, FINAL TIME or SAVEPER change during the run (PySD's loop)."""
    init, step, euler, ctl = functions
    t0 = control["initial_time"]
    given = {k: control[k] for k in ("time_step", "final_time", "saveper") if np.isfinite(control[k])}

    def controls(t: float, C: dict, X: dict, dt: Any, tf: Any, sp: Any) -> tuple:
        dt, tf, sp = ctl(t, C, X, params, t0, dt, tf, sp)
        return given.get("time_step", dt), given.get("final_time", tf), given.get("saveper", sp)

    nan = float("nan")
    series: dict[str, list] = {k: [] for k in names}
    saved: list[float] = []
    with np.errstate(all="ignore"):  # non-finite results are reported from the outputs, after the run
        C, X = init(params, n, t0, nan, nan, nan)
        dt, tf, sp = controls(t0, C, X, nan, nan, nan)
        C, X = init(params, n, t0, dt, tf, sp)
        t = t0
        while True:
            dt, tf, sp = controls(t, C, X, dt, tf, sp)
            V, D = step(t, C, X, params, t0, dt, tf, sp)
            prec = dt * RPREC
            delay = t - t0
            if delay % sp < prec or -delay % sp < prec:
                for k in names:
                    series[k].append(V[k] if k in V else C[k])
                saved.append(float(np.round(t, -int(np.log10(prec)))))
            if not t + dt * RPREC < tf:
                break
            X = euler(X, D, dt)
            t = t + dt
    out = {k: np.array(np.broadcast_to(np.stack([np.asarray(v, dtype=float).reshape((-1, *shapes[k]))
                                                 for v in series[k]], axis=1), (n, len(saved), *shapes[k])))
           for k in names}
    return out, np.asarray(saved)
