"""Shared checks for the estimators: options, panels, absorbed and collinear regressors."""

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ClusterEconWarning, SpecError, check_option, find_stack_level, plain
from ..typing import CovType, Effect

logger = logging.getLogger(__name__)

#: below this many clusters, cluster-robust standard errors come with a warning (Cameron and Miller 2015)
FEW_CLUSTERS = 10

__all__ = [
    "FEW_CLUSTERS",
    "CovType",
    "Effect",
    "check_bandwidth",
    "check_dependent",
    "check_dof",
    "check_effects",
    "check_exact_fit",
    "check_option",
    "check_panel",
    "check_regressors",
    "plain",
    "whole_number",
]


def whole_number(value: Any, name: str, *, minimum: int, meaning: str) -> int | None:
    """``value`` as a Python int (None stays None), or a SpecError naming it.

    Numpy integers are accepted; booleans, floats and strings are not.
    """
    if value is None:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_) and int(value) >= minimum:
        return int(value)
    raise SpecError(f"{name} must be a whole number of at least {minimum} ({meaning}); got {plain(value)!r}.")


def check_effects(effects: Iterable[str] | str, *, name: str = "effects") -> tuple[str, ...]:
    """Normalise ``effects`` to an ordered tuple drawn from ("entity", "time")."""
    if isinstance(effects, str) or not isinstance(effects, Iterable):
        got = f"the string {effects!r}" if isinstance(effects, str) else f"{type(effects).__name__} {effects!r}"
        raise SpecError(
            f"{name} must be a tuple such as ('entity',) or ('entity', 'time'), or {name}=() for none; got {got}."
        )
    chosen = tuple(effects)
    for e in chosen:
        check_option(e, Effect, name)
    if len(set(chosen)) != len(chosen):
        raise SpecError(f"{name}={plain(chosen)!r} names an effect twice; give each of 'entity' and 'time' once.")
    return tuple(e for e in ("entity", "time") if e in chosen)


def check_dof(
    index: pd.MultiIndex,
    n_params: int,
    *,
    effects: tuple[str, ...] = (),
    intercept: bool,
    cov_type: str,
    clusters: tuple[str, ...] = ("entity",),
    context: str,
) -> None:
    """Refuse a fit that has no residual degrees of freedom or too few clusters, saying why.

    With clusters (entities, or periods for Driscoll-Kraay) but fewer than ``FEW_CLUSTERS`` of them, the
    fit is made with a warning: cluster-robust standard errors are then biased downward.

    ``n_params`` counts the estimated coefficients (the intercept included). Entity and time effects
    absorb one degree of freedom per entity and per period (less one for each effect an intercept or
    another effect already covers). With none left the residuals are zero by construction and the
    standard errors are round-off (1e-16), so the fit is refused rather than reported.

    References
    ----------
    .. [1] Cameron, A. C. and D. L. Miller (2015). "A Practitioner's Guide to Cluster-Robust
       Inference." *Journal of Human Resources* 50(2), 317-372.
    """
    n = len(index)
    n_entities = len(index.get_level_values(0).unique())
    n_periods = len(index.get_level_values(1).unique())
    absorbed = 0
    for effect, count in (("entity", n_entities), ("time", n_periods)):
        if effect in effects:
            absorbed += count - (1 if (intercept or absorbed) else 0)
    df_resid = n - n_params - absorbed
    if df_resid <= 0:
        parts = [f"{n_params} coefficient{'s' if n_params != 1 else ''}"]
        if absorbed:
            parts.append(f"{absorbed} degrees of freedom for the {' and '.join(effects)} effects")
        raise SpecError(
            f"{context}zero residual degrees of freedom: {n} observations of {n_entities} entities in "
            f"{n_periods} periods against {' and '.join(parts)}, so the fit is exact, the residuals "
            "are zero and no standard error can be estimated. Use more entities or periods, or fewer terms "
            "or effects."
        )
    if cov_type in ("clustered", "driscoll_kraay"):
        dims = clusters if cov_type == "clustered" else ("time",)
        for dim in dims:
            groups = n_entities if dim == "entity" else n_periods
            what = f"standard errors clustered by {dim}" if cov_type == "clustered" else "Driscoll-Kraay errors"
            unit, units = ("entity", "entities") if dim == "entity" else ("period", "periods")
            if groups < 2:
                raise SpecError(
                    f"{context}{what} need at least two {units}; the estimation sample has "
                    f"one {unit}. Use cov_type='unadjusted', or more data."
                )
            other = "time" if dim == "entity" else "entity"
            if groups == 2 and other in effects:
                # the two groups' scores are equal once the other effects are removed, and sum to zero
                raise SpecError(
                    f"{context}{what} with {other} effects need at least three {units}; with two {units} "
                    f"their scores are equal and sum to zero, so every standard error would be zero (round-off). "
                    "Use cov_type='robust' or 'unadjusted', or more data."
                )
            if groups < FEW_CLUSTERS:
                warnings.warn(
                    f"{context}{what} rest on {groups} {units}; with fewer than {FEW_CLUSTERS} clusters they are "
                    "biased downward and their tests reject too often (Cameron and Miller 2015). Read the "
                    "standard errors as a lower bound, or use more data.",
                    ClusterEconWarning, stacklevel=find_stack_level())


