"""Mechanism tests of the four modules (version 2): the defects found in 1.0.0, each with a test that catches it.

Extreme conditions and literature sizes, never the model's own last output:
- every lever declares a no-policy value, its default is that value, and it has a cost;
- cluster_investment: alignment scales only the programme's capital (a fit of at most 1), never creates capital;
- sme_growth: large firms have 250+ jobs, SMEs fewer; the ageing chain matches Eurostat's 1- and 5-year survival;
- knowledge_spillover: between-cluster spillover exists without a programme, about 2-3 % per doubling of the
  partners' R&D (Bottazzi and Peri 2003), nothing beyond 300 km; the sharing lever has one channel;
- stakeholder_alignment: trust erodes, fast, when the SMEs' perceived benefit falls short of what they expect.
"""

from __future__ import annotations

import hashlib
import tomllib

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from models_helpers import MODELS, fresh, run_model
from numpy.testing import assert_allclose
from ranges_check import designs

import cluster_econ as ce
from cluster_econ.sd.engine import compile_model

MODULES = ["cluster_investment", "sme_growth", "knowledge_spillover", "stakeholder_alignment"]
END = 2000.0


def spec_of(model_id: str) -> dict:
    with (MODELS / model_id / "model.toml").open("rb") as fh:
        return tomllib.load(fh)


def levers(model_id: str) -> list[dict]:
    return [p for p in spec_of(model_id)["parameter"] if p["kind"] == "lever"]


def nopolicy_params(model_id: str) -> dict[str, float]:
    return {p["name"]: p["no_policy"] for p in levers(model_id)}


# ---------------------------------------------------------------- all four modules

@pytest.mark.parametrize("model_id", MODULES)
def test_every_lever_declares_its_no_policy_value_as_its_default(model_id):
    rows = levers(model_id)
    assert rows, f"{model_id} has no lever"
    for row in rows:
        assert "no_policy" in row, f"{row['name']} of {model_id} declares no no_policy value"
        assert row["lower"] <= row["no_policy"] <= row["upper"], row
        assert row["value"] == row["no_policy"], f"{row['name']}: default {row['value']} is not its no-policy value"


@pytest.mark.parametrize("model_id", MODULES)
def test_every_initial_constant_has_bounds(model_id):
    model = fresh(model_id)
    doc = model.doc
    constants = set(doc.loc[(doc["Type"] == "Constant") & (doc["Subtype"] == "Normal"), "Py Name"])
    initial = {n for n in constants if n.startswith("initial_") and n != "initial_time"}
    declared = {p["name"]: p for p in spec_of(model_id)["parameter"]}
    assert initial, f"{model_id} has no initial_* constant"
    assert initial - set(declared) == set(), "initial_* constants without bounds in model.toml"
    for name in initial:
        assert declared[name]["lower"] < declared[name]["upper"], name


@pytest.mark.parametrize("model_id", MODULES)
def test_indicator_roles_name_variables_of_the_model(model_id):
    table = spec_of(model_id).get("indicators", {})
    names = set(fresh(model_id).doc["Py Name"])
    assert table.get("spend") == "cumulative_programme_cost", table
    assert set(table) <= {"jobs", "spend", "value_added", "sme_jobs"}, table
    assert set(table.values()) <= names, set(table.values()) - names


@pytest.mark.parametrize("model_id", MODULES)
def test_no_policy_run_costs_nothing_and_every_lever_moved_alone_costs_something(model_id):
    base = nopolicy_params(model_id)
    # intensity levers alone at their upper bound; timing levers together with the intensity levers they time
    intensity = {p["name"]: p["upper"] for p in levers(model_id) if p["name"] not in TIMING}
    scenarios = [base] + [{**base, name: value} for name, value in intensity.items()]
    timed = "engagement_start_delay" in base
    if timed:
        scenarios += [{**base, **intensity}, {**base, **intensity, "engagement_start_delay": 10}]
    model = ce.load_model(model_id)
    cost = compile_model(model).run(pd.DataFrame(scenarios), outputs=["cumulative_programme_cost"])
    cost = cost["cumulative_programme_cost"].sel(time=END).values  # batch engine: PySD to round-off (tests/engine)
    assert cost[0] == 0, f"the no-policy run costs {cost[0]}"
    for i, name in enumerate(intensity, start=1):
        assert cost[i] > 0, f"{name} = {intensity[name]} costs nothing by {END}"
    if timed:
        assert cost[-1] != cost[-2], "the engagement delay does not change the programme cost"


