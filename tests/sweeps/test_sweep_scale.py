"""Executors, Zarr stores and resume: the same bytes however a sweep runs, and nothing lost to a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import cluster_econ as ce
from cluster_econ.errors import SimulationError, SpecError
from cluster_econ.sd._executors import run_tasks


def _spec(**kw):
    args = dict(levers=[ce.Lever("subsidy", 0.0, 1.0)], uncertainties=[ce.Uncertainty("growth", 0.0, 0.04)],
                outcomes=[ce.Outcome("employment"), ce.Outcome("output", time="all")], n=50,
                reference={"subsidy": 0.0}, chunk_size=8, seed=9)
    args.update(kw)
    return args


def _same(a, b) -> None:
    for name in ("experiments", "outcomes", "indicators"):
        assert getattr(a, name).to_numpy().tobytes() == getattr(b, name).to_numpy().tobytes(), name
    assert list(a.data.data_vars) == list(b.data.data_vars)
    for name in a.data.data_vars:
        assert a.data[name].values.tobytes() == b.data[name].values.tobytes(), name
    assert (a.indicator_reasons == b.indicator_reasons).all().all()


def test_store_resume_and_lazy_open(toy, tmp_path) -> None:
    memory = ce.sweep(toy, **_spec())
    path = tmp_path / "sweep.zarr"
    stored = ce.sweep(toy, store=path, **_spec())
    _same(memory, stored)
    assert stored.provenance.details["chunks_resumed"] == 0
    assert type(stored.data["output"].data).__module__.startswith("dask")  # read lazily
    assert sorted(os.listdir(path / "done")) == [str(i) for i in range(7)]
    # a torn chunk (no marker) is recomputed; the others are read
    (path / "done" / "3").unlink()
    again = ce.sweep(toy, store=path, **_spec())
    assert again.provenance.details["chunks_resumed"] == 6
    _same(memory, again)
    opened = ce.open_sweep(path)
    _same(memory, opened)
    assert opened.provenance.details["call"] == memory.provenance.details["call"]
    assert (opened.bands()["n"] > 0).all()


def test_store_refuses_a_different_spec(toy, tmp_path) -> None:
    path = tmp_path / "s.zarr"
    ce.sweep(toy, store=path, **_spec())
    with pytest.raises(SpecError, match=r"different sweep \(n: 50 in the store, 60 now.*overwrite=True"):
        ce.sweep(toy, store=path, **_spec(n=60))
    with pytest.raises(SpecError, match="seed: 9 in the store, 10 now"):
        ce.sweep(toy, store=path, **_spec(seed=10))
    fresh = ce.sweep(toy, store=path, overwrite=True, **_spec(seed=10))
    _same(fresh, ce.sweep(toy, **_spec(seed=10)))
    (tmp_path / "other").mkdir()
    with pytest.raises(SpecError, match="not a sweep store"):
        ce.sweep(toy, store=tmp_path / "other", **_spec())
    with pytest.raises(SpecError, match="not a sweep store"):
        ce.open_sweep(tmp_path / "nowhere")


def test_partial_store_opens_with_the_finished_chunks(toy, tmp_path) -> None:
    path = tmp_path / "p.zarr"
    full = ce.sweep(toy, store=path, **_spec())
    for i in (1, 2, 6):
        (path / "done" / str(i)).unlink()
    part = ce.open_sweep(path)
    assert part.provenance.details["chunks_done"] == 4
    expected = [s for s in range(50) if not (8 <= s < 24 or s >= 48)]
    assert list(part.experiments.index) == expected
    assert part.indicators.to_numpy().tobytes() == full.indicators.loc[expected].to_numpy().tobytes()
    with pytest.raises(SpecError, match="holds 4 of 7 chunks"):
        ce.open_sweep(path, partial=False)


@pytest.mark.slow  # the quick loop has a store resumed and opened lazily
def test_memory_is_bounded_by_the_chunk_with_a_store(tmp_path, monkeypatch) -> None:
    import distributed  # noqa: F401  (dask imports it on its first compute: outside the measurement)

    from cluster_econ.sweeps import _result

    growth = ce.load_model(Path(__file__).resolve().parents[1] / "fixtures" / "sdmodels" / "regional_growth.mdl")
    names = ["employment", "output", "capital", "labour_force"]
    spec = dict(levers=[ce.Lever("saving_rate", 0.1, 0.3)], uncertainties=[ce.Uncertainty("capital_elasticity", 0.2,
                                                                                             0.5)],
                outcomes=[ce.Outcome(v, time="all") for v in names], reference={"saving_rate": 0.2}, n=1024,
                design="sobol", chunk_size=128, seed=2)
    runs = 1024 * 4  # a Saltelli sample of 2 factors
    full_bytes = runs * 21 * 8 * 8 * len(names)  # 4 outcomes of 21 saved times x 8 regions: 22 MB
    monkeypatch.setattr(_result, "BLOCK_BYTES", 2**20)  # Sobol' indices read 32 of the 168 cells at a time
    warm = ce.sweep(growth, store=tmp_path / "warm.zarr", **{**spec, "n": 2})  # compile, import, outside
    warm.sobol("output", resamples=5)
    tracemalloc.start()
    try:
        res = ce.sweep(growth, store=tmp_path / "m.zarr", **spec)
        indicators, bands = res.indicators, res.bands()
        sobol = res.sobol("output", resamples=20)
        _, peak_store = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    memory = ce.sweep(growth, **spec)
    assert memory.data.nbytes > full_bytes  # the in-memory result holds it all
    assert peak_store < full_bytes / 4, (peak_store, full_bytes)
    assert res.data["output"].shape == (runs, 21, 8)
    assert type(res.data["output"].data).__module__.startswith("dask")
    assert list(indicators.columns) == ["net_jobs", "net_job_years", "present_value_added", "time_to_first_net_job"]
    # the statistics of the store-backed result are those of the in-memory one, bit for bit
    assert indicators.to_numpy().tobytes() == memory.indicators.to_numpy().tobytes()
    assert bands.equals(memory.bands())
    expected = memory.sobol("output", resamples=20)
    assert expected["S1"].dims == ("parameter", "time", "Region")
    for name in expected.data_vars:
        assert sobol[name].values.tobytes() == expected[name].values.tobytes(), name


def _flaky(state, task):
    if task == 2 and not state["seen"].get(task):
        state["seen"][task] = True
        raise RuntimeError("transient")
    return task * 10


def _broken(state, task):
    if task == 2:
        raise RuntimeError("always")
    return task


def _record_done(seen: list[int]) -> None:
    """Run the broken tasks, appending each finished task to ``seen`` until the failure propagates."""
    labels = [f"chunk {i} (first scenario {10 * i})" for i in range(4)]
    for i, _ in run_tasks(_broken, None, [0, 1, 2, 3], labels=labels):
        seen.append(i)


def test_a_failing_chunk_is_retried_once_then_named() -> None:
    out = dict(run_tasks(_flaky, {"seen": {}}, [0, 1, 2, 3], labels=[f"chunk {i}" for i in range(4)]))
    assert out == {0: 0, 1: 10, 2: 20, 3: 30}
    seen: list[int] = []
    with pytest.raises(SimulationError, match=r"chunk 2 \(first scenario 20\) failed twice \(RuntimeError: always"):
        _record_done(seen)
    assert seen == [0, 1]
    with pytest.raises(SpecError, match="executor='threads' is not valid"):
        list(run_tasks(_broken, None, [0], executor="threads"))


@pytest.mark.slow
def test_processes_and_a_local_dask_cluster_give_the_same_bytes(toy, dask_client) -> None:
    memory = ce.sweep(toy, **_spec())
    _same(memory, ce.sweep(toy, executor="processes", **_spec()))
    _same(memory, ce.sweep(toy, **_spec(chunk_size=50)))
    assert len(dask_client.scheduler_info()["workers"]) == 2
    _same(memory, ce.sweep(toy, executor=dask_client, **_spec(chunk_size=5)))
    _same(memory, ce.sweep(toy, executor="dask", **_spec(chunk_size=13)))


_UNPICKLED: list[int] = []


def _unpickled() -> _Shipped:
    _UNPICKLED.append(1)
    return _Shipped()


class _Shipped:
    """Stands for the compiled kernel: counts how often a process unpickles it."""

    def __reduce__(self):
        return _unpickled, ()


def _unpickle_count() -> int:
    return len(_UNPICKLED)


def _echo(shared, task):
    assert isinstance(shared, _Shipped)
    return task


@pytest.mark.slow  # starts the session's Dask cluster
def test_the_shared_object_reaches_each_dask_worker_once(dask_client) -> None:
    before = dask_client.run(_unpickle_count)
    out = dict(run_tasks(_echo, _Shipped(), list(range(12)), executor=dask_client))
    assert out == {i: i for i in range(12)}
    after = dask_client.run(_unpickle_count)
    assert len(after) == 2
    assert {w: after[w] - before[w] for w in after} == dict.fromkeys(after, 1)  # once per worker, not per task


@pytest.mark.slow
def test_a_chunk_failing_in_a_worker_process_is_named() -> None:
    labels = [f"chunk {i} (first scenario {10 * i})" for i in range(4)]
    with pytest.raises(SimulationError, match=r"chunk 2 \(first scenario 20\) failed twice"):
        list(run_tasks(_broken, None, [0, 1, 2, 3], executor="processes", labels=labels))


SCRIPT = textwrap.dedent("""
    import sys
    import cluster_econ as ce
    model = ce.load_model("regional_cluster")
    ce.sweep(model, levers=[ce.Lever("public_investment_share", 0.0, 0.05)],
             uncertainties=[ce.Uncertainty("output_elasticity_of_public_capital", 0.0, 0.3)],
             outcomes=[ce.Outcome("employment", reduce="sum"), ce.Outcome("alignment", time="all")],
             n=120, chunk_size=4, seed=5, reference={"public_investment_share": 0.0},
             indicators={"spend": None}, store=sys.argv[1])
