from __future__ import annotations

from pathlib import Path

import pytest

import cluster_econ as ce

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sdmodels"


@pytest.fixture(scope="session")
def toy() -> ce.SDModel:
    return ce.load_model(FIXTURES / "policy_toy.mdl")


@pytest.fixture(scope="session")
def ishigami() -> ce.SDModel:
    return ce.load_model(FIXTURES / "ishigami.mdl")


@pytest.fixture(scope="session")
def linear3() -> ce.SDModel:
    return ce.load_model(FIXTURES / "linear3.mdl")


@pytest.fixture(scope="session")
def regional() -> ce.SDModel:
    return ce.load_model("regional_cluster")
