"""Indirect inference: parameters that make a regression on simulated panels match it on the real panel.

References
----------
Gourieroux, C., Monfort, A. and Renault, E. (1993). Indirect inference. Journal of Applied
Econometrics 8(S1), S85-S118.
Smith, A. A. (1993). Estimating nonlinear time-series models using simulated vector
autoregressions. Journal of Applied Econometrics 8(S1), S63-S84.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from cluster_econ.errors import ClusterEconError, SpecError

from ._evaluate import Evaluator, loss_residuals
from ._fitstats import FIT_COLUMNS, fit_table
from ._optimize import central_jacobian, fit_many
from ._result import CalibrationResult, build_provenance
from ._spec import Problem, observations_frame

__all__ = ["calibrate_indirect"]

logger = logging.getLogger(__name__)


def _moments_of(result: Any, where: str) -> tuple[pd.Series, pd.DataFrame]:
    params, cov = getattr(result, "params", None), getattr(result, "cov", None)
    if not isinstance(params, pd.Series) or not isinstance(cov, pd.DataFrame):
        raise SpecError(f"moments must return an EstimationResult (params and cov); on the {where} panel it "
                        f"returned {type(result).__name__}.")
    return params.astype(float), cov.astype(float)


def _noise(problem: Problem, resid: np.ndarray, n_sim: int, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Log-noise draws (n_sim, n_obs): AR(1) within each region and target, sd and rho from ``resid``.

    Drawn once from the seed (common random numbers), so the objective is smooth in the parameters.
    """
    rng = np.random.default_rng([seed, 3])
    z = rng.standard_normal((n_sim, len(problem.observed)))
    out = np.zeros_like(z)
    rows = []
    for k, target in enumerate(problem.targets):
        mask = (problem.obs_target == k) & problem.in_fit
        e = resid[mask]
        groups, times = problem.obs_group[mask], problem.obs_time[mask]
        order = np.lexsort((times, groups))
        e, g = e[order], groups[order]
        same = g[1:] == g[:-1]
        num, den = float(np.sum(e[1:][same] * e[:-1][same])), float(np.sum(e[:-1][same] ** 2))
        rho = float(np.clip(num / den, -0.95, 0.95)) if den > 0 else 0.0
        sigma = float(np.std(e))
        rows.append({"target": target.variable, "sigma": sigma, "rho": rho})
        idx = np.flatnonzero(problem.obs_target == k)
        idx = idx[np.lexsort((problem.obs_time[idx], problem.obs_group[idx]))]
        for j, i in enumerate(idx):
            prev = idx[j - 1] if j > 0 and problem.obs_group[idx[j - 1]] == problem.obs_group[i] else None
            shock = z[:, i] * np.sqrt(1 - rho**2) if prev is not None else z[:, i]
            out[:, i] = (rho * out[:, prev] if prev is not None else 0.0) + shock
        out[:, problem.obs_target == k] *= sigma
    return out, pd.DataFrame(rows)


