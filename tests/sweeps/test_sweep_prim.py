"""PRIM finds a known box, never mutates its inputs, and selects steps as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce


@pytest.fixture(scope="module")
def boxed():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.random((4000, 4)), columns=["a", "b", "c", "d"])
    frame.index.name = "scenario"
    inside = frame["a"].between(0.2, 0.6) & (frame["b"] > 0.5)
    return frame, inside


def test_prim_finds_a_known_box(boxed) -> None:
    frame, inside = boxed
    before, cond_before = frame.copy(), inside.copy()
    res = ce.prim(frame, inside)
    box = res.box
    assert list(box.index[box["restricted"]]) == ["a", "b"]
    assert_allclose(box.loc["a", ["lower", "upper"]].to_numpy(float), [0.2, 0.6], rtol=0, atol=0.03)
    assert_allclose(box.loc["b", "lower"], 0.5, rtol=0, atol=0.03)
    assert res.density > 0.95 and res.coverage > 0.9
    assert_allclose(res.mass, inside.mean(), rtol=0.1, atol=0)
    pd.testing.assert_frame_equal(frame, before)  # inputs untouched
    pd.testing.assert_series_equal(inside, cond_before)


def test_trajectory_and_selection(boxed) -> None:
    frame, inside = boxed
    res = ce.prim(frame, inside)
    traj = res.trajectory
    assert list(traj.columns) == ["kind", "coverage", "density", "mass", "res_dim"]
    assert traj["kind"].iloc[0] == "start" and traj["coverage"].iloc[0] == 1.0
    assert (traj["mass"] >= 0.05 - 1e-12).all()
    peel = traj[traj["kind"] == "peel"]
    assert (np.diff(peel["mass"]) < 0).all()
    # default: largest coverage among steps within 0.05 of the highest density
    near = traj[traj["density"] >= traj["density"].max() - 0.05]
    assert res.step == near["coverage"].idxmax()
    first = ce.prim(frame, inside, threshold=0.5)
    assert first.density >= 0.5 and (traj["density"].iloc[: first.step] < 0.5).all()
    other = res.select(3)
    assert other.step == 3 and res.step != 3
    assert_allclose(other.coverage, traj["coverage"].iloc[3], rtol=0, atol=0)
    with pytest.raises(ce.errors.SpecError, match="No step reaches density"):
        ce.prim(frame, frame["a"] > 0.999, threshold=1.0, mass_min=0.2)
    with pytest.raises(ce.errors.SpecError, match="not a step"):
        res.select(10_000)


def test_prim_on_a_sweep(toy) -> None:
    res = ce.sweep(toy, levers=[ce.Lever("subsidy", 0.0, 1.0)], uncertainties=[ce.Uncertainty("growth", 0, 0.04)],
                   outcomes=[ce.Outcome("employment")], n=300, reference={"subsidy": 0.0})
    cond = res.indicators["net_jobs"] > res.indicators["net_jobs"].quantile(0.7)
    found = ce.prim(res, cond)
    box = found.box
    assert box.loc["subsidy", "restricted"] and box.loc["subsidy", "lower"] > 0.3
    assert found.density > 0.7
    import matplotlib

    matplotlib.use("Agg")
    ax = found.plot()
    assert ax.get_xlabel() == "coverage"
