"""CalibrationResult: calibrated parameters, their covariance, fit statistics and residuals."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.iolib.summary import Summary
from statsmodels.iolib.table import SimpleTable

from cluster_econ.errors import SpecError, plain, unknown_name
from cluster_econ.provenance import Provenance

from ._spec import Problem, as_params

__all__ = ["CalibrationResult", "build_provenance", "jsonable_call"]

_BOUND_TOL = 1e-6  # scaled distance from a bound at which an estimate counts as on it


def _readonly(obj: Any) -> Any:
    if isinstance(obj, pd.Series | pd.DataFrame):
        obj = obj.copy()
    return obj


def _model_spec(model: Any) -> dict[str, Any]:
    if getattr(model, "registered", False):
        return {"id": model.id, "version": model.version, "sha256": model.sha256}
    return {"path": str(model.path), "sha256": model.sha256}


def jsonable_call(call: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments of a calibrate call as plain data (model and panel by name and sha256)."""
    out: dict[str, Any] = {}
    for key, value in call.items():
        if key == "model":
            out[key] = _model_spec(value)
        elif key == "panel":
            out[key] = {"dataset": value.name, "sha256": value.provenance.dataset_sha256}
        elif key == "targets":
            out[key] = {str(k): (list(plain(tuple(v))) if isinstance(v, tuple | list) else v) for k, v in value.items()}
        elif key == "parameters":
            out[key] = ({str(k): [float(b) for b in v] for k, v in value.items()} if isinstance(value, Mapping)
                        else [str(v) for v in value])
        elif key == "fixed":
            out[key] = {k: float(v) for k, v in as_params(value, "fixed").items()} if value is not None else None
            source = getattr(getattr(value, "provenance", None), "details", {}).get("call")
            if source is not None:
                out["fixed_source"] = dict(source)
        elif key in ("weights", "start"):
            out[key] = {str(k): float(v) for k, v in value.items()} if isinstance(value, Mapping) else value
        elif key == "holdout":
            out[key] = list(plain(tuple(value))) if value is not None else None
        elif key == "moments":
            out[key] = value
        else:
            out[key] = plain(value)
    return out


def build_provenance(problem: Problem, call: Mapping[str, Any], estimates: np.ndarray, *, cov_type: str,
                     method: str, extra: Mapping[str, Any] | None = None) -> Provenance:
    model = problem.model
    panel = call["panel"]
    changed = {**problem.fixed, **{n: float(v) for n, v in zip(problem.names, estimates, strict=True)}}
    return Provenance.capture(
        dataset=panel.name, dataset_sha256=panel.provenance.dataset_sha256, model_id=model.id,
        model_version=model.version, model_sha256=model.sha256, seed=int(call["seed"]), changed_parameters=changed,
        details={"call": {"verb": "calibrate", "arguments": jsonable_call(call)},
                 "estimator": f"calibration by {method} ({problem.loss} loss, {cov_type} covariance)",
                 "dataset_citation": panel.provenance.details.get("dataset_citation", ""), **(extra or {})},
    )


def _at_bound(estimate: float, lower: float, upper: float) -> str:
    u = (estimate - lower) / (upper - lower)
    return "lower" if u <= _BOUND_TOL else "upper" if u >= 1 - _BOUND_TOL else ""


