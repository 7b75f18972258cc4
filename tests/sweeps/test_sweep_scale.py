"""Executors, Zarr stores and resume: the same bytes however a sweep runs, and nothing lost to a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc

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


@pytest.mark.slow
def test_memory_is_bounded_by_the_chunk_with_a_store(toy, tmp_path) -> None:
    names = ["employment", "output", "sme_employment", "cumulative_programme_cost"]
    spec = dict(uncertainties=[ce.Uncertainty("growth", 0.0, 0.04)],
                outcomes=[ce.Outcome(v, time="all") for v in names], n=30_000, chunk_size=1_000)
    full_bytes = 30_000 * 21 * 8 * len(names)  # 4 time series of 21 saved times
    ce.sweep(toy, **{**spec, "n": 10})  # compile outside the measurement
    tracemalloc.start()
    try:
        res = ce.sweep(toy, store=tmp_path / "m.zarr", **spec)
        _, peak_store = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        ce.sweep(toy, **spec)
        _, peak_memory = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_memory > full_bytes  # the in-memory result holds it all
    assert peak_store < full_bytes / 4, (peak_store, full_bytes)
    assert res.data["output"].shape == (30_000, 21)


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
def test_processes_and_a_local_dask_cluster_give_the_same_bytes(toy) -> None:
    distributed = pytest.importorskip("distributed")
    memory = ce.sweep(toy, **_spec())
    _same(memory, ce.sweep(toy, executor="processes", **_spec()))
    _same(memory, ce.sweep(toy, **_spec(chunk_size=50)))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        _same(memory, ce.sweep(toy, executor=client, **_spec(chunk_size=5)))
    _same(memory, ce.sweep(toy, executor="dask", **_spec(chunk_size=13)))


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
def test_sobol_of_a_stored_time_series_is_read_by_blocks(regional, tmp_path, monkeypatch) -> None:
    from cluster_econ.sweeps import _result

    spec = dict(levers=[ce.Lever("public_investment_share", 0.0, 0.05)],
                uncertainties=[ce.Uncertainty("output_elasticity_of_public_capital", 0.0, 0.3)],
                outcomes=[ce.Outcome("alignment", time="all")], n=8, design="sobol", chunk_size=9,
                reference={"public_investment_share": 0.0}, indicators={"spend": None})
    memory = ce.sweep(regional, **spec).sobol("alignment", resamples=50)
    monkeypatch.setattr(_result, "CELL_BLOCK", 100)  # 31 x 48 cells in 15 blocks
    stored = ce.sweep(regional, store=tmp_path / "sobol.zarr", **spec)
    assert type(stored.data["alignment"].data).__module__.startswith("dask")
    blocks = stored.sobol("alignment", resamples=50)
    assert blocks["S1"].dims == ("parameter", "time", "Region")
    for name in ("S1", "ST", "S1_conf", "ST_conf"):
        # the same estimates; matrix products over fewer columns may round the last bit differently
        np.testing.assert_allclose(blocks[name].values, memory[name].values, rtol=1e-10, atol=1e-12)
