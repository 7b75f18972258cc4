"""The formula layer: parsing, term names, gap-aware lags, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import DataValidationError, SpecError, UnknownNameError
from cluster_econ.estimation._formula import build_design, parse_formula


def gap_panel() -> ce.RegionalPanel:
    frame = pd.DataFrame(
        {
            "region": ["A", "A", "A", "A", "B", "B", "B"],
            "year": [2000, 2001, 2003, 2004, 2000, 2001, 2002],
            "gdp": [1.0, 2.0, 4.0, 8.0, 10.0, 20.0, 40.0],
            "jobs": [5.0, 6.0, 7.0, 9.0, 8.0, 9.0, 12.0],
            "sector": [1, 1, 1, 1, 2, 2, 2],
        }
    )
    return ce.RegionalPanel.from_frame(frame, entity="region", time="year", name="toy")


def test_terms_are_named_exactly_as_written() -> None:
    parsed = parse_formula("log(gdp) ~ lag(jobs,1) + diff(log(jobs)) +  C(sector) + jobs")
    assert parsed.dependent.name == "log(gdp)"
    assert [t.name for t in parsed.terms] == ["lag(jobs,1)", "diff(log(jobs))", "C(sector)", "jobs"]
    assert parsed.intercept


@pytest.mark.parametrize("formula", ["gdp ~ jobs - 1", "gdp ~ 0 + jobs", "gdp ~ jobs + 0"])
def test_intercept_can_be_removed(formula: str) -> None:
    assert not parse_formula(formula).intercept


def test_lag_respects_gaps_and_entities() -> None:
    design = build_design("gdp ~ lag(gdp, 1) + diff(gdp)", gap_panel(), dropna=False)
    lag = design.exog["lag(gdp, 1)"]
    # A 2003 follows a gap (2002 missing) so its lag is missing; B 2000 is the start of B
    assert np.isnan(lag.loc[("A", 2003)])
    assert np.isnan(lag.loc[("B", 2000)])
    assert lag.loc[("A", 2004)] == 4.0
    assert lag.loc[("B", 2002)] == 20.0
    assert design.exog["diff(gdp)"].loc[("A", 2004)] == 4.0


def test_nested_log_lag_and_categorical_dummies() -> None:
    design = build_design("log(gdp) ~ lag(log(jobs), 2) + C(sector)", gap_panel(), dropna=False)
    assert list(design.exog.columns) == ["lag(log(jobs), 2)", "C(sector)[T.2]"]
    assert_allclose(design.exog["lag(log(jobs), 2)"].loc[("B", 2002)], np.log(8.0), rtol=1e-12, atol=0)
    assert_allclose(design.exog["C(sector)[T.2]"].to_numpy(), [0, 0, 0, 0, 1, 1, 1], rtol=0, atol=0)
    complete = build_design("log(gdp) ~ lag(log(jobs), 2) + C(sector)", gap_panel())
    assert complete.nobs == 2  # only A 2003 and B 2002 have data two years earlier
    assert list(complete.y.index) == [("A", 2003), ("B", 2002)]


def test_index_levels_can_be_categorical_terms() -> None:
    design = build_design("gdp ~ jobs + C(year)", gap_panel())
    assert list(design.exog.columns) == ["jobs", *(f"C(year)[T.{y}]" for y in (2001, 2002, 2003, 2004))]
    with pytest.raises(SpecError, match="not to the index level 'year'"):
        build_design("gdp ~ lag(year, 1)", gap_panel())


def test_missing_column_suggests_the_closest_name() -> None:
    with pytest.raises(UnknownNameError, match=r"'jbos' is not a column of toy\. Did you mean 'jobs'\?"):
        build_design("gdp ~ jbos", gap_panel())


def test_log_of_non_positive_values_names_entity_and_time() -> None:
    frame = gap_panel().frame.reset_index()
    frame.loc[5, "jobs"] = 0.0
    panel = ce.RegionalPanel.from_frame(frame, entity="region", time="year", name="toy")
    message = r"log\(jobs\) needs positive values.*\(region, year\) = \('B', 2001\)"
    with pytest.raises(DataValidationError, match=message):
        build_design("gdp ~ log(jobs)", panel)


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("gdp jobs", "exactly one '~'"),
        ("gdp ~ sqrt(jobs)", "Unknown function 'sqrt'"),
        ("gdp ~ lgo(jobs)", "Did you mean 'log'"),
        ("gdp ~ lag(jobs, 0)", "at least 1"),
        ("gdp ~ lag(jobs, k)", "must be a whole number"),
        ("gdp ~ jobs + jobs", "appears twice"),
        ("gdp ~ gdp", "also a regressor"),
        ("gdp ~ jobs * sector", "Cannot read the term"),
        ("gdp ~ jobs - sector", "Only '- 1'"),
        ("gdp ~ log(C(sector))", "C\\(\\) must be a whole term"),
    ],
)
def test_bad_formulas_raise_spec_errors(formula: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_formula(formula)


def test_categorical_levels_come_from_the_complete_rows() -> None:
    # with the lag only A 2001, A 2004, B 2001 and B 2002 remain: 2001 is the base, 2000 and 2003 have no rows
    design = build_design("gdp ~ lag(gdp, 1) + C(year)", gap_panel())
    assert list(design.y.index) == [("A", 2001), ("A", 2004), ("B", 2001), ("B", 2002)]
    assert list(design.exog.columns) == ["lag(gdp, 1)", "C(year)[T.2002]", "C(year)[T.2004]"]
    assert design.term_columns["C(year)"] == ("C(year)[T.2002]", "C(year)[T.2004]")
    assert_allclose(design.exog["C(year)[T.2004]"].to_numpy(), [0, 1, 0, 0], rtol=0, atol=0)
    # without dropping rows every level but the first has a column
    every = build_design("gdp ~ lag(gdp, 1) + C(year)", gap_panel(), dropna=False)
    assert list(every.exog.columns) == ["lag(gdp, 1)", *(f"C(year)[T.{y}]" for y in (2001, 2002, 2003, 2004))]


def test_log_error_shows_plain_values() -> None:
    frame = gap_panel().frame.reset_index()
    frame.loc[6, "gdp"] = -1.0
    panel = ce.RegionalPanel.from_frame(frame, entity="region", time="year", name="toy")
    message = (
        "log(gdp) needs positive values, but gdp is zero or negative at (region, year) = ('B', 2002) in toy. "
        "Drop or recode those rows, or use a transformation defined there."
    )
    with pytest.raises(DataValidationError) as info:
        build_design("log(gdp) ~ jobs", panel)
    assert str(info.value) == message
