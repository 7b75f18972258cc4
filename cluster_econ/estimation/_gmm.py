"""Arellano-Bond difference GMM for dynamic panels, on numpy and scipy.

No maintained Python library estimates difference GMM with NumPy 2, so the estimator is written
here and validated against Stata's ``xtabond`` on Arellano & Bond's (1991) employment equations
(``tests/golden``).

The model is ``y_it = sum_j a_j y_i,t-j + x_it b + mu_i + e_it``. First differences remove
``mu_i``; in the differenced equation of period t the lags of the dependent variable are
instrumented by its levels dated t-2 and earlier (one instrument column per period and lag, zero
where a level is missing, as in ``xtabond``), and each differenced strictly exogenous regressor
instruments itself. With ``time_effects=True`` the differenced equation gets a dummy for each
of its periods; they are regressors and instruments, which spans the same space as ``xtabond``
with year dummies and a constant.
"""

from __future__ import annotations

import dataclasses
from types import ModuleType

import numpy as np
import pandas as pd

from .._calls import capture
from ..data import RegionalPanel
from ..errors import DataValidationError, SpecError
from ._common import check_panel, whole_number
from ._formula import build_design, parse_formula
from ._result import EstimationResult, TestResult, make_provenance

__all__ = ["arellano_bond"]


def _stats() -> ModuleType:
    from scipy import stats  # imported when needed: scipy.stats loads scipy.optimize

    return stats


@dataclasses.dataclass
class _Stacked:
    """The differenced equation, one block of rows per entity."""

    y: np.ndarray  # (n,)
    x: np.ndarray  # (n, k)
    z: np.ndarray  # (n, L)
    entity: np.ndarray  # (n,) entity positions, sorted
    period: np.ndarray  # (n,) period positions on the full grid
    names: list[str]
    bounds: list[tuple[int, int]]  # row ranges of each entity


