"""SUM(weight[A, B!] * f) with weights constant in time is evaluated on the weights' non-zero cells only."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pysd
import pytest
from engine_helpers import control_section
from numpy.testing import assert_allclose, assert_array_equal

from cluster_econ.sd.engine import _runtime, compile_model

MODEL = """{UTF-8}
Region: (r1-r5)
	~
	~		|
Partner <-> Region
	~
	~		|
level[Region] = INTEG(gain[Region] + drift[Region], start[Region])
	~
	~		|
start[Region] = 1, 2, 4, 3, 5
	~
	~		|
weight[Region, Partner] =
	0, 0.5, 0.5, 0, 0;
	0.5, 0, 0.5, 0, 0;
	0.5, 0.5, 0, 0, 0;
	0, 0, 0, 0, 1;
	0, 0, 0, 1, 0;
	~
	~		|
rate = 0.2
	~
	~		|
gain[Region] = rate * SUM(weight[Region, Partner!] * MAX(level[Partner!] - level[Region], 0))
	~
	~		|
moving weight[Region, Partner] = weight[Region, Partner] * (1 + Time / 10)
	~
	~		|
drift[Region] = 0.01 * SUM(moving weight[Region, Partner!] * (level[Partner!] / level[Region] - 1))
	~
	~		|
""" + control_section(10, 1, 0.25)


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    out = tmp_path_factory.mktemp("sparse") / "exchange.mdl"
    out.write_text(MODEL, encoding="utf-8")
    return out


def _line(source: str, name: str) -> str:
    step = source[source.index("def _step"):source.index("def _euler")]
    return next(line for line in step.splitlines() if line.strip().startswith(f"v_{name} ="))


def test_constant_weights_are_gathered_and_weights_that_change_in_time_are_not(path):
    compiled = compile_model(path)
    gain, drift = _line(compiled.source, "gain"), _line(compiled.source, "drift")
    assert "(v_level)[:, h_" in gain  # partner values gathered with the hoisted index array
    assert "[:, None, :]" not in gain
    assert "(v_level)[:, None, :]" in drift  # moving weight: the dense form


def test_gathered_sums_agree_with_pysd_also_when_scenarios_change_the_weights(path):
    compiled = compile_model(path)
    other = np.zeros((5, 5))
    other[0, 4] = other[4, 0] = other[1, 3] = 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = pysd.read_vensim(str(path))
    default = model.components.weight()
    frame = pd.DataFrame({"rate": [0.2, 0.35, 0.1]})
    frame["weight"] = [default.values, default.values, other]  # the third scenario: other non-zero cells
    ds = compiled.run(frame, outputs=["level", "gain"])
    for i in range(len(frame)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = model.run(params={"rate": frame.loc[i, "rate"], "weight": default.copy(data=frame.loc[i, "weight"])})
        for j, region in enumerate(["r1", "r2", "r3", "r4", "r5"]):
            assert_allclose(ds["level"].values[i, :, j], ref[f"level[{region}]"].to_numpy(float), rtol=1e-12, atol=0)
            assert_allclose(ds["gain"].values[i, :, j], ref[f"gain[{region}]"].to_numpy(float), rtol=1e-12, atol=1e-15)


def test_the_pattern_is_the_union_of_the_scenarios_non_zero_weights_with_non_finite_ones_kept():
    w = np.zeros((2, 3, 4))
    w[0, 0, 2] = 0.5
    w[1, 0, 0] = 1.0
    w[1, 1, 3] = np.nan
    w[0, 2, 1] = np.inf
    cols, weights = _runtime.sparsity(w)
    assert_array_equal(cols, [[0, 2], [3, 0], [1, 0]])
    assert_array_equal(weights[:, 0], [[0.0, 0.5], [1.0, 0.0]])
    assert np.isnan(weights[1, 1, 0])
    assert weights[0, 1].tolist() == [0.0, 0.0]
    assert weights[0, 2].tolist() == [np.inf, 0.0]
