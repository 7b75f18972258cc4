"""The founding study's behavioural claims, checked on the models run in PySD.

Each test compares computed runs (never hard-coded outputs) and states the numbers in its message:
late engagement lowers SME jobs per unit of investment; a higher SME representation quota raises alignment and
SME jobs; between-cluster exchange raises the knowledge of lagging regions more than that of leading ones; with
alignment forced to zero the SME benefit of investment collapses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from models_helpers import by_element, fresh, regional_run, run_model
from numpy.testing import assert_allclose

END = 2000.0


def total(frame: pd.DataFrame, name: str, time: float = END) -> float:
    return float(by_element(frame, name, time).sum())


# ---------------------------------------------------------------- regional_cluster (48 states)

@pytest.mark.slow
def test_late_engagement_yields_fewer_sme_jobs_per_unit_of_investment():
    early = regional_run()  # engagement starts with the investment (delay 0)
    late = regional_run(engagement_start_delay=15)
    sme_early, sme_late = total(early, "sme_employment"), total(late, "sme_employment")
    spend_early, spend_late = total(early, "cumulative_public_spend"), total(late, "cumulative_public_spend")
    msg = (f"SME employment 2000: early {sme_early:.0f}, late {sme_late:.0f} thousand; per USD million of "
           f"programme spend: early {sme_early / spend_early:.4f}, late {sme_late / spend_late:.4f}")
    assert sme_late < 0.97 * sme_early, msg
    assert sme_late / spend_late < sme_early / spend_early, msg
    # in every state, not just in total
    assert (by_element(late, "sme_employment", END) < by_element(early, "sme_employment", END)).all(), msg


@pytest.mark.slow
def test_higher_representation_quota_raises_alignment_and_sme_jobs():
    base = regional_run()  # quota 0.2
    high = regional_run(sme_representation_quota=0.6)
    align_base = by_element(base, "alignment", END)
    align_high = by_element(high, "alignment", END)
    sme_base, sme_high = total(base, "sme_employment"), total(high, "sme_employment")
    msg = (f"mean alignment 2000: quota 0.2 {align_base.mean():.3f}, quota 0.6 {align_high.mean():.3f}; "
           f"SME employment 2000: {sme_base:.0f} vs {sme_high:.0f} thousand")
    assert (align_high > align_base + 0.02).all(), msg
    assert sme_high > 1.02 * sme_base, msg
    assert (by_element(high, "sme_seat_share", END) >= 0.6 - 1e-12).all(), msg


@pytest.mark.slow
def test_between_cluster_exchange_lifts_lagging_regions_more_than_leaders():
    none = regional_run(between_cluster_exchange_intensity=0)
    some = regional_run()  # exchange intensity 0.5
    gain = by_element(some, "knowledge_stock", END) / by_element(none, "knowledge_stock", END) - 1
    intensity = by_element(none, "knowledge_intensity", 1970.0)
    group = by_element(none, "exchange_group", 1970.0)
    frame = pd.DataFrame({"gain": gain, "intensity": intensity, "group": group})
    for code, members in frame.groupby("group"):
        leader = members["intensity"].idxmax()
        laggard = members["intensity"].idxmin()
        msg = (f"group {code:.0f}: leader {leader} gains {members.loc[leader, 'gain']:.4f}, "
               f"laggard {laggard} gains {members.loc[laggard, 'gain']:.4f}")
        assert_allclose(members.loc[leader, "gain"], 0.0, rtol=0, atol=1e-12, err_msg=msg)
        assert members.loc[laggard, "gain"] > 0.005, msg
    terciles = pd.qcut(frame["intensity"], 3, labels=["lagging", "middle", "leading"])
    by_tercile = frame.groupby(terciles, observed=True)["gain"].mean()
    assert by_tercile["lagging"] > 2 * by_tercile["leading"], by_tercile.to_dict()


@pytest.mark.slow
def test_sme_benefit_of_investment_collapses_without_alignment():
    benefit = total(regional_run(), "sme_employment") - total(regional_run(public_investment_share=0),
                                                                  "sme_employment")
    benefit0 = (total(regional_run(alignment=0), "sme_employment")
                - total(regional_run(alignment=0, public_investment_share=0), "sme_employment"))
    msg = f"SME jobs from investment by 2000: {benefit:.0f} thousand aligned, {benefit0:.0f} with alignment 0"
    assert benefit > 1000, msg
    assert abs(benefit0) < 0.1 * benefit, msg


# ---------------------------------------------------------------- the modules alone

@pytest.mark.slow
def test_cluster_investment_late_engagement_same_capital_less_sme_fit():
    cols = ["public_capital", "sme_relevant_public_capital", "cumulative_public_spend"]
    # a programme of 1 % of output; fit elasticity 0: alignment then leaves output, so investment is identical
    same = {"public_investment_share": 0.01, "fit_elasticity_of_public_capital": 0}
    early = run_model(fresh("cluster_investment"), params=same, columns=cols)
    late = run_model(fresh("cluster_investment"), params={**same, "engagement_start_delay": 10}, columns=cols)
    assert_allclose(late["cumulative_public_spend"], early["cumulative_public_spend"], rtol=1e-12, atol=0)
    assert_allclose(late["public_capital"], early["public_capital"], rtol=1e-12, atol=0)
    e, lt = early.loc[END, "sme_relevant_public_capital"], late.loc[END, "sme_relevant_public_capital"]
    assert lt < 0.95 * e, f"SME-relevant public capital 2000: early {e:.0f}, late {lt:.0f} USD million"


@pytest.mark.slow
def test_sme_support_raises_sme_employment():
    cols = ["sme_employment", "young_sme_deaths"]
    base = run_model(fresh("sme_growth"), columns=cols)
    support = run_model(fresh("sme_growth"), params={"sme_support": 0.25}, columns=cols)
    b, s = base.loc[END, "sme_employment"], support.loc[END, "sme_employment"]
    assert s > 1.05 * b, f"SME employment 2000: no support {b:.1f}, support 0.25 {s:.1f} thousand"
    assert_allclose(support.loc[:1974, "sme_employment"], base.loc[:1974, "sme_employment"], rtol=1e-12, atol=0)


@pytest.mark.slow
def test_knowledge_exchange_lifts_the_laggard_most():
    cols = ["knowledge_stock"]
    none = run_model(fresh("knowledge_spillover"), params={"between_cluster_exchange_intensity": 0}, columns=cols,
                     final_time=END)
    some = run_model(fresh("knowledge_spillover"), params={"between_cluster_exchange_intensity": 0.5}, columns=cols,
                     final_time=END)
    gain = by_element(some, "knowledge_stock", END) / by_element(none, "knowledge_stock", END) - 1
    assert_allclose(gain["LEADER"], 0.0, rtol=0, atol=1e-12)
    assert gain["LAGGARD"] > gain["FOLLOWER"] > 0, gain.to_dict()


def test_quota_and_early_engagement_raise_alignment():
    cols = ["alignment", "sme_seat_share"]
    # a programme that engages SMEs early, with a quota of 0.2 and a sharing programme of 0.5
    programme = {"engagement_effort": 1, "sme_representation_quota": 0.2, "knowledge_sharing_intensity": 0.5}
    base = run_model(fresh("stakeholder_alignment"), params=programme, columns=cols)
    quota = run_model(fresh("stakeholder_alignment"), params={**programme, "sme_representation_quota": 0.6},
                      columns=cols)
    late = run_model(fresh("stakeholder_alignment"), params={**programme, "engagement_start_delay": 10}, columns=cols)
    msg = (f"alignment 1985: quota 0.2 {base.loc[1985, 'alignment']:.3f}, quota 0.6 "
           f"{quota.loc[1985, 'alignment']:.3f}, late engagement {late.loc[1985, 'alignment']:.3f}")
    assert quota.loc[1985, "alignment"] > base.loc[1985, "alignment"] + 0.02, msg
    assert late.loc[1985, "alignment"] < base.loc[1985, "alignment"] - 0.1, msg
    assert np.all(late.loc[:1974, "alignment"].to_numpy() == base.loc[:1974, "alignment"].to_numpy())