#: outcomes that no lever may move without a cost
OUTCOMES = {
    "cluster_investment": ["output", "public_capital", "effective_public_capital", "private_capital", "alignment"],
    "sme_growth": ["employment", "sme_employment", "sme_firms", "large_firms", "unemployment_rate"],
    "knowledge_spillover": ["knowledge_stock", "sme_knowledge", "patents", "alignment", "network_density"],
    "stakeholder_alignment": ["alignment", "trust", "engaged_sme_share", "sme_seat_share", "network_density"],
}


@pytest.mark.parametrize("model_id", MODULES)
def test_timing_levers_alone_change_nothing(model_id):
    """With every intensity lever at its no-policy value, moving the timing levers to their bounds changes no
    outcome (and costs nothing): no lever moves the economy without a programme."""
    base = nopolicy_params(model_id)
    rows = [base]
    for p in levers(model_id):
        if p["name"] in TIMING:
            rows += [{**base, p["name"]: p["lower"]}, {**base, p["name"]: p["upper"]}]
    model = ce.load_model(model_id)
    runs = compile_model(model).run(pd.DataFrame(rows), outputs=OUTCOMES[model_id] + ["cumulative_programme_cost"])
    for name in OUTCOMES[model_id] + ["cumulative_programme_cost"]:
        values = runs[name].values
        assert_allclose(values, np.broadcast_to(values[:1], values.shape), rtol=0, atol=0, err_msg=name)


@pytest.mark.parametrize("model_id", MODULES)
def test_previous_versions_are_kept_with_their_recorded_hash(model_id):
    spec = spec_of(model_id)
    older = [row for row in spec["history"] if row["version"] != spec["version"]]
    assert older, f"{model_id} has no previous version"
    for row in older:
        mdl = MODELS / model_id / "versions" / f"{row['version']}.mdl"
        assert hashlib.sha256(mdl.read_bytes()).hexdigest() == row["mdl_sha256"], mdl
        with (MODELS / model_id / "versions" / f"{row['version']}.toml").open("rb") as fh:
            assert tomllib.load(fh)["version"] == row["version"]


#: levers that time other levers; they act (and cost) only through them
TIMING = {"investment_start_time", "engagement_start_delay"}


# ---------------------------------------------------------------- cluster_investment

CI_COLS = ["public_capital", "effective_public_capital", "baseline_public_capital", "programme_public_capital",
           "average_alignment_fit", "alignment", "output", "cumulative_programme_cost", "cumulative_public_spend"]


@pytest.mark.parametrize("alignment", [{"reference_alignment": 0.1, "alignment_gain": 0.0},
                                       {"reference_alignment": 0.5, "alignment_gain": 0.75},
                                       {"reference_alignment": 0.2, "alignment_gain": 0.375}])
def test_alignment_scales_only_programme_capital_and_never_creates_capital(alignment):
    params = {"public_investment_share": 0.05, "fit_elasticity_of_public_capital": 1.0, **alignment}
    out = run_model(fresh("cluster_investment"), params=params, columns=CI_COLS)
    assert (out["effective_public_capital"] <= out["public_capital"] * (1 + 1e-12)).all()
    assert (out["effective_public_capital"] >= out["baseline_public_capital"] * (1 - 1e-12)).all()
    fit = out["average_alignment_fit"]
    assert ((fit >= 0) & (fit <= 1)).all()
    assert ((out["alignment"] >= 0) & (out["alignment"] <= 1)).all()
    # fit elasticity 1: the programme's capital enters production in proportion to its alignment fit
    wasted = out["public_capital"] - out["effective_public_capital"]
    assert_allclose(wasted, out["programme_public_capital"] * (1 - fit), rtol=1e-9, atol=1e-6)


