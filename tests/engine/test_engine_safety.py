"""Caches are data, kernels are verified, numerical failure is never silent, limits give clear errors."""

from __future__ import annotations

import io
import json
import logging
import shutil

import numpy as np
import pandas as pd
import pytest
from engine_helpers import SIR, SUBSCRIPT_2D
from numpy.testing import assert_array_equal

import cluster_econ as ce
from cluster_econ.errors import NumericalWarning, SimulationError, SpecError, UnsupportedConstructError
from cluster_econ.sd.engine import _api, compile_model
from cluster_econ.sd.engine._verify import verify_source


@pytest.fixture
def sir(tmp_path, monkeypatch):
    """SIR in its own folder, with an empty cache folder and in-memory cache."""
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(_api, "_MEMORY", {})
    path = tmp_path / "SIR.mdl"
    shutil.copy(SIR, path)
    return path


@pytest.fixture(scope="module")
def sir_model(tmp_path_factory):
    """SIR in a folder of its own, translated and compiled once (session cache) for the tests that only run it."""
    path = tmp_path_factory.mktemp("sir") / "SIR.mdl"
    shutil.copy(SIR, path)
    return path


def _entry(tmp_path):
    (index,) = (tmp_path / "cache" / "engine").glob("*.index.json")
    return index, json.loads(index.read_text())


def test_the_kernel_cache_holds_text_npz_and_json_only(sir, tmp_path):
    compile_model(sir)
    files = sorted(p.suffix for p in (tmp_path / "cache" / "engine").iterdir())
    assert files == [".json", ".json", ".npz", ".py"]
    index, record = _entry(tmp_path)
    arrays = index.with_name(record["files"]["arrays"]["file"])
    np.load(arrays, allow_pickle=False).close()  # no object arrays, nothing to unpickle


@pytest.mark.parametrize("tamper", ["scaled array", "edited source", "empty index", "truncated source"])
def test_a_tampered_cache_entry_is_discarded_rebuilt_and_never_run(sir, tmp_path, monkeypatch, caplog, tamper):
    model = tmp_path / SUBSCRIPT_2D.name
    shutil.copy(SUBSCRIPT_2D, model)
    reference = compile_model(model).run(outputs=["stock_a"])["stock_a"].values
    index, record = _entry(tmp_path)
    marker = tmp_path / "PWNED"
    if tamper == "scaled array":
        path = index.with_name(record["files"]["arrays"]["file"])
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] * 4 for k in npz.files}
        assert arrays
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        path.write_bytes(buffer.getvalue())
    elif tamper == "edited source":
        path = index.with_name(record["files"]["source"]["file"])
        path.write_text(path.read_text().replace("    t = _t0", f"    t = _t0; open({str(marker)!r}, 'w')"))
    elif tamper == "empty index":
        index.write_text("{}")
    else:
        path = index.with_name(record["files"]["source"]["file"])
        path.write_bytes(path.read_bytes()[:200])
    monkeypatch.setattr(_api, "_MEMORY", {})
    with caplog.at_level(logging.WARNING, logger="cluster_econ.sd.engine._store"):
        again = compile_model(model).run(outputs=["stock_a"])["stock_a"].values
    assert "Discarding the engine cache entry" in caplog.text
    assert not marker.exists()
    assert_array_equal(again, reference)
    _entry(tmp_path)  # rebuilt: a valid entry again


@pytest.mark.parametrize("code", [
    "import os", "def _init(P):\n    return __import__('os')", "def _init(P):\n    return open('x')",
    "def _init(P):\n    return np.load.__globals__", "def _init(P):\n    return (lambda: 1)()",
    "def _init(P):\n    for i in P:\n        pass", "def _step(t):\n    return _rt.np.os", "x = 1",
])
def test_kernel_source_outside_what_the_compiler_emits_is_refused(code):
    with pytest.raises(UnsupportedConstructError, match=r"failed verification|not executed"):
        verify_source(code)


def test_a_docstring_breakout_in_a_comment_runs_nothing_on_the_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(tmp_path / "cache"))
    marker = tmp_path / "PWNED"
    payload = f'x""" + str(__import__("os").system("touch {marker}")) + """'
    text = SIR.read_text().replace("The population with the disease", payload, 1)
    assert payload in text
    path = tmp_path / "SIR_hostile.mdl"
    path.write_text(text)
    compile_model(path).run(outputs=["infectious"])
    assert not marker.exists()


def test_non_finite_outputs_warn_naming_variable_time_and_scenario_or_raise(sir_model):
    scenarios = pd.DataFrame({"duration": [5.0, 0.0, 0.0]}, index=pd.Index(["ok", "zero", "zero too"]))
    with pytest.warns(NumericalWarning, match=r"SIR: '\w+' is not finite \(NaN or inf\) from time 0 in 2 of 3 "
                                              r"scenarios .*the first is scenario 'zero' with parameters "
                                              r"\{'duration': 0\.0\}"):
        ds = ce.simulate_batch(sir_model, scenarios, outputs=["infectious", "recovering"], chunk_size=2)
    issues = json.loads(ds.attrs["numerical_issues"])
    assert {i["variable"] for i in issues} == {"infectious", "recovering"}
    assert all(i["scenarios"] == 2 and i["first_scenario"] == "zero" for i in issues)
    assert np.isfinite(ds["infectious"].sel(scenario="ok")).all()
    with pytest.raises(SimulationError, match="'recovering' is not finite"):
        ce.simulate_batch(sir_model, scenarios, outputs=["recovering"], errors="raise")
    assert json.loads(ce.simulate_batch(sir_model, scenarios.iloc[:1]).attrs["numerical_issues"]) == []


