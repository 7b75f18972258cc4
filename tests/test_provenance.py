"""Provenance records, versions and citations."""

from __future__ import annotations

import dataclasses

import pytest

import cluster_econ as ce
from cluster_econ.errors import SpecError, UnknownNameError, unknown_name


def test_show_versions_lists_the_tracked_packages() -> None:
    text = ce.show_versions()
    for package in ("python", "cluster-econ", "numpy", "pandas", "statsmodels", "pysd"):
        assert package in text


def test_provenance_is_frozen_and_serialisable() -> None:
    prov = ce.Provenance.capture(dataset="x", dataset_sha256="ab" * 32, seed=3, details={"a": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        prov.seed = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        prov.details["b"] = 2  # type: ignore[index]
    assert prov.to_dict()["details"] == {"a": 1}
    assert prov.replace(details={"b": 2}).details == {"a": 1, "b": 2}
    assert ("Seed:", "3") in prov.lines()
    assert all(label != "created" for label, _ in prov.lines())


def test_cite_names_the_dataset_and_gives_bibtex() -> None:
    text = ce.cite(ce.load_dataset("grunfeld"))
    assert "dataset grunfeld (sha256" in text
    assert "@software{cluster_econ" in text
    assert "Baltagi" in text
    with pytest.raises(SpecError, match="needs an object with a provenance record; got int"):
        ce.cite(3)


def test_unknown_name_lists_candidates_when_nothing_is_close() -> None:
    error = unknown_name("zzz", ["alpha", "beta"], "option")
    assert isinstance(error, UnknownNameError)
    assert isinstance(error, KeyError)
    assert str(error) == "'zzz' is not an option. Valid options: 'alpha', 'beta'."
