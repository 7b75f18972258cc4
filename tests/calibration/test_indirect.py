"""Indirect inference: a dynamic panel regression of unemployment on simulated panels recovers an adjustment time."""

from __future__ import annotations

import pytest
from cal_helpers import MODEL_PATH, TRUTH, synthetic_panel

import cluster_econ as ce
from cluster_econ.errors import ClusterEconWarning, SpecError


def _moments(panel):
    return ce.panel_ols("unemp ~ lag(unemp)", panel, effects=("entity",))


@pytest.mark.slow
def test_indirect_inference_recovers_the_adjustment_time_within_two_standard_errors():
    panel = synthetic_panel({**TRUTH, "employment_adjustment_time": 2.0}, sigma=0.02, rho=0.6, seed=21)
    fixed = {k: v for k, v in TRUTH.items() if k != "employment_adjustment_time"}
    with pytest.warns(ClusterEconWarning, match="clustered by entity rest on 8 entities"):  # the moments' SEs
        res = ce.calibrate(MODEL_PATH, panel, targets={"unemployment_rate": ("unemp", 100)}, method="indirect",
                           moments=_moments, parameters={"employment_adjustment_time": (0.5, 8.0)}, fixed=fixed,
                           n_sim=2, start={"employment_adjustment_time": 5.0})
    tau, se = res.params["employment_adjustment_time"], res.std_errors["employment_adjustment_time"]
    assert res.converged
    assert res.method == "indirect"
    assert abs(tau - 2.0) < 2 * se, (tau, se)
    assert 0 < se < 0.5  # informative: a small part of the width 7.5 of the bounds
    moments = res.moments.set_index("term")
    # at the estimate the simulated regression reproduces the real one within its standard errors
    assert (moments["difference"].abs() < moments["std_error"]).all()
    details = res.provenance.details
    assert details["call"]["arguments"]["moments"]["formula"] == "unemp ~ lag(unemp)"
    assert details["n_sim"] == 2
    assert details["noise"]["target"] == ["unemployment_rate"]
    assert 0.3 < details["noise"]["rho"][0] < 0.9  # the AR(1) noise of the data is found in the pilot residuals


def test_indirect_options():
    panel = synthetic_panel()
    with pytest.raises(SpecError, match="method='indirect' needs moments="):
        ce.calibrate(MODEL_PATH, panel, targets={"employment": "emp"}, method="indirect",
                     parameters={"employment_adjustment_time": (0.5, 8.0)})
    with pytest.raises(SpecError, match="cov_type='bootstrap' is not available with method='indirect'"):
        ce.calibrate(MODEL_PATH, panel, targets={"employment": "emp"}, method="indirect", moments=_moments,
                     cov_type="bootstrap", parameters={"employment_adjustment_time": (0.5, 8.0)})
