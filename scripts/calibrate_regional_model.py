"""Calibrate ``regional_cluster`` to the us_states panel with the package's own API; print the fit table.

Two steps, as in the model's documentation:

1. ``ce.parameters_from_estimates`` on the package's panel estimators and the bundled data:

   - output elasticities from the within-state (state effects, clustered by state) Cobb-Douglas OLS of
     ``log(gsp)`` on ``log(pcap)``, ``log(pc)``, ``log(emp)`` and ``unemp`` (us_states); ``--pooled``
     uses pooled OLS instead (the scenario: Munnell's 1990 specification). An estimate outside the
     parameter's declared bounds is set to the nearest bound (the within-state public-capital elasticity,
     -0.026 with a standard error of 0.061, becomes 0);
   - employment persistence rho from the two-step Arellano-Bond equation of Arellano and Bond (1991,
     Table 4) on uk_firms (the coefficient of ``lag(n, 1)``);
   - the elasticity of knowledge creation to R&D from the fixed-effects Poisson patent equation
     ``patents ~ log_rd + log_spill`` on firm_patents (Cincera 1997).

2. ``ce.calibrate``: a trajectory fit (bounded least squares on log residuals, inverse-variance weights
   per target, standard errors clustered by state) of the SME birth rate, the wage flexibility and the
   migration response to output, employment, public and private capital and unemployment of all 48
   states over 1970-1980, holding 1981-1986 out. The wage elasticity of labour demand is held at
   Hamermesh's (1993) 0.3, because the wage flexibility and this elasticity are not separately
   identified by the panel (their estimates correlate -1), and the output elasticity of labour demand at
   1 (constant returns: labour demand proportional to output at given wages), because a baseline
   without a programme does not identify it: its jobs follow the labour-force and productivity trends.

``python scripts/calibrate_regional_model.py`` (about 15 s) prints the estimates, the calibrated values
with their standard errors, and the fit table (MAPE, Theil's bias share U^M and the cross-state
correlation of model and data growth per target, for 1970-1986, 1970-1980 and the 1981-1986 holdout);
``--write`` stores the values in ``models/regional_cluster/calibration.toml``, which
``scripts/build_regional_model.py`` writes into the model (run it afterwards). ``fit_table(model, params)``
computes the fit table for any parameter set.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import tomllib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import cluster_econ as ce
from cluster_econ.errors import IdentificationWarning
from cluster_econ.sd.engine import compile_model

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "models" / "regional_cluster" / "calibration.toml"
TARGETS = {"output": "gsp", "employment": "emp", "public_capital": "pcap", "private_capital": "pc",
           "unemployment_rate": "unemp"}
ELASTICITIES = {"output_elasticity_of_public_capital": "log(pcap)", "output_elasticity_of_private_capital": "log(pc)",
                "output_elasticity_of_labour": "log(emp)"}
COBB_DOUGLAS = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"
ARELLANO_BOND = "n ~ lag(n, 1) + lag(n, 2) + w + lag(w, 1) + k + lag(k, 1) + lag(k, 2) + ys + lag(ys, 1) + lag(ys, 2)"
PATENTS = "patents ~ log_rd + log_spill"
#: Held at values from the literature (not identified by the panel); see the module docstring.
LITERATURE = {"wage_elasticity_of_labour_demand": 0.3, "output_elasticity_of_labour_demand": 1.0}
FITTED = ["sme_birth_rate", "wage_flexibility", "migration_response"]
FIT_YEARS, HOLDOUT = (1970, 1980), (1981, 1986)


def panel_arrays(model: ce.SDModel) -> dict[str, pd.DataFrame]:
    """Panel series (year x region, in the model's region order) of every target."""
    frame = ce.load_dataset("us_states").frame.reset_index()
    regions = model.subscripts["Region"]
    return {v: frame.pivot(index="year", columns="state", values=c)[regions].loc[1970:1986]
            for v, c in TARGETS.items()}


def run(compiled, scenarios: pd.DataFrame, final_time: float = 1986):
    return compiled.run(scenarios, outputs=list(TARGETS), final_time=final_time)


def fit_table(model: ce.SDModel, params: dict[str, float] | None = None) -> pd.DataFrame:
    """MAPE, Theil's U^M (bias share of the mean squared error) and growth correlation per target.

    Rows: targets; columns per window (1970-1986, 1970-1980, holdout 1981-1986). Growth correlation is
    the cross-state correlation of log growth 1970-1986, model against data.
    """
    compiled = compile_model(model)
    data = panel_arrays(model)
    ds = run(compiled, pd.DataFrame([params or {}]))
    rows = []
    for v, frame in data.items():
        sim = ds[v].isel(scenario=0).transpose("time", "Region").to_pandas().loc[1970:1986]
        sim.columns = frame.columns
        row: dict[str, Any] = {"target": v, "data": TARGETS[v]}
        for label, (lo, hi) in {"1970-86": (1970, 1986), "1970-80": FIT_YEARS, "1981-86": HOLDOUT}.items():
            s, o = sim.loc[lo:hi].to_numpy(), frame.loc[lo:hi].to_numpy()
            row[f"MAPE {label}"] = float(np.mean(np.abs(s - o) / np.abs(o)))
            if label == "1970-86":
                mse = np.mean((s - o) ** 2)
                row["Theil U^M"] = float((s.mean() - o.mean()) ** 2 / mse) if mse > 0 else 0.0
        if v != "unemployment_rate":
            gs = np.log(sim.loc[1986] / sim.loc[1970])
            go = np.log(frame.loc[1986] / frame.loc[1970])
            row["growth corr"] = float(np.corrcoef(gs, go)[0, 1])
            row["growth model"], row["growth data"] = float(np.expm1(gs).mean()), float(np.expm1(go).mean())
        rows.append(row)
    return pd.DataFrame(rows).set_index("target")


def estimates(*, pooled: bool = False) -> tuple[dict[str, float], dict[str, float], pd.DataFrame]:
    """Parameters from the package's panel estimators, clipped to the model's bounds.

    Returns the values (clipped), their standard errors and a frame of the raw estimates with their sources.
    """
    bounds = ce.load_model("regional_cluster").parameters.set_index("name")
    cd = ce.panel_ols(COBB_DOUGLAS, ce.load_dataset("us_states"), effects=() if pooled else ("entity",),
                      cov_type="clustered")
    ab = ce.arellano_bond(ARELLANO_BOND, ce.load_dataset("uk_firms"), time_effects=True, two_step=True)
    pat = ce.poisson_fe(PATENTS, ce.load_dataset("firm_patents"))
    parts = [(ce.parameters_from_estimates(cd, ELASTICITIES), f"us_states, {'pooled' if pooled else 'within'} OLS"),
             (ce.parameters_from_estimates(ab, {"employment_persistence": "lag(n, 1)"}), "uk_firms, Arellano-Bond"),
             (ce.parameters_from_estimates(pat, {"rd_elasticity_of_knowledge_creation": "log_rd"}),
              "firm_patents, Poisson FE")]
    values, errors, rows = {}, {}, []
    for est, source in parts:
        raw, se = est.to_params(), est.std_errors
        for name, v in raw.items():
            lo, hi = float(bounds.loc[name, "lower"]), float(bounds.loc[name, "upper"])
            values[name] = float(np.clip(v, lo, hi))
            errors[name] = float(se[name])
            rows.append({"parameter": name, "estimate": v, "std_error": float(se[name]), "value": values[name],
                         "bounds": f"{lo:g}-{hi:g}", "source": source})
    return values, errors, pd.DataFrame(rows).set_index("parameter")


def calibrate(model: ce.SDModel, fixed: dict[str, float], *, seed: int = 0,
              start: dict[str, float] | None = None, max_nfev: int | None = None) -> ce.CalibrationResult:
    """``ce.calibrate`` of ``FITTED`` on 1970-1980 (1981-1986 held out), ``fixed`` and ``LITERATURE`` held.

    An :class:`~cluster_econ.errors.IdentificationWarning` is an error here: the fit that sets the defaults
    must identify every parameter it fits.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentificationWarning)
        return ce.calibrate(model, ce.load_dataset("us_states"), targets=TARGETS, parameters=FITTED,
                            fixed={**fixed, **LITERATURE}, holdout=HOLDOUT, seed=seed, start=start,
                            max_nfev=max_nfev)


def calibrated_values(result: ce.CalibrationResult, fixed: dict[str, float]) -> dict[str, float]:
    """Every value the calibration sets, rounded as they are written into the model (4 significant digits)."""
    return {k: float(f"{v:.4g}") for k, v in {**fixed, **LITERATURE, **result.params.to_dict()}.items()}


def write_output(values: dict[str, float], errors: dict[str, float], table: pd.DataFrame, pooled: dict[str, float],
                 path: Path = OUTPUT) -> None:
    """Write the calibrated values, their standard errors, the fit and the pooled scenario to ``path`` (atomic)."""
    lines = ["# Written by scripts/calibrate_regional_model.py --write; read by scripts/build_regional_model.py.",
             "[values]"] + [f"{k} = {v!r}" for k, v in values.items()]
    lines += ["", "[std_errors]"] + [f"{k} = {v!r}" for k, v in errors.items() if np.isfinite(v)]
    lines += ["", "# Pooled OLS output elasticities (a scenario, not the defaults), clipped to the bounds.",
              "[pooled_scenario]"] + [f"{k} = {v!r}" for k, v in pooled.items()]
    lines += ["", "# MAPE of the default run (fraction), fit 1970-1980 and holdout 1981-1986.", "[fit]"]
    lines += [f'{t} = {{ fit = {row["MAPE 1970-80"]:.4f}, holdout = {row["MAPE 1981-86"]:.4f} }}'
              for t, row in table.iterrows()]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def read_output(path: Path = OUTPUT) -> dict[str, Any]:
    """The last written calibration (``values``, ``std_errors``, ``pooled_scenario``, ``fit``)."""
    with path.open("rb") as fh:
        return tomllib.load(fh)


def correlation(cov: pd.DataFrame) -> pd.DataFrame:
    """Correlation matrix of a covariance matrix."""
    sd = np.sqrt(np.diag(cov.to_numpy()))
    return cov / np.outer(sd, sd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pooled", action="store_true", help="fit with the pooled OLS elasticities (the scenario)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help=f"write the values to {OUTPUT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    model = ce.load_model("regional_cluster")
    fixed, fixed_se, table = estimates(pooled=args.pooled)
    pooled, _, _ = estimates(pooled=True)
    res = calibrate(model, fixed, seed=args.seed)
    values = calibrated_values(res, fixed)
    errors = {**fixed_se, **res.std_errors.to_dict()}
    out = sys.stdout
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 4):
        out.write(f"estimates ({'pooled' if args.pooled else 'within'} output elasticities):\n{table}\n\n")
        out.write(f"pooled scenario: {pooled}\n\n")
        out.write(f"ce.calibrate (converged: {res.converged}):\n"
                  f"{pd.DataFrame({'estimate': res.params, 'std_error': res.std_errors})}\n"
                  f"correlation of the estimates:\n{correlation(res.cov)}\n\n")
        out.write("calibrated values:\n" + "\n".join(f"  {k} = {v:.4g}" for k, v in values.items()) + "\n\n")
        fit = fit_table(model, values)
        out.write(f"defaults of {model.label}:\n{fit_table(model)}\n\nwith the calibrated values:\n{fit}\n")
    if args.write:
        if args.pooled:
            raise SystemExit("--write stores the central (within-state) calibration; drop --pooled.")
        write_output(values, errors, fit, pooled)
        out.write(f"\nwrote {OUTPUT}; now run scripts/build_regional_model.py\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