def test_engagement_without_a_programme_changes_nothing_and_costs_nothing():
    cols = ["output", "public_capital", "effective_public_capital", "alignment", "cumulative_programme_cost"]
    base = run_model(fresh("cluster_investment"), columns=cols)
    engaged = run_model(fresh("cluster_investment"), columns=cols,
                        params={"alignment_gain": 0.75, "engagement_start_delay": 0, "investment_start_time": 1970})
    pd.testing.assert_frame_equal(engaged, base, rtol=0, atol=0)
    assert_allclose(base["effective_public_capital"], base["public_capital"], rtol=0, atol=0)


def test_poor_alignment_wastes_programme_money():
    cols = ["output", "cumulative_programme_cost"]
    none = run_model(fresh("cluster_investment"), columns=cols)
    gains = {}
    for gain in (0.0, 0.75):
        run = run_model(fresh("cluster_investment"), columns=cols,
                        params={"public_investment_share": 0.02, "alignment_gain": gain})
        gains[gain] = run.loc[END, "output"] - none.loc[END, "output"]
    assert gains[0.0] > 0, gains  # poorly aligned capital still counts for something ...
    assert gains[0.0] < 0.8 * gains[0.75], gains  # ... but well-aligned capital delivers more for the same money


def test_programme_cost_is_investment_plus_engagement():
    model = fresh("cluster_investment")
    params = {"public_investment_share": 0.01, "investment_start_time": 1975, "engagement_start_delay": 5}
    out = run_model(model, params=params, columns=["cumulative_programme_cost", "cumulative_public_spend"])
    rate = float(model.components.engagement_cost_rate())
    engaged_years = END - 1980  # engagement from 1980; cost accrues in Euler steps after the switch
    assert_allclose(out.loc[END, "cumulative_programme_cost"] - out.loc[END, "cumulative_public_spend"],
                    rate * engaged_years, rtol=0.02, atol=0)
    assert out.loc[END, "cumulative_public_spend"] > 0


# ---------------------------------------------------------------- sme_growth

def test_firm_size_categories_respect_their_definitions():
    """Large firms have 250+ jobs, SMEs fewer, at the defaults, in corner draws and at the extremes, to 2030."""
    model = ce.load_model("sme_growth")
    frames = designs(model, n_interior=0, n_corner=100, seed=7)
    frame = pd.concat([pd.DataFrame([{}]), frames["corner"], frames["all-lower"], frames["all-upper"]],
                      ignore_index=True).fillna(model.parameters.set_index("name")["value"])
    data = compile_model(model).run(frame, final_time=2030, outputs=["average_large_firm_size", "average_sme_size"])
    large = data["average_large_firm_size"].values
    sme = data["average_sme_size"].values
    assert large.min() >= 250 * (1 - 1e-12), f"large firms average {large.min():.0f} jobs (defined as 250+)"
    assert sme.max() < 250, f"SMEs average {sme.max():.0f} jobs (defined as under 250)"


def cohort_survival(**params: float) -> pd.Series:
    """Share of a cohort of 1,000 new SMEs alive after each year (no further births)."""
    out = run_model(fresh("sme_growth"), params={"sme_birth_rate": 0, **params},
                    columns=["new_smes", "young_smes", "mature_smes"], final_time=1980,
                    initial_condition=(1970, {"new_smes": 1000, "young_smes": 0, "mature_smes": 0}))
    return out.sum(axis=1) / 1000


