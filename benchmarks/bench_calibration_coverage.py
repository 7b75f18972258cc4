"""Coverage of calibration confidence intervals: ``.venv/bin/python benchmarks/bench_calibration_coverage.py``.

A panel shaped like us_states (48 regions, 1970-1986) is simulated from a regional growth model with
known parameters (the test model ``tests/fixtures/sdmodels/regional_growth.mdl`` widened to the 48
states, initial values drawn once from a seed), times multiplicative AR(1) noise (rho 0.6,
stationary log sd 0.05, independent across regions and targets). Each replication draws new noise,
calibrates the three parameters and checks whether the nominal 95 % intervals of the ``clustered``,
``bootstrap`` and ``unadjusted`` covariances cover the truth. Prints the coverage table (with its
binomial standard error), the mean standard error against the spread of the estimates, and the time.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import cluster_econ as ce

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tests" / "fixtures" / "sdmodels" / "regional_growth.mdl"
TRUTH = {"saving_rate": 0.25, "depreciation_rate": 0.05, "employment_adjustment_time": 3.0}
BOUNDS = {"saving_rate": (0.05, 0.5), "depreciation_rate": (0.01, 0.15), "employment_adjustment_time": (0.5, 8.0)}
TARGETS = {"output": "gsp", "employment": "emp", "capital": "pc", "investment": "inv"}
UNITS = {"gsp": "USD million", "emp": "thousand persons", "pc": "USD million", "inv": "USD million"}
RHO, SIGMA = 0.6, 0.05


def wide_model(folder: Path, seed: int = 0) -> Path:
    """The test model over the 48 states of us_states, with initial values drawn from ``seed``."""
    states = [str(s) for s in ce.load_dataset("us_states").entities]
    rng = np.random.default_rng(seed)
    n = len(states)
    employment = np.round(rng.lognormal(np.log(1500), 0.9, n), 0)
    labour = np.round(employment * rng.uniform(1.03, 1.12, n), 0)
    productivity = np.round(rng.uniform(0.85, 1.25, n), 3)
    ratio = rng.uniform(2.0, 3.0, n)
    capital = np.round(ratio * productivity ** (1 / 0.65) * ratio ** (0.35 / 0.65) * employment, 0)
    text = SOURCE.read_text()
    text = re.sub(r"Region:\n\t[^\n]+\n", "Region:\n\t" + ", ".join(states) + "\n", text)

    def replace(name: str, values: np.ndarray) -> None:
        nonlocal text
        text = re.sub(rf"({re.escape(name)}\[Region\] =\n\t)[^\n]+\n",
                      lambda m: m.group(1) + ", ".join(f"{v:g}" for v in values) + "\n", text)

    replace("initial capital", capital)
    replace("initial employment", employment)
    replace("initial labour force", labour)
    replace("productivity", productivity)
    path = folder / "regional_growth_48.mdl"
    path.write_text(text)
    return path


def panel_from(model, rng: np.random.Generator) -> ce.RegionalPanel:
    run = ce.simulate(model, params=TRUTH, final_time=1986, outputs=list(TARGETS))
    frames = []
    for var, col in TARGETS.items():
        values = run.data[var].transpose("time", "Region").values
        noise = np.empty_like(values)
        noise[0] = rng.normal(0, SIGMA, values.shape[1])
        for t in range(1, len(values)):
            noise[t] = RHO * noise[t - 1] + rng.normal(0, SIGMA * np.sqrt(1 - RHO**2), values.shape[1])
        frame = pd.DataFrame(values * np.exp(noise), index=run.data["time"].values.astype(int),
                             columns=[str(r) for r in run.data["Region"].values])
        frames.append(frame.stack().rename(col))
    frame = pd.concat(frames, axis=1).rename_axis(["year", "state"]).reset_index()
    return ce.RegionalPanel.from_frame(frame, entity="state", time="year", units=UNITS, name="coverage")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--n-boot", type=int, default=99)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rows = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        model = ce.load_model(wide_model(Path(folder)))
        rng = np.random.default_rng(args.seed)
        for rep in range(args.reps):
            panel = panel_from(model, rng)
            for cov_type in ("clustered", "unadjusted", "bootstrap"):
                res = ce.calibrate(model, panel, targets=TARGETS, parameters=BOUNDS, cov_type=cov_type,
                                   n_boot=args.n_boot, seed=rep)
                ci = res.conf_int(0.95)
                for name, truth in TRUTH.items():
                    rows.append({"rep": rep, "cov_type": cov_type, "parameter": name,
                                 "estimate": res.params[name], "std_error": res.std_errors[name],
                                 "covered": bool(ci.loc[name, "lower"] <= truth <= ci.loc[name, "upper"])})
            if (rep + 1) % 20 == 0:
                print(f"  {rep + 1} replications, {time.perf_counter() - start:.0f} s", flush=True)
    seconds = time.perf_counter() - start
    table = pd.DataFrame(rows)
    cover = table.pivot_table(index="parameter", columns="cov_type", values="covered", aggfunc="mean")
    spread = table[table["cov_type"] == "clustered"].groupby("parameter")["estimate"].std()
    mean_se = table.pivot_table(index="parameter", columns="cov_type", values="std_error", aggfunc="mean")
    n = args.reps
    print(f"{n} replications, 48 regions x 17 years, AR(1) multiplicative noise rho={RHO}, log sd {SIGMA}; "
          f"n_boot={args.n_boot}; {seconds:.0f} s")
    print(f"\ncoverage of nominal 95 % intervals (binomial s.e. {np.sqrt(0.95 * 0.05 / n):.3f}):")
    print((cover[["clustered", "bootstrap", "unadjusted"]] * 100).round(1).to_string())
    print("\nall parameters:", ", ".join(f"{c} {table[table['cov_type'] == c]['covered'].mean() * 100:.1f} %"
                                          for c in ("clustered", "bootstrap", "unadjusted")))
    print("\nmean standard error against the standard deviation of the estimates:")
    print(pd.concat([mean_se[["clustered", "bootstrap", "unadjusted"]], spread.rename("sd of estimates")],
                    axis=1).to_string(float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
