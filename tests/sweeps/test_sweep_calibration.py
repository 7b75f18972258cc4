"""Uncertainties drawn jointly from a real calibration (ce.calibrate on a synthetic panel)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "calibration"))
from cal_helpers import BOUNDS, MODEL_PATH, TARGETS, synthetic_panel


@pytest.mark.slow
def test_sweep_over_a_calibrations_joint_uncertainty() -> None:
    model = ce.load_model(MODEL_PATH)
    cal = ce.calibrate(model, synthetic_panel(sigma=0.03, rho=0.6, seed=3), targets=TARGETS, parameters=BOUNDS)
    unc = ce.uncertainties_from(cal)
    names = list(cal.params.index)
    assert [u.name for u in unc] == names
    for u in unc:
        assert (u.lower, u.upper) == BOUNDS[u.name]
        assert_allclose(u.params["mean"], cal.params[u.name], rtol=1e-12, atol=0)
        assert_allclose(u.params["sd"], np.sqrt(cal.cov.loc[u.name, u.name]), rtol=1e-12, atol=0)
    res = ce.sweep(model, uncertainties=unc, outcomes=[ce.Outcome("output", reduce="sum")], n=4000, seed=2)
    exp = res.experiments
    corr = cal.cov.to_numpy() / np.outer(np.sqrt(np.diag(cal.cov)), np.sqrt(np.diag(cal.cov)))
    # the draws are truncated to the bounds; far from them their correlation is the calibration's
    assert_allclose(exp[names].corr().to_numpy(), corr, rtol=0, atol=0.06)
    assert_allclose(exp[names].mean().to_numpy(), cal.params[names].to_numpy(), rtol=0.02, atol=0)
    for name in names:
        assert exp[name].between(*BOUNDS[name]).all()
    assert res.outcomes["output"].notna().all()
