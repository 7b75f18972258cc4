"""Experiment files and the command line: run, reproduce, report, cite; bad files refused with exit 2."""

from __future__ import annotations

import contextlib
import io
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
                          r"regional_cluster 2\.0\.0\. Did you mean 'public_investment_share'\?"),
    "unknown output": (lambda s: s["simulation"].update(outputs=["employmnt"]),
                       r"simulation\.outputs: 'employmnt' is not a variable of regional_cluster 2\.0\.0\. "
                       r"Did you mean 'employment'\?"),
    "unknown model": (lambda s: s["model"].update(id="regional_clustr"),
                      r"model\.id: 'regional_clustr' is not a registered model.* Did you mean 'regional_cluster'\?"),
    "unknown version": (lambda s: s["model"].update(version="9.9.9"),
                        r"model\.version: regional_cluster has no loadable version '9\.9\.9'"),
    "unknown dataset": (lambda s: s["estimation"][0].update(dataset="us_state"),
                        r"estimation\[0\]\.dataset: 'us_state' is not a bundled dataset\. Did you mean 'us_states'\?"),
    "unknown estimator": (lambda s: s["estimation"][0].update(estimator="panel_OLS"),
                          r"estimation\[0\]\.estimator: 'panel_OLS' is not an estimator\. Did you mean 'panel_ols'\?"),
    "missing key": (lambda s: s["estimation"][0].pop("formula"), r"estimation\[0\]\.formula: is required\."),
    "unknown lever": (lambda s: s["sweep"]["lever"][0].update(name="public_investment_shar"),
                      r"sweep\.lever\[0\]\.name: 'public_investment_shar' is not a constant of regional_cluster "
                      r"2\.0\.0\. Did you mean 'public_investment_share'\?"),
    "unknown design": (lambda s: s["sweep"].update(design="lsh"),
                       r"sweep\.design: 'lsh' is not a valid option\. Did you mean 'lhs'\?"),
    "unknown outcome": (lambda s: s["sweep"]["outcome"][0].update(variable="sme_employmnt"),
                        r"sweep\.outcome\[0\]\.variable: 'sme_employmnt' is not a variable .* "
                        r"Did you mean 'sme_employment'\?"),
    "unknown indicator": (lambda s: s["prim"].update(indicator="net_sme_job"),
                          r"prim\.indicator: 'net_sme_job' is not an indicator or outcome of this sweep\. "
                          r"Did you mean 'net_sme_jobs'\?"),
    "unknown panel column": (lambda s: s.update(calibration={"panel": "us_states", "targets": {"output": "gps"},
                                                             "parameters": ["private_capital_trend_growth"]}),
                             r"calibration\.targets\.output: 'gps' is not a column of us_states\. "
                             r"Did you mean 'gsp'\?"),
    "unknown calibration parameter": (
        lambda s: s.update(calibration={"panel": "us_states", "targets": {"output": "gsp"},
                                        "parameters": ["private_capital_trend_growh"]}),
        r"calibration\.parameters: 'private_capital_trend_growh' is not a constant .* "
        r"Did you mean 'private_capital_trend_growth'\?"),
    "unknown executor": (lambda s: s["sweep"].update(executor="dsak"),
                         r"sweep\.executor: 'dsak' is not an executor\. Did you mean 'dask'\?"),
    "prim without a condition": (lambda s: s["prim"].pop("above"),
                                 r"prim: give exactly one of prim\.above or prim\.below"),
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
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_not_toml_and_missing_file(tmp_path, capsys):
    path = tmp_path / "x.toml"
    path.write_text("[model\nid = 1", encoding="utf-8")
    assert main(["run", str(path), "--output", str(tmp_path / "o")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "none.toml"), "--output", str(tmp_path / "o")]) == 2
    assert "no such experiment file" in capsys.readouterr().err


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory) -> Path:
    """The quick example run by the command line, from another working directory (test_cli runs the script)."""
    out = tmp_path_factory.mktemp("quick") / "study"
    printed = io.StringIO()
    with contextlib.chdir(out.parent), contextlib.redirect_stdout(printed):
        assert main(["run", str(QUICK), "--output", str(out)]) == 0
    assert f"Report: {out / 'report.html'}" in printed.getvalue()
    return out


def test_quick_example_writes_results_manifests_and_report(quick_study):
    assert sorted(p.name for p in quick_study.iterdir()) == ["experiment.toml", "report.html", "results", "study.toml"]
    meta = tomllib.loads((quick_study / "study.toml").read_text(encoding="utf-8"))
    assert [row["step"] for row in meta["result"]] == ["estimation/0", "simulation", "sweep"]
    text = (quick_study / "report.html").read_text(encoding="utf-8")
    assert "PRIM box" in text
    assert "Indicator bands" in text
    for row in meta["result"]:
        assert (quick_study / row["path"] / "manifest.toml").is_file()
    assert (quick_study / "experiment.toml").read_bytes() == QUICK.read_bytes()


@pytest.mark.slow  # each result kind reproduces in the quick loop (test_save_reproduce)
def test_reproduce_exits_0_when_equal_and_1_when_different(quick_study, tmp_path, capsys):
    assert main(["reproduce", str(quick_study)]) == 0
    out = capsys.readouterr().out
    assert out.count("EQUAL") == 3
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(quick_study, copy)
    manifest = copy / "results" / "simulation" / "manifest.toml"
    data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    data["call"]["arguments"]["params"]["public_investment_share"] = 0.03
    manifest.write_text(_toml.dumps(data), encoding="utf-8")
    assert main(["reproduce", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT  simulation: Re-running" in out
    assert "data/output differs by up to" in out
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
    assert "# production function, state and year effects" in out
    assert "# simulation" in out
    assert "@incollection{munnell1990regional" in out
    assert "@software{regional_cluster_2_0_0" in out


@pytest.mark.slow
def test_full_regional_cluster_study_runs_reproduces_and_reports(tmp_path, capsys, chromium):
    out = tmp_path / "study"
    assert main(["run", str(EXAMPLES / "regional_cluster_study.toml"), "--output", str(out), "--n", "48"]) == 0
    printed = capsys.readouterr().out
    for name in ("production function, pooled (Munnell 1990)", "calibration", "simulation", "policy sweep"):
        assert f"  - {name}" in printed
    meta = tomllib.loads((out / "study.toml").read_text(encoding="utf-8"))
    assert [row["step"] for row in meta["result"]] == ["estimation/0", "estimation/1", "calibration", "simulation",
                                                       "sweep"]
    cal = tomllib.loads((out / "results" / "calibration" / "manifest.toml").read_text(encoding="utf-8"))
    fixed = cal["call"]["arguments"]["fixed"]
    assert set(fixed) == {"output_elasticity_of_public_capital", "output_elasticity_of_private_capital",
                          "output_elasticity_of_labour"}
    assert fixed["output_elasticity_of_public_capital"] == pytest.approx(0.155, abs=5e-4)  # Munnell's pooled 0.15
    text = (out / "report.html").read_text(encoding="utf-8")
    for heading in ("Calibration fit", "Indicator bands", "Fan charts", "PRIM box", "Citation"):
        assert heading in text
    loaded = chromium.load(out / "report.html")
    assert loaded.figures
    assert all(f["width"] > 300 and f["drawn"] > 20 for f in loaded.figures)
    assert loaded.errors == []
    assert loaded.console == []
    assert main(["reproduce", str(out)]) == 0
    assert capsys.readouterr().out.count("EQUAL") == 5
