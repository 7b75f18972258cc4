"""calibrate(): recovery of known parameters, covariance, multi-start, holdout, results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cal_helpers import BOUNDS, MODEL_PATH, TARGETS, TRUTH, synthetic_panel
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import IdentificationWarning


@pytest.fixture(scope="module")
def model():
    return ce.load_model(MODEL_PATH)


@pytest.fixture(scope="module")
def exact(model):
    return ce.calibrate(model, synthetic_panel(), targets=TARGETS, parameters=BOUNDS)


@pytest.fixture(scope="module")
def noisy_panel():
    return synthetic_panel(sigma=0.03, rho=0.6, seed=3)


def test_noise_free_recovery_to_1e_6(exact):
    assert exact.converged
    assert_allclose(exact.params[list(TRUTH)].to_numpy(), list(TRUTH.values()), rtol=1e-6, atol=0)
    assert exact.cost < 1e-12
    assert (exact.fit["mape"] < 1e-6).all()


def test_noise_free_recovery_from_other_start_with_level_loss(model):
    res = ce.calibrate(model, synthetic_panel(), targets=TARGETS, parameters=BOUNDS, loss="level",
                       start={"saving_rate": 0.12, "depreciation_rate": 0.1, "employment_adjustment_time": 1.0})
    assert_allclose(res.params[list(TRUTH)].to_numpy(), list(TRUTH.values()), rtol=1e-6, atol=0)


def test_clustered_standard_errors_are_sane(model, noisy_panel):
    res = ce.calibrate(model, noisy_panel, targets=TARGETS, parameters={
        "saving_rate": (0.05, 0.5), "employment_adjustment_time": (0.5, 8.0)},
        fixed={"depreciation_rate": TRUTH["depreciation_rate"]})
    un = ce.calibrate(model, noisy_panel, targets=TARGETS, parameters={
        "saving_rate": (0.05, 0.5), "employment_adjustment_time": (0.5, 8.0)},
        fixed={"depreciation_rate": TRUTH["depreciation_rate"]}, cov_type="unadjusted")
    assert_allclose(res.params.to_numpy(), un.params.to_numpy(), rtol=1e-12)
    # positive, finite, and the truth within a few standard errors
    assert (res.std_errors > 0).all() and np.isfinite(res.std_errors).all()
    z = (res.params - pd.Series(TRUTH)[res.params.index]) / res.std_errors
    assert (z.abs() < 4).all()
    # AR(1) residuals within regions: clustering widens the iid intervals
    assert (res.std_errors > un.std_errors).all()
    assert res.df_inference == 7.0  # 8 regions - 1
    ci = res.conf_int()
    assert (ci["lower"] < res.params).all() and (ci["upper"] > res.params).all()
    # the residuals of a trajectory are autocorrelated: Durbin-Watson far below 2
    assert (res.fit["durbin_watson"] < 1.5).all()
    # the sandwich by hand from the residual frame's ingredients is symmetric positive definite
    assert np.all(np.linalg.eigvalsh(res.cov.to_numpy()) > 0)


def test_multistart_all_in_lockstep_reach_the_same_optimum(model, noisy_panel):
    res = ce.calibrate(model, noisy_panel, targets=TARGETS, parameters=BOUNDS, n_starts=4, seed=5)
    starts = res.starts
    assert len(starts) == 4 and list(starts["origin"]) == ["model values"] + ["latin hypercube"] * 3
    assert starts["best"].sum() == 1
    assert starts["same_optimum"].sum() >= 3
    assert res.converged


def test_holdout_is_left_out_and_reported(model, noisy_panel):
    res = ce.calibrate(model, noisy_panel, targets=TARGETS, parameters={"saving_rate": (0.05, 0.5)},
                       fixed={"depreciation_rate": 0.05, "employment_adjustment_time": 3.0}, holdout=(1983, 1986))
    held = res.residuals[res.residuals["sample"] == "holdout"]
    assert set(held["time"]) == {1983.0, 1984.0, 1985.0, 1986.0}
    assert (res.holdout_fit["n"] == 8 * 4).all()
    assert (res.fit["n"] == 8 * 13).all()
    assert list(res.holdout_fit.index) == list(TARGETS)


def test_collinear_parameters_are_named(model, noisy_panel):
    targets = {"output": "gsp", "employment": "emp"}
    with pytest.warns(IdentificationWarning, match="saving_rate and depreciation_rate"):
        ce.calibrate(model, noisy_panel, targets=targets, parameters=BOUNDS)


def test_parameter_without_effect_is_named_and_has_no_standard_error(model, noisy_panel):
    with pytest.warns(IdentificationWarning, match=r"rank-deficient.*\['saving_rate'\]"):
        res = ce.calibrate(model, noisy_panel, targets={"employment": "emp"}, parameters={
            "saving_rate": (0.05, 0.5), "employment_adjustment_time": (0.5, 8.0)})
    assert np.isnan(res.std_errors["saving_rate"])
    assert np.isfinite(res.std_errors["employment_adjustment_time"])


def test_fitted_values_feed_simulate(model, exact):
    run = ce.simulate(model, params=exact, final_time=1986, outputs=["output"])
    res = exact.residuals
    obs = res[(res["target"] == "output") & (res["region"] == "OHIO")].set_index("time")["observed"]
    assert_allclose(run.data["output"].sel(Region="OHIO").values, obs.to_numpy(), rtol=1e-9)
    assert exact.to_params() == {k: float(v) for k, v in exact.params.items()}


def test_result_is_frozen_and_hands_out_copies(exact):
    params = exact.params
    params.iloc[0] = -1
    assert exact.params.iloc[0] != -1
    with pytest.raises(AttributeError):
        exact.converged = False  # type: ignore[misc]


def test_result_rebuilds_from_frames_and_provenance(exact):
    again = ce.CalibrationResult.from_frames(exact.to_frames(), exact.provenance)
    pd.testing.assert_frame_equal(again.to_frame(), exact.to_frame())
    pd.testing.assert_frame_equal(again.fit, exact.fit)
    assert str(again.summary()) == str(exact.summary())
    call = exact.provenance.details["call"]
    assert call["verb"] == "calibrate"
    assert call["arguments"]["model"]["path"].endswith("regional_growth.mdl")
    assert call["arguments"]["panel"]["dataset"] == "synthetic_growth"
    assert call["arguments"]["parameters"]["saving_rate"] == [0.05, 0.5]
    import json

    json.dumps(call)  # plain data


def test_summary_and_html_show_no_wall_clock(exact):
    text = str(exact.summary())
    assert exact.provenance.created not in text
    assert "saving_rate" in text and "durbin_watson" in text and "clustered" in text
    assert "<table" in exact._repr_html_()
    assert "calibration" in ce.cite(exact)


def test_to_model_toml_rows(exact):
    import tomllib

    rows = tomllib.loads(exact.to_model_toml())["parameter"]
    assert [r["name"] for r in rows] == list(exact.params.index)
    assert all(r["kind"] == "calibrated" for r in rows)
    row = rows[0]
    assert row["value"] == exact.params.iloc[0] and row["unit"] == "Dmnl"
    assert (row["lower"], row["upper"]) == BOUNDS[row["name"]]
    assert "synthetic_growth" in row["source"] and "MAPE" in row["source"] and "log loss" in row["source"]


def test_plot_small_multiples(exact):
    import matplotlib

    matplotlib.use("Agg")
    fig = exact.plot("output", regions=["OHIO", "TEXAS", "NEW_YORK"])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["OHIO", "TEXAS", "NEW_YORK"]
    assert len(visible[0].lines) == 2
    assert exact.plot("gsp").axes[0].get_title() == "ALABAMA"  # a target may be named by its column
    with pytest.raises(ce.errors.UnknownNameError, match=r"'OHIOO' is not a region.*'OHIO'"):
        exact.plot("output", regions=["OHIOO"])
    with pytest.raises(ce.errors.UnknownNameError, match="'outptu' is not a target"):
        exact.plot("outptu")


def test_conf_int_levels(exact, model, noisy_panel):
    res = ce.calibrate(model, noisy_panel, targets=TARGETS, parameters={"saving_rate": (0.05, 0.5)},
                       fixed={k: v for k, v in TRUTH.items() if k != "saving_rate"})
    wide, narrow = res.conf_int(0.99), res.conf_int(0.5)
    assert (wide["upper"] - wide["lower"] > narrow["upper"] - narrow["lower"]).all()
    with pytest.raises(ce.errors.SpecError, match="level must be strictly between 0 and 1"):
        res.conf_int(1.5)
    frame = res.to_frame()
    assert list(frame.columns[:7]) == ["term", "estimate", "std_error", "statistic", "p_value", "ci_lower", "ci_upper"]
