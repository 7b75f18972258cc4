"""compile_model, CompiledModel.run and simulate_batch: shapes, names, chunks, pickling, cache, errors."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from engine_helpers import CONTROL_VARS, SIR, SUBSCRIPT_2D, pysd_frame
from numpy.testing import assert_allclose, assert_array_equal

import cluster_econ as ce
from cluster_econ.errors import SpecError, UnknownNameError, UnsupportedConstructError
from cluster_econ.sd import simulate_batch
from cluster_econ.sd.engine import CompiledModel, compile_model
from cluster_econ.sd.engine import _api as engine_api


@pytest.fixture(scope="module")
def sir_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sir")  # PySD writes its translation beside the model file
    shutil.copy(SIR, folder / "SIR.mdl")
    return folder / "SIR.mdl"


@pytest.fixture(scope="module")
def array_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("arrays")
    shutil.copy(SUBSCRIPT_2D, folder / SUBSCRIPT_2D.name)
    return folder / SUBSCRIPT_2D.name


def _pysd(path):
    import pysd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pysd.read_vensim(str(path))


def _run_in_worker(compiled: CompiledModel) -> np.ndarray:
    frame = pd.DataFrame({"contact_infectivity": [0.25, 0.35]})
    return compiled.run(frame, outputs=["infectious"])["infectious"].values


@pytest.mark.slow
def test_batch_shape_names_attrs_and_coordinates(sir_path):
    scen = pd.DataFrame({"contact_infectivity": [0.2, 0.3, 0.4], "duration": [4.0, 5.0, 6.0]},
                        index=pd.Index(["low", "mid", "high"], name="case"))
    ds = simulate_batch(sir_path, scen, outputs=["infectious", "recovered"], saveper=1)
    assert set(ds.data_vars) == {"infectious", "recovered"}
    assert ds["infectious"].dims == ("scenario", "time")
    assert list(ds["scenario"].values) == ["low", "mid", "high"]
    assert_array_equal(ds["time"].values, np.arange(0, 101, dtype=float))
    assert_array_equal(ds["contact_infectivity"].values, [0.2, 0.3, 0.4])
    assert ds["infectious"].attrs == {"units": "Persons", "vensim_name": "Infectious", "description":
                                      "The population with the disease, manifesting symptoms, and able to "
                                      "transmit it to other people."}
    assert ds["infectious"].values[:, 0].tolist() == [5.0, 5.0, 5.0]
    assert ds.attrs["engine"] == "batch"
    assert ds.attrs["method"] == "euler"
    assert ds.attrs["model_sha256"] == compile_model(sir_path).sha256
    record = json.loads(ds.attrs["provenance"])
    assert record["model_id"] == "SIR"
    assert sorted(record["changed_parameters"]) == ["contact_infectivity", "duration"]
    assert record["details"]["scenarios"] == 3
    # more contagious scenarios peak higher
    peaks = ds["infectious"].max("time").values
    assert peaks[0] < peaks[1] < peaks[2]


@pytest.mark.slow  # the quick loop compares a time-series input with PySD
def test_scenario_rows_match_separate_pysd_runs(sir_path):
    scen = pd.DataFrame({"contact_infectivity": [0.2, 0.45], "total_population": [800.0, 1500.0]})
    ds = simulate_batch(sir_path, scen)
    model = _pysd(sir_path)
    for i in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = model.run(params=scen.iloc[i].to_dict())
        got = pysd_frame(ds, i)
        for col in ("Infectious", "Susceptible", "Recovered", "Succumbing"):
            assert_allclose(got[col].values, ref[col].values, rtol=1e-9, atol=1e-12)


def test_a_constant_set_by_the_scenarios_and_asked_as_output_keeps_both(sir_path):
    scen = pd.DataFrame({"duration": [4.0, 6.0]})
    ds = simulate_batch(sir_path, scen, outputs=["duration", "infectious"])
    assert_array_equal(ds["scenario_duration"].values, [4.0, 6.0])
    assert_array_equal(ds["duration"].values[:, -1], [4.0, 6.0])


@pytest.mark.slow
def test_chunks_give_identical_results(sir_path):
    rng = np.random.default_rng(3)
    scen = pd.DataFrame({"contact_infectivity": rng.uniform(0.1, 0.5, 7), "duration": rng.uniform(2, 8, 7)})
    whole = simulate_batch(sir_path, scen, outputs=["infectious"])
    for size in (1, 3, 7, 100):
        chunked = simulate_batch(sir_path, scen, outputs=["infectious"], chunk_size=size)
        assert_array_equal(chunked["infectious"].values, whole["infectious"].values)


def test_inputs_are_not_mutated(sir_path):
    scen = pd.DataFrame({"contact_infectivity": [0.2, 0.3]})
    before = scen.copy(deep=True)
    simulate_batch(sir_path, scen, outputs=["infectious"])
    pd.testing.assert_frame_equal(scen, before)


def test_compiled_model_pickles_and_runs_in_another_process(sir_path):
    compiled = compile_model(sir_path)
    clone = pickle.loads(pickle.dumps(compiled))
    assert clone.source == compiled.source
    expected = _run_in_worker(compiled)
    assert_array_equal(_run_in_worker(clone), expected)
    with ProcessPoolExecutor(max_workers=1) as pool:
        assert_array_equal(pool.submit(_run_in_worker, compiled).result(), expected)


def test_generated_source_is_cached_by_sha256(sir_path, model_cache, monkeypatch):
    monkeypatch.setattr(engine_api, "_MEMORY", {})  # compiled by earlier tests, maybe with another cache folder
    compiled = compile_model(sir_path)
    cached = list((model_cache / "engine").glob("*.py"))
    assert any(p.read_text() == compiled.source for p in cached)
    monkeypatch.setattr(engine_api, "_MEMORY", {})
    again = compile_model(sir_path)
    assert again is not compiled
    assert again.source == compiled.source
    assert again.sha256 == compiled.sha256


def test_sdmodel_is_accepted(sir_path):
    model = ce.load_model(sir_path)
    ds = simulate_batch(model, pd.DataFrame({"duration": [5.0]}), outputs=["infectious"])
    direct = compile_model(sir_path).run(outputs=["infectious"])
    assert_array_equal(ds["infectious"].values, direct["infectious"].values)


def test_time_series_input_matches_pysd(sir_path):
    series = pd.Series([0.2, 0.5, 0.3], index=[0.0, 50.0, 100.0])
    scen = pd.DataFrame({"contact_infectivity": pd.Series([series, 0.3], dtype=object)})
    ds = simulate_batch(sir_path, scen, outputs=["infectious"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _pysd(sir_path).run(params={"contact_infectivity": series}, return_columns=["Infectious"])
    assert_allclose(ds["infectious"].values[0], ref["Infectious"].values, rtol=1e-9, atol=1e-12)
    plain = simulate_batch(sir_path, pd.DataFrame({"contact_infectivity": [0.3]}), outputs=["infectious"])
    assert_array_equal(ds["infectious"].values[1], plain["infectious"].values[0])


def test_subscripted_constants_take_arrays_and_dataarrays(array_path):
    compiled = compile_model(array_path)
    dims = compiled.constants["rate_a"]
    coords = compiled.coords["rate_a"]
    values = np.arange(1, 1 + len(coords[0]) * len(coords[1]), dtype=float).reshape(len(coords[0]), -1) / 100
    array = xr.DataArray(values, {dims[0]: coords[0], dims[1]: coords[1]}, dims)
    scen = pd.DataFrame({"rate_a": pd.Series([values, array.T, 0.05], dtype=object)})
    ds = compiled.run(scen, outputs=["stock_a"])
    assert ds["stock_a"].dims == ("scenario", "time", *dims)
    assert_array_equal(ds["stock_a"].values[0], ds["stock_a"].values[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _pysd(array_path).run(params={"rate_a": array})
    got = pysd_frame(ds, 0)
    shared = [c for c in ref.columns if c.startswith("Stock A[")]
    assert len(shared) == values.size
    for c in shared:
        assert_allclose(got[c].values, ref[c].values, rtol=1e-9, atol=1e-12)
    assert (ds["stock_a"].values[2, -1] > ds["stock_a"].values[2, 0]).all()


def test_unknown_parameter_names_a_close_match(sir_path):
    with pytest.raises(UnknownNameError, match=r"'contact_infectivty' is not a parameter of SIR\.mdl\. "
                                               r"Did you mean 'contact_infectivity'\?"):
        simulate_batch(sir_path, pd.DataFrame({"contact_infectivty": [0.2]}))


def test_unknown_output_names_a_close_match(sir_path):
    with pytest.raises(UnknownNameError, match=r"'infectous' is not a variable of SIR\.mdl\. "
                                               r"Did you mean 'infectious'\?"):
        simulate_batch(sir_path, pd.DataFrame({"duration": [5.0]}), outputs=["infectous"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "rk45"}, r"method='rk45' is not valid; choose one of 'euler', 'rk4'\. Did you mean 'rk4'\?"),
    ({"chunk_size": 0}, r"chunk_size=0 is not valid; give a positive integer or None\."),
    ({"saveper": -1.0}, r"saveper=-1\.0 is not valid: it must be positive\."),
    ({"errors": "ignore"}, r"errors='ignore' is not valid; choose one of 'warn', 'raise'"),
])
def test_bad_options_are_rejected(sir_path, kwargs, message):
    with pytest.raises(SpecError, match=message):
        simulate_batch(sir_path, pd.DataFrame({"duration": [5.0]}), **kwargs)


def test_bad_scenario_frames_are_rejected(sir_path, array_path):
    with pytest.raises(SpecError, match=r"scenarios has no rows; give at least one scenario\."):
        simulate_batch(sir_path, pd.DataFrame({"duration": []}))
    with pytest.raises(SpecError, match=r"scenarios must be a pandas DataFrame \(one row per scenario\), got dict"):
        simulate_batch(sir_path, {"duration": [5.0]})
    with pytest.raises(SpecError, match=r"Scenario 1: Parameter 'duration' of SIR\.mdl got a non-finite value \(nan\)"):
        simulate_batch(sir_path, pd.DataFrame({"duration": [5.0, np.nan]}))
    with pytest.raises(SpecError, match=r"Scenario 0: Parameter 'rate_a' of test_subscript_2d_arrays\.mdl has "
                                        r"subscripts .* of shape \(3, 2\); the array given has shape \(5,\)"):
        simulate_batch(array_path, pd.DataFrame({"rate_a": pd.Series([np.ones(5)], dtype=object)}))


DATA_WITHOUT_GET = """{UTF-8}
var 0dim:INTERPOLATE:
\t~\t
\t~\t|
out = var 0dim * 2
\t~\t
\t~\t|
INITIAL TIME = 0
\t~\tMonth
\t~\t|
FINAL TIME = 10
\t~\tMonth
\t~\t|
TIME STEP = 1
\t~\tMonth
\t~\t|
SAVEPER = TIME STEP
\t~\tMonth
\t~\t|
"""


def test_unsupported_constructs_name_construct_and_variable(tmp_path):
    dynamic = compile_model(CONTROL_VARS)
    with pytest.raises(UnsupportedConstructError, match=r"method='rk4' is not supported for 'test_control_vars', "
                                                        r"whose control variables change during the run"):
        dynamic.run(method="rk4")
    path = tmp_path / "data_from_other_model.mdl"
    path.write_text(DATA_WITHOUT_GET, encoding="utf-8")
    with pytest.raises(UnsupportedConstructError, match=r"Data read from an output file \(a DATA variable without "
                                                        r"GET\) used by 'var 0dim' in model "
                                                        r"'data_from_other_model' is not supported"):
        compile_model(path)


def test_missing_model_file_is_reported(tmp_path):
    with pytest.raises(SpecError, match=r"Model file '.*nowhere\.mdl' does not exist"):
        compile_model(tmp_path / "nowhere.mdl")


CONTROL_FROM_CONSTANTS = """{UTF-8}
stock = INTEG(flow, 1)
\t~\tu
\t~\t|
flow = 0.1 * stock
\t~\tu/Year
\t~\t|
horizon = 12
\t~\tYear
\t~\t|
start year = 2000
\t~\tYear
\t~\t|
INITIAL TIME = start year
\t~\tYear
\t~\t|
FINAL TIME = INITIAL TIME + horizon
\t~\tYear
\t~\t|
TIME STEP = 0.5
\t~\tYear
\t~\t|
SAVEPER = TIME STEP * 2
\t~\tYear
\t~\t|
"""


def test_control_variables_may_be_expressions_of_numeric_constants(tmp_path):
    path = tmp_path / "control.mdl"
    path.write_text(CONTROL_FROM_CONSTANTS, encoding="utf-8")
    compiled = compile_model(path)
    assert compiled.control == {"initial_time": 2000.0, "final_time": 2012.0, "time_step": 0.5, "saveper": 1.0}
    ds = compiled.run(outputs=["stock"])
    assert_array_equal(ds["time"].values, np.arange(2000.0, 2013.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _pysd(path).run(return_columns=["stock"])
    assert_allclose(ds["stock"].values[0], ref["stock"].values, rtol=1e-12, atol=0)


@pytest.mark.slow
def test_registered_models_check_every_scenario_against_the_declared_bounds():
    model = ce.load_model("regional_cluster")
    message = (r"Parameter 'public_investment_share' = 5 Dmnl is outside its declared bounds \[0, 0\.05\] in "
               + re.escape(model.label) + r"; choose a value within the bounds\.")
    with pytest.raises(SpecError, match="^" + message + "$"):
        ce.simulate(model, params={"public_investment_share": 5.0})
    scen = pd.DataFrame({"public_investment_share": [0.01, 5.0]}, index=pd.Index(["base", "wild"], name="case"))
    with pytest.raises(SpecError, match=r"^Scenario 'wild': " + message + "$"):
        ce.simulate_batch("regional_cluster", scen)
    with pytest.raises(SpecError, match=r"^Scenario 'wild': " + message + "$"):
        ce.simulate_batch(model, scen.rename(columns={"public_investment_share": "public investment share"}))
    low = pd.DataFrame({"public_investment_share": [-0.01]})
    with pytest.raises(SpecError, match=r"^Scenario 0: Parameter 'public_investment_share' = -0\.01 Dmnl is "
                                        r"outside its declared bounds \[0, 0\.05\]"):
        ce.simulate_batch(model, low)
    with pytest.raises(SpecError, match=r"^Scenario 1: Parameter 'public_investment_share' of "
                                        + re.escape(model.label) + r" got a bool \(True\); give a number\.$"):
        ce.simulate_batch(model, pd.DataFrame({"public_investment_share": pd.Series([0.01, True], dtype=object)}))
    with pytest.raises(SpecError, match=r"^Scenario 0: Parameter 'public_investment_share' of "
                                        + re.escape(model.label) + r" got a non-finite value \(nan\)\.$"):
        ce.simulate_batch(model, pd.DataFrame({"public_investment_share": [np.nan]}))


@pytest.mark.slow
def test_registered_ids_and_vensim_names_are_accepted_as_simulate_accepts_them(sir_path):
    shares = [0.02, 0.04]
    by_python = simulate_batch(ce.load_model("cluster_investment"),
                               pd.DataFrame({"public_investment_share": shares}), outputs=["output"])
    by_vensim = ce.simulate_batch("cluster_investment", pd.DataFrame({"public investment share": shares}),
                                  outputs=["Output"])
    assert_array_equal(by_vensim["output"].values, by_python["output"].values)
    assert_array_equal(by_vensim["public_investment_share"].values, shares)
    assert by_vensim.attrs["model_id"] == "cluster_investment"
    assert by_vensim.attrs["model_version"]
    once = ce.simulate("cluster_investment", params={"public investment share": 0.04}, outputs=["Output"])
    # numpy's power may round the last bit differently for one scenario than for a batch of two
    assert_allclose(by_vensim["output"].values[1], once.data["output"].values, rtol=1e-12, atol=0)
    # a model file: Vensim names of its constants and variables, too
    ds = simulate_batch(sir_path, pd.DataFrame({"Contact Infectivity": [0.2]}), outputs=["Infectious"])
    direct = simulate_batch(sir_path, pd.DataFrame({"contact_infectivity": [0.2]}), outputs=["infectious"])
    assert_array_equal(ds["infectious"].values, direct["infectious"].values)
    with pytest.raises(SpecError, match=r"^Parameter 'contact_infectivity' is given twice in scenarios \(as "
                                        r"columns 'contact_infectivity' and 'Contact Infectivity'\)"):
        simulate_batch(sir_path, pd.DataFrame({"contact_infectivity": [0.2], "Contact Infectivity": [0.3]}))
    with pytest.raises(UnknownNameError, match=r"'public investment shar' is not a parameter of cluster_investment"):
        ce.simulate_batch("cluster_investment", pd.DataFrame({"public investment shar": [0.01]}))


VECTOR_SORT = """{UTF-8}
dim: a, b, c
\t~\t
\t~\t|
x[dim] = 3, 1, 2
\t~\t
\t~\t|
direction = 1
\t~\t
\t~\t|
order[dim] = VECTOR SORT ORDER(x[dim], direction)
\t~\t
\t~\t|
INITIAL TIME = 0
\t~\tMonth
\t~\t|
FINAL TIME = 2
\t~\tMonth
\t~\t|
TIME STEP = 1
\t~\tMonth
\t~\t|
SAVEPER = TIME STEP
\t~\tMonth
\t~\t|
"""


def test_a_refusal_that_depends_on_the_scenarios_names_the_variable(tmp_path):
    path = tmp_path / "vector_sort.mdl"
    path.write_text(VECTOR_SORT, encoding="utf-8")
    compiled = compile_model(path)
    assert_array_equal(compiled.run(outputs=["order"])["order"].values[0, 0], [1, 2, 0])
    with pytest.raises(UnsupportedConstructError, match=r"The direction of a VECTOR function differs between "
                                                        r"scenarios or elements \(\[-1\.0, 1\.0\]\); the batch engine "
                                                        r"needs one value\. \(in the equation of 'order' in model "
                                                        r"'vector_sort'\)$"):
        compiled.run(pd.DataFrame({"direction": [1.0, -1.0]}))
