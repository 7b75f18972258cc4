"""Model files: model.toml schema, sha256 and version history, parameters against the .mdl, documentation."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import tomllib

import numpy as np
import pytest
from models_helpers import MODEL_IDS, MODELS, REPO, centre_distances, fresh, mdl_path
from numpy.testing import assert_allclose

import cluster_econ as ce

KINDS = {"lever", "estimated", "calibrated", "literature", "assumed"}
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
REGIONAL_LEVERS = {
    "public_investment_share", "knowledge_sharing_intensity", "between_cluster_exchange_intensity",
    "sme_representation_quota", "engagement_start_delay", "sme_support", "investment_start_time", "engagement_effort",
}
REGIONAL_OUTPUTS = {
    "output", "employment", "sme_employment", "large_firm_employment", "unemployment_rate", "public_capital",
    "private_capital", "knowledge_stock", "patents", "alignment", "trust", "sme_seat_share",
    "sme_share_of_new_jobs", "cumulative_public_spend", "cumulative_programme_cost",
}


def toml_of(model_id: str) -> dict:
    with (MODELS / model_id / "model.toml").open("rb") as fh:
        return tomllib.load(fh)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_toml_schema_and_sha256(model_id):
    spec = toml_of(model_id)
    assert spec["id"] == model_id
    assert SEMVER.match(spec["version"]), spec["version"]
    assert len(spec["description"]) > 100
    digest = hashlib.sha256(mdl_path(model_id).read_bytes()).hexdigest()
    # version immutability: an edited .mdl needs a new version and a new history row
    assert spec["mdl_sha256"] == digest, (
        f"{model_id}.mdl changed (sha256 {digest}) without a version bump in model.toml"
    )
    assert spec["history"][-1] == {"version": spec["version"], "mdl_sha256": digest}
    versions = [h["version"] for h in spec["history"]]
    assert len(set(versions)) == len(versions)


@pytest.mark.parametrize("model_id", MODEL_IDS)
@pytest.mark.slow
def test_parameters_match_mdl_and_lie_in_bounds(model_id):
    model = fresh(model_id)
    doc = model.doc.set_index("Py Name")
    spec = toml_of(model_id)
    assert spec["parameter"], "model.toml declares no parameters"
    for par in spec["parameter"]:
        name = par["name"]
        assert name in doc.index, f"{name} of model.toml is not a variable of {model_id}.mdl"
        assert doc.loc[name, "Type"] == "Constant", f"{name} is not a constant"
        assert_allclose(float(getattr(model.components, name)()), par["value"], rtol=0, atol=0)
        assert doc.loc[name, "Units"] == par["unit"], name
        assert par["kind"] in KINDS, name
        assert par["lower"] <= par["value"] <= par["upper"], (name, par["value"], par["lower"], par["upper"])
        assert par["lower"] < par["upper"], name
        assert par["source"].strip(), name
        if par["kind"] == "assumed":
            assert par["source"].startswith("assumed:"), name


@pytest.mark.parametrize(
    "model_id", [pytest.param(m, marks=pytest.mark.slow) if m == "regional_cluster" else m for m in MODEL_IDS]
)
def test_every_variable_has_unit_and_description(model_id):
    doc = fresh(model_id).doc
    doc = doc[~doc["Py Name"].isin(["time"])]
    assert len(doc) > 30
    missing_unit = doc.loc[doc["Units"].isna() | (doc["Units"].astype(str).str.strip() == ""), "Py Name"]
    missing_text = doc.loc[doc["Comment"].isna() | (doc["Comment"].astype(str).str.strip() == ""), "Py Name"]
    assert missing_unit.tolist() == []
    assert missing_text.tolist() == []


def test_regional_cluster_has_the_levers_and_outputs():
    spec = toml_of("regional_cluster")
    levers = {p["name"] for p in spec["parameter"] if p["kind"] == "lever"}
    assert levers == REGIONAL_LEVERS
    assert all("no_policy" in p for p in spec["parameter"] if p["kind"] == "lever")
    estimated = {p["name"]: p["value"] for p in spec["parameter"] if p["kind"] == "estimated"}
    # within-state (entity effects) estimates on the bundled panel, the public-capital one at its bound 0
    fe = ce.panel_ols("log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp", ce.load_dataset("us_states"),
                      effects=("entity",), cov_type="clustered")
    assert_allclose(estimated["output_elasticity_of_private_capital"], fe.params["log(pc)"], rtol=0, atol=5e-4)
    assert_allclose(estimated["output_elasticity_of_labour"], fe.params["log(emp)"], rtol=0, atol=5e-4)
    assert fe.params["log(pcap)"] < 0
    assert estimated["output_elasticity_of_public_capital"] == 0


def test_regional_cluster_outputs_exist():
    names = set(fresh("regional_cluster").doc["Py Name"])
    assert REGIONAL_OUTPUTS - names == set()


def test_regional_cluster_is_initialised_from_the_panel():
    pd = pytest.importorskip("pandas")
    panel = pd.read_csv(REPO / "data" / "us_states.csv")
    first = panel[panel["year"] == 1970].set_index("state")
    model = fresh("regional_cluster")
    regions = list(model.subscripts["Region"])
    assert regions == list(first.index)
    assert len(regions) == 48
    for var, col in [("initial_public_capital", "pcap"), ("initial_private_capital", "pc"),
                     ("initial_output", "gsp"), ("initial_employment", "emp"),
                     ("initial_unemployment_rate", "unemp")]:
        values = getattr(model.components, var)().sel(Region=regions).values
        assert_allclose(values, first[col].to_numpy(dtype=float), rtol=1e-12, atol=0)
    weights = model.components.exchange_weight().values
    rows = weights.sum(axis=1)
    assert_allclose(rows[rows > 0], np.ones(int((rows > 0).sum())), rtol=1e-12, atol=0)
    assert_allclose(np.diag(weights), np.zeros(48), rtol=0, atol=0)
    # exchange only within 300 km of great-circle distance (Bottazzi and Peri 2003), here from the data file
    distance = centre_distances(regions)
    assert ((weights > 0) == ((distance <= 300) & ~np.eye(48, dtype=bool))).all()
    assert_allclose(model.components.distance().values, distance, rtol=1e-6, atol=1e-3)


def test_build_script_reproduces_the_committed_regional_model(tmp_path):
    spec = importlib.util.spec_from_file_location("build_regional_model", REPO / "scripts" / "build_regional_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "regional_cluster.mdl"
    module.main(["--output", str(out)])
    assert out.read_bytes() == mdl_path("regional_cluster").read_bytes()


def test_build_script_rejects_unknown_regions(tmp_path):
    spec = importlib.util.spec_from_file_location("build_regional_model", REPO / "scripts" / "build_regional_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    panel = tmp_path / "panel.csv"
    panel.write_text("state,year,pcap,pc,gsp,emp,unemp\nATLANTIS,1970,1,1,1,1,5\nALABAMA,1970,1,1,1,1,5\n")
    with pytest.raises(SystemExit, match=r"no position known for \['ATLANTIS'\]; add latitude and longitude columns"):
        module.main(["--panel", str(panel), "--output", str(tmp_path / "x.mdl")])


def test_no_generated_python_in_models():
    assert sorted(p.name for p in MODELS.rglob("*.py")) == []


def test_regional_cluster_1_1_0_is_kept_with_its_recorded_hash():
    spec = toml_of("regional_cluster")
    recorded = {h["version"]: h["mdl_sha256"] for h in spec["history"]}
    old = MODELS / "regional_cluster" / "versions" / "1.1.0.mdl"
    assert hashlib.sha256(old.read_bytes()).hexdigest() == recorded["1.1.0"]
    with (MODELS / "regional_cluster" / "versions" / "1.1.0.toml").open("rb") as fh:
        assert tomllib.load(fh)["version"] == "1.1.0"
