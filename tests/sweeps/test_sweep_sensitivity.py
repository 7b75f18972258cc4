"""Sobol' indices of the Ishigami function, Morris effects of a linear one, vectorised over cells."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce

PI = np.pi
# Ishigami and Homma (1990), a = 7, b = 0.1: analytic indices (Sobol' and Levitan 1999)
S1 = [0.3139, 0.4424, 0.0]
ST = [0.5576, 0.4424, 0.2437]


@pytest.fixture(scope="module")
def ishigami_sweep(ishigami):
    return ce.sweep(ishigami, uncertainties=[ce.Uncertainty(x, -PI, PI) for x in ("x1", "x2", "x3")],
                    outcomes=[ce.Outcome("y")], n=4096, design="sobol", seed=11, second_order=True)


def test_ishigami_sobol_indices_recovered(ishigami_sweep) -> None:
    table = ishigami_sweep.sobol("y", resamples=200)
    assert list(table.index) == ["x1", "x2", "x3"]
    assert list(table.columns[:4]) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert_allclose(table["S1"], S1, rtol=0, atol=0.05)
    assert_allclose(table["ST"], ST, rtol=0, atol=0.05)
    # S2: only x1-x3 interact (S13 = ST1 - S1 = 0.2437)
    assert_allclose(table.loc["x1", "S2_x3"], 0.2437, rtol=0, atol=0.05)
    assert_allclose(table.loc["x1", "S2_x2"], 0.0, rtol=0, atol=0.05)
    assert (table["S1_lower"] <= table["S1"]).all() and (table["S1"] <= table["S1_upper"]).all()
    # seeded bootstrap: same intervals twice
    assert table.equals(ishigami_sweep.sobol("y", resamples=200))
    assert len(ishigami_sweep) == 4096 * 8


def test_sobol_time_series_equals_scalar_per_cell(ishigami) -> None:
    res = ce.sweep(ishigami, uncertainties=[ce.Uncertainty(x, -PI, PI) for x in ("x1", "x2", "x3")],
                   outcomes=[ce.Outcome("y", time="all", name="y_t"), ce.Outcome("y")], n=256, design="sobol")
    per_cell = res.sobol("y_t", resamples=100)
    assert per_cell["S1"].dims == ("parameter", "time")
    scalar = res.sobol("y", resamples=100)
    assert_allclose(per_cell["S1"].sel(time=1.0).values, scalar["S1"].values, rtol=1e-12, atol=1e-14)
    assert_allclose(per_cell["ST_conf"].sel(time=1.0).values, scalar["ST_conf"].values, rtol=1e-12, atol=1e-14)


def test_sobol_warns_when_n_is_not_a_power_of_two(ishigami) -> None:
    with pytest.warns(ce.SamplingWarning, match="n=100"):
        ce.sweep(ishigami, uncertainties=[ce.Uncertainty("x1", -PI, PI)], outcomes=[ce.Outcome("y")], n=100,
                 design="sobol")


def test_morris_of_a_linear_function(linear3) -> None:
    res = ce.sweep(linear3, uncertainties=[ce.Uncertainty("x1", 0, 1), ce.Uncertainty("x2", -1, 3),
                                           ce.Uncertainty("x3", 0, 5)],
                   outcomes=[ce.Outcome("y")], n=20, design="morris", seed=2)
    assert len(res) == 20 * 4
    table = res.morris("y", resamples=100)
    # elementary effects in the unit cube: coefficient times range, the same for every trajectory
    assert_allclose(table["mu_star"], [2.0, 2.0, 0.0], rtol=1e-9, atol=1e-9)
    assert_allclose(table["mu"], [2.0, -2.0, 0.0], rtol=1e-9, atol=1e-9)
    assert_allclose(table["sigma"], [0, 0, 0], rtol=0, atol=1e-9)
    with pytest.raises(ce.errors.SpecError, match="design='sobol'"):
        res.sobol("y")


def test_lhs_sweep_refuses_sensitivity(linear3) -> None:
    res = ce.sweep(linear3, uncertainties=[ce.Uncertainty("x1", 0, 1)], outcomes=[ce.Outcome("y")], n=4)
    with pytest.raises(ce.errors.SpecError, match="design='morris'"):
        res.morris("y")
    with pytest.raises(ce.errors.UnknownNameError, match="Did you mean 'y'"):
        res._values("yy")
