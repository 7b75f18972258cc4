"""Hausman (1978) specification test of random against fixed effects."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np

from ..errors import ClusterEconWarning, SpecError, find_stack_level
from ._linear import INTERCEPT
from ._result import EstimationResult, TestResult

__all__ = ["hausman"]


# -- Hausman --------------------------------------------------------------------------------------
def hausman(fe_result: EstimationResult, re_result: EstimationResult) -> TestResult:
    """Hausman (1978) test of the random-effects assumption.

    Compares the coefficients the two results share (the intercept excluded):
    ``H = (b_FE - b_RE)' [V_FE - V_RE]^+ (b_FE - b_RE)``, chi-squared with the rank of the
    difference of the covariances as degrees of freedom. The test assumes random effects is
    efficient under the null, so both results should have ``cov_type="unadjusted"``; otherwise a
    :class:`~cluster_econ.errors.ClusterEconWarning` says so (the difference of a clustered and an
    unadjusted covariance need not be positive definite, and the statistic is then misleading).

    Parameters
    ----------
    fe_result : EstimationResult
        A within (fixed-effects) estimate, consistent under both hypotheses.
    re_result : EstimationResult
        A random-effects estimate, efficient under the null.

    Returns
    -------
    TestResult
        A negative statistic (the difference of the covariances is not positive definite) is
        returned as it is, with a NaN p-value, a ``note`` saying why and a warning.

    Raises
    ------
    SpecError
        The two are not a within fit and a random-effects fit (given in the other order they are
        swapped, with a warning), or explain different variables.

    References
    ----------
    Hausman, J. A. (1978). Specification tests in econometrics. *Econometrica*, 46(6), 1251-1271.
    """
    for name, res in (("fe_result", fe_result), ("re_result", re_result)):
        if not isinstance(res, EstimationResult):
            raise SpecError(f"hausman() needs two EstimationResult objects; {name} is a {type(res).__name__}.")
    fe_result, re_result = _order(fe_result, re_result)
    if "time" in fe_result.effects and not _has_period_dummies(re_result, fe_result.n_periods):
        raise SpecError(
            "hausman(): the within fit removes time effects that the random-effects fit does not model, so the two "
            "differ by the time effects whether or not random effects is consistent. Compare a within fit with "
            "entity effects only, or add the period dummies to the random-effects formula (e.g. '+ C(year)')."
        )
    if fe_result.dependent != re_result.dependent:
        raise SpecError(
            f"hausman(): the two results explain different variables ({fe_result.dependent!r} and "
            f"{re_result.dependent!r}); fit the same formula with both estimators."
        )
    samples = [(r.nobs, r.provenance.dataset_sha256) for r in (fe_result, re_result)]
    if samples[0] != samples[1]:
        raise SpecError(
            f"hausman(): the two fits use different samples ({fe_result.nobs} and {re_result.nobs} observations"
            f"{', different data' if samples[0][1] != samples[1][1] else ''}); fit both on the same panel and formula."
        )
    mixed = [f"{name} has cov_type={res.cov_type!r}" for name, res in (("fe_result", fe_result),
             ("re_result", re_result)) if res.cov_type != "unadjusted"]
    if mixed:
        warnings.warn(
            f"hausman(): {' and '.join(mixed)}; the classic test needs unadjusted covariances for both "
            "(refit with cov_type='unadjusted').",
            ClusterEconWarning,
            stacklevel=find_stack_level(),
        )
    common = [t for t in fe_result.params.index if t in re_result.params.index and t != INTERCEPT]
    if not common:
        raise SpecError("hausman(): the two results share no coefficient besides the intercept.")
    b = (fe_result.params[common] - re_result.params[common]).to_numpy()
    v = (fe_result.cov.loc[common, common] - re_result.cov.loc[common, common]).to_numpy()
    stat = float(b @ np.linalg.pinv(v) @ b)
    dof = int(np.linalg.matrix_rank(v))
    null = "the entity effects are uncorrelated with the regressors (random effects is consistent)"
    if stat < 0:
        note = (
            "the statistic is negative: V_FE - V_RE is not positive definite, so the chi-squared "
            "distribution does not apply and there is no p-value (in finite samples the random-effects "
            "covariance need not be the smaller; refit both with the same residual variance, or use a "
            "regression-based (Mundlak) test)"
        )
        warnings.warn(f"hausman(): {note}.", ClusterEconWarning, stacklevel=find_stack_level())
        return TestResult(statistic=stat, pvalue=float("nan"), distribution=f"chi2({dof})", null=null, note=note)
    from scipy import stats

    return TestResult(statistic=stat, pvalue=float(stats.chi2.sf(stat, dof)), distribution=f"chi2({dof})", null=null)


def _has_period_dummies(res: EstimationResult, n_periods: int) -> bool:
    """Whether one C() term of ``res`` has a dummy for every period but one (``+ C(year)``)."""
    counts = Counter(term.split("[T.")[0] for term in res.params.index if term.startswith("C(") and "[T." in term)
    return any(count == n_periods - 1 for count in counts.values())


def _is_within(res: EstimationResult) -> bool:
    return res.estimator in ("Within", "Two-way within")  # entity effects removed


def _is_random(res: EstimationResult) -> bool:
    return res.estimator.startswith("Random effects")


def _order(first: EstimationResult, second: EstimationResult) -> tuple[EstimationResult, EstimationResult]:
    """(within fit, random-effects fit); swapped with a warning if given the other way round."""
    if _is_within(first) and _is_random(second):
        return first, second
    if _is_random(first) and _is_within(second):
        warnings.warn(
            "hausman(fe_result, re_result): the first result is the random-effects fit and the second the "
            "within fit; they were swapped, so the statistic compares them the right way round.",
            ClusterEconWarning,
            stacklevel=find_stack_level(),
        )
        return second, first
    raise SpecError(
        "hausman() compares a within (fixed-effects) fit, from panel_ols with entity effects, with a random-effects "
        f"fit, from random_effects; got {first.estimator!r} and {second.estimator!r}."
    )
