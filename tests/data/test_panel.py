"""RegionalPanel: construction, validation, lags and description."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import DataValidationError, MissingDataWarning, SpecError, UnknownNameError


def small_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["A", "A", "A", "B", "B"],
            "year": [2000, 2001, 2003, 2000, 2001],
            "gdp": [1.0, 2.0, 4.0, 10.0, 11.0],
            "jobs": [5, 6, 7, 8, 9],
        }
    )


def test_from_frame_indexes_by_entity_and_time() -> None:
    panel = ce.RegionalPanel.from_frame(small_frame(), entity="region", time="year", units={"gdp": "EUR m"})
    assert panel.frame.index.names == ["region", "year"]
    assert panel.units == {"gdp": "EUR m", "jobs": ""}
    assert panel.variables == ["gdp", "jobs"]
    assert panel.frame.index.is_monotonic_increasing


def test_frame_property_cannot_change_the_panel() -> None:
    panel = ce.RegionalPanel.from_frame(small_frame(), entity="region", time="year")
    frame = panel.frame
    frame["gdp"] = 0.0
    another = panel.frame
    another.iloc[0, 0] = -1.0
    panel.frame.to_numpy()[1, 0] = -1.0
    assert panel.frame["gdp"].tolist() == [1.0, 2.0, 4.0, 10.0, 11.0]


def test_entity_and_time_may_be_index_levels() -> None:
    df = small_frame().set_index(["region", "year"])
    panel = ce.RegionalPanel.from_frame(df, entity="region", time="year")
    assert panel.equals(ce.RegionalPanel.from_frame(small_frame(), entity="region", time="year"))


def test_lag_across_a_gap_is_missing_not_the_previous_row() -> None:
    panel = ce.RegionalPanel.from_frame(small_frame(), entity="region", time="year")
    lag = panel.lag("gdp")
    assert np.isnan(lag.loc[("A", 2000)])
    assert lag.loc[("A", 2001)] == 1.0
    assert np.isnan(lag.loc[("A", 2003)])  # 2002 is missing: the previous row (2001) is not a lag
    assert lag.loc[("B", 2001)] == 10.0
    assert panel.lag("gdp", 2).loc[("A", 2003)] == 2.0
    assert panel.lag("gdp", -1).loc[("A", 2000)] == 2.0  # a lead
    assert_allclose(panel.diff("gdp").to_numpy(), [np.nan, 1.0, np.nan, np.nan, 1.0], rtol=0, atol=0)


def test_lag_order_must_be_an_integer() -> None:
    panel = ce.RegionalPanel.from_frame(small_frame(), entity="region", time="year")
    with pytest.raises(SpecError, match=r"lag order k must be an integer; got 1\.5"):
        panel.lag("gdp", 1.5)
    with pytest.raises(UnknownNameError, match=r"'gpd' is not a variable.*Did you mean 'gdp'"):
        panel.lag("gpd")


def test_describe_reports_balance_and_gaps() -> None:
    panel = ce.RegionalPanel.from_frame(small_frame(), entity="region", time="year")
    desc = panel.describe()
    assert (desc.entities, desc.periods, desc.observations, desc.balanced) == (2, 3, 5, False)
    assert desc.entities_with_gaps == ("A",)
    assert "entities with gaps in time: A" in str(desc)
    assert "<table" in desc._repr_html_()


# ---------------------------------------------------------------------------- bad input
def test_duplicate_rows_are_listed_with_their_count() -> None:
    df = pd.concat([small_frame(), small_frame().iloc[[0, 3]]])
    with pytest.raises(
        DataValidationError, match=r"4 rows share 2 duplicate \(region, year\) pairs: \('A', 2000\), \('B', 2000\)\."
    ):
        ce.RegionalPanel.from_frame(df, entity="region", time="year")


@pytest.mark.parametrize(
    ("entity", "time", "message"),
    [
        ("regoin", "year", r"'regoin' is not an entity column of the frame\. Did you mean 'region'\?"),
        ("region", "yeer", r"'yeer' is not a time column of the frame\. Did you mean 'year'\?"),
    ],
)
def test_missing_entity_or_time_column_suggests_the_name(entity: str, time: str, message: str) -> None:
    with pytest.raises(UnknownNameError, match=message):
        ce.RegionalPanel.from_frame(small_frame(), entity=entity, time=time)


def test_non_numeric_values_name_the_column_and_examples_where_used_as_numbers() -> None:
    df = small_frame().astype({"gdp": object})
    df.loc[1, "gdp"] = "2,0"
    df.loc[2, "gdp"] = "n/a"
    panel = ce.RegionalPanel.from_frame(df, entity="region", time="year", name="mine")
    assert panel.labels == ["gdp"]
    with pytest.raises(
        DataValidationError,
        match=r"mine: column 'gdp' is used as a number in 'gdp ~ jobs', but it holds labels: 2 non-numeric values, "
        r"e\.g\. \['2,0', 'n/a'\]\. Use C\(gdp\)",
    ):
        ce.panel_ols("gdp ~ jobs", panel)


def test_numeric_strings_and_categoricals_are_accepted() -> None:
    df = small_frame().astype({"gdp": str}).assign(kind=pd.Categorical(list("xyxyx")))
    panel = ce.RegionalPanel.from_frame(df, entity="region", time="year")
    assert panel.frame["gdp"].dtype == np.float64
    assert isinstance(panel.frame["kind"].dtype, pd.CategoricalDtype)


def test_missing_values_warn_with_counts_per_column() -> None:
    df = small_frame()
    df.loc[1, "gdp"] = np.nan
    with pytest.warns(MissingDataWarning, match=r"missing values per column: gdp 1\..*dropna=True") as record:
        panel = ce.RegionalPanel.from_frame(df, entity="region", time="year")
    assert record[0].filename == __file__  # points at the caller, not the library
    assert len(panel) == 5


def test_dropna_drops_incomplete_rows_and_says_how_many() -> None:
    df = small_frame()
    df.loc[[1, 4], "gdp"] = np.nan
    with pytest.warns(MissingDataWarning, match=r"dropped 2 of 5 rows with missing values \(gdp 2\)"):
        panel = ce.RegionalPanel.from_frame(df, entity="region", time="year", dropna=True)
    assert len(panel) == 3


@pytest.mark.parametrize(
    ("times", "message"),
    [
        (["2000", "2001", "x", "2000", "2001"], r"time column 'year' must hold integer periods.*\['x'\]"),
        ([2000.0, 2001.5, 2003.0, 2000.0, 2001.0], r"time column 'year' must hold integer periods.*\[2001\.5\]"),
        ([2000, None, 2003, 2000, 2001], r"time column 'year' has 1 missing values"),
        (pd.to_datetime(["2000", "2001", "2003", "2000", "2001"]), r"time column 'year' must hold integer periods"),
        ([True, False, True, False, True], r"time column 'year' holds booleans"),
    ],
)
def test_time_must_be_integer_like(times: object, message: str) -> None:
    df = small_frame().assign(year=times)
    with pytest.raises(DataValidationError, match=message):
        ce.RegionalPanel.from_frame(df, entity="region", time="year")


def test_float_years_that_are_whole_numbers_are_accepted() -> None:
    panel = ce.RegionalPanel.from_frame(small_frame().astype({"year": float}), entity="region", time="year")
    assert panel.frame.index.get_level_values("year").dtype == np.int64


def test_unsortable_entities_are_refused() -> None:
    df = small_frame().astype({"region": object})
    df.loc[0, "region"] = 1
    with pytest.raises(DataValidationError, match=r"entity column 'region' mixes types \['int', 'str'\]"):
        ce.RegionalPanel.from_frame(df, entity="region", time="year")


def test_infinite_values_are_refused_with_the_likely_cause() -> None:
    df = small_frame().assign(gdp=[1.0, np.inf, 4.0, -np.inf, 11.0])
    message = r"column 'gdp' has 2 infinite values \(e\.g\. at \('region', 'year'\) = \('A', 2001\)\).*log of zero"
    with pytest.raises(DataValidationError, match=message):
        ce.RegionalPanel.from_frame(df, entity="region", time="year")


def test_empty_frame_is_refused() -> None:
    with pytest.raises(DataValidationError, match="the frame is empty"):
        ce.RegionalPanel.from_frame(small_frame().iloc[:0], entity="region", time="year")


def test_units_for_unknown_variables_are_refused() -> None:
    with pytest.raises(UnknownNameError, match=r"'gpd' is not a variable.*Did you mean 'gdp'"):
        ce.RegionalPanel.from_frame(small_frame(), entity="region", time="year", units={"gpd": "EUR"})


# ---------------------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(st.permutations(range(5)))
@pytest.mark.slow
def test_permuting_rows_gives_an_identical_panel(order: list[int]) -> None:
    reference = ce.RegionalPanel.from_frame(small_frame(), entity="region", time="year")
    shuffled = ce.RegionalPanel.from_frame(small_frame().iloc[order], entity="region", time="year")
    assert shuffled.equals(reference)
    assert shuffled.provenance.dataset_sha256 == reference.provenance.dataset_sha256


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
@pytest.mark.slow
def test_permuting_a_real_panel_gives_an_identical_panel(rng: random.Random) -> None:
    df = ce.load_dataset("uk_firms").frame.reset_index()
    order = list(range(len(df)))
    rng.shuffle(order)
    a = ce.RegionalPanel.from_frame(df, entity="firm", time="year")
    b = ce.RegionalPanel.from_frame(df.iloc[order], entity="firm", time="year")
    assert a.equals(b)
    assert a.lag("n", 2).equals(b.lag("n", 2))