def test_ageing_chain_matches_eurostat_one_and_five_year_survival_together():
    alive = cohort_survival()
    msg = f"survival after 1 year {alive[1971]:.3f}, after 5 years {alive[1975]:.3f}"
    assert 0.80 <= alive[1971] <= 0.82, msg  # Eurostat business demography: 80-82 %
    assert 0.42 <= alive[1975] <= 0.46, msg  # Eurostat: about 44 %
    # the declared hazard ranges bracket both targets, so calibration and sweeps can reach them
    low = cohort_survival(new_sme_hazard=0.16, young_sme_hazard=0.18)
    high = cohort_survival(new_sme_hazard=0.24, young_sme_hazard=0.26)
    assert low[1971] > 0.82, (low[1971], high[1971])
    assert high[1971] < 0.80, (low[1971], high[1971])
    assert low[1975] > 0.46, (low[1975], high[1975])
    assert high[1975] < 0.42, (low[1975], high[1975])


def test_sme_support_lowers_both_young_hazards_and_costs_per_supported_firm():
    model = fresh("sme_growth")
    cols = ["new_sme_deaths", "new_smes", "young_sme_deaths", "young_smes", "cumulative_programme_cost",
            "sme_support_spend"]
    out = run_model(model, params={"sme_support": 0.25}, columns=cols)
    assert_allclose(out.loc[1980, "new_sme_deaths"] / out.loc[1980, "new_smes"], 0.2 * 0.75, rtol=1e-12, atol=0)
    assert_allclose(out.loc[1980, "young_sme_deaths"] / out.loc[1980, "young_smes"], 0.22 * 0.75, rtol=1e-12, atol=0)
    cost = float(model.components.sme_support_cost_per_firm())
    supported = out.loc[1980, "new_smes"] + out.loc[1980, "young_smes"]
    assert_allclose(out.loc[1980, "sme_support_spend"], 0.25 * cost * supported / 1000, rtol=1e-12, atol=0)
    assert_allclose(out.loc[:1974, "cumulative_programme_cost"], 0, rtol=0, atol=0)


# ---------------------------------------------------------------- stakeholder_alignment

SA_PROGRAMME = {"engagement_effort": 1.0, "sme_representation_quota": 0.2}
SA_COLS = ["trust", "indicated_trust", "trust_change", "benefit_shortfall", "alignment", "engaged_sme_share"]


def benefit_failure_run(**params: float) -> pd.DataFrame:
    """An engaging programme whose SME benefit (1.2 from 1975) collapses to 0.8 in 1990."""
    times = np.arange(1970, 2020.25, 0.25)
    benefit = pd.Series(np.where(times < 1975, 1.0, np.where(times < 1990, 1.2, 0.8)), index=times)
    return run_model(fresh("stakeholder_alignment"), columns=SA_COLS, saveper=0.25,
                     params={**SA_PROGRAMME, "perceived_sme_attractiveness": benefit, **params})


def test_trust_erodes_fast_when_the_sme_benefit_falls_short():
    out = benefit_failure_run()
    before = out.loc[1989.75, "trust"]
    after = out.loc[1991.0, "trust"]
    msg = f"trust 1989.75 {before:.3f}, 1991 {after:.3f}, min after 1990 {out.loc[1990:, 'trust'].min():.3f}"
    assert out.loc[1990.25, "benefit_shortfall"] > 0.2, msg  # 0.8 against an expected 1.2: a third short
    assert after < before - 0.1, msg
    # trust_erosion_time acts: eroding over 0.5 instead of 1 year loses more trust in the first year
    fast, slow = benefit_failure_run(trust_erosion_time=0.5), benefit_failure_run(trust_erosion_time=1.0)
    assert fast.loc[1991.0, "trust"] < slow.loc[1991.0, "trust"] - 0.02, (fast.loc[1991.0, "trust"],
                                                                           slow.loc[1991.0, "trust"])


