"""ce.report: one self-contained HTML file, byte-identical for the same inputs, rendered in chromium."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

import cluster_econ as ce
from cluster_econ.errors import SpecError

FORMULA = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"


@pytest.fixture(scope="module")
def results() -> dict:
    run = ce.simulate("regional_cluster", params={"public_investment_share": 0.02}, final_time=1990,
                      outputs=["employment", "output", "sme_employment"])
    scenarios = pd.DataFrame({"public_investment_share": np.linspace(0, 0.05, 9)})
    batch = ce.simulate_batch("regional_cluster", scenarios, outputs=["employment", "sme_employment"])
    fe = ce.panel_ols(FORMULA, ce.load_dataset("us_states"), effects=("entity", "time"))
    return {"Run": run, "Batch": batch, "Two-way fixed effects": fe}


@pytest.fixture(scope="module")
def page(results, tmp_path_factory):
    """The report of ``results``, rendered once for the tests that only read it."""
    return ce.report(results, tmp_path_factory.mktemp("report") / "r.html", title="Study")


@pytest.mark.slow  # two reports, three saved results; test_experiments rebuilds a report to the same bytes
def test_same_inputs_give_the_same_bytes_also_after_a_save_and_load(results, tmp_path):
    first = ce.report(results, tmp_path / "a.html").read_bytes()
    # the same results rendered again, from other objects read back from disk: byte for byte the same page
    loaded = {label: ce.load_result(ce.save(r, tmp_path / f"saved{i}")) for i, (label, r) in enumerate(results.items())}
    again = ce.report(loaded, tmp_path / "c.html").read_bytes()
    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(first).hexdigest()


def test_the_report_is_self_contained_and_has_every_section(results, page):
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>Study</title>" in text
    # nothing is loaded: no scripts, stylesheets, images or links to fetch (SVG namespaces are names, not loads)
    assert not re.search(r"<script|<link|<img|<iframe|\bsrc=|href=\"https?:|url\(\s*[\"']?https?:|@import", text)
    assert text.count("<figure") == 3
    assert text.count("<svg") == 3
    for heading in ("Simulated trajectories", "Fan charts", "Estimates", "Citation", "Provenance"):
        assert heading in text
    run = results["Run"]
    assert run.model.sha256 in text
    assert "public_investment_share = 0.02" in text
    assert "@incollection{munnell1990regional" in text
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))  # figures' clip paths and glyphs do not collide


def test_report_refuses_what_it_cannot_show(tmp_path):
    with pytest.raises(SpecError, match="cannot show a int"):
        ce.report([3], tmp_path / "r.html")
    with pytest.raises(SpecError, match="at least one result"):
        ce.report({}, tmp_path / "r.html")


def test_every_figure_renders_in_chromium_without_errors(page, chromium):
    loaded = chromium.load(page)
    assert [f["id"] for f in loaded.figures] == ["figure-1", "figure-2", "figure-3"]
    for figure in loaded.figures:
        assert figure["width"] > 300, figure
        assert figure["height"] > 150, figure
        assert figure["bbox"][0] > 200, figure  # something was drawn, not an empty box
        assert figure["bbox"][1] > 100, figure
        assert figure["drawn"] > 20, figure
    assert loaded.errors == []
    assert loaded.console == []


def test_the_error_check_sees_page_errors(tmp_path, chromium):
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><script>console.error("broken"); missing();</script></head>'
                   "<body><figure id='figure-1'></figure></body></html>", encoding="utf-8")
    loaded = chromium.load(bad)
    assert any("broken" in line for line in loaded.console)
    assert loaded.errors
    assert "missing" in loaded.errors[0]
    assert loaded.figures[0]["width"] == 0


@pytest.mark.slow  # test_every_figure_renders_in_chromium_without_errors stays in the quick loop
def test_screenshot_at_a_fixed_size_shows_the_figures(page, chromium):
    pixels = image.imread(chromium.screenshot(page, (1200, 1600)))
    assert pixels.shape[:2] == (1600, 1200)
    rgb = pixels[..., :3]
    assert (rgb.min(axis=2) < 0.9).mean() > 0.02  # text, tables and lines, not a blank page
    blue = (np.abs(rgb - np.array([0x1F, 0x5F, 0x99]) / 255).max(axis=2) < 0.08)
    assert blue.sum() > 200  # the figures' lines are drawn in the report's blue
