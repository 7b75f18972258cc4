"""A policy sweep against EMA Workbench with its PySD connector: ``.venv/bin/python benchmarks/bench_sweep.py``.

The spec: ``regional_cluster`` (48 regions), 10,000 scenarios over its levers and 6 assumed
parameters as uncertainties (LHS), each scenario paired with its no-policy reference run, and the
indicators computed from the pairs. ``ce.sweep`` runs all of it. EMA Workbench (``pip install
ema_workbench``; not a dependency of cluster_econ) runs the same experiments with
``perform_experiments`` on its ``PysdModel`` connector and the ``SequentialEvaluator``: the levers
and uncertainties of each scenario as one experiment, and the reference runs as a second set of
experiments sharing the uncertainty draws. EMA is timed on a sample of its experiments and
extrapolated to the full spec (its model translations, one per ``perform_experiments`` call, are
timed apart and counted once each). Each side runs in its own
subprocess, so peak memory (max RSS) is each one's own.

Prints throughput (scenario pairs per second), the ratio, and peak memory. Targets: >= 1,000x EMA's
throughput, peak memory < 2 GiB. ``--scenarios`` and ``--ema-sample`` shrink the run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import cluster_econ as ce

MODEL = "regional_cluster"
N_UNCERTAIN = 6
ROLE_VARIABLES = ["employment", "sme_employment", "output"]


def spec(model):
    table = model.parameters
    levers = [ce.Lever(r.name, float(r.lower), float(r.upper)) for r in table.itertuples() if r.kind == "lever"]
    assumed = [r for r in table.itertuples() if r.kind == "assumed"][:N_UNCERTAIN]
    uncertainties = [ce.Uncertainty(r.name, float(r.lower), float(r.upper)) for r in assumed]
    indicators = None
    if not getattr(model, "indicators", {}):  # before a model declares its [indicators] table
        names = set(model.variables["name"])
        spend = "cumulative_programme_cost" if "cumulative_programme_cost" in names else "programme_public_spend"
        indicators = {"spend": spend, "sme_seat_share": None, "startup_rate": None}
    outcomes = [ce.Outcome("employment", reduce="sum"), ce.Outcome("sme_employment", reduce="sum")]
    return levers, uncertainties, outcomes, indicators


def peak_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30  # GiB (Linux: KiB)


def ours(n: int) -> dict:
    model = ce.load_model(MODEL)
    levers, uncertainties, outcomes, indicators = spec(model)
    ce.sweep(model, levers=levers, uncertainties=uncertainties, outcomes=outcomes, n=4, indicators=indicators)
    start = time.perf_counter()
    res = ce.sweep(model, levers=levers, uncertainties=uncertainties, outcomes=outcomes, n=n, seed=1,
                   indicators=indicators)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "scenarios": n, "indicators": list(res.indicators.columns),
            "net_jobs_median": float(res.indicators["net_jobs"].median()), "peak_gib": peak_rss(),
            "levers": len(levers), "uncertainties": len(uncertainties)}


def ema(sample: int) -> dict:
    from ema_workbench import (
        Constant,
        RealParameter,
        Scenario,
        SequentialEvaluator,
        TimeSeriesOutcome,
        perform_experiments,
    )
    from ema_workbench.connectors.pysd_connector import PysdModel

    model = ce.load_model(MODEL)
    levers, uncertainties, _, _ = spec(model)
    reference = dict(getattr(model, "no_policy", {}) or {})
    table = model.parameters.set_index("name")
    reference = {lv.name: float(reference.get(lv.name, table.loc[lv.name, "value"])) for lv in levers}
    regions = model.subscripts["Region"]
    folder = Path(tempfile.mkdtemp(prefix="bench_sweep_ema_"))
    try:
        mdl = folder / model.path.name  # pysd.read_vensim writes its .py next to the .mdl: keep it out of the tree
        shutil.copy(model.path, mdl)
        translate = time.perf_counter()
        import pysd

        pysd.read_vensim(str(mdl))
        translate = time.perf_counter() - translate

        def build(name: str, lever_constants: bool):
            ema_model = PysdModel(name, mdl_file=str(mdl))
            params = [RealParameter(u.name, u.lower, u.upper) for u in uncertainties]
            if lever_constants:
                ema_model.constants = [Constant(k, v) for k, v in reference.items()]
            else:
                params += [RealParameter(lv.name, lv.lower, lv.upper) for lv in levers]
            ema_model.uncertainties = params
            ema_model.outcomes = [TimeSeriesOutcome(f"{v}_{i}", variable_name=f"{v}[{r}]")
                                  for v in ROLE_VARIABLES for i, r in enumerate(regions)]
            return ema_model

        inits: list[float] = []

        def timed(ema_model):
            init = ema_model.model_init

            def model_init(*a, **k):  # EMA's model_init translates the .mdl again: timed apart
                t = time.perf_counter()
                init(*a, **k)
                inits.append(time.perf_counter() - t)

            ema_model.model_init = model_init
            return ema_model

        policy_model = timed(build("policy", False))
        reference_model = timed(build("reference", True))
        start = time.perf_counter()
        with warnings.catch_warnings(), SequentialEvaluator(policy_model) as evaluator:
            warnings.simplefilter("ignore")
            experiments, _ = perform_experiments(policy_model, scenarios=sample, evaluator=evaluator)
        shared = [Scenario(f"s{i}", **{u.name: float(experiments.loc[i, u.name]) for u in uncertainties})
                  for i in range(sample)]
        with warnings.catch_warnings(), SequentialEvaluator(reference_model) as evaluator:
            warnings.simplefilter("ignore")
            perform_experiments(reference_model, scenarios=shared, evaluator=evaluator)
        seconds = time.perf_counter() - start - sum(inits)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"seconds": seconds, "scenarios": sample, "translate_seconds": translate, "inits": inits,
            "peak_gib": peak_rss()}


def child(part: str, size: int) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, __file__, "--part", part, "--size", str(size)], check=True,
                         capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--ema-sample", type=int, default=8, help="EMA experiments timed (then extrapolated)")
    parser.add_argument("--part", choices=["ours", "ema"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(ours(args.size) if args.part == "ours" else ema(args.size)))
        return 0
    a = child("ours", args.scenarios)
    b = child("ema", args.ema_sample)
    ours_rate = a["scenarios"] / a["seconds"]
    ema_per = b["seconds"] / b["scenarios"]
    ema_total = ema_per * args.scenarios + sum(b["inits"])  # its two model translations, once each
    ema_rate = args.scenarios / ema_total
    print(f"spec: {MODEL}, {a['scenarios']} scenarios x (1 + 1 reference run), {a['levers']} levers, "
          f"{a['uncertainties']} uncertainties, {len(a['indicators'])} indicators")
    print(f"ce.sweep:   {a['seconds']:9.1f} s  {ours_rate:10.1f} scenario pairs/s  peak RSS {a['peak_gib']:.2f} GiB")
    print(f"EMA + PySD: {ema_per:9.3f} s per scenario pair (sample of {b['scenarios']}; translation "
          f"{b['translate_seconds']:.1f} s, once per perform_experiments call) -> "
          f"{ema_total / 3600:.1f} h extrapolated, {ema_rate:.3f} pairs/s, "
          f"peak RSS {b['peak_gib']:.2f} GiB")
    print(f"throughput ratio: {ours_rate / ema_rate:,.0f}x (target >= 1,000x); peak memory "
          f"{a['peak_gib']:.2f} GiB (target < 2 GiB)")
    print(f"median net_jobs {a['net_jobs_median']:.6g}; indicators: {', '.join(a['indicators'])}")
    return 0 if np.isfinite(ours_rate) else 1


if __name__ == "__main__":
    raise SystemExit(main())
