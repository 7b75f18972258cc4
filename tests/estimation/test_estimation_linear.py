"""Linear panel estimators: conventions, bad input, and the Holtz-Eakin point on the US states."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from linearmodels.panel import PanelOLS
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import ClusterEconWarning, DataValidationError, SpecError

PRODUCTION = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"


@pytest.fixture(scope="module")
def states() -> ce.RegionalPanel:
    return ce.load_dataset("us_states")


@pytest.fixture(scope="module")
def grunfeld() -> ce.RegionalPanel:
    return ce.load_dataset("grunfeld")


def _xtreg_fe_cluster(panel: ce.RegionalPanel, y: str, xs: list[str], *, year_dummies: bool) -> pd.Series:
    """Stata's xtreg, fe [i.year] vce(cluster id), written out: OLS on (v - mean_i(v) + mean(v))."""
    frame = panel.frame.reset_index()
    cols = frame[[y, *xs]].astype(float)
    if year_dummies:
        cols = pd.concat([cols, pd.get_dummies(frame[panel.time], prefix="yr", drop_first=True, dtype=float)], axis=1)
    demeaned = cols - cols.groupby(frame[panel.entity]).transform("mean") + cols.mean()
    x = sm.add_constant(demeaned.drop(columns=y))
    res = sm.OLS(demeaned[y], x).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(frame[panel.entity])[0]})
    return res.bse[xs]


def test_time_effects_with_entity_clusters_count_the_period_dummies(grunfeld: ce.RegionalPanel) -> None:
    res = ce.panel_ols("inv ~ value + capital", grunfeld, effects=("time",), cov_type="clustered")
    frame = grunfeld.frame.reset_index()
    years = pd.get_dummies(frame["year"], prefix="yr", drop_first=True, dtype=float)
    x = sm.add_constant(pd.concat([frame[["value", "capital"]], years], axis=1))
    ols = sm.OLS(frame["inv"], x).fit(cov_type="cluster", cov_kwds={"groups": frame["firm"].to_numpy()})
    # Stata: regress inv value capital i.year, vce(cluster firm)
    assert_allclose(res.params[["value", "capital"]].to_numpy(), ols.params[["value", "capital"]], rtol=1e-9, atol=0)
    assert_allclose(res.std_errors[["value", "capital"]].to_numpy(), ols.bse[["value", "capital"]], rtol=1e-8, atol=0)


@pytest.mark.parametrize("effects", [("entity",), ("entity", "time")])
def test_clustered_errors_follow_xtreg_fe_vce_cluster(grunfeld: ce.RegionalPanel, effects: tuple[str, ...]) -> None:
    res = ce.panel_ols("inv ~ value + capital", grunfeld, effects=effects, cov_type="clustered")
    expected = _xtreg_fe_cluster(grunfeld, "inv", ["value", "capital"], year_dummies="time" in effects)
    assert_allclose(res.std_errors[["value", "capital"]].to_numpy(), expected.to_numpy(), rtol=1e-8, atol=0)
    assert res.df_inference == 9  # t(G - 1), G = 10 firms


def test_driscoll_kraay_agrees_across_engines(states: ce.RegionalPanel) -> None:
    pooled = ce.panel_ols(PRODUCTION, states, effects=(), cov_type="driscoll_kraay")  # statsmodels
    frame = states.frame
    x = pd.DataFrame({"Intercept": 1.0, "log(pcap)": np.log(frame["pcap"]), "log(pc)": np.log(frame["pc"]),
                      "log(emp)": np.log(frame["emp"]), "unemp": frame["unemp"]})
    direct = PanelOLS(np.log(frame["gsp"]), x).fit(cov_type="kernel", kernel="bartlett", bandwidth=2)
    assert_allclose(pooled.std_errors.to_numpy(), direct.std_errors.to_numpy(), rtol=1e-9, atol=0)
    assert pooled.df_inference == 16


def test_public_capital_identity_and_holtz_eakin_point(states: ce.RegionalPanel) -> None:
    frame = states.frame
    assert_allclose(frame["pcap"], frame["hwy"] + frame["water"] + frame["util"], rtol=1e-6, atol=0.02)
    pooled = ce.panel_ols(PRODUCTION, states, effects=())
    within = ce.panel_ols(PRODUCTION, states, effects=("entity",))
    # Munnell's pooled elasticity of public capital is 0.155; with state effects it is -0.026
    assert_allclose(pooled.params["log(pcap)"], 0.1550, rtol=0, atol=5e-4)
    assert_allclose(within.params["log(pcap)"], -0.0261, rtol=0, atol=5e-4)
    assert within.params["log(pcap)"] < pooled.params["log(pcap)"] - 0.15
    assert pooled.pvalues["log(pcap)"] < 0.05 < within.pvalues["log(pcap)"]


