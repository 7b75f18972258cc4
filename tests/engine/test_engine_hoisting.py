"""Work that is constant in time is done once per run; variables no output or stock needs are not computed."""

from __future__ import annotations

import warnings

import pandas as pd
import pysd
from engine_helpers import control_section
from numpy.testing import assert_allclose, assert_array_equal

from cluster_econ.sd.engine import compile_model
from cluster_econ.sd.engine._program import assemble

MODEL = """{UTF-8}
stock = INTEG(inflow, 1)
	~
	~		|
inflow = growth * exchange * effect(capacity) * stock / (1 + stock)
	~
	~		|
growth = 0.05
	~
	~		|
exchange = shares * 2 + 0.5
	~
	~		|
shares = 0.3
	~
	~		|
capacity = 4
	~
	~		|
effect(
	[(0,0)-(10,2)],(0,0.5),(5,1),(10,2))
	~
	~		|
unused = SQRT(stock) * 100 + Time
	~
	~		|
""" + control_section(20, 1, 0.5)


def _step_lines(source: str) -> list[str]:
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("def _step"))
    end = next(i for i, line in enumerate(lines) if line.startswith("def _euler"))
    return lines[start:end]


def test_constant_sub_expressions_and_lookups_of_constants_are_computed_once(tmp_path):
    path = tmp_path / "hoist.mdl"
    path.write_text(MODEL, encoding="utf-8")
    compiled = compile_model(path)
    step = "\n".join(_step_lines(compiled.source))
    # growth * exchange * effect(capacity) is constant: read from the initial values, not recomputed
    assert "_rt.lookup" not in step
    assert "v_growth*v_exchange" not in step
    assert "h_" in step
    scenarios = pd.DataFrame({"growth": [0.05, 0.08], "capacity": [4.0, 7.5]})
    ds = compiled.run(scenarios)
    for i, row in scenarios.iterrows():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = pysd.read_vensim(str(path)).run(params=row.to_dict())
        assert_allclose(ds["stock"].values[i], ref["stock"].to_numpy(dtype=float), rtol=1e-12, atol=0)
        assert_allclose(ds["inflow"].values[i], ref["inflow"].to_numpy(dtype=float), rtol=1e-12, atol=0)


def test_variables_no_output_or_stock_needs_are_left_out(tmp_path):
    path = tmp_path / "dead.mdl"
    path.write_text(MODEL, encoding="utf-8")
    compiled = compile_model(path)
    assert any("v_unused =" in line for line in _step_lines(compiled.source))
    pruned, _ = assemble(compiled.program, ["stock"])
    assert not any("v_unused =" in line for line in _step_lines(pruned))
    assert any("v_inflow =" in line for line in _step_lines(pruned))  # the stock's flow stays
    kept = compiled.run(outputs=["stock"])["stock"].values
    assert_array_equal(kept, compiled.run()["stock"].values)
