"""simulate() with the batch engine and with PySD: the same Run either way, and the fallbacks."""

from __future__ import annotations

import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sd_helpers import SIR, SUBSCRIPT_2D, write_regional

import cluster_econ as ce
from cluster_econ.errors import SpecError, UnsupportedConstructError


def assert_same_run(batch, pysd):
    assert batch.provenance.details["engine"] == "batch"
    assert pysd.provenance.details["engine"] == "pysd"
    assert list(batch.data.data_vars) == list(pysd.data.data_vars)
    for name in pysd.data.data_vars:
        assert batch.data[name].dims == pysd.data[name].dims, name
        assert batch.data[name].attrs == pysd.data[name].attrs, name
        assert_allclose(batch.data[name].values, pysd.data[name].values, rtol=1e-12, atol=1e-12, err_msg=name)
    for dim in pysd.data.dims:
        assert batch.data[dim].values.tolist() == pysd.data[dim].values.tolist()
    frame_b, frame_p = batch.to_frame(), pysd.to_frame()
    assert list(frame_b.columns) == list(frame_p.columns)
    assert_allclose(frame_b.to_numpy(), frame_p.to_numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("path", [SIR, SUBSCRIPT_2D], ids=["SIR", "subscript_2d"])
def test_both_engines_give_the_same_run(path):
    model = ce.load_model(path)
    assert_same_run(ce.simulate(model, final_time=30, engine="batch"),
                    ce.simulate(model, final_time=30, engine="pysd"))


def test_both_engines_agree_with_params_time_series_regions_and_outputs(tmp_path):
    model = ce.load_model(write_regional(tmp_path))
    options = {"params": {"Investment Share": 0.3, "depreciation_rate": pd.Series([0.05, 0.1], index=[1970, 1980]),
                          "initial_capital": [80.0, 60.0, 40.0]},
               "regions": ["south", "east"], "outputs": ["capital", "Output", "exchange_weight"],
               "final_time": 1978, "time_step": 0.125}
    batch = ce.simulate(model, engine="batch", **options)
    assert_same_run(batch, ce.simulate(model, engine="pysd", **options))
    assert batch.provenance.details["regions"] == ["south", "east"]
    assert dict(batch.provenance.changed_parameters)["investment_share"] == 0.3


def test_auto_uses_the_batch_engine_when_it_supports_the_model():
    run = ce.simulate(SIR, final_time=5)
    assert run.provenance.details["engine"] == "batch"


def test_auto_falls_back_to_pysd_when_the_engine_cannot_take_the_inputs_and_batch_raises(tmp_path):
    model = ce.load_model(write_regional(tmp_path))
    params = {"exchange_weight": pd.Series([0.2, 0.4], index=[1970.0, 1980.0])}  # a series on a 2-d constant
    run = ce.simulate(model, params=params, final_time=1975)
    assert run.provenance.details["engine"] == "pysd"
    reference = model.pysd().run(params=params, final_time=1975)
    assert list(run.to_frame().columns) == list(reference.columns)
    assert_allclose(run.to_frame().to_numpy(), reference.to_numpy(), rtol=1e-12, atol=0)
    message = r"Time-series input for the subscripted constant 'exchange_weight'"
    with pytest.raises(UnsupportedConstructError, match=message):
        ce.simulate(model, params=params, engine="batch")


def test_rk4_runs_on_the_batch_engine_and_is_closer_to_the_exact_solution(tmp_path):
    # dS/dt = -0.5 S from S(0) = 1: S(4) = exp(-2)
    path = tmp_path / "decay.mdl"
    path.write_text(
        "{UTF-8}\nS= INTEG (-Decay Rate * S, 1)\n\t~\tunit\n\t~\tDecaying stock.\n\t|\n"
        "Decay Rate= 0.5\n\t~\t1/Year\n\t~\tFractional decay.\n\t|\n"
        "INITIAL TIME  = 0\n\t~\tYear\n\t~\tThe initial time.\n\t|\n"
        "FINAL TIME  = 4\n\t~\tYear\n\t~\tThe final time.\n\t|\n"
        "TIME STEP  = 0.5\n\t~\tYear [0,?]\n\t~\tThe time step.\n\t|\n"
        "SAVEPER  = TIME STEP\n\t~\tYear [0,?]\n\t~\tSave period.\n\t|\n", encoding="utf-8")
    exact = pytest.approx(0.1353352832366127, rel=1e-4)
    rk4 = ce.simulate(path, method="rk4")
    assert rk4.provenance.details == {**rk4.provenance.details, "engine": "batch", "method": "rk4"}
    assert float(rk4.data["s"].sel(time=4)) == exact
    euler = ce.simulate(path, engine="pysd")
    assert_allclose(float(euler.data["s"].sel(time=4)), 0.75 ** 8, rtol=1e-12, atol=0)


def test_new_lookup_values_run_with_pysd_under_auto(tmp_path):
    path = tmp_path / "lookup.mdl"
    path.write_text(
        "{UTF-8}\nEffect Table(\n\t[(0,0)-(10,10)],(0,1),(10,3))\n\t~\tDmnl\n\t~\tEffect by time.\n\t|\n"
        "Effect= Effect Table(Time)\n\t~\tDmnl\n\t~\tThe effect now.\n\t|\n"
        "INITIAL TIME  = 0\n\t~\tYear\n\t~\tThe initial time.\n\t|\n"
        "FINAL TIME  = 10\n\t~\tYear\n\t~\tThe final time.\n\t|\n"
        "TIME STEP  = 1\n\t~\tYear [0,?]\n\t~\tThe time step.\n\t|\n"
        "SAVEPER  = TIME STEP\n\t~\tYear [0,?]\n\t~\tSave period.\n\t|\n", encoding="utf-8")
    model = ce.load_model(path)
    assert model.variables.set_index("name").loc["effect_table", "kind"] == "lookup"
    run = ce.simulate(model, params={"effect_table": pd.Series([2.0, 4.0], index=[0.0, 10.0])})
    assert run.provenance.details["engine"] == "pysd"
    assert_allclose(run.data["effect"].sel(time=5).values, 3.0, rtol=1e-12, atol=0)


def test_batch_engine_refuses_what_it_cannot_take_with_a_clear_error(tmp_path):
    model = ce.load_model(write_regional(tmp_path))
    with pytest.raises(UnsupportedConstructError):
        ce.simulate(model, engine="batch",
                    params={"initial_capital": pd.Series([1.0, 2.0], index=[1970.0, 1980.0])})
    # the same input under auto runs with PySD
    run = ce.simulate(model, params={"initial_capital": pd.Series([1.0, 2.0], index=[1970.0, 1980.0])})
    assert run.provenance.details["engine"] == "pysd"
    with pytest.raises(SpecError, match=r"method='rk4' is not available with engine='pysd'"):
        ce.simulate(model, engine="pysd", method="rk4")
