"""Arellano-Bond difference GMM: instruments, options and bad input (published numbers: tests/golden)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import DataValidationError, SpecError

AB = "n ~ lag(n, 1) + lag(n, 2) + w + lag(w, 1) + k + lag(k, 1) + lag(k, 2) + ys + lag(ys, 1) + lag(ys, 2)"


@pytest.fixture(scope="module")
def firms() -> ce.RegionalPanel:
    return ce.load_dataset("uk_firms")


def test_instrument_count_and_tests_like_xtabond(firms: ce.RegionalPanel) -> None:
    res = ce.arellano_bond(AB, firms, time_effects=True)
    # 27 GMM columns (levels of n dated t-2 and earlier for 1979-1984), 8 exogenous terms, 6 periods
    assert res.statistics["Instruments"] == 41
    assert (res.n_entities, res.n_periods, res.nobs) == (140, 6, 611)
    assert list(res.params.index[:2]) == ["lag(n, 1)", "lag(n, 2)"]
    assert [t for t in res.params.index if t.startswith("period[")] == [f"period[{y}]" for y in range(1979, 1985)]
    assert set(res.tests) == {"Sargan", "AR(1)", "AR(2)"}
    assert res.tests["Sargan"].distribution == "chi2(25)"
    assert res.tests["AR(1)"].pvalue < 0.01 < 0.5 < res.tests["AR(2)"].pvalue
    two = ce.arellano_bond(AB, firms, time_effects=True, two_step=True)
    assert set(two.tests) == {"Hansen J", "AR(1)", "AR(2)"}
    assert two.cov_type == "windmeijer"


def test_max_lag_limits_the_instruments(firms: ce.RegionalPanel) -> None:
    res = ce.arellano_bond(AB, firms, time_effects=True, max_lag=2)
    assert res.statistics["Instruments"] == 6 + 8 + 6  # one level per differenced period
    assert res.nobs == 611


def test_without_time_effects_there_is_no_intercept(firms: ce.RegionalPanel) -> None:
    res = ce.arellano_bond("n ~ lag(n, 1) + w + k", firms)
    assert list(res.params.index) == ["lag(n, 1)", "w", "k"]
    assert 0 < res.params["lag(n, 1)"] < 1.5


def test_gap_breaks_the_differenced_equation(firms: ce.RegionalPanel) -> None:
    frame = firms.frame.reset_index()
    first = frame["firm"].iloc[0]
    years = frame.loc[frame["firm"] == first, "year"]
    gap = frame.drop(frame.index[(frame["firm"] == first) & (frame["year"] == years.iloc[3])])
    panel = ce.RegionalPanel.from_frame(gap, entity="firm", time="year", name="uk_firms with a gap")
    full = ce.arellano_bond("n ~ lag(n, 1) + w", firms)
    holed = ce.arellano_bond("n ~ lag(n, 1) + w", panel)
    # the missing year removes its own equation and the next one (whose lag is missing)
    assert full.nobs - holed.nobs == 2 + (1 if len(years) > 4 else 0)


@pytest.mark.parametrize(
    ("formula", "kwargs", "error", "message"),
    [
        ("n ~ w + k", {}, SpecError, r"needs a lag of the dependent variable.*'lag\(n, 1\)'"),
        ("n ~ lag(n, 1) + C(sector)", {}, SpecError, "C\\(\\) terms are not supported"),
        ("n ~ lag(n, 1) + w", {"max_lag": 1}, SpecError, "max_lag must be a whole number of at least 2"),
        ("n ~ lag(n, 8) + w", {}, DataValidationError, "no entity has enough consecutive periods"),
    ],
)
def test_bad_input(firms: ce.RegionalPanel, formula: str, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        ce.arellano_bond(formula, firms, **kwargs)


def test_too_few_periods_for_the_instruments() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"id": np.repeat(np.arange(30), 3), "t": np.tile([1, 2, 3], 30), "y": rng.normal(size=90),
         "x": rng.normal(size=90)}
    )
    panel = ce.RegionalPanel.from_frame(frame, entity="id", time="t", name="three periods")
    with pytest.raises(DataValidationError, match="no entity has enough consecutive periods"):
        ce.arellano_bond("y ~ lag(y, 1) + lag(y, 2) + x", panel)
    res = ce.arellano_bond("y ~ lag(y, 1) + x", panel)  # one equation (t = 3) with one instrument y_1
    assert res.statistics["Instruments"] == 2
    assert res.nobs == 30
    assert np.isnan(res.tests["AR(1)"].statistic)  # a single differenced period has no serial correlation


@settings(max_examples=5, deadline=None)
@given(st.randoms(use_true_random=False))
@pytest.mark.slow
def test_relabelling_and_reordering_firms_leaves_estimates_unchanged(rng) -> None:
    firms = ce.load_dataset("uk_firms")
    frame = firms.frame.reset_index()
    labels = sorted(frame["firm"].unique())
    shuffled_labels = labels.copy()
    rng.shuffle(shuffled_labels)
    frame["firm"] = frame["firm"].map(dict(zip(labels, shuffled_labels, strict=True)))
    order = list(range(len(frame)))
    rng.shuffle(order)
    panel = ce.RegionalPanel.from_frame(frame.iloc[order], entity="firm", time="year", name="uk_firms relabelled")
    a = ce.arellano_bond("n ~ lag(n, 1) + w + k", firms, time_effects=True, two_step=True)
    b = ce.arellano_bond("n ~ lag(n, 1) + w + k", panel, time_effects=True, two_step=True)
    assert_allclose(b.params.to_numpy(), a.params.to_numpy(), rtol=1e-8, atol=1e-12)
    assert_allclose(b.std_errors.to_numpy(), a.std_errors.to_numpy(), rtol=1e-8, atol=1e-12)
    assert_allclose(b.tests["Hansen J"].statistic, a.tests["Hansen J"].statistic, rtol=1e-8, atol=0)


def test_max_lag_message_shows_plain_values(firms: ce.RegionalPanel) -> None:
    message = r"^max_lag must be a whole number of at least 2 \(instruments start at lag 2\); got 1\.$"
    with pytest.raises(SpecError, match=message):
        ce.arellano_bond("n ~ lag(n, 1) + w", firms, max_lag=np.int64(1))
