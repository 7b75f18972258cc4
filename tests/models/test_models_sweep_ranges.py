"""Every model stays finite for parameters drawn anywhere within the bounds its model.toml declares.

A sweep samples exactly these ranges, so a draw that overflows is a defect of the model or of its
declared bounds. Checked on the batch engine (identical to PySD to round-off, see tests/engine).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from models_helpers import MODEL_IDS
from robustness import check_draws, robustness_draws

import cluster_econ as ce

DRAWS = 200


def draws_within_bounds(model: ce.SDModel, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = model.parameters
    bounded = table[np.isfinite(table["lower"]) & np.isfinite(table["upper"])]
    return pd.DataFrame({row.name: rng.uniform(row.lower, row.upper, n) for row in bounded.itertuples()})


def non_finite_share(model_id: str) -> tuple[float, list[str]]:
    model = ce.load_model(model_id)
    scenarios = draws_within_bounds(model, DRAWS, seed=20261127)
    result = ce.simulate_batch(model, scenarios, saveper=5)
    bad = np.zeros(DRAWS, dtype=bool)
    culprits = []
    for name, values in result.data_vars.items():
        if values.dtype.kind != "f" or "scenario" not in values.dims:
            continue
        flat = ~np.isfinite(values.transpose("scenario", ...).values.reshape(DRAWS, -1)).all(axis=1)
        if flat.any():
            culprits.append(str(name))
        bad |= flat
    return float(bad.mean()), culprits


@pytest.mark.parametrize("model_id", [m for m in MODEL_IDS if m != "regional_cluster"])
@pytest.mark.slow
def test_module_stays_finite_across_its_declared_ranges(model_id: str) -> None:
    share, culprits = non_finite_share(model_id)
    assert share == 0.0, f"{share:.1%} of {DRAWS} draws within bounds overflow; first variables: {culprits[:5]}"


#: draws of the suite's regional_cluster check; the full 1,000 + 1,000 is benchmarks/bench_regional_robustness.py
REGIONAL_DRAWS = int(os.environ.get("CLUSTER_ECON_ROBUSTNESS_DRAWS", "100"))


@pytest.mark.slow
@pytest.mark.parametrize("final_time", [2000.0, 2030.0])
def test_regional_cluster_is_robust_across_its_declared_ranges(final_time: float) -> None:
    """Interior and corner draws plus all-lower / all-upper: finite, stocks >= 0, shares in [0, 1]."""
    model = ce.load_model("regional_cluster")
    draws = robustness_draws(model, REGIONAL_DRAWS, seed=20261201)
    assert len(draws) == 2 * REGIONAL_DRAWS + 2
    failures = check_draws(model, draws, final_time=final_time)
    assert failures == [], f"{len(failures)} of {len(draws)} draws fail to {final_time:g}: {failures[:5]}"
