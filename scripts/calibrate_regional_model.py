"""Calibrate ``regional_cluster`` to the us_states panel and print the fit table.

Two steps, as in the model's documentation:

1. Output elasticities from the within-state (entity fixed effects) Cobb-Douglas regression of
   ``log(gsp)`` on ``log(pcap)``, ``log(pc)``, ``log(emp)`` and ``unemp`` (clustered by state); an
   estimate outside the parameter's declared bounds is set to the nearest bound (the public-capital
   elasticity, -0.03 with a standard error of 0.06, becomes 0). ``--pooled`` uses pooled OLS instead.
2. A trajectory fit of the labour-market and SME parameters the panel identifies, on the batch engine:
   the mean absolute percentage error of output, employment, public and private capital and
   unemployment of all 48 states over 1970-1980 is minimised with scipy's differential evolution
   (seeded, vectorised over the scenario axis); 1981-1986 is held out. ``--check`` repeats the fit with
   ``ce.calibrate`` (bounded least squares on log residuals, inverse-variance weights, standard errors
   clustered by state): it reports that the wage flexibility and the wage elasticity of labour demand are
   not separately identified, and with the elasticity held at 0.3 it puts the birth rate, the wage
   flexibility and the migration response at bounds, i.e. the panel pins these only weakly.

Run ``python scripts/calibrate_regional_model.py`` (about a minute); it prints the calibrated values and
the fit table (MAPE, Theil's bias share U^M and the cross-state correlation of model and data growth
per target, for 1970-1986, 1970-1980 and the 1981-1986 holdout). ``fit_table(model, params)`` computes
the table for any parameter set.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from scipy.optimize import differential_evolution

import cluster_econ as ce
from cluster_econ.sd.engine import compile_model

TARGETS = {"output": "gsp", "employment": "emp", "public_capital": "pcap", "private_capital": "pc",
           "unemployment_rate": "unemp"}
ELASTICITIES = {"output_elasticity_of_public_capital": "log(pcap)", "output_elasticity_of_private_capital": "log(pc)",
                "output_elasticity_of_labour": "log(emp)"}
FITTED = ["sme_birth_rate", "wage_elasticity_of_labour_demand", "wage_flexibility", "migration_response",
          "output_elasticity_of_labour_demand"]
FIT_YEARS, HOLDOUT = (1970, 1980), (1981, 1986)


def panel_arrays(model: ce.SDModel) -> dict[str, pd.DataFrame]:
    """Panel series (year x region, in the model's region order) of every target."""
    frame = ce.load_dataset("us_states").frame.reset_index()
    regions = model.subscripts["Region"]
    return {v: frame.pivot(index="year", columns="state", values=c)[regions].loc[1970:1986]
            for v, c in TARGETS.items()}


def elasticities(pooled: bool = False) -> dict[str, float]:
    """Output elasticities from the panel (``ce.parameters_from_estimates``), clipped to the declared bounds."""
    panel = ce.load_dataset("us_states")
    formula = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"
    fit = ce.panel_ols(formula, panel, effects=() if pooled else ("entity",), cov_type="clustered")
    values = ce.parameters_from_estimates(fit, ELASTICITIES).to_params()
    bounds = ce.load_model("regional_cluster").parameters.set_index("name")
    return {name: float(np.clip(values[name], bounds.loc[name, "lower"], bounds.loc[name, "upper"]))
            for name in ELASTICITIES}


def least_squares_check(model: ce.SDModel, fixed: dict[str, float]):
    """The same trajectory fit with ``ce.calibrate`` (log residuals weighted by inverse variance, standard
    errors clustered by state), the wage elasticity held at Hamermesh's (1993) 0.3 because the wage
    flexibility and elasticity are not separately identified (their estimates correlate -1.000)."""
    targets = {v: c for v, c in TARGETS.items()}
    held = {**fixed, "wage_elasticity_of_labour_demand": 0.3}
    return ce.calibrate(model, ce.load_dataset("us_states"), targets=targets,
                        parameters=[n for n in FITTED if n != "wage_elasticity_of_labour_demand"], fixed=held,
                        holdout=HOLDOUT, seed=0)


def run(compiled, scenarios: pd.DataFrame, final_time: float = 1986):
    return compiled.run(scenarios, outputs=list(TARGETS), final_time=final_time)


def mape_by_scenario(ds, data: dict[str, pd.DataFrame], years: tuple[int, int]) -> np.ndarray:
    """Mean over targets of each scenario's MAPE in ``years``."""
    out = []
    for v, frame in data.items():
        sim = ds[v].sel(time=slice(*years)).transpose("scenario", "time", "Region").values
        obs = frame.loc[years[0]:years[1]].to_numpy()[None]
        out.append(np.mean(np.abs(sim - obs) / np.abs(obs), axis=(1, 2)))
    return np.mean(out, axis=0)


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
        row = {"target": v, "data": TARGETS[v]}
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


def calibrate(model: ce.SDModel, fixed: dict[str, float], *, seed: int = 0, maxiter: int = 25) -> dict[str, float]:
    """Differential evolution of ``FITTED`` within their bounds, ``fixed`` held, on 1970-1980."""
    compiled = compile_model(model)
    data = panel_arrays(model)
    table = model.parameters.set_index("name")
    bounds = [(float(table.loc[n, "lower"]), float(table.loc[n, "upper"])) for n in FITTED]

    def objective(x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x.T).T if x.ndim == 1 else x
        scen = pd.DataFrame(x.T, columns=FITTED)
        for k, val in fixed.items():
            scen[k] = val
        ds = run(compiled, scen, final_time=FIT_YEARS[1])
        loss = mape_by_scenario(ds, data, FIT_YEARS)
        return np.where(np.isfinite(loss), loss, 1e3)

    result = differential_evolution(objective, bounds, seed=seed, maxiter=maxiter, popsize=8, tol=1e-6,
                                    vectorized=True, updating="deferred", polish=False)
    return {n: float(v) for n, v in zip(FITTED, result.x, strict=True)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pooled", action="store_true", help="pooled OLS elasticities (a scenario)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="also fit with ce.calibrate (least squares)")
    args = parser.parse_args(argv)
    model = ce.load_model("regional_cluster")
    fixed = elasticities(pooled=args.pooled)
    fitted = calibrate(model, fixed, seed=args.seed)
    values = {**fixed, **{k: round(v, 3) for k, v in fitted.items()}}
    sys.stdout.write("calibrated values:\n" + "\n".join(f"  {k} = {v:.4g}" for k, v in values.items()) + "\n\n")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        sys.stdout.write(f"defaults of {model.label}:\n{fit_table(model)}\n\nwith the calibrated values:\n"
                         f"{fit_table(model, values)}\n")
        if args.check:
            res = least_squares_check(model, fixed)
            sys.stdout.write(f"\nce.calibrate (least squares, clustered standard errors):\n"
                             f"{pd.DataFrame({'estimate': res.params, 'std_error': res.std_errors})}\n"
                             f"MAPE (%) fit:\n{res.fit['mape']}\nholdout:\n{res.holdout_fit['mape']}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
