"""parameters_from_estimates: values and delta-method standard errors from real panel estimates."""

from __future__ import annotations

import numpy as np
import pytest
from cal_helpers import MODEL_PATH, TARGETS, TRUTH, synthetic_panel
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import SpecError, UnknownNameError


@pytest.fixture(scope="module")
def fe():
    panel = ce.load_dataset("us_states")
    return ce.panel_ols("log(emp) ~ lag(log(emp)) + log(pc)", panel, effects=("entity",))


def test_values_and_delta_method_standard_errors(fe):
    est = ce.parameters_from_estimates(fe, {
        "capital_elasticity": "log(pc)",
        "employment_adjustment_time": ("lag(log(emp))", lambda rho: -1 / np.log(rho)),
        "tau_named": ("lag(log(emp))", "adjustment_time"),
    })
    rho, se_rho = fe.params["lag(log(emp))"], fe.std_errors["lag(log(emp))"]
    assert est.params["capital_elasticity"] == fe.params["log(pc)"]
    assert est.std_errors["capital_elasticity"] == pytest.approx(fe.std_errors["log(pc)"], rel=1e-9)
    assert est.params["employment_adjustment_time"] == pytest.approx(-1 / np.log(rho), rel=1e-12)
    analytic = se_rho / (rho * np.log(rho) ** 2)  # |d/drho -1/ln(rho)| = 1 / (rho ln(rho)^2)
    assert est.std_errors["employment_adjustment_time"] == pytest.approx(analytic, rel=1e-6)
    assert est.std_errors["tau_named"] == pytest.approx(analytic, rel=1e-6)
    # joint covariance kept: the two transforms of one term are perfectly correlated
    c = est.cov.to_numpy()
    assert c[1, 2] == pytest.approx(np.sqrt(c[1, 1] * c[2, 2]), rel=1e-9)
    cov_terms = fe.cov.loc["lag(log(emp))", "log(pc)"]
    assert c[0, 1] == pytest.approx(cov_terms / (rho * np.log(rho) ** 2), rel=1e-6)
    source = est.source
    assert source.loc["employment_adjustment_time", "transform"] == "lambda rho: -1 / np.log(rho)"
    assert est.provenance.dataset == "us_states"
    assert est.provenance.dataset_sha256 == fe.provenance.dataset_sha256
    assert est.provenance.details["formula"] == "log(emp) ~ lag(log(emp)) + log(pc)"
    assert "parameters_from_estimates" == est.provenance.details["call"]["verb"]
    assert "lag(log(emp))" in str(est.summary())


def test_estimates_feed_calibrate_and_simulate(fe):
    est = ce.parameters_from_estimates(fe, {"employment_adjustment_time": ("lag(log(emp))", "adjustment_time")})
    tau = est.params["employment_adjustment_time"]
    model = ce.load_model(MODEL_PATH)
    run = ce.simulate(model, params=est, final_time=1975, outputs=["employment"])
    assert run.provenance.changed_parameters["employment_adjustment_time"] == pytest.approx(tau)
    panel = synthetic_panel({**TRUTH, "employment_adjustment_time": tau})
    res = ce.calibrate(model, panel, targets=TARGETS, parameters={"saving_rate": (0.05, 0.5),
                       "depreciation_rate": (0.01, 0.15)}, fixed=est)
    assert res.fixed == {"employment_adjustment_time": tau}
    assert_allclose(res.params.to_numpy(), [TRUTH["saving_rate"], TRUTH["depreciation_rate"]], rtol=1e-6)
    assert res.provenance.details["call"]["arguments"]["fixed_source"]["verb"] == "parameters_from_estimates"
    assert res.to_params()["employment_adjustment_time"] == tau


def test_bad_mapping(fe):
    with pytest.raises(UnknownNameError, match=r"'log\(pcc\)' is not a term.*Did you mean 'log\(pc\)'"):
        ce.parameters_from_estimates(fe, {"x": "log(pcc)"})
    with pytest.raises(SpecError, match="Unknown transform 'sqrt'"):
        ce.parameters_from_estimates(fe, {"x": ("log(pc)", "sqrt")})
    with pytest.raises(SpecError, match="not finite"):
        ce.parameters_from_estimates(fe, {"x": ("log(pc)", lambda b: np.log(-abs(b)))})
