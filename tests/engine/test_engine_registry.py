"""The construct registries: PySD's list of functions walked, supported ones against PySD, refused ones named."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engine_helpers import REPO, control_section, pysd_frame
from numpy.testing import assert_allclose

from cluster_econ.errors import UnsupportedConstructError
from cluster_econ.sd.engine import compile_model, coverage
from cluster_econ.sd.engine._coverage import coverage_line
from cluster_econ.sd.engine._functions import FUNCTIONS
from cluster_econ.sd.engine._statefuls import STATEFULS

#: one equation per Vensim function, of the stock ``x`` (1 to about 4 over the run) and ``Time``
SUPPORTED = {
    "abs": "ABS(x - 3)", "exp": "EXP(x / 10)", "sin": "SIN(x)", "cos": "COS(x)", "tan": "TAN(x / 10)",
    "arcsin": "ARCSIN(x / 10)", "arccos": "ARCCOS(x / 10)", "arctan": "ARCTAN(x)", "sinh": "SINH(x / 10)",
    "cosh": "COSH(x / 10)", "tanh": "TANH(x / 10)", "sqrt": "SQRT(x)", "ln": "LN(x)", "log": "LOG(x, 10)",
    "power": "POWER(x, 1.5)", "min": "MIN(x, 2)", "max": "MAX(x, 2)", "if_then_else": "IF THEN ELSE(x > 2, 1, 0)",
    "xidz": "XIDZ(x, x - x, 5)", "zidz": "ZIDZ(x, 0)", "integer": "INTEGER(x)", "modulo": "MODULO(x, 0.7)",
    "quantum": "QUANTUM(x, 0.5)", "step": "STEP(1, 3)", "ramp": "RAMP(1, 2, 5)", "pulse": "PULSE(2, 3)",
    "pulse_train": "PULSE TRAIN(1, 1, 3, 8)", "get_time_value": "GET TIME VALUE(0, 1, 0)",
    "active_initial": "ACTIVE INITIAL(x * 2, 1)", "sum": "SUM(arr[d!])", "prod": "PROD(arr[d!])",
    "vmin": "VMIN(arr[d!])", "vmax": "VMAX(arr[d!])", "elmcount": "ELMCOUNT(d)",
    "delay1": "DELAY1(x, 2)", "delay1i": "DELAY1I(x, 2, 1)", "delay3": "DELAY3(x, 3)", "delay3i": "DELAY3I(x, 3, 1)",
    "delay_n": "DELAY N(x, 3, 1, 2)", "delay_fixed": "DELAY FIXED(x, 2, 1)", "smooth": "SMOOTH(x, 2)",
    "smoothi": "SMOOTHI(x, 2, 1)", "smooth3": "SMOOTH3(x, 2)", "smooth3i": "SMOOTH3I(x, 2, 1)",
    "smooth_n": "SMOOTH N(x, 2, 1, 2)", "trend": "TREND(x, 2, 0)", "forecast": "FORECAST(x, 2, 3)",
    "sample_if_true": "SAMPLE IF TRUE(Time > 4, x, 0)", "initial": "INITIAL(x * 3)", "integ": "INTEG(x, 1)",
    "with_lookup": "WITH LOOKUP(x, ([(0,0)-(10,10)],(0,0),(2,3),(10,5)))",
}
#: refused functions, and one equation using each
REFUSED = {
    "random_0_1": "RANDOM 0 1()", "random_uniform": "RANDOM UNIFORM(0, 1, 1)",
    "random_normal": "RANDOM NORMAL(0, 10, 1, 1, 1)", "random_exponential": "RANDOM EXPONENTIAL(0, 10, 0, 1, 1)",
    "game": "GAME(x)",
}
#: supported, and checked on the shared test-model suite instead (they need files, arrays or XMILE)
ELSEWHERE = {"get_direct_constants", "get_direct_data", "get_direct_lookups", "get_xls_constants", "get_xls_data",
             "get_xls_lookups", "allocate_by_priority", "invert_matrix", "vector_select", "vector_sort_order",
             "vector_rank", "vector_reorder", "Xpulse", "Xramp", "pi", "Xpulse_train"}
#: refused, XMILE or allocation syntax with no short Vensim form here
REFUSED_ELSEWHERE = {"vmax_xmile", "vmin_xmile", "allocate_available"}

HEADER = """{UTF-8}
d: (d1-d3)
	~
	~		|
arr[d] = x * (1 + d / 10)
	~
	~		|
x = INTEG(rate, 1)
	~
	~		|
rate = 0.3
	~
	~		|
