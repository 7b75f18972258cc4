"""simulate() and Run: clean state, names, bounds, time series, regions, PySD-compatible frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sd_helpers import SIR, SUBSCRIPT_2D, TEST_MODELS, make_registry, needs_shared, write_regional

import cluster_econ as ce
from cluster_econ.errors import SpecError, UnknownNameError


@pytest.fixture(scope="module")
def sir():
    return ce.load_model(SIR)


@pytest.fixture(scope="module")
def regional(tmp_path_factory):
    return ce.load_model(write_regional(tmp_path_factory.mktemp("regional")))


@pytest.fixture
def registered(tmp_path, monkeypatch):
    make_registry(tmp_path / "models")
    monkeypatch.setenv("CLUSTER_ECON_MODELS", str(tmp_path / "models"))
    return ce.load_model("sir_copy")


def test_identical_calls_give_identical_runs_whatever_ran_between(sir):
    first = ce.simulate(sir, final_time=20, engine="pysd")
    between = ce.simulate(sir, params={"contact_infectivity": 0.6, "duration": 2}, final_time=20,
                          time_step=0.0625, engine="pysd")
    poked = sir.pysd()  # a PySD model changed by hand does not reach simulate either
    poked.set_components({"contact_infectivity": 0.9})
    poked.run(final_time=5)
    again = ce.simulate(sir, final_time=20, engine="pysd")
    assert not np.allclose(between.data["infectious"].sel(time=20).values,
                           first.data["infectious"].sel(time=20).values)
    assert list(again.data.data_vars) == list(first.data.data_vars)
    for name in first.data.data_vars:
        assert_allclose(again.data[name].values, first.data[name].values, rtol=0, atol=0)
    assert_allclose(again.data["time"].values, first.data["time"].values, rtol=0, atol=0)


def test_run_data_matches_pysd_and_carries_attrs(sir):
    run = ce.simulate(sir, final_time=20, engine="pysd")
    reference = sir.pysd().run(final_time=20)
    assert_allclose(run.data["infectious"].values, reference["Infectious"].to_numpy(), rtol=0, atol=0)
    assert run.data["time"].values[0] == 0.0
    assert run.data["time"].values[-1] == 20.0
    attrs = run.data["infectious"].attrs
    assert attrs["units"] == "Persons"
    assert attrs["vensim_name"] == "Infectious"
    assert attrs["description"].startswith("The population with the disease")
    assert run["Infectious"].name == "infectious"


def test_to_frame_matches_pysd_column_names_on_2d_subscripts():
    model = ce.load_model(SUBSCRIPT_2D)
    frame = ce.simulate(model, final_time=10, engine="pysd").to_frame()
    reference = model.pysd().run(final_time=10)
    assert list(frame.columns) == list(reference.columns)
    assert "Stock A[Entry 1,Column 1]" in frame.columns
    assert frame.index.name == "time"
    assert_allclose(frame.to_numpy(), reference.to_numpy(dtype=float), rtol=0, atol=0)
    assert_allclose(frame.index.to_numpy(), reference.index.to_numpy(dtype=float), rtol=0, atol=0)


def test_subscripted_data_has_subscript_dims(regional):
    run = ce.simulate(regional, engine="pysd")
    capital = run.data["capital"]
    assert capital.dims == ("time", "Region")
    assert capital["Region"].values.tolist() == ["north", "south", "east"]
    assert_allclose(run.data["time"].values, np.arange(1970.0, 1981.0), rtol=0, atol=0)
    assert_allclose(capital.sel(time=1970).values, [100.0, 50.0, 20.0], rtol=0, atol=0)
    # one Euler step of a quarter year: K + 0.25 * (0.2 * sqrt(K) - 0.05 * K), four times
    k = np.array([100.0, 50.0, 20.0])
    for _ in range(4):
        k = k + 0.25 * (0.2 * np.sqrt(k) - 0.05 * k)
    assert_allclose(capital.sel(time=1971).values, k, rtol=1e-12, atol=0)


def test_params_accept_python_and_vensim_names(sir):
    by_python = ce.simulate(sir, params={"contact_infectivity": 0.4}, final_time=10, engine="pysd")
    by_vensim = ce.simulate(sir, params={"Contact Infectivity": 0.4}, final_time=10, engine="pysd")
    assert_allclose(by_vensim.data["infectious"].values, by_python.data["infectious"].values, rtol=0, atol=0)
    assert by_vensim.provenance.changed_parameters == {"contact_infectivity": 0.4}
    assert_allclose(by_python.data["contact_infectivity"].values, 0.4, rtol=0, atol=0)


def test_time_series_input_is_interpolated(sir):
    series = pd.Series([0.2, 0.6], index=[0.0, 20.0])
    run = ce.simulate(sir, params={"contact_infectivity": series}, final_time=20, engine="pysd")
    assert_allclose(run.data["contact_infectivity"].sel(time=10).values, 0.4, rtol=1e-12, atol=0)
    assert run.provenance.changed_parameters["contact_infectivity"] == {0.0: 0.2, 20.0: 0.6}
    assert series.tolist() == [0.2, 0.6]  # input untouched


def test_subscripted_parameter_from_an_array(regional):
    run = ce.simulate(regional, params={"initial_capital": [10.0, 20.0, 30.0]}, final_time=1971,
                      engine="pysd")
    assert_allclose(run.data["capital"].sel(time=1970).values, [10.0, 20.0, 30.0], rtol=0, atol=0)
    array = xr.DataArray([1.0, 2.0, 3.0], dims=["Region"], coords={"Region": ["north", "south", "east"]})
    run2 = ce.simulate(regional, params={"Initial Capital": array}, final_time=1971, engine="pysd")
    assert_allclose(run2.data["capital"].sel(time=1970).values, [1.0, 2.0, 3.0], rtol=0, atol=0)
    with pytest.raises(SpecError, match=r"has subscripts \['Region'\] of shape \(3,\); the array given has "
                                        r"shape \(2,\)"):
        ce.simulate(regional, params={"initial_capital": [1.0, 2.0]}, engine="pysd")


def test_outputs_select_variables_by_either_name(sir):
    run = ce.simulate(sir, outputs=["Infectious", "succumbing"], final_time=5, engine="pysd")
    assert list(run.data.data_vars) == ["infectious", "succumbing"]
    assert list(run.to_frame().columns) == ["Infectious", "Succumbing"]
    assert run.provenance.details["outputs"] == ["infectious", "succumbing"]


def test_time_settings(sir):
    run = ce.simulate(sir, initial_time=10, final_time=12, time_step=0.5, engine="pysd")
    assert_allclose(run.data["time"].values, [10.0, 10.5, 11.0, 11.5, 12.0], rtol=0, atol=0)
    details = run.provenance.details
    assert (details["initial_time"], details["final_time"], details["time_step"], details["saveper"]) == (
        10.0, 12.0, 0.5, 0.5)
    coarse = ce.simulate(sir, final_time=4, saveper=1, engine="pysd")
    assert_allclose(coarse.data["time"].values, [0.0, 1.0, 2.0, 3.0, 4.0], rtol=0, atol=0)


def test_regions_restrict_the_data(regional):
    run = ce.simulate(regional, regions=["east", "north"], engine="pysd")
    assert run.data["capital"]["Region"].values.tolist() == ["east", "north"]
    assert run.data["depreciation_rate"].dims == ("time",)
    assert [c for c in run.to_frame().columns if c.startswith("Capital")] == ["Capital[east]", "Capital[north]"]
    assert run.provenance.details["regions"] == ["east", "north"]


def test_unknown_region_and_model_without_regions(regional, sir):
    with pytest.raises(UnknownNameError, match=r"^'nroth' is not a region of regional_test\.mdl\. "
                                               r"Did you mean 'north' or 'south'\?$"):
        ce.simulate(regional, regions=["nroth"])
    with pytest.raises(SpecError, match=r"regions= needs a model with a 'Region' subscript range; SIR\.mdl has "
                                        r"subscript ranges: none\. Drop regions=\."):
        ce.simulate(sir, regions=["north"])


def test_unknown_parameter_and_output_names_suggest_close_ones(sir):
    with pytest.raises(UnknownNameError, match=r"^'contact_infectivty' is not a parameter of SIR\.mdl\. "
                                               r"Did you mean 'contact_infectivity'\?$"):
        ce.simulate(sir, params={"contact_infectivty": 0.4})
    with pytest.raises(UnknownNameError, match=r"^'infectous' is not a variable of SIR\.mdl\. "
                                               r"Did you mean 'infectious'"):
        ce.simulate(sir, outputs=["infectous"])
    with pytest.raises(UnknownNameError, match=r"'succumbing' is not a parameter of SIR\.mdl"):
        ce.simulate(sir, params={"succumbing": 1.0})  # a flow is not a parameter


def test_control_variables_are_keywords_not_params(sir):
    with pytest.raises(SpecError, match=r"^'FINAL TIME' is a simulation control variable, not a parameter: "
                                        r"pass final_time=\.\.\. to simulate\(\) instead\.$"):
        ce.simulate(sir, params={"FINAL TIME": 10})


def test_values_outside_declared_bounds_are_refused(registered):
    message = (r"^Parameter 'contact_infectivity' = 1\.5 Persons/Persons/Day is outside its declared bounds "
               r"\[0, 1\] in sir_copy 1\.0\.0; choose a value within the bounds\.$")
    with pytest.raises(SpecError, match=message):
        ce.simulate(registered, params={"contact_infectivity": 1.5})
    with pytest.raises(SpecError, match=r"'duration' = 0\.5 Days is outside its declared bounds \[1, 20\]"):
        ce.simulate(registered, params={"Duration": pd.Series([5.0, 0.5], index=[0.0, 50.0])})
    run = ce.simulate(registered, params={"contact_infectivity": 1.0}, final_time=1, engine="pysd")
    assert run.provenance.model_id == "sir_copy"


def test_bad_values_and_options(sir):
    with pytest.raises(SpecError, match=r"non-finite value"):
        ce.simulate(sir, params={"duration": float("nan")})
    with pytest.raises(SpecError, match=r"got a bool"):
        ce.simulate(sir, params={"duration": True})
    with pytest.raises(SpecError, match=r"strictly increasing time index"):
        ce.simulate(sir, params={"duration": pd.Series([1.0, 2.0], index=[5.0, 1.0])})
    with pytest.raises(SpecError, match=r"^engine='fast' is not valid; choose one of 'auto', 'batch', 'pysd'\.$"):
        ce.simulate(sir, engine="fast")
    message = r"^method='rk45' is not valid; choose one of 'euler', 'rk4'\. Did you mean 'rk4'\?$"
    with pytest.raises(SpecError, match=message):
        ce.simulate(sir, method="rk45")
    with pytest.raises(SpecError, match=r"method='rk4' is not available with engine='pysd'"):
        ce.simulate(sir, method="rk4", engine="pysd")
    with pytest.raises(SpecError, match=r"final_time=0\.0 is not after initial_time=0\.0"):
        ce.simulate(sir, final_time=0)
    with pytest.raises(SpecError, match=r"time_step=-1\.0 is not valid: it must be positive"):
        ce.simulate(sir, time_step=-1)


def test_provenance_names_model_parameters_and_settings(sir):
    run = ce.simulate(sir, params={"duration": 4}, final_time=3, engine="pysd")
    prov = run.provenance
    assert (prov.model_id, prov.model_version, prov.model_sha256) == ("SIR", None, sir.sha256)
    assert dict(prov.changed_parameters) == {"duration": 4.0}
    assert prov.details["engine"] == "pysd"
    assert prov.details["method"] == "euler"
    assert prov.details["time_step"] == 0.03125
    assert prov.versions["pysd"] != "not installed"
    assert run.model is sir


def test_simulate_accepts_a_path(regional):
    run = ce.simulate(regional.path, final_time=1972, outputs="capital")
    assert list(run.data.data_vars) == ["capital"]
    assert run.model.sha256 == regional.sha256


def test_one_region_keeps_its_subscripted_column_name(regional):
    frame = ce.simulate(regional, regions="south", outputs=["capital"], engine="pysd").to_frame()
    assert list(frame.columns) == ["Capital[south]"]


@needs_shared
def test_external_data_and_partial_ranges_match_pysd():
    # constants read from a spreadsheet next to the .mdl, and a variable defined on one element of a range
    path = TEST_MODELS / "tests" / "get_constants_incomplete_subscript" / "test_get_constants_incomplete_subscript.mdl"
    model = ce.load_model(path)
    frame = ce.simulate(model, engine="pysd").to_frame()
    reference = model.pysd().run()
    assert list(frame.columns) == list(reference.columns)
    assert "var2[a,female]" in frame.columns
    assert "var2[a,male]" not in frame.columns
    assert_allclose(frame.to_numpy(), reference.to_numpy(dtype=float), rtol=0, atol=0, equal_nan=True)


def test_to_frame_matches_pysd_with_an_equivalent_range(regional):
    frame = ce.simulate(regional, engine="pysd").to_frame()
    reference = regional.pysd().run()
    assert list(frame.columns) == list(reference.columns)
    assert "Exchange Weight[north,south]" in frame.columns
    assert_allclose(frame.to_numpy(), reference.to_numpy(dtype=float), rtol=0, atol=0)
    subset = ce.simulate(regional, regions=["east"], outputs=["exchange_weight"], engine="pysd")
    assert subset.data["exchange_weight"].dims == ("time", "Region", "Partner")
    assert subset.data["exchange_weight"]["Partner"].values.tolist() == ["north", "south", "east"]


def test_initial_time_also_moves_initial_values_that_use_it(tmp_path):
    path = tmp_path / "clock.mdl"
    path.write_text(
        "{UTF-8}\nS= INTEG (1, INITIAL TIME)\n\t~\tYear\n\t~\tStock starting at the initial time.\n\t|\n"
        "INITIAL TIME  = 0\n\t~\tYear\n\t~\tThe initial time.\n\t|\n"
        "FINAL TIME  = 5\n\t~\tYear\n\t~\tThe final time.\n\t|\n"
        "TIME STEP  = 1\n\t~\tYear [0,?]\n\t~\tThe time step.\n\t|\n"
        "SAVEPER  = TIME STEP\n\t~\tYear [0,?]\n\t~\tSave period.\n\t|\n", encoding="utf-8")
    run = ce.simulate(path, initial_time=2, engine="pysd")
    assert_allclose(run.data["time"].values, [2.0, 3.0, 4.0, 5.0], rtol=0, atol=0)
    assert_allclose(run.data["s"].values, [2.0, 3.0, 4.0, 5.0], rtol=0, atol=0)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(between=st.lists(st.fixed_dictionaries({
    "contact_infectivity": st.floats(0.0, 1.0), "duration": st.floats(1.0, 20.0),
    "total_population": st.floats(10.0, 1e4)}), min_size=1, max_size=2),
    engine=st.sampled_from(["pysd", "batch"]))
def test_no_state_leaks_whatever_runs_in_between(sir, between, engine):
    before = ce.simulate(sir, final_time=2, engine="pysd").data["infectious"].values
    for params in between:
        ce.simulate(sir, params=params, final_time=3, time_step=0.0625, engine=engine)
    after = ce.simulate(sir, final_time=2, engine="pysd").data["infectious"].values
    assert_allclose(after, before, rtol=0, atol=0)