class _Moments:
    """The estimator run on simulated panels built from simulated rows (one per parameter set)."""

    def __init__(self, problem: Problem, panel: Any, moments: Callable[[Any], Any], noise: np.ndarray,
                 observed: pd.Series, chol: np.ndarray):
        self.problem, self.moments, self.noise = problem, moments, noise
        self.observed, self.chol = observed, chol
        keep = problem.in_fit
        frame = panel.frame
        if not keep.all():  # the holdout periods are left out of every panel, real and simulated
            held = np.unique(problem.times[problem.obs_time[~keep]])
            frame = frame[~frame.index.get_level_values(1).isin(held)]
        self.frame, self.panel = frame, panel
        self.columns = [t.column for t in problem.targets]
        idx = pd.MultiIndex.from_arrays([np.asarray(problem.groups, dtype=object)[problem.obs_group[keep]],
                                         problem.times[problem.obs_time[keep]].astype(frame.index.levels[1].dtype)])
        self.positions = frame.index.get_indexer(idx)
        self.column_of = np.asarray([frame.columns.get_loc(c) for c in self.columns])[problem.obs_target[keep]]
        self.keep = keep

    def simulated_panel(self, row: np.ndarray, h: int) -> Any:
        from cluster_econ.data import RegionalPanel

        values = self.frame.to_numpy(dtype=float, copy=True)
        sim = row[self.keep] * np.exp(self.noise[h, self.keep])
        values[self.positions, self.column_of] = sim
        frame = pd.DataFrame(values, index=self.frame.index, columns=self.frame.columns).reset_index()
        p = self.panel
        return RegionalPanel._build(frame, entity=p.entity, time=p.time, units=dict(p.units), dropna=False,
                                    name=f"{p.name or 'panel'} (simulated)", stacklevel=2, warn_missing=False)

    def mean_estimates(self, row: np.ndarray) -> np.ndarray:
        if not np.isfinite(row).all() or (row <= 0).any():
            return np.full(len(self.observed), np.nan)
        draws = []
        for h in range(self.noise.shape[0]):
            try:
                params, _ = _moments_of(self.moments(self.simulated_panel(row, h)), "simulated")
            except (ClusterEconError, ValueError, np.linalg.LinAlgError) as err:  # a degenerate simulated panel
                logger.debug("moments failed on a simulated panel: %s", err)
                return np.full(len(self.observed), np.nan)
            draws.append(params.reindex(self.observed.index).to_numpy())
        return np.mean(draws, axis=0)

    def residuals(self, rows: np.ndarray) -> np.ndarray:
        beta = np.vstack([self.mean_estimates(row) for row in rows])
        return (beta - self.observed.to_numpy()) @ self.chol


