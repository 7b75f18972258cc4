"""regional_cluster 2.0 mechanisms and behaviour, on the batch engine (identical to PySD, see tests/engine).

Each test would have caught a defect of 1.1.0: labour-force growth accumulating unemployment, migration
without national adding-up, alignment creating capital, levers without a cost, no declared no-policy run,
a dead trust-erosion time, the sharing lever entering twice, large firms smaller than 250 jobs, knowledge
intensity proportional to size, no exchange without the programme. The behaviour tests state the measured
numbers in their messages and compare them with the literature's signs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.sd.engine import compile_model

#: a cluster programme with every governance lever on (the 1.1.0 defaults)
PROGRAMME = {"public_investment_share": 0.01, "knowledge_sharing_intensity": 0.5,
             "between_cluster_exchange_intensity": 0.5, "sme_representation_quota": 0.2, "engagement_effort": 1.0}


@pytest.fixture(scope="module")
def model():
    return ce.load_model("regional_cluster")


@pytest.fixture(scope="module")
def compiled(model):
    return compile_model(model)


DEFAULTS = ce.load_model("regional_cluster").parameters.set_index("name")["value"].to_dict()


def runs(compiled, rows: list[dict], outputs: list[str], final_time: float = 2000.0):
    """Batch run of ``rows`` (parameter changes; a key missing from a row keeps its default)."""
    keys = sorted({k for row in rows for k in row})
    frame = pd.DataFrame([{k: row.get(k, DEFAULTS.get(k)) for k in keys} for row in rows], index=range(len(rows)))
    if frame.empty:
        frame = pd.DataFrame(index=range(len(rows)))
    return compiled.run(frame, outputs=outputs, final_time=final_time)


def total(ds, name: str, time: float) -> np.ndarray:
    x = ds[name].sel(time=time)
    return x.sum("Region").values if "Region" in x.dims else x.values


def test_levers_default_to_their_no_policy_values(model, compiled):
    table = model.parameters.set_index("name")
    levers = table[table["kind"] == "lever"]
    assert set(model.no_policy) == set(levers.index)
    for name, value in model.no_policy.items():
        assert levers.loc[name, "value"] == value, name
    assert model.indicators["spend"] == "cumulative_programme_cost"
    ds = runs(compiled, [{}, model.no_policy], ["employment", "total_cumulative_programme_cost"])
    assert_allclose(ds["employment"].isel(scenario=0), ds["employment"].isel(scenario=1), rtol=0, atol=0)
    assert_allclose(ds["total_cumulative_programme_cost"].values, 0, rtol=0, atol=0)


def test_national_net_migration_sums_to_zero(compiled):
    ds = runs(compiled, [{}, {**PROGRAMME, "sme_support": 0.5}], ["net_migration", "labour_force"])
    flows = ds["net_migration"]
    assert float(abs(flows).max()) > 10, "no migration at all: the test would be vacuous"
    scale = float(abs(flows).sum("Region").max())
    assert_allclose(flows.sum("Region").values, 0, rtol=0, atol=1e-9 * scale)


def test_labour_force_growth_does_not_accumulate_unemployment(model, compiled):
    growth = np.asarray(model.pysd()["labour_force_trend_growth"].values, dtype=float)
    rows = [{"labour_force_trend_growth": growth}, {"labour_force_trend_growth": growth + 0.01}]
    ds = runs(compiled, rows, ["unemployment_rate", "employment"])
    u = ds["unemployment_rate"].sel(time=2000).mean("Region").values
    e = total(ds, "employment", 2000)
    msg = f"mean unemployment 2000: {u[0]:.2f} % baseline, {u[1]:.2f} % with 1 pp faster labour-force growth"
    assert abs(u[1] - u[0]) < 1.0, msg  # 1.1.0: labour force outran jobs and unemployment rose to 9.5 %
    assert e[1] > 1.1 * e[0], msg  # the extra workers find jobs


def test_alignment_never_creates_capital(compiled):
    engaged = {"engagement_effort": 2.0, "sme_representation_quota": 0.6, "knowledge_sharing_intensity": 2.0}
    ds = runs(compiled, [engaged, {**engaged, "public_investment_share": 0.05}],
              ["effective_public_capital", "public_capital", "baseline_public_capital", "employment",
               "alignment_fit"])
    # engagement alone, without programme money, adds no public capital (1.1.0: 7.9 million jobs)
    assert_allclose(ds["effective_public_capital"].isel(scenario=0), ds["baseline_public_capital"].isel(scenario=0),
                    rtol=1e-12, atol=0)
    assert (ds["effective_public_capital"] <= ds["public_capital"] * (1 + 1e-12)).all()
    assert (ds["alignment_fit"] <= 1).all()
    assert float(ds["effective_public_capital"].isel(scenario=1).sel(time=2000).sum()) > float(
        ds["baseline_public_capital"].isel(scenario=1).sel(time=2000).sum())


LEVER_MOVES = {"public_investment_share": 0.05, "knowledge_sharing_intensity": 2.0,
               "between_cluster_exchange_intensity": 2.0, "sme_representation_quota": 0.6, "engagement_effort": 2.0,
               "sme_support": 0.5, "engagement_start_delay": 15.0, "investment_start_time": 1970.0}


def test_no_lever_changes_employment_without_a_cost(compiled):
    base = {**PROGRAMME, "public_investment_share": 0.0}
    rows = [{}] + [{k: v} for k, v in LEVER_MOVES.items()] + [base] + [{**base, k: v} for k, v in LEVER_MOVES.items()]
    ds = runs(compiled, rows, ["employment", "total_cumulative_programme_cost"])
    jobs = total(ds, "employment", 2000)
    cost = ds["total_cumulative_programme_cost"].sel(time=2000).values
    for i in range(len(rows)):
        if abs(jobs[i] - jobs[0]) > 1e-6 * jobs[0]:
            assert cost[i] > 0, f"{rows[i]} moves employment by {jobs[i] - jobs[0]:.1f} thousand at no cost"


def test_public_investment_lowers_unemployment(compiled):
    ds = runs(compiled, [{}, {"public_investment_share": 0.01}, {"public_investment_share": 0.05}],
              ["unemployment_rate", "employment"])
    u = ds["unemployment_rate"].sel(time=slice(1976, 2000)).mean(("Region", "time")).values
    msg = f"mean unemployment 1976-2000: {u[0]:.3f} % no policy, {u[1]:.3f} % at 1 %, {u[2]:.3f} % at 5 % of output"
    assert u[2] < u[1] < u[0], msg  # Papke (1994): enterprise zones cut unemployment claims
    assert total(ds, "employment", 2000)[2] > total(ds, "employment", 2000)[0], msg


def test_trust_erodes_when_the_sme_benefit_falls_short(compiled):
    promise = {"engagement_effort": 1.0, "expected_sme_benefit": 0.2, "trust_gain_from_engagement": 0.0}
    ds = runs(compiled, [promise, {**promise, "trust_erosion_time": 0.5}, {**promise, "trust_erosion_time": 1.0}],
              ["trust"], final_time=1980)
    trust = ds["trust"].mean("Region")
    assert float(trust.isel(scenario=0).sel(time=1980)) < 0.4 - 0.05  # engagement without delivery erodes trust
    # the erosion time acts (it was dead in 1.1.0): faster erosion, lower trust a year after engagement starts
    assert float(trust.isel(scenario=1).sel(time=1976)) < float(trust.isel(scenario=2).sel(time=1976)) - 0.005


def test_the_sharing_lever_acts_through_network_density_only(compiled):
    off = {"density_gain_from_sharing_programme": 0.0}
    ds = runs(compiled, [off, {**off, "knowledge_sharing_intensity": 2.0}], ["sme_knowledge", "network_density"])
    assert_allclose(ds["sme_knowledge"].isel(scenario=0), ds["sme_knowledge"].isel(scenario=1), rtol=1e-12, atol=0)


def test_firm_sizes_respect_their_definitions(model, compiled):
    rng = np.random.default_rng(3)
    table = model.parameters.set_index("name")
    names = ["large_firm_size", "mature_sme_size", "young_sme_size", "start_up_size", "initial_sme_employment_share",
             "large_firm_exit_rate", "sme_support"]
    rows = [{n: rng.uniform(table.loc[n, "lower"], table.loc[n, "upper"]) for n in names} for _ in range(20)]
    ds = runs(compiled, rows, ["large_firm_structural_employment", "large_firms", "sme_structural_employment",
                               "sme_firms"])
    large = 1000 * ds["large_firm_structural_employment"] / ds["large_firms"]
    sme = 1000 * ds["sme_structural_employment"] / ds["sme_firms"]
    assert float(large.min()) >= 250 * 0.9, float(large.min())  # 1.1.0: 110 jobs per large firm
    assert float(sme.max()) < 250


def test_knowledge_intensity_is_not_proportional_to_size(compiled):
    ds = runs(compiled, [{"between_cluster_absorption_rate": 0.02}, {"between_cluster_absorption_rate": 0.005}],
              ["knowledge_intensity", "output", "knowledge_stock"])
    k, y = ds["knowledge_intensity"].isel(scenario=0).sel(time=1970), ds["output"].isel(scenario=0).sel(time=1970)
    corr = float(np.corrcoef(np.log(k), np.log(y))[0, 1])
    assert corr < 0.9, f"1970 knowledge intensity correlates {corr:.3f} with output (1.000 in 1.1.0)"
    # a baseline exchange without the programme: lagging states absorb more knowledge the stronger it is
    # (Bottazzi and Peri 2003), across the declared range of the absorption rate
    gain = (ds["knowledge_stock"].isel(scenario=0) / ds["knowledge_stock"].isel(scenario=1)).sel(time=1990)
    assert float(gain.max()) > 1.01


def test_employment_2030_stays_within_0_8_and_2_times_1986(compiled):
    ds = runs(compiled, [{}, PROGRAMME], ["employment"], final_time=2030)
    e = ds["employment"].sum("Region")
    ratio = (e.sel(time=2030) / e.sel(time=1986)).values
    assert ((ratio > 0.8) & (ratio < 2.0)).all(), ratio  # 1.1.0: 107 -> 358 million


def test_rd_intensity_and_knowledge_productivity_act_on_output_through_knowledge(compiled):
    """More R&D effort than the reference behind the panel's TFP trend raises knowledge and, through
    A = A0 (K / K_own)^eta, TFP and output; at the reference nothing moves (the default run is the baseline)."""
    rows = [{}, {"rd_intensity": 0.03}, {"knowledge_productivity": 2.0},
            {"rd_intensity": 0.03, "knowledge_elasticity_of_tfp": 0.0}, {"knowledge_elasticity_of_tfp": 0.0}]
    ds = runs(compiled, rows, ["output", "knowledge_stock", "own_knowledge", "knowledge_effect_on_tfp", "patents"])
    out, know = total(ds, "output", 2000), total(ds, "knowledge_stock", 2000)
    msg = f"output 2000 / no change: {out / out[0]}; knowledge: {know / know[0]}"
    assert_allclose(ds["knowledge_stock"].isel(scenario=1).sel(time=1970).values,
                    ds["knowledge_stock"].isel(scenario=0).sel(time=1970).values, rtol=1e-12, atol=0)
    assert know[1] > 1.2 * know[0], msg  # R&D 1.5 times the reference: K rises toward 1.5^(lambda/(1-phi))
    assert 1.01 < out[1] / out[0] < 1.10, msg  # eta = 0.1 on a knowledge stock some 40 % higher
    assert 1.03 < out[2] / out[0] < 1.25, msg  # twice the knowledge per unit of R&D
    # eta = 0: R&D reaches output only through the SMEs' knowledge share in births, a trace
    assert_allclose(out[3], out[4], rtol=1e-4, atol=0, err_msg=msg)
    effect = ds["knowledge_effect_on_tfp"].isel(scenario=1).sel(time=2000).values
    ratio = (ds["knowledge_stock"] / ds["own_knowledge"]).isel(scenario=1).sel(time=2000).values
    assert_allclose(effect, ratio ** 0.1, rtol=1e-12, atol=0)
