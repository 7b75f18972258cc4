"""Saving results to folders, reading them back and re-running them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ import _results_io, _toml
from cluster_econ.errors import ReproducibilityError, ReproducibilityWarning, SpecError

FORMULA = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"
OUTPUTS = ["employment", "sme_employment"]


def _edit_manifest(folder: Path, edit) -> None:
    path = folder / "manifest.toml"
    manifest = tomllib.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(_toml.dumps(manifest), encoding="utf-8")


@pytest.fixture(scope="module")
def run() -> ce.Run:
    return ce.simulate("regional_cluster", params={"public_investment_share": 0.02}, final_time=1985,
                       outputs=OUTPUTS)


def test_run_saves_a_manifest_with_everything_needed_to_rerun(run, tmp_path):
    folder = ce.save(run, tmp_path / "run")
    assert sorted(p.name for p in folder.iterdir()) == ["data.zarr", "manifest.toml"]
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    assert manifest["kind"] == "Run"
    assert manifest["call"]["verb"] == "simulate"
    arguments = manifest["call"]["arguments"]
    assert arguments["params"] == {"public_investment_share": 0.02}
    assert arguments["final_time"] == 1985
    assert arguments["outputs"] == OUTPUTS
    model = ce.load_model("regional_cluster")
    assert manifest["model"] == {"id": "regional_cluster", "version": model.version, "sha256": model.sha256}
    assert manifest["versions"]["numpy"] == np.__version__
    assert manifest["platform"]["machine"]
    (row,) = manifest["file"]
    assert row["path"] == "data.zarr"
    assert row["value_sha256"] == _results_io.value_sha256(run.data)


def test_run_loads_back_equal_and_reproduces(run, tmp_path):
    folder = run.save(tmp_path / "run")
    loaded = ce.load_result(folder)
    assert isinstance(loaded, ce.Run)
    xr.testing.assert_identical(loaded.data.drop_attrs(), run.data.drop_attrs())
    assert loaded.provenance == run.provenance
    assert loaded.model.sha256 == run.model.sha256
    again = ce.reproduce(folder)
    assert isinstance(again, ce.Run)
    assert _results_io.value_sha256(again.data) == _results_io.value_sha256(run.data)


def test_other_values_name_the_variable_and_the_largest_difference(run, tmp_path):
    folder = ce.save(run, tmp_path / "run")
    _edit_manifest(folder, lambda m: m["call"]["arguments"]["params"].update(public_investment_share=0.03))
    other = ce.simulate("regional_cluster", params={"public_investment_share": 0.03}, final_time=1985,
                        outputs=OUTPUTS)
    largest = float(np.abs(other.data["employment"] - run.data["employment"]).max())
    with pytest.raises(ReproducibilityError) as info:
        ce.reproduce(folder)
    message = str(info.value)
    match = re.search(r"data/employment differs by up to (\S+) \(at time=(\S+), Region=(\w+)\)", message)
    assert match, message
    assert_allclose(float(match.group(1)), largest, rtol=1e-5)
    assert "data/sme_employment differs" in message


def test_changed_package_version_is_reported(run, tmp_path):
    folder = ce.save(run, tmp_path / "run")
    _edit_manifest(folder, lambda m: m["versions"].update(numpy="1.0.0"))
    with pytest.warns(ReproducibilityWarning, match=r"numpy 1\.0\.0 \(saved\) vs .* \(now\)"):
        ce.reproduce(folder)

    def values_and_version(m):
        m["versions"].update(numpy="1.0.0")
        m["file"][0]["value_sha256"] = "0" * 64
    _edit_manifest(folder, values_and_version)
    with pytest.raises(ReproducibilityError, match=r"(?s)other values.*Package versions differ: numpy 1\.0\.0"):
        ce.reproduce(folder)


def test_changed_model_sha_is_reported(run, tmp_path):
    folder = ce.save(run, tmp_path / "run")
    _edit_manifest(folder, lambda m: m["call"]["arguments"]["model"].update(sha256="ab" * 32))
    with pytest.raises(ReproducibilityError, match=r"The model differs: .* sha256 abab.* has sha256 "
                                                   + run.model.sha256):
        ce.reproduce(folder)


def test_old_model_version_reproduces_with_its_own_file(tmp_path):
    old = ce.load_model("regional_cluster", version="1.0.0")
    assert old.version == "1.0.0"
    assert old.path.parent.name == "versions"
    run = ce.simulate(old, final_time=1980, outputs=["employment"])
    folder = ce.save(run, tmp_path / "old")
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    assert manifest["model"]["version"] == "1.0.0"
    again = ce.reproduce(folder)
    assert again.provenance.model_version == "1.0.0"
    assert again.provenance.model_sha256 == old.sha256 != ce.load_model("regional_cluster").sha256
    assert _results_io.value_sha256(again.data) == manifest["file"][0]["value_sha256"]


def test_batch_saves_loads_and_reproduces(tmp_path):
    scenarios = pd.DataFrame({"public_investment_share": [0.0, 0.02, 0.04],
                              "knowledge_sharing_intensity": [0.5, 1.0, 1.5]})
    batch = ce.simulate_batch("regional_cluster", scenarios, outputs=["employment"])
    folder = ce.save(batch, tmp_path / "batch")
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    assert manifest["kind"] == "Batch"
    assert manifest["call"]["verb"] == "simulate_batch"
    columns = manifest["call"]["arguments"]["scenarios"]["frame"]["columns"]
    assert columns["public_investment_share"] == [0.0, 0.02, 0.04]
    loaded = ce.load_result(folder)
    xr.testing.assert_equal(loaded, batch)
    again = ce.reproduce(folder)
    assert _results_io.value_sha256(again) == _results_io.value_sha256(batch)


@pytest.mark.parametrize(("estimator", "dataset", "formula", "options"), [
    ("panel_ols", "us_states", FORMULA, {"effects": ("entity", "time")}),
    ("random_effects", "us_states", FORMULA, {}),
    ("arellano_bond", "uk_firms", "n ~ lag(n) + w + k", {}),
])
def test_estimation_result_saves_loads_and_reproduces(estimator, dataset, formula, options, tmp_path):
    result = getattr(ce, estimator)(formula, ce.load_dataset(dataset), **options)
    assert result.provenance.details["call"]["verb"] == estimator
    folder = result.save(tmp_path / "est")
    loaded = ce.load_result(folder)
    assert isinstance(loaded, ce.EstimationResult)
    assert str(loaded.summary()) == str(result.summary())
    pd.testing.assert_frame_equal(loaded.to_frame(), result.to_frame(), check_exact=True)
    again = ce.reproduce(folder)
    assert_allclose(again.params.to_numpy(), result.params.to_numpy(), rtol=0, atol=0)


def test_a_panel_that_is_not_the_bundled_dataset_is_refused(tmp_path):
    panel = ce.load_dataset("us_states")
    frame = panel.frame.reset_index()
    subset = ce.RegionalPanel.from_frame(frame[frame["year"] < 1980], entity="state", time="year", name="early")
    folder = ce.panel_ols(FORMULA, subset, effects=("entity",)).save(tmp_path / "est")
    with pytest.raises(SpecError, match="'early', which is not a bundled dataset"):
        ce.reproduce(folder)


def test_changed_data_file_is_refused_on_load(run, tmp_path):
    folder = ce.panel_ols(FORMULA, ce.load_dataset("us_states")).save(tmp_path / "est")
    csv = folder / "estimates.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("0.", "0.1", 1), encoding="utf-8")
    with pytest.raises(SpecError, match="no longer holds the values"):
        ce.load_result(folder)


def test_writes_are_atomic_and_never_replace_other_folders(run, tmp_path, monkeypatch):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SpecError, match="non-empty folder that holds no saved result"):
        ce.save(run, other)
    assert (other / "keep.txt").read_text(encoding="utf-8") == "mine"

    def broken(data, path):
        raise OSError("disk full")
    monkeypatch.setattr(_results_io, "_write_dataset", broken)
    with pytest.raises(OSError, match="disk full"):
        ce.save(run, tmp_path / "half")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]  # no partial folder, no temp left


def test_value_hash_ignores_dtype_width_and_sees_every_value():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, np.nan, -0.0]}, index=pd.Index(["x", "y", "z"], name="k"))
    same = frame.astype({"a": "float32"}).assign(b=[0.5, np.nan, 0.0])
    assert _results_io.value_sha256(frame) == _results_io.value_sha256(same)
    changed = frame.assign(b=[0.5, np.nan, 1e-300])
    assert _results_io.value_sha256(frame) != _results_io.value_sha256(changed)
    renamed = frame.rename(index={"z": "w"})
    assert _results_io.value_sha256(frame) != _results_io.value_sha256(renamed)


def test_not_a_result(tmp_path):
    with pytest.raises(SpecError, match=r"holds no manifest\.toml: it is not a saved result"):
        ce.load_result(tmp_path)
    with pytest.raises(SpecError, match="takes a result of cluster_econ"):
        ce.save(3, tmp_path / "x")
    with pytest.raises(SpecError, match="carries no cluster_econ provenance"):
        ce.save(xr.Dataset(), tmp_path / "x")


def test_a_model_file_by_path_reproduces_and_a_changed_file_is_named(tmp_path):
    source = Path(__file__).resolve().parents[1] / "fixtures" / "sdmodels" / "SIR.mdl"
    copy = tmp_path / "SIR.mdl"
    copy.write_bytes(source.read_bytes())
    run = ce.simulate(ce.load_model(copy), params={"contact_infectivity": 0.4})
    folder = ce.save(run, tmp_path / "sir")
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    assert manifest["call"]["arguments"]["model"] == {"path": str(copy.resolve()), "sha256": run.model.sha256}
    ce.reproduce(folder)
    copy.write_text(copy.read_text(encoding="utf-8").replace("0.3", "0.35", 1), encoding="utf-8")
    with pytest.raises(ReproducibilityError, match=r"The model differs: .* sha256 " + run.model.sha256):
        ce.reproduce(folder)


def test_a_call_that_is_not_data_saves_but_does_not_pretend_to_reproduce(run, tmp_path):
    from cluster_econ._calls import attach_call, call_data

    odd = attach_call(run, call_data("simulate", {"model": run.model, "params": lambda: 0.02}))
    assert odd.provenance.details["call"]["reproducible"] is False
    folder = ce.save(odd, tmp_path / "odd")
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    assert manifest["call"]["reproducible"] is False
    assert "params (function)" in manifest["call"]["reason"]
    with pytest.raises(SpecError, match=r"records a call that cannot be re-run: arguments that are not data: params"):
        ce.reproduce(folder)
    assert isinstance(ce.load_result(folder), ce.Run)  # the data are still there