def check_bandwidth(cov_type: str, bandwidth: int | None, n_periods: int, *, context: str) -> None:
    """Refuse a Driscoll-Kraay bandwidth that is not below the number of periods."""
    if cov_type == "driscoll_kraay" and bandwidth is not None and bandwidth >= n_periods:
        raise SpecError(
            f"{context}bandwidth={bandwidth} of the Driscoll-Kraay kernel must be below the {n_periods} periods of "
            f"the estimation sample (the period sums of the scores have autocovariances up to lag {n_periods - 1}); "
            "use a smaller bandwidth, or None for the Newey-West rule."
        )


def check_dependent(
    y: pd.Series,
    *,
    entity_codes: np.ndarray | None = None,
    time_codes: np.ndarray | None = None,
    intercept: bool = True,
    context: str,
) -> None:
    """Refuse a dependent variable that does not vary (once the effects are removed): nothing to explain."""
    values = y.to_numpy(dtype=float)[:, None]
    scale = float(np.sqrt((values**2).sum())) or 1.0
    resid, what = _residualise(values / scale, entity_codes, time_codes, intercept)
    if np.sqrt((resid**2).sum()) < 1e-9:
        where = "" if what == "constant" else f" once the {what} are removed"
        raise SpecError(
            f"{context}the dependent variable {y.name!r} does not vary{where} (e.g. {plain(values[0, 0])!r}): "
            "there is nothing to explain, the fit is exact and every standard error would be zero. Check the "
            "data and the formula."
        )


def check_exact_fit(ssr: float, y: pd.Series, *, context: str) -> None:
    """Refuse a fit whose residuals are all zero (round-off): its standard errors would be zero too."""
    total = float((y.to_numpy(dtype=float) ** 2).sum())
    if ssr <= 1e-24 * total:
        raise SpecError(
            f"{context}the regressors explain {y.name!r} exactly (residual sum of squares {ssr:.3g}), so every "
            "standard error is zero (round-off) and no inference is possible; the dependent variable is an exact "
            "function of the regressors (an identity or a copy). Remove the terms that reproduce it."
        )


def check_panel(panel: Any) -> None:
    """Raise a SpecError unless ``panel`` looks like a RegionalPanel."""
    for attr in ("frame", "entity", "time", "lag"):
        if not hasattr(panel, attr):
            raise SpecError(
                f"Expected a RegionalPanel (see ce.load_dataset or ce.RegionalPanel.from_frame); got "
                f"{type(panel).__name__}, which has no {attr!r}."
            )


def _demean(x: np.ndarray, codes: np.ndarray) -> np.ndarray:
    counts = np.bincount(codes).astype(float)
    means = np.column_stack([np.bincount(codes, weights=x[:, j]) / counts for j in range(x.shape[1])])
    return x - means[codes]


