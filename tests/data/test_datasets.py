"""The bundled datasets: shapes, identities, provenance and tamper detection."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import DataValidationError, UnknownNameError

EXPECTED = {  # name: (entities, periods, observations, balanced)
    "us_states": (48, 17, 816, True),
    "uk_firms": (140, 9, 1031, False),
    "firm_patents": (181, 9, 1629, True),
    "mi_training_grants": (157, 3, 471, True),
    "in_enterprise_zones": (22, 9, 198, True),
    "grunfeld": (10, 20, 200, True),
}


def test_list_datasets_names_every_bundled_dataset() -> None:
    table = ce.list_datasets()
    assert list(table.columns) == ["name", "title", "entities", "periods", "observations", "citation"]
    assert sorted(table["name"]) == sorted(EXPECTED)
    assert table.set_index("name").loc["us_states", "citation"].startswith("Munnell, A. H. (1990)")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dataset_shape_and_metadata(name: str) -> None:
    panel = ce.load_dataset(name)
    desc = panel.describe()
    assert (desc.entities, desc.periods, desc.observations, desc.balanced) == EXPECTED[name]
    assert panel.provenance.dataset == name
    assert len(panel.provenance.dataset_sha256) == 64
    assert panel.metadata["citation"]
    assert set(panel.units) == set(panel.variables)
    assert all(panel.metadata["variables"][v]["description"] for v in panel.variables)


def test_us_states_headline_matches_the_demo() -> None:
    assert ce.load_dataset("us_states").describe().headline() == (
        "48 entities (state), 17 periods (year 1970-1986), 816 observations, balanced"
    )


def test_us_states_pcap_is_public_capital() -> None:
    frame = ce.load_dataset("us_states").frame
    # pcap = hwy + water + util to the rounding of the published figures (two decimals each)
    assert_allclose(frame["pcap"], frame["hwy"] + frame["water"] + frame["util"], rtol=0, atol=0.02)
    # and it is not private capital, which is larger in every state-year
    assert (frame["pc"] > frame["pcap"]).mean() > 0.9


def test_uk_firms_logs_match_levels() -> None:
    frame = ce.load_dataset("uk_firms").frame
    for log_name, level in (("n", "emp"), ("w", "wage"), ("k", "capital"), ("ys", "output")):
        assert_allclose(frame[log_name], np.log(frame[level]), rtol=1e-14, atol=0)


def test_unknown_dataset_suggests_a_name_and_lists_all() -> None:
    with pytest.raises(UnknownNameError, match=r"'us_state' is not a dataset\. Did you mean 'us_states'\?"):
        ce.load_dataset("us_state")
    with pytest.raises(UnknownNameError, match=r"Available datasets: firm_patents, grunfeld, .*us_states"):
        ce.load_dataset("census")


def test_a_tampered_csv_is_refused_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(ce.data_dir() / "grunfeld.toml", tmp_path)
    text = (ce.data_dir() / "grunfeld.csv").read_text().replace("317.6", "317.7", 1)
    (tmp_path / "grunfeld.csv").write_text(text)
    monkeypatch.setenv("CLUSTER_ECON_DATA", str(tmp_path))
    with pytest.raises(DataValidationError, match=r"grunfeld\.csv has sha256 [0-9a-f]{64}, but grunfeld\.toml"
                       r" records .*--rehash grunfeld"):
        ce.load_dataset("grunfeld")


def test_loading_is_deterministic() -> None:
    a, b = ce.load_dataset("firm_patents"), ce.load_dataset("firm_patents")
    assert a.equals(b)
    assert a.provenance.dataset_sha256 == b.provenance.dataset_sha256
