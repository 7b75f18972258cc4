"""ce.cite: a methods sentence and BibTeX for every result and model; CITATION.cff and .zenodo.json."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import cluster_econ as ce
from cluster_econ._cite import PACKAGE

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
FORMULA = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"
REQUIRED = {  # the fields BibTeX's standard styles require for each entry type
    "article": {"author", "title", "journal", "year", "volume", "pages"},
    "incollection": {"author", "title", "booktitle", "publisher", "year", "pages"},
    "book": {"author", "title", "publisher", "year"},
    "phdthesis": {"author", "title", "school", "year"},
}


def _entries(text: str) -> dict[str, str]:
    return {m.group(2): m.group(1) for m in re.finditer(r"^@(\w+)\{([^,]+),", text, re.MULTILINE)}


@pytest.mark.parametrize("name", ce.list_datasets()["name"].tolist())
def test_every_dataset_cites_its_original_study_as_a_proper_entry(name):
    meta = tomllib.loads((ce.data_dir() / f"{name}.toml").read_text(encoding="utf-8"))
    assert meta["reference"], name
    for ref in meta["reference"]:
        assert REQUIRED[ref["type"]] <= set(ref), (name, ref["key"])
    text = ce.cite(ce.load_dataset(name))
    entries = _entries(text)
    assert "misc" not in entries.values()
    assert {ref["key"]: ref["type"] for ref in meta["reference"]}.items() <= entries.items()


def test_us_states_cites_munnells_regional_paper_not_the_national_one():
    meta = tomllib.loads((ce.data_dir() / "us_states.toml").read_text(encoding="utf-8"))
    (ref,) = meta["reference"]
    assert ref["title"] == "How Does Public Infrastructure Affect Regional Economic Performance?"
    assert ref["booktitle"] == "Is There a Shortfall in Public Capital Investment?"
    assert (ref["series"], ref["number"]) == ("Conference Series", "34")
    assert ref["publisher"] == "Federal Reserve Bank of Boston"
    assert "Why has productivity growth declined" not in meta["citation"]


def test_cite_a_run_names_model_engine_horizon_and_changes():
    run = ce.simulate("regional_cluster", params={"public_investment_share": 0.02}, final_time=1990,
                      outputs=["employment"])
    model = run.model
    text = ce.cite(run)
    sentence = text.split("\n\n")[0]
    assert f"We simulated model regional_cluster {model.version} (sha256 {model.sha256[:12]})" in sentence
    assert "the batch engine (euler) over 1970-1990, time step 0.25" in sentence
    assert "changing public_investment_share = 0.02" in sentence
    entries = _entries(text)
    key = f"regional_cluster_{model.version.replace('.', '_')}"
    assert entries == {"cluster_econ": "software", key: "software"}
    assert f"version = {{{model.version}}}" in text
    assert model.sha256 in text


# the 48-region model takes seconds to translate and compile: its one-region module in the quick loop
@pytest.mark.parametrize(("model_id", "sha"), [
    ("cluster_investment", "89d802fa4c9e"), pytest.param("regional_cluster", "df8afcd9fa3b", marks=pytest.mark.slow)])
def test_cite_a_batch_and_an_old_model_version(model_id, sha):
    old = ce.load_model(model_id, version="1.0.0")
    batch = ce.simulate_batch(old, pd.DataFrame({"public_investment_share": [0.0, 0.02]}), outputs=["employment"])
    text = ce.cite(batch)
    assert text.startswith(f"We simulated 2 scenarios of model {model_id} 1.0.0 (sha256 {sha}) with the "
                           "batch engine (euler), varying public_investment_share.")
    assert f"@software{{{model_id}_1_0_0" in text
    model_text = ce.cite(old)
    assert model_text.startswith(f"We used the stock-and-flow model {model_id} 1.0.0 (sha256 {sha})")
    assert "note = {Model file sha256 " + old.sha256 in model_text


def test_cite_an_estimate_names_estimator_effects_errors_and_the_study():
    fe = ce.panel_ols(FORMULA, ce.load_dataset("us_states"), effects=("entity",))
    sentence, *entries = ce.cite(fe).split("\n\n")
    assert sentence.startswith(f"We estimated {FORMULA} by Within (entity effects; standard errors clustered by "
                               "entity), on dataset us_states (sha256 5e71babeca1d; Munnell 1990).")
    assert _entries("\n\n".join(entries)) == {"cluster_econ": "software", "munnell1990regional": "incollection"}


def test_package_metadata_agrees_everywhere():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    zenodo = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["title"] == zenodo["title"] == PACKAGE["title"]
    assert str(cff["version"]) == zenodo["version"] == project["version"]
    assert [a["name"] for a in cff["authors"]] == [c["name"] for c in zenodo["creators"]] == PACKAGE["authors"]
    assert cff["license"] == zenodo["license"] == project["license"] == PACKAGE["license"]
    assert str(cff["date-released"]) == zenodo["publication_date"]
    assert int(str(cff["date-released"])[:4]) == PACKAGE["year"]
    assert cff["abstract"] == zenodo["description"]