def test_trust_builds_slowly_and_erodes_fast():
    out = benefit_failure_run(trust_build_time=3.0, trust_erosion_time=0.75)
    gap = out["indicated_trust"] - out["trust"]
    rising, falling = out[gap > 1e-6], out[gap < -1e-6]
    assert len(rising) > 10
    assert len(falling) > 2
    assert_allclose(rising["trust_change"], (rising["indicated_trust"] - rising["trust"]) / 3.0, rtol=1e-12, atol=0)
    assert_allclose(falling["trust_change"], (falling["indicated_trust"] - falling["trust"]) / 0.75, rtol=1e-12,
                    atol=0)
    # the documented asymmetry in time: after the benefit collapses, trust closes half its gap within a year;
    # after engagement starts, it takes more than two years to close half of its gap
    start_gap = out.loc[1990.25, "indicated_trust"] - out.loc[1990.0, "trust"]
    assert out.loc[1991.0, "trust"] - out.loc[1990.25, "indicated_trust"] < 0.5 * abs(start_gap)


def test_sharing_programme_acts_through_network_density_only():
    cols = ["network_density", "alignment", "trust", "engaged_sme_share"]
    base = run_model(fresh("stakeholder_alignment"), params=SA_PROGRAMME, columns=cols)
    shared = run_model(fresh("stakeholder_alignment"), params={**SA_PROGRAMME, "knowledge_sharing_intensity": 1.0},
                       columns=cols)
    assert shared.loc[END, "network_density"] > base.loc[END, "network_density"] + 0.05
    assert_allclose(shared[["alignment", "trust", "engaged_sme_share"]], base[["alignment", "trust",
                                                                              "engaged_sme_share"]], rtol=0, atol=0)


def test_engaged_share_stays_below_one_at_the_largest_recruitment():
    out = run_model(fresh("stakeholder_alignment"), columns=["engaged_sme_share", "engagement"],
                    params={"engagement_effort": 2.0, "sme_recruitment_rate": 0.5, "initial_trust": 0.2,
                            "trust_gain_from_engagement": 3.0, "sme_attractiveness_gain": 1.0,
                            "benefit_elasticity_of_engagement": 2.0, "engagement_fatigue_rate": 0.05,
                            "births_per_sme": 0.08})
    assert (out["engaged_sme_share"] < 1).all()
    assert (out["engaged_sme_share"] >= 0).all()
    assert out["engaged_sme_share"].max() > 0.8  # most of the pool joins, and the flow stays bounded


# ---------------------------------------------------------------- knowledge_spillover

REGIONS = ["LEADER", "FOLLOWER", "LAGGARD"]
KS_OUT = ["knowledge_stock", "knowledge_intensity", "between_cluster_spillover", "within_cluster_spillover",
          "network_density", "alignment", "absorptive_capacity", "sme_knowledge", "patents", "output"]


def region_array(values, dims=("Region",)) -> xr.DataArray:
    coords = {d: REGIONS for d in dims}
    return xr.DataArray(np.asarray(values, dtype=float), dims=list(dims), coords=coords)


def knowledge_runs(*scenarios: dict) -> xr.Dataset:
    """Batch runs of knowledge_spillover (the engine agrees with PySD to round-off, see tests/engine)."""
    model = ce.load_model("knowledge_spillover")
    defaults = {"between_cluster_exchange_intensity": 0.0, "knowledge_sharing_intensity": 0.0, "rd_intensity": 0.02,
                "knowledge_productivity": 1.0, "relative_rd_intensity": region_array(RD), "distance": NEAR}
    keys = {k for s in scenarios for k in s}
    rows = [{k: s.get(k, defaults[k]) for k in keys} for s in scenarios]
    frame = pd.DataFrame(rows if keys else [{}] * len(scenarios))
    return compile_model(model).run(frame, outputs=KS_OUT)


NEAR = region_array([[0, 120, 200], [120, 0, 150], [200, 150, 0]], dims=("Region", "Partner"))  # the model's
FAR = region_array([[0, 120, 400], [120, 0, 350], [400, 350, 0]], dims=("Region", "Partner"))
RD = np.array([2.0, 1.0, 0.4])  # relative R&D intensities of the model


def test_between_cluster_spillover_exists_without_a_programme_and_leaders_absorb_nothing():
    run = knowledge_runs({}).isel(scenario=0)
    spill = run["between_cluster_spillover"].sel(time=1980)
    assert float(spill.sel(Region="LAGGARD")) > 0
    assert float(spill.sel(Region="FOLLOWER")) > 0
    assert float(spill.sel(Region="LEADER")) == 0


