"""Sterman's model tests (Business Dynamics, ch. 21): extreme conditions, stock conservation, steady state and
integration error, for every model, run in PySD."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from models_helpers import MODEL_IDS, by_element, fresh, regional_run, run_model
from numpy.testing import assert_allclose

DT = 0.25


def equilibrium_birth_rate(hazard=0.19, maturation_time=5.0, mature_death=0.06, scale_up=0.003) -> float:
    """Births per SME that keep the ageing chain at its initial equilibrium."""
    m = 1 / maturation_time
    return (hazard + m) * (mature_death + scale_up) / (mature_death + scale_up + m)


def chain_equilibrium_birth_rate(new_hazard=0.2, young_hazard=0.22, maturation_time=5.0, mature_death=0.06,
                                 scale_up=0.0003) -> float:
    """Births per SME that keep the three-stage ageing chain of sme_growth 2 (new, young, mature) in equilibrium.

    In equilibrium new = (young hazard + 1 / T1) young (T1 = maturation time - 1, a first year of 1 year),
    mature = young / (T1 (mature death + scale-up)), and births = (new hazard + 1) new.
    """
    t1 = maturation_time - 1.0
    new, young, mature = young_hazard + 1 / t1, 1.0, 1 / (t1 * (mature_death + scale_up))
    return (new_hazard + 1.0) * new / (new + young + mature)


#: parameter changes that start each model in equilibrium: programme never starts, trends switched off
EQUILIBRIUM = {
    "cluster_investment": {"investment_start_time": 3000, "employment_growth_rate": 0, "tfp_growth_rate": 0,
                           "private_capital_trend_growth": 0},
    "sme_growth": {"investment_start_time": 3000, "output_growth_rate": 0, "labour_force_natural_growth": 0,
                   "sme_birth_rate": chain_equilibrium_birth_rate()},
    # the 1970 knowledge stocks are the equilibria of own R&D: the baseline between-cluster spillover is switched off
    "knowledge_spillover": {"investment_start_time": 3000, "output_growth_rate": 0,
                            "between_cluster_absorption_rate": 0},
    "stakeholder_alignment": {"investment_start_time": 3000},
    "regional_cluster": None,  # see regional_equilibrium(): drivers off, national cycle flat
}
#: state-specific drivers of regional_cluster, set to 0 for the steady state
REGIONAL_DRIVERS = ["labour_force_trend_growth", "public_capital_trend_growth", "output_trend_growth",
                    "private_capital_trend_growth", "employment_trend_growth", "national_public_capital_trend_growth",
                    "long_run_labour_force_growth", "between_cluster_absorption_rate"]


def regional_equilibrium(model) -> dict:
    """regional_cluster at rest: no programme, drivers and the national cycle off, births at the chain's equilibrium,
    natural unemployment at its 1970 value."""
    c = model.components
    births = float((c.initial_sme_births() / c.initial_sme_firms()).values[0])
    return {**dict.fromkeys(REGIONAL_DRIVERS, 0), "national_unemployment_cycle_index": 1,
            "natural_unemployment_rate": c.initial_unemployment_rate(), "sme_birth_rate": births}
#: outputs compared when TIME STEP halves, with the horizon of the comparison
OUTCOMES = {
    "cluster_investment": (["output", "public_capital", "private_capital", "aligned_public_capital"], 2020),
    "sme_growth": (["sme_employment", "large_firm_employment", "new_smes", "young_smes", "mature_smes",
                    "unemployment_rate"],
                   2020),
    "knowledge_spillover": (["knowledge_stock", "sme_knowledge", "absorptive_capacity", "patents"], 2000),
    "stakeholder_alignment": (["engaged_sme_share", "trust", "alignment", "network_density"], 2020),
    "regional_cluster": (["output", "sme_employment", "employment", "knowledge_stock", "alignment"], 1985),
}
#: a policy for the integration-error test of the models whose default (no-policy) run is an equilibrium
STEP_POLICY = {
    "stakeholder_alignment": {"engagement_effort": 1, "sme_representation_quota": 0.2,
                              "knowledge_sharing_intensity": 0.5},
    "knowledge_spillover": {"knowledge_sharing_intensity": 0.5, "between_cluster_exchange_intensity": 0.5},
}
#: largest change of an outcome, relative to its largest magnitude, when TIME STEP goes from 0.25 to 0.125
STEP_TOLERANCE = 0.01


def stock_names(model) -> list[str]:
    """Integ stocks of a model, without the accumulators of outcomes (``cumulative ...``)."""
    doc = model.doc
    names = doc.loc[(doc["Type"] == "Stateful") & (doc["Subtype"] == "Integ"), "Py Name"]
    return [n for n in names if not n.startswith(("cumulative", "total_cumulative"))]


def slow_if_regional(ids):
    return [pytest.param(i, marks=pytest.mark.slow) if i == "regional_cluster" else i for i in ids]


# ---------------------------------------------------------------- extreme conditions

@pytest.mark.parametrize("model_id", slow_if_regional(["cluster_investment", "regional_cluster"]))
def test_no_investment_public_capital_decays_at_its_depreciation_rate(model_id):
    model = fresh(model_id)
    params = {"public_investment_share": 0, "public_capital_replacement_ratio": 0}
    inflow = "completion" if model_id == "cluster_investment" else "baseline_public_investment"
    out = run_model(model, params=params, columns=["public_capital", inflow], final_time=1980)
    rate = float(model.components.public_capital_depreciation_rate())
    years = out.index.to_numpy() - 1970
    decay = (1 - rate * DT) ** (years / DT)  # Euler's exact solution of dK/dt = -delta K
    cols = [c for c in out.columns if c.startswith("public_capital")]
    first = out[cols].iloc[0].to_numpy()
    assert_allclose(out[cols].to_numpy(), np.outer(decay, first), rtol=1e-10, atol=0)
    assert_allclose(out.filter(like=inflow).to_numpy(), 0, rtol=0, atol=0)
    # 10 years at 3 %/yr: a loss of about 26 %
    assert_allclose(decay[-1], np.exp(-rate * 10), rtol=0.01, atol=0)


@pytest.mark.parametrize("saturation", [0.0, 0.5, 0.9])
def test_no_smes_means_no_sme_births(saturation):
    model = fresh("sme_growth")
    params = {"saturation_elasticity": saturation, "sme_support": 0.5, "sme_attractiveness_gain": 1.0}
    out = run_model(model, params=params, columns=["sme_births", "new_smes", "young_smes", "mature_smes",
                                                   "desired_sme_employment", "large_firms"],
                    initial_condition=(1970, {"new_smes": 0, "young_smes": 0, "mature_smes": 0}))
    assert_allclose(out[["sme_births", "new_smes", "young_smes", "mature_smes", "desired_sme_employment"]].to_numpy(),
                    0, rtol=0, atol=0)
    assert out["large_firms"].iloc[-1] < out["large_firms"].iloc[0]  # no scale-up feeds large firms


@pytest.mark.slow
def test_no_smes_means_no_sme_births_in_any_state():
    out = run_model(fresh("regional_cluster"), columns=["sme_births", "start_ups", "young_smes", "mature_smes"],
                    params={"sme_support": 0.5, "public_investment_share": 0.05},
                    initial_condition=(1970, {"start_ups": 0, "young_smes": 0, "mature_smes": 0}), final_time=1980)
    assert out.shape[1] == 4 * 48
    assert_allclose(out.to_numpy(), 0, rtol=0, atol=0)


@pytest.mark.slow
def test_no_alignment_cuts_sme_knowledge_to_obsolescence():
    model = fresh("knowledge_spillover")
    out = run_model(model, params={"alignment": 0}, columns=["sme_knowledge", "within_cluster_spillover"],
                    final_time=1990)
    rate = float(model.components.knowledge_obsolescence_rate())
    years = out.index.to_numpy() - 1970
    decay = (1 - rate * DT) ** (years / DT)
    cols = [c for c in out.columns if c.startswith("sme_knowledge")]
    assert_allclose(out[cols].to_numpy(), np.outer(decay, out[cols].iloc[0].to_numpy()), rtol=1e-10, atol=0)
    assert_allclose(out.filter(like="within_cluster_spillover").to_numpy(), 0, rtol=0, atol=0)


def test_full_quota_and_no_engagement_fix_the_seat_share():
    model = fresh("stakeholder_alignment")
    out = run_model(model, params={"sme_representation_quota": 0.6, "sme_recruitment_rate": 0},
                    columns=["sme_seat_share", "engaged_sme_share", "trust"])
    after = out.loc[1975:]
    assert_allclose(after["sme_seat_share"].to_numpy(), 0.6, rtol=0, atol=1e-12)
    assert_allclose(out["engaged_sme_share"].to_numpy(), 0, rtol=0, atol=0)
    assert_allclose(out["trust"].to_numpy(), 0.4, rtol=0, atol=1e-12)  # nothing to build trust on


UNIT_INTERVAL = ("alignment", "trust", "network_density", "absorptive_capacity", "engaged_sme_share",
                 "sme_seat_share", "average_alignment_fit", "sme_employment_share", "programme_alignment_fit")


@pytest.mark.parametrize("model_id", slow_if_regional(MODEL_IDS))
@pytest.mark.slow
def test_default_run_is_finite_nonnegative_and_shares_stay_in_the_unit_interval(model_id):
    if model_id == "regional_cluster":
        out = regional_run()  # shared with the behaviour tests
    else:
        model = fresh(model_id)
        out = run_model(model, columns=stock_names(model) + [n for n in UNIT_INTERVAL
                                                             if n in set(model.doc["Py Name"])])
    assert np.isfinite(out.to_numpy()).all()
    assert (out.to_numpy() >= 0).all(), out.min()[out.min() < 0]
    shares = [c for c in out.columns if c.split("[")[0] in UNIT_INTERVAL]
    assert shares, "no share was checked"
    assert (out[shares].to_numpy() <= 1).all(), out[shares].max().sort_values().tail(3)


# ---------------------------------------------------------------- stock conservation

PARAMS = st.fixed_dictionaries({
    "sme_birth_rate": st.floats(0.08, 0.12),
    "new_sme_hazard": st.floats(0.16, 0.24),
    "young_sme_hazard": st.floats(0.18, 0.26),
    "sme_support": st.floats(0.0, 0.5),
    "scale_up_rate": st.floats(0.0001, 0.001),
    "large_firm_size": st.floats(250, 3000),
    "saturation_elasticity": st.floats(0.0, 0.9),
    "output_growth_rate": st.floats(0.0, 0.05),
    "investment_start_time": st.floats(1970, 2000),
})


@settings(max_examples=12, deadline=None)
@given(params=PARAMS)
def test_firm_stocks_change_by_the_integral_of_their_flows(params):
    model = fresh("sme_growth")
    flows = ["sme_births", "new_sme_deaths", "new_sme_ageing", "young_sme_deaths", "maturation", "mature_sme_deaths",
             "scale_up", "large_firm_exits", "sme_employment_change"]
    stocks = ["new_smes", "young_smes", "mature_smes", "large_firms", "sme_employment"]
    out = run_model(model, params=params, columns=stocks + flows, final_time=1995, saveper=DT)
    f = out[flows].iloc[:-1] * DT  # Euler: the flow at t moves the stock from t to t + dt
    net = {
        "new_smes": f["sme_births"] - f["new_sme_deaths"] - f["new_sme_ageing"],
        "young_smes": f["new_sme_ageing"] - f["young_sme_deaths"] - f["maturation"],
        "mature_smes": f["maturation"] - f["mature_sme_deaths"] - f["scale_up"],
        "large_firms": f["scale_up"] - f["large_firm_exits"],
        "sme_employment": f["sme_employment_change"],
    }
    for stock in stocks:
        change = out[stock].iloc[-1] - out[stock].iloc[0]
        assert_allclose(change, net[stock].sum(), rtol=1e-9, atol=1e-9 * out[stock].iloc[0])
    firms = out[["new_smes", "young_smes", "mature_smes", "large_firms"]].sum(axis=1)
    external = (f["sme_births"] - f["new_sme_deaths"] - f["young_sme_deaths"] - f["mature_sme_deaths"]
                - f["large_firm_exits"])
    assert_allclose(firms.iloc[-1] - firms.iloc[0], external.sum(), rtol=1e-9, atol=1e-6)


@pytest.mark.slow
def test_programme_capital_and_its_fit_coflow_are_conserved():
    model = fresh("regional_cluster")
    cols = ["programme_public_capital", "programme_completion", "effective_programme_capital", "fitting_completion",
            "programme_alignment_fit"]
    out = run_model(model, params={"public_investment_share": 0.02, "engagement_effort": 1}, columns=cols,
                    final_time=1985, saveper=DT)
    rate = float(model.components.public_capital_depreciation_rate())
    for stock, inflow in [("programme_public_capital", "programme_completion"),
                          ("effective_programme_capital", "fitting_completion")]:
        change = by_element(out, stock, 1985.0) - by_element(out, stock, 1970.0)
        integral = sum((by_element(out, inflow, t) - rate * by_element(out, stock, t)) * DT for t in out.index[:-1])
        assert_allclose(change.to_numpy(), integral.to_numpy(), rtol=1e-9, atol=1e-6)
    fit = out.filter(like="programme_alignment_fit").loc[1980:].to_numpy()
    assert (fit > 0).all()
    assert (fit <= 1).all()


# ---------------------------------------------------------------- steady state

@pytest.mark.parametrize("model_id", slow_if_regional(MODEL_IDS))
@pytest.mark.slow
def test_equilibrium_start_stays_put(model_id):
    model = fresh(model_id)
    stocks = stock_names(model)
    final = 1980 if model_id == "regional_cluster" else 2000
    params = regional_equilibrium(model) if model_id == "regional_cluster" else EQUILIBRIUM[model_id]
    out = run_model(model, params=params, columns=stocks, final_time=final)
    drift = (out - out.iloc[0]).abs().max()
    scale = out.iloc[0].abs().clip(lower=1.0)
    assert (drift / scale).max() < 1e-9, (drift / scale).sort_values().tail(3)
    assert len(stocks) >= 3


# ---------------------------------------------------------------- integration error

@pytest.mark.parametrize("model_id", slow_if_regional(MODEL_IDS))
@pytest.mark.slow
def test_halving_the_time_step_moves_outcomes_little(model_id):
    names, final = OUTCOMES[model_id]
    policy = STEP_POLICY.get(model_id, {})
    coarse = run_model(fresh(model_id), params=policy, columns=names, final_time=final, time_step=DT, saveper=1)
    fine = run_model(fresh(model_id), params=policy, columns=names, final_time=final, time_step=DT / 2, saveper=1)
    assert list(coarse.index) == list(fine.index)
    # change relative to each outcome's largest magnitude over the run
    rel = (fine - coarse).abs().max() / coarse.abs().max().clip(lower=1e-12)
    assert rel.max() < STEP_TOLERANCE, rel.sort_values().tail(3)
    assert rel.max() > 0  # the comparison is not vacuous: the step size matters somewhere
    pd.testing.assert_index_equal(coarse.columns, fine.columns)

