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


def test_every_case_names_its_source() -> None:
    assert len(CASES) >= 8
    for case in CASES:
        assert case["source"] and case["table"], case["id"]
        assert case["estimates"], case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_published_estimates(case: dict) -> None:
    res = _result(case)
    terms = list(case["estimates"])
    expected = [case["estimates"][t] for t in terms]
    assert_allclose(res.params[terms].to_numpy(), [e[0] for e in expected], rtol=case["rtol"], atol=case["atol"])
    assert_allclose(res.std_errors[terms].to_numpy(), [e[1] for e in expected], rtol=case["rtol"], atol=case["atol"])
    if "nobs" in case:
        assert res.nobs == case["nobs"]
    for name, (value, atol) in case.get("statistics", {}).items():
        actual = res.statistics[name] if name in res.statistics else res.tests[name].statistic
        assert_allclose(actual, value, rtol=0, atol=atol, err_msg=f"{case['id']}: {name}")
