"""Bounded nonlinear least squares on scaled parameters, with Jacobians from batched finite differences."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import least_squares

from ._lockstep import Request, run_lockstep

__all__ = ["Fit", "Objective", "central_jacobian", "fit_many"]

#: forward-difference step on parameters scaled to [0, 1] (about sqrt of machine epsilon)
FORWARD_STEP = 1e-7
#: central-difference step for the Jacobian the covariance uses
CENTRAL_STEP = 1e-5
TOLERANCE = 1e-10

Residuals = Callable[[np.ndarray], np.ndarray]  # rows of simulated values -> rows of weighted residuals


@dataclasses.dataclass
class Fit:
    """The outcome of one least-squares run (scaled parameters)."""

    u: np.ndarray
    cost: float
    status: int
    nfev: int
    message: str
    finite_start: bool

    @property
    def converged(self) -> bool:
        return self.status > 0


class Objective:
    """Weighted residuals ``r(u)`` of one fit, and their Jacobian from the same batch run.

    Every call of :meth:`fun` evaluates ``u`` and its ``p`` forward-difference neighbours together, so
    the Jacobian least_squares asks for next comes at no extra run. Rows that are not finite become a
    large constant residual (the point is rejected, never a crash).
    """

    def __init__(self, residuals: Residuals, request: Request, n_params: int, penalty: float):
        self.residuals = residuals
        self.request = request
        self.p = n_params
        self.penalty = penalty
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _penalised(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = self.residuals(rows)
        finite = np.asarray(np.isfinite(r).all(axis=1))
        r = np.where(finite[:, None], r, self.penalty)
        return r, finite

    def fun(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        if self._cache is not None and np.array_equal(self._cache[0], u):
            return self._cache[1]
        steps = np.where(u + FORWARD_STEP <= 1.0, FORWARD_STEP, -FORWARD_STEP)
        points = np.vstack([u, u + np.diag(steps)])
        r, finite = self._penalised(self.request(points))
        jac = (r[1:] - r[0]).T / steps
        bad = np.flatnonzero(~finite[1:])
        if finite[0] and bad.size:  # a neighbour failed: difference on the other side
            back = u - np.diag(steps)[bad]
            rb, fb = self._penalised(self.request(back))
            for j, row, ok in zip(bad, rb, fb, strict=True):
                jac[:, j] = (r[0] - row) / steps[j] if ok else 0.0
        self._cache = (u.copy(), r[0], jac)
        return r[0]

    def jac(self, u: np.ndarray, *args: object) -> np.ndarray:
        if self._cache is None or not np.array_equal(self._cache[0], u):
            self.fun(u)
        assert self._cache is not None  # set by fun()
        return self._cache[2]


def central_jacobian(residuals: Residuals, evaluate: Callable[[np.ndarray], np.ndarray],
                     u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residuals at ``u``, their central-difference Jacobian (2p + 1 points, one batch) and the row at ``u``.

    Near a bound the step is cut at the bound (a one-sided difference with the same step).
    """
    p = len(u)
    up = np.minimum(u + CENTRAL_STEP, 1.0)
    down = np.maximum(u - CENTRAL_STEP, 0.0)
    points = np.vstack([u, np.tile(u, (p, 1)) + np.diag(up - u), np.tile(u, (p, 1)) + np.diag(down - u)])
    rows = evaluate(points)
    r = residuals(rows)
    jac = (r[1:p + 1] - r[p + 1:]).T / (up - down)
    return r[0], jac, rows[0]


def _solve(residuals: Residuals, request: Request, u0: np.ndarray, penalty: float, max_nfev: int | None,
           tol: float = TOLERANCE) -> Fit:
    objective = Objective(residuals, request, len(u0), penalty)
    r0 = objective.fun(u0)
    if np.all(r0 == penalty):
        return Fit(u0, np.inf, -10, 1, "the start point does not simulate to finite values", False)
    out = least_squares(objective.fun, u0, jac=objective.jac, bounds=(0.0, 1.0), method="trf", x_scale=1.0,
                        ftol=tol, xtol=tol, gtol=tol, max_nfev=max_nfev)
    return Fit(np.clip(out.x, 0.0, 1.0), float(out.cost), int(out.status), int(out.nfev), str(out.message), True)


def fit_many(residual_functions: Sequence[Residuals], starts: np.ndarray, evaluate: Callable[[np.ndarray], np.ndarray],
             *, penalty: float, max_nfev: int | None, progress: bool = False, desc: str = "",
             tol: float = TOLERANCE) -> list[Fit]:
    """One least-squares fit per (residual function, start), all advanced in lockstep."""
    def task(f: Residuals, u0: np.ndarray) -> Callable[[Request], Fit]:
        return lambda request: _solve(f, request, np.asarray(u0, dtype=float), penalty, max_nfev, tol)

    tasks = [task(f, u0) for f, u0 in zip(residual_functions, starts, strict=True)]
    return run_lockstep(tasks, evaluate, progress=progress, desc=desc)
