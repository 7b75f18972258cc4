"""The real thing: regional_cluster calibrated to the 48 states of us_states."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import cluster_econ as ce

# names chosen to survive model revisions: outputs guaranteed by the model, parameters from the literature table
TARGETS = {"output": "gsp", "employment": "emp", "public_capital": "pcap", "private_capital": "pc"}
PARAMETERS = ["public_capital_depreciation_rate", "private_capital_depreciation_rate"]


@pytest.mark.slow
def test_regional_cluster_fit_to_us_states_improves_on_the_model_values():
    model = ce.load_model("regional_cluster")
    panel = ce.load_dataset("us_states")
    res = ce.calibrate(model, panel, targets=TARGETS, parameters=PARAMETERS, holdout=(1981, 1986))
    assert res.converged
    assert set(res.residuals["region"]) == {str(s) for s in panel.entities}  # all 48 states matched
    # the fit at the model's own values, from the same residual frame layout
    run = ce.simulate(model, final_time=1986, outputs=list(TARGETS))
    fit_rows = res.residuals[res.residuals["sample"] == "fit"]
    before = {}
    for target, part in fit_rows.groupby("target"):
        values = run.data[target].sel(time=xr.DataArray(part["time"].to_numpy()),
                                      Region=xr.DataArray(part["region"].to_numpy())).values
        before[target] = float(np.mean(np.abs(values - part["observed"]) / part["observed"]) * 100)
    weighted_before = sum(before[t] for t in TARGETS)
    weighted_after = float(res.fit.loc[list(TARGETS), "mape"].sum())
    assert weighted_after <= weighted_before + 1e-9, (before, res.fit["mape"].to_dict())
    assert np.isfinite(res.std_errors).all() and (res.std_errors > 0).all()
    lower, upper = res.parameters["lower"], res.parameters["upper"]
    assert ((res.params >= lower) & (res.params <= upper)).all()
    assert len(res.holdout_fit) == len(TARGETS) and (res.holdout_fit["n"] == 48 * 6).all()
