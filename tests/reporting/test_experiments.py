"""Experiment files and the command line: run, reproduce, report, cite; bad files refused with exit 2."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cluster_econ import _toml
from cluster_econ.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
QUICK = EXAMPLES / "quick.toml"


def _variant(tmp_path: Path, edit) -> Path:
    spec = tomllib.loads(QUICK.read_text(encoding="utf-8"))
    edit(spec)
    path = tmp_path / "bad.toml"
    path.write_text(_toml.dumps(spec), encoding="utf-8")
    return path


BAD = {
    "unknown key": (lambda s: s["simulation"].update(final_tme=1990),
                    r"simulation\.final_tme: unknown key 'final_tme'\. Did you mean 'final_time'\?"),
    "unknown section": (lambda s: s.update(calibraton={"panel": "us_states"}),
                        r"calibraton: unknown key 'calibraton'\. Did you mean 'calibration'\?"),
    "wrong type": (lambda s: s["simulation"].update(final_time="1990"),
                   r"simulation\.final_time: expected float, got str '1990'\."),
    "wrong type in a list": (lambda s: s["estimation"][0].update(effects="entity"),
                             r"estimation\[0\]\.effects: expected list\[str\], got str 'entity'\."),
    "unknown parameter": (lambda s: s["simulation"]["params"].update(public_investment_shar=0.1),
                          r"simulation\.params\.public_investment_shar: 'public_investment_shar' is not a constant of "
                          r"regional_cluster 1\.1\.0\. Did you mean 'public_investment_share'\?"),
    "unknown output": (lambda s: s["simulation"].update(outputs=["employmnt"]),
                       r"simulation\.outputs: 'employmnt' is not a variable of regional_cluster 1\.1\.0\. "
                       r"Did you mean 'employment'\?"),
    "unknown model": (lambda s: s["model"].update(id="regional_clustr"),
                      r"model\.id: 'regional_clustr' is not a registered model.* Did you mean 'regional_cluster'\?"),
    "unknown version": (lambda s: s["model"].update(version="9.9.9"),
                        r"model\.version: regional_cluster has no loadable version '9\.9\.9'"),
    "unknown dataset": (lambda s: s["estimation"][0].update(dataset="us_state"),
                        r"estimation\[0\]\.dataset: 'us_state' is not a bundled dataset\. Did you mean 'us_states'\?"),
    "unknown estimator": (lambda s: s["estimation"][0].update(estimator="panel_OLS"),
                          r"estimation\[0\]\.estimator: 'panel_OLS' is not a estimator\. Did you mean 'panel_ols'\?"),
    "missing key": (lambda s: s["estimation"][0].pop("formula"), r"estimation\[0\]\.formula: is required\."),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_experiment_files_exit_2_naming_file_and_key(case, tmp_path, capsys):
    edit, pattern = BAD[case]
    path = _variant(tmp_path, edit)
    out = tmp_path / "study"
    assert main(["run", str(path), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cluster-econ: ExperimentError: {path}: "), err
    assert pytest.importorskip("re").search(pattern, err), err
    assert "Traceback" not in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]  # nothing was done


def test_not_toml_and_missing_file(tmp_path, capsys):
    path = tmp_path / "x.toml"
    path.write_text("[model\nid = 1", encoding="utf-8")
    assert main(["run", str(path), "--output", str(tmp_path / "o")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "none.toml"), "--output", str(tmp_path / "o")]) == 2
    assert "no such experiment file" in capsys.readouterr().err


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory) -> Path:
    """The quick example run with the console script itself, from another working directory."""
    out = tmp_path_factory.mktemp("quick") / "study"
    script = Path(sys.executable).with_name("cluster-econ")
    done = subprocess.run([str(script), "run", str(QUICK), "--output", str(out)], capture_output=True, text=True,
                          check=False, cwd=out.parent)
    assert done.returncode == 0, done.stderr
    assert f"Report: {out / 'report.html'}" in done.stdout
    return out


def test_quick_example_writes_results_manifests_and_report(quick_study):
    assert sorted(p.name for p in quick_study.iterdir()) == ["experiment.toml", "report.html", "results", "study.toml"]
    meta = tomllib.loads((quick_study / "study.toml").read_text(encoding="utf-8"))
    for row in meta["result"]:
        assert (quick_study / row["path"] / "manifest.toml").is_file()
    assert (quick_study / "experiment.toml").read_bytes() == QUICK.read_bytes()


def test_reproduce_exits_0_when_equal_and_1_when_different(quick_study, tmp_path, capsys):
    assert main(["reproduce", str(quick_study)]) == 0
    out = capsys.readouterr().out
    assert out.count("EQUAL") == 2
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(quick_study, copy)
    manifest = copy / "results" / "simulation" / "manifest.toml"
    data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    data["call"]["arguments"]["params"]["public_investment_share"] = 0.03
    manifest.write_text(_toml.dumps(data), encoding="utf-8")
    assert main(["reproduce", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT  simulation: Re-running" in out and "data/output differs by up to" in out
    assert main(["reproduce", str(copy / "results" / "estimation-0")]) == 0
    assert main(["reproduce", str(tmp_path)]) == 2
    assert "holds no manifest.toml" in capsys.readouterr().err


def test_report_rebuilds_the_same_bytes_and_cite_prints_every_result(quick_study, capsys):
    before = (quick_study / "report.html").read_bytes()
    assert main(["report", str(quick_study)]) == 0
    assert (quick_study / "report.html").read_bytes() == before
    capsys.readouterr()
    assert main(["cite", str(quick_study)]) == 0
    out = capsys.readouterr().out
    assert "# production function, state and year effects" in out and "# simulation" in out
    assert "@incollection{munnell1990regional" in out and "@software{regional_cluster_1_1_0" in out
