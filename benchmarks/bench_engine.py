"""Batch engine against separate PySD runs: ``.venv/bin/python benchmarks/bench_engine.py``.

Runs ``regional_cluster`` (48 regions) over 6 levers and uncertainties, keeping 5 outputs saved
yearly, with ``ce.simulate_batch``, at 1,000 and 10,000 scenarios (``--sizes``), each with
tracemalloc off (the speed) and on (the peak memory); the same for a baseline kernel compiled in the
same run without sparse evaluation of constant weight matrices (``--no-baseline`` leaves it out),
with the ratio of the two. Then it times a sample of separate PySD runs of the same scenarios in
the same process, each from a freshly loaded model (a clean state, as a sweep needs), and prints
throughput in scenarios per second for both, their ratio, and the ratio for a single-scenario run
(compile time excluded, and reported). ``--profile N`` instead times every statement of the kernel's
step on one chunk of N scenarios. Before the package models exist it falls back to the SIR test model.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import cluster_econ as ce
from cluster_econ.sd.engine import _api as engine_api  # its in-memory kernel cache is cleared below
from cluster_econ.sd.engine import compile_model

ROOT = Path(__file__).resolve().parents[1]
SIR = ROOT / "tests" / "fixtures" / "sdmodels" / "SIR.mdl"
LEVERS = ["public_investment_share", "knowledge_sharing_intensity", "sme_representation_quota",
          "engagement_start_delay", "output_elasticity_of_public_capital", "employment_persistence"]
OUTPUTS = ["employment", "sme_employment", "output", "public_capital", "knowledge_stock"]


def latin_hypercube(bounds: dict[str, tuple[float, float]], n: int, seed: int) -> pd.DataFrame:
    """A Latin hypercube sample of ``n`` scenarios within ``bounds``."""
    rng = np.random.default_rng(seed)
    cols = {}
    for name, (lo, hi) in bounds.items():
        u = (rng.permutation(n) + rng.uniform(size=n)) / n
        cols[name] = lo + u * (hi - lo)
    return pd.DataFrame(cols, index=pd.RangeIndex(n, name="scenario"))


def choose(model) -> tuple[dict[str, tuple[float, float]], list[str]]:
    table = model.parameters.set_index("name")
    bounded = [n for n in table.index if np.isfinite(float(table.loc[n, "lower"]))
               and np.isfinite(float(table.loc[n, "upper"]))]
    names = [n for n in LEVERS if n in bounded] + [n for n in bounded if n not in LEVERS]
    bounds = {n: (float(table.loc[n, "lower"]), float(table.loc[n, "upper"])) for n in names[:6]}
    variables = model.variables.set_index("name")
    outputs = [n for n in OUTPUTS if n in variables.index]
    stocks = [n for n in variables.index[variables["kind"] == "stock"] if n not in outputs]
    return bounds, (outputs + stocks)[:5]


def pysd_run(model, params: dict, columns: list[str]) -> tuple[pd.DataFrame, float]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = model.pysd().run(params=params, return_columns=columns)  # fresh model: clean state
    return frame, time.perf_counter() - start


def profile(compiled, scenarios: pd.DataFrame, outputs: list[str], top: int = 12) -> None:
    """Time every statement of the kernel's ``_step`` on one chunk and print the most expensive ones."""
    from cluster_econ.sd.engine import _program, _runtime
    from cluster_econ.sd.engine._integrate import integrate_fixed

    source, _ = _program.assemble(compiled.program, outputs)
    lines = source.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("def _step")))
    end = lines.index("    return V, D", start)
    timed = lines[: start + 1]
    labels = []
    for line in lines[start + 1: end]:
        k = len(labels)
        labels.append(line.strip())
        timed += [f"    _c{k} = _pc()", line, f"    _T[{k}] += _pc() - _c{k}"]
    timed += lines[end:]
    totals = np.zeros(len(labels))
    namespace = {"np": np, "_rt": _runtime, "_bc": _runtime.bc, "_pc": time.perf_counter, "_T": totals,
                 **compiled.arrays}
    exec(compile("\n".join(timed), "<profiled kernel>", "exec"), namespace)  # the engine's own generated code
    functions = (namespace["_init"], namespace["_step"], namespace["_euler"], None)
    params, _ = compiled.prepare(scenarios)
    shapes = {k: compiled.shape_of(k) for k in outputs}
    begin = time.perf_counter()
    integrate_fixed(functions, params, len(scenarios), outputs, shapes, compiled.control_values(), "euler", [])
    wall = time.perf_counter() - begin
    print(f"\nprofile of _step on one chunk of {len(scenarios)} scenarios: {wall:.2f} s in all, "
          f"{totals.sum() / wall:.0%} of it in _step's statements")
    for k in np.argsort(-totals)[:top]:
        print(f"  {totals[k] / totals.sum():6.1%}  {labels[k][:110]}")


