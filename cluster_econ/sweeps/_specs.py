"""Specs of a sweep: levers, uncertainties and outcomes (EMA Workbench's vocabulary).

A :class:`Lever` is a policy knob, an :class:`Uncertainty` a model constant whose value is not known,
an :class:`Outcome` a model variable read from every run. All are frozen and validated on construction.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cluster_econ.errors import SpecError, check_option, plain
from cluster_econ.typing import Distribution, OutcomeTime, Reduce

__all__ = ["Distribution", "Lever", "Outcome", "Uncertainty", "uncertainties_from"]


_PARAMS: dict[str, set[str]] = {"uniform": set(), "triangular": {"mode"}, "normal": {"mean", "sd", "correlation"}}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise SpecError(f"{what} must be a finite number; got {plain(value)!r}.")
    return float(value)


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise SpecError(f"The name of a {what} must be a non-empty string; got {plain(value)!r}.")
    return value


@dataclasses.dataclass(frozen=True)
class Lever:
    """A policy knob: a model constant set by the policy maker.

    Parameters
    ----------
    name : str
        A constant of the model (Python or Vensim name).
    lower, upper : float
        The range explored; it must lie within the model's declared bounds.
    values : sequence of float, optional
        A discrete set of values (needed by ``design="full_factorial"``); each within ``[lower, upper]``.
    """

    name: str
    lower: float
    upper: float
    values: tuple[float, ...] | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        _name(self.name, "lever")
        lower = _number(self.lower, f"The lower bound of lever {self.name!r}")
        upper = _number(self.upper, f"The upper bound of lever {self.name!r}")
        if not lower <= upper:
            raise SpecError(f"Lever {self.name!r} has lower={lower:g} above upper={upper:g}; swap them.")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        if self.values is not None:
            if isinstance(self.values, str | bytes) or not hasattr(self.values, "__iter__"):
                raise SpecError(f"values of lever {self.name!r} must be a sequence of numbers; got {self.values!r}.")
            values = tuple(_number(v, f"A value of lever {self.name!r}") for v in self.values)
            if not values:
                raise SpecError(f"Lever {self.name!r} has an empty values set; give at least one value or None.")
            if len(set(values)) != len(values):
                raise SpecError(f"Lever {self.name!r} lists a value twice in values={list(values)}.")
            outside = [v for v in values if not lower <= v <= upper]
            if outside:
                raise SpecError(f"Lever {self.name!r}: value {outside[0]:g} is outside its range "
                                f"[{lower:g}, {upper:g}].")
            object.__setattr__(self, "values", tuple(sorted(values)))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map points of the unit interval to lever values (a discrete set is indexed evenly)."""
        if self.values is not None:
            index = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return np.asarray(self.values)[index]
        return self.lower + u * (self.upper - self.lower)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "lower": self.lower, "upper": self.upper,
                "values": None if self.values is None else list(self.values)}


