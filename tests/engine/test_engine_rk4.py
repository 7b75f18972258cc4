"""RK4 converges at fourth order on models with known solutions; Euler at first order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from cluster_econ.errors import UnsupportedConstructError
from cluster_econ.sd.engine import compile_model

DECAY = """{UTF-8}
stock = INTEG(-outflow, initial stock)
\t~\tunits
\t~\tA stock draining at a constant fractional rate.
\t|
outflow = stock * decay rate
\t~\tunits/Year
\t~\t|
decay rate = 0.5
\t~\t1/Year
\t~\t|
initial stock = 100
\t~\tunits
\t~\t|
logistic = INTEG(growth, 1)
\t~\tunits
\t~\t|
growth = growth rate * logistic * (1 - logistic / capacity)
\t~\tunits/Year
\t~\t|
growth rate = 0.8
\t~\t1/Year
\t~\t|
capacity = 50
\t~\tunits
\t~\t|
INITIAL TIME = 0
\t~\tYear
\t~\t|
FINAL TIME = 8
\t~\tYear
\t~\t|
TIME STEP = 0.5
\t~\tYear
\t~\t|
SAVEPER = 1
\t~\tYear
\t~\t|
"""


@pytest.fixture(scope="module")
def decay(tmp_path_factory):
    path = tmp_path_factory.mktemp("rk4") / "decay.mdl"
    path.write_text(DECAY, encoding="utf-8")
    return compile_model(path)


def _errors(compiled, method: str, steps=(0.5, 0.25, 0.125)):
    scen = pd.DataFrame({"decay_rate": [0.5, 0.9]})
    t = np.arange(0, 9, dtype=float)
    exact_decay = 100 * np.exp(-np.outer([0.5, 0.9], t))
    exact_logistic = 50 / (1 + 49 * np.exp(-0.8 * t))
    errors = []
    for dt in steps:
        ds = compiled.run(scen, time_step=dt, saveper=1, method=method, outputs=["stock", "logistic"])
        assert ds["time"].values.tolist() == t.tolist()
        errors.append((np.abs(ds["stock"].values - exact_decay).max(),
                       np.abs(ds["logistic"].values[0] - exact_logistic).max()))
    return np.asarray(errors)


def test_rk4_converges_at_fourth_order(decay):
    errors = _errors(decay, "rk4")
    ratios = errors[:-1] / errors[1:]
    assert_allclose(np.log2(ratios), 4.0, atol=0.3)
    assert errors[-1].max() < 1e-4


def test_euler_converges_at_first_order(decay):
    errors = _errors(decay, "euler")
    ratios = errors[:-1] / errors[1:]
    assert_allclose(np.log2(ratios), 1.0, atol=0.2)


def test_rk4_first_saved_value_is_the_initial_state(decay):
    ds = decay.run(method="rk4", outputs=["stock"])
    assert ds["stock"].values[0, 0] == 100.0


def test_rk4_refuses_discrete_statefuls(tmp_path):
    path = tmp_path / "fixed.mdl"
    path.write_text(DECAY.replace("outflow = stock * decay rate", "outflow = DELAY FIXED(stock * decay rate, 1, 0)"),
                    encoding="utf-8")
    compiled = compile_model(path)
    with pytest.raises(UnsupportedConstructError, match=r"method='rk4' is not supported for models with "
                                                        r"delayfixed objects \('fixed'\); use method='euler'\."):
        compiled.run(method="rk4")
    assert compiled.run(method="euler")["stock"].shape == (1, 9)
