"""Macros are inlined once per call, each call with its own stocks."""

from __future__ import annotations

import warnings

import pysd
from numpy.testing import assert_allclose

from cluster_econ.sd.engine import compile_model

MODEL = """{UTF-8}
:MACRO: ACCUMULATE(input, start)
ACCUMULATE = INTEG(input * rate, start)
\t~\tunits
\t~\t|
rate = 0.5
\t~\t1/Year
\t~\t|
:END OF MACRO:
first = ACCUMULATE(inflow, 10)
\t~\tunits
\t~\t|
second = ACCUMULATE(inflow * 2 + first / 10, 1)
\t~\tunits
\t~\t|
inflow = 3 + STEP(2, 4)
\t~\tunits/Year
\t~\t|
INITIAL TIME = 0
\t~\tYear
\t~\t|
FINAL TIME = 10
\t~\tYear
\t~\t|
TIME STEP = 0.5
\t~\tYear
\t~\t|
SAVEPER = 1
\t~\tYear
\t~\t|
"""


def test_each_macro_call_has_its_own_state_and_matches_pysd(tmp_path):
    path = tmp_path / "macro_twice.mdl"
    path.write_text(MODEL, encoding="utf-8")
    compiled = compile_model(path)
    assert set(compiled.variables) >= {"first", "second", "inflow"}
    assert not any(name.startswith("_") for name in compiled.variables)
    ds = compiled.run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pysd.read_vensim(str(path)).run()
    assert_allclose(ds["first"].values[0], ref["first"].values, rtol=1e-12, atol=0)
    assert_allclose(ds["second"].values[0], ref["second"].values, rtol=1e-12, atol=0)
    assert ds["first"].values[0, 0] == 10.0
    assert ds["second"].values[0, 0] == 1.0
