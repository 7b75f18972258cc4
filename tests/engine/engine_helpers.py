"""Helpers shared by the batch-engine tests (imported as ``engine_helpers``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cluster_econ.sd.engine import pysd_frame  # noqa: F401 - re-exported for the engine tests

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


def require_test_models() -> Path:
    """The shared test-model suite; skipped when it is absent, except in CI (``CI`` set), where it fails."""
    if not (TEST_MODELS / "manifest.csv").is_file():
        message = f"the shared test-models folder is absent (looked in {TEST_MODELS})"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must provide it")
        pytest.skip(message)
    return TEST_MODELS
