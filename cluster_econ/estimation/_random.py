"""Random-effects estimators: Swamy-Arora feasible GLS (linearmodels) and maximum likelihood (statsmodels).

See :mod:`cluster_econ.estimation._linear` for the covariance conventions.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._calls import capture
from ..data import RegionalPanel
from ..errors import ConvergenceWarning, SpecError, find_stack_level
from ..typing import RECovType, REMethod
from ._common import check_dependent, check_dof, check_option, check_panel, check_regressors
from ._formula import build_design
from ._linear import _codes, _df_inference, _result, _with_intercept, cov_details
from ._result import EstimationResult

__all__ = ["REMethod", "random_effects"]


def random_effects(
    formula: str,
    panel: RegionalPanel,
    *,
    method: REMethod = "swamy_arora",
    cov_type: RECovType = "unadjusted",
) -> EstimationResult:
    """Random-effects (GLS) estimator with entity effects.

    Parameters
    ----------
    formula : str
        The formula.
    panel : RegionalPanel
        The data.
    method : {"swamy_arora", "ml"}, optional
        ``"swamy_arora"`` (the default): feasible GLS with the variance components of Swamy & Arora
        (1972), on ``linearmodels.panel.RandomEffects``. ``"ml"``: maximum likelihood, on
        ``statsmodels.MixedLM`` with a random intercept per entity (``reml=False``).
    cov_type : {"unadjusted", "robust", "clustered"}, optional
        Covariance of the GLS estimates (``"swamy_arora"`` only; ML reports the information-matrix
        covariance). The default is ``"unadjusted"``.

    Returns
    -------
    EstimationResult
        ``statistics`` hold ``sigma_u`` (effects), ``sigma_e`` (idiosyncratic) and ``rho``.

    References
    ----------
    Swamy, P. A. V. B., & Arora, S. S. (1972). The exact finite sample properties of the estimators
    of coefficients in the error components regression models. *Econometrica*, 40(2), 261-275.
    Baltagi, B. H. (2013). *Econometric Analysis of Panel Data*, 5th ed., sec. 2.3. Wiley.
    """
    call = capture("random_effects", locals())
    check_panel(panel)
    check_option(method, REMethod, "method")
    check_option(cov_type, RECovType, "cov_type")
    design = build_design(formula, panel)
    ent = _codes(design.y.index, 0)
    check_dependent(design.y, intercept=design.intercept, context=f"random_effects({formula!r}): ")
    exog = check_regressors(design.exog, intercept=design.intercept, context=f"{formula!r}: ")
    x = _with_intercept(exog, design.intercept)
    n_entities = int(ent.max()) + 1
    needed = x.shape[1] + 1 if method == "swamy_arora" else 2
    if n_entities < needed:
        why = (
            f"the variance of the effects comes from the between regression of the {n_entities} entity means on "
            f"{x.shape[1]} coefficients, which needs at least {needed} entities"
            if method == "swamy_arora"
            else "the variance of the effects cannot be told from the residual variance with one entity"
        )
        raise SpecError(
            f"random_effects({formula!r}): {n_entities} entit{'y' if n_entities == 1 else 'ies'} in the sample; {why}. "
            "Use more entities, or panel_ols(..., effects=()) for a single entity."
        )
    check_dof(design.y.index, x.shape[1], effects=("entity",), intercept=design.intercept, cov_type=cov_type,
              context=f"random_effects({formula!r}): ")
    if method == "swamy_arora":
        kwargs: dict[str, Any] = {"cov_type": cov_type}
        if cov_type == "clustered":
            kwargs.update(cluster_entity=True, group_debias=True)
        from linearmodels.panel import RandomEffects

        res = RandomEffects(design.y, x).fit(**kwargs)
        s2u, s2e = float(res.variance_decomposition["Effects"]), float(res.variance_decomposition["Residual"])
        return call.attach(_result(
            params=res.params,
            cov=res.cov,
            design=design,
            panel=panel,
            estimator="Random effects (Swamy-Arora)",
            engine="linearmodels RandomEffects",
            cov_type=cov_type,
            df_inference=_df_inference(cov_type, ("entity",), design.y.index, res.df_resid),
            r2={"overall": float(res.rsquared_overall), "within": float(res.rsquared_within),
                "between": float(res.rsquared_between)},
            effects=("entity",),
            statistics={"sigma_u": np.sqrt(s2u), "sigma_e": np.sqrt(s2e), "rho": s2u / (s2u + s2e),
                        "theta (mean)": float(np.asarray(res.theta).mean())},
            details={"method": method, **cov_details(cov_type, ("entity",), None, 0)},
        ))
    if cov_type != "unadjusted":
        raise SpecError(
            f"random_effects(method='ml') reports the likelihood covariance only; got cov_type={cov_type!r}."
        )
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning

    with warnings.catch_warnings():
        # statsmodels' "MLE may be on the boundary" heuristic compares the effects' variance with a
        # fixed 0.01, whatever the units of the data; the boundary is checked below relative to sigma_e
        warnings.simplefilter("ignore", SMConvergenceWarning)
        res = sm.MixedLM(design.y.to_numpy(), x, groups=ent).fit(reml=False)
    names = list(x.columns)
    s2u, s2e = float(np.asarray(res.cov_re).ravel()[0]), float(res.scale)
    if not res.converged:
        warnings.warn(
            f"random_effects(method='ml') on {formula!r}: the likelihood maximisation did not converge.",
            ConvergenceWarning,
            stacklevel=find_stack_level(),
        )
    elif s2u <= 1e-6 * s2e:
        warnings.warn(
            f"random_effects(method='ml') on {formula!r}: the variance of the entity effects is estimated at "
            "zero (the boundary); the estimates equal pooled OLS and their covariance may be unreliable.",
            ConvergenceWarning,
            stacklevel=find_stack_level(),
        )
    fitted = x.to_numpy() @ res.fe_params.to_numpy()
    r2_overall = float(np.corrcoef(fitted, design.y.to_numpy())[0, 1] ** 2)
    return call.attach(_result(
        params=pd.Series(np.asarray(res.fe_params), index=names),
        cov=pd.DataFrame(np.asarray(res.cov_params())[: len(names), : len(names)], index=names, columns=names),
        design=design,
        panel=panel,
        estimator="Random effects (ML)",
        engine="statsmodels MixedLM",
        cov_type=cov_type,
        df_inference=None,
        r2={"overall": r2_overall},
        effects=("entity",),
        statistics={"sigma_u": np.sqrt(s2u), "sigma_e": np.sqrt(s2e), "rho": s2u / (s2u + s2e),
                    "Log-likelihood": float(res.llf)},
        details={"method": method},
    ))
