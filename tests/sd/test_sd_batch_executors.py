"""``simulate_batch`` on a process pool and on a Dask cluster: the same bytes as in process."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from sd_helpers import FIXTURES

import cluster_econ as ce
from cluster_econ.errors import SpecError


@pytest.fixture(scope="module")
def growth() -> ce.SDModel:
    return ce.load_model(FIXTURES / "regional_growth.mdl")


def _scenarios(n: int = 23) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame({"saving_rate": rng.uniform(0.1, 0.3, n), "capital_elasticity": rng.uniform(0.2, 0.5, n)})


def _same(a, b) -> None:
    assert list(a.data_vars) == list(b.data_vars)
    for name in a.data_vars:
        assert a[name].dims == b[name].dims, name
        assert a[name].values.tobytes() == b[name].values.tobytes(), name
    assert a["time"].values.tobytes() == b["time"].values.tobytes()
    assert a.attrs["numerical_issues"] == b.attrs["numerical_issues"]


@pytest.mark.slow
def test_processes_and_a_dask_cluster_give_the_bytes_of_the_in_process_batch(growth, dask_client) -> None:
    kw = dict(outputs=["output", "employment", "unemployment_rate"], chunk_size=5)  # 5 chunks, the last short
    memory = ce.simulate_batch(growth, _scenarios(), **kw)
    assert memory["output"].shape == (23, 21, 8)
    assert float(memory["output"].std("scenario").max()) > 0  # the scenarios differ
    _same(memory, ce.simulate_batch(growth, _scenarios(), executor="processes", **kw))
    on_dask = ce.simulate_batch(growth, _scenarios(), executor=dask_client, **kw)
    _same(memory, on_dask)
    # where it ran is not part of the call recorded: the result re-runs anywhere
    call = ce.batch_provenance(on_dask).details["call"]
    assert "executor" not in call["arguments"]
    assert "reproducible" not in call


def test_executor_is_checked_before_any_work(growth, monkeypatch) -> None:
    with pytest.raises(SpecError, match="executor='threads' is not valid"):
        ce.simulate_batch(growth, _scenarios(), executor="threads")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: import fails
    with pytest.raises(SpecError, match=r"executor='dask' needs the distributed package: pip install "
                                        r"'cluster-econ\[dask\]'"):
        ce.simulate_batch(growth, _scenarios(), executor="dask")


@pytest.mark.parametrize("name", ["regional_growth.mdl", "test_control_vars.mdl"])  # fixed and dynamic control
def test_chunks_gathered_from_an_executor_equal_the_in_process_loop(name) -> None:
    from cluster_econ.sd._batch import run_chunks
    from cluster_econ.sd._batch_tasks import run_on
    from cluster_econ.sd.engine import compile_model

    compiled = compile_model(ce.load_model(FIXTURES / name))
    scenarios = _scenarios(11) if name.startswith("regional") else pd.DataFrame(index=range(11))
    values, timeseries = compiled.prepare(scenarios)
    kernel = compiled.variant(timeseries)
    names = kernel.output_names(None, scenarios)
    control = kernel.control_values()
    loop = run_chunks(kernel, values, 11, names, control, "euler", 4)
    gathered = run_on(None, kernel, values, 11, names, control, "euler", 4, progress=True)  # as from workers
    assert gathered[1].tobytes() == loop[1].tobytes()
    assert sorted(gathered[0]) == sorted(loop[0])
    assert len(loop[0]) > 0
    for key, array in loop[0].items():
        assert gathered[0][key].shape == array.shape, key
        assert gathered[0][key].tobytes() == array.tobytes(), key
    assert gathered[2] == loop[2]


def test_a_model_with_dynamic_control_gives_the_same_batch_in_chunks() -> None:
    model = ce.load_model(FIXTURES / "test_control_vars.mdl")  # TIME STEP, SAVEPER, FINAL TIME change in the run
    whole = ce.simulate_batch(model, pd.DataFrame(index=range(9)), outputs=["var"])
    chunked = ce.simulate_batch(model, pd.DataFrame(index=range(9)), outputs=["var"], chunk_size=2)
    assert np.isfinite(whole["var"].values).all()
    _same(whole, chunked)  # every chunk written, not only the first