def _plural(text: str) -> str:
    pairs = (("its first difference is", "their first differences are"), ("it is", "they are"), ("is ", "are "),
             ("does not", "do not"))
    for one, many in pairs:
        text = text.replace(one, many)
    return text


def _residualise(
    x: np.ndarray, entity_codes: np.ndarray | None, time_codes: np.ndarray | None, intercept: bool
) -> tuple[np.ndarray, str]:
    """``x`` with the effects (or the mean) removed, and what was removed ("constant", "entity effects", ...)."""
    if entity_codes is None and time_codes is None:
        return (x - x.mean(axis=0) if intercept else x), "constant"
    # alternating projections remove entity and time means (exact in one pass for one effect)
    z = x
    for _ in range(1 if entity_codes is None or time_codes is None else 100):
        prev = z
        if entity_codes is not None:
            z = _demean(z, entity_codes)
        if time_codes is not None:
            z = _demean(z, time_codes)
        if np.abs(z - prev).max(initial=0.0) < 1e-13:
            break
    removed = [n for n, c in (("entity", entity_codes), ("time", time_codes)) if c is not None]
    return z, " and ".join(removed) + " effects"


def _describe_dropped(drop: list[tuple[str, str]]) -> str:
    grouped: dict[str, list[str]] = {}
    for n, why in drop:
        grouped.setdefault(why, []).append(repr(n))
    return "; ".join(f"{', '.join(ns)} {_plural(why) if len(ns) > 1 else why}" for why, ns in grouped.items())


def check_regressors(
    exog: pd.DataFrame,
    *,
    entity_codes: np.ndarray | None = None,
    time_codes: np.ndarray | None = None,
    intercept: bool,
    drop_absorbed: bool = False,
    context: str = "",
    can_drop: bool = False,
    zero_why: str = "is zero in every row",
) -> pd.DataFrame:
    """Find regressors absorbed by the effects or collinear with the others.

    Each such regressor raises a :class:`SpecError` naming it, or, with ``drop_absorbed=True``, is
    removed with a :class:`ClusterEconWarning`. Returns the regressors kept. A regressor that is
    zero in every row is reported with ``zero_why`` (first differences say why it is zero).
    """
    raw = exog.to_numpy(dtype=float)
    all_zero = ~np.any(raw != 0, axis=0)
    scale = np.sqrt((raw**2).sum(axis=0))
    scale[scale == 0] = 1.0
    xs, what = _residualise(raw / scale, entity_codes, time_codes, intercept)  # unit columns: relative tolerances
    names = list(exog.columns)
    drop: list[tuple[str, str]] = []
    kept: list[int] = []
    for j, name in enumerate(names):
        if all_zero[j]:
            drop.append((name, zero_why))
            continue
        if np.sqrt((xs[:, j] ** 2).sum()) < 1e-9:
            why = (
                "is constant, so it is collinear with the intercept"
                if what == "constant"
                else f"does not vary once the {what} are removed (it is absorbed by them)"
            )
            drop.append((name, why))
            continue
        trial = [*kept, j]
        if np.linalg.matrix_rank(xs[:, trial], tol=1e-9 * np.sqrt(len(xs))) < len(trial):
            others = ", ".join(repr(names[i]) for i in kept)
            given = "" if what == "constant" else f" given the {what}"
            drop.append((name, f"is perfectly collinear with {others}{given}"))
            continue
        kept.append(j)
    if drop:
        text = _describe_dropped(drop)
        if not drop_absorbed:
            hint = ", or pass drop_absorbed=True to drop such regressors with a warning" if can_drop else ""
            raise SpecError(f"{context}{text}. Remove {'it' if len(drop) == 1 else 'them'} from the formula{hint}.")
        warnings.warn(f"{context}dropped {text}.", ClusterEconWarning, stacklevel=find_stack_level())
    return exog.iloc[:, kept]