@contextlib.contextmanager
def private_cache():
    """A temporary kernel cache (disk and memory), restored afterwards."""
    with tempfile.TemporaryDirectory() as cache:
        old = os.environ.get("CLUSTER_ECON_CACHE")
        os.environ["CLUSTER_ECON_CACHE"] = cache
        saved = dict(engine_api._MEMORY)
        engine_api._MEMORY.clear()
        try:
            yield
        finally:
            engine_api._MEMORY.clear()
            engine_api._MEMORY.update(saved)
            if old is None:
                os.environ.pop("CLUSTER_ECON_CACHE")
            else:
                os.environ["CLUSTER_ECON_CACHE"] = old


def dense_kernel(model):
    """The model compiled without sparse evaluation of constant weight matrices (the baseline)."""
    from cluster_econ.sd.engine import _functions

    original = _functions.sparse_product
    _functions.sparse_product = lambda *args: args[-1]  # the dense form, as before sparse evaluation
    try:
        with private_cache():
            return compile_model(model)
    finally:
        _functions.sparse_product = original


def timed(run, n: int, trace: bool = True) -> tuple[float, float, int]:
    """ms per scenario without tracemalloc, with it, and the traced peak in bytes (NaN, 0 untraced)."""
    start = time.perf_counter()
    run()
    untraced = time.perf_counter() - start
    if not trace:
        return untraced / n * 1000, float("nan"), 0
    tracemalloc.start()
    start = time.perf_counter()
    run()
    traced = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return untraced / n * 1000, traced / n * 1000, peak


