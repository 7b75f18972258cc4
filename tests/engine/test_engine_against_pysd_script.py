"""``scripts/engine_against_pysd.py``: the engine and PySD on every model of a folder."""

from __future__ import annotations

import importlib.util
import shutil

import pytest
from engine_helpers import FIXTURES, REPO, SIR, control_section


def _script():
    spec = importlib.util.spec_from_file_location("engine_against_pysd", REPO / "scripts" / "engine_against_pysd.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # PySD runs of every model in the folder
def test_the_script_reports_same_for_supported_models_and_names_a_refusal(tmp_path, capsys):
    shutil.copy(SIR, tmp_path / "SIR.mdl")
    shutil.copy(FIXTURES / "test_subscript_2d_arrays.mdl", tmp_path / "sub2d.mdl")
    nested = tmp_path / "nested" / "nested.mdl"  # stateful calls inside stateful calls
    nested.parent.mkdir()
    nested.write_text("{UTF-8}\ny = SMOOTH N(DELAY3(Time, 2.9), 2.9, 1, 2)\n\t~\n\t~\t\t|\n"
                      "z = RANDOM UNIFORM(0, 1, 1)\n\t~\n\t~\t\t|\n" + control_section(10, 1, 0.5), encoding="utf-8")
    assert _script().main([str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "1 refused; 2 same"
    assert any(line.startswith("refused") and "RANDOM UNIFORM" in line and "nested.mdl" in line for line in out)
    assert any(line.startswith("same") and "SIR.mdl" in line for line in out)


def test_a_difference_beyond_the_tolerance_is_measured_in_tolerances():
    import pandas as pd

    module = _script()
    frame = pd.DataFrame({"x": [1.0, 2.0]}, index=[0.0, 1.0])
    worst, where, n = module.worst_difference(frame, frame * (1 + 1e-6), 1e-9)
    assert (where, n) == ("x", 1)
    assert worst > 100
    assert module.worst_difference(frame, frame, 1e-9)[0] == 0
