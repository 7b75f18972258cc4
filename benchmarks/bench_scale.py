"""A sweep on 1 and 2 workers, on Dask and on a process pool: ``.venv/bin/python benchmarks/bench_scale.py``.

The spec: ``regional_cluster`` (48 regions), 20,000 scenarios (``--n``) over its levers and 6 assumed
parameters, each paired with its reference run, indicators computed, chunks of 500 scenarios
(``--chunk-size``). Timed, each once, one after the other:

* in process (``executor=None``), the baseline: one core;
* in process writing a Zarr store: the store's overhead, as the time spent writing chunks and
  reopening the store over the sweep's time (target <= 10 %), and as the wall-clock difference;
* ``executor="processes"`` with 1 worker (this process and its pool held to one core by CPU
  affinity, so the pool has one process) and with 2 workers (2 cores);
* a Dask ``LocalCluster`` with 1 and with 2 single-threaded workers (started before the clock; the
  process pool's start, a few seconds, is inside it).

Prints one Markdown table: seconds, throughput (scenario pairs per second), speed-up of 2 workers
over 1 worker of the same executor and over the in-process run (target >= 1.7x on 2 cores), and the
peak resident memory of this process and every process it started (sampled every 0.1 s from
/proc, summed over processes). Every variant's indicators must be the same bytes as in process
(the exit status says so). The load average before and after is printed: the figures mean
something only on an otherwise idle machine with at least 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cluster_econ as ce
from cluster_econ.sweeps import _store

N_UNCERTAIN = 6


def spec(model: Any) -> dict[str, Any]:
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


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return out


class PeakRSS:
    """Peak of the summed resident memory of this process and its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(_rss_kib(p) for p in _tree(os.getpid())))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def one_core() -> Iterator[None]:
    """This process (and the processes it starts) held to one core: ``executor="processes"`` then has 1 worker."""
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)


def timed(rows: list[dict], label: str, workers: int, n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    with PeakRSS() as rss:
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
    rows.append({"run": label, "workers": workers, "seconds": seconds, "rate": n / seconds, "rss": rss.peak / 2**20})
    print(f"  {label}: {seconds:.1f} s", flush=True)
    return seconds, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="scenarios (default 20,000)")
    parser.add_argument("--chunk-size", type=int, default=500)
    args = parser.parse_args()
    import distributed

    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("bench_scale.py needs at least 2 cores to compare 1 and 2 workers.")
    load_before = os.getloadavg()
    model = ce.load_model("regional_cluster")
    n = args.n
    kw = {**spec(model), "n": n, "seed": 3, "chunk_size": args.chunk_size}
    ce.sweep(model, **{**kw, "n": 4})  # compile once, outside the timings
    print(f"regional_cluster {model.version}, {n} scenarios (each with its reference run) in chunks of "
          f"{args.chunk_size}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores", flush=True)
    rows: list[dict] = []
    base, ref = timed(rows, "in process", 1, n, lambda: ce.sweep(model, **kw))
    folder = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    spent = [0.0]
    write = _store.SweepStore.write

    def timed_write(self: Any, index: int, part: Any) -> None:  # the time spent writing, apart from the noise
        t = time.perf_counter()
        write(self, index, part)
        spent[0] += time.perf_counter() - t

    _store.SweepStore.write = timed_write  # type: ignore[method-assign]
    try:
        stored_s, stored = timed(rows, "in process, Zarr store", 1, n,
                                 lambda: ce.sweep(model, store=folder / "s.zarr", **kw))
        t = time.perf_counter()
        ce.open_sweep(folder / "s.zarr")
        spent[0] += time.perf_counter() - t
    finally:
        _store.SweepStore.write = write  # type: ignore[method-assign]
        shutil.rmtree(folder, ignore_errors=True)
    results: dict[str, Any] = {"store": stored}
    seconds: dict[str, float] = {}
    with one_core():
        seconds["processes1"], results["processes1"] = timed(
            rows, '`"processes"`', 1, n, lambda: ce.sweep(model, executor="processes", **kw))
    seconds["processes2"], results["processes2"] = timed(
        rows, '`"processes"`', 2, n, lambda: ce.sweep(model, executor="processes", **kw))
    for workers in (1, 2):  # the cluster is started before the clock, as a cluster one reuses would be
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            client.wait_for_workers(workers)
            seconds[f"dask{workers}"], results[f"dask{workers}"] = timed(
                rows, "Dask LocalCluster", workers, n, lambda client=client: ce.sweep(model, executor=client, **kw))
    same = {k: r.indicators.to_numpy().tobytes() == ref.indicators.to_numpy().tobytes() for k, r in results.items()}
    load_after = os.getloadavg()
    over = {"processes": seconds["processes1"] / seconds["processes2"], "dask": seconds["dask1"] / seconds["dask2"]}
    print("\n| run | workers | seconds | scenario pairs/s | speed-up vs 1 worker | speed-up vs in process "
          "| peak RSS, all processes (GiB) |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        kind = "processes" if "processes" in row["run"] else "dask" if "Dask" in row["run"] else None
        vs_one = f"{over[kind]:.2f}x" if kind and row["workers"] == 2 else ""
        print(f"| {row['run']} | {row['workers']} | {row['seconds']:.1f} | {row['rate']:.1f} | {vs_one} | "
              f"{base / row['seconds']:.2f}x | {row['rss']:.2f} |")
    print(f"\nstore overhead: writing the chunks and reopening the store took {spent[0]:.2f} s, "
          f"{100 * spent[0] / stored_s:.1f} % of the stored sweep (target <= 10 %); wall-clock difference with "
          f"the sweep without a store {100 * (stored_s - base) / base:+.1f} %")
    print(f"speed-up of 2 workers over 1 (target >= 1.7x): processes {over['processes']:.2f}x, "
          f"Dask {over['dask']:.2f}x")
    print(f"same bytes as in process: {same}")
    print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}".format(
        *load_before, *load_after))
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
