"""ce.sweep: paired reference runs, indicators against hand-made simulate_batch runs, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce

LEVERS = [ce.Lever("subsidy", 0.0, 1.0)]
UNCERTAINTIES = [ce.Uncertainty("growth", 0.0, 0.04), ce.Uncertainty("productivity", 30, 70, distribution="triangular",
                                                                       mode=50)]
OUTCOMES = [ce.Outcome("employment"), ce.Outcome("output", time="all"), ce.Outcome("employment", time=10.0,
                                                                                     name="jobs_1980")]


def _toy_sweep(toy, **kw):
    args = dict(levers=LEVERS, uncertainties=UNCERTAINTIES, outcomes=OUTCOMES, n=40, seed=3,
                reference={"subsidy": 0.0})
    args.update(kw)
    return ce.sweep(toy, **args)


def test_indicators_equal_paired_simulate_batch_runs(toy) -> None:
    rate, horizon = 0.05, 15.0
    res = _toy_sweep(toy, indicators={"discount_rate": rate, "horizon": horizon})
    exp = res.experiments
    policy = ce.simulate_batch(toy, exp, outputs=["employment", "output", "sme_employment",
                                                  "cumulative_programme_cost"])
    ref_frame = exp.assign(subsidy=0.0)
    ref = ce.simulate_batch(toy, ref_frame, outputs=["employment", "output", "sme_employment",
                                                     "cumulative_programme_cost"])
    t = policy["time"].values
    keep = t <= horizon
    tt = t[keep]
    net = (policy["employment"] - ref["employment"]).values[:, keep]
    spend = (policy["cumulative_programme_cost"] - ref["cumulative_programme_cost"]).values[:, keep]
    va = (policy["output"] - ref["output"]).values[:, keep]
    disc = (1 + rate) ** -(tt - 0.0)
    ind = res.indicators
    assert_allclose(ind["net_jobs"], net[:, -1], rtol=1e-9, atol=0)
    assert_allclose(ind["net_job_years"], np.trapezoid(net, tt, axis=1), rtol=1e-9, atol=0)
    assert_allclose(ind["cost_per_net_job"], spend[:, -1] / net[:, -1], rtol=1e-9, atol=0)
    assert_allclose(ind["net_jobs_per_million"], net[:, -1] / (spend[:, -1] * 1e3 / 1e6), rtol=1e-9, atol=0)
    pv = np.trapezoid(va * disc, tt, axis=1)
    assert_allclose(ind["present_value_added"], pv, rtol=1e-9, atol=0)
    pv_cost = np.sum(np.diff(spend, axis=1) * (disc[1:] + disc[:-1]) / 2, axis=1)
    assert_allclose(ind["benefit_cost_ratio"], pv / pv_cost, rtol=1e-9, atol=0)
    assert_allclose(ind["output_multiplier"], np.trapezoid(va, tt, axis=1) / spend[:, -1], rtol=1e-9, atol=0)
    net_sme = (policy["sme_employment"] - ref["sme_employment"]).values[:, keep][:, -1]
    assert_allclose(ind["sme_share_of_net_jobs"], net_sme / net[:, -1], rtol=1e-9, atol=0)
    share = policy["sme_employment"].values[:, keep][:, -1] / policy["employment"].values[:, keep][:, -1]
    assert_allclose(ind["sme_share_of_employment"], share, rtol=1e-9, atol=0)
    first = np.array([tt[np.argmax(row >= 1.0)] if (row >= 1.0).any() else np.nan for row in net])
    assert_allclose(ind["time_to_first_net_job"], first, rtol=0, atol=0)
    units = res.indicator_units
    assert units["cost_per_net_job"] == "USD thousand / (jobs)" and units["net_jobs"] == "jobs"
    assert units["net_jobs_per_million"] == "jobs per million USD" and list(units) == list(ind.columns)
    # the programme starts at t = 3: no net job before it
    assert (ind["time_to_first_net_job"].dropna() > 3).all()
    # scalar outcomes are the policy runs' values
    assert_allclose(res.outcomes["employment"], policy["employment"].values[:, -1], rtol=1e-12, atol=0)
    assert_allclose(res.outcomes["jobs_1980"], policy["employment"].sel(time=10.0).values, rtol=1e-12, atol=0)
    assert_allclose(res.data["output"].values, policy["output"].values, rtol=1e-12, atol=0)


def test_reference_runs_share_the_uncertainty_draws(toy) -> None:
    """A scenario whose levers equal the reference has exactly zero net effect (common random numbers)."""
    res = _toy_sweep(toy, levers=[ce.Lever("subsidy", 0.0, 1.0, values=(0.0, 0.5))], design="full_factorial", n=5)
    ind = res.indicators
    no_policy = res.experiments["subsidy"] == 0.0
    assert no_policy.sum() == 5
    assert (ind.loc[no_policy, "net_jobs"] == 0).all()
    reasons = res.indicator_reasons
    assert ind.loc[no_policy, "cost_per_net_job"].isna().all()
    assert (reasons.loc[no_policy, "cost_per_net_job"] == "no net jobs at the horizon").all()
    assert (reasons.loc[no_policy, "benefit_cost_ratio"] == "no net programme spend at the horizon").all()
    assert not np.isinf(ind.to_numpy()).any()
    assert (reasons.loc[~no_policy, "cost_per_net_job"] == "").all()
    # same uncertainty draws for each lever value
    draws = res.experiments.groupby("subsidy")["growth"].apply(list)
    assert draws[0.0] == draws[0.5]


def test_same_seed_same_bytes_whatever_the_chunking(toy) -> None:
    a = _toy_sweep(toy)
    b = _toy_sweep(toy, chunk_size=7)
    c = _toy_sweep(toy, seed=4)
    for name in ("experiments", "outcomes", "indicators"):
        assert getattr(a, name).to_numpy().tobytes() == getattr(b, name).to_numpy().tobytes()
    assert a.data["output"].values.tobytes() == b.data["output"].values.tobytes()
    assert a.experiments.to_numpy().tobytes() != c.experiments.to_numpy().tobytes()


@pytest.mark.parametrize("design", ["lhs", "mc"])
def test_designs_stay_in_range(toy, design) -> None:
    res = _toy_sweep(toy, design=design, n=64)
    exp = res.experiments
    assert len(exp) == 64 and exp.index.name == "scenario"
    assert exp["subsidy"].between(0, 1).all() and exp["growth"].between(0, 0.04).all()
    assert exp["productivity"].between(30, 70).all()
    if design == "lhs":  # one draw in every 1/64 stratum
        strata = np.floor(exp["growth"].to_numpy() / 0.04 * 64).astype(int)
        assert sorted(strata) == list(range(64))


def test_default_reference_is_the_levers_model_value(toy) -> None:
    res = ce.sweep(toy, levers=LEVERS, outcomes=[ce.Outcome("employment")], n=4)
    assert res.reference == {"subsidy": 0.5}  # the model's value (no no_policy table for a bare file)


def test_provenance_records_the_call_and_the_result_rebuilds(toy) -> None:
    res = _toy_sweep(toy)
    call = res.provenance.details["call"]
    assert call["verb"] == "sweep"
    args = call["arguments"]
    assert args["model"]["sha256"] == toy.sha256 and args["seed"] == 3 and args["design"] == "lhs"
    assert args["levers"] == [{"name": "subsidy", "lower": 0.0, "upper": 1.0, "values": None}]
    assert args["uncertainties"][1] == {"name": "productivity", "lower": 30.0, "upper": 70.0,
                                        "distribution": "triangular", "mode": 50.0}
    import json

    json.dumps(res.provenance.to_dict())  # plain data
    cited = ce.cite(res)
    assert "model policy_toy" in cited and "seed 3" in cited and "@software{cluster_econ" in cited
    rebuilt = ce.SweepResult(res.experiments, res.outcomes, res.data, res.indicators, res.indicator_reasons,
                             res.provenance)
    pd.testing.assert_frame_equal(rebuilt.bands(), res.bands())
    # re-running the recorded call gives the same bytes
    again = ce.sweep(toy, levers=[ce.Lever(**a) for a in args["levers"]],
                     uncertainties=[ce.Uncertainty(**u) for u in args["uncertainties"]],
                     outcomes=[ce.Outcome(**o) for o in args["outcomes"]], n=args["n"], design=args["design"],
                     seed=args["seed"], reference=args["reference"])
    assert again.indicators.to_numpy().tobytes() == res.indicators.to_numpy().tobytes()


def test_progress_bar_over_chunks(toy, capsys) -> None:
    res = _toy_sweep(toy, chunk_size=10, progress=True)
    assert len(res) == 40
    assert "chunks of 10" in capsys.readouterr().err


def test_payloads_are_copies(toy) -> None:
    res = _toy_sweep(toy)
    exp, ind = res.experiments, res.indicators
    exp.iloc[0, 0] = -1.0
    ind.iloc[0, 0] = -1.0
    assert res.experiments.iloc[0, 0] != -1.0 and res.indicators.iloc[0, 0] != -1.0
    with pytest.raises(AttributeError):
        res.provenance = None  # type: ignore[misc]


def test_bands_and_summary(toy) -> None:
    res = _toy_sweep(toy)
    bands = res.bands()
    row = bands.set_index("name").loc["net_jobs"]
    assert_allclose(row["q0.5"], res.indicators["net_jobs"].median(), rtol=1e-12, atol=0)
    assert row["q0.05"] <= row["q0.5"] <= row["q0.95"]
    by = res.bands(by="subsidy")
    assert "subsidy" in by.columns and by["subsidy"].nunique() == 4
    text = str(res.summary())
    assert "policy_toy" in text and "Seed:" in text and "net_jobs" in text
    assert res._repr_html_().startswith("<")
    tidy = res.to_frame()
    assert {"scenario", "name", "value", "subsidy"} <= set(tidy.columns)


def test_regional_cluster_sweep_sums_regions(regional) -> None:
    res = ce.sweep(regional, levers=[ce.Lever("public_investment_share", 0.0, 0.05)],
                   uncertainties=[ce.Uncertainty("fit_elasticity_of_public_capital", 0.0, 1.0)],
                   outcomes=[ce.Outcome("employment", reduce="sum"), ce.Outcome("alignment", time="all")],
                   n=6, reference={"public_investment_share": 0.0}, indicators={"spend": None})
    batch = ce.simulate_batch(regional, res.experiments, outputs=["employment"])
    assert_allclose(res.outcomes["employment"], batch["employment"].values[:, -1].sum(axis=1), rtol=1e-12, atol=0)
    assert res.data["alignment"].dims == ("scenario", "time", "Region")
    ref = ce.simulate_batch(regional, res.experiments.assign(public_investment_share=0.0), outputs=["employment"])
    net = batch["employment"].values[:, -1].sum(axis=1) - ref["employment"].values[:, -1].sum(axis=1)
    assert_allclose(res.indicators["net_jobs"], net, rtol=1e-9, atol=1e-9)
    assert "cost_per_net_job" not in res.indicators  # no spend role
