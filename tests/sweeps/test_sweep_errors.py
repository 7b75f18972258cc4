"""The bad-input table of ce.sweep and ce.prim: exception type and the culprit named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cluster_econ as ce
from cluster_econ.errors import SpecError, UnknownNameError

OUT = [ce.Outcome("employment", reduce="sum")]
PIS = ce.Lever("public_investment_share", 0.0, 0.05)


def test_unknown_lever_uncertainty_outcome_names(regional) -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'public_investment_share'"):
        ce.sweep(regional, levers=[ce.Lever("public_investment_shar", 0, 0.05)], outcomes=OUT, n=2)
    with pytest.raises(UnknownNameError, match=r"'sme_birth_rat'.*Did you mean 'sme_birth_rate'"):
        ce.sweep(regional, uncertainties=[ce.Uncertainty("sme_birth_rat", 0.08, 0.1)], outcomes=OUT, n=2)
    with pytest.raises(UnknownNameError, match="Did you mean 'employment'"):
        ce.sweep(regional, levers=[PIS], outcomes=[ce.Outcome("employmnt")], n=2)
    with pytest.raises(UnknownNameError, match="'output' is not a constant"):  # a variable, not a constant
        ce.sweep(regional, levers=[ce.Lever("output", 0, 1)], outcomes=OUT, n=2)


def test_lever_range_outside_declared_bounds(regional) -> None:
    with pytest.raises(SpecError, match=r"range \[0, 0.1\] of lever 'public_investment_share'.*declared bounds "
                                        r"\[0, 0.05\]"):
        ce.sweep(regional, levers=[ce.Lever("public_investment_share", 0.0, 0.1)], outcomes=OUT, n=2)
    with pytest.raises(SpecError, match=r"\[0.05, 0.2\] of uncertainty 'sme_birth_rate'.*\[0.08, 0.14\]"):
        ce.sweep(regional, uncertainties=[ce.Uncertainty("sme_birth_rate", 0.05, 0.2)], outcomes=OUT, n=2)


def test_same_name_twice(regional) -> None:
    with pytest.raises(SpecError, match="'public_investment_share' is given twice"):
        ce.sweep(regional, levers=[PIS], uncertainties=[ce.Uncertainty("public_investment_share", 0, 0.05)],
                 outcomes=OUT, n=2)
    with pytest.raises(SpecError, match="given twice"):
        ce.sweep(regional, levers=[PIS, PIS], outcomes=OUT, n=2)
    with pytest.raises(SpecError, match="Two outcomes are named 'employment'"):
        ce.sweep(regional, levers=[PIS], outcomes=OUT * 2, n=2)


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_n(regional, n) -> None:
    with pytest.raises(SpecError, match="n="):
        ce.sweep(regional, levers=[PIS], outcomes=OUT, n=n)


def test_bad_design(regional, ishigami) -> None:
    with pytest.raises(SpecError, match=r"design='sobl'.*Did you mean 'sobol'"):
        ce.sweep(regional, levers=[PIS], outcomes=OUT, n=2, design="sobl")
    with pytest.raises(SpecError, match="design='sobol' needs levers or uncertainties"):
        ce.sweep(ishigami, outcomes=[ce.Outcome("y")], n=8, design="sobol")
    with pytest.raises(SpecError, match="'public_investment_share' is continuous"):
        ce.sweep(regional, levers=[PIS], outcomes=OUT, n=1, design="full_factorial")


def test_reference_naming_a_non_lever(regional) -> None:
    with pytest.raises(UnknownNameError, match="'sme_support' is not a lever of this sweep"):
        ce.sweep(regional, levers=[PIS], outcomes=OUT, n=2, reference={"sme_support": 0.0})
    with pytest.raises(SpecError, match="outside its declared bounds"):
        ce.sweep(regional, levers=[PIS], outcomes=OUT, n=2, reference={"public_investment_share": -1.0})


def test_indicator_options(regional) -> None:
    with pytest.raises(UnknownNameError, match=r"'job' is not a known indicator role or option.*Did you mean 'jobs'"):
        ce.sweep(regional, levers=[PIS], outcomes=OUT, n=2, indicators={"job": "employment"})
    with pytest.raises(SpecError, match="horizon=2050"):
        ce.sweep(regional, levers=[PIS], outcomes=OUT, n=2, indicators={"horizon": 2050})
    with pytest.raises(SpecError, match="discount_rate"):
        ce.sweep(regional, levers=[PIS], outcomes=OUT, n=2, indicators={"discount_rate": -0.1})


def test_spec_construction_errors() -> None:
    with pytest.raises(SpecError, match=r"lower=0\.2 above upper=0\.1"):
        ce.Lever("x", 0.2, 0.1)
    with pytest.raises(SpecError, match="value 2 is outside its range"):
        ce.Lever("x", 0, 1, values=[0.5, 2])
    with pytest.raises(SpecError, match="needs mode"):
        ce.Uncertainty("x", 0, 1, distribution="triangular")
    with pytest.raises(SpecError, match="mode=2 is outside"):
        ce.Uncertainty("x", 0, 1, distribution="triangular", mode=2)
    with pytest.raises(SpecError, match="distribution='gamma'"):
        ce.Uncertainty("x", 0, 1, distribution="gamma")
    with pytest.raises(SpecError, match=r"\['mode'\] are not parameters of the normal"):
        ce.Uncertainty("x", 0, 1, distribution="normal", mean=0.5, sd=0.1, mode=0.3)
    with pytest.raises(SpecError, match="sd must be positive"):
        ce.Uncertainty("x", 0, 1, distribution="normal", mean=0.5, sd=0)
    with pytest.raises(SpecError, match="time='last'"):
        ce.Outcome("y", time="last")
    with pytest.raises(SpecError, match="reduce='max'"):
        ce.Outcome("y", reduce="max")
    u = ce.Uncertainty("x", 0, 1)
    with pytest.raises(AttributeError):
        u.lower = 3  # type: ignore[misc]


def test_prim_condition_errors() -> None:
    frame = pd.DataFrame({"a": np.linspace(0, 1, 20)})
    with pytest.raises(SpecError, match="19 values for 20 scenarios"):
        ce.prim(frame, pd.Series(np.ones(19, bool)))
    with pytest.raises(SpecError, match="must be boolean"):
        ce.prim(frame, pd.Series(np.ones(20)))
    with pytest.raises(SpecError, match="holds in no scenario"):
        ce.prim(frame, pd.Series(np.zeros(20, bool)))
    with pytest.raises(SpecError, match="peel_alpha"):
        ce.prim(frame, pd.Series(np.ones(20, bool)), peel_alpha=0.7)
