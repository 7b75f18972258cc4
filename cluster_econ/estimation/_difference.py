"""First-difference estimator (see :mod:`cluster_econ.estimation._linear` for the covariances)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any

import pandas as pd

from .._calls import capture
from ..data import RegionalPanel
from ..errors import DataValidationError, SpecError
from ._common import CovType, check_bandwidth, check_dependent, check_dof, check_effects, check_panel, check_regressors
from ._formula import Design, Term, build_design, parse_formula
from ._linear import (
    _check_cov,
    _codes,
    _df_inference,
    _linearmodels_cov_kwargs,
    _result,
    _with_intercept,
    cov_details,
    ols_fit,
)
from ._result import EstimationResult

__all__ = ["first_difference"]

_NO_CHANGE = "does not vary over time within entities, so its first difference is zero"


# -- first differences ----------------------------------------------------------------------------
def _differenced_design(design: Design, panel: RegionalPanel) -> Design:
    """The design of ``diff(y) ~ diff(x1) + ...``, with the original term names."""
    parsed = design.parsed
    for term in parsed.terms:
        if term.is_categorical:
            raise SpecError(
                f"{term.name!r}: C() terms are not supported in first differences; a time-invariant category "
                "is removed by differencing, and time-varying ones can enter as their 0/1 columns."
            )
    wrap = [Term(t.name, ast.Call(func=ast.Name("diff"), args=[t.node], keywords=[])) for t in parsed.terms]
    dep = parsed.dependent
    diffed = type(parsed)(
        parsed.formula, Term(dep.name, ast.Call(func=ast.Name("diff"), args=[dep.node], keywords=[])),
        tuple(wrap), parsed.intercept,
    )
    try:
        return build_design(diffed, panel)
    except DataValidationError as exc:
        if "No complete observations" not in str(exc):
            raise
        raise DataValidationError(
            f"first_difference({parsed.formula!r}): too few consecutive periods; first differences need at "
            "least two consecutive periods per entity for at least two entities."
        ) from None


def first_difference(
    formula: str,
    panel: RegionalPanel,
    *,
    effects: Iterable[str] = (),
    cov_type: CovType = "clustered",
    cluster: Iterable[str] = ("entity",),
    bandwidth: int | None = None,
) -> EstimationResult:
    """First-difference estimator.

    Parameters
    ----------
    formula : str
        The formula in levels; every term is differenced between consecutive periods of an entity
        (a gap in the periods breaks the difference). The intercept is removed by differencing.
    panel : RegionalPanel
        The data.
    effects : () or ("time",), optional
        With ``("time",)`` the differenced equation gets an intercept and a dummy for every
        differenced period but the first (Wooldridge's convention). The default ``()`` estimates
        the differenced equation with no intercept.
    cov_type, cluster, bandwidth
        As in :func:`panel_ols`.

    Returns
    -------
    EstimationResult
        ``engine`` names the library that ran the case (see the notes).

    Notes
    -----
    Which library runs which case:

    * ``effects=()``, unless clustered by period: ``linearmodels.panel.FirstDifferenceOLS`` on the
      levels (it differences them itself).
    * ``effects=()`` with ``cluster`` containing ``"time"``: ``statsmodels.OLS`` on the differenced
      data, each difference in the cluster of its later period (FirstDifferenceOLS cannot put a
      difference, which spans two periods, in one period's cluster).
    * ``effects=("time",)``: ``statsmodels.OLS`` on the differenced data with an intercept and the
      period dummies (FirstDifferenceOLS estimates no intercept and no time effects).

    Where both could run (no time effects, no clustering by period), the two give the same
    estimates and standard errors for every ``cov_type`` (checked in the tests).

    References
    ----------
    Wooldridge, J. M. (2010). *Econometric Analysis of Cross Section and Panel Data*, 2nd ed.,
    sec. 10.6. MIT Press.
    """
    call = capture("first_difference", locals())
    check_panel(panel)
    effects = check_effects(effects)
    if "entity" in effects:
        raise SpecError("first_difference removes the entity effects by differencing; use effects=() or ('time',).")
    cov_type, clusters, bandwidth = _check_cov(cov_type, cluster, bandwidth)
    parse_formula(formula)
    levels = build_design(formula, panel)
    too_few = DataValidationError(
        f"first_difference({formula!r}): too few consecutive periods; first differences need at least two "
        "consecutive periods per entity for at least two entities."
    )
    if len(panel.periods) < 2:
        raise too_few  # rather than the message of the lag that the differences take
    diffs = _differenced_design(levels, panel)
    if len(diffs.y) == 0 or diffs.y.index.get_level_values(0).nunique() < 2:
        raise too_few
    check_dependent(diffs.y, intercept=bool(effects), context=f"first_difference({formula!r}): ")
    check_dof(diffs.y.index, diffs.exog.shape[1] + bool(effects), effects=effects, intercept=bool(effects),
              cov_type=cov_type, clusters=clusters, context=f"first_difference({formula!r}): ")
    check_bandwidth(cov_type, bandwidth, len(diffs.y.index.get_level_values(1).unique()),
                    context=f"first_difference({formula!r}): ")
    if effects or (cov_type == "clustered" and "time" in clusters):
        return call.attach(_fd_statsmodels(diffs, panel, effects=effects, cov_type=cov_type, clusters=clusters,
                                           bandwidth=bandwidth))
    return call.attach(_fd_linearmodels(levels, diffs, panel, cov_type=cov_type, clusters=clusters,
                                        bandwidth=bandwidth))


def _fd_details(effects: tuple[str, ...], cov_type: str, clusters: tuple[str, ...], bandwidth: int | None,
                n_periods: int) -> dict[str, Any]:
    return {"effects": list(effects), **cov_details(cov_type, clusters, bandwidth, n_periods)}


def _fd_statsmodels(
    diffs: Design,
    panel: RegionalPanel,
    *,
    effects: tuple[str, ...],
    cov_type: str,
    clusters: tuple[str, ...],
    bandwidth: int | None,
) -> EstimationResult:
    """statsmodels OLS on the differenced data; with time effects, an intercept and period dummies."""
    formula = diffs.parsed.formula
    index = diffs.y.index
    ent, tim = _codes(index, 0), _codes(index, 1)
    exog = diffs.exog
    if effects:
        periods = index.get_level_values(1)
        labels = sorted(periods.unique())
        dummies = pd.DataFrame({f"period[{p}]": (periods == p).astype(float) for p in labels[1:]}, index=index)
        exog = pd.concat([exog, dummies], axis=1)
    exog = check_regressors(
        exog, intercept=bool(effects), context=f"{formula!r} (differenced): ", zero_why=_NO_CHANGE
    )
    res = ols_fit(diffs.y, _with_intercept(exog, bool(effects)), cov_type, clusters, ent, tim, bandwidth)
    return _result(
        params=res.params, cov=res.cov_params(), design=diffs, panel=panel,
        estimator="First difference (time effects)" if effects else "First difference", engine="statsmodels OLS",
        cov_type=cov_type, df_inference=_df_inference(cov_type, clusters, index, res.df_resid),
        r2={"first difference": float(res.rsquared)}, effects=effects,
        details=_fd_details(effects, cov_type, clusters, bandwidth, int(tim.max()) + 1),
    )


def _fd_linearmodels(
    levels: Design,
    diffs: Design,
    panel: RegionalPanel,
    *,
    cov_type: str,
    clusters: tuple[str, ...],
    bandwidth: int | None,
) -> EstimationResult:
    """linearmodels' FirstDifferenceOLS on the levels (no intercept, no time effects, no period clusters)."""
    formula = diffs.parsed.formula
    index = diffs.y.index
    n_periods = int(_codes(index, 1).max()) + 1
    exog = check_regressors(diffs.exog, intercept=False, context=f"{formula!r} (differenced): ", zero_why=_NO_CHANGE)
    x_levels = levels.exog[exog.columns]
    kwargs = _linearmodels_cov_kwargs(cov_type, clusters, bandwidth, n_periods)
    if cov_type == "clustered":
        lev = levels.y.index
        codes = {"entity": _codes(lev, 0), "time": _codes(lev, 1)}
        kwargs = {"cov_type": "clustered", "group_debias": True,
                  "clusters": pd.DataFrame({c: codes[c] for c in clusters}, index=lev)}
    from linearmodels.panel import FirstDifferenceOLS

    res = FirstDifferenceOLS(levels.y, x_levels).fit(**kwargs)
    return _result(
        params=res.params, cov=res.cov, design=diffs, panel=panel, estimator="First difference",
        engine="linearmodels FirstDifferenceOLS", cov_type=cov_type,
        df_inference=_df_inference(cov_type, clusters, index, res.df_resid),
        r2={"first difference": float(res.rsquared)}, effects=(), nobs=int(res.nobs),
        details=_fd_details((), cov_type, clusters, bandwidth, n_periods),
    )
