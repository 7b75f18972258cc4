"""SDModel and load_model on model files, and the sha256-keyed translation cache."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
import shutil

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sd_helpers import SIR, SUBSCRIPT_2D, XMILE, write_regional

import cluster_econ as ce
from cluster_econ.errors import ModelVersionError, SpecError
from cluster_econ.provenance import file_sha256
from cluster_econ.sd import _cache


@pytest.fixture(scope="module")
def sir():
    return ce.load_model(SIR)


def test_file_model_attributes(sir):
    assert (sir.id, sir.version, sir.registered) == ("SIR", None, False)
    assert sir.path == SIR.resolve()
    assert sir.sha256 == file_sha256(SIR)
    assert sir.subscripts == {}
    assert sir.control == {"initial_time": 0.0, "final_time": 100.0, "time_step": 0.03125, "saveper": 0.03125}


def test_file_model_parameters_are_what_pysd_knows(sir):
    params = sir.parameters
    assert list(params.columns) == ["name", "value", "unit", "kind", "lower", "upper", "source"]
    assert params["name"].tolist() == ["contact_infectivity", "duration", "total_population"]
    assert_allclose(params["value"].astype(float), [0.3, 5.0, 1000.0], rtol=0, atol=0)
    assert params["unit"].tolist() == ["Persons/Persons/Day", "Days", "Persons"]
    assert set(params["kind"]) == {"unknown"}
    assert params[["lower", "upper"]].isna().all().all()
    assert set(params["source"]) == {str(SIR.resolve())}


def test_variables_classify_stocks_flows_and_constants(sir):
    table = sir.variables.set_index("name")
    assert list(sir.variables.columns) == ["name", "vensim_name", "unit", "description", "kind", "subscripts"]
    kinds = table["kind"]
    assert set(kinds[kinds == "stock"].index) == {"infectious", "recovered", "susceptible"}
    assert set(kinds[kinds == "flow"].index) == {"recovering", "succumbing"}
    assert kinds["contact_infectivity"] == "constant"
    assert table.loc["succumbing", "vensim_name"] == "Succumbing"
    assert table.loc["infectious", "unit"] == "Persons"
    assert table.loc["duration", "description"] == "How long are you infectious for?"
    assert table.loc["susceptible", "subscripts"] == ()
    assert "time" not in table.index


def test_subscripted_model_variables_and_subscripts():
    model = ce.load_model(str(SUBSCRIPT_2D))
    assert model.subscripts == {"Second Dimension Subscript": ["Column 1", "Column 2"],
                                "One Dimensional Subscript": ["Entry 1", "Entry 2", "Entry 3"]}
    table = model.variables.set_index("name")
    assert table.loc["stock_a", "kind"] == "stock"
    assert table.loc["inflow_a", "kind"] == "flow"
    assert table.loc["stock_a", "subscripts"] == ("One Dimensional Subscript", "Second Dimension Subscript")
    rate = model.parameters.set_index("name").loc["rate_a", "value"]
    assert_allclose(rate.values, [[0.01, 0.02], [0.03, 0.04], [0.05, 0.06]], rtol=0, atol=1e-15)


def test_tables_are_copies(sir):
    params = sir.parameters
    params.loc[0, "value"] = -1.0
    assert sir.parameters.loc[0, "value"] == 0.3


def test_model_pickles_and_runs_after_unpickling(sir):
    clone = pickle.loads(pickle.dumps(sir))
    assert (clone.id, clone.sha256, clone.path) == (sir.id, sir.sha256, sir.path)
    a = ce.simulate(sir, final_time=5, engine="pysd").data["infectious"].values
    b = ce.simulate(clone, final_time=5, engine="pysd").data["infectious"].values
    assert_allclose(b, a, rtol=0, atol=0)


def test_pysd_gives_a_fresh_model_each_time(sir):
    first, second = sir.pysd(), sir.pysd()
    assert first is not second
    first.set_components({"contact_infectivity": 0.9})
    assert first["contact_infectivity"] == 0.9
    assert second["contact_infectivity"] == 0.3
    assert sir.pysd()["contact_infectivity"] == 0.3


def test_abstract_model_is_pysds(sir):
    from pysd.translators.structures.abstract_model import AbstractModel

    abstract = sir.abstract_model()
    assert isinstance(abstract, AbstractModel)
    names = {element.name for element in abstract.sections[0].elements}
    assert {"Susceptible", "Infectious", "Recovered", "Contact Infectivity"} <= names


def test_bad_paths_and_version_for_a_file():
    with pytest.raises(SpecError, match=r"Model file '/nonexistent/x\.mdl' does not exist"):
        ce.load_model("/nonexistent/x.mdl")
    with pytest.raises(SpecError, match=r"version='1\.0\.0' applies to registered models only; SIR\.mdl"):
        ce.load_model(SIR, version="1.0.0")


def test_bad_file_type(tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("x = 1", encoding="utf-8")
    with pytest.raises(SpecError, match=r"model\.txt is not a Vensim \(\.mdl\) or XMILE"):
        ce.load_model(path)


def test_translation_is_cached_outside_the_source_tree(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(cache))
    source_dir = tmp_path / "src"
    source_dir.mkdir()
    path = write_regional(source_dir)
    model = ce.load_model(path)
    assert sorted(p.name for p in source_dir.iterdir()) == ["regional_test.mdl"]
    folder = cache / "pysd" / model.sha256
    assert {"model.mdl", "model.py", "index.json"} <= {p.name for p in folder.iterdir()}
    assert (folder / "model.mdl").read_bytes() == path.read_bytes()
    assert [p.name for p in (cache / "pysd").iterdir()] == [model.sha256]  # no temporary folders left
    stamp = (folder / "model.py").stat().st_mtime_ns
    ce.load_model(path)
    assert (folder / "model.py").stat().st_mtime_ns == stamp  # reused, not translated again


@pytest.mark.slow  # the batch engine's twin stays in the quick loop (test_engine_cache)
def test_file_changed_after_loading_is_not_translated_under_the_old_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(tmp_path / "cache"))
    path = write_regional(tmp_path)
    model = ce.load_model(path)
    shutil.rmtree(tmp_path / "cache")
    path.write_text(path.read_text(encoding="utf-8").replace("0.05", "0.06"), encoding="utf-8")
    with pytest.raises(ModelVersionError, match=r"regional_test\.mdl changed since it was loaded"):
        model.pysd()


def _translate_in_child(args):
    path, sha = args
    return str(_cache.translated_source(path, sha))


@pytest.mark.slow  # three interpreters translating at once; the quick loop has one translation cached
def test_processes_racing_to_translate_share_one_complete_translation(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(tmp_path / "cache"))
    path = write_regional(tmp_path)
    sha = file_sha256(path)
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = list(pool.map(_translate_in_child, [(path, sha)] * 2))
    folder = tmp_path / "cache" / "pysd" / sha
    assert results == [str(folder / "model.mdl")] * 2
    assert [p.name for p in (tmp_path / "cache" / "pysd").iterdir()] == [sha]
    run = ce.simulate(path, engine="pysd")
    assert_allclose(run.data["capital"].sel(time=1970).values, [100.0, 50.0, 20.0], rtol=0, atol=0)
    assert np.isfinite(run.data["capital"].values).all()


def test_xmile_file_loads_and_runs_like_pysd(tmp_path):
    import pysd

    path = XMILE
    model = ce.load_model(path)
    assert model.path.suffix == ".xmile"
    assert (model.variables["kind"] == "stock").any()
    frame = ce.simulate(model, engine="pysd").to_frame()
    shutil.copyfile(path, tmp_path / path.name)  # PySD writes its translation next to the file
    reference = pysd.read_xmile(str(tmp_path / path.name)).run()
    assert list(frame.columns) == list(reference.columns)
    assert_allclose(frame.to_numpy(), reference.to_numpy(dtype=float), rtol=0, atol=0)


def test_loading_again_reads_the_translation_once_and_hands_out_copies(tmp_path, monkeypatch):
    from cluster_econ.sd import _model

    path = tmp_path / "SIR.mdl"
    shutil.copy(SIR, path)
    loads = []
    real = _model._load_pysd
    monkeypatch.setattr(_model, "_load_pysd", lambda *a, **k: loads.append(a) or real(*a, **k))
    first = ce.load_model(path)
    first.parameters.loc[0, "value"] = -1.0  # a copy: the next load does not see it
    second = ce.load_model(path)
    assert len(loads) == 1
    assert second.parameters.equals(ce.load_model(path).parameters)
    assert (second.parameters["value"] >= 0).all()
    path.write_bytes(path.read_bytes().replace(b"\t0.3\n", b"\t0.9\n"))  # an edited file is read again
    edited = ce.load_model(path)
    assert len(loads) == 2
    assert edited.sha256 != first.sha256


def test_a_registered_model_is_described_without_evaluating_its_stocks(monkeypatch):
    from pysd.py_backend.model import Model

    from cluster_econ.sd import _model

    monkeypatch.setattr(_model, "_DESCRIBED", type(_model._DESCRIBED)())
    monkeypatch.setattr(Model, "initialize", lambda self: pytest.fail("PySD's initialize ran"))
    model = ce.load_model("sme_growth")
    monkeypatch.undo()
    variables, control = _model._describe(model.pysd())  # read from the initialised model
    assert model.control == control
    assert model.variables.equals(variables)


def test_a_pysd_without_those_internals_falls_back_to_its_full_initialisation(monkeypatch):
    from cluster_econ.sd import _model

    expected = ce.load_model("sme_growth")
    monkeypatch.setattr(_model, "_DESCRIBED", type(_model._DESCRIBED)())

    def moved(model):
        raise AttributeError("'Model' object has no attribute 'time_initialization'")

    monkeypatch.setattr(_model, "_bind_time", moved)
    model = ce.load_model("sme_growth")
    assert model.control == expected.control
    assert model.variables.equals(expected.variables)


@pytest.mark.slow  # a fresh interpreter and a fresh PySD translation
def test_a_model_loads_and_runs_with_warnings_as_errors(tmp_path):
    """``PYTHONWARNINGS=error`` (a user's strict test suite): no warning of PySD's imports reaches the user."""
    import os
    import subprocess
    import sys

    path = tmp_path / "SIR.mdl"
    shutil.copy(SIR, path)
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o755)
    code = (f"import cluster_econ as ce; m = ce.load_model({str(path)!r}); "
            "print(ce.simulate(m).data.sizes['time'], ce.simulate(m, engine='pysd').data.sizes['time'])")
    env = {**os.environ, "PYTHONWARNINGS": "error", "CLUSTER_ECON_CACHE": str(cache)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3201", "3201"]
