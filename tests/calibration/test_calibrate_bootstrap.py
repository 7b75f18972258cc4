"""Region block bootstrap and determinism: same seed, same bytes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cal_helpers import MODEL_PATH, TARGETS, TRUTH, synthetic_panel

import cluster_econ as ce

PARAMS = {"saving_rate": (0.05, 0.5), "employment_adjustment_time": (0.5, 8.0)}
FIXED = {"depreciation_rate": TRUTH["depreciation_rate"]}


@pytest.fixture(scope="module")
def panel():
    return synthetic_panel(sigma=0.03, rho=0.6, seed=11)


@pytest.fixture(scope="module")
def boot(panel):
    return ce.calibrate(MODEL_PATH, panel, targets=TARGETS, parameters=PARAMS, fixed=FIXED, cov_type="bootstrap",
                        n_boot=40, seed=7)


def test_bootstrap_standard_errors_agree_with_clustered(panel, boot):
    clustered = ce.calibrate(MODEL_PATH, panel, targets=TARGETS, parameters=PARAMS, fixed=FIXED)
    pd.testing.assert_series_equal(boot.params, clustered.params, rtol=1e-12)
    ratio = boot.std_errors / clustered.std_errors
    assert ((ratio > 0.4) & (ratio < 2.5)).all(), ratio
    draws = boot.bootstrap
    assert draws.shape == (40, 2)
    np.testing.assert_allclose(draws.std(ddof=1).to_numpy(), boot.std_errors.to_numpy(), rtol=1e-12)
    assert draws.nunique().min() > 30  # every resample refitted to its own estimate
    assert boot.df_inference is None


def test_same_seed_same_bytes(panel, boot):
    again = ce.calibrate(MODEL_PATH, panel, targets=TARGETS, parameters=PARAMS, fixed=FIXED, cov_type="bootstrap",
                         n_boot=40, seed=7)
    for name, frame in boot.to_frames().items():
        other = again.to_frames()[name]
        assert pd.util.hash_pandas_object(frame).equals(pd.util.hash_pandas_object(other)), name
    other_seed = ce.calibrate(MODEL_PATH, panel, targets=TARGETS, parameters=PARAMS, fixed=FIXED,
                              cov_type="bootstrap", n_boot=40, seed=8)
    assert not np.array_equal(other_seed.bootstrap.to_numpy(), boot.bootstrap.to_numpy())


def test_multistart_is_deterministic(panel):
    runs = [ce.calibrate(MODEL_PATH, panel, targets=TARGETS, parameters=PARAMS, fixed=FIXED, n_starts=3, seed=4)
            for _ in range(2)]
    assert runs[0].starts.equals(runs[1].starts)
    assert runs[0].params.to_numpy().tobytes() == runs[1].params.to_numpy().tobytes()
