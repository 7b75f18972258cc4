"""The model registry: list_models, load_model by id, version immutability, record_model_hash."""

from __future__ import annotations

import tomllib

import pytest

import cluster_econ as ce
from cluster_econ.errors import ModelVersionError, UnknownNameError
from cluster_econ.provenance import file_sha256


def test_list_models_reads_the_registry_folder(registry):
    table = ce.list_models()
    assert list(table.columns) == ["id", "version", "description", "path"]
    assert table["id"].tolist() == ["sir_copy"]
    assert table["version"].tolist() == ["1.0.0"]
    assert table["description"].tolist() == ["SIR epidemic, registered for tests."]
    assert table["path"].tolist() == [str(registry / "sir_copy.mdl")]


def test_list_models_of_an_empty_folder_is_an_empty_table(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTER_ECON_MODELS", str(tmp_path))
    table = ce.list_models()
    assert table.empty
    assert list(table.columns) == ["id", "version", "description", "path"]


def test_load_registered_model_takes_parameters_from_model_toml(registry):
    model = ce.load_model("sir_copy")
    assert (model.id, model.version, model.registered) == ("sir_copy", "1.0.0", True)
    assert model.sha256 == file_sha256(registry / "sir_copy.mdl")
    assert model.path == (registry / "sir_copy.mdl").resolve()
    params = model.parameters.set_index("name")
    assert params.loc["contact_infectivity", "kind"] == "assumed"
    assert params.loc["duration", "upper"] == 20.0
    assert params.loc["duration", "source"] == "Textbook value"
    assert ce.load_model("sir_copy", version="1.0.0").sha256 == model.sha256


def test_unknown_model_id_suggests_the_close_one(registry):
    with pytest.raises(UnknownNameError, match=r"'sir_cpy' is not a registered model of .*models\. "
                                               r"Did you mean 'sir_copy'\?"):
        ce.load_model("sir_cpy")


def test_unknown_version_lists_the_known_versions(registry):
    with pytest.raises(ModelVersionError) as info:
        ce.load_model("sir_copy", version="0.9.0")
    message = str(info.value)
    assert "sir_copy has no loadable version '0.9.0'; the current version is 1.0.0" in message
    assert "known versions from [[history]]" in message
    assert "1.0.0" in message


def test_edited_mdl_without_version_bump_is_refused(registry):
    mdl = registry / "sir_copy.mdl"
    recorded = file_sha256(mdl)
    mdl.write_text(mdl.read_text(encoding="utf-8").replace("0.3", "0.35", 1), encoding="utf-8")
    actual = file_sha256(mdl)
    with pytest.raises(ModelVersionError) as info:
        ce.load_model("sir_copy")
    message = str(info.value)
    assert str(mdl) in message
    assert f"its sha256 is {actual}" in message
    assert f"records mdl_sha256 = {recorded}" in message
    assert "bump `version` in model.toml" in message
    assert f"cluster_econ.sd.record_model_hash({str(registry)!r})" in message


def test_record_model_hash_refuses_without_bump_and_records_after_bump(registry):
    mdl, toml_path = registry / "sir_copy.mdl", registry / "model.toml"
    mdl.write_text(mdl.read_text(encoding="utf-8").replace("0.3", "0.35", 1), encoding="utf-8")
    with pytest.raises(ModelVersionError, match=r"sir_copy 1\.0\.0 was released with sha256 .* bump `version`"):
        ce.sd.record_model_hash(registry)

    toml_path.write_text(toml_path.read_text(encoding="utf-8").replace('version = "1.0.0"', 'version = "1.1.0"',
                                                                       1), encoding="utf-8")
    sha = ce.sd.record_model_hash(registry)
    assert sha == file_sha256(mdl)
    meta = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    assert meta["mdl_sha256"] == sha
    assert [(row["version"], row["mdl_sha256"] == sha) for row in meta["history"]] == [
        ("1.0.0", False), ("1.1.0", True)]
    assert len(meta["parameter"]) == 2  # the rest of the file is untouched
    model = ce.load_model("sir_copy")
    assert model.version == "1.1.0"
    assert model.parameters.set_index("name").loc["contact_infectivity", "value"] == 0.3
    with pytest.raises(ModelVersionError, match=r"known versions from \[\[history\]\] .*: 1\.0\.0, 1\.1\.0"):
        ce.load_model("sir_copy", version="1.0.0")


def test_toml_parameter_that_is_not_a_constant_is_reported(registry):
    toml_path = registry / "model.toml"
    toml_path.write_text(toml_path.read_text(encoding="utf-8").replace('name = "duration"',
                                                                       'name = "durration"'), encoding="utf-8")
    with pytest.raises(UnknownNameError, match=r"'durration' is not a constant of sir_copy\.mdl .*"
                                               r"Did you mean 'duration'\?"):
        ce.load_model("sir_copy")


def test_hash_re_recorded_without_version_bump_is_refused(registry):
    mdl, toml_path = registry / "sir_copy.mdl", registry / "model.toml"
    old = file_sha256(mdl)
    mdl.write_text(mdl.read_text(encoding="utf-8").replace("0.3", "0.35", 1), encoding="utf-8")
    new = file_sha256(mdl)
    text = toml_path.read_text(encoding="utf-8")
    toml_path.write_text(text.replace(f'mdl_sha256 = "{old}"', f'mdl_sha256 = "{new}"', 1), encoding="utf-8")
    with pytest.raises(ModelVersionError, match=rf"^sir_copy 1\.0\.0 was released with sha256 {old} .* now say "
                                                rf"{new}: the hash was re-recorded without a version bump\."):
        ce.load_model("sir_copy")


def test_missing_history_row_is_reported(registry):
    toml_path = registry / "model.toml"
    text = toml_path.read_text(encoding="utf-8")
    toml_path.write_text(text[: text.index("[[history]]")], encoding="utf-8")
    with pytest.raises(ModelVersionError, match=r"has no \[\[history\]\] row for its current version 1\.0\.0: run "
                                                r"cluster_econ\.sd\.record_model_hash\("):
        ce.load_model("sir_copy")
    ce.sd.record_model_hash(registry)
    assert ce.load_model("sir_copy").version == "1.0.0"
