"""Calibrations and sweeps save, load back and reproduce; their report sections render in chromium."""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

import cluster_econ as ce
from cluster_econ import _results_io, _toml
from cluster_econ.errors import ReproducibilityError


@pytest.fixture(scope="module")
def model():
    return ce.load_model("regional_cluster")


@pytest.fixture(scope="module")
def calibration(model):
    return ce.calibrate(model, ce.load_dataset("us_states"), targets={"output": "gsp", "employment": "emp"},
                        parameters=["private_capital_depreciation_rate", "migration_response"],
                        holdout=(1981, 1986), seed=0)


@pytest.fixture(scope="module")
def sweep(model):
    return ce.sweep(model, levers=[ce.Lever("public_investment_share", 0, 0.05),
                                   ce.Lever("engagement_start_delay", 0, 15)],
                    uncertainties=[ce.Uncertainty("fit_elasticity_of_public_capital", 0, 1)],
                    outcomes=[ce.Outcome("sme_employment", time="final", reduce="sum"),
                              ce.Outcome("employment", time="all", reduce="sum")], n=8, design="sobol", seed=1)


def test_calibration_saves_loads_and_reproduces(calibration, tmp_path):
    folder = calibration.save(tmp_path / "cal")
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    assert manifest["kind"] == "CalibrationResult"
    assert manifest["call"]["verb"] == "calibrate"
    assert manifest["dataset"] == [{"name": "us_states", "sha256": calibration.provenance.dataset_sha256}]
    assert manifest["seed"] == 0
    loaded = ce.load_result(folder)
    assert str(loaded.summary()) == str(calibration.summary())
    pd.testing.assert_frame_equal(loaded.fit, calibration.fit, check_exact=True)
    again = ce.reproduce(folder)
    assert again.params.equals(calibration.params)


def test_calibration_with_another_model_sha_is_reported(calibration, tmp_path):
    folder = ce.save(calibration, tmp_path / "cal")
    path = folder / "manifest.toml"
    manifest = tomllib.loads(path.read_text(encoding="utf-8"))
    manifest["model"]["sha256"] = "0" * 64
    path.write_text(_toml.dumps(manifest), encoding="utf-8")
    with pytest.raises(ReproducibilityError, match=r"The model differs: .* records regional_cluster 2\.0\.0 with "
                                                   r"sha256 0000"):
        ce.reproduce(folder)


def test_sweep_saves_loads_and_reproduces(sweep, tmp_path):
    folder = ce.save(sweep, tmp_path / "sweep")
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["data.zarr", "experiments.csv", "indicator_reasons.csv", "indicators.csv", "manifest.toml",
                     "outcomes.csv"]
    loaded = ce.load_result(folder)
    pd.testing.assert_frame_equal(loaded.indicators, sweep.indicators, check_exact=True)
    pd.testing.assert_frame_equal(loaded.experiments, sweep.experiments, check_exact=True)
    assert loaded.indicator_reasons.astype(str).equals(sweep.indicator_reasons.astype(str))
    assert str(loaded.summary()) == str(sweep.summary())
    again = ce.reproduce(folder)
    assert _results_io.value_sha256(again.indicators) == _results_io.value_sha256(sweep.indicators)


@pytest.mark.slow  # the quick loop renders every figure of test_report's results in chromium
def test_the_full_report_renders_every_figure(calibration, sweep, tmp_path, chromium):
    box = ce.prim(sweep, sweep.indicators["net_jobs"] > 0)
    results = {"Calibration": calibration, "Sweep": sweep, "PRIM": box}
    page = ce.report(results, tmp_path / "r.html")
    text = page.read_text(encoding="utf-8")
    for heading in ("Calibration fit", "Out-of-sample (holdout) fit", "Indicator bands", "Fan charts",
                    "Sobol&#x27; indices of sme_employment", "PRIM box"):
        assert heading in text, heading
    assert ce.report(results, tmp_path / "again.html").read_bytes() == page.read_bytes()
    loaded = chromium.load(page)
    n = text.count("<figure")
    assert n >= 6
    assert len(loaded.figures) == n
    for figure in loaded.figures:
        assert figure["width"] > 300, figure
        assert figure["height"] > 100, figure
        assert figure["drawn"] > 20, figure
    assert loaded.errors == []
    assert loaded.console == []


def test_cite_a_calibration_and_a_sweep(calibration, sweep, model):
    text = ce.cite(calibration)
    assert text.startswith(f"We calibrated private_capital_depreciation_rate, migration_response of "
                           f"model regional_cluster 2.0.0 (sha256 {model.sha256[:12]}) to the panel targets "
                           "output ~ gsp, employment ~ emp (calibration by trajectory (log loss, clustered "
                           "covariance); holdout 1981-1986), on dataset "
                           "us_states (sha256 5e71babeca1d; Munnell 1990), seed 0.")
    assert "@incollection{munnell1990regional" in text
    assert "@software{regional_cluster_2_0_0" in text
    text = ce.cite(sweep)
    assert text.startswith(f"We ran a policy sweep of model regional_cluster 2.0.0 (sha256 {model.sha256[:12]}): "
                           "8 scenarios, design sobol, over the levers public_investment_share, "
                           "engagement_start_delay and the uncertainties fit_elasticity_of_public_capital, each "
                           "paired with a reference run")
