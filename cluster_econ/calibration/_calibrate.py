"""``calibrate``: fit a stock-and-flow model's parameters to a regional panel."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from cluster_econ.errors import (
    CalibrationError,
    ConvergenceWarning,
    IdentificationWarning,
    SpecError,
    check_option,
    find_stack_level,
    plain,
)
from cluster_econ.typing import CalibrationCovType as CovType
from cluster_econ.typing import CalibrationMethod as Method
from cluster_econ.typing import Loss, Weights

from . import _covariance as cv
from ._evaluate import Evaluator, loss_residuals
from ._fitstats import FIT_COLUMNS, fit_table
from ._optimize import Fit, central_jacobian, fit_many
from ._result import CalibrationResult, build_provenance
from ._spec import Problem, build_problem, number, observations_frame

__all__ = ["CovType", "Loss", "Method", "calibrate"]

logger = logging.getLogger(__name__)


#: tolerance of the bootstrap refits: their spread, not their last digits, makes the standard errors
BOOTSTRAP_TOLERANCE = 1e-7
_SAME_COST = 1e-6   # relative cost difference of starts counted as reaching the same optimum
_SAME_POINT = 1e-4  # and largest difference of their scaled parameters


def _target_weights(problem: Problem, weights: Any, resid: np.ndarray) -> np.ndarray:
    """One weight per target: inverse residual variance (``"variance"``) or as given."""
    names = [t.variable for t in problem.targets]
    mask = problem.in_fit
    if isinstance(weights, str):
        check_option(weights, Weights, "weights")
        out = []
        for k in range(len(names)):
            e = resid[problem.obs_target[mask] == k]
            floor = 1e-16 if problem.loss != "level" else 1e-16 * float(np.mean(problem.observed[mask][
                problem.obs_target[mask] == k] ** 2))
            out.append(1.0 / max(float(np.var(e)), floor))
        return np.asarray(out)
    if not isinstance(weights, Mapping):
        raise SpecError(f"weights must be 'variance' or a mapping target -> weight; got {weights!r}.")
    columns = {t.column: t.variable for t in problem.targets}
    resolved = {}
    for key, value in weights.items():
        name = columns.get(key, key)
        if name not in names:
            name = problem.model.resolve(key, what="variable")
        if name not in names:
            raise SpecError(f"weights names {key!r}, which is not a target; targets are {names}.")
        resolved[name] = float(value)
    missing = [n for n in names if n not in resolved]
    if missing:
        raise SpecError(f"weights gives no weight for targets {missing}; give one for every target.")
    bad = {k: v for k, v in resolved.items() if not (np.isfinite(v) and v > 0)}
    if bad:
        raise SpecError(f"weights must be positive and finite; got {bad}.")
    return np.asarray([resolved[n] for n in names])


def _check_start(problem: Problem, row: np.ndarray) -> None:
    """CalibrationError if the start does not simulate to finite values; SpecError for log of <= 0."""
    if not np.isfinite(row).all():
        values = ", ".join(f"{n}={plain(v)!r}" for n, v in zip(problem.names, problem.start, strict=True))
        fixed = ", ".join(f"{n}={plain(v)!r}" for n, v in problem.fixed.items())
        raise CalibrationError(
            f"The start values ({values}{'; fixed ' + fixed if fixed else ''}) simulate to non-finite values of "
            f"{sorted({problem.targets[k].variable for k in problem.obs_target[~np.isfinite(row)]})}; start "
            "from values that simulate (start=...) or change fixed values.")
    if problem.loss == "log" and (row <= 0).any():
        j = int(np.flatnonzero(row <= 0)[0])
        target = problem.targets[problem.obs_target[j]]
        raise SpecError(
            f"loss='log' needs positive simulated values, but {target.variable!r} is {plain(row[j])!r} for region "
            f"{problem.groups[problem.obs_group[j]]!r} at time {number(problem.times[problem.obs_time[j]])!r} at "
            "the start values; use loss='level' or other start values.")


def _residual_function(problem: Problem, sqrt_w: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    mask = problem.in_fit
    observed = problem.observed[mask]

    def residuals(rows: np.ndarray) -> np.ndarray:
        return sqrt_w * loss_residuals(rows[:, mask], observed, problem.loss)
    return residuals


def _starts(problem: Problem, n_starts: int, seed: int) -> np.ndarray:
    first = problem.to_scaled(problem.start)[None, :]
    if n_starts == 1:
        return first
    sampler = qmc.LatinHypercube(d=problem.n_params, seed=np.random.default_rng([seed, 1]))
    return np.vstack([first, sampler.random(n_starts - 1)])


def _starts_frame(problem: Problem, starts: np.ndarray, fits: list[Fit], best: int) -> pd.DataFrame:
    x = problem.to_natural(np.vstack([f.u for f in fits]))
    frame = pd.DataFrame(x, columns=list(problem.names))
    frame.insert(0, "start", range(len(fits)))
    frame.insert(1, "origin", ["model values"] + ["latin hypercube"] * (len(fits) - 1))
    frame["cost"] = [f.cost for f in fits]
    frame["converged"] = [f.converged for f in fits]
    frame["nfev"] = [f.nfev for f in fits]
    frame["finite_start"] = [f.finite_start for f in fits]
    ref = fits[best]
    frame["same_optimum"] = [bool(np.isfinite(f.cost) and abs(f.cost - ref.cost) <= _SAME_COST * max(ref.cost, 1e-300)
                                  + 1e-300 and np.max(np.abs(f.u - ref.u)) <= _SAME_POINT) for f in fits]
    frame["best"] = frame["start"] == best
    for j, name in enumerate(problem.names):
        frame[f"start_{name}"] = problem.to_natural(starts)[:, j]
    return frame


def _bootstrap(problem: Problem, evaluator: Evaluator, sqrt_w: np.ndarray, u_hat: np.ndarray, n_boot: int,
               seed: int, penalty: float, max_nfev: int | None, progress: bool) -> tuple[np.ndarray, int]:
    """Region block bootstrap: every resample refitted from the estimate, all in lockstep batches."""
    rng = np.random.default_rng([seed, 2])
    n_groups = len(problem.groups)
    draws = rng.integers(0, n_groups, size=(n_boot, n_groups))
    groups = problem.obs_group[problem.in_fit]
    functions = []
    for draw in draws:
        counts = np.bincount(draw, minlength=n_groups).astype(float)
        functions.append(_residual_function(problem, sqrt_w * np.sqrt(counts[groups])))
    fits = fit_many(functions, np.tile(u_hat, (n_boot, 1)), evaluator.simulate_scaled, penalty=penalty,
                    max_nfev=max_nfev, progress=progress, desc="bootstrap refits", tol=BOOTSTRAP_TOLERANCE)
    return problem.to_natural(np.vstack([f.u for f in fits])), sum(not f.converged for f in fits)


def _model_of(model: Any) -> Any:
    from cluster_econ.sd import SDModel, load_model

    if isinstance(model, SDModel):
        return model
    if isinstance(model, str | Path):
        return load_model(model)
    raise SpecError(f"model must be an SDModel (ce.load_model), a registered model id or a model file; got "
                    f"{type(model).__name__}.")


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise SpecError(f"{name}={plain(value)!r} is not valid; give an integer >= {minimum}.")
    return int(value)


def calibrate(model: Any, panel: Any, *, targets: Mapping[str, Any], parameters: Any, fixed: Any = None,
              loss: Loss = "log", weights: Any = "variance", cov_type: CovType = "clustered",
              holdout: tuple[int, int] | None = None, n_starts: int = 1, seed: int = 0, progress: bool = False,
              method: Method = "trajectory", moments: Callable[[Any], Any] | None = None, n_boot: int = 199,
              n_sim: int = 10, start: Mapping[str, float] | None = None,
              max_nfev: int | None = None) -> CalibrationResult:
    """Calibrate a stock-and-flow model to a regional panel by bounded nonlinear least squares.

    The model's regions are matched to the panel's entities by name (ignoring case, spaces and
    punctuation) and its saved times to the panel's periods; the model runs from its initial time.
    Parameters are scaled to their bounds and fitted with ``scipy.optimize.least_squares`` (trust
    region reflective); each Jacobian (p + 1 parameter sets), all starts of a multi-start and all
    bootstrap refits are integrated together by the vectorised batch engine.

    Parameters
    ----------
    model : SDModel or str or pathlib.Path
        The model (``ce.load_model``), a registered id, or a ``.mdl`` / XMILE file.
    panel : RegionalPanel
        The data (``ce.load_dataset("us_states")`` or ``RegionalPanel.from_frame``).
    targets : mapping
        Model variable -> panel column, or -> ``(column, scale)`` with ``scale`` converting model
        units to data units (required when the units differ), e.g. ``{"output": "gsp"}``.
    parameters : sequence of str or mapping
        Names to fit (bounds from ``model.toml``), or name -> ``(lower, upper)``.
    fixed : mapping or object with ``to_params()``, optional
        Values held fixed for this fit (e.g. :func:`parameters_from_estimates`).
    loss : {"log", "level", "relative"}, default "log"
        Residual: log simulated minus log observed, simulated minus observed, or that over observed.
    weights : "variance" or mapping, default "variance"
        ``"variance"`` weights each target by the inverse of its residual variance (from the start
        values, then once more from the first fit, which is refitted); or target -> weight.
    cov_type : {"clustered", "unadjusted", "bootstrap"}, default "clustered"
        Sandwich covariance clustered by region (residuals of a trajectory are autocorrelated within
        a region), the iid formula, or a region block bootstrap (``n_boot`` refits, seeded).
    holdout : (first, last), optional
        Periods left out of the fit and reported in ``holdout_fit``.
    n_starts : int, default 1
        Starts: the model's values plus ``n_starts - 1`` Latin-hypercube points within the bounds.
    seed : int, default 0
        Seed of the Latin hypercube, the bootstrap and the simulated noise of indirect inference.
    progress : bool, default False
        Progress bars over batch rounds.
    method : {"trajectory", "indirect"}, default "trajectory"
        Fit trajectories, or indirect inference on ``moments`` (see Notes).
    moments : callable, optional
        For ``method="indirect"``: panel -> EstimationResult, e.g.
        ``lambda p: ce.panel_ols("log(gsp) ~ lag(log(gsp))", p, effects=("entity",))``.
    n_boot : int, default 199
        Bootstrap resamples (``cov_type="bootstrap"``).
    n_sim : int, default 10
        Simulated panels per parameter set (``method="indirect"``).
    start : mapping, optional
        Start values of fitted parameters (default: the model's values, or the middle of the bounds).
    max_nfev : int, optional
        Most evaluations of each least-squares run (default: scipy's, 100 per parameter).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    UnknownNameError
        Unknown target variable, panel column or parameter; panel entities matching no model region.
    SpecError
        Invalid bounds or options, fixed values outside bounds, panel times off the model's grid or
        horizon, non-positive data with ``loss="log"``, units that differ without a scale.
    CalibrationError
        The start values do not simulate to finite values.

    Warns
    -----
    ConvergenceWarning
        The optimiser stopped at ``max_nfev`` (``converged`` is False).
    IdentificationWarning
        A rank-deficient Jacobian, or estimates correlated above 0.95 (naming the parameters).

    Notes
    -----
    Indirect inference (Gourieroux, Monfort and Renault 1993; Smith 1993) chooses the parameters so
    that ``moments`` run on simulated panels reproduces its estimates on the real panel; the
    simulated panels carry multiplicative AR(1) noise drawn once (common random numbers).

    References
    ----------
    Cameron, A. C. and Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
    Journal of Human Resources 50(2), 317-372.
    Gourieroux, C., Monfort, A. and Renault, E. (1993). Indirect inference. Journal of Applied
    Econometrics 8(S1), S85-S118.
    Smith, A. A. (1993). Estimating nonlinear time-series models using simulated vector
    autoregressions. Journal of Applied Econometrics 8(S1), S63-S84.
    Sterman, J. D. (1984). Appropriate summary statistics for evaluating the historical fit of
    system dynamics models. Dynamica 10(2), 51-66.
    """
    check_option(loss, Loss, "loss")
    check_option(cov_type, CovType, "cov_type")
    check_option(method, Method, "method")
    n_starts = _check_int(n_starts, "n_starts", 1)
    n_boot = _check_int(n_boot, "n_boot", 2)
    seed = _check_int(seed, "seed", 0)
    if max_nfev is not None:
        max_nfev = _check_int(max_nfev, "max_nfev", 1)
    if method == "indirect" and moments is None:
        raise SpecError("method='indirect' needs moments=, a function of a panel returning an EstimationResult.")
    if method == "trajectory" and moments is not None:
        raise SpecError("moments= is used by method='indirect' only; add method='indirect' or drop moments=.")
    sd_model = _model_of(model)
    problem = build_problem(sd_model, panel, targets=targets, parameters=parameters, fixed=fixed, loss=loss,
                            holdout=holdout, start=start)
    evaluator = Evaluator(problem)
    call = {"model": sd_model, "panel": panel, "targets": targets, "parameters": parameters, "fixed": fixed,
            "loss": loss, "weights": weights, "cov_type": cov_type, "holdout": holdout, "n_starts": n_starts,
            "seed": seed, "method": method, "n_boot": n_boot, "n_sim": n_sim, "start": start, "max_nfev": max_nfev}
    if method == "indirect" and moments is not None:
        from ._indirect import calibrate_indirect

        return calibrate_indirect(problem, evaluator, moments, call, n_sim=_check_int(n_sim, "n_sim", 1),
                                  n_starts=n_starts, seed=seed, max_nfev=max_nfev, progress=progress,
                                  cov_type=cov_type)
    starts = _starts(problem, n_starts, seed)
    rows = evaluator.simulate(problem.to_natural(starts))  # every start in one batch
    _check_start(problem, rows[0])
    mask = problem.in_fit
    e0 = loss_residuals(rows[0, mask], problem.observed[mask], loss)
    w_target = _target_weights(problem, weights, e0)
    sqrt_w = np.sqrt(w_target[problem.obs_target[mask]])
    penalty = 1e4 * max(1.0, float(np.max(np.abs(sqrt_w * e0))))
    f = _residual_function(problem, sqrt_w)
    fits = fit_many([f] * n_starts, starts, evaluator.simulate_scaled, penalty=penalty, max_nfev=max_nfev,
                    progress=progress, desc="starts")
    best = int(np.argmin([fit.cost for fit in fits]))
    final = fits[best]
    if isinstance(weights, str):  # inverse residual variances at the first fit, refitted once
        rows_best = evaluator.simulate(problem.to_natural(final.u[None, :]))
        w_target = _target_weights(problem, weights, loss_residuals(rows_best[0, mask], problem.observed[mask], loss))
        sqrt_w = np.sqrt(w_target[problem.obs_target[mask]])
        f = _residual_function(problem, sqrt_w)
        final = fit_many([f], final.u[None, :], evaluator.simulate_scaled, penalty=penalty, max_nfev=max_nfev)[0]
    if not final.converged:
        warnings.warn(f"The optimiser did not converge within max_nfev={max_nfev or 100 * problem.n_params} "
                      f"evaluations ({final.message}); the result has converged=False. Raise max_nfev or narrow "
                      "the bounds.", ConvergenceWarning, stacklevel=find_stack_level())
    r_hat, jac_u, row_hat = central_jacobian(f, evaluator.simulate_scaled, final.u)
    width = problem.upper - problem.lower
    jac = jac_u / width
    groups = problem.obs_group[mask]
    boot = None
    n_failed = 0
    if cov_type == "clustered":
        cov = cv.clustered_cov(jac, r_hat, groups)
        df: float | None = float(len(np.unique(groups)) - 1)
    elif cov_type == "unadjusted":
        cov = cv.unadjusted_cov(jac, r_hat)
        df = float(len(r_hat) - problem.n_params)
    else:
        boot, n_failed = _bootstrap(problem, evaluator, sqrt_w, final.u, n_boot, seed, penalty, max_nfev, progress)
        cov = np.atleast_2d(np.cov(boot, rowvar=False))
        df = None
    e_hat = loss_residuals(row_hat[mask], problem.observed[mask], loss)
    scale = 1.0 if loss != "level" else float(np.max(np.abs(problem.observed[mask])))
    exact_fit = float(np.max(np.abs(e_hat))) <= 1e-9 * scale  # residuals are round-off: judge the bread instead
    cov = _identification(problem, jac_u, cov, np.linalg.pinv(jac.T @ jac) if exact_fit else cov)
    obs = observations_frame(problem)
    resid_all = loss_residuals(row_hat, problem.observed, loss)
    residuals = obs.assign(observed=problem.observed, simulated=row_hat, residual=resid_all,
                           weight=w_target[problem.obs_target], sample=np.where(mask, "fit", "holdout"))
    names = [t.variable for t in problem.targets]
    fit_frame = fit_table(residuals[residuals["sample"] == "fit"], names)
    holdout_frame = fit_table(residuals[residuals["sample"] == "holdout"], names) if (~mask).any() else \
        pd.DataFrame(columns=FIT_COLUMNS, index=pd.Index([], name="target"))
    estimates = problem.to_natural(final.u)
    provenance = build_provenance(problem, call, estimates, cov_type=cov_type, method=method)
    return CalibrationResult._create(
        problem=problem, estimates=estimates, cov=cov, df_inference=df, fit=fit_frame, holdout_fit=holdout_frame,
        residuals=residuals, converged=final.converged, n_evaluations=evaluator.n_evaluations,
        starts=_starts_frame(problem, starts, fits, best), weights=w_target, cov_type=cov_type, method=method,
        bootstrap=boot, n_boot_failed=n_failed, provenance=provenance, cost=final.cost, moments=None)


def _identification(problem: Problem, jac_u: np.ndarray, cov: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """Warn about parameters the data cannot tell apart; ``cov`` with NaN for those not identified.

    ``judged`` is the covariance whose correlations are checked (the bread for an exact fit).
    """
    names = list(problem.names)
    flat = cv.rank_deficient(jac_u, names)
    cov = np.array(cov, dtype=float)
    if flat:
        warnings.warn(f"The Jacobian of the residuals is rank-deficient: the data cannot tell apart {flat}; fix "
                      "some of them (fixed=...) or add targets. Their standard errors are NaN.",
                      IdentificationWarning, stacklevel=find_stack_level())
        index = [names.index(n) for n in flat]
        cov[index, :] = np.nan
        cov[:, index] = np.nan
        judged = np.array(judged, dtype=float)
        judged[index, :] = np.nan
        judged[:, index] = np.nan
    pairs = cv.correlated_pairs(judged, names)
    if pairs:
        text = ", ".join(f"{a} and {b} ({rho:+.3f})" for a, b, rho in pairs)
        warnings.warn(f"Estimates correlated above {cv.CORRELATION_LIMIT} in absolute value: {text}; the data "
                      "hardly tell them apart. Fix one of each pair or add targets.", IdentificationWarning,
                      stacklevel=find_stack_level())
    return cov
