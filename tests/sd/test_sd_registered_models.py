"""The registered models of the repository through the public API (the models' own behaviour is tested
in tests/models)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import SpecError, UnknownNameError
from cluster_econ.provenance import file_sha256

MODEL_IDS = ["cluster_investment", "knowledge_spillover", "regional_cluster", "sme_growth", "stakeholder_alignment"]


def test_list_models_lists_the_five_models():
    table = ce.list_models()
    assert table["id"].tolist() == MODEL_IDS
    assert table["description"].str.len().min() > 20


@pytest.mark.parametrize(
    "model_id", [pytest.param(m, marks=pytest.mark.slow) if m == "regional_cluster" else m for m in MODEL_IDS]
)
def test_registered_model_loads_with_its_recorded_hash(model_id):
    model = ce.load_model(model_id)
    assert model.registered
    assert model.sha256 == file_sha256(model.path)
    assert model.path.name == f"{model_id}.mdl"
    params = model.parameters
    assert list(params.columns) == ["name", "value", "unit", "kind", "lower", "upper", "source"]
    assert set(params["kind"]) <= {"lever", "estimated", "calibrated", "literature", "assumed"}
    assert set(params["name"]) <= set(model.variables["name"])
    assert (model.variables["kind"] == "stock").any()


@pytest.fixture(scope="module")
def regional():
    return ce.load_model("regional_cluster")


@pytest.mark.slow
def test_regional_cluster_to_2000_for_chosen_states(regional):
    outputs = ["sme_employment", "employment", "unemployment_rate"]
    run = ce.simulate(regional, final_time=2000, outputs=outputs, regions=["CALIFORNIA", "TEXAS"])
    assert list(run.data.data_vars) == outputs
    assert run.data["sme_employment"].dims == ("time", "Region")
    assert run.data["Region"].values.tolist() == ["CALIFORNIA", "TEXAS"]
    assert run.data["time"].values[-1] == 2000.0
    assert run.provenance.model_id == "regional_cluster"
    assert run.provenance.model_version == regional.version
    share = run.data["sme_employment"] / run.data["employment"]
    assert np.all((share.values > 0) & (share.values < 1))
    frame = run.to_frame()
    assert list(frame.columns)[:2] == ["sme employment[CALIFORNIA]", "sme employment[TEXAS]"]
    assert_allclose(frame["sme employment[TEXAS]"].to_numpy(),
                    run.data["sme_employment"].sel(Region="TEXAS").values, rtol=0, atol=0)


def test_regional_cluster_default_regions_are_the_48_states(regional):
    assert len(regional.subscripts["Region"]) == 48
    with pytest.raises(UnknownNameError, match=r"^'CALIFORNA' is not a region of regional_cluster .*"
                                               r"Did you mean 'CALIFORNIA'\?$"):
        ce.simulate(regional, regions=["CALIFORNA"])


def test_lever_outside_its_bounds_is_refused(regional):
    lever = regional.parameters.set_index("name").loc["public_investment_share"]
    bad = lever["upper"] + 0.1
    message = (f"Parameter 'public_investment_share' = {bad:g} {lever['unit']} is outside its declared bounds "
               f"[{lever['lower']:g}, {lever['upper']:g}] in regional_cluster {regional.version}; "
               f"choose a value within the bounds.")
    with pytest.raises(SpecError, match="^" + re.escape(message) + "$"):
        ce.simulate(regional, params={"public_investment_share": bad})
