"""Count models: conditional fixed-effects Poisson, pooled Poisson and negative binomial."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import DataValidationError, SpecError


@pytest.fixture(scope="module")
def patents() -> ce.RegionalPanel:
    return ce.load_dataset("firm_patents")


@pytest.mark.slow
def test_poisson_fe_equals_poisson_with_firm_dummies(patents: ce.RegionalPanel) -> None:
    frame = patents.frame.reset_index()
    firms = frame["firm"].unique()[:40]  # a subset keeps the dummy-variable fit fast
    sub = frame[frame["firm"].isin(firms)]
    panel = ce.RegionalPanel.from_frame(sub, entity="firm", time="year", name="patents subset")
    res = ce.poisson_fe("patents ~ log_rd + log_spill", panel)
    kept = sub[sub.groupby("firm")["patents"].transform("sum") > 0]
    dummies = pd.get_dummies(kept["firm"], dtype=float)
    x = pd.concat([kept[["log_rd", "log_spill"]], dummies], axis=1)
    lsdv = sm.GLM(kept["patents"], x, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(kept["firm"])[0]}
    )
    assert_allclose(res.params.to_numpy(), lsdv.params[["log_rd", "log_spill"]].to_numpy(), rtol=1e-5, atol=0)
    # the same sandwich; statsmodels scales by G/(G-1) (n-1)/(n-K) with K counting the dummies
    n, k = len(kept), x.shape[1]
    expected = lsdv.bse[["log_rd", "log_spill"]].to_numpy() * np.sqrt((n - k) / (n - 1))
    assert_allclose(res.std_errors.to_numpy(), expected, rtol=1e-3, atol=0)
    assert res.nobs == len(kept)
    assert "Intercept" not in res.params.index


def test_pooled_count_models(patents: ce.RegionalPanel) -> None:
    pois = ce.count_model("patents ~ log_rd + log_spill", patents, cov_type="unadjusted")
    frame = patents.frame
    glm = sm.GLM(frame["patents"], sm.add_constant(frame[["log_rd", "log_spill"]]), family=sm.families.Poisson()).fit()
    assert_allclose(pois.params.to_numpy(), glm.params.to_numpy(), rtol=1e-5, atol=0)
    nb = ce.count_model("patents ~ log_rd + log_spill", patents, family="negative_binomial")
    assert list(nb.params.index) == ["Intercept", "log_rd", "log_spill", "alpha"]
    assert nb.params["alpha"] > 0.5  # patents are overdispersed
    assert nb.df_inference is None


def test_count_models_reject_non_counts_and_bad_options(patents: ce.RegionalPanel) -> None:
    with pytest.raises(DataValidationError, match="non-negative whole number; log_rd is"):
        ce.count_model("log_rd ~ log_spill", patents)
    with pytest.raises(SpecError, match="family='negbin' is not valid"):
        ce.count_model("patents ~ log_rd", patents, family="negbin")
    with pytest.raises(SpecError, match=r"'region' does not vary once the entity effects are removed"):
        ce.poisson_fe("patents ~ log_rd + region", patents)


def test_non_count_message_shows_plain_values() -> None:
    grunfeld = ce.load_dataset("grunfeld")
    message = (
        "'inv ~ value': the dependent variable of a count model must be a non-negative whole number; inv is "
        "317.6 at (firm, year) = (1, 1935) (and 190 more rows). Use counts on the left, or panel_ols for a "
        "continuous outcome."
    )
    with pytest.raises(DataValidationError) as info:
        ce.count_model("inv ~ value", grunfeld)
    assert str(info.value) == message
    assert "np." not in str(info.value)