def test_doubling_partners_rd_raises_a_lagging_region_by_bottazzi_peri_size_and_nothing_beyond_300_km():
    doubled = RD * np.array([2, 2, 1])
    runs = knowledge_runs({"distance": NEAR}, {"relative_rd_intensity": region_array(doubled)},
                          {"distance": FAR}, {"distance": FAR, "relative_rd_intensity": region_array(doubled)})
    k = runs["knowledge_stock"].sel(time=2020, Region="LAGGARD").values
    gain, gain_far = k[1] / k[0] - 1, k[3] / k[2] - 1
    # Bottazzi and Peri (2003): about 2-3 % more innovation per doubling of R&D within 300 km
    assert 0.015 < gain < 0.04, f"laggard knowledge +{gain:.2%} when its partners' R&D doubles"
    assert gain_far == 0, f"partners beyond 300 km still add {gain_far:.2%}"
    far = runs["between_cluster_spillover"].isel(scenario=2).sel(Region="LAGGARD").values
    assert_allclose(far, 0, rtol=0, atol=0)


def test_the_exchange_lever_scales_the_baseline_exchange():
    runs = knowledge_runs({"between_cluster_exchange_intensity": 0.0}, {"between_cluster_exchange_intensity": 0.5},
                          {"between_cluster_exchange_intensity": 2})
    first = runs["between_cluster_spillover"].sel(time=1975, Region="LAGGARD").values  # same stocks in all runs
    assert_allclose(first[1:] / first[0], [1.5, 3.0], rtol=1e-12, atol=0)


def test_the_sharing_lever_has_one_channel_network_density():
    runs = knowledge_runs({"knowledge_sharing_intensity": 0.0}, {"knowledge_sharing_intensity": 2.0})
    for i in (0, 1):
        r = runs.isel(scenario=i).sel(time=slice(1976, 2000))
        gap = np.maximum(r["knowledge_stock"] - r["sme_knowledge"], 0)
        implied = r["within_cluster_spillover"] / (r["network_density"] * r["alignment"] * r["absorptive_capacity"]
                                                   * gap)
        assert_allclose(implied.values, 0.5, rtol=1e-9, atol=0)  # within_cluster_spillover_rate, no extra factor
    density = runs["network_density"].sel(time=1980, Region="LAGGARD").values
    assert density[1] > density[0]


def test_the_knowledge_leader_is_not_the_largest_region():
    run = knowledge_runs({}).isel(scenario=0).sel(time=1970)
    intensity, output = run["knowledge_intensity"].to_series(), run["output"].to_series()
    assert intensity.idxmax() != output.idxmax(), (intensity.to_dict(), output.to_dict())
    assert np.corrcoef(intensity, output)[0, 1] < 0.5


def test_rd_intensity_and_knowledge_productivity_only_fix_the_knowledge_unit_of_the_module():
    """Documented property: with knowledge starting at the equilibrium of its own R&D, a uniform R&D intensity and
    nu scale every knowledge level (and patents) by (nu rho^lambda)^(1/(1-phi)); ratios do not move."""
    runs = knowledge_runs({"between_cluster_exchange_intensity": 0.5},
                          {"between_cluster_exchange_intensity": 0.5, "rd_intensity": 0.03,
                           "knowledge_productivity": 2})
    factor = (2 * 1.5 ** 0.85) ** (1 / (1 - 0.3))
    for name in ("knowledge_stock", "sme_knowledge", "patents", "knowledge_intensity"):
        assert_allclose(runs[name].isel(scenario=1).values, factor * runs[name].isel(scenario=0).values,
                        rtol=1e-9, atol=0, err_msg=name)
    assert_allclose(runs["absorptive_capacity"].isel(scenario=1).values,
                    runs["absorptive_capacity"].isel(scenario=0).values, rtol=1e-9, atol=0)
