"""Helpers shared by the batch-engine tests (imported as ``engine_helpers``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

REPO = Path(__file__).resolve().parents[2]
TEST_MODELS = REPO.parent / "shared" / "test-models"
#: vendored copies of a few reference models (tests/fixtures/sdmodels/README.md), present in every clone
FIXTURES = REPO / "tests" / "fixtures" / "sdmodels"
SIR = FIXTURES / "SIR.mdl"
SUBSCRIPT_2D = FIXTURES / "test_subscript_2d_arrays.mdl"
CONTROL_VARS = FIXTURES / "test_control_vars.mdl"


def control_section(final_time: float, saveper: float, time_step: float, initial_time: float = 0) -> str:
    """The ``.Control`` group and sketch marker that end a Vensim ``.mdl`` written by a test."""
    rows = {"FINAL TIME": final_time, "INITIAL TIME": initial_time, "SAVEPER": saveper, "TIME STEP": time_step}
    equations = "".join(f"{name} = {value:g}\n\t~\n\t~\t\t|\n" for name, value in rows.items())
    return ("********************************************************\n\t.Control\n"
            "********************************************************~\n\t\tSimulation Control Parameters\n\t|\n\n"
            + equations + "\n\\\\\\---/// Sketch information - do not modify anything except names\n")


def pysd_frame(ds: xr.Dataset, scenario: int = 0) -> pd.DataFrame:
    """One scenario of an engine result as a frame with PySD's flattened column names."""
    one = ds.isel(scenario=scenario)
    cols: dict[str, np.ndarray] = {}
    for name, da in one.data_vars.items():
        label = da.attrs["vensim_name"]
        if da.ndim == 1:
            cols[label] = da.values
            continue
        dims = da.dims[1:]
        values = da.values.reshape(da.shape[0], -1)
        for i, idx in enumerate(np.ndindex(*da.shape[1:])):
            elems = [str(da[d].values[k]) for d, k in zip(dims, idx, strict=True)]
            cols[f"{label}[{','.join(elems)}]"] = values[:, i]
        _ = name
    return pd.DataFrame(cols, index=pd.Index(one["time"].values, name="time"))


def require_test_models() -> Path:
    """The shared test-model suite; skipped when it is absent, except in CI (``CI`` set), where it fails."""
    if not (TEST_MODELS / "manifest.csv").is_file():
        message = f"the shared test-models folder is absent (looked in {TEST_MODELS})"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must provide it")
        pytest.skip(message)
    return TEST_MODELS
