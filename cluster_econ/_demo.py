"""``cluster-econ demo``: the whole pipeline on the bundled data, saying in words what each step shows.

data -> panel estimates -> parameters from estimates -> calibrated model (fit table) -> a simulation ->
a small policy sweep with paired no-policy runs and indicators -> scenario discovery -> saved results,
an HTML report and the citation. It takes well under a minute after the first translation of the model.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["run_demo"]

Say = Callable[[object], None]

PRODUCTION_FUNCTION = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"
ELASTICITIES = {"output_elasticity_of_public_capital": "log(pcap)", "output_elasticity_of_private_capital": "log(pc)",
                "output_elasticity_of_labour": "log(emp)"}
#: The trajectory fit that sets the defaults of regional_cluster (scripts/calibrate_regional_model.py).
CALIBRATED = ["sme_birth_rate", "wage_flexibility", "migration_response"]
TARGETS = {"output": "gsp", "employment": "emp", "public_capital": "pcap", "private_capital": "pc",
           "unemployment_rate": "unemp"}

DEMO_OUTCOMES = {  # variable: (label, how to aggregate the 48 states)
    "output": ("Output (USD bn 1982/yr)", "sum"),
    "employment": ("Employment (million jobs)", "sum"),
    "sme_employment": ("SME employment (million jobs)", "sum"),
    "public_capital": ("Public capital (USD bn 1982)", "sum"),
    "unemployment_rate": ("Unemployment rate (%, mean)", "mean"),
    "alignment": ("Alignment (0-1, mean)", "mean"),
    "sme_seat_share": ("SME seat share (mean)", "mean"),
}


def _section(say: Say, title: str) -> None:
    say("")
    say(title)
    say("=" * len(title))


def _data(say: Say, state: dict[str, Any]) -> None:
    from .data import load_dataset

    _section(say, "Data: US states, 1970-1986 (Munnell 1990)")
    state["panel"] = panel = load_dataset("us_states")
    say(panel.describe())
    say("What it shows: a balanced panel of gross state product, public and private capital and employment, "
        "the data of the public-capital debate.")


def _estimation(say: Say, state: dict[str, Any]) -> None:
    from .estimation import compare, panel_ols

    _section(say, "Estimation: production function with public capital (Munnell 1990; Holtz-Eakin 1994)")
    specs = {"Pooled OLS": (), "State effects": ("entity",), "State and year effects": ("entity", "time")}
    results = {label: panel_ols(PRODUCTION_FUNCTION, state["panel"], effects=effects)
               for label, effects in specs.items()}
    state["estimates"] = results
    say(compare(results))
    pooled, within = (float(results[label].params["log(pcap)"]) for label in ("Pooled OLS", "State effects"))
    say(f"Public-capital elasticity: {pooled:.3f} pooled, {within:.3f} with state effects.")
    say("What it shows: Munnell's pooled elasticity of output to public capital, and how it vanishes once "
        "permanent differences between states are removed (Holtz-Eakin 1994).")


def _calibration(say: Say, state: dict[str, Any]) -> None:
    from .calibration import calibrate, parameters_from_estimates
    from .sd import load_model

    model = state["model"] = load_model("regional_cluster")
    _section(say, f"Calibration: {model.label} fitted to the 48 states, 1970-1980, 1981-1986 held out")
    say("Scenario: the no-policy baseline (every lever at its no-policy value), with the central case of the "
        "model's calibration: output elasticities from the state-effects estimates (the pooled ones are a scenario).")
    estimates = parameters_from_estimates(state["estimates"]["State effects"], ELASTICITIES)
    bounds = model.parameters.set_index("name")[["lower", "upper"]]
    fixed = {k: min(max(v, float(bounds.loc[k, "lower"])), float(bounds.loc[k, "upper"]))
             for k, v in estimates.to_params().items()}
    say("Fixed from the state-effects estimates (delta-method standard errors; a value outside the declared "
        "bounds is set to the bound):")
    say(pd.DataFrame({"estimate": estimates.params, "std_error": estimates.std_errors, "value": pd.Series(fixed)})
        .to_string(float_format="{:.4f}".format))
    cal = state["calibration"] = calibrate(model, state["panel"], targets=TARGETS, parameters=CALIBRATED,
                                           fixed=fixed, holdout=(1981, 1986), seed=0)
    say("")
    say(cal.parameters[["estimate", "std_error", "lower", "upper", "at_bound"]].to_string(float_format="{:.4f}".format))
    columns = ["n", "rmse", "mape", "r2", "theil_um", "theil_us", "theil_uc"]
    fit = pd.concat({"in sample": cal.fit[columns], "holdout": cal.holdout_fit[columns]})
    say("")
    say(fit.to_string(float_format="{:.3f}".format))
    say(f"What it shows: the fit of the calibrated model (the defaults of {model.label} come from this fit, "
        "scripts/calibrate_regional_model.py) to each state's output, employment, public and private capital and "
        "unemployment (MAPE in %, Theil's decomposition of the error into bias, variance and covariance), in "
        "sample and out of sample; standard errors clustered by state; a parameter on its bound is flagged, not "
        "hidden.")


def _simulation(say: Say, state: dict[str, Any]) -> None:
    from .sd import simulate

    model = state["model"]
    _section(say, f"Simulation: {model.id} {model.version}, 48 US states from their 1970 values to 2000")
    run = state["run"] = simulate(model, final_time=2000, saveper=10, outputs=list(DEMO_OUTCOMES))
    rows = {}
    data = run.data  # one copy of the run's data
    for name, (label, how) in DEMO_OUTCOMES.items():
        values = data[name]
        values = values.sum("Region") if how == "sum" else values.mean("Region")
        scale = 1e-3 if how == "sum" else 1.0
        rows[label] = (values * scale).to_series()
    table = pd.DataFrame(rows).T
    table.columns = [f"{t:.0f}" for t in table.columns]
    say(table.to_string(float_format=lambda x: f"{x:,.3f}"))
    say(f"engine: {run.provenance.details.get('engine')}, model sha256 {model.sha256[:12]}")
    say("What it shows: the no-policy baseline (the default run, the one fitted to the panel) to 2000, all 48 "
        "states in one vectorised run; a programme is what the sweep below sets.")


def _sweep(say: Say, state: dict[str, Any]) -> None:
    from .sweeps import Lever, Outcome, Uncertainty, prim, sweep

    model = state["model"]
    _section(say, "Policy sweep: programme size and engagement delay, 64 scenarios, paired no-policy runs")
    res = state["sweep"] = sweep(
        model, levers=[Lever("public_investment_share", 0.0, 0.05), Lever("engagement_start_delay", 0.0, 15.0)],
        uncertainties=[Uncertainty("fit_elasticity_of_public_capital", 0.0, 1.0)],
        outcomes=[Outcome("sme_employment", time="final", reduce="sum"),
                  Outcome("employment", time="all", reduce="sum")], n=64, design="lhs", seed=1)
    names = [c for c in ("net_jobs", "net_sme_jobs", "present_value_added", "sme_share_of_net_jobs")
             if c in res.indicators.columns]
    bands = res.indicators[names].quantile([0.05, 0.5, 0.95]).T
    bands.columns = ["5%", "50%", "95%"]
    say(bands.to_string(float_format=lambda x: f"{x:,.3f}"))
    box = state["prim"] = prim(res, res.indicators["net_sme_jobs"] > 0)
    say("")
    say(f"PRIM: net SME jobs > 0 in {box.density:.0%} of the scenarios inside this box "
        f"(coverage {box.coverage:.0%}, mass {box.mass:.0%}):")
    say(box.box.to_string(float_format="{:.3f}".format))
    say("What it shows: jobs created against each scenario's own no-policy run (common random numbers, so the "
        "difference is the policy's), their 5-95 % bands over what we do not know, and the policy box where "
        "SME jobs appear.")


def _save_report_cite(say: Say, state: dict[str, Any]) -> None:
    from .provenance import cite
    from .reporting import report, save

    folder = Path(state["output"])
    _section(say, "Saved results, report and citation")
    for name in ("calibration", "run", "sweep"):
        save(state[name], folder / name)
    path = report({"Production function, pooled": state["estimates"]["Pooled OLS"], "Calibration": state["calibration"],
                   "Simulation": state["run"], "Policy sweep": state["sweep"], "Scenario discovery": state["prim"]},
                  folder / "report.html", title="cluster_econ demo")
    say(f"Results saved in {folder} (re-run and check them with `cluster-econ reproduce {folder / 'sweep'}`).")
    say(f"Report: {path}")
    say("")
    say(cite(state["sweep"]).split("\n\n")[0])
    say("What it shows: every result is saved with the call that made it, re-runs bit for bit, and cites the "
        "model version, the data's original study and the package.")


DEMO_STEPS: list[Callable[[Say, dict[str, Any]], None]] = [_data, _estimation, _calibration, _simulation, _sweep,
                                                           _save_report_cite]


def run_demo(say: Say, *, output: str | Path | None = None) -> dict[str, Any]:
    """Run every step, writing lines with ``say``; return the results by name."""
    from . import __version__

    folder = Path(output) if output is not None else Path(tempfile.mkdtemp(prefix="cluster-econ-demo-"))
    state: dict[str, Any] = {"output": folder}
    say(f"cluster_econ {__version__}: the pipeline on the bundled data")
    for step in DEMO_STEPS:
        step(say, state)
    return state
