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
