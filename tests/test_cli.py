"""The command line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cluster_econ.cli import main


@pytest.mark.slow  # the whole pipeline: estimation, calibration, a sweep and the report
def test_demo_prints_the_us_states_description(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["demo", "--output", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "48 entities (state), 17 periods (year 1970-1986), 816 observations, balanced" in out
    assert re.search(r"Pooled OLS\s+State effects\s+State and year effects", out)  # the compare() table
    assert "entity, time" in out
    assert "Public-capital elasticity: 0.155 pooled, -0.026 with state effects." in out
    assert "Simulation: regional_cluster" in out
    sme = next(line for line in out.splitlines() if line.startswith("SME employment (million jobs)"))
    assert len(sme.split()) == 4 + 4  # label words and the four decades 1970-2000
    # the calibrated model's fit table, in and out of sample, and the sweep's indicators and PRIM box
    assert re.search(r"in sample output\s+528 ", out)
    assert re.search(r"holdout\s+output\s+288 ", out)
    assert re.search(r"^net_sme_jobs\s", out, re.MULTILINE)
    assert "PRIM: net SME jobs > 0 in" in out
    assert f"Report: {tmp_path / 'demo' / 'report.html'}" in out
    assert (tmp_path / "demo" / "report.html").is_file()
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["calibration", "report.html", "run", "sweep"]
    assert "We ran a policy sweep of model regional_cluster" in out
    assert main(["reproduce", str(tmp_path / "demo" / "sweep")]) == 0


def test_describe_prints_the_panel_and_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    """The first step of the demo, in the quick loop (the demo itself is marked slow)."""
    assert main(["describe", "us_states"]) == 0
    out = capsys.readouterr().out
    assert "48 entities (state), 17 periods (year 1970-1986), 816 observations, balanced" in out
    assert "label columns: none" in out


def test_unknown_dataset_is_one_line_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "us_state"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cluster-econ: UnknownNameError: 'us_state' is not a dataset. Did you mean 'us_states'?")
    assert "Traceback" not in err


@pytest.mark.slow
def test_console_script_runs() -> None:
    script = Path(sys.executable).with_name("cluster-econ")
    result = subprocess.run([str(script), "datasets"], capture_output=True, text=True, check=True)
    assert "mi_training_grants" in result.stdout
    result = subprocess.run([str(script), "describe", "grunfield"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "Did you mean 'grunfeld'?" in result.stderr


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """``cluster-econ describe us_states | head -1``: the closed pipe ends the command quietly."""
    proc = subprocess.Popen([sys.executable, "-m", "cluster_econ.cli", "describe", "us_states"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err, err
    assert "BrokenPipeError" not in err, err