def test_first_difference_matches_ols_on_differenced_data(states: ce.RegionalPanel) -> None:
    res = ce.first_difference("gsp ~ pcap + emp", states, cov_type="unadjusted")
    dy = states.diff("gsp")
    dx = pd.concat([states.diff("pcap"), states.diff("emp")], axis=1)
    keep = dy.notna() & dx.notna().all(axis=1)
    ols = sm.OLS(dy[keep].to_numpy(), dx[keep].to_numpy()).fit()
    assert_allclose(res.params[["pcap", "emp"]].to_numpy(), ols.params, rtol=1e-9, atol=0)
    assert_allclose(res.std_errors[["pcap", "emp"]].to_numpy(), ols.bse, rtol=1e-9, atol=0)
    assert res.nobs == 816 - 48


def test_first_difference_with_time_effects_adds_intercept_and_period_dummies(states: ce.RegionalPanel) -> None:
    res = ce.first_difference(PRODUCTION, states, effects=("time",), cov_type="unadjusted")
    dummies = [t for t in res.params.index if t.startswith("period[")]
    assert res.params.index[0] == "Intercept"
    assert dummies == [f"period[{y}]" for y in range(1972, 1987)]  # 1971 is the base differenced period
    # same slopes as a full set of period dummies without intercept
    frame = pd.DataFrame({"dy": states.diff("gsp")})
    design = ce.estimation._formula.build_design(
        "diff(log(gsp)) ~ diff(log(pcap)) + diff(log(pc)) + diff(log(emp)) + diff(unemp)", states
    )
    periods = pd.get_dummies(design.y.index.get_level_values("year"), dtype=float)
    ols = sm.OLS(design.y.to_numpy(), np.column_stack([design.exog.to_numpy(), periods.to_numpy()])).fit()
    assert_allclose(res.params.iloc[1:5].to_numpy(), ols.params[:4], rtol=1e-8, atol=1e-12)
    assert len(frame) == 816


def test_absorbed_regressor_is_named_or_dropped_with_a_warning() -> None:
    panel = ce.load_dataset("uk_firms")
    with pytest.raises(SpecError, match=r"'sector' does not vary once the entity effects are removed"):
        ce.panel_ols("n ~ w + sector", panel)
    with pytest.warns(ClusterEconWarning, match="dropped 'sector'") as record:
        res = ce.panel_ols("n ~ w + sector", panel, drop_absorbed=True)
    assert record[0].filename == __file__  # points at the caller's line
    assert list(res.params.index) == ["Intercept", "w"]


def test_collinear_regressor_is_named(grunfeld: ce.RegionalPanel) -> None:
    frame = grunfeld.frame.reset_index()
    frame["value2"] = 2 * frame["value"]
    panel = ce.RegionalPanel.from_frame(frame, entity="firm", time="year", name="g2")
    with pytest.raises(SpecError, match=r"'value2' is perfectly collinear with 'value'"):
        ce.panel_ols("inv ~ value + value2", panel, effects=())


def test_between_names_regressors_constant_in_the_means(grunfeld: ce.RegionalPanel) -> None:
    message = (
        r"'C\(year\)\[T\.1936\]', .* are constant, so they are collinear with the intercept\. "
        r"Remove them from the formula\.$"
    )
    with pytest.raises(SpecError, match=message):
        ce.between_ols("inv ~ value + C(year)", grunfeld)


