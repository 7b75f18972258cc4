"""Degenerate and mistaken input gets a named error from cluster_econ.errors, never a builtin one.

One row per case: what is tried, the call, the exception expected, and a word its message must hold.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import ClusterEconError, ClusterEconWarning, DataValidationError, SpecError, UnknownNameError

F = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"


@functools.cache
def states() -> ce.RegionalPanel:
    return ce.load_dataset("us_states")


@functools.cache
def grunfeld() -> ce.RegionalPanel:
    return ce.load_dataset("grunfeld")


def subset(panel: ce.RegionalPanel, entities: list[Any], periods: list[int] | None = None) -> ce.RegionalPanel:
    df = panel.frame.reset_index()
    df = df[df[panel.entity].isin(entities)]
    if periods is not None:
        df = df[df[panel.time].isin(periods)]
    return ce.RegionalPanel.from_frame(df, entity=panel.entity, time=panel.time, name=panel.name)


def alabama() -> ce.RegionalPanel:
    return subset(states(), ["ALABAMA"])


def two_by_two() -> ce.RegionalPanel:
    return subset(grunfeld(), [1, 2], [1935, 1936])


def with_repeated_column() -> ce.RegionalPanel:
    df = states().frame.reset_index()
    return ce.RegionalPanel.from_frame(pd.concat([df, df[["gsp"]]], axis=1), entity="state", time="year")


def labelled() -> ce.RegionalPanel:
    df = states().frame.reset_index().assign(region=lambda d: np.where(d["state"] < "M", "east", "west"))
    return ce.RegionalPanel.from_frame(df, entity="state", time="year")


@functools.cache
def toy() -> Any:
    return ce.load_model(Path(__file__).parent / "fixtures" / "sdmodels" / "policy_toy.mdl")


@functools.cache
def toy_growth() -> Any:
    return ce.load_model(Path(__file__).parent / "fixtures" / "sdmodels" / "regional_growth.mdl")


def growth_panel(**columns: Any) -> ce.RegionalPanel:
    """us_states with extra columns, its states matched to the regions of the small growth model by name."""
    regions = ["ALABAMA", "ARIZONA", "CALIFORNIA", "NEW_YORK", "NORTH_CAROLINA", "OHIO", "TEXAS", "WEST_VIRGINIA"]
    df = states().frame.reset_index().assign(**columns)
    df = df[df["state"].isin(regions)]
    with pytest.warns(ce.errors.MissingDataWarning) if df.isna().any().any() else contextlib.nullcontext():
        return ce.RegionalPanel.from_frame(df, entity="state", time="year")


def with_column(**columns: Any) -> ce.RegionalPanel:
    return ce.RegionalPanel.from_frame(states().frame.reset_index().assign(**columns), entity="state", time="year")


def renamed(**names: Any) -> ce.RegionalPanel:
    return ce.RegionalPanel.from_frame(states().frame.reset_index().rename(columns=names), entity="state",
                                       time="year")


def two_periods() -> ce.RegionalPanel:
    return subset(states(), list(states().entities), [1970, 1971])


CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("formula is None", lambda: ce.panel_ols(None, states()), SpecError, "string"),
    ("panel and formula swapped", lambda: ce.panel_ols(states(), F), SpecError, "RegionalPanel"),
    ("a DataFrame for the panel", lambda: ce.panel_ols(F, states().frame), SpecError, "from_frame"),
    ("from_frame without entity and time", lambda: ce.RegionalPanel.from_frame(states().frame.reset_index()),
     SpecError, "needs entity= and time="),
    ("from_frame of a list, without entity and time", lambda: ce.RegionalPanel.from_frame([1, 2]),
     DataValidationError, "needs a pandas DataFrame; got list"),
    ("from_frame with entity only", lambda: ce.RegionalPanel.from_frame(states().frame.reset_index(),
                                                                        entity="state"), SpecError, "not time="),
    ("nothing to estimate", lambda: ce.panel_ols("gsp ~ 0", states()), SpecError, "nothing to estimate"),
    ("one entity, pooled, clustered", lambda: ce.panel_ols(F, alabama(), effects=()), SpecError, "two entities"),
    ("one entity, within, clustered", lambda: ce.panel_ols("log(gsp) ~ unemp", alabama()), SpecError,
     "two entities"),
    ("one period, Driscoll-Kraay", lambda: ce.panel_ols(F, subset(states(), list(states().entities), [1970]),
                                                       effects=(), cov_type="driscoll_kraay"), SpecError,
     "two periods"),
    ("random effects on one entity", lambda: ce.random_effects(F, alabama()), SpecError, "entities"),
    ("ML random effects on one entity", lambda: ce.random_effects(F, alabama(), method="ml"), SpecError,
     "one entity"),
    ("random effects on 2 entities", lambda: ce.random_effects("inv ~ value", two_by_two()), SpecError,
     "at least 3 entities"),
    ("lag longer than any integer", lambda: ce.panel_ols("log(gsp) ~ lag(pcap, 99999999999999999999)", states()),
     SpecError, "longer than"),
    ("lag longer than the panel", lambda: states().lag("pcap", 17), SpecError, "every value would be missing"),
    ("dataset name is a path", lambda: ce.load_dataset("../models/regional_cluster/model"), UnknownNameError,
     "plain identifiers"),
    ("dataset name is not a string", lambda: ce.load_dataset(None), SpecError, "string"),
    ("two-way effects on 2 x 2", lambda: ce.panel_ols("inv ~ value", two_by_two(), effects=("entity", "time"),
                                                      cov_type="unadjusted"), SpecError, "zero residual degrees"),
    ("two-way effects on 2 x 2, clustered", lambda: ce.panel_ols("inv ~ value", two_by_two(),
                                                                 effects=("entity", "time")),
     SpecError, "zero residual degrees"),
    ("more coefficients than observations", lambda: ce.panel_ols("inv ~ value + capital + lag(value, 1)",
                                                                 two_by_two(), effects=(), cov_type="unadjusted"),
     SpecError, "zero residual degrees"),
    ("between with 2 entity means", lambda: ce.between_ols("inv ~ value + capital", two_by_two()), SpecError,
     "degrees of freedom"),
    ("first differences with time effects on 2 x 2", lambda: ce.first_difference(
        "inv ~ value", two_by_two(), effects=("time",), cov_type="unadjusted"), SpecError, "zero residual degrees"),
    ("fixed-effects Poisson on one entity", lambda: ce.poisson_fe("patents ~ log_rd", subset(
        ce.load_dataset("firm_patents"), [1])), SpecError, "two entities"),
    ("Hausman with pooled OLS for the within fit", lambda: ce.hausman(
        ce.panel_ols(F, states(), effects=(), cov_type="unadjusted"), ce.random_effects(F, states())),
     SpecError, "within"),
    ("Hausman of different variables", lambda: ce.hausman(
        ce.panel_ols(F, states(), cov_type="unadjusted"),
        ce.random_effects("log(emp) ~ log(pcap) + log(pc) + unemp", states())), SpecError, "different variables"),
    ("Hausman of fits on different data", lambda: ce.hausman(
        ce.panel_ols(F, states(), cov_type="unadjusted"),
        ce.random_effects(F, subset(states(), list(states().entities)[:30]))), SpecError, "different samples"),
    ("Hausman of a non-result", lambda: ce.hausman(ce.panel_ols(F, states(), cov_type="unadjusted"), None),
     SpecError, "EstimationResult"),
    ("a label used as a number", lambda: ce.panel_ols("log(gsp) ~ region", labelled()), DataValidationError,
     "C(region)"),
    ("a repeated column name", with_repeated_column, DataValidationError, "more than once"),
    ("entity given as a list", lambda: ce.RegionalPanel.from_frame(states().frame.reset_index(), entity=["state"],
                                                                   time="year"), SpecError, "column name"),
    ("complex numbers in a column", lambda: with_column(z=states().frame["gsp"].to_numpy() + 1j),
     DataValidationError, "complex"),
    ("periods beyond int64", lambda: ce.RegionalPanel.from_frame(
        states().frame.reset_index().assign(year=lambda d: d["year"].astype(object) * 10**18), entity="state",
        time="year"), DataValidationError, "too large"),
    ("effects=None", lambda: ce.panel_ols(F, states(), effects=None), SpecError, "effects=()"),
    ("the intercept alone with entity effects", lambda: ce.panel_ols("gsp ~ 1", states()), SpecError,
     "nothing to estimate"),
    ("C() of a single level", lambda: ce.panel_ols("gsp ~ pc + C(one)", with_column(one="a"), effects=()),
     SpecError, "one level"),
    ("Driscoll-Kraay bandwidth beyond any integer", lambda: ce.panel_ols(F, states(), cov_type="driscoll_kraay",
                                                                        bandwidth=10**30), SpecError, "bandwidth"),
    ("a constant dependent variable", lambda: ce.panel_ols("k ~ pc", with_column(k=1.0), effects=()), SpecError,
     "does not vary"),
    ("a dependent variable constant within entities", lambda: ce.panel_ols(
        "k ~ pc", with_column(k=states().frame.reset_index()["state"].str.len().to_numpy()), cov_type="unadjusted"),
     SpecError, "does not vary"),
    ("random effects of a constant", lambda: ce.random_effects("k ~ pc", with_column(k=1.0)), SpecError,
     "does not vary"),
    ("first differences of a constant", lambda: ce.first_difference("k ~ pc", with_column(k=1.0)), SpecError,
     "does not vary"),
    ("first differences on one period", lambda: ce.first_difference(F, subset(states(), list(states().entities),
                                                                               [1970])), DataValidationError,
     "consecutive periods"),
    ("between of a constant", lambda: ce.between_ols("k ~ pc", with_column(k=1.0)), SpecError, "does not vary"),
    ("an exact fit", lambda: ce.panel_ols("k ~ pc", with_column(k=2 * states().frame["pc"].to_numpy() + 1),
                                          effects=(), cov_type="unadjusted"), SpecError, "exactly"),
    ("Driscoll-Kraay on 2 periods with entity effects", lambda: ce.panel_ols(F, two_periods(),
                                                                             cov_type="driscoll_kraay"),
     SpecError, "two periods"),
    ("Driscoll-Kraay on 2 periods, two-way", lambda: ce.panel_ols(F, two_periods(), effects=("entity", "time"),
                                                                  cov_type="driscoll_kraay"), SpecError,
     "two periods"),
    ("clustered by entity on 2 entities with time effects", lambda: ce.panel_ols(
        "inv ~ value", two_by_two(), effects=("time",)), SpecError, "two entities"),
    ("Hausman of a two-way within fit and random effects without time effects", lambda: ce.hausman(
        ce.panel_ols(F, states(), effects=("entity", "time"), cov_type="unadjusted"), ce.random_effects(F, states())),
     SpecError, "time effects"),
    ("a column name with a space in a formula", lambda: ce.panel_ols("gsp ~ my col", with_column(**{"my col": 1.0})),
     SpecError, "Python identifier"),
    ("a column named like a keyword in a formula", lambda: ce.panel_ols("gsp ~ lambda", with_column(**{"lambda": 1.0})),
     SpecError, "keyword"),
    ("a scenario with a missing value", lambda: ce.simulate_batch(toy(), pd.DataFrame(
        {"subsidy": pd.array([0.5, None], dtype="Float64")}), final_time=5), SpecError, "missing value"),
    ("scenarios with a repeated index label", lambda: ce.simulate_batch(toy(), pd.DataFrame(
        {"subsidy": [0.1, 0.2, 0.3]}, index=[0, 0, 1]), final_time=5), SpecError, "index label 0"),
    ("a label column as a calibration target", lambda: ce.calibrate(
        toy_growth(), growth_panel(lab="x"), targets={"output": "lab"}, parameters={"saving_rate": (0.05, 0.5)}),
     DataValidationError, "calibration target"),
    ("a calibration target with no data", lambda: ce.calibrate(
        toy_growth(), growth_panel(gsp=np.nan), targets={"output": "gsp"}, parameters={"saving_rate": (0.05, 0.5)}),
     DataValidationError, "no observation"),
    ("outputs given as a number", lambda: ce.simulate(toy(), outputs=5), SpecError, "outputs=5"),
    ("a dataset name longer than a file name", lambda: ce.load_dataset("a" * 10000), UnknownNameError,
     "not a dataset"),
]


@pytest.mark.parametrize(("case", "call", "expected", "word"), CASES, ids=[c[0] for c in CASES])
def test_degenerate_input_raises_a_named_error(case: str, call: Callable[[], Any], expected: type[Exception],
                                               word: str) -> None:
    assert issubclass(expected, ClusterEconError), case
    with pytest.raises(expected) as info:
        call()
    assert type(info.value).__module__ == "cluster_econ.errors", f"{case}: {type(info.value)!r}"
    assert word in str(info.value), f"{case}: {info.value}"


def test_hausman_given_the_fits_the_other_way_round_swaps_them_with_a_warning() -> None:
    fe = ce.panel_ols(F, states(), cov_type="unadjusted")
    re = ce.random_effects(F, states())
    right = ce.hausman(fe, re)
    with pytest.warns(ClusterEconWarning, match=r"swapped") as record:
        swapped = ce.hausman(re, fe)
    assert record[0].filename == __file__
    assert swapped.statistic == right.statistic > 0
    assert_allclose(right.statistic, 9.5254, rtol=0, atol=5e-5)


def test_a_negative_hausman_statistic_is_reported_as_such_without_a_p_value() -> None:
    firms = ce.load_dataset("uk_firms")
    fe = ce.panel_ols("n ~ w + k + ys", firms, cov_type="unadjusted")
    re = ce.random_effects("n ~ w + k + ys", firms, cov_type="clustered")
    with pytest.warns(ClusterEconWarning) as record:
        test = ce.hausman(fe, re)
    messages = " ".join(str(w.message) for w in record)
    assert "cov_type='clustered'" in messages
    assert "not positive definite" in messages
    assert test.statistic < 0
    assert math.isnan(test.pvalue)
    assert "not positive definite" in test.note
    assert "no p-value" in str(test)


def test_column_names_that_are_not_strings_become_strings() -> None:
    panel = renamed(unemp=5)
    assert "5" in panel.variables
    assert ce.panel_ols("gsp ~ pc", panel, effects=()).nobs == 816


def test_provenance_details_handed_out_cannot_be_changed_in_place() -> None:
    fit = ce.panel_ols(F, states())
    before, summary, cited = repr(fit.provenance), str(fit.summary()), ce.cite(fit)
    details = fit.provenance.details
    with pytest.raises(TypeError):
        details["effects"] = ["time"]  # type: ignore[index]
    details["effects"].append("time")
    details["call"]["arguments"]["cluster"].append("time")
    fit.provenance.versions  # noqa: B018
    assert (repr(fit.provenance), str(fit.summary()), ce.cite(fit)) == (before, summary, cited)
    assert fit.provenance.details["call"]["arguments"]["effects"] == ["entity"]
    metadata = states().metadata
    metadata["variables"]["gsp"]["unit"] = "changed"
    assert states().metadata["variables"]["gsp"]["unit"] != "changed"


def test_a_run_hands_out_a_copy_of_its_data() -> None:
    run = ce.simulate(toy(), final_time=5)
    before = run.to_frame()
    data = run.data
    for variable in data.data_vars.values():
        variable.values[...] = -1.0
    run[next(iter(run.data.data_vars))].values[...] = -2.0
    assert run.to_frame().equals(before)


def test_without_intercept_the_first_categorical_term_keeps_every_level() -> None:
    panel = labelled()
    fit = ce.panel_ols("gsp ~ C(region) - 1", panel, effects=(), cov_type="unadjusted")
    means = panel.frame.groupby("region", observed=True)["gsp"].mean()
    assert list(fit.params.index) == ["C(region)[T.east]", "C(region)[T.west]"]
    assert_allclose(fit.params.to_numpy(), means.to_numpy(), rtol=1e-10)
    single = ce.panel_ols("gsp ~ C(one) - 1", with_column(one="a"), effects=(), cov_type="unadjusted")
    assert_allclose(single.params.to_numpy(), [states().frame["gsp"].mean()], rtol=1e-10)


def test_hausman_of_a_two_way_within_fit_takes_random_effects_with_period_dummies() -> None:
    f = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"
    panel = labelled()
    two_way = ce.panel_ols(f, panel, effects=("entity", "time"), cov_type="unadjusted")
    with pytest.raises(SpecError, match="time effects"):  # dummies, but not of the periods
        ce.hausman(two_way, ce.random_effects(f + " + C(region)", panel))
    test = ce.hausman(two_way, ce.random_effects(f + " + C(year)", panel))
    assert test.statistic > 0
    assert test.distribution == "chi2(4)"


@pytest.mark.parametrize(("call", "words"), [
    (lambda: ce.panel_ols("inv ~ value + capital", subset(grunfeld(), [1, 2, 3, 4, 5])), "rest on 5 entities"),
    (lambda: ce.panel_ols("inv ~ value + capital", subset(grunfeld(), list(range(1, 11)), list(range(1935, 1941))),
                          effects=(), cov_type="driscoll_kraay"), "Driscoll-Kraay errors rest on 6 periods"),
])
def test_few_clusters_give_a_warning_that_the_standard_errors_are_too_small(call, words) -> None:
    with pytest.warns(ClusterEconWarning, match=words + r"; with fewer than 10 clusters they are biased downward"):
        res = call()
    assert np.isfinite(res.std_errors).all()


def test_ten_clusters_or_more_give_no_warning() -> None:
    ce.panel_ols("inv ~ value + capital", grunfeld())  # 10 firms, clustered by firm: the error filter would raise
    ce.panel_ols(F, states(), effects=(), cov_type="driscoll_kraay")  # 17 years


def test_a_frame_indexed_by_entity_and_time_needs_no_names() -> None:
    frame = states().frame
    panel = ce.RegionalPanel.from_frame(frame, name="us_states")
    assert (panel.entity, panel.time) == ("state", "year")
    assert panel.frame.equals(frame)
