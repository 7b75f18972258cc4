"""Real panels as they come: label columns, pandas nullable dtypes, repeated column names.

The frames are the bundled CSVs read the way users read published data (``dtype_backend=
"numpy_nullable"`` gives ``Int64``, ``Float64`` and ``string`` columns), with the label columns the
published versions carry (``"yes"``/``"no"`` flags, region names).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.data import data_dir
from cluster_econ.errors import DataValidationError, MissingDataWarning

WEST = {"ARIZONA", "CALIFORNIA", "COLORADO", "IDAHO", "MONTANA", "NEVADA", "NEW_MEXICO", "OREGON", "UTAH",
        "WASHINGTON", "WYOMING"}
CENTRAL = {"ILLINOIS", "INDIANA", "IOWA", "KANSAS", "MICHIGAN", "MINNESOTA", "MISSOURI", "NEBRASKA",
           "NORTH_DAKOTA", "OHIO", "SOUTH_DAKOTA", "WISCONSIN"}
FE = "log(scrap) ~ d88 + d89 + grant + grant_1"


def nullable(name: str) -> pd.DataFrame:
    return pd.read_csv(data_dir() / f"{name}.csv", dtype_backend="numpy_nullable")


def jtrain_as_published() -> pd.DataFrame:
    """mi_training_grants with Int64/Float64 columns and the union flag as "yes"/"no" strings."""
    df = nullable("mi_training_grants")
    df["union"] = df["union"].map({0: "no", 1: "yes"}).astype("string")
    return df


def states_with_regions() -> pd.DataFrame:
    df = nullable("us_states")
    state = df["state"].astype(str)
    df["region"] = np.where(state.isin(list(WEST)), "west", np.where(state.isin(list(CENTRAL)), "central", "other"))
    return df


def test_nullable_dtypes_build_the_same_panel_as_the_bundled_loader() -> None:
    df = nullable("us_states")
    assert {str(t) for t in df.dtypes} == {"string", "Int64", "Float64"}
    panel = ce.RegionalPanel.from_frame(df, entity="state", time="year")
    assert panel.frame.equals(ce.load_dataset("us_states").frame)


def test_nullable_na_counts_as_missing_and_estimates_match_the_bundled_data() -> None:
    df = jtrain_as_published()
    assert str(df["scrap"].dtype) == "Float64"
    assert df["scrap"].isna().sum() == 309
    with pytest.warns(MissingDataWarning, match=r"scrap 309"):
        panel = ce.RegionalPanel.from_frame(df, entity="firm", time="year", name="jtrain")
    assert panel.frame["scrap"].dtype == np.float64
    assert panel.describe().variables.loc["scrap", "missing"] == 309
    mine = ce.panel_ols(FE, panel, cov_type="unadjusted")
    bundled = ce.panel_ols(FE, ce.load_dataset("mi_training_grants"), cov_type="unadjusted")
    assert_allclose(mine.params.to_numpy(), bundled.params.to_numpy(), rtol=1e-12, atol=0)
    assert mine.nobs == bundled.nobs == 162


def test_nullable_boolean_with_na_is_zero_one_with_missing() -> None:
    df = jtrain_as_published()
    df["grant"] = df["grant"].astype("boolean")
    df.loc[[0, 5], "grant"] = pd.NA
    with pytest.warns(MissingDataWarning, match=r"grant 2"):
        panel = ce.RegionalPanel.from_frame(df, entity="firm", time="year")
    grant = panel.frame["grant"]
    assert grant.dtype == np.float64
    assert int(grant.isna().sum()) == 2
    assert set(grant.dropna().unique()) == {0.0, 1.0}


def test_label_columns_are_kept_as_categories_and_described() -> None:
    with pytest.warns(MissingDataWarning):
        panel = ce.RegionalPanel.from_frame(jtrain_as_published(), entity="firm", time="year", name="jtrain")
    assert panel.labels == ["union"]
    assert isinstance(panel.frame["union"].dtype, pd.CategoricalDtype)
    desc = panel.describe()
    assert desc.labels == ("union",)
    assert desc.variables.loc["union", "kind"] == "label (2 levels)"
    assert desc.variables.loc["scrap", "kind"] == "number"
    assert "label columns: union (kept as categories" in str(desc)


def test_c_of_a_label_makes_the_dummies_of_its_numeric_coding() -> None:
    with pytest.warns(MissingDataWarning):
        labelled = ce.RegionalPanel.from_frame(jtrain_as_published(), entity="firm", time="year")
    by_label = ce.panel_ols("log(scrap) ~ grant + C(union)", labelled, effects=(), cov_type="unadjusted")
    by_number = ce.panel_ols("log(scrap) ~ grant + union", ce.load_dataset("mi_training_grants"), effects=(),
                             cov_type="unadjusted")
    assert list(by_label.params.index) == ["Intercept", "grant", "C(union)[T.yes]"]
    assert_allclose(by_label.params.to_numpy(), by_number.params.to_numpy(), rtol=1e-10, atol=0)


def test_region_names_give_region_dummies_and_unused_labels_do_not_matter() -> None:
    panel = ce.RegionalPanel.from_frame(states_with_regions(), entity="state", time="year")
    assert panel.labels == ["region"]
    f = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"
    plain_fit = ce.panel_ols(f, panel)  # the label column is not used: nothing to check
    assert_allclose(plain_fit.params.to_numpy(), ce.panel_ols(f, ce.load_dataset("us_states")).params.to_numpy(),
                    rtol=1e-12, atol=0)
    pooled = ce.panel_ols(f + " + C(region)", panel, effects=())
    assert [t for t in pooled.params.index if t.startswith("C(")] == ["C(region)[T.other]", "C(region)[T.west]"]


@pytest.mark.parametrize("formula", ["log(gsp) ~ region", "log(gsp) ~ log(region)", "log(gsp) ~ lag(region, 1)",
                                     "region ~ log(pcap)"])
def test_a_label_used_as_a_number_is_named_with_the_fix(formula: str) -> None:
    panel = ce.RegionalPanel.from_frame(states_with_regions(), entity="state", time="year", name="states")
    with pytest.raises(DataValidationError, match=r"states: column 'region' is used as a number .*holds labels.*"
                                                  r"e\.g\. \['central', 'other', 'west'\]\. Use C\(region\)"):
        ce.panel_ols(formula, panel, effects=())


def test_numeric_helper_for_model_targets() -> None:
    panel = ce.RegionalPanel.from_frame(states_with_regions(), entity="state", time="year", name="states")
    gsp = panel.numeric("gsp", purpose="as a model target")
    assert gsp.dtype == np.float64
    assert gsp.loc[("ALABAMA", 1970)] == 28418.0
    with pytest.raises(DataValidationError, match=r"'region' is used as a number as a model target"):
        panel.numeric("region", purpose="as a model target")
    with pytest.raises(DataValidationError, match=r"'region' is used as a number in diff\(\)"):
        panel.diff("region")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (lambda df: pd.concat([df, df[["gsp"]]], axis=1), r"the column name 'gsp' appears more than once"),
        (lambda df: pd.concat([df, df[["gsp", "emp"]]], axis=1), r"the column names 'emp', 'gsp' appear more"),
        (lambda df: df.set_index("state").assign(state=1), r"the column name 'state' appears more than once"),
    ],
    ids=["one", "two", "index-and-column"],
)
def test_a_repeated_column_name_is_named(frame, message: str) -> None:
    df = frame(pd.read_csv(data_dir() / "us_states.csv"))
    with pytest.raises(DataValidationError, match=message):
        ce.RegionalPanel.from_frame(df, entity="state", time="year")
