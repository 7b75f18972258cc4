"""Every released model version stays loadable: models/<id>/versions/<version>.mdl and .toml."""

from __future__ import annotations

import hashlib
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

import cluster_econ as ce
from cluster_econ.errors import ModelVersionError
from cluster_econ.provenance import file_sha256

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
SIR = ROOT / "tests" / "fixtures" / "sdmodels" / "SIR.mdl"


def _history(*, previous: bool = False) -> list[tuple[str, str, str]]:
    rows = []
    for toml_path in sorted(MODELS.glob("*/model.toml")):
        meta = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        rows += [(meta["id"], row["version"], row["mdl_sha256"]) for row in meta.get("history", [])
                 if not previous or row["version"] != meta["version"]]
    return rows


@pytest.mark.parametrize(("model_id", "version", "sha"), _history(previous=True))
def test_every_previous_version_is_kept_with_its_hash(model_id, version, sha):
    folder = MODELS / model_id / "versions"
    assert file_sha256(folder / f"{version}.mdl") == sha
    meta = tomllib.loads((folder / f"{version}.toml").read_text(encoding="utf-8"))
    assert (meta["id"], meta["version"], meta["mdl_sha256"]) == (model_id, version, sha)


def test_the_current_version_is_in_the_history_and_a_kept_copy_of_it_is_the_same():
    checked = 0
    for toml_path in sorted(MODELS.glob("*/model.toml")):
        meta = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        model_id, current = meta["id"], meta["version"]
        recorded = {row["version"]: row["mdl_sha256"] for row in meta.get("history", [])}
        source = MODELS / model_id / f"{model_id}.mdl"
        assert recorded.get(current) == hashlib.sha256(source.read_bytes()).hexdigest(), model_id
        kept = MODELS / model_id / "versions" / f"{current}.mdl"
        if kept.is_file():  # the current version lives in <id>.mdl; a copy may be kept
            assert kept.read_bytes() == source.read_bytes()
        checked += 1
    assert checked >= 5


def test_regional_cluster_1_0_0_runs_its_own_equations():
    old, new = ce.load_model("regional_cluster", version="1.0.0"), ce.load_model("regional_cluster")
    assert (old.version, old.sha256) == ("1.0.0", "df8afcd9fa3b463eb31ac442aed778f10f6062deb1086254fd7d008c9f6b6714")
    assert old.path == (MODELS / "regional_cluster" / "versions" / "1.0.0.mdl").resolve()
    assert new.version != "1.0.0"
    # 1.1.0 bounded the reinforcing loops: the same lever values give other trajectories
    params = {"public_investment_share": 0.04, "knowledge_sharing_intensity": 2.0}
    a = ce.simulate(old, params=params, outputs=["output"]).data["output"].sum("Region")
    b = ce.simulate(new, params=params, outputs=["output"]).data["output"].sum("Region")
    assert float(a.isel(time=0)) == pytest.approx(float(b.isel(time=0)), rel=1e-12)
    assert not np.allclose(a.values[-1], b.values[-1], rtol=1e-3)


@pytest.fixture
def bumped(tmp_path, monkeypatch):
    """A registry whose sir_copy went from 1.0.0 (contact_infectivity 0.3) to 1.1.0 (0.35)."""
    folder = tmp_path / "models" / "sir_copy"
    (folder / "versions").mkdir(parents=True)
    shutil.copyfile(SIR, folder / "sir_copy.mdl")
    sha = file_sha256(folder / "sir_copy.mdl")
    head = 'id = "sir_copy"\nversion = "{v}"\nmdl_sha256 = "{s}"\n\n'
    param = ('[[parameter]]\nname = "contact_infectivity"\nvalue = {x}\nunit = "Persons/Persons/Day"\n'
             'kind = "assumed"\nlower = 0.0\nupper = 1.0\nsource = "assumed"\n\n')
    history = '[[history]]\nversion = "1.0.0"\nmdl_sha256 = "{s}"\n'
    (folder / "model.toml").write_text(head.format(v="1.0.0", s=sha) + param.format(x=0.3) + history.format(s=sha),
                                       encoding="utf-8")
    shutil.copyfile(folder / "sir_copy.mdl", folder / "versions" / "1.0.0.mdl")
    shutil.copyfile(folder / "model.toml", folder / "versions" / "1.0.0.toml")
    mdl = folder / "sir_copy.mdl"
    mdl.write_text(mdl.read_text(encoding="utf-8").replace("0.3", "0.35", 1), encoding="utf-8")
    toml_path = folder / "model.toml"
    toml_path.write_text(toml_path.read_text(encoding="utf-8").replace('version = "1.0.0"', 'version = "1.1.0"', 1)
                         .replace("value = 0.3", "value = 0.35"), encoding="utf-8")
    monkeypatch.setenv("CLUSTER_ECON_MODELS", str(tmp_path / "models"))
    ce.sd.record_model_hash(folder)
    return folder


def test_an_old_version_loads_its_file_and_parameter_table(bumped):
    old = ce.load_model("sir_copy", version="1.0.0")
    new = ce.load_model("sir_copy")
    assert (old.version, new.version) == ("1.0.0", "1.1.0")
    assert old.parameters.set_index("name").loc["contact_infectivity", "value"] == 0.3
    assert new.parameters.set_index("name").loc["contact_infectivity", "value"] == 0.35
    assert ce.load_model("sir_copy", version="1.1.0").sha256 == new.sha256


def test_a_changed_or_missing_old_version_is_refused(bumped):
    kept = bumped / "versions" / "1.0.0.mdl"
    kept.write_text(kept.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(ModelVersionError, match=r"1\.0\.0\.mdl has sha256 .* was released with sha256 .* "
                                                r"the kept copy was changed"):
        ce.load_model("sir_copy", version="1.0.0")
    kept.unlink()
    with pytest.raises(ModelVersionError, match=r"no loadable version '1\.0\.0': 1\.0\.0\.mdl missing from .*"
                                                r"known versions from \[\[history\]\] .*: 1\.0\.0, 1\.1\.0"):
        ce.load_model("sir_copy", version="1.0.0")
    with pytest.raises(ModelVersionError, match=r"no loadable version '0\.9\.0'; the current version is 1\.1\.0"):
        ce.load_model("sir_copy", version="0.9.0")