"""
CONTROL = control_section(10, 0.5, 0.25)


def _model(tmp_path: Path, name: str, equations: dict[str, str]) -> Path:
    body = "".join(f"{var} = {eq}\n\t~\t\n\t~\t\t|\n" for var, eq in equations.items())
    path = tmp_path / f"{name}.mdl"
    path.write_text(HEADER + body + CONTROL, encoding="utf-8")
    return path


def test_every_function_pysd_translates_is_in_the_table_and_the_readme_says_how_many(capsys):
    rows = coverage()
    names = {pysd for _, pysd, _ in rows}
    assert names == set(SUPPORTED) | set(REFUSED) | ELSEWHERE | REFUSED_ELSEWHERE
    for _, pysd, ok in rows:
        assert ok == (pysd in SUPPORTED or pysd in ELSEWHERE), pysd
    with capsys.disabled():
        print("\n" + "\n".join(f"  {'supported' if ok else 'refused  '}  {vensim}" for vensim, _, ok in rows))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert coverage_line() in readme.replace("\n", " "), "the README's coverage line is not the registry's"


def test_every_supported_function_matches_pysd_in_one_model(tmp_path):
    import pysd

    equations = {f"f {name.replace('_', ' ')}": eq for name, eq in SUPPORTED.items()}
    path = _model(tmp_path, "functions", equations)
    engine = pysd_frame(compile_model(path).run())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = pysd.read_vensim(str(path)).run()
    columns = [c for c in reference.columns if c.startswith("f ")]
    assert len(columns) == len(SUPPORTED)
    assert_allclose(engine.loc[reference.index, columns].to_numpy(), reference[columns].to_numpy(dtype=float),
                    rtol=1e-12, atol=1e-12)


#: stateful calls nested in the arguments of another in one equation (each call is its own object)
NESTED = {
    "smooth n of delay3": "SMOOTH N(DELAY3(Time, ABS(2.9)), 2.9, 1, 2)",
    "smooth of smooth3": "SMOOTH(SMOOTH3(x, 2), 1.5)",
    "delay1 of smoothi": "DELAY1(SMOOTHI(x, 2, 1), 2)",
    "trend of delay n": "TREND(DELAY N(x, 3, 1, 2), 2, 0)",
    "integ of delay fixed": "INTEG(DELAY FIXED(x, 2, 1), 0)",
    "smooth of delay of smooth": "SMOOTH(DELAY1(SMOOTH(x, 1), 2), 1)",
    "sample of smooth": "SAMPLE IF TRUE(Time > 4, SMOOTH(x, 2), 0) + INITIAL(SMOOTH(x, 3))",
}


def test_nested_stateful_calls_are_each_their_own_object_as_in_pysd(tmp_path):
    import pysd

    path = _model(tmp_path, "nested", NESTED)
    engine = pysd_frame(compile_model(path).run())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = pysd.read_vensim(str(path)).run()
    columns = list(NESTED)
    assert all(reference[c].nunique() > 2 for c in columns if c != "integ of delay fixed")  # they move
    assert_allclose(engine.loc[reference.index, columns].to_numpy(), reference[columns].to_numpy(dtype=float),
                    rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_refused_function_is_named(tmp_path, name):
    vensim = name.upper().replace("_", " ")
    path = _model(tmp_path, f"refused_{name}", {"y": REFUSED[name]})
    with pytest.raises(UnsupportedConstructError, match=f"{vensim}.* used by 'y' in model 'refused_{name}' is not "
                                                        "supported by the batch engine"):
        compile_model(path)


def test_each_stateful_kind_is_one_builder_with_an_update():
    kinds = {builder.kind for builder in STATEFULS.values()}
    assert {"integ", "initial", "delay", "delayn", "delayfixed", "smooth", "sampleiftrue"} <= kinds
    for builder in STATEFULS.values():
        assert isinstance(builder.update("_s0"), list)
    assert all(callable(emit) for emit in FUNCTIONS.values())


XMILE_PULSE = """<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">
    <header><vendor>cluster_econ tests</vendor><product lang="en">hand-written</product></header>
    <sim_specs method="Euler" time_units="Months"><start>0</start><stop>12</stop><dt>0.25</dt></sim_specs>
    <model><variables>
        <stock name="Received"><eqn>0</eqn><inflow>Delivery</inflow></stock>
        <flow name="Delivery"><eqn>PULSE(Size, 2, Interval)</eqn></flow>
        <aux name="Size"><eqn>3</eqn></aux>
        <aux name="Interval"><eqn>2.5</eqn></aux>
    </variables></model>
</xmile>
"""


def test_xmile_pulse_with_an_interval_matches_pysd(tmp_path):
    """XMILE's PULSE(magnitude, first, interval): one registry entry (``Xpulse_train``) and a runtime helper."""
    import pysd

    path = tmp_path / "pulse_interval.xmile"
    path.write_text(XMILE_PULSE, encoding="utf-8")
    scenarios = pd.DataFrame({"size": [3.0, 1.0, 2.0], "interval": [2.5, 0.0, 4.0]})
    ds = compile_model(path).run(scenarios)
    for i, row in scenarios.iterrows():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = pysd.read_xmile(str(path)).run(params=row.to_dict())
        assert_allclose(ds["received"].values[i], reference["Received"].to_numpy(dtype=float), rtol=1e-12, atol=0)
        assert_allclose(ds["delivery"].values[i], reference["Delivery"].to_numpy(dtype=float), rtol=1e-12, atol=0)
    assert np.ptp(ds["received"].values[:, -1]) > 0  # the scenarios differ
