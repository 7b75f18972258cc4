"""The real thing: regional_cluster calibrated to the 48 states of us_states."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import cluster_econ as ce

# names chosen to survive model revisions: outputs guaranteed by the model, parameters from the literature table
# that move a target (with replacement ratio 1 the baseline public capital does not depend on its depreciation rate)
TARGETS = {"output": "gsp", "employment": "emp", "public_capital": "pcap", "private_capital": "pc"}
PARAMETERS = ["public_capital_replacement_ratio", "private_capital_depreciation_rate"]


@pytest.mark.slow
def test_regional_cluster_fit_to_us_states_improves_on_the_model_values():
    model = ce.load_model("regional_cluster")
    panel = ce.load_dataset("us_states")
    weights = dict.fromkeys(TARGETS, 1.0)  # fixed weights: the objective before and after is the same sum
    res = ce.calibrate(model, panel, targets=TARGETS, parameters=PARAMETERS, holdout=(1981, 1986), weights=weights)
    assert res.converged
    assert set(res.residuals["region"]) == {str(s) for s in panel.entities}  # all 48 states matched
    # the fit at the model's own values, from the same residual frame layout
    run = ce.simulate(model, final_time=1986, outputs=list(TARGETS))
    fit_rows = res.residuals[res.residuals["sample"] == "fit"]
    before, after = {}, {}
    for target, part in fit_rows.groupby("target"):
        values = run.data[target].sel(time=xr.DataArray(part["time"].to_numpy()),
                                      Region=xr.DataArray(part["region"].to_numpy())).values
        observed = part["observed"].to_numpy(dtype=float)
        before[target] = float(np.sum((np.log(values) - np.log(observed)) ** 2))
        after[target] = float(np.sum((np.log(part["simulated"].to_numpy(dtype=float)) - np.log(observed)) ** 2))
    # the least-squares objective (log loss, unit weights) at the fit is no larger than at the model's values
    assert sum(after.values()) <= sum(before.values()) * (1 + 1e-9), (before, after)
    assert np.isfinite(res.std_errors).all()
    assert (res.std_errors > 0).all()
    lower, upper = res.parameters["lower"], res.parameters["upper"]
    assert ((res.params >= lower) & (res.params <= upper)).all()
    assert len(res.holdout_fit) == len(TARGETS)
    assert (res.holdout_fit["n"] == 48 * 6).all()