@pytest.mark.parametrize("engine", ["batch", "pysd"])
def test_simulate_reports_non_finite_outputs_on_both_engines(sir_model, engine):
    model = ce.load_model(sir_model)
    with pytest.warns(NumericalWarning, match="'succumbing' is not finite"):
        run = ce.simulate(model, params={"contact_infectivity": 1e308}, engine=engine, outputs=["succumbing"])
    assert run.provenance.details["numerical_issues"][0]["variable"] == "succumbing"
    with pytest.raises(SimulationError, match="'succumbing' is not finite"):
        ce.simulate(model, params={"contact_infectivity": 1e308}, engine=engine, outputs=["succumbing"],
                    errors="raise")


def test_a_division_by_zero_inside_pysd_is_a_simulation_error(sir_model):
    with pytest.raises(SimulationError, match=r"PySD stopped running SIR\.mdl with duration=0\.0: ZeroDivisionError"):
        ce.simulate(sir_model, params={"duration": 0}, engine="pysd")


def test_a_division_by_a_constant_that_is_zero_is_reported_at_compile_time(sir_model, tmp_path):
    path = tmp_path / "SIR_zero.mdl"
    path.write_text(sir_model.read_text().replace("Duration=\n\t5", "Duration=\n\t0"))
    assert path.read_text() != sir_model.read_text()
    with pytest.warns(NumericalWarning, match=r"'Recovering' divides by 'Duration', which is 0 in the model file"):
        compile_model(path)


# the 48-region model takes seconds to translate and compile: the one-region module in the quick loop
@pytest.mark.parametrize("model_id", ["cluster_investment", pytest.param("regional_cluster", marks=pytest.mark.slow)])
def test_bounds_are_checked_for_a_file_path_and_a_compiled_model(model_id):
    model = ce.load_model(model_id)
    bad = pd.DataFrame({"public_investment_share": [0.01, -5.0]})
    for given in (model.path, str(model.path), compile_model(model)):
        with pytest.raises(SpecError, match=r"Scenario 1: .*'public_investment_share' = -5( Dmnl)? is outside its "
                                            r"declared bounds \[0, 0\.05\]"):
            ce.simulate_batch(given, bad, outputs=["employment"])


@pytest.mark.parametrize(("call", "words"), [
    (lambda m: ce.simulate(m, final_time=1e9), ["integration steps", "time_step"]),
    (lambda m: ce.simulate(m, time_step=1e-9), ["integration steps", "time_step"]),
    (lambda m: ce.simulate(m, final_time=1e9, engine="pysd"), ["integration steps", "time_step"]),
    (lambda m: ce.simulate_batch(m, pd.DataFrame({"duration": np.full(200_000, 5.0)}), chunk_size=10**9,
                                 saveper=0.03125, final_time=20_000), ["GiB", "saveper", "outputs", "chunk_size"]),
])
def test_runs_out_of_reach_are_refused_before_anything_is_allocated(sir_model, call, words):
    with pytest.raises(SpecError) as info:
        call(ce.load_model(sir_model))
    for word in words:
        assert word in str(info.value)


def test_duplicated_columns_and_outputs(sir_model):
    frame = pd.DataFrame([[0.2, 0.3]], columns=["contact_infectivity", "contact_infectivity"])
    with pytest.raises(SpecError, match="scenarios has the column 'contact_infectivity' more than once"):
        ce.simulate_batch(sir_model, frame)
    ds = ce.simulate_batch(sir_model, pd.DataFrame({"duration": [4.0]}),
                           outputs=["infectious", "Infectious", "infectious"])
    assert list(ds.data_vars) == ["infectious"]


class _Estimates:
    def to_params(self):
        return {"contact_infectivity": 0.45}


def test_time_controls_params_object_and_provenance_of_a_batch(sir_model):
    scenarios = pd.DataFrame({"duration": [4.0, 6.0]})
    ds = ce.simulate_batch(sir_model, scenarios, params=_Estimates(), outputs=["infectious"], initial_time=10,
                           final_time=30, time_step=0.5, saveper=2)
    assert_array_equal(ds["time"].values, np.arange(10, 31, 2, dtype=float))
    alone = ce.simulate(sir_model, params={"contact_infectivity": 0.45, "duration": 6.0}, initial_time=10,
                        final_time=30, time_step=0.5, saveper=2, outputs=["infectious"], engine="pysd")
    np.testing.assert_allclose(ds["infectious"].values[1], alone.data["infectious"].values, rtol=1e-9)
    provenance = ce.batch_provenance(ds)
    assert isinstance(provenance, ce.Provenance)
    assert provenance.details["call"]["verb"] == "simulate_batch"
    assert provenance.changed_parameters["contact_infectivity"] == 0.45
    assert "Computed with cluster_econ" in ce.cite(ds)
    assert "model SIR" in ce.cite(ds)
