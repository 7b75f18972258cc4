"""Shared fixtures of the model tests: each model is translated by PySD once per session.

The ``.mdl`` files are copied to a temporary folder before translation, so PySD's generated ``.py``
never lands in ``models/``. ``fresh(model_id)`` loads a new PySD model from the cached translation
for every run: PySD keeps parameters set by ``run(params=...)``, and a fresh load rules out leaks
between tests.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pysd
import pytest

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
MODEL_IDS = ["cluster_investment", "sme_growth", "knowledge_spillover", "stakeholder_alignment", "regional_cluster"]


def mdl_path(model_id: str) -> Path:
    """Committed Vensim source of ``model_id``."""
    return MODELS / model_id / f"{model_id}.mdl"


@pytest.fixture(scope="session")
def translated(tmp_path_factory) -> Callable[[str], Path]:
    """Return the path of the PySD translation of a model, translating it at first use."""
    cache: dict[str, Path] = {}
    root = tmp_path_factory.mktemp("pysd_models")

    def get(model_id: str) -> Path:
        if model_id not in cache:
            folder = root / model_id
            folder.mkdir()
            src = folder / f"{model_id}.mdl"
            shutil.copy(mdl_path(model_id), src)
            pysd.read_vensim(str(src))
            cache[model_id] = src.with_suffix(".py")
        return cache[model_id]

    return get


@pytest.fixture(scope="session")
def fresh(translated) -> Callable[[str], pysd.py_backend.model.Model]:
    """Return a freshly loaded PySD model (no parameters left over from other runs)."""

    def get(model_id: str):
        return pysd.load(str(translated(model_id)))

    return get


def run_model(model, *, params: dict | None = None, columns: list[str] | None = None, **kwargs) -> pd.DataFrame:
    """``model.run`` with PySD's warnings about replaced stocks silenced (extreme-condition tests)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Replacing", category=UserWarning)
        return model.run(params=params or {}, return_columns=columns, **kwargs)


def by_element(frame: pd.DataFrame, name: str, time: float) -> pd.Series:
    """Values of subscripted ``name`` at ``time``, indexed by subscript element."""
    row = frame.loc[time]
    cols = [c for c in frame.columns if c.startswith(name + "[")]
    return pd.Series([row[c] for c in cols], index=[c[len(name) + 1:-1] for c in cols], name=name)


@pytest.fixture(scope="session")
def regional_runs(fresh) -> Callable[..., pd.DataFrame]:
    """Run regional_cluster to 2000 for a set of parameter changes, caching each scenario."""
    cache: dict[tuple, pd.DataFrame] = {}
    columns = ["sme_employment", "employment", "alignment", "knowledge_stock", "knowledge_intensity",
               "cumulative_public_spend", "sme_seat_share", "exchange_group", "public_capital", "output"]

    def get(**params: float) -> pd.DataFrame:
        key = tuple(sorted(params.items()))
        if key not in cache:
            cache[key] = run_model(fresh("regional_cluster"), params=params, columns=columns)
        return cache[key]

    return get
