"""EstimationResult: the one return type of every estimator."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _results_io
from .._frozen import copied_payloads, reduce_frozen
from ..data import RegionalPanel
from ..errors import SpecError
from ..provenance import Provenance
from ._common import plain

if TYPE_CHECKING:
    from statsmodels.iolib.summary import Summary

__all__ = ["EstimationResult", "TestResult"]


@dataclasses.dataclass(frozen=True)
class TestResult:
    """A specification test: statistic, p-value, and the distribution it refers to."""

    __test__ = False  # not a pytest test class

    statistic: float
    pvalue: float
    distribution: str
    null: str = ""
    note: str = ""

    def __str__(self) -> str:
        if np.isnan(self.pvalue) and self.note:
            return f"{self.statistic:.4f} ({self.distribution}, no p-value: {self.note})"
        return f"{self.statistic:.4f} ({self.distribution}, p = {self.pvalue:.4f})"


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        return "nan" if not np.isfinite(number) else f"{number:.4g}" if abs(number) >= 1e4 else f"{number:.4f}"
    return str(value)


@copied_payloads("params", "std_errors", "cov")
@dataclasses.dataclass(frozen=True, repr=False)
class EstimationResult:
    """The estimates of a panel model, labelled and printable like a published table.

    Every Series and frame the result hands out (``params``, ``std_errors``, ``cov``, ...) is a copy:
    changing it never changes the result.

    Attributes
    ----------
    params : pandas.Series
        Coefficients, indexed by the terms exactly as written in the formula (``"Intercept"`` for
        the intercept, ``"C(x)[T.level]"`` for the levels of a categorical term).
    std_errors : pandas.Series
        Standard errors from ``cov``.
    cov : pandas.DataFrame
        Covariance of the estimates, of type ``cov_type``.
    nobs : int
        Observations used.
    estimator : str
        Name of the estimator ("Pooled OLS", "Within", "Arellano-Bond one-step", ...).
    formula : str
        The formula as given.
    dependent : str
        The dependent variable as written.
    cov_type : str
        The covariance estimator ("unadjusted", "robust", "clustered", "driscoll_kraay", ...).
    df_inference : float or None
        Degrees of freedom of the t distribution used for p-values and intervals; None means the
        normal distribution (large-sample estimators such as GMM and Poisson).
    r2 : Mapping[str, float]
        R-squared measures where meaningful; the first is the one the estimator maximises
        ("within" for the within estimator, "overall" for pooled OLS, ...).
    effects : tuple of str
        Effects removed or modelled: "entity", "time", or both.
    n_entities, n_periods : int
        Entities and periods in the estimation sample.
    statistics : Mapping[str, float]
        Further numbers (variance components, log-likelihood, number of instruments, ...).
    tests : Mapping[str, TestResult]
        Specification tests (Sargan/Hansen, AR(1)/AR(2), Hausman, ...).
    engine : str
        The library routine that computed the estimates.
    provenance : Provenance
        Dataset and its sha256 and package versions; ``details`` hold the estimator, formula,
        covariance type and every option that shapes the estimates (``effects``, ``cluster``,
        ``bandwidth``, ``drop_absorbed``, ``method``, ``family``, ``time_effects``, ``two_step``,
        ``max_lag``, as the estimator takes them).
    """

    __reduce__ = reduce_frozen  # picklable despite its read-only mappings

    params: pd.Series
    std_errors: pd.Series
    cov: pd.DataFrame
    nobs: int
    estimator: str
    formula: str
    dependent: str
    cov_type: str
    df_inference: float | None
    r2: Mapping[str, float]
    effects: tuple[str, ...]
    n_entities: int
    n_periods: int
    statistics: Mapping[str, float]
    tests: Mapping[str, TestResult]
    engine: str
    provenance: Provenance

    def __post_init__(self) -> None:
        object.__setattr__(self, "r2", MappingProxyType({k: float(v) for k, v in self.r2.items()}))
        object.__setattr__(self, "statistics", MappingProxyType({k: float(v) for k, v in self.statistics.items()}))
        object.__setattr__(self, "tests", MappingProxyType(dict(self.tests)))

    # -- inference ----------------------------------------------------------------------------
    @property
    def tvalues(self) -> pd.Series:
        """Estimates divided by their standard errors."""
        return (self.params / self.std_errors).rename("tvalues")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values from the t (``df_inference``) or normal distribution."""
        from scipy import stats

        t = np.abs(self.tvalues.to_numpy())
        if self.df_inference is None:
            p = 2 * stats.norm.sf(t)
        else:
            p = 2 * stats.t.sf(t, self.df_inference)
        return pd.Series(p, index=self.params.index, name="pvalues")

    @property
    def cov_label(self) -> str:
        """The covariance type with the options that shape it, as summaries and ``compare()`` show it.

        ``"clustered (entity)"``, ``"clustered (entity, time)"``, ``"driscoll_kraay (bandwidth 2)"``;
        other types as ``cov_type``. The options come from ``provenance.details``.
        """
        details = self.provenance.details
        if self.cov_type == "clustered" and details.get("cluster"):
            return f"clustered ({', '.join(details['cluster'])})"
        if self.cov_type == "driscoll_kraay" and details.get("bandwidth") is not None:
            return f"driscoll_kraay (bandwidth {details['bandwidth']})"
        return self.cov_type

    @property
    def rsquared(self) -> float:
        """The estimator's own R-squared (the first of ``r2``), NaN if it has none."""
        return next(iter(self.r2.values()), float("nan"))

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals with columns ``lower`` and ``upper``.

        Parameters
        ----------
        level : float, optional
            Coverage, strictly between 0 and 1. The default is 0.95.
        """
        if not 0 < level < 1:
            raise SpecError(f"level must be strictly between 0 and 1, e.g. 0.95; got {plain(level)!r}.")
        from scipy import stats

        q = 0.5 + level / 2
        crit = stats.norm.ppf(q) if self.df_inference is None else stats.t.ppf(q, self.df_inference)
        return pd.DataFrame(
            {"lower": self.params - crit * self.std_errors, "upper": self.params + crit * self.std_errors}
        )

    # -- display ------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """A tidy frame: term, estimate, std_error, statistic, p_value, ci_lower, ci_upper."""
        ci = self.conf_int()
        return pd.DataFrame(
            {
                "term": self.params.index.astype(str),
                "estimate": self.params.to_numpy(),
                "std_error": self.std_errors.to_numpy(),
                "statistic": self.tvalues.to_numpy(),
                "p_value": self.pvalues.to_numpy(),
                "ci_lower": ci["lower"].to_numpy(),
                "ci_upper": ci["upper"].to_numpy(),
            }
        )

    def summary(self) -> Summary:
        """A statsmodels :class:`~statsmodels.iolib.summary.Summary` (text, HTML, LaTeX).

        It shows the data hash and package version, never the time it was computed, so reruns
        diff clean.
        """
        from statsmodels.iolib.summary import Summary
        from statsmodels.iolib.table import SimpleTable

        left = [
            ("Dep. Variable:", self.dependent),
            ("Estimator:", self.estimator),
            ("Engine:", self.engine),
            ("Cov. Type:", self.cov_label),
            ("Effects:", ", ".join(self.effects) if self.effects else "none"),
            ("No. Observations:", str(self.nobs)),
            ("Entities:", str(self.n_entities)),
            ("Periods:", str(self.n_periods)),
        ]
        right = [(f"R-squared ({k}):", _fmt(v)) for k, v in self.r2.items()]
        right += [(f"{k}:", _fmt(v)) for k, v in self.statistics.items()]
        right += list(self.provenance.lines())
        n = max(len(left), len(right))
        left += [("", "")] * (n - len(left))
        right += [("", "")] * (n - len(right))
        top = SimpleTable(
            [[a, b, c, d] for (a, b), (c, d) in zip(left, right, strict=True)],
            title=f"{self.estimator} Estimation Results",
        )
        ci = self.conf_int()
        stat = "z" if self.df_inference is None else "t"
        rows = [
            [
                f"{self.params[name]:.4f}",
                f"{self.std_errors[name]:.4f}",
                f"{self.tvalues[name]:.3f}",
                f"{self.pvalues[name]:.3f}",
                f"{ci.loc[name, 'lower']:.4f}",
                f"{ci.loc[name, 'upper']:.4f}",
            ]
            for name in self.params.index
        ]
        coefs = SimpleTable(
            rows,
            headers=["coef", "std err", stat, f"P>|{stat}|", "[0.025", "0.975]"],
            stubs=[str(s) for s in self.params.index],
        )
        smry = Summary()
        smry.tables.append(top)
        smry.tables.append(coefs)
        if self.tests:
            smry.tables.append(
                SimpleTable(
                    [[name, f"{t.statistic:.4f}", t.distribution, f"{t.pvalue:.4f}"] for name, t in self.tests.items()],
                    headers=["Test", "Statistic", "Distribution", "P-value"],
                )
            )
        formula = f"Formula: {self.formula}"
        smry.add_extra_txt([formula])
        return smry

    def __str__(self) -> str:
        return str(self.summary())

    def __repr__(self) -> str:
        return (
            f"<EstimationResult {self.estimator}: {self.formula}, {self.nobs} observations, "
            f"cov_type={self.cov_type!r}>"
        )

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    # -- saving ---------------------------------------------------------------------------------
    def _save_parts(self) -> dict[str, Any]:
        """What :meth:`save` writes: estimates, covariance and statistics as frames, the rest as state."""
        terms = pd.Index(self.params.index.astype(str), name="term")
        estimates = pd.DataFrame({"estimate": self.params.to_numpy(dtype=float),
                                  "std_error": self.std_errors.to_numpy(dtype=float)}, index=terms)
        cov = pd.DataFrame(self.cov.to_numpy(dtype=float), index=terms, columns=list(terms))
        rows = [("r2", k, float(v)) for k, v in self.r2.items()]
        rows += [("statistic", k, float(v)) for k, v in self.statistics.items()]
        rows += [(f"test:{k}", "statistic", t.statistic) for k, t in self.tests.items()]
        rows += [(f"test:{k}", "pvalue", t.pvalue) for k, t in self.tests.items()]
        statistics = pd.DataFrame(rows, columns=["group", "name", "value"]).set_index(["group", "name"])
        state = {
            "nobs": int(self.nobs), "estimator": self.estimator, "formula": self.formula,
            "dependent": self.dependent, "cov_type": self.cov_type, "df_inference": self.df_inference,
            "effects": list(self.effects), "n_entities": int(self.n_entities), "n_periods": int(self.n_periods),
            "engine": self.engine, "r2_order": list(self.r2), "statistics_order": list(self.statistics),
            "tests": {k: {"distribution": t.distribution, "null": t.null} for k, t in self.tests.items()},
        }
        return {"kind": "EstimationResult", "provenance": self.provenance, "state": state,
                "frames": {"estimates": estimates, "cov": cov, "statistics": statistics}}

    def save(self, path: str | Path) -> Path:
        """Save the result to a folder of CSV files and ``manifest.toml`` (see ``ce.save``)."""
        return _results_io.write_folder(path, **self._save_parts())

    @classmethod
    def _from_saved(cls, folder: _results_io.SavedFolder) -> EstimationResult:
        state = folder.manifest["state"]
        estimates, cov, stats_frame = folder.frame("estimates"), folder.frame("cov"), folder.frame("statistics")
        terms = [str(t) for t in estimates.index]
        values = {(str(g), str(n)): float(v) for (g, n), v in stats_frame["value"].items()}
        tests = {k: TestResult(values[(f"test:{k}", "statistic")], values[(f"test:{k}", "pvalue")],
                               str(meta["distribution"]), str(meta.get("null", "")))
                 for k, meta in state.get("tests", {}).items()}
        return cls(
            params=pd.Series(estimates["estimate"].to_numpy(), index=terms, name="params"),
            std_errors=pd.Series(estimates["std_error"].to_numpy(), index=terms, name="std_errors"),
            cov=pd.DataFrame(cov.to_numpy(), index=terms, columns=terms),
            nobs=int(state["nobs"]), estimator=str(state["estimator"]), formula=str(state["formula"]),
            dependent=str(state["dependent"]), cov_type=str(state["cov_type"]),
            df_inference=state.get("df_inference"),
            r2={k: values[("r2", k)] for k in state.get("r2_order", [])},
            effects=tuple(state.get("effects", ())), n_entities=int(state["n_entities"]),
            n_periods=int(state["n_periods"]),
            statistics={k: values[("statistic", k)] for k in state.get("statistics_order", [])},
            tests=tests, engine=str(state["engine"]), provenance=folder.provenance,
        )


def make_provenance(panel: RegionalPanel, *, estimator: str, formula: str, cov_type: str, **details: Any) -> Provenance:
    """A fresh provenance record for an estimate on ``panel``."""
    source = getattr(panel, "provenance", None)
    dataset = getattr(source, "dataset", None) or getattr(panel, "name", None)
    sha = getattr(source, "dataset_sha256", None)
    extra = {}
    if source is not None and source.details.get("dataset_citation"):
        extra["dataset_citation"] = source.details["dataset_citation"]
    return Provenance.capture(
        dataset=dataset,
        dataset_sha256=sha,
        details={"estimator": estimator, "formula": formula, "cov_type": cov_type, **extra, **details},
    )
