"""Every published estimate in estimation_tables.toml, reproduced to its stated tolerance."""

from __future__ import annotations

import functools
import json
import tomllib
from pathlib import Path

import pytest
from numpy.testing import assert_allclose

import cluster_econ as ce

TABLES = Path(__file__).with_name("estimation_tables.toml")
CASES = tomllib.loads(TABLES.read_text(encoding="utf-8"))["case"]


@functools.cache
def _fit(function: str, dataset: str, formula: str, options_json: str) -> ce.EstimationResult:
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(options_json).items()}
    return getattr(ce, function)(formula, ce.load_dataset(dataset), **options)


def _result(case: dict) -> ce.EstimationResult:
    return _fit(case["function"], case["dataset"], case["formula"], json.dumps(case["options"], sort_keys=True))


def _case(case_id: str) -> dict:
    return next(c for c in CASES if c["id"] == case_id)


def test_every_case_names_its_source() -> None:
    assert len(CASES) >= 10
    for case in CASES:
        assert case["source"], case["id"]
        assert case["table"], case["id"]
        assert case["estimates"], case["id"]
        assert all(len(v) in (1, 2) for v in case["estimates"].values()), case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_published_estimates(case: dict) -> None:
    res = _result(case)
    terms = list(case["estimates"])
    expected = [case["estimates"][t] for t in terms]
    assert_allclose(res.params[terms].to_numpy(), [e[0] for e in expected], rtol=case["rtol"], atol=case["atol"])
    with_se = [t for t, e in zip(terms, expected, strict=True) if len(e) == 2]
    assert_allclose(
        res.std_errors[with_se].to_numpy(),
        [case["estimates"][t][1] for t in with_se],
        rtol=case["rtol"],
        atol=case["atol"],
    )
    if "nobs" in case:
        assert res.nobs == case["nobs"]
    for name, (value, atol) in case.get("statistics", {}).items():
        actual = res.statistics[name] if name in res.statistics else res.tests[name].statistic
        assert_allclose(actual, value, rtol=0, atol=atol, err_msg=f"{case['id']}: {name}")


def test_public_capital_elasticity_vanishes_with_state_effects() -> None:
    """Holtz-Eakin (1994): with state effects the output elasticity of public capital is about zero.

    Published: 0.15 pooled (Munnell 1990) against -0.026 within (Baltagi), a gap of 0.176.
    Holtz-Eakin, D. (1994). Public-sector capital and the productivity puzzle. *Review of Economics
    and Statistics*, 76(1), 12-21.
    """
    pooled_case, within_case = _case("us-states-pooled-munnell"), _case("us-states-within-baltagi")
    published_pooled = pooled_case["estimates"]["log(pcap)"][0]
    published_within = within_case["estimates"]["log(pcap)"][0]
    assert (published_pooled, published_within) == (0.15, -0.026)
    pooled, within = _result(pooled_case), _result(within_case)
    b_pooled, b_within = pooled.params["log(pcap)"], within.params["log(pcap)"]
    # reproduced: 0.1550 pooled and -0.0261 within; the gap of about 0.18 is what the published pair shows
    assert b_within < b_pooled - 0.15, f"within {b_within:.4f} is not far below pooled {b_pooled:.4f}"
    assert abs((b_pooled - b_within) - (published_pooled - published_within)) < 0.01
    # significant pooled, not with state effects (entity-clustered errors, the package default)
    clustered = ce.panel_ols(within_case["formula"], ce.load_dataset("us_states"))
    assert pooled.pvalues["log(pcap)"] < 0.05 < clustered.pvalues["log(pcap)"]