def speed_table(model, compiled, bounds, outputs, sizes, chunk_size, seed, baseline: bool,
                trace_up_to: int) -> float:
    """Print the speed table; return the default kernel's ms per scenario at the largest size."""
    kernels = {"sparse (default)": compiled}
    if baseline:
        kernels = {"dense (baseline)": dense_kernel(model), **kernels}
    for kernel in kernels.values():
        kernel.run(outputs=outputs)  # builds the kernel function once
    print(f"\n{'kernel':<18} {'scenarios':>9} {'ms/scen':>8} {'traced':>8} {'peak MiB':>9} {'ratio':>6}   "
          f"(load average {os.getloadavg()[0]:.2f} at start)")
    for n in sizes:
        scenarios = latin_hypercube(bounds, n, seed)
        first = None
        for label, kernel in kernels.items():
            def run(kernel=kernel, scenarios=scenarios):
                ce.simulate_batch(kernel, scenarios, outputs=outputs, chunk_size=chunk_size)
            ms, traced, peak = timed(run, n, trace=n <= trace_up_to)
            first = first or ms
            print(f"{label:<18} {n:>9,} {ms:>8.3f} {traced:>8.3f} {peak / 2**20:>9.1f} {first / ms:>5.2f}x")
    largest = ms if label == "sparse (default)" else float("nan")
    verdict = "met" if n >= 10_000 and largest <= 1.1 else "NOT met"
    print(f"target: <= 1.1 ms per scenario at 10,000 scenarios without tracemalloc: {verdict} "
          f"(load average {os.getloadavg()[0]:.2f} at the end)")
    return largest if n >= 10_000 else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=1_000, help="scenarios of the comparison with PySD")
    parser.add_argument("--pysd-runs", type=int, default=3, help="separate PySD runs timed")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="only profile the kernel's statements on one chunk of N scenarios")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000], help="numbers of scenarios timed")
    parser.add_argument("--no-baseline", action="store_true", help="leave out the dense baseline kernel")
    parser.add_argument("--trace-up-to", type=int, default=10**9, metavar="N",
                        help="time with tracemalloc on only up to N scenarios (it doubles the run time)")
    args = parser.parse_args()

    ids = set(ce.list_models()["id"])
    model = ce.load_model("regional_cluster" if "regional_cluster" in ids else SIR)
    bounds, outputs = choose(model)
    regions = {d: len(c) for d, c in model.subscripts.items()}
    print(f"model: {model.label}  subscripts: {regions}  control: {model.control}")
    print(f"varied ({len(bounds)}): {', '.join(bounds)}")
    print(f"outputs ({len(outputs)}), saved every {model.control['saveper']}: {', '.join(outputs)}")

    with private_cache():  # cold compile: parse, generate, cache
        start = time.perf_counter()
        compile_model(model)
        cold = time.perf_counter() - start
        engine_api._MEMORY.clear()
        start = time.perf_counter()
        compiled = compile_model(model)
        warm = time.perf_counter() - start
    compiled.run(outputs=outputs)  # builds the kernel function once
    print(f"compile: {cold:.2f} s cold, {warm:.3f} s from the cache")

    scenarios = latin_hypercube(bounds, args.scenarios, args.seed)
    if args.profile:
        profile(compiled, scenarios.iloc[: args.profile], outputs)
        return 0
    per_scenario = speed_table(model, compiled, bounds, outputs, args.sizes, args.chunk_size, args.seed,
                               not args.no_baseline, args.trace_up_to)
    start = time.perf_counter()  # the speed, without tracemalloc (which slows numpy-heavy code down)
    ce.simulate_batch(model, scenarios, outputs=outputs, chunk_size=args.chunk_size)
    untraced = time.perf_counter() - start
    tracemalloc.start()
    start = time.perf_counter()
    batch = ce.simulate_batch(model, scenarios, outputs=outputs, chunk_size=args.chunk_size)  # bounds checked
    engine_time = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine_rate = args.scenarios / untraced

    vensim = [batch[k].attrs["vensim_name"] for k in outputs]
    times, worst = [], 0.0
    for i in range(args.pysd_runs):
        frame, seconds = pysd_run(model, scenarios.iloc[i].to_dict(), vensim)
        times.append(seconds)
        for k, col in zip(outputs, vensim, strict=True):
            da = batch[k].isel(scenario=i)
            flat = da.values.reshape(da.shape[0], -1)
            labels = [col] if da.ndim == 1 else [
                f"{col}[{','.join(str(da[d].values[j]) for d, j in zip(da.dims[1:], idx, strict=True))}]"
                for idx in np.ndindex(*da.shape[1:])]
            for j, label in enumerate(labels):
                ref = frame[label].to_numpy(dtype=float)
                worst = max(worst, float(np.max(np.abs(flat[:, j] - ref) / np.maximum(np.abs(ref), 1e-12))))
    pysd_rate = 1 / float(np.mean(times))

    start = time.perf_counter()
    one = compiled.run(scenarios.iloc[:1], outputs=outputs)
    single_engine = time.perf_counter() - start
    _ = one
    single_pysd = pysd_run(model, scenarios.iloc[0].to_dict(), vensim)[1]

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\nengine: {args.scenarios} scenarios in {engine_time:.2f} s = {engine_rate:,.0f} scenarios/s "
          f"(peak traced memory {peak / 2**30:.2f} GiB; process peak RSS {rss:.2f} GiB)")
    print(f"engine without tracemalloc: {untraced:.2f} s = {untraced / args.scenarios * 1000:.3f} ms per scenario "
          f"(target <= 1.1 ms for regional_cluster at 10,000 scenarios)")
    print(f"pysd:   {args.pysd_runs} separate runs, {np.mean(times):.2f} s each = {pysd_rate:,.2f} scenarios/s")
    print(f"ratio (engine / pysd throughput): {engine_rate / pysd_rate:,.0f}x   (target >= 300)")
    print(f"max relative difference engine vs pysd on the sampled runs: {worst:.1e}")
    print(f"single scenario: engine {single_engine * 1000:.0f} ms, pysd {single_pysd * 1000:.0f} ms, "
          f"ratio {single_pysd / single_engine:,.1f}x (compile {cold:.2f} s cold / {warm:.3f} s cached, excluded)")
    ok = (engine_rate / pysd_rate >= 300 and peak < 2 * 2**30 and single_pysd >= single_engine
          and per_scenario <= 1.1)
    print("targets met" if ok else "targets NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
