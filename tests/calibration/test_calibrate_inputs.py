"""The bad-input table of calibrate(): each case raises (or warns) the named error, naming the culprit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cal_helpers import BOUNDS, MODEL_PATH, TARGETS, TRUTH, UNITS, synthetic_panel

import cluster_econ as ce
from cluster_econ.calibration._optimize import Objective
from cluster_econ.errors import CalibrationError, ConvergenceWarning, SpecError, UnknownNameError


@pytest.fixture(scope="module")
def model():
    return ce.load_model(MODEL_PATH)


@pytest.fixture(scope="module")
def panel():
    return synthetic_panel()


def _frame_panel(panel, edit) -> ce.RegionalPanel:
    frame = edit(panel.frame.reset_index())
    return ce.RegionalPanel.from_frame(frame, entity="state", time="year", units=UNITS, name="edited")


def test_unknown_target_variable(model, panel):
    with pytest.raises(UnknownNameError, match=r"'outptu'.*Did you mean 'output'"):
        ce.calibrate(model, panel, targets={"outptu": "gsp"}, parameters=BOUNDS)


def test_unknown_panel_column(model, panel):
    with pytest.raises(UnknownNameError, match=r"'gps' is not a column of synthetic_growth.*'gsp'"):
        ce.calibrate(model, panel, targets={"output": "gps"}, parameters=BOUNDS)


@pytest.mark.parametrize(("name", "hint"), [("saving_rat", "saving_rate"), ("output", None)])
def test_parameter_not_a_constant(model, panel, name, hint):
    with pytest.raises(UnknownNameError, match=f"'{name}' is not a constant") as info:
        ce.calibrate(model, panel, targets=TARGETS, parameters={name: (0.0, 1.0)})
    if hint:
        assert f"Did you mean '{hint}'" in str(info.value)


def test_bounds_lower_not_below_upper(model, panel):
    with pytest.raises(SpecError, match=r"'saving_rate' are \(0.5, 0.1\)"):
        ce.calibrate(model, panel, targets=TARGETS, parameters={"saving_rate": (0.5, 0.1)})


def test_bounds_needed_without_model_toml(model, panel):
    with pytest.raises(SpecError, match=r"'saving_rate' has no declared bounds.*mapping name -> \(lower, upper\)"):
        ce.calibrate(model, panel, targets=TARGETS, parameters=["saving_rate"])


def test_fixed_value_outside_declared_bounds(panel):
    rc = ce.load_model("regional_cluster")
    with pytest.raises(SpecError, match=r"'sme_birth_rate' = 0.5.*\[0.08, 0.14\]"):
        ce.calibrate(rc, panel, targets={"output": "gsp"}, parameters=["young_sme_hazard"],
                     fixed={"sme_birth_rate": 0.5})
    with pytest.raises(SpecError, match=r"\(0.01, 0.5\) of parameter 'sme_birth_rate'.*\[0.08, 0.14\]"):
        ce.calibrate(rc, panel, targets={"output": "gsp"}, parameters={"sme_birth_rate": (0.01, 0.5)})


def test_entities_matching_no_region_list_both_sides(model, panel):
    bad = _frame_panel(panel, lambda f: f.assign(state=f["state"].replace({"OHIO": "OHIIO", "TEXAS": "Atlantis"})))
    with pytest.raises(UnknownNameError) as info:
        ce.calibrate(model, bad, targets=TARGETS, parameters=BOUNDS)
    text = str(info.value)
    assert "'OHIIO' (closest: 'OHIO')" in text
    assert "'Atlantis'" in text
    assert "Model regions: 'ALABAMA'" in text
    assert "'state' values" in text


def test_names_match_ignoring_case_spaces_and_punctuation(model):
    names = {"NEW_YORK": "New York", "NORTH_CAROLINA": "north-carolina", "WEST_VIRGINIA": "West Virginia"}
    renamed = synthetic_panel(state_names=lambda s: names.get(s, s.title()))
    res = ce.calibrate(model, renamed, targets=TARGETS, parameters={"saving_rate": (0.05, 0.5)},
                       fixed={k: v for k, v in TRUTH.items() if k != "saving_rate"})
    assert set(res.residuals["region"]) >= {"New York", "north-carolina", "Ohio"}
    assert abs(res.params["saving_rate"] / TRUTH["saving_rate"] - 1) < 1e-6


def test_two_entities_matching_one_region(model, panel):
    both = _frame_panel(panel, lambda f: pd.concat([f, f[f["state"] == "OHIO"].assign(state="Ohio")]))
    with pytest.raises(SpecError, match="'OHIO' and 'Ohio' both match region 'OHIO'"):
        ce.calibrate(model, both, targets=TARGETS, parameters=BOUNDS)


def test_fewer_than_two_regions(model, panel):
    one = _frame_panel(panel, lambda f: f[f["state"] == "OHIO"])
    with pytest.raises(UnknownNameError, match=r"Only 1 panel entity matches"):
        ce.calibrate(model, one, targets=TARGETS, parameters=BOUNDS)


def test_times_outside_the_horizon(model, panel):
    early = _frame_panel(panel, lambda f: pd.concat([f, f[f["year"] == 1970].assign(year=1965)]))
    with pytest.raises(SpecError, match=r"Panel times \[1965\] are outside the horizon \[1970, 1990\]"):
        ce.calibrate(model, early, targets=TARGETS, parameters=BOUNDS)


def test_times_off_the_saved_grid(tmp_path, panel):
    source = MODEL_PATH.read_text().replace("SAVEPER =\n\t1\n", "SAVEPER =\n\t2\n")
    path = tmp_path / "every_two_years.mdl"
    path.write_text(source)
    with pytest.raises(SpecError, match=r"Panel times \[1971, 1973.*not on the saved time grid.*every 2"):
        ce.calibrate(path, panel, targets=TARGETS, parameters=BOUNDS)


def test_non_positive_data_with_log_loss(model, panel):
    bad = _frame_panel(panel, lambda f: f.assign(emp=np.where((f["state"] == "OHIO") & (f["year"] == 1975), 0.0,
                                                              f["emp"])))
    with pytest.raises(SpecError, match=r"'employment' \(column 'emp'\) is 0.0 for region 'OHIO' at time 1975"):
        ce.calibrate(model, bad, targets=TARGETS, parameters=BOUNDS)
    res = ce.calibrate(model, bad, targets=TARGETS, parameters={"saving_rate": (0.05, 0.5)}, loss="level",
                       fixed={k: v for k, v in TRUTH.items() if k != "saving_rate"})
    assert res.loss == "level"


def test_non_positive_simulated_values_with_log_loss(model, panel):
    with pytest.raises(SpecError, match=r"positive simulated values, but 'unemployment_rate' is -.* for region "
                                        r"'ALABAMA' at time 1974 "):
        ce.calibrate(model, panel, targets={"unemployment_rate": ("unemp", 100)}, parameters={
            "saving_rate": (0.05, 0.5)}, fixed={"target_employment_rate": 1.05})


def test_units_that_differ_need_a_scale(model, panel):
    with pytest.raises(SpecError, match=r"'unemployment_rate' is in 'Dmnl'.*'percent'.*\('unemp', 100\)"):
        ce.calibrate(model, panel, targets={"unemployment_rate": "unemp"}, parameters=BOUNDS)
    res = ce.calibrate(model, panel, targets={"unemployment_rate": ("unemp", 100), "output": "gsp"},
                       parameters={"employment_adjustment_time": (0.5, 8.0)},
                       fixed={k: v for k, v in TRUTH.items() if k != "employment_adjustment_time"})
    assert abs(res.params["employment_adjustment_time"] / 3.0 - 1) < 1e-6


@pytest.mark.filterwarnings("ignore::cluster_econ.errors.IdentificationWarning")
def test_not_converged_warns_and_returns(model, panel):
    with pytest.warns(ConvergenceWarning, match=r"max_nfev=2"):
        res = ce.calibrate(model, panel, targets=TARGETS, parameters=BOUNDS, max_nfev=2)
    assert res.converged is False
    assert "Converged:" in str(res.summary())
    assert "False" in str(res.summary())


def test_non_finite_start_names_the_parameters(model, panel):
    with pytest.raises(CalibrationError, match=r"saving_rate=0.2.*fixed employment_adjustment_time=0.0.*non-finite"):
        ce.calibrate(model, panel, targets=TARGETS, parameters={"saving_rate": (0.05, 0.5)},
                     fixed={"employment_adjustment_time": 0.0})


def test_non_finite_trial_point_is_rejected_not_a_crash():
    calls = []

    def request(points):
        calls.append(points.copy())
        rows = np.tile(points[:, :1] ** 2, (1, 3))
        rows[points[:, 0] > 0.5] = np.nan  # the model blows up beyond 0.5
        return rows

    objective = Objective(lambda rows: rows - 0.04, request, 1, penalty=1e6)
    assert np.all(objective.fun(np.array([0.7])) == 1e6)           # rejected, finite
    r = objective.fun(np.array([0.5]))                              # forward neighbour fails: backward difference
    assert np.isfinite(r).all()
    assert np.isfinite(objective.jac(np.array([0.5]))).all()
    assert objective.jac(np.array([0.5]))[0, 0] == pytest.approx(1.0, rel=1e-5)
    assert len(calls) == 3


def test_optimiser_steps_into_an_unstable_region_and_recovers(model, panel):
    # below an adjustment time of TIME STEP / 2 employment oscillates below zero: output is NaN there
    res = ce.calibrate(model, panel, targets=TARGETS, parameters={"employment_adjustment_time": (0.01, 8.0)},
                       fixed={k: v for k, v in TRUTH.items() if k != "employment_adjustment_time"},
                       start={"employment_adjustment_time": 0.2}, n_starts=6, seed=2)
    assert abs(res.params["employment_adjustment_time"] / 3.0 - 1) < 1e-6


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"loss": "squared"}, "loss='squared' is not valid"),
    ({"cov_type": "robust"}, "cov_type='robust' is not valid"),
    ({"n_starts": 0}, "n_starts=0 is not valid"),
    ({"weights": {"output": -1.0}}, "weights"),
    ({"holdout": (1995, 1999)}, r"holdout=\(1995, 1999\) selects no panel period"),
    ({"moments": len}, "moments= is used by method='indirect'"),
])
def test_invalid_options(model, panel, kwargs, match):
    with pytest.raises(SpecError, match=match):
        ce.calibrate(model, panel, targets=TARGETS, parameters=BOUNDS, **kwargs)
