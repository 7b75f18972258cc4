"""A frozen result cannot change: what it hands out is a copy."""

from __future__ import annotations

import dataclasses

import pytest

import cluster_econ as ce

F = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"


@pytest.fixture(scope="module")
def fit() -> ce.EstimationResult:
    return ce.panel_ols(F, ce.load_dataset("us_states"))


def test_assigning_into_params_std_errors_or_cov_leaves_the_result_unchanged(fit: ce.EstimationResult) -> None:
    before = fit.to_frame()
    params, std_errors, cov = fit.params, fit.std_errors, fit.cov
    params["log(pcap)"] = 99.0
    params.iloc[1] = 0.0
    std_errors.iloc[0] = -1.0
    cov.iloc[0, 0] = 1e6
    assert fit.to_frame().equals(before)
    assert fit.params["log(pcap)"] == before.set_index("term").loc["log(pcap)", "estimate"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.params = fit.params * 2  # type: ignore[misc]


def test_a_copy_is_a_plain_writable_series(fit: ce.EstimationResult) -> None:
    params = fit.params
    params["log(pcap)"] = 1.0
    assert params["log(pcap)"] == 1.0 != fit.params["log(pcap)"]


def test_comparison_table_and_panel_description_hand_out_copies(fit: ce.EstimationResult) -> None:
    table = ce.compare([fit])
    text = str(table)
    params, footer = table.params, table.footer
    params.iloc[0, 0] = 123.0
    footer.iloc[0, 0] = "changed"
    assert str(table) == text
    desc = ce.load_dataset("us_states").describe()
    shown = str(desc)
    variables = desc.variables
    variables.loc["gsp", "mean"] = -1.0
    assert str(desc) == shown


def test_frozen_results_and_panels_pickle_and_stay_frozen(fit: ce.EstimationResult) -> None:
    import pickle

    panel = ce.load_dataset("us_states")
    for obj in (fit, panel, fit.provenance):
        back = pickle.loads(pickle.dumps(obj))
        assert type(back) is type(obj)
    back = pickle.loads(pickle.dumps(fit))
    assert back.to_frame().equals(fit.to_frame())
    assert back.provenance.dataset_sha256 == fit.provenance.dataset_sha256
    with pytest.raises(TypeError):
        back.r2["within"] = 0.0  # type: ignore[index]
    assert pickle.loads(pickle.dumps(panel)).equals(panel)
