"""A sweep on 1 and 2 workers, on Dask and on a process pool: ``.venv/bin/python benchmarks/bench_scale.py``.

The spec: ``regional_cluster`` (48 regions), 20,000 scenarios over its levers and 6 assumed
parameters, each paired with its reference run, indicators computed. Timed: in process (the
baseline), ``executor="processes"``, a Dask ``LocalCluster`` with 1 and with 2 single-threaded
workers, and the in-process sweep writing a Zarr store (the store's overhead). Prints throughput,
speed-up against the in-process run (target >= 1.7x on 2 cores), the store overhead (target <= 10 %)
and peak memory (max RSS of this process; the workers' own is reported by Dask). ``--scenarios``
shrinks the run. Every variant's indicators are checked to be the same bytes.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import cluster_econ as ce
from cluster_econ.sweeps import _store

N_UNCERTAIN = 6


def spec(model):
    table = model.parameters
    levers = [ce.Lever(r.name, float(r.lower), float(r.upper)) for r in table.itertuples() if r.kind == "lever"]
    assumed = [r for r in table.itertuples() if r.kind == "assumed"][:N_UNCERTAIN]
    indicators = None
    if not getattr(model, "indicators", {}):
        names = set(model.variables["name"])
        spend = "cumulative_programme_cost" if "cumulative_programme_cost" in names else "programme_public_spend"
        indicators = {"spend": spend, "sme_seat_share": None, "startup_rate": None}
    return dict(levers=levers, uncertainties=[ce.Uncertainty(r.name, float(r.lower), float(r.upper)) for r in assumed],
                outcomes=[ce.Outcome("employment", reduce="sum"), ce.Outcome("sme_employment", reduce="sum")],
                indicators=indicators)


def timed(label: str, n: int, fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {seconds:8.1f} s  {n / seconds:8.1f} scenario pairs/s", flush=True)
    return seconds, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=20_000)
    parser.add_argument("--chunk-size", type=int, default=500)
    args = parser.parse_args()
    import distributed

    model = ce.load_model("regional_cluster")
    kw = {**spec(model), "n": args.scenarios, "seed": 3, "chunk_size": args.chunk_size}
    ce.sweep(model, **{**kw, "n": 4})  # compile once, outside the timings
    n = args.scenarios
    base, ref = timed("in process", n, lambda: ce.sweep(model, **kw))
    folder = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    spent = [0.0]
    write = _store.SweepStore.write

    def timed_write(self, index, part):  # the time spent writing chunks, apart from the noise of a shared machine
        t = time.perf_counter()
        write(self, index, part)
        spent[0] += time.perf_counter() - t

    _store.SweepStore.write = timed_write  # type: ignore[method-assign]
    try:
        stored_s, stored = timed("in process, Zarr store", n, lambda: ce.sweep(model, store=folder / "s.zarr", **kw))
        t = time.perf_counter()
        ce.open_sweep(folder / "s.zarr")
        spent[0] += time.perf_counter() - t
    finally:
        _store.SweepStore.write = write  # type: ignore[method-assign]
        shutil.rmtree(folder, ignore_errors=True)
    proc_s, proc = timed("processes (2)", n, lambda: ce.sweep(model, executor="processes", **kw))
    results = {"store": stored, "processes": proc}
    dask_s = {}
    for workers in (1, 2):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            client.wait_for_workers(workers)
            dask_s[workers], results[f"dask{workers}"] = timed(
                f"Dask LocalCluster ({workers})", n, lambda client=client: ce.sweep(model, executor=client, **kw))
    same = {k: r.indicators.to_numpy().tobytes() == ref.indicators.to_numpy().tobytes() for k, r in results.items()}
    print(f"same bytes as in process: {same}")
    print(f"speed-up, processes (2) vs in process: {base / proc_s:.2f}x; Dask 2 vs 1 workers: "
          f"{dask_s[1] / dask_s[2]:.2f}x; Dask 2 workers vs in process: {base / dask_s[2]:.2f}x (target >= 1.7x)")
    print(f"store overhead: writing chunks and reopening the store took {spent[0]:.1f} s, "
          f"{100 * spent[0] / stored_s:.1f} % of the stored sweep (target <= 10 %); wall-clock difference "
          f"{100 * (stored_s - base) / base:+.1f} % (noisy on a shared machine)")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