""")


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume_gives_the_same_bytes(regional, tmp_path) -> None:
    path = tmp_path / "killed.zarr"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(path)], env=dict(os.environ))
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            done = path / "done"
            if done.is_dir() and len(os.listdir(done)) >= 3:
                break
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    finished = len(os.listdir(path / "done"))
    assert 3 <= finished < 30
    spec = dict(levers=[ce.Lever("public_investment_share", 0.0, 0.05)],
                uncertainties=[ce.Uncertainty("output_elasticity_of_public_capital", 0.0, 0.3)],
                outcomes=[ce.Outcome("employment", reduce="sum"), ce.Outcome("alignment", time="all")],
                n=120, chunk_size=4, seed=5, reference={"public_investment_share": 0.0}, indicators={"spend": None})
    resumed = ce.sweep(regional, store=path, **spec)
    assert resumed.provenance.details["chunks_resumed"] >= finished - 1  # a marker may land as it dies
    _same(ce.sweep(regional, **spec), resumed)


@pytest.mark.slow  # the quick loop has a store resumed and opened lazily
def test_sensitivity_and_fans_of_a_stored_time_series_are_read_by_blocks(toy, tmp_path, monkeypatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from cluster_econ.sweeps import _result

    growth = ce.load_model(Path(__file__).resolve().parents[1] / "fixtures" / "sdmodels" / "regional_growth.mdl")
    spec = dict(levers=[ce.Lever("saving_rate", 0.1, 0.3)], uncertainties=[ce.Uncertainty("capital_elasticity", 0.2,
                                                                                             0.5)],
                outcomes=[ce.Outcome("output", time="all")], n=8, design="sobol", chunk_size=9,
                reference={"saving_rate": 0.2})
    in_memory = ce.sweep(growth, **spec)
    memory = in_memory.sobol("output", resamples=50)
    stored = ce.sweep(growth, store=tmp_path / "sobol.zarr", **spec)
    monkeypatch.setattr(_result, "BLOCK_BYTES", 32 * 70 * 8)  # 70 of the 21 x 8 cells at a time: 3 blocks
    assert type(stored.data["output"].data).__module__.startswith("dask")
    blocks = stored.sobol("output", resamples=50)
    assert blocks["S1"].dims == ("parameter", "time", "Region")
    assert np.isfinite(memory["ST"].values).mean() > 0.9  # indices, not NaN: the comparison means something
    for name in memory.data_vars:  # every sum over runs taken run by run: the same bytes, whatever the block
        assert blocks[name].values.tobytes() == memory[name].values.tobytes(), name
    monkeypatch.setattr(_result, "BLOCK_BYTES", 32 * 5 * 8)  # a fan chart 5 of the 21 times at a time
    fans = [r.plot_fan("output", by="saving_rate") for r in (in_memory, stored)]
    lines = [[line.get_ydata().tobytes() for line in ax.lines] for ax in fans]
    assert len(lines[0]) == 3
    assert lines[0] == lines[1]
    import matplotlib.pyplot as plt

    plt.close("all")
    toy_spec = dict(levers=[ce.Lever("subsidy", 0.0, 1.0)], uncertainties=[ce.Uncertainty("growth", 0.0, 0.04)],
                    outcomes=[ce.Outcome("output", time="all")], n=10, design="morris", chunk_size=7,
                    reference={"subsidy": 0.0})
    morris = ce.sweep(toy, **toy_spec).morris("output", resamples=30)
    monkeypatch.setattr(_result, "BLOCK_BYTES", 30 * 2 * 8)  # 2 of the 21 times at a time
    by_blocks = ce.sweep(toy, store=tmp_path / "morris.zarr", **toy_spec).morris("output", resamples=30)
    for name in morris.data_vars:
        assert by_blocks[name].values.tobytes() == morris[name].values.tobytes(), name
