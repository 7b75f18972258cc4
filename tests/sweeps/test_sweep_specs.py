"""Uncertainties from a calibration (joint draws), distributions, full-factorial designs, figures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce


@dataclasses.dataclass(frozen=True)
class _Calibrated:
    """An object of the shape of a CalibrationResult: params, cov and a parameter table with bounds."""

    params: pd.Series
    cov: pd.DataFrame
    parameters: pd.DataFrame


def _calibration() -> _Calibrated:
    names = ["growth", "productivity"]
    sd = np.array([0.004, 5.0])
    corr = np.array([[1.0, -0.7], [-0.7, 1.0]])
    cov = pd.DataFrame(corr * np.outer(sd, sd), index=names, columns=names)
    table = pd.DataFrame({"name": names, "lower": [0.0, 30.0], "upper": [0.04, 70.0]})
    return _Calibrated(pd.Series([0.02, 50.0], index=names), cov, table)


def test_uncertainties_from_draw_jointly(toy) -> None:
    unc = ce.uncertainties_from(_calibration())
    assert [u.name for u in unc] == ["growth", "productivity"]
    assert unc[0].distribution == "normal" and unc[0].params["mean"] == 0.02
    assert_allclose(unc[0].params["sd"], 0.004, rtol=1e-12, atol=0)
    assert_allclose(unc[0].correlation["productivity"], -0.7, rtol=1e-12, atol=0)
    res = ce.sweep(toy, uncertainties=unc, outcomes=[ce.Outcome("employment")], n=3000, seed=1)
    exp = res.experiments
    assert exp["growth"].between(0, 0.04).all() and exp["productivity"].between(30, 70).all()
    assert_allclose(exp.corr().iloc[0, 1], -0.7, rtol=0, atol=0.04)
    assert_allclose(exp.mean().to_numpy(), [0.02, 50.0], rtol=0.02, atol=0)
    assert_allclose(exp.std().to_numpy(), [0.004, 5.0], rtol=0.06, atol=0)
    with pytest.raises(ce.errors.SpecError, match="independent inputs"):
        ce.sweep(toy, uncertainties=unc, outcomes=[ce.Outcome("employment")], n=8, design="sobol")
    with pytest.raises(ce.errors.SpecError, match="not an uncertainty of this sweep"):
        ce.sweep(toy, uncertainties=unc[:1], outcomes=[ce.Outcome("employment")], n=8)


def test_uncertainties_from_needs_params_cov_and_bounds() -> None:
    with pytest.raises(ce.errors.SpecError, match="params"):
        ce.uncertainties_from(object())
    cal = _calibration()
    bare = type("Bare", (), {"params": cal.params, "cov": cal.cov})()
    with pytest.raises(ce.errors.SpecError, match="no bounds"):
        ce.uncertainties_from(bare)
    unc = ce.uncertainties_from(bare, bounds={"growth": (0, 0.05), "productivity": (0, 100)}, names=["growth"])
    assert len(unc) == 1 and unc[0].upper == 0.05 and not unc[0].correlation


def test_distributions_map_the_unit_interval() -> None:
    u = np.linspace(0.001, 0.999, 999)
    tri = ce.Uncertainty("x", 0, 10, distribution="triangular", mode=2).ppf(u)
    assert_allclose(np.median(tri), 10 - np.sqrt(0.5 * 10 * 8), rtol=1e-3, atol=0)  # triangular median
    norm = ce.Uncertainty("x", 0, 1, distribution="normal", mean=0.9, sd=0.5).ppf(u)
    assert norm.min() >= 0 and norm.max() <= 1
    lev = ce.Lever("x", 0, 1, values=[0.5, 0, 1])
    assert lev.values == (0.0, 0.5, 1.0)
    assert set(lev.ppf(u)) == {0.0, 0.5, 1.0}


def test_full_factorial_crosses_levers_with_draws(toy) -> None:
    res = ce.sweep(toy, levers=[ce.Lever("subsidy", 0, 1, values=(0, 0.5, 1))],
                   uncertainties=[ce.Uncertainty("growth", 0, 0.04)], outcomes=[ce.Outcome("employment")],
                   n=4, design="full_factorial", reference={"subsidy": 0})
    exp = res.experiments
    assert len(exp) == 12 and sorted(exp["subsidy"].unique()) == [0, 0.5, 1]
    assert exp.groupby("subsidy")["growth"].apply(tuple).nunique() == 1
    grid = ce.sweep(toy, levers=[ce.Lever("subsidy", 0, 1, values=(0, 1))], outcomes=[ce.Outcome("employment")],
                    n=1, design="full_factorial")
    assert list(grid.experiments["subsidy"]) == [0, 1]
    with pytest.raises(ce.errors.SpecError, match="n=3 would repeat"):
        ce.sweep(toy, levers=[ce.Lever("subsidy", 0, 1, values=(0, 1))], outcomes=[ce.Outcome("employment")],
                 n=3, design="full_factorial")


def test_figures(toy, ishigami) -> None:
    import matplotlib

    matplotlib.use("Agg")
    res = ce.sweep(toy, levers=[ce.Lever("subsidy", 0, 1)], uncertainties=[ce.Uncertainty("growth", 0, 0.04)],
                   outcomes=[ce.Outcome("employment", time="all", name="jobs")], n=30, reference={"subsidy": 0})
    ax = res.plot_fan("jobs", by="subsidy")
    assert len(ax.get_lines()) == 3
    assert res.plot_scatter("net_jobs", "subsidy").get_xlabel() == "subsidy"
    sob = ce.sweep(ishigami, uncertainties=[ce.Uncertainty(x, -np.pi, np.pi) for x in ("x1", "x2", "x3")],
                   outcomes=[ce.Outcome("y")], n=64, design="sobol")
    ax = sob.plot_sensitivity("y")
    assert len(ax.patches) == 6
    assert {t.get_text() for t in ax.get_yticklabels()} == {"x1", "x2", "x3"}
    with pytest.raises(ce.errors.SpecError, match="time-series"):
        res.plot_fan("net_jobs")