def _grid_positions(times: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Sorted periods on a regular grid (integer periods fill their gaps) and each row's position."""
    values = np.asarray(times)
    unique = np.sort(pd.unique(values))
    if np.issubdtype(unique.dtype, np.integer) or (
        np.issubdtype(unique.dtype, np.floating) and np.all(np.mod(unique, 1) == 0)
    ):
        grid = np.arange(int(unique.min()), int(unique.max()) + 1)
        return grid, (values.astype(np.int64) - int(unique.min()))
    return unique, np.searchsorted(unique, values)


def _gmm_instruments(
    ylev: np.ndarray, ents: np.ndarray, pers: np.ndarray, *, max_lag: int | None, formula: str
) -> np.ndarray:
    """GMM-style instruments: y_{i,s} for s <= t-2 (and s >= t - max_lag), one column per (t, s)."""
    cols: dict[tuple[int, int], int] = {}
    entries: list[tuple[int, int, float]] = []
    for row, (i, t) in enumerate(zip(ents, pers, strict=True)):
        first = 0 if max_lag is None else max(0, t - max_lag)
        for s in range(first, t - 1):  # levels dated t-2 and earlier
            value = ylev[i, s]
            if np.isfinite(value):
                col = cols.setdefault((t, s), len(cols))
                entries.append((row, col, value))
    if not cols:
        raise DataValidationError(
            f"arellano_bond({formula!r}): no instruments; the dependent variable needs levels dated t-2 or "
            "earlier for the differenced equation of period t (too few periods for these lags)."
        )
    order = sorted(cols, key=lambda ts: (ts[0], ts[1]))
    remap = {cols[key]: j for j, key in enumerate(order)}
    z_gmm = np.zeros((len(ents), len(cols)))
    for row, col, value in entries:
        z_gmm[row, remap[col]] = value
    return z_gmm


def _stack(formula: str, panel: RegionalPanel, *, time_effects: bool, max_lag: int | None) -> _Stacked:
    parsed = parse_formula(formula)
    lags_of_y = {t.name: parsed.lag_of_dependent(t) for t in parsed.terms}
    if not any(k is not None for k in lags_of_y.values()):
        raise SpecError(
            f"arellano_bond({formula!r}) needs a lag of the dependent variable among the regressors, "
            f"e.g. 'lag({parsed.dependent.name}, 1)'."
        )
    for t in parsed.terms:
        if t.is_categorical:
            raise SpecError(f"{t.name!r}: C() terms are not supported by arellano_bond; add their dummies as columns.")
    design = build_design(parsed, panel, dropna=False)
    index = design.y.index
    ent_codes, ent_labels = pd.factorize(index.get_level_values(0), sort=True)
    grid, pos = _grid_positions(index.get_level_values(1))
    n_ent, n_per = len(ent_labels), len(grid)
    names = list(design.exog.columns)
    endog = [lags_of_y[n] is not None for n in names]

    def cube(values: np.ndarray) -> np.ndarray:
        out = np.full((n_ent, n_per, *values.shape[1:]), np.nan)
        out[ent_codes, pos] = values
        return out

    ylev = cube(design.y.to_numpy(dtype=float))
    xlev = cube(design.exog.to_numpy(dtype=float))
    dy = np.full_like(ylev, np.nan)
    dy[:, 1:] = ylev[:, 1:] - ylev[:, :-1]
    dx = np.full_like(xlev, np.nan)
    dx[:, 1:] = xlev[:, 1:] - xlev[:, :-1]
    usable = np.isfinite(dy) & np.isfinite(dx).all(axis=2)
    if not usable.any():
        raise DataValidationError(
            f"arellano_bond({formula!r}): no entity has enough consecutive periods for the differenced equation "
            "with these lags (each needs its lags plus one more period)."
        )
    ents, pers = np.nonzero(usable)  # row-major: sorted by entity then period
    z_gmm = _gmm_instruments(ylev, ents, pers, max_lag=max_lag, formula=formula)
    x = dx[ents, pers]
    y = dy[ents, pers]
    z_iv = x[:, [j for j, e in enumerate(endog) if not e]]
    blocks = [z_gmm, z_iv]
    if time_effects:
        periods_used = np.unique(pers)
        dummies = (pers[:, None] == periods_used[None, :]).astype(float)
        x = np.column_stack([x, dummies])
        names = names + [f"period[{grid[p]}]" for p in periods_used]
        blocks.append(dummies)
    z = np.column_stack(blocks)
    starts = np.flatnonzero(np.r_[True, ents[1:] != ents[:-1]])
    ends = np.r_[starts[1:], len(ents)]
    bounds = list(zip(starts.tolist(), ends.tolist(), strict=True))
    return _Stacked(y=y, x=x, z=z, entity=ents, period=pers, names=names, bounds=bounds)


def _h_matrix(periods: np.ndarray) -> np.ndarray:
    """Arellano-Bond's H: 2 on the diagonal, -1 between consecutive periods of an entity."""
    gap = np.abs(periods[:, None] - periods[None, :])
    return 2.0 * (gap == 0) - 1.0 * (gap == 1)


def _inv(a: np.ndarray) -> np.ndarray:
    return np.linalg.pinv((a + a.T) / 2, hermitian=True)


def _ar_test(
    s: _Stacked, u: np.ndarray, order: int, *, a: np.ndarray, m_inv: np.ndarray, vcov: np.ndarray, omega_u: bool
) -> TestResult:
    """Arellano & Bond (1991) m-statistic for autocorrelation of ``order`` in differenced residuals."""
    lagged = np.zeros_like(u)
    key = {(e, p): r for r, (e, p) in enumerate(zip(s.entity, s.period, strict=True))}
    for r, (e, p) in enumerate(zip(s.entity, s.period, strict=True)):
        src = key.get((e, p - order))
        if src is not None:
            lagged[r] = u[src]
    d0 = float(lagged @ u)
    d1 = 0.0
    zuw = np.zeros(s.z.shape[1])
    for lo, hi in s.bounds:
        wu = lagged[lo:hi] @ u[lo:hi]
        d1 += wu**2
        zuw += s.z[lo:hi].T @ u[lo:hi] * wu if omega_u else 0.0
    wx = lagged @ s.x
    zx = s.z.T @ s.x
    d2 = -2.0 * wx @ m_inv @ zx.T @ a @ zuw
    d3 = wx @ vcov @ wx
    variance = d1 + d2 + d3
    # without residuals `order` periods apart (too few periods) the test is not defined
    stat = d0 / np.sqrt(variance) if np.any(lagged) and variance > 0 else float("nan")
    return TestResult(
        statistic=float(stat),
        pvalue=float(2 * _stats().norm.sf(abs(stat))),
        distribution="N(0, 1)",
        null=f"no autocorrelation of order {order} in the differenced errors",
    )


def arellano_bond(
    formula: str,
    panel: RegionalPanel,
    *,
    time_effects: bool = False,
    two_step: bool = False,
    max_lag: int | None = None,
) -> EstimationResult:
    """Arellano-Bond difference GMM for a dynamic panel.

    Parameters
    ----------
    formula : str
        In levels, with lags of the dependent variable among the terms, e.g.
        ``"n ~ lag(n, 1) + lag(n, 2) + w + lag(w, 1) + k"``. The lags of the dependent variable are
        instrumented by its levels lagged two periods and more; every other term is strictly
        exogenous and instruments itself (in differences).
    panel : RegionalPanel
        The data; lags respect gaps in the periods.
    time_effects : bool, optional
        Add a dummy for each period of the differenced equation (regressor and instrument), as
        ``xtabond`` with year dummies does. Without, the differenced equation has no intercept.
    two_step : bool, optional
        Two-step efficient GMM with Windmeijer (2005) corrected standard errors. The default is
        one-step GMM with standard errors robust to heteroskedasticity and autocorrelation within
        entities.
    max_lag : int, optional
        Use levels of the dependent variable lagged 2 to ``max_lag`` periods as instruments
        (default: all available lags).

    Returns
    -------
    EstimationResult
        ``tests`` hold the AR(1) and AR(2) tests of Arellano & Bond (1991) and the Sargan test
        (one-step, homoskedastic weight matrix) or Hansen J test (two-step); ``statistics`` hold the
        number of instruments and of entities.

    Notes
    -----
    One-step weight matrix ``(sum_i Z_i' H Z_i)^-1`` with ``H`` the second-difference matrix (2 on
    the diagonal, -1 next to it); two-step weight ``(sum_i Z_i' u_i u_i' Z_i)^-1`` from one-step
    residuals. The Sargan statistic is ``u1' Z (sum Z_i' H Z_i)^-1 Z' u1 / s2`` with
    ``s2 = u1'u1 / (2 (n - k))``; the Hansen statistic is ``u2' Z W2 Z' u2``.

    References
    ----------
    Arellano, M., & Bond, S. (1991). Some tests of specification for panel data: Monte Carlo
    evidence and an application to employment equations. *Review of Economic Studies*, 58(2),
    277-297.
    Windmeijer, F. (2005). A finite sample correction for the variance of linear efficient two-step
    GMM estimators. *Journal of Econometrics*, 126(1), 25-51.
    """
    call = capture("arellano_bond", locals())
    check_panel(panel)
    max_lag = whole_number(max_lag, "max_lag", minimum=2, meaning="instruments start at lag 2")
    s = _stack(formula, panel, time_effects=bool(time_effects), max_lag=max_lag)
    n, k = s.x.shape
    n_inst = s.z.shape[1]
    n_groups = len(s.bounds)
    if n_inst < k:
        raise DataValidationError(
            f"arellano_bond({formula!r}): {n_inst} instruments for {k} coefficients; the model is not identified "
            "(too few periods for the requested lags, or max_lag too small)."
        )
    zx, zy = s.z.T @ s.x, s.z.T @ s.y
    zhz = np.zeros((n_inst, n_inst))
    for lo, hi in s.bounds:
        zi = s.z[lo:hi]
        zhz += zi.T @ _h_matrix(s.period[lo:hi]) @ zi
    a1 = _inv(zhz)
    m1_inv = _inv(zx.T @ a1 @ zx)
    b1 = m1_inv @ zx.T @ a1 @ zy
    u1 = s.y - s.x @ b1
    zu1 = [s.z[lo:hi].T @ u1[lo:hi] for lo, hi in s.bounds]
    omega1 = np.zeros((s.z.shape[1], s.z.shape[1]))
    for g in zu1:  # the sum over entities of g g', in entity order
        omega1 += np.outer(g, g)
    v1 = m1_inv @ zx.T @ a1 @ omega1 @ a1 @ zx @ m1_inv
    sigma2 = float(u1 @ u1) / (2.0 * (n - k))
    zu = s.z.T @ u1
    sargan = float(zu @ a1 @ zu) / sigma2
    tests: dict[str, TestResult] = {}
    dof = n_inst - k
    if not two_step:
        params, vcov, resid, a_used, m_inv = b1, v1, u1, a1, m1_inv
        tests["Sargan"] = TestResult(
            sargan, float(_stats().chi2.sf(sargan, dof)), f"chi2({dof})", "the overidentifying restrictions are valid"
        )
        estimator = "Arellano-Bond one-step"
        cov_type = "robust"
    else:
        a2 = _inv(omega1)
        m2_inv = _inv(zx.T @ a2 @ zx)
        b2 = m2_inv @ zx.T @ a2 @ zy
        u2 = s.y - s.x @ b2
        v2 = m2_inv
        # Windmeijer (2005): derivative of the two-step estimate with respect to the weight matrix
        zu2 = a2 @ (s.z.T @ u2)
        d = np.empty((k, k))
        for j in range(k):
            dom = np.zeros((n_inst, n_inst))
            for (lo, hi), g in zip(s.bounds, zu1, strict=True):
                zxj = s.z[lo:hi].T @ s.x[lo:hi, j]
                dom += np.outer(zxj, g) + np.outer(g, zxj)
            d[:, j] = m2_inv @ zx.T @ a2 @ dom @ zu2
        vcov = v2 + d @ v2 + v2 @ d.T + d @ v1 @ d.T
        params, resid, a_used, m_inv = b2, u2, a2, m2_inv
        zu2raw = s.z.T @ u2
        hansen = float(zu2raw @ a2 @ zu2raw)
        tests["Hansen J"] = TestResult(
            hansen, float(_stats().chi2.sf(hansen, dof)), f"chi2({dof})", "the overidentifying restrictions are valid"
        )
        estimator = "Arellano-Bond two-step"
        cov_type = "windmeijer"
    for order in (1, 2):
        tests[f"AR({order})"] = _ar_test(s, resid, order, a=a_used, m_inv=m_inv, vcov=vcov, omega_u=True)
    names = s.names
    params_s = pd.Series(params, index=names)
    cov = pd.DataFrame(vcov, index=names, columns=names)

    parsed = parse_formula(formula)
    std = pd.Series(np.sqrt(np.diag(vcov)), index=names, name="std_errors")
    return call.attach(EstimationResult(
        params=params_s.rename("params"),
        std_errors=std,
        cov=cov,
        nobs=n,
        estimator=estimator,
        formula=formula,
        dependent=parsed.dependent.name,
        cov_type=cov_type,
        df_inference=None,
        r2={},
        effects=("entity", "time") if time_effects else ("entity",),
        n_entities=n_groups,
        n_periods=len(np.unique(s.period)),
        statistics={"Instruments": float(n_inst)},
        tests=tests,
        engine="cluster_econ (numpy)",
        provenance=make_provenance(
            panel, estimator=estimator, formula=formula, cov_type=cov_type,
            time_effects=bool(time_effects), two_step=bool(two_step), max_lag=max_lag,
        ),
    ))
