"""From panel estimates to model parameters: ``parameters_from_estimates`` and ``ParameterEstimates``."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.iolib.summary import Summary
from statsmodels.iolib.table import SimpleTable

from cluster_econ.errors import SpecError, plain, unknown_name
from cluster_econ.provenance import Provenance

__all__ = ["TRANSFORMS", "ParameterEstimates", "parameters_from_estimates"]

#: Transforms that can be named by a string (so the call stays plain data).
TRANSFORMS: dict[str, Callable[[float], float]] = {
    "identity": lambda x: x,
    "exp": np.exp,
    "log": np.log,
    "adjustment_time": lambda rho: -1.0 / np.log(rho),  # tau = -1 / ln(rho), from a persistence rho
}


def _label(transform: Any) -> str:
    if isinstance(transform, str):
        return transform
    try:
        text = inspect.getsource(transform).strip()
    except (OSError, TypeError):
        text = getattr(transform, "__name__", repr(transform))
    if "lambda" in text:
        text = "lambda" + text.split("lambda", 1)[1]
        depth, end = 0, len(text)
        for i, ch in enumerate(text):  # cut the lambda out of the surrounding call
            depth += ch in "([{"
            depth -= ch in ")]}"
            if depth < 0 or (depth == 0 and ch == ","):
                end = i
                break
        text = text[:end].strip()
    return text


def _derivative(f: Callable[[float], float], x: float) -> float:
    """Central difference with a step scaled to x (Richardson-extrapolated once)."""
    h = 1e-4 * max(abs(x), 1e-3)
    d1 = (f(x + h) - f(x - h)) / (2 * h)
    d2 = (f(x + h / 2) - f(x - h / 2)) / h
    return float((4 * d2 - d1) / 3)


@dataclasses.dataclass(frozen=True, repr=False)
class ParameterEstimates:
    """Model parameter values derived from panel estimates, with delta-method standard errors.

    Pass it as ``fixed=`` to :func:`cluster_econ.calibrate` or as ``params=`` to ``simulate``.

    Attributes
    ----------
    params, std_errors : pandas.Series
        Parameter values and standard errors.
    cov : pandas.DataFrame
        Joint covariance (delta method: G V G' with G the derivatives of the transforms).
    source : pandas.DataFrame
        One row per parameter: term, transform, term_estimate, term_std_error.
    df_inference : float or None
        Degrees of freedom of the estimator's t distribution (None: normal).
    provenance : Provenance
        The estimator, formula and dataset sha256 of the estimates, and the call.
    """

    params: pd.Series
    std_errors: pd.Series
    cov: pd.DataFrame
    source: pd.DataFrame
    df_inference: float | None
    provenance: Provenance

    def __getattribute__(self, name: str) -> Any:  # payloads are handed out as copies
        value = object.__getattribute__(self, name)
        return value.copy() if isinstance(value, pd.Series | pd.DataFrame) else value

    def to_params(self) -> dict[str, float]:
        """Parameter name -> value."""
        return {str(k): float(v) for k, v in self.params.items()}

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Delta-method confidence intervals (``lower``, ``upper``)."""
        if not isinstance(level, float | int) or not 0 < level < 1:
            raise SpecError(f"level must be strictly between 0 and 1, e.g. 0.95; got {plain(level)!r}.")
        q = 0.5 + level / 2
        crit = stats.norm.ppf(q) if self.df_inference is None else stats.t.ppf(q, self.df_inference)
        return pd.DataFrame({"lower": self.params - crit * self.std_errors,
                             "upper": self.params + crit * self.std_errors})

    def to_frame(self) -> pd.DataFrame:
        """Tidy: term (the parameter), estimate, std_error, ci_lower, ci_upper, source_term, transform."""
        ci, source = self.conf_int(), self.source
        return pd.DataFrame({
            "term": self.params.index.astype(str), "estimate": self.params.to_numpy(),
            "std_error": self.std_errors.to_numpy(), "ci_lower": ci["lower"].to_numpy(),
            "ci_upper": ci["upper"].to_numpy(), "source_term": source["term"].to_numpy(),
            "transform": source["transform"].to_numpy(),
        })

    def summary(self) -> Summary:
        prov = self.provenance
        smry = Summary()
        top = [("Estimator:", str(prov.details.get("estimator", ""))),
               ("Formula:", str(prov.details.get("formula", "")))]
        top += list(prov.lines())
        smry.tables.append(SimpleTable([[a, b] for a, b in top], title="Parameters from Estimates"))
        ci, source = self.conf_int(), self.source
        rows = [[f"{self.params[n]:.6g}", f"{self.std_errors[n]:.4g}", f"{ci.loc[n, 'lower']:.6g}",
                 f"{ci.loc[n, 'upper']:.6g}", str(source.loc[n, "term"]), str(source.loc[n, "transform"])]
                for n in self.params.index]
        smry.tables.append(SimpleTable(rows, headers=["value", "std err", "[0.025", "0.975]", "term", "transform"],
                                       stubs=[str(s) for s in self.params.index]))
        return smry

    def __str__(self) -> str:
        return str(self.summary())

    def __repr__(self) -> str:
        return f"<ParameterEstimates {self.to_params()} from {self.provenance.details.get('estimator', '?')}>"

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def parameters_from_estimates(result: Any, mapping: Mapping[str, Any]) -> ParameterEstimates:
    """Model parameter values, with standard errors, from the estimates of a panel model.

    Parameters
    ----------
    result : EstimationResult
        Estimates (``ce.panel_ols``, ``ce.arellano_bond``, ...).
    mapping : mapping
        Parameter -> term, or parameter -> ``(term, transform)`` with ``transform`` a callable
        (``lambda rho: -1 / np.log(rho)``) or one of the names in :data:`TRANSFORMS`
        (``"identity"``, ``"exp"``, ``"log"``, ``"adjustment_time"`` = -1 / ln(rho)).

    Returns
    -------
    ParameterEstimates
        Values, delta-method standard errors (numerical derivatives) and the joint covariance.

    Raises
    ------
    UnknownNameError
        A term that is not in the estimates (with a did-you-mean suggestion).
    SpecError
        An unknown transform name, or a transform that is not finite at the estimate.

    References
    ----------
    Oehlert, G. W. (1992). A note on the delta method. The American Statistician 46(1), 27-29.
    """
    params = getattr(result, "params", None)
    cov = getattr(result, "cov", None)
    if not isinstance(params, pd.Series) or not isinstance(cov, pd.DataFrame):
        raise SpecError(f"parameters_from_estimates needs an EstimationResult (ce.panel_ols, ...); got "
                        f"{type(result).__name__}.")
    if not isinstance(mapping, Mapping) or not mapping:
        raise SpecError("mapping must be a non-empty mapping parameter -> term or -> (term, transform).")
    names, terms, labels, values, grads = [], [], [], [], []
    where = f"{result.provenance.details.get('estimator', 'the estimates')} of {getattr(result, 'formula', '')!r}"
    for name, spec in mapping.items():
        term, transform = (spec, "identity") if isinstance(spec, str) else tuple(spec) if \
            isinstance(spec, tuple | list) and len(spec) == 2 else (None, None)
        if not isinstance(term, str):
            raise SpecError(f"mapping[{name!r}] must be a term or (term, transform); got {spec!r}.")
        if term not in params.index:
            raise unknown_name(term, [str(t) for t in params.index], "term", where=where)
        if isinstance(transform, str):
            if transform not in TRANSFORMS:
                raise SpecError(f"Unknown transform {transform!r} for {name!r}; use a callable or one of "
                                f"{sorted(TRANSFORMS)}.")
            f = TRANSFORMS[transform]
        elif callable(transform):
            f = transform
        else:
            raise SpecError(f"The transform of {name!r} must be callable or a name in {sorted(TRANSFORMS)}.")
        x = float(params[term])
        def scalar(v: float, f: Callable[[float], float] = f) -> float:
            return float(f(v))

        with np.errstate(all="ignore"):
            value, grad = scalar(x), _derivative(scalar, x)
        if not (np.isfinite(value) and np.isfinite(grad)):
            raise SpecError(f"The transform of {name!r} is not finite at {term} = {x:g} (value {value}).")
        names.append(str(name))
        terms.append(term)
        labels.append(_label(transform))
        values.append(value)
        grads.append(grad)
    g = np.asarray(grads)
    v = cov.loc[terms, terms].to_numpy()
    joint = g[:, None] * v * g[None, :]
    se = np.sqrt(np.clip(np.diag(joint), 0, None))
    source = pd.DataFrame({"term": terms, "transform": labels, "term_estimate": [float(params[t]) for t in terms],
                           "term_std_error": [float(np.sqrt(cov.loc[t, t])) for t in terms]},
                          index=pd.Index(names, name="parameter"))
    prov = result.provenance
    call = {"verb": "parameters_from_estimates", "arguments": {
        "result": dict(prov.details.get("call") or {"estimator": prov.details.get("estimator"),
                                                     "formula": getattr(result, "formula", None),
                                                     "dataset": prov.dataset, "sha256": prov.dataset_sha256}),
        "mapping": {n: [t, lab] for n, t, lab in zip(names, terms, labels, strict=True)}}}
    provenance = Provenance.capture(
        dataset=prov.dataset, dataset_sha256=prov.dataset_sha256, changed_parameters=dict(zip(names, values,
                                                                                              strict=True)),
        details={"call": call, "estimator": prov.details.get("estimator"), "formula": getattr(result, "formula", None),
                 "cov_type": getattr(result, "cov_type", None),
                 "dataset_citation": prov.details.get("dataset_citation", "")})
    index = pd.Index(names, name="parameter")
    return ParameterEstimates(params=pd.Series(values, index=index, name="params"),
                              std_errors=pd.Series(se, index=index, name="std_errors"),
                              cov=pd.DataFrame(joint, index=index, columns=index), source=source,
                              df_inference=getattr(result, "df_inference", None), provenance=provenance)