def test_too_few_periods_for_first_differences() -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "t": [2000, 2000, 2001], "y": [1.0, 2.0, 3.0], "x": [0.5, 0.1, 0.7]})
    panel = ce.RegionalPanel.from_frame(frame, entity="id", time="t", name="short")
    with pytest.raises(DataValidationError, match="too few consecutive periods"):
        ce.first_difference("y ~ x", panel)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: ce.panel_ols("inv ~ value", p, cov_type="cluster"), "Did you mean 'clustered'"),
        (lambda p: ce.panel_ols("inv ~ value", p, effects="entity"), "must be a tuple"),
        (lambda p: ce.panel_ols("inv ~ value", p, effects=("firm",)), "effects='firm' is not valid"),
        (lambda p: ce.random_effects("inv ~ value", p, method="gls"), "method='gls' is not valid"),
        (lambda p: ce.first_difference("inv ~ value", p, effects=("entity",)), "removes the entity effects"),
        (lambda p: ce.panel_ols("inv ~ value", p.frame), "Expected a RegionalPanel"),
    ],
)
def test_bad_options_raise_clear_errors(grunfeld: ce.RegionalPanel, call, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        call(grunfeld)


def test_hausman_and_random_effects_ml(grunfeld: ce.RegionalPanel) -> None:
    fe = ce.panel_ols("inv ~ value + capital", grunfeld, cov_type="unadjusted")
    re = ce.random_effects("inv ~ value + capital", grunfeld)
    test = ce.hausman(fe, re)
    b = (fe.params - re.params)[["value", "capital"]].to_numpy()
    v = (fe.cov - re.cov).loc[["value", "capital"], ["value", "capital"]].to_numpy()
    assert_allclose(test.statistic, b @ np.linalg.solve(v, b), rtol=1e-10, atol=0)
    assert test.distribution == "chi2(2)"
    ml = ce.random_effects("inv ~ value + capital", grunfeld, method="ml")
    assert_allclose(ml.params[["value", "capital"]].to_numpy(), re.params[["value", "capital"]].to_numpy(),
                    rtol=0, atol=1e-3)
    assert ml.engine == "statsmodels MixedLM"
    with pytest.raises(SpecError, match="two EstimationResult"):
        ce.hausman(fe, "re")
    clustered = ce.panel_ols("inv ~ value + capital", grunfeld)
    with pytest.warns(ClusterEconWarning, match="fe_result has cov_type='clustered'; the classic test needs"):
        ce.hausman(clustered, re)


def test_estimators_do_not_mutate_the_panel(grunfeld: ce.RegionalPanel) -> None:
    before = grunfeld.frame.copy()
    ce.panel_ols("log(inv) ~ lag(value, 1) + capital", grunfeld, effects=("entity", "time"))
    ce.first_difference("inv ~ value", grunfeld, effects=("time",))
    pd.testing.assert_frame_equal(grunfeld.frame, before)


@settings(max_examples=8, deadline=None)
@given(st.randoms(use_true_random=False))
def test_permuting_rows_leaves_estimates_unchanged(rng) -> None:
    panel = ce.load_dataset("grunfeld")
    frame = panel.frame.reset_index()
    order = list(range(len(frame)))
    rng.shuffle(order)
    shuffled = ce.RegionalPanel.from_frame(frame.iloc[order], entity="firm", time="year", name="grunfeld")
    for effects in [(), ("entity", "time")]:
        a = ce.panel_ols("inv ~ value + lag(capital, 1)", panel, effects=effects)
        b = ce.panel_ols("inv ~ value + lag(capital, 1)", shuffled, effects=effects)
        assert_allclose(b.params.to_numpy(), a.params.to_numpy(), rtol=1e-9, atol=1e-12)
        assert_allclose(b.std_errors.to_numpy(), a.std_errors.to_numpy(), rtol=1e-9, atol=1e-12)


def test_random_effects_ml_on_log_scale_data_does_not_warn(states: ce.RegionalPanel) -> None:
    # statsmodels flags effects' variances below 0.01 as "on the boundary" whatever the units;
    # here sigma_u is about 0.08 on log output, far from zero (cluster_econ warnings are errors in tests)
    ml = ce.random_effects(PRODUCTION, states, method="ml")
    sa = ce.random_effects(PRODUCTION, states)
    assert 0.03 < ml.statistics["sigma_u"] < 0.3
    assert_allclose(ml.params["log(pc)"], sa.params["log(pc)"], rtol=0, atol=0.02)


def test_first_difference_clustered_by_period(states: ce.RegionalPanel) -> None:
    res = ce.first_difference("gsp ~ pcap + emp", states, cluster=("time",))
    dy = states.diff("gsp")
    dx = pd.concat([states.diff("pcap"), states.diff("emp")], axis=1)
    keep = (dy.notna() & dx.notna().all(axis=1)).to_numpy()
    years = dy.index.get_level_values("year")[keep]
    ols = sm.OLS(dy[keep].to_numpy(), dx[keep].to_numpy()).fit(cov_type="cluster", cov_kwds={"groups": years})
    assert_allclose(res.std_errors.to_numpy(), ols.bse, rtol=1e-9, atol=0)
    assert res.df_inference == 15  # 16 differenced periods


def test_non_psd_two_way_clustered_covariance_is_repaired_with_a_warning(states: ce.RegionalPanel) -> None:
    with pytest.warns(ClusterEconWarning, match="not positive semi-definite; its negative eigenvalues were set") as rec:
        res = ce.first_difference(PRODUCTION, states, effects=("time",), cluster=("entity", "time"))
    assert rec[0].filename == __file__
    assert np.all(np.isfinite(res.std_errors)) and np.all(np.linalg.eigvalsh(res.cov.to_numpy()) > -1e-12)