class Uncertainty:
    """A model constant whose value is not known, drawn from a distribution on ``[lower, upper]``.

    Parameters
    ----------
    name : str
        A constant of the model (Python or Vensim name).
    lower, upper : float
        Support of the distribution.
    distribution : {"uniform", "triangular", "normal"}, default "uniform"
        ``"triangular"`` takes ``mode``; ``"normal"`` takes ``mean`` and ``sd`` and is truncated to
        ``[lower, upper]``. Normal uncertainties may also take ``correlation`` (a mapping from other
        normal uncertainties' names to correlation coefficients): they are then drawn jointly through a
        Gaussian copula (as :func:`uncertainties_from` sets up).
    **params
        The distribution's parameters.

    Instances are immutable (frozen) and compare equal when all fields are equal.
    """

    __slots__ = ("distribution", "lower", "name", "params", "upper")
    name: str
    lower: float
    upper: float
    distribution: str
    params: Mapping[str, Any]

    def __init__(self, name: str, lower: float, upper: float, *, distribution: Distribution = "uniform",
                 **params: Any) -> None:
        _name(name, "uncertainty")
        lo = _number(lower, f"The lower bound of uncertainty {name!r}")
        hi = _number(upper, f"The upper bound of uncertainty {name!r}")
        if not lo < hi:
            raise SpecError(f"Uncertainty {name!r} needs lower < upper; got [{lo:g}, {hi:g}].")
        check_option(distribution, Distribution, "distribution")
        unknown = set(params) - _PARAMS[distribution]
        if unknown:
            raise SpecError(f"Uncertainty {name!r}: {sorted(unknown)} are not parameters of the {distribution} "
                            f"distribution; it takes {sorted(_PARAMS[distribution]) or 'none'}.")
        clean = _distribution_params(name, lo, hi, distribution, params)
        for key, value in (("name", name), ("lower", lo), ("upper", hi), ("distribution", distribution),
                           ("params", MappingProxyType(clean))):
            object.__setattr__(self, key, value)

    def __setattr__(self, key: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {key!r}")

    def __delattr__(self, key: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {key!r}")

    def __repr__(self) -> str:
        extra = "".join(f", {k}={dict(v) if isinstance(v, Mapping) else v!r}" for k, v in self.params.items())
        dist = "" if self.distribution == "uniform" else f", distribution={self.distribution!r}"
        return f"Uncertainty({self.name!r}, {self.lower!r}, {self.upper!r}{dist}{extra})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Uncertainty) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.name, self.lower, self.upper, self.distribution))

    def __reduce__(self) -> tuple:
        params = {k: dict(v) if isinstance(v, Mapping) else v for k, v in self.params.items()}
        return (_rebuild_uncertainty, (self.name, self.lower, self.upper, self.distribution, params))

    @property
    def correlation(self) -> dict[str, float]:
        return dict(self.params.get("correlation", {}))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map points of the unit interval to values (the inverse of the distribution function)."""
        lo, hi = self.lower, self.upper
        if self.distribution == "uniform":
            return lo + u * (hi - lo)
        if self.distribution == "triangular":
            c = (self.params["mode"] - lo) / (hi - lo)
            return np.asarray(stats.triang.ppf(u, c, loc=lo, scale=hi - lo), dtype=float)
        mean, sd = self.params["mean"], self.params["sd"]
        return np.asarray(stats.truncnorm.ppf(u, (lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        params = {k: dict(v) if isinstance(v, Mapping) else v for k, v in self.params.items()}
        return {"name": self.name, "lower": self.lower, "upper": self.upper, "distribution": self.distribution,
                **params}

def _distribution_params(name: str, lo: float, hi: float, distribution: str,
                         params: Mapping[str, Any]) -> dict[str, Any]:
    """Checked parameters of an uncertainty's distribution (none for the uniform one)."""
    if distribution == "triangular":
        return {"mode": _triangular_mode(name, lo, hi, params)}
    if distribution == "normal":
        return _normal_params(name, params)
    return {}


def _triangular_mode(name: str, lo: float, hi: float, params: Mapping[str, Any]) -> float:
    if "mode" not in params:
        raise SpecError(f"Uncertainty {name!r}: the triangular distribution needs mode=.")
    mode = _number(params["mode"], f"mode of uncertainty {name!r}")
    if not lo <= mode <= hi:
        raise SpecError(f"Uncertainty {name!r}: mode={mode:g} is outside [{lo:g}, {hi:g}].")
    return mode


def _normal_params(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    missing = {"mean", "sd"} - set(params)
    if missing:
        raise SpecError(f"Uncertainty {name!r}: the normal distribution needs {sorted(missing)}.")
    clean: dict[str, Any] = {"mean": _number(params["mean"], f"mean of uncertainty {name!r}"),
                             "sd": _number(params["sd"], f"sd of uncertainty {name!r}")}
    if not clean["sd"] > 0:
        raise SpecError(f"Uncertainty {name!r}: sd must be positive; got {clean['sd']:g}.")
    if "correlation" in params:
        clean["correlation"] = _correlation(name, params["correlation"])
    return clean


def _correlation(name: str, corr: Any) -> MappingProxyType[str, float]:
    if not isinstance(corr, Mapping):
        raise SpecError(f"Uncertainty {name!r}: correlation must map names to coefficients.")
    checked = MappingProxyType({str(k): _number(v, f"correlation of {name!r} with {k!r}") for k, v in corr.items()})
    bad = {k: v for k, v in checked.items() if not -1 <= v <= 1 or k == name}
    if bad:
        raise SpecError(f"Uncertainty {name!r}: correlations {bad} must lie in [-1, 1] and name others.")
    return checked



def _rebuild_uncertainty(name: str, lower: float, upper: float, distribution: Any, params: dict) -> Uncertainty:
    return Uncertainty(name, lower, upper, distribution=distribution, **params)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A model variable read from every run.

    Parameters
    ----------
    variable : str
        A model variable (Python or Vensim name).
    time : float or {"final", "all"}, default "final"
        The time read: a model time, the final time, or ``"all"`` for the whole saved time series.
    reduce : {"sum", "mean"} or None
        Reduction over the ``Region`` subscript (None keeps the regions).
    name : str, optional
        The outcome's column name; defaults to ``variable``.

    An outcome read at one time and reduced (or of an unsubscripted variable) is a scalar and lands in
    ``SweepResult.outcomes``; the others land in ``SweepResult.data``.
    """

    variable: str
    time: float | str = dataclasses.field(default="final", kw_only=True)
    reduce: str | None = dataclasses.field(default=None, kw_only=True)
    name: str | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        _name(self.variable, "outcome variable")
        if isinstance(self.time, str):
            check_option(self.time, OutcomeTime, "time")
        else:
            object.__setattr__(self, "time", _number(self.time, f"time of outcome {self.variable!r}"))
        if self.reduce is not None:
            check_option(self.reduce, Reduce, "reduce")
        if self.name is None:
            object.__setattr__(self, "name", self.variable)
        _name(self.name, "outcome")

    @property
    def label(self) -> str:
        return str(self.name)

    def to_dict(self) -> dict[str, Any]:
        return {"variable": self.variable, "time": self.time, "reduce": self.reduce, "name": self.name}


def _bounds_from(result: Any, names: list[str]) -> dict[str, tuple[float, float]]:
    """Bounds of calibrated parameters from a result's parameter table (duck-typed)."""
    for attr in ("bounds", "parameter_table", "parameters", "table"):
        table = getattr(result, attr, None)
        if callable(table):
            continue
        if isinstance(table, pd.DataFrame) and {"lower", "upper"} <= set(table.columns):
            frame = table.set_index("name") if "name" in table.columns else table
            if set(names) <= set(map(str, frame.index)):
                return {n: (float(frame.loc[n, "lower"]), float(frame.loc[n, "upper"])) for n in names}
        if isinstance(table, Mapping) and set(names) <= set(table):
            return {n: (float(table[n][0]), float(table[n][1])) for n in names}
    return {}


def uncertainties_from(calibration_result: Any, *, bounds: Mapping[str, tuple[float, float]] | None = None,
                       names: list[str] | None = None) -> tuple[Uncertainty, ...]:
    """Uncertainties drawn jointly from a calibration's estimates and their covariance.

    Each calibrated parameter becomes a normal uncertainty centred on its estimate with the standard
    error as ``sd``, truncated to its bounds; pairs are correlated as the covariance says, so a sweep
    draws them jointly (a Gaussian copula with truncated-normal margins).

    Parameters
    ----------
    calibration_result : CalibrationResult or any object with ``params`` (Series) and ``cov`` (DataFrame)
        The calibration. Its parameter bounds are read from its parameter table (a DataFrame with
        ``lower`` and ``upper`` columns) unless ``bounds`` are given.
    bounds : mapping, optional
        name -> (lower, upper); overrides the result's bounds.
    names : list of str, optional
        The parameters to keep (default: all of ``params``).

    Returns
    -------
    tuple of Uncertainty
    """
    params = getattr(calibration_result, "params", None)
    cov = getattr(calibration_result, "cov", None)
    if not isinstance(params, pd.Series) or not isinstance(cov, pd.DataFrame):
        raise SpecError("uncertainties_from needs a calibration result with params (a pandas Series) and cov "
                        f"(a pandas DataFrame); got {type(calibration_result).__name__}.")
    keep = [str(n) for n in (names if names is not None else params.index)]
    missing = [n for n in keep if n not in params.index or n not in cov.index or n not in cov.columns]
    if missing:
        raise SpecError(f"uncertainties_from: {missing} are not in both params and cov of the calibration result.")
    found = _bounds_from(calibration_result, keep)
    found.update({str(k): (float(v[0]), float(v[1])) for k, v in (bounds or {}).items()})
    unbounded = [n for n in keep if n not in found]
    if unbounded:
        raise SpecError(f"uncertainties_from: no bounds for {unbounded}; the calibration result has no parameter "
                        "table with lower and upper columns. Pass bounds={name: (lower, upper)}.")
    sub = cov.loc[keep, keep].to_numpy(dtype=float)
    sd = np.sqrt(np.diag(sub))
    if not np.all(np.isfinite(sub)) or not np.all(sd > 0):
        bad = [n for n, s in zip(keep, sd, strict=True) if not (np.isfinite(s) and s > 0)]
        raise SpecError(f"uncertainties_from: the covariance gives {bad} no positive finite variance; fix or drop "
                        "them with names=.")
    corr = sub / np.outer(sd, sd)
    out = []
    for i, name in enumerate(keep):
        others = {keep[j]: float(corr[i, j]) for j in range(len(keep)) if j != i and corr[i, j] != 0}
        lo, hi = found[name]
        extra = {"correlation": others} if others else {}
        out.append(Uncertainty(name, lo, hi, distribution="normal", mean=float(params[name]), sd=float(sd[i]),
                               **extra))
    return tuple(out)