def calibrate_indirect(problem: Problem, evaluator: Evaluator, moments: Callable[[Any], Any],
                       call: Mapping[str, Any], *, n_sim: int, n_starts: int, seed: int, max_nfev: int | None,
                       progress: bool, cov_type: str) -> CalibrationResult:
    """Indirect inference with the moments' own covariance as weight: V = (1 + 1/H) (D' S^-1 D)^-1."""
    from ._calibrate import _check_start, _residual_function, _starts, _starts_frame, _target_weights

    if cov_type == "bootstrap":
        raise SpecError("cov_type='bootstrap' is not available with method='indirect'; its covariance comes from "
                        "the moments' own covariance (cov_type of the estimator, clustered by default).")
    panel = call["panel"]
    starts = _starts(problem, n_starts, seed)
    rows = evaluator.simulate(problem.to_natural(starts))
    _check_start(problem, rows[0])
    mask = problem.in_fit
    # pilot trajectory fit: the noise of the simulated panels is what the model leaves unexplained
    e0 = loss_residuals(rows[0, mask], problem.observed[mask], "log")
    sqrt_w = np.sqrt(_target_weights(problem, "variance", e0)[problem.obs_target[mask]])
    pilot = fit_many([_residual_function(problem, sqrt_w)], starts[:1], evaluator.simulate_scaled,
                     penalty=1e6, max_nfev=max_nfev)[0]
    pilot_row = evaluator.simulate_scaled(pilot.u[None, :])[0]
    noise, noise_table = _noise(problem, loss_residuals(pilot_row, problem.observed, "log"), n_sim, seed)
    builder = _Moments(problem, panel, moments, noise, pd.Series(dtype=float), np.eye(1))
    real_panel = panel
    if not mask.all():
        from cluster_econ.data import RegionalPanel

        real_panel = RegionalPanel._build(builder.frame.reset_index(), entity=panel.entity, time=panel.time,
                                          units=dict(panel.units), dropna=False, name=panel.name, stacklevel=2,
                                          warn_missing=False, provenance=panel.provenance)
    real_result = moments(real_panel)
    observed, sigma = _moments_of(real_result, "real")
    if len(observed) < problem.n_params:
        raise SpecError(f"moments gives {len(observed)} estimates for {problem.n_params} parameters; indirect "
                        "inference needs at least as many estimates as parameters.")
    s = sigma.loc[observed.index, observed.index].to_numpy()
    values, vectors = np.linalg.eigh((s + s.T) / 2)
    keep = values > 1e-12 * values.max()
    chol = vectors[:, keep] / np.sqrt(values[keep])  # r'r = d' S^-1 d for d = simulated - observed estimates
    builder = _Moments(problem, panel, moments, noise, observed, chol)
    r0 = builder.residuals(rows[:1])[0]
    penalty = 1e4 * max(1.0, float(np.max(np.abs(r0[np.isfinite(r0)]))) if np.isfinite(r0).any() else 1.0)
    fits = fit_many([builder.residuals] * n_starts, starts, evaluator.simulate_scaled, penalty=penalty,
                    max_nfev=max_nfev, progress=progress, desc="indirect inference")
    best = int(np.argmin([f.cost for f in fits]))
    final = fits[best]
    _, jac_u, row_hat = central_jacobian(builder.residuals, evaluator.simulate_scaled, final.u)
    jac = jac_u / (problem.upper - problem.lower)
    cov = (1 + 1 / n_sim) * np.linalg.pinv(jac.T @ jac)
    from ._calibrate import _identification

    cov = _identification(problem, jac_u, cov, cov)
    estimates = problem.to_natural(final.u)
    simulated = builder.mean_estimates(row_hat)
    moment_frame = pd.DataFrame({"term": observed.index.astype(str), "observed": observed.to_numpy(),
                                 "simulated": simulated, "difference": simulated - observed.to_numpy(),
                                 "std_error": np.sqrt(np.diag(sigma.loc[observed.index, observed.index]))})
    obs = observations_frame(problem)
    residuals = obs.assign(observed=problem.observed, simulated=row_hat,
                           residual=loss_residuals(row_hat, problem.observed, problem.loss), weight=1.0,
                           sample=np.where(mask, "fit", "holdout"))
    names = [t.variable for t in problem.targets]
    fit_frame = fit_table(residuals[residuals["sample"] == "fit"], names)
    holdout_frame = fit_table(residuals[residuals["sample"] == "holdout"], names) if (~mask).any() else \
        pd.DataFrame(columns=FIT_COLUMNS, index=pd.Index([], name="target"))
    call = dict(call)
    described = _describe(real_result)
    call["moments"] = {**described, "terms": [str(t) for t in observed.index]}
    extra = { "noise": noise_table.to_dict("list"),
             "n_sim": n_sim}
    provenance = build_provenance(problem, call, estimates, cov_type=cov_type, method="indirect", extra=extra)
    if not final.converged:
        import warnings

        from cluster_econ.errors import ConvergenceWarning

        warnings.warn(f"Indirect inference did not converge ({final.message}); the result has converged=False.",
                      ConvergenceWarning, stacklevel=3)
    return CalibrationResult._create(
        problem=problem, estimates=estimates, cov=cov, df_inference=None, fit=fit_frame, holdout_fit=holdout_frame,
        residuals=residuals, converged=final.converged, n_evaluations=evaluator.n_evaluations,
        starts=_starts_frame(problem, starts, fits, best), weights=np.ones(len(names)), cov_type=cov_type,
        method="indirect", bootstrap=None, n_boot_failed=0, provenance=provenance, cost=final.cost,
        moments=moment_frame)


def _describe(result: Any) -> dict[str, Any]:
    """Estimator, formula and options of the moments, from the provenance of their result on the real panel."""
    details = dict(getattr(getattr(result, "provenance", None), "details", {}) or {})
    return {k: v for k, v in details.items() if isinstance(v, str | int | float | bool | list | tuple | type(None))}
