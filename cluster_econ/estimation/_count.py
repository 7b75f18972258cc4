"""Count-data models: conditional fixed-effects Poisson, pooled Poisson and negative binomial.

Every estimate runs on statsmodels: ``ConditionalPoisson`` for fixed effects, ``Poisson`` and
``NegativeBinomial`` (NB2) for pooled models.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._calls import capture
from ..data import RegionalPanel
from ..errors import ConvergenceWarning, DataValidationError, find_stack_level
from ..typing import CountCovType, Family, PoissonFECovType
from ._common import check_dof, check_option, check_panel, check_regressors, plain
from ._formula import build_design
from ._linear import INTERCEPT, _codes, _result, _with_intercept, cov_details
from ._result import EstimationResult

__all__ = ["count_model", "poisson_fe"]

CountCov = CountCovType


def _check_counts(y: pd.Series, formula: str) -> None:
    values = y.to_numpy()
    bad = (values < 0) | (np.mod(values, 1) != 0)
    if bad.any():
        names = tuple(str(n) for n in y.index.names)
        where = plain(tuple(y.index[bad][0]))
        more = int(bad.sum()) - 1
        also = f" (and {more} more row{'s' if more > 1 else ''})" if more else ""
        raise DataValidationError(
            f"{formula!r}: the dependent variable of a count model must be a non-negative whole number; "
            f"{y.name} is {plain(values[bad][0])!r} at ({', '.join(names)}) = {where!r}{also}. Use counts on the "
            "left, or panel_ols for a continuous outcome."
        )


def _fit_quietly(fit: Any, formula: str) -> Any:
    from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning
    from statsmodels.tools.sm_exceptions import HessianInversionWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SMConvergenceWarning)
        warnings.simplefilter("always", HessianInversionWarning)
        res = fit()
    converged = res.mle_retvals.get("converged", True) if hasattr(res, "mle_retvals") else True
    if not converged or any(issubclass(w.category, SMConvergenceWarning | HessianInversionWarning) for w in caught):
        warnings.warn(
            f"{formula!r}: the likelihood maximisation did not converge; the estimates may be unreliable.",
            ConvergenceWarning,
            stacklevel=find_stack_level(),
        )
    return res


def poisson_fe(
    formula: str,
    panel: RegionalPanel,
    *,
    cov_type: PoissonFECovType = "clustered",
) -> EstimationResult:
    """Conditional fixed-effects Poisson (Hausman, Hall & Griliches 1984) for count outcomes.

    Parameters
    ----------
    formula : str
        Counts on the left (e.g. ``"patents ~ log_rd + lag(log_rd, 1) + log_spill"``); no intercept
        is estimated, it is part of the entity effects.
    panel : RegionalPanel
        The data. Entities whose counts are all zero carry no information and are dropped.
    cov_type : {"unadjusted", "clustered"}, optional
        ``"clustered"`` (the default): sandwich with the conditional-likelihood scores summed by
        entity, times ``G / (G - 1)``, robust to any misspecification of the Poisson variance
        (Wooldridge 1999). ``"unadjusted"``: inverse Hessian of the conditional likelihood.

    Returns
    -------
    EstimationResult

    References
    ----------
    Hausman, J., Hall, B. H., & Griliches, Z. (1984). Econometric models for count data with an
    application to the patents-R&D relationship. *Econometrica*, 52(4), 909-938.
    Wooldridge, J. M. (1999). Distribution-free estimation of some nonlinear panel data models.
    *Journal of Econometrics*, 90(1), 77-97.
    """
    call = capture("poisson_fe", locals())
    check_panel(panel)
    check_option(cov_type, PoissonFECovType, "cov_type")
    design = build_design(formula, panel)
    _check_counts(design.y, formula)
    ent = _codes(design.y.index, 0)
    totals = np.bincount(ent, weights=design.y.to_numpy())
    keep = totals[ent] > 0
    y, exog, ent = design.y[keep], design.exog[keep], ent[keep]
    ent = pd.factorize(ent)[0]
    exog = check_regressors(exog, entity_codes=ent, intercept=False, context=f"{formula!r}: ")
    check_dof(y.index, exog.shape[1], effects=("entity",), intercept=False, cov_type=cov_type,
              context=f"poisson_fe({formula!r}): ")
    from statsmodels.discrete.conditional_models import ConditionalPoisson

    model = ConditionalPoisson(y.to_numpy(), exog.to_numpy(), groups=ent)
    res = _fit_quietly(lambda: model.fit(method="newton", maxiter=100), formula)
    names = list(exog.columns)
    params = np.asarray(res.params)
    hinv = np.asarray(res.cov_params())
    if cov_type == "clustered":
        x, yv = exog.to_numpy(), y.to_numpy()
        eta = x @ params
        eta = eta - np.bincount(ent, weights=eta)[ent] / np.bincount(ent)[ent]  # stabilise exp
        mu = np.exp(eta)
        share = mu / np.bincount(ent, weights=mu)[ent]
        resid = yv - np.bincount(ent, weights=yv)[ent] * share
        scores = np.zeros((ent.max() + 1, x.shape[1]))
        np.add.at(scores, ent, x * resid[:, None])
        g = scores.shape[0]
        cov = hinv @ (scores.T @ scores) @ hinv * g / (g - 1)
    else:
        cov = hinv
    design_used = type(design)(y=y, exog=exog, intercept=False, parsed=design.parsed, term_columns=design.term_columns)
    return call.attach(_result(
        params=pd.Series(params, index=names),
        cov=pd.DataFrame(cov, index=names, columns=names),
        design=design_used,
        panel=panel,
        estimator="Poisson fixed effects (conditional)",
        engine="statsmodels ConditionalPoisson",
        cov_type=cov_type,
        df_inference=None,
        r2={},
        effects=("entity",),
        statistics={"Log-likelihood (conditional)": float(res.llf), "Entities dropped (all zero)": float(
            (totals == 0).sum())},
        details=cov_details(cov_type, ("entity",), None, 0),
    ))


def count_model(
    formula: str,
    panel: RegionalPanel,
    *,
    family: Family = "poisson",
    cov_type: CountCov = "clustered",
) -> EstimationResult:
    """Pooled Poisson or negative binomial (NB2) regression for counts.

    Parameters
    ----------
    formula : str
        Counts on the left; an intercept is included unless the formula says ``- 1``.
    panel : RegionalPanel
        The data.
    family : {"poisson", "negative_binomial"}, optional
        The default is ``"poisson"``. The negative binomial reports its dispersion ``alpha``
        (variance ``mu + alpha mu^2``) among the parameters.
    cov_type : {"unadjusted", "robust", "clustered"}, optional
        Inverse Hessian, heteroskedasticity-robust sandwich (HC0), or clustered by entity with
        ``G / (G - 1) (n - 1) / (n - k)`` (statsmodels' default). The default is ``"clustered"``.

    Returns
    -------
    EstimationResult

    References
    ----------
    Cameron, A. C., & Trivedi, P. K. (2013). *Regression Analysis of Count Data*, 2nd ed.
    Cambridge University Press.
    """
    call = capture("count_model", locals())
    check_panel(panel)
    check_option(family, Family, "family")
    check_option(cov_type, CountCov, "cov_type")
    design = build_design(formula, panel)
    _check_counts(design.y, formula)
    exog = check_regressors(design.exog, intercept=design.intercept, context=f"{formula!r}: ")
    x = _with_intercept(exog, design.intercept)
    ent = _codes(design.y.index, 0)
    import statsmodels.api as sm

    model = (sm.Poisson if family == "poisson" else sm.NegativeBinomial)(design.y, x)
    kwargs: dict[str, Any] = {"disp": 0, "maxiter": 500}
    if cov_type == "robust":
        kwargs.update(cov_type="HC0")
    elif cov_type == "clustered":
        kwargs.update(cov_type="cluster", cov_kwds={"groups": ent})
    start = None
    if family == "negative_binomial":
        start = np.r_[_fit_quietly(lambda: sm.Poisson(design.y, x).fit(disp=0), formula).params, 0.1]
    res = _fit_quietly(lambda: model.fit(start_params=start, **kwargs), formula)
    params = res.params.rename({"const": INTERCEPT})
    cov = res.cov_params().rename(index={"const": INTERCEPT}, columns={"const": INTERCEPT})
    return call.attach(_result(
        params=params,
        cov=cov,
        design=design,
        panel=panel,
        estimator="Poisson" if family == "poisson" else "Negative binomial (NB2)",
        engine=f"statsmodels {'Poisson' if family == 'poisson' else 'NegativeBinomial'}",
        cov_type=cov_type,
        df_inference=None,
        r2={"pseudo (McFadden)": float(res.prsquared)},
        effects=(),
        statistics={"Log-likelihood": float(res.llf)},
        details={"family": family, **cov_details(cov_type, ("entity",), None, 0)},
    ))