@dataclasses.dataclass(frozen=True, repr=False)
class CalibrationResult:
    """The outcome of :func:`cluster_econ.calibrate`.

    Attributes
    ----------
    params, std_errors : pandas.Series
        Calibrated values and their standard errors (``cov_type``).
    cov : pandas.DataFrame
        Covariance of the estimates.
    parameters : pandas.DataFrame
        One row per fitted parameter: estimate, std_error, lower, upper, start, at_bound
        (``"lower"``/``"upper"`` when the estimate is on a bound, else ``""``).
    fixed : Mapping[str, float]
        Values held fixed.
    fit, holdout_fit : pandas.DataFrame
        One row per target: n, rmse, mape, r2, theil_um, theil_us, theil_uc, durbin_watson
        (``holdout_fit`` is empty without a holdout).
    residuals : pandas.DataFrame
        region, time, target, column, observed, simulated, residual (of the loss), weight, sample.
    targets : pandas.DataFrame
        variable, column, scale, model_unit, data_unit, weight.
    starts : pandas.DataFrame
        One row per start: origin, estimates, cost, converged, same_optimum, best.
    converged : bool
        Whether the final least-squares run met its tolerances.
    n_evaluations : int
        Parameter sets simulated (every start, Jacobian, weighting step and bootstrap refit).
    cov_type, method, loss : str
    df_inference : float or None
        Degrees of freedom of the t intervals (clusters - 1 for clustered, n - p for unadjusted);
        None (normal) for the bootstrap and indirect inference.
    bootstrap : pandas.DataFrame or None
        The bootstrap estimates, one row per resample.
    moments : pandas.DataFrame or None
        Indirect inference: observed and simulated estimates of each moment.
    cost : float
        Half the sum of squared weighted residuals at the estimate.
    provenance : Provenance
        Model, data sha256, seed and the call (``details["call"]``).
    """

    params: pd.Series
    std_errors: pd.Series
    cov: pd.DataFrame
    parameters: pd.DataFrame
    fixed: Mapping[str, float]
    fit: pd.DataFrame
    holdout_fit: pd.DataFrame
    residuals: pd.DataFrame
    targets: pd.DataFrame
    starts: pd.DataFrame
    converged: bool
    n_evaluations: int
    cov_type: str
    method: str
    loss: str
    df_inference: float | None
    bootstrap: pd.DataFrame | None
    moments: pd.DataFrame | None
    cost: float
    provenance: Provenance

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed", MappingProxyType(dict(self.fixed)))

    def __getattribute__(self, name: str) -> Any:  # payloads are handed out as copies
        value = object.__getattribute__(self, name)
        if isinstance(value, pd.Series | pd.DataFrame):
            return value.copy()
        return value

    # ------------------------------------------------------------------ construction
    @classmethod
    def _create(cls, *, problem: Problem, estimates: np.ndarray, cov: np.ndarray, df_inference: float | None,
                fit: pd.DataFrame, holdout_fit: pd.DataFrame, residuals: pd.DataFrame, converged: bool,
                n_evaluations: int, starts: pd.DataFrame, weights: np.ndarray, cov_type: str, method: str,
                bootstrap: np.ndarray | None, n_boot_failed: int, provenance: Provenance, cost: float,
                moments: pd.DataFrame | None) -> CalibrationResult:
        names = list(problem.names)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        units = dict(zip(problem.model.variables["name"], problem.model.variables["unit"], strict=True))
        table = pd.DataFrame({
            "estimate": estimates, "unit": [str(units.get(n, "")) for n in names], "std_error": se,
            "lower": problem.lower, "upper": problem.upper,
            "start": problem.start,
            "at_bound": [_at_bound(x, lo, hi) for x, lo, hi in zip(estimates, problem.lower, problem.upper,
                                                                     strict=True)],
        }, index=pd.Index(names, name="parameter"))
        targets = pd.DataFrame({
            "variable": [t.variable for t in problem.targets], "column": [t.column for t in problem.targets],
            "scale": [t.scale for t in problem.targets], "model_unit": [t.model_unit for t in problem.targets],
            "data_unit": [t.data_unit for t in problem.targets], "weight": weights,
        })
        state = {"converged": bool(converged), "n_evaluations": int(n_evaluations), "cov_type": cov_type,
                 "method": method, "loss": problem.loss, "df_inference": df_inference, "cost": float(cost),
                 "fixed": dict(problem.fixed), "n_boot_failed": int(n_boot_failed)}
        provenance = provenance.replace(details={"result": state})
        frames = {"parameters": table, "cov": pd.DataFrame(cov, index=names, columns=names), "fit": fit,
                  "holdout_fit": holdout_fit, "residuals": residuals, "targets": targets, "starts": starts}
        if bootstrap is not None:
            frames["bootstrap"] = pd.DataFrame(bootstrap, columns=names)
        if moments is not None:
            frames["moments"] = moments
        return cls.from_frames(frames, provenance)

    @classmethod
    def from_frames(cls, frames: Mapping[str, pd.DataFrame], provenance: Provenance) -> CalibrationResult:
        """Rebuild a result from :meth:`to_frames` and its provenance (as ``save``/``load`` do)."""
        state = provenance.details["result"]
        table = frames["parameters"].copy()
        table.index.name = "parameter"
        names = list(table.index)
        cov = frames["cov"].copy().loc[names, names]
        return cls(
            params=table["estimate"].rename("params"), std_errors=table["std_error"].rename("std_errors"), cov=cov,
            parameters=table, fixed=dict(state["fixed"]), fit=frames["fit"].copy(),
            holdout_fit=frames["holdout_fit"].copy(), residuals=frames["residuals"].copy(),
            targets=frames["targets"].copy(), starts=frames["starts"].copy(), converged=bool(state["converged"]),
            n_evaluations=int(state["n_evaluations"]), cov_type=str(state["cov_type"]), method=str(state["method"]),
            loss=str(state["loss"]), df_inference=state["df_inference"],
            bootstrap=frames["bootstrap"].copy() if "bootstrap" in frames else None,
            moments=frames["moments"].copy() if "moments" in frames else None, cost=float(state["cost"]),
            provenance=provenance)

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Every table of the result by name; with :attr:`provenance` they rebuild it (:meth:`from_frames`)."""
        frames = {"parameters": self.parameters, "cov": self.cov, "fit": self.fit, "holdout_fit": self.holdout_fit,
                  "residuals": self.residuals, "targets": self.targets, "starts": self.starts}
        if self.bootstrap is not None:
            frames["bootstrap"] = self.bootstrap
        if self.moments is not None:
            frames["moments"] = self.moments
        return frames

    # ------------------------------------------------------------------ use
    def to_params(self) -> dict[str, float]:
        """Fixed and calibrated values, for ``simulate(model, params=result)`` and ``simulate_batch``."""
        return {**{k: float(v) for k, v in self.fixed.items()}, **{k: float(v) for k, v in self.params.items()}}

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals (``lower``, ``upper``): t with ``df_inference`` degrees of freedom, or normal."""
        if not isinstance(level, float | int) or not 0 < level < 1:
            raise SpecError(f"level must be strictly between 0 and 1, e.g. 0.95; got {plain(level)!r}.")
        q = 0.5 + level / 2
        crit = stats.norm.ppf(q) if self.df_inference is None else stats.t.ppf(q, self.df_inference)
        params, se = self.params, self.std_errors
        return pd.DataFrame({"lower": params - crit * se, "upper": params + crit * se})

    def to_frame(self) -> pd.DataFrame:
        """Tidy: term, estimate, std_error, statistic, p_value, ci_lower, ci_upper, lower, upper, at_bound."""
        table, ci = self.parameters, self.conf_int()
        with np.errstate(all="ignore"):
            stat = table["estimate"] / table["std_error"]
        dist = stats.norm if self.df_inference is None else stats.t(self.df_inference)
        return pd.DataFrame({
            "term": table.index.astype(str), "estimate": table["estimate"].to_numpy(),
            "std_error": table["std_error"].to_numpy(), "statistic": stat.to_numpy(),
            "p_value": 2 * dist.sf(np.abs(stat.to_numpy())), "ci_lower": ci["lower"].to_numpy(),
            "ci_upper": ci["upper"].to_numpy(), "lower": table["lower"].to_numpy(),
            "upper": table["upper"].to_numpy(), "at_bound": table["at_bound"].to_numpy(),
        })

    # ------------------------------------------------------------------ display
    def summary(self) -> Summary:
        """A statsmodels Summary: setup, parameters (bounds hit flagged), fit and holdout fit; no wall clock."""
        prov = self.provenance
        starts = self.starts
        left = [("Model:", f"{prov.model_id} {prov.model_version or ''}".strip()),
                ("Data:", str(prov.dataset or "")), ("Method:", self.method), ("Loss:", self.loss),
                ("Cov. Type:", self.cov_type), ("Targets:", ", ".join(self.targets["variable"])),
                ("Observations:", str(int((self.residuals["sample"] == "fit").sum()))),
                ("Regions:", str(self.residuals["region"].nunique()))]
        right = [("Converged:", str(self.converged)), ("Evaluations:", str(self.n_evaluations)),
                 ("Starts (same optimum):", f"{len(starts)} ({int(starts['same_optimum'].sum())})"),
                 ("Cost:", f"{self.cost:.6g}"), *prov.lines()]
        n = max(len(left), len(right))
        left += [("", "")] * (n - len(left))
        right += [("", "")] * (n - len(right))
        smry = Summary()
        smry.tables.append(SimpleTable([[a, b, c, d] for (a, b), (c, d) in zip(left, right, strict=True)],
                                       title="Calibration Results"))
        ci = self.conf_int()
        table = self.parameters
        rows = [[f"{r.estimate:.6g}", f"{r.std_error:.4g}", f"{ci.loc[name, 'lower']:.6g}",
                 f"{ci.loc[name, 'upper']:.6g}", f"[{r.lower:g}, {r.upper:g}]", r.at_bound or "-"]
                for name, r in table.iterrows()]
        smry.tables.append(SimpleTable(rows, headers=["value", "std err", "[0.025", "0.975]", "bounds", "on bound"],
                                       stubs=[str(s) for s in table.index]))
        for title, frame in (("Fit", self.fit), ("Holdout fit", self.holdout_fit)):
            if len(frame):
                smry.tables.append(SimpleTable(
                    [[str(int(r.n))] + [f"{v:.4g}" for v in r.iloc[1:]] for _, r in frame.iterrows()],
                    headers=list(frame.columns), stubs=[str(s) for s in frame.index], title=title))
        notes = [f"Fixed: {', '.join(f'{k} = {v:g}' for k, v in self.fixed.items())}"] if self.fixed else []
        hit = table.index[table["at_bound"] != ""].tolist()
        if hit:
            notes.append(f"On a bound (standard errors unreliable): {', '.join(hit)}")
        if self.moments is not None:
            notes.append(f"Indirect inference on {len(self.moments)} moments.")
        if notes:
            smry.add_extra_txt(notes)
        return smry

    def __str__(self) -> str:
        return str(self.summary())

    def __repr__(self) -> str:
        return (f"<CalibrationResult {self.provenance.model_id}: {len(self.params)} parameters, "
                f"{', '.join(self.targets['variable'])}; {self.method}, {self.cov_type}, converged={self.converged}>")

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def plot(self, target: str, regions: Any = None, *, ncols: int = 4) -> Any:
        """Observed (points) and simulated (line) trajectories of one target, one panel per region.

        Returns the matplotlib Figure; a held-out period is shaded.
        """
        import matplotlib.pyplot as plt

        res = self.residuals
        variables = list(self.targets["variable"])
        if target not in variables:
            by_column = dict(zip(self.targets["column"], variables, strict=True))
            if target not in by_column:
                raise unknown_name(target, variables, "target", where="this calibration")
            target = by_column[target]
        res = res[res["target"] == target]
        available = list(dict.fromkeys(res["region"]))
        chosen = available if regions is None else [regions] if isinstance(regions, str) else list(regions)
        for region in chosen:
            if region not in available:
                raise unknown_name(region, available, "region", where="this calibration")
        ncols = max(1, min(ncols, len(chosen)))
        nrows = -(-len(chosen) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(3 * ncols, 2.2 * nrows), squeeze=False, sharex=True)
        holdout = res[res["sample"] == "holdout"]["time"]
        for ax, region in zip(axes.flat, chosen, strict=False):
            part = res[res["region"] == region].sort_values("time")
            ax.plot(part["time"], part["observed"], "o", ms=3, color="0.2", label="observed")
            ax.plot(part["time"], part["simulated"], "-", color="C0", label="simulated")
            if len(holdout):
                ax.axvspan(holdout.min(), holdout.max(), color="0.9", zorder=0)
            ax.set_title(str(region), fontsize=9)
        for ax in list(axes.flat)[len(chosen):]:
            ax.set_visible(False)
        axes.flat[0].legend(fontsize=7)
        fig.suptitle(f"{target}: observed and simulated", fontsize=10)
        fig.tight_layout()
        return fig

    def to_model_toml(self) -> str:
        """``[[parameter]]`` rows of ``model.toml`` for the calibrated values (``kind = "calibrated"``)."""
        prov = self.provenance
        fit = self.fit
        stats_text = "; ".join(f"{t}: MAPE {r.mape:.1f} %, R2 {r.r2:.3f}" for t, r in fit.iterrows())
        targets = ", ".join(f"{v} to {c}" for v, c in zip(self.targets["variable"], self.targets["column"],
                                                            strict=True))
        periods = self.residuals.loc[self.residuals["sample"] == "fit", "time"]
        blocks = []
        for name, row in self.parameters.iterrows():
            source = (f"calibrated by {self.method} to {prov.dataset} (sha256 {str(prov.dataset_sha256)[:12]}) "
                      f"{int(periods.min())}-{int(periods.max())}, targets {targets}, {self.loss} loss; estimate "
                      f"{row.estimate:.6g} (std. error {row.std_error:.3g}, {self.cov_type}); fit {stats_text}.")
            unit = str(row.get("unit", ""))
            blocks.append("\n".join([
                "[[parameter]]", f"name = {_toml_str(str(name))}", f"value = {float(row.estimate)!r}",
                f"unit = {_toml_str(unit)}", 'kind = "calibrated"', f"lower = {float(row.lower)!r}",
                f"upper = {float(row.upper)!r}", f"std_error = {float(row.std_error)!r}",
                f"source = {_toml_str(source)}"]))
        return "\n\n".join(blocks) + "\n"


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
