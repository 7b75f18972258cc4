"""Linear panel estimators: conventions, categorical terms after dropped rows, engines, bad input.

The published US-states numbers (Munnell 1990; Baltagi) and the Holtz-Eakin comparison are in tests/golden.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from linearmodels.panel import PanelOLS, RandomEffects
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


def test_pcap_is_public_capital(states: ce.RegionalPanel) -> None:
    # the golden US-states cases read log(pcap) as public capital: pcap = hwy + water + util
    frame = states.frame
    assert_allclose(frame["pcap"], frame["hwy"] + frame["water"] + frame["util"], rtol=1e-6, atol=0.02)
    assert not np.allclose(frame["pc"], frame["hwy"] + frame["water"] + frame["util"], rtol=1e-2, atol=0)


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
    assert res.nobs == 816 - 48  # 16 differences for each of the 48 states
    # the same model as a full set of period dummies without intercept: same slopes, and the intercept
    # is the base period's effect, each period[y] the difference from it
    design = ce.estimation._formula.build_design(
        "diff(log(gsp)) ~ diff(log(pcap)) + diff(log(pc)) + diff(log(emp)) + diff(unemp)", states
    )
    periods = pd.get_dummies(design.y.index.get_level_values("year"), dtype=float)
    assert list(periods.columns) == list(range(1971, 1987))
    ols = sm.OLS(design.y.to_numpy(), np.column_stack([design.exog.to_numpy(), periods.to_numpy()])).fit()
    assert_allclose(res.params.iloc[1:5].to_numpy(), ols.params[:4], rtol=1e-8, atol=1e-12)
    assert_allclose(res.params["Intercept"], ols.params[4], rtol=1e-8, atol=1e-12)
    assert_allclose(res.params[dummies].to_numpy(), ols.params[5:] - ols.params[4], rtol=1e-7, atol=1e-12)
    assert_allclose(res.std_errors.iloc[1:5].to_numpy(), ols.bse[:4], rtol=1e-8, atol=0)


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
@pytest.mark.slow
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
    assert np.all(np.isfinite(res.std_errors))
    assert np.all(np.linalg.eigvalsh(res.cov.to_numpy()) > -1e-12)


# -- C(year) with lags: the dummies come from the rows that remain -------------------------------
DYNAMIC = "n ~ lag(n, 1) + C(year)"


@pytest.fixture(scope="module")
def firms() -> ce.RegionalPanel:
    return ce.load_dataset("uk_firms")


def _lagged_rows(panel: ce.RegionalPanel, column: str) -> pd.DataFrame:
    """The rows with a one-period lag of ``column`` (the previous year of the same entity), with that lag."""
    frame = panel.frame.reset_index().sort_values([panel.entity, panel.time])
    previous = frame.groupby(panel.entity)[[panel.time, column]].shift(1)
    frame["lagged"] = previous[column].where(previous[panel.time] == frame[panel.time] - 1)
    return frame[frame["lagged"].notna() & frame[column].notna()].reset_index(drop=True)


def _year_dummies(years: pd.Series) -> pd.DataFrame:
    dummies = pd.get_dummies(years, dtype=float).iloc[:, 1:]
    dummies.columns = [f"C(year)[T.{y}]" for y in dummies.columns]
    return dummies


def test_year_dummies_start_from_the_first_year_that_remains(firms: ce.RegionalPanel) -> None:
    # 1976 is the first year of the panel but has no lag: 1977 is the base, 1976 gets no column
    rows = _lagged_rows(firms, "n")
    assert rows["year"].min() == 1977
    assert firms.frame.index.get_level_values("year").min() == 1976
    res = ce.panel_ols(DYNAMIC, firms, effects=())
    assert list(res.params.index) == ["Intercept", "lag(n, 1)", *(f"C(year)[T.{y}]" for y in range(1978, 1985))]


@pytest.mark.parametrize("cov_type", ["unadjusted", "clustered"])
def test_pooled_lag_and_year_dummies_match_statsmodels(firms: ce.RegionalPanel, cov_type: str) -> None:
    res = ce.panel_ols(DYNAMIC, firms, effects=(), cov_type=cov_type)
    rows = _lagged_rows(firms, "n")
    x = pd.concat([pd.DataFrame({"Intercept": 1.0, "lag(n, 1)": rows["lagged"]}), _year_dummies(rows["year"])], axis=1)
    kwargs = {"cov_type": "cluster", "cov_kwds": {"groups": rows["firm"].to_numpy()}} if cov_type == "clustered" else {}
    ols = sm.OLS(rows["n"], x).fit(**kwargs)
    assert res.nobs == len(rows) == 891
    assert list(res.params.index) == list(x.columns)
    assert_allclose(res.params.to_numpy(), ols.params.to_numpy(), rtol=1e-9, atol=1e-12)
    assert_allclose(res.std_errors.to_numpy(), ols.bse.to_numpy(), rtol=1e-8, atol=0)


@pytest.mark.slow
def test_within_lag_and_year_dummies_match_dummy_variable_ols(firms: ce.RegionalPanel) -> None:
    res = ce.panel_ols(DYNAMIC, firms, cov_type="unadjusted")
    rows = _lagged_rows(firms, "n")
    firm_dummies = pd.get_dummies(rows["firm"], prefix="firm", dtype=float)
    x = pd.concat([pd.DataFrame({"lag(n, 1)": rows["lagged"]}), _year_dummies(rows["year"]), firm_dummies], axis=1)
    lsdv = sm.OLS(rows["n"], x).fit()
    slopes = ["lag(n, 1)", *(f"C(year)[T.{y}]" for y in range(1978, 1985))]
    assert list(res.params.index) == ["Intercept", *slopes]
    assert_allclose(res.params[slopes].to_numpy(), lsdv.params[slopes].to_numpy(), rtol=1e-8, atol=1e-12)
    assert_allclose(res.std_errors[slopes].to_numpy(), lsdv.bse[slopes].to_numpy(), rtol=1e-8, atol=0)


def test_random_effects_lag_and_year_dummies_match_linearmodels(firms: ce.RegionalPanel) -> None:
    res = ce.random_effects(DYNAMIC, firms)
    rows = _lagged_rows(firms, "n").set_index(["firm", "year"], drop=False)
    lagged = pd.DataFrame({"Intercept": 1.0, "lag(n, 1)": rows["lagged"]})
    x = pd.concat([lagged, _year_dummies(rows["year"]).set_axis(rows.index)], axis=1)
    direct = RandomEffects(rows["n"], x).fit()
    assert list(res.params.index) == list(x.columns)
    assert_allclose(res.params.to_numpy(), direct.params.to_numpy(), rtol=1e-9, atol=1e-12)
    assert_allclose(res.std_errors.to_numpy(), direct.std_errors.to_numpy(), rtol=1e-9, atol=0)


def test_between_lag_and_year_dummies_match_ols_on_entity_means() -> None:
    # uk_firms is observed in a handful of year spans, too few to identify year effects from firm means;
    # the Michigan firms (1987-1989, unbalanced in hrsemp) are not: 1987 has no lag, so 1988 is the base
    panel = ce.load_dataset("mi_training_grants")
    res = ce.between_ols("hrsemp ~ lag(hrsemp, 1) + C(year)", panel)
    rows = _lagged_rows(panel, "hrsemp")
    assert sorted(rows["year"].unique()) == [1988, 1989]
    rows["C(year)[T.1989]"] = (rows["year"] == 1989).astype(float)
    means = rows.groupby(panel.entity)[["hrsemp", "lagged", "C(year)[T.1989]"]].mean()
    ols = sm.OLS(means["hrsemp"], sm.add_constant(means[["lagged", "C(year)[T.1989]"]])).fit()
    assert list(res.params.index) == ["Intercept", "lag(hrsemp, 1)", "C(year)[T.1989]"]
    assert_allclose(res.params.to_numpy(), ols.params.to_numpy(), rtol=1e-9, atol=1e-12)
    assert_allclose(res.std_errors.to_numpy(), ols.bse.to_numpy(), rtol=1e-8, atol=0)
    assert res.n_entities == len(means)


# -- first differences -----------------------------------------------------------------------------
@pytest.mark.parametrize("effects", [(), ("time",)])
def test_first_difference_names_a_time_invariant_regressor(effects: tuple[str, ...]) -> None:
    panel = ce.load_dataset("uk_firms")
    message = (
        r"^'n ~ w \+ sector' \(differenced\): 'sector' does not vary over time within entities, so its first "
        r"difference is zero\. Remove it from the formula\.$"
    )
    with pytest.raises(SpecError, match=message):
        ce.first_difference("n ~ w + sector", panel, effects=effects)


def test_first_difference_names_several_time_invariant_regressors(grunfeld: ce.RegionalPanel) -> None:
    frame = grunfeld.frame.reset_index()
    frame["size"] = frame.groupby("firm")["value"].transform("mean")
    frame["group"] = frame["firm"] % 3
    panel = ce.RegionalPanel.from_frame(frame, entity="firm", time="year", name="g3")
    message = (
        r"'size', 'group' do not vary over time within entities, so their first differences are zero\. "
        r"Remove them from the formula\.$"
    )
    with pytest.raises(SpecError, match=message):
        ce.first_difference("inv ~ value + size + group", panel, cluster=("time",))


@pytest.mark.parametrize("cov_type", ["unadjusted", "robust", "clustered", "driscoll_kraay"])
def test_first_difference_engines_agree(states: ce.RegionalPanel, cov_type: str) -> None:
    # without time effects and period clusters both engines can run: FirstDifferenceOLS is the one used,
    # statsmodels OLS on the differenced data is the one used with period clusters or time effects
    from cluster_econ.estimation import _difference

    fd = ce.first_difference(PRODUCTION, states, cov_type=cov_type)
    assert fd.engine == "linearmodels FirstDifferenceOLS"
    diffs = _difference._differenced_design(ce.estimation._formula.build_design(PRODUCTION, states), states)
    via_sm = _difference._fd_statsmodels(
        diffs, states, effects=(), cov_type=cov_type, clusters=("entity",), bandwidth=None
    )
    assert via_sm.engine == "statsmodels OLS"
    assert list(via_sm.params.index) == list(fd.params.index) == ["log(pcap)", "log(pc)", "log(emp)", "unemp"]
    assert_allclose(via_sm.params.to_numpy(), fd.params.to_numpy(), rtol=1e-9, atol=1e-14)
    assert_allclose(via_sm.std_errors.to_numpy(), fd.std_errors.to_numpy(), rtol=1e-9, atol=0)
    assert via_sm.nobs == fd.nobs == 768
    assert via_sm.df_inference == fd.df_inference


def test_messages_show_numpy_values_as_plain_python(grunfeld: ce.RegionalPanel) -> None:
    message = r"^bandwidth must be a whole number of at least 0 \(periods of the Driscoll-Kraay kernel\); got 2\.5\.$"
    with pytest.raises(SpecError, match=message):
        ce.panel_ols("inv ~ value", grunfeld, cov_type="driscoll_kraay", bandwidth=np.float64(2.5))
    with pytest.raises(SpecError, match=r"^cov_type='cluster' is not valid; choose one of"):
        ce.panel_ols("inv ~ value", grunfeld, cov_type=np.str_("cluster"))
    res = ce.panel_ols("inv ~ value", grunfeld, cov_type="unadjusted")
    with pytest.raises(SpecError, match=r"level must be strictly between 0 and 1, e\.g\. 0\.95; got 95\.0\.$"):
        res.conf_int(np.float64(95))
    # numpy integers are whole numbers
    dk = ce.panel_ols("inv ~ value", grunfeld, cov_type="driscoll_kraay", bandwidth=np.int64(3))
    assert dk.provenance.details["bandwidth"] == 3
    assert type(dk.provenance.details["bandwidth"]) is int
    expected = ce.panel_ols("inv ~ value", grunfeld, cov_type="driscoll_kraay", bandwidth=3).std_errors
    assert_allclose(dk.std_errors.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=0)
