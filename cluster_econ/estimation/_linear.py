"""Linear panel estimators: pooled OLS, within, between, random effects, first differences.

Pooled OLS and every regression statsmodels provides run on statsmodels; the panel estimators
statsmodels lacks (within, between, Swamy-Arora random effects, first differences) run on
linearmodels, except the first-difference cases linearmodels cannot do (see ``first_difference``).

Covariance conventions (``cov_type``)
-------------------------------------
``"unadjusted"``
    Homoskedastic, with the residual variance divided by ``n - k - d`` (``d`` the number of
    estimated effects), as in Stata's ``xtreg, fe``.
``"robust"``
    Heteroskedasticity-robust, scaled by ``n / (n - k - d)`` (HC1). With entity effects and few
    periods it is not consistent (Stock & Watson 2008); prefer ``"clustered"``, which is what
    Stata's ``xtreg, fe vce(robust)`` reports.
``"clustered"``
    Clustered by entity (``cluster=("entity",)``, the default), by period, or two-way
    (``cluster=("entity", "time")``, Cameron, Gelbach & Miller 2011). The small-sample factor is
    Stata's ``xtreg, fe vce(cluster)``: ``G / (G - 1) * (n - 1) / (n - k)``, where ``G`` is the
    number of clusters and ``k`` counts the regressors, the intercept and the time effects (as Stata
    counts ``i.year`` dummies) but not the entity effects, which are nested in the entity clusters.
    p-values and intervals use the t distribution with ``G - 1`` degrees of freedom (the smaller
    ``G`` for two-way clusters). With time effects only, this is Stata's
    ``regress y x i.year, vce(cluster id)``. Two-way clusters combine the three one-way covariances
    (entity + time - intersection), each with its own ``G / (G - 1)``, and count the effects in
    ``k`` (linearmodels' convention). Pooled OLS uses statsmodels' identical ``regress`` factor.
``"driscoll_kraay"``
    Driscoll & Kraay (1998): robust to heteroskedasticity, serial and cross-sectional correlation,
    with a Bartlett kernel and bandwidth ``floor(4 * (T / 100) ** (2 / 9))`` unless given, scaled
    by ``n / (n - k)`` on both engines; t distribution with ``T - 1`` degrees of freedom.

References
----------
Baltagi, B. H. (2013). *Econometric Analysis of Panel Data*, 5th ed. Wiley.
Cameron, A. C., Gelbach, J. B., & Miller, D. L. (2011). Robust inference with multiway clustering.
*Journal of Business & Economic Statistics*, 29(2), 238-249.
Stock, J. H., & Watson, M. W. (2008). Heteroskedasticity-robust standard errors for fixed effects
panel data regression. *Econometrica*, 76(1), 155-174.
Driscoll, J. C., & Kraay, A. C. (1998). Consistent covariance matrix estimation with spatially
dependent panel data. *Review of Economics and Statistics*, 80(4), 549-560.
Wooldridge, J. M. (2010). *Econometric Analysis of Cross Section and Panel Data*, 2nd ed. MIT Press.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .._calls import capture
from ..data import RegionalPanel
from ..errors import ClusterEconWarning, SpecError, find_stack_level
from ..typing import BetweenCovType, CovType
from ._common import (
    check_bandwidth,
    check_dependent,
    check_dof,
    check_effects,
    check_exact_fit,
    check_option,
    check_panel,
    check_regressors,
    whole_number,
)
from ._formula import Design, build_design
from ._result import EstimationResult, TestResult, make_provenance

__all__ = ["between_ols", "panel_ols"]

INTERCEPT = "Intercept"


# -- helpers --------------------------------------------------------------------------------------
def _codes(index: pd.MultiIndex, level: int) -> np.ndarray:
    return pd.factorize(index.get_level_values(level), sort=True)[0]


def _with_intercept(exog: pd.DataFrame, intercept: bool) -> pd.DataFrame:
    if not intercept:
        return exog
    out = exog.copy()
    out.insert(0, INTERCEPT, 1.0)
    return out


def default_bandwidth(n_periods: int) -> int:
    """Newey-West rule of thumb ``floor(4 (T / 100)^(2/9))``, at least 1, below T."""
    return max(1, min(n_periods - 1, math.floor(4 * (n_periods / 100) ** (2 / 9))))


def _check_cov(
    cov_type: CovType, cluster: Iterable[str], bandwidth: int | None
) -> tuple[CovType, tuple[str, ...], int | None]:
    check_option(cov_type, CovType, "cov_type")
    clusters = check_effects(cluster, name="cluster")
    if not clusters:
        raise SpecError("cluster must name at least one of 'entity' and 'time'.")
    bandwidth = whole_number(bandwidth, "bandwidth", minimum=0, meaning="periods of the Driscoll-Kraay kernel")
    return cov_type, clusters, bandwidth


def cov_details(
    cov_type: str, clusters: tuple[str, ...], bandwidth: int | None, n_periods: int
) -> dict[str, Any]:
    """The options that shape a covariance, for ``provenance.details``: the cluster dimensions of
    ``"clustered"``, the bandwidth used by ``"driscoll_kraay"`` (the default rule's if none given).
    """
    if cov_type == "clustered":
        return {"cluster": list(clusters)}
    if cov_type == "driscoll_kraay":
        return {"bandwidth": default_bandwidth(n_periods) if bandwidth is None else bandwidth}
    return {}


def _df_inference(cov_type: str, clusters: tuple[str, ...], index: pd.MultiIndex, df_resid: float) -> float:
    if cov_type == "clustered":
        return float(min(len(np.unique(_codes(index, 0 if c == "entity" else 1))) for c in clusters) - 1)
    if cov_type == "driscoll_kraay":
        return float(len(np.unique(_codes(index, 1))) - 1)
    return float(df_resid)


def _result(
    *,
    params: pd.Series,
    cov: pd.DataFrame,
    design: Design,
    panel: RegionalPanel,
    estimator: str,
    engine: str,
    cov_type: str,
    df_inference: float | None,
    r2: dict[str, float],
    effects: tuple[str, ...],
    nobs: int | None = None,
    index: pd.MultiIndex | None = None,
    statistics: dict[str, float] | None = None,
    tests: dict[str, TestResult] | None = None,
    details: dict[str, Any] | None = None,
) -> EstimationResult:
    """An EstimationResult; warnings point at the first frame outside the package."""
    index = design.y.index if index is None else index
    params = params.astype(float).rename("params")
    cov = cov.loc[params.index, params.index].astype(float)
    values = cov.to_numpy()
    if np.any(np.diag(values) < 0):
        # a two-way clustered covariance (a sum of three one-way ones, one subtracted) need not be
        # positive semi-definite; Cameron, Gelbach & Miller (2011, sec. 2.3) set negative eigenvalues to 0
        eigval, eigvec = np.linalg.eigh((values + values.T) / 2)
        values = (eigvec * np.clip(eigval, 0, None)) @ eigvec.T
        cov = pd.DataFrame(values, index=cov.index, columns=cov.columns)
        warnings.warn(
            f"{estimator} of {design.parsed.formula!r}: the {cov_type} covariance was not positive "
            "semi-definite; its negative eigenvalues were set to zero (Cameron, Gelbach & Miller 2011).",
            ClusterEconWarning,
            stacklevel=find_stack_level(),
        )
    std = pd.Series(np.sqrt(np.clip(np.diag(values), 0, None)), index=params.index, name="std_errors")
    return EstimationResult(
        params=params,
        std_errors=std,
        cov=cov,
        nobs=int(len(design.y) if nobs is None else nobs),
        estimator=estimator,
        formula=design.parsed.formula,
        dependent=design.parsed.dependent.name,
        cov_type=cov_type,
        df_inference=df_inference,
        r2=r2,
        effects=effects,
        n_entities=len(index.get_level_values(0).unique()),
        n_periods=len(index.get_level_values(1).unique()),
        statistics=statistics or {},
        tests=tests or {},
        engine=engine,
        provenance=make_provenance(
            panel, estimator=estimator, formula=design.parsed.formula, cov_type=cov_type, **(details or {})
        ),
    )


def _linearmodels_cov_kwargs(
    cov_type: str, clusters: tuple[str, ...], bandwidth: int | None, n_periods: int
) -> dict[str, Any]:
    if cov_type == "clustered":
        return {
            "cov_type": "clustered",
            "cluster_entity": "entity" in clusters,
            "cluster_time": "time" in clusters,
            "group_debias": True,
        }
    if cov_type == "driscoll_kraay":
        bw = default_bandwidth(n_periods) if bandwidth is None else bandwidth
        return {"cov_type": "kernel", "kernel": "bartlett", "bandwidth": bw}
    return {"cov_type": cov_type}


def ols_fit(
    y: pd.Series,
    x: pd.DataFrame,
    cov_type: str,
    clusters: tuple[str, ...],
    ent: np.ndarray,
    tim: np.ndarray,
    bandwidth: int | None,
) -> Any:
    """statsmodels OLS with the covariance conventions of this module."""
    import statsmodels.api as sm

    model = sm.OLS(y, x)
    if cov_type == "unadjusted":
        return model.fit()
    if cov_type == "robust":
        return model.fit(cov_type="HC1")
    if cov_type == "clustered":
        groups = np.column_stack([ent if c == "entity" else tim for c in clusters])
        return model.fit(cov_type="cluster", cov_kwds={"groups": groups[:, 0] if len(clusters) == 1 else groups})
    bw = default_bandwidth(int(tim.max()) + 1) if bandwidth is None else bandwidth
    return model.fit(cov_type="hac-groupsum", cov_kwds={"time": tim, "maxlags": bw, "use_correction": "hac"})


# -- pooled OLS and within ------------------------------------------------------------------------
def panel_ols(
    formula: str,
    panel: RegionalPanel,
    *,
    effects: Iterable[str] = ("entity",),
    cov_type: CovType = "clustered",
    cluster: Iterable[str] = ("entity",),
    bandwidth: int | None = None,
    drop_absorbed: bool = False,
) -> EstimationResult:
    """Pooled OLS (``effects=()``) or the within (fixed-effects) estimator.

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + log(x2) + lag(x3, 1) + C(sector)"``; see the formula notes of the subpackage.
    panel : RegionalPanel
        The data.
    effects : tuple of {"entity", "time"}, optional
        Effects removed by the within transformation; ``()`` gives pooled OLS. The default is
        ``("entity",)``.
    cov_type : {"unadjusted", "robust", "clustered", "driscoll_kraay"}, optional
        Covariance estimator; the default is ``"clustered"`` (by entity). See the conventions in
        :mod:`cluster_econ.estimation._linear`: clustered errors follow Stata's
        ``xtreg, fe vce(cluster)``, with time effects counted as regressors.
    cluster : tuple of {"entity", "time"}, optional
        Cluster variables for ``cov_type="clustered"``; ``("entity", "time")`` is two-way.
    bandwidth : int, optional
        Bandwidth of the Driscoll-Kraay kernel.
    drop_absorbed : bool, optional
        Drop regressors absorbed by the effects or perfectly collinear with a warning, instead of
        raising :class:`~cluster_econ.errors.SpecError` (the default).

    Returns
    -------
    EstimationResult

    Notes
    -----
    Pooled OLS runs on ``statsmodels.OLS``; the within estimator on ``linearmodels.PanelOLS``,
    reporting the intercept as Stata's ``xtreg, fe`` does (the mean of the effects).

    References
    ----------
    Baltagi, B. H. (2013). *Econometric Analysis of Panel Data*, 5th ed., ch. 2-3. Wiley.

    Examples
    --------
    >>> import cluster_econ as ce
    >>> panel = ce.load_dataset("us_states")
    >>> fe = ce.panel_ols("log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp", panel)
    >>> fe.params.round(3)
    Intercept    2.353
    log(pcap)   -0.026
    log(pc)      0.292
    log(emp)     0.768
    unemp       -0.005
    Name: params, dtype: float64
    """
    call = capture("panel_ols", locals())
    check_panel(panel)
    effects = check_effects(effects)
    cov_type, clusters, bandwidth = _check_cov(cov_type, cluster, bandwidth)
    design = build_design(formula, panel)
    index = design.y.index
    ent, tim = _codes(index, 0), _codes(index, 1)
    n_periods = int(tim.max()) + 1
    details = {
        "effects": list(effects),
        "drop_absorbed": bool(drop_absorbed),
        **cov_details(cov_type, clusters, bandwidth, n_periods),
    }
    check_dof(index, design.exog.shape[1] + design.intercept, effects=effects, intercept=design.intercept,
              cov_type=cov_type, clusters=clusters, context=f"{formula!r}: ")
    check_bandwidth(cov_type, bandwidth, n_periods, context=f"{formula!r}: ")
    if effects and design.exog.shape[1] == 0:
        raise SpecError(
            f"{formula!r} has nothing to estimate with {' and '.join(effects)} effects: the effects absorb the "
            "intercept. Add a regressor, or use effects=() for the mean."
        )
    check_dependent(design.y, entity_codes=ent if "entity" in effects else None,
                    time_codes=tim if "time" in effects else None, intercept=design.intercept,
                    context=f"{formula!r}: ")
    if not effects:
        exog = check_regressors(
            design.exog,
            intercept=design.intercept,
            drop_absorbed=drop_absorbed,
            can_drop=True,
            context=f"{formula!r}: ",
        )
        x = _with_intercept(exog, design.intercept)
        res = ols_fit(design.y, x, cov_type, clusters, ent, tim, bandwidth)
        check_exact_fit(float(res.ssr), design.y, context=f"{formula!r}: ")
        return call.attach(_result(
            params=res.params,
            cov=res.cov_params(),
            design=design,
            panel=panel,
            estimator="Pooled OLS",
            engine="statsmodels OLS",
            cov_type=cov_type,
            df_inference=_df_inference(cov_type, clusters, index, res.df_resid),
            r2={"overall": float(res.rsquared)},
            effects=(),
            statistics={"R-squared (adj.)": float(res.rsquared_adj)},
            details=details,
        ))
    exog = check_regressors(
        design.exog,
        entity_codes=ent if "entity" in effects else None,
        time_codes=tim if "time" in effects else None,
        intercept=design.intercept,
        drop_absorbed=drop_absorbed,
        can_drop=True,
        context=f"{formula!r}: ",
    )
    x = _with_intercept(exog, design.intercept)
    from linearmodels.panel import PanelOLS

    model = PanelOLS(design.y, x, entity_effects="entity" in effects, time_effects="time" in effects)
    kwargs = _linearmodels_cov_kwargs(cov_type, clusters, bandwidth, n_periods)
    scale = 1.0
    if cov_type == "clustered" and effects == ("entity", "time") and clusters == ("entity",):
        # Stata's xtreg, fe vce(cluster) with i.time: the entity effects are nested in the clusters
        # and not counted, the T - 1 time effects are counted as regressors.
        kwargs.update(auto_df=False, count_effects=False)
        n, k = len(design.y), x.shape[1]
        scale = (n - k) / (n - k - (n_periods - 1))
    res = model.fit(**kwargs)
    check_exact_fit(float(res.resid_ss), design.y, context=f"{formula!r}: ")
    cov = res.cov * scale
    labels: dict[tuple[str, ...], str] = {("entity",): "within", ("time",): "time within"}
    label = labels.get(effects, "two-way within")
    r2 = {
        label: float(res.rsquared),
        "between": float(res.rsquared_between),
        "overall": float(res.rsquared_overall),
    }
    if label != "within":
        r2["within"] = float(res.rsquared_within)
    return call.attach(_result(
        params=res.params,
        cov=cov,
        design=design,
        panel=panel,
        estimator={"within": "Within", "time within": "Within (time effects)"}.get(label, "Two-way within"),
        engine="linearmodels PanelOLS",
        cov_type=cov_type,
        df_inference=_df_inference(cov_type, clusters, index, res.df_resid),
        r2=r2,
        effects=effects,
        statistics={"sigma_e": float(np.sqrt(res.s2))} if cov_type == "unadjusted" else {},
        details=details,
    ))


def between_ols(
    formula: str,
    panel: RegionalPanel,
    *,
    cov_type: BetweenCovType = "unadjusted",
) -> EstimationResult:
    """The between estimator: OLS on the entity means.

    Parameters
    ----------
    formula : str
        The formula.
    panel : RegionalPanel
        The data.
    cov_type : {"unadjusted", "robust"}, optional
        Covariance estimator for the regression of the means; the default is ``"unadjusted"``.

    Returns
    -------
    EstimationResult
        ``nobs`` counts the panel observations; ``n_entities`` the observations of the regression.

    Notes
    -----
    Runs on ``linearmodels.panel.BetweenOLS`` (unweighted means, as Stata's ``xtreg, be``).

    References
    ----------
    Baltagi, B. H. (2013). *Econometric Analysis of Panel Data*, 5th ed., sec. 2.3. Wiley.
    """
    call = capture("between_ols", locals())
    check_panel(panel)
    check_option(cov_type, BetweenCovType, "cov_type")
    design = build_design(formula, panel)
    ent = _codes(design.y.index, 0)
    check_dependent(design.y, intercept=design.intercept, context=f"{formula!r}: ")
    means = design.exog.groupby(ent).mean()
    n_entities, n_params = len(means), design.exog.shape[1] + design.intercept
    try:
        check_regressors(means, intercept=design.intercept, context=f"{formula!r} (entity means): ")
    except SpecError as exc:  # with too few means they are collinear whatever the data: say that instead
        if n_entities > n_params or "perfectly collinear" not in str(exc):
            raise
    if n_entities <= n_params:
        raise SpecError(
            f"{formula!r}: the between regression has {n_entities} entity means for {n_params} coefficients, so "
            "zero residual degrees of freedom; it needs more entities than coefficients."
        )
    x = _with_intercept(design.exog, design.intercept)
    from linearmodels.panel import BetweenOLS

    res = BetweenOLS(design.y, x).fit(cov_type=cov_type)
    return call.attach(_result(
        params=res.params,
        cov=res.cov,
        design=design,
        panel=panel,
        estimator="Between",
        engine="linearmodels BetweenOLS",
        cov_type=cov_type,
        df_inference=float(res.df_resid),
        r2={"between": float(res.rsquared), "within": float(res.rsquared_within),
            "overall": float(res.rsquared_overall)},
        effects=(),
    ))
