"""Calibration speed: ``.venv/bin/python benchmarks/bench_calibration.py``.

Calibrates 8 parameters of ``regional_cluster`` to the 48 states of ``us_states``, 1970-1986, with
5 targets and ``n_starts=4`` using ``ce.calibrate`` (every Jacobian and all starts integrated together
by the batch engine), and prints the wall time against the 60 s target. The baseline is the obvious
alternative: ``scipy.optimize.least_squares`` calling ``ce.simulate(engine="pysd")`` once per
evaluation. A few PySD runs are timed in the same process and extrapolated to the number of model
evaluations the calibration needed (the same algorithm run one evaluation at a time).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import cluster_econ as ce

# The parameters fitted (bounds from model.toml) and the targets; update here when the model changes.
PARAMETERS = [
    "public_capital_replacement_ratio", "private_capital_trend_growth", "private_capital_depreciation_rate",
    "output_elasticity_of_labour", "sme_birth_rate", "young_sme_hazard", "labour_force_natural_growth",
    "migration_adjustment_time",
]
TARGETS = {"output": "gsp", "employment": "emp", "public_capital": "pcap", "private_capital": "pc",
           "unemployment_rate": "unemp"}
TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pysd-runs", type=int, default=3, help="PySD runs timed for the baseline")
    parser.add_argument("--n-starts", type=int, default=4)
    args = parser.parse_args()
    model = ce.load_model("regional_cluster")
    panel = ce.load_dataset("us_states")
    from cluster_econ.sd.engine import compile_model

    start = time.perf_counter()
    compile_model(model)
    compile_seconds = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ce.errors.ClusterEconWarning)
        result = ce.calibrate(model, panel, targets=TARGETS, parameters=PARAMETERS, n_starts=args.n_starts, seed=0)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    times, cpus = [], []
    params = result.to_params()
    for _ in range(args.pysd_runs):
        t0, c0 = time.perf_counter(), time.process_time()
        ce.simulate(model, params=params, final_time=1986, outputs=list(TARGETS), engine="pysd")
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    per_run, per_cpu = float(np.median(times)), float(np.median(cpus))
    baseline = per_run * result.n_evaluations
    print(f"model {model.label}: {len(PARAMETERS)} parameters, {len(TARGETS)} targets, 48 states 1970-1986, "
          f"n_starts={args.n_starts}")
    print(f"kernel compile (excluded, cached after the first run): {compile_seconds:.1f} s")
    print(f"ce.calibrate: {seconds:.1f} s wall ({cpu:.1f} s CPU of this process; the machine is shared) for "
          f"{result.n_evaluations} model evaluations "
          f"(target < {TARGET_SECONDS:.0f} s: {'met' if seconds < TARGET_SECONDS else 'NOT met'}); converged="
          f"{result.converged}; starts reaching the best optimum: {int(result.starts['same_optimum'].sum())} of "
          f"{len(result.starts)}")
    print(f"baseline least_squares + simulate(engine='pysd'): {per_run:.2f} s per evaluation (median of "
          f"{args.pysd_runs}) x {result.n_evaluations} = {baseline:.0f} s (extrapolated)")
    ratio_cpu = per_cpu * result.n_evaluations / cpu
    print(f"ratio baseline / calibrate: {baseline / seconds:.1f}x wall, {ratio_cpu:.1f}x CPU")
    print(result.fit.round(4).to_string())


if __name__ == "__main__":
    main()
