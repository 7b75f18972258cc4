"""EstimationResult and compare(): printing, intervals, provenance, export formats."""

from __future__ import annotations

import dataclasses

import pytest
from numpy.testing import assert_allclose
from scipy import stats

import cluster_econ as ce
from cluster_econ.errors import SpecError

PRODUCTION = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"


@pytest.fixture(scope="module")
def states() -> ce.RegionalPanel:
    return ce.load_dataset("us_states")


@pytest.fixture(scope="module")
def results(states: ce.RegionalPanel) -> dict[str, ce.EstimationResult]:
    return {
        "Pooled": ce.panel_ols(PRODUCTION, states, effects=()),
        "Within": ce.panel_ols(PRODUCTION, states),
        "Two-way": ce.panel_ols(PRODUCTION, states, effects=("entity", "time")),
    }


def test_result_is_frozen_and_labelled(results: dict[str, ce.EstimationResult]) -> None:
    fe = results["Within"]
    assert list(fe.params.index) == ["Intercept", "log(pcap)", "log(pc)", "log(emp)", "unemp"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fe.nobs = 1  # type: ignore[misc]
    assert fe.nobs == 816
    assert (fe.n_entities, fe.n_periods) == (48, 17)
    assert list(fe.r2) == ["within", "between", "overall"]


def test_inference_uses_t_with_clusters_minus_one(results: dict[str, ce.EstimationResult]) -> None:
    fe = results["Within"]
    assert fe.df_inference == 47
    ci = fe.conf_int(0.90)
    crit = stats.t.ppf(0.95, 47)
    assert_allclose(ci["upper"] - fe.params, crit * fe.std_errors, rtol=1e-12, atol=0)
    assert_allclose(fe.pvalues, 2 * stats.t.sf(abs(fe.tvalues), 47), rtol=1e-12, atol=0)
    with pytest.raises(SpecError, match=r"level must be strictly between 0 and 1, e\.g\. 0\.95; got 95"):
        fe.conf_int(95)


def test_to_frame_is_tidy(results: dict[str, ce.EstimationResult]) -> None:
    frame = results["Pooled"].to_frame()
    assert list(frame.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "ci_lower", "ci_upper"]
    assert frame["term"].tolist()[1] == "log(pcap)"


def test_summary_shows_provenance_but_never_the_clock(
    results: dict[str, ce.EstimationResult], states: ce.RegionalPanel
) -> None:
    fe = results["Within"]
    text = str(fe.summary())
    assert "log(pcap)" in text
    assert "Within" in text
    assert "clustered" in text
    assert states.provenance.dataset_sha256[:12] in text
    assert fe.provenance.created not in text
    assert fe.provenance.created[:10] not in text
    assert "\\begin{tabular}" in fe.summary().as_latex()
    assert repr(fe) == f"<EstimationResult Within: {PRODUCTION}, 816 observations, cov_type='clustered'>"
    assert fe._repr_html_().count("<table") >= 2
    details = fe.provenance.details
    assert (details["estimator"], details["formula"], details["cov_type"]) == ("Within", PRODUCTION, "clustered")
    assert fe.provenance.dataset_sha256 == states.provenance.dataset_sha256


def test_compare_text_and_frame(results: dict[str, ce.EstimationResult]) -> None:
    table = ce.compare(results)
    text = str(table)
    assert text == table.to_text()
    header = text.splitlines()[1]
    assert header.split() == ["Pooled", "Within", "Two-way"]
    assert "0.1550**" in text
    assert "(0.0609)" in text
    assert "-0.0261" in text
    assert "Dependent variable: log(gsp)" in text
    frame = table.frame
    assert frame.loc["log(pcap)", "Pooled"] == "0.1550**"
    assert frame.loc["N", "Within"] == "816"
    assert frame.loc["Effects", "Two-way"] == "entity, time"
    assert ce.compare(list(results.values()), stars=False).frame.columns.tolist() == ["(1)", "(2)", "(3)"]
    assert "*" not in ce.compare(list(results.values()), stars=False).frame.iloc[:10].to_string()


def test_compare_exports(results: dict[str, ce.EstimationResult]) -> None:
    table = ce.compare(results)
    md = table.to_markdown()
    assert md.splitlines()[0] == "|  | Pooled | Within | Two-way |"
    assert md.splitlines()[1] == "|:---|---:|---:|---:|"
    assert "| log(pcap) | 0.1550\\*\\* | -0.0261 | -0.0302 |" in md
    latex = table.to_latex()
    assert latex.startswith("\\begin{tabular}{lrrr}")
    assert "0.1550$^{**}$" in latex
    assert "\\bottomrule" in latex
    html = table.to_html()
    assert html.startswith("<table")
    assert "<th>Two-way</th>" in html
    assert table._repr_html_() == html


def test_compare_rejects_bad_input(results: dict[str, ce.EstimationResult]) -> None:
    with pytest.raises(SpecError, match="needs at least one result"):
        ce.compare([])
    with pytest.raises(SpecError, match=r"compare\(\): \(2\) is a str, not an EstimationResult"):
        ce.compare([results["Pooled"], "within"])


def test_provenance_records_the_options(states: ce.RegionalPanel) -> None:
    one = ce.panel_ols(PRODUCTION, states, effects=("entity", "time"))
    two = ce.panel_ols(PRODUCTION, states, effects=("entity", "time"), cluster=("entity", "time"))
    options = ({k: v for k, v in r.provenance.details.items() if k != "call"} for r in (one, two))
    assert next(options) | {"cluster": ["entity", "time"]} == next(options)
    assert two.provenance.details["call"]["arguments"]["cluster"] == ["entity", "time"]
    assert one.provenance.details["cluster"] == ["entity"]
    details = two.provenance.details
    assert details["effects"] == ["entity", "time"]
    assert (details["drop_absorbed"], details["cov_type"]) == (False, "clustered")
    assert "bandwidth" not in details  # only Driscoll-Kraay has one
    # the summary and compare() show the cluster dimensions
    assert "clustered (entity)" in str(one.summary())
    assert "clustered (entity, time)" not in str(one.summary())
    assert "clustered (entity, time)" in str(two.summary())
    footer = ce.compare({"one-way": one, "two-way": two}).frame.loc["Cov. type"]
    assert footer.tolist() == ["clustered (entity)", "clustered (entity, time)"]

    dk = ce.panel_ols(PRODUCTION, states, effects=(), cov_type="driscoll_kraay")
    assert (dk.provenance.details["bandwidth"], dk.provenance.details["effects"]) == (2, [])
    assert "cluster" not in dk.provenance.details
    assert "driscoll_kraay (bandwidth 2)" in str(dk.summary())
    unadjusted = ce.panel_ols(PRODUCTION, states, cov_type="unadjusted", drop_absorbed=True)
    assert unadjusted.provenance.details["drop_absorbed"] is True
    assert unadjusted.cov_label == "unadjusted"


@pytest.mark.slow
def test_provenance_records_the_options_of_every_estimator(states: ce.RegionalPanel) -> None:
    re_ml = ce.random_effects(PRODUCTION, states, method="ml")
    assert re_ml.provenance.details["method"] == "ml"
    re_sa = ce.random_effects(PRODUCTION, states, cov_type="clustered")
    assert (re_sa.provenance.details["method"], re_sa.provenance.details["cluster"]) == ("swamy_arora", ["entity"])
    fd = ce.first_difference(PRODUCTION, states, effects=("time",), cov_type="driscoll_kraay", bandwidth=3)
    assert (fd.provenance.details["effects"], fd.provenance.details["bandwidth"]) == (["time"], 3)
    fd_time = ce.first_difference(PRODUCTION, states, cluster=("time",))
    assert fd_time.provenance.details["cluster"] == ["time"]
    assert fd_time.cov_label == "clustered (time)"
    firms = ce.load_dataset("uk_firms")
    ab = ce.arellano_bond("n ~ lag(n, 1) + w", firms, two_step=True, max_lag=3)
    details = ab.provenance.details
    assert (details["time_effects"], details["two_step"], details["max_lag"]) == (False, True, 3)
    nb = ce.count_model("patents ~ log_rd", ce.load_dataset("firm_patents"), family="negative_binomial")
    assert (nb.provenance.details["family"], nb.provenance.details["cluster"]) == ("negative_binomial", ["entity"])
