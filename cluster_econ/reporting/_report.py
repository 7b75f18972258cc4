"""``ce.report``: one self-contained HTML file of results, byte-identical for the same inputs.

Each result gets a section: its provenance table, then what it has (simulated trajectories, batch fan
charts, an estimate's coefficients, a calibration's fit table and observed-vs-simulated figures, a
sweep's indicator bands, fan charts and Sobol' bars, a PRIM box). Figures are inline SVG from
matplotlib; the file loads nothing from the network and shows no wall-clock time.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._cite import cite_provenance
from ..errors import SpecError
from ..provenance import Provenance
from . import _figures as fig

__all__ = ["report"]

MAX_PANELS = 6

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;color:#222;
line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.2rem}
h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:.85rem;color:#555}pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;font-size:.8rem}
p.note{font-size:.85rem;color:#555}
"""


class _Page:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.figures = 0

    def add(self, text: str) -> None:
        self.parts.append(text)

    def heading(self, level: int, text: str) -> None:
        self.add(f"<h{level}>{html.escape(text)}</h{level}>")

    def para(self, text: str, cls: str = "") -> None:
        self.add(f'<p{f" class={cls!r}" if cls else ""}>{html.escape(text)}</p>'.replace("'", '"'))

    def table(self, frame: pd.DataFrame, *, index: bool = True, caption: str = "") -> None:
        head = [html.escape(str(frame.index.name or ""))] if index else []
        head += [html.escape(str(c)) for c in frame.columns]
        rows = ["<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
        for label, row in zip(frame.index, frame.itertuples(index=False), strict=True):
            cells = [f"<th>{html.escape(str(label))}</th>"] if index else []
            cells += [_cell(v) for v in row]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self.add(f"<table>{cap}" + "".join(rows) + "</table>")

    def figure(self, svg_text: str, caption: str) -> None:
        self.figures += 1
        number = self.figures
        self.add(f'<figure id="figure-{number}" class="figure">{fig.scoped(svg_text, f"f{number}")}'
                 f"<figcaption>Figure {number}. {html.escape(caption)}</figcaption></figure>")


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return f"<td>{value}</td>"
    if isinstance(value, int | np.integer):
        return f'<td class="num">{int(value)}</td>'
    if isinstance(value, float | np.floating):
        v = float(value)
        short = abs(v) >= 1e4 or (v != 0 and abs(v) < 1e-3)
        text = "nan" if not np.isfinite(v) else f"{v:.4g}" if short else f"{v:.4f}"
        return f'<td class="num">{text}</td>'
    return f"<td>{html.escape(str(value))}</td>"


# -- provenance ------------------------------------------------------------------------------------
def _provenance(obj: Any) -> Provenance | None:
    if isinstance(obj, xr.Dataset):
        text = obj.attrs.get("provenance")
        return Provenance(**json.loads(text)) if isinstance(text, str) else None
    prov = getattr(obj, "provenance", None)
    return prov if isinstance(prov, Provenance) else None


def _provenance_table(page: _Page, prov: Provenance) -> None:
    details = prov.details
    call = details.get("call") or {}
    rows: list[tuple[str, str]] = [("Call", str(call.get("verb", "not recorded")))]
    if prov.model_id:
        rows += [("Model", f"{prov.model_id} {prov.model_version or '(file)'}"),
                 ("Model sha256", str(prov.model_sha256))]
    if prov.dataset:
        rows += [("Dataset", prov.dataset), ("Data sha256", str(prov.dataset_sha256))]
    if prov.seed is not None:
        rows.append(("Seed", str(prov.seed)))
    for key in ("engine", "method", "estimator", "formula", "cov_type", "scenarios"):
        if details.get(key) is not None:
            rows.append((key.replace("_", " ").capitalize(), str(details[key])))
    changed = dict(prov.changed_parameters)
    if changed:
        shown = ", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}"
                          for k, v in list(changed.items())[:12])
        rows.append(("Changed parameters", shown + (f", and {len(changed) - 12} more" if len(changed) > 12 else "")))
    rows.append(("Package versions", ", ".join(f"{k} {v}" for k, v in prov.versions.items())))
    page.table(pd.DataFrame(rows, columns=["", "value"]).set_index(""), caption="Provenance")


# -- sections by kind ------------------------------------------------------------------------------
def _run(page: _Page, run: Any) -> None:
    data = run.data  # one copy of the run's data
    names = [str(n) for n in data.data_vars if "time" in data[n].dims][:MAX_PANELS]
    if names:
        page.heading(3, "Simulated trajectories")
        page.figure(fig.trajectories(data, names), "Outputs of the run over time"
                    + (" (summed over regions)." if any(data[n].ndim > 1 for n in names) else "."))


def _batch(page: _Page, data: xr.Dataset) -> None:
    series = {str(n): fig._over_regions(data[n], ["scenario", "time"]) for n in data.data_vars
              if {"scenario", "time"} <= set(data[n].dims)}
    if series:
        page.heading(3, "Fan charts")
        page.figure(fig.fan(dict(list(series.items())[:MAX_PANELS])),
                    f"5-95 % and 25-75 % bands and median over {data.sizes['scenario']} scenarios.")


def _estimate(page: _Page, est: Any) -> None:
    page.heading(3, "Estimates")
    table = est.to_frame().set_index("term")
    page.table(table)
    page.figure(fig.coefficients(table), f"{est.estimator} estimates of {est.formula} with 95 % intervals.")


def _calibration(page: _Page, cal: Any) -> None:
    page.heading(3, "Calibrated parameters")
    table = getattr(cal, "parameters", None)
    if not isinstance(table, pd.DataFrame):
        table = pd.DataFrame({"estimate": cal.params, "std_error": cal.std_errors})
    page.table(table)
    page.heading(3, "Calibration fit")
    page.table(cal.fit, caption="In-sample fit by target")
    holdout = getattr(cal, "holdout_fit", None)
    if isinstance(holdout, pd.DataFrame) and len(holdout):
        page.table(holdout, caption="Out-of-sample (holdout) fit by target")
    residuals = cal.residuals
    for target in list(dict.fromkeys(residuals["target"]))[:4]:
        regions = sorted(dict.fromkeys(residuals.loc[residuals["target"] == target, "region"]))[:MAX_PANELS]
        page.figure(fig.observed_vs_simulated(residuals, target, regions),
                    f"Observed and simulated {target}, first {len(regions)} regions.")


def _quantiles(frame: pd.DataFrame) -> pd.DataFrame:
    numeric = frame.select_dtypes("number")
    return numeric.quantile([0.05, 0.5, 0.95]).T.set_axis(["q05", "median", "q95"], axis=1)


def _sweep(page: _Page, res: Any) -> None:
    indicators = res.indicators
    if len(indicators.columns):
        page.heading(3, "Indicator bands")
        bands = _quantiles(indicators).dropna(how="all")
        page.table(bands, caption=f"Indicators over {len(indicators)} scenarios: 5 %, 50 % and 95 % quantiles")
        if len(bands):
            page.figure(fig.interval_rows(bands.iloc[:8]), "5-95 % band (bar) and median (dot) of each indicator.")
    outcomes = res.outcomes
    if len(outcomes.columns):
        page.heading(3, "Outcomes")
        page.table(_quantiles(outcomes), caption="Scalar outcomes: 5 %, 50 % and 95 % quantiles")
    data = res.data
    series = {str(n): fig._over_regions(data[n], ["scenario", "time"]) for n in data.data_vars
              if {"scenario", "time"} <= set(data[n].dims)}
    if series:
        page.heading(3, "Fan charts")
        page.figure(fig.fan(dict(list(series.items())[:MAX_PANELS])),
                    "Bands of the time-series outcomes over scenarios.")
    if getattr(res, "design", None) == "sobol":
        for name in list(outcomes.columns)[:3]:
            indices = res.sobol(name)
            if isinstance(indices, pd.DataFrame):
                page.heading(3, f"Sobol' indices of {name}")
                page.table(indices)
                page.figure(fig.bars(indices, name), f"First-order (S1) and total (ST) Sobol' indices of {name}.")


def _prim(page: _Page, box: Any) -> None:
    page.heading(3, "PRIM box")
    page.para(f"Coverage {box.coverage:.3f}, density {box.density:.3f}, mass {box.mass:.3f}.")
    page.table(box.box, caption="The box: bounds of the restricted levers and uncertainties")
    trajectory = box.trajectory
    page.figure(fig.prim_tradeoff(trajectory, getattr(box, "step", None)),
                "Peeling trajectory: coverage against density of each candidate box.")


def _kind(obj: Any) -> str:
    if isinstance(obj, xr.Dataset):
        return "batch"
    if hasattr(obj, "box") and hasattr(obj, "trajectory"):
        return "prim"
    if hasattr(obj, "experiments") and hasattr(obj, "indicators"):
        return "sweep"
    if hasattr(obj, "residuals") and hasattr(obj, "fit"):
        return "calibration"
    if hasattr(obj, "estimator") and hasattr(obj, "conf_int"):
        return "estimate"
    if hasattr(obj, "data") and hasattr(obj, "model"):
        return "run"
    raise SpecError(f"ce.report() cannot show a {type(obj).__name__}: give results of simulate, simulate_batch, "
                    f"the estimators, calibrate, sweep or prim.")


SECTIONS = {"run": _run, "batch": _batch, "estimate": _estimate, "calibration": _calibration, "sweep": _sweep,
            "prim": _prim}
TITLES = {"run": "Simulation", "batch": "Batch of scenarios", "estimate": "Estimate", "calibration": "Calibration",
          "sweep": "Policy sweep", "prim": "Scenario discovery (PRIM)"}


def _labelled(results: Any) -> list[tuple[str, Any]]:
    if isinstance(results, xr.Dataset):
        return [(TITLES["batch"], results)]
    if isinstance(results, Mapping):
        return [(str(k), v) for k, v in results.items()]
    if isinstance(results, Sequence) and not isinstance(results, str):
        return [(f"{TITLES[_kind(r)]} {i + 1}", r) for i, r in enumerate(results)]
    return [(TITLES[_kind(results)], results)]


def render(results: Any, *, title: str = "cluster_econ report") -> str:
    """The report as HTML text (see :func:`report`)."""
    items = _labelled(results)
    if not items:
        raise SpecError("ce.report() needs at least one result.")
    page = _Page()
    page.heading(1, title)
    page.para(f"{len(items)} result(s). Every figure and table below is computed from the saved values; the "
              f"provenance tables say what produced each one and the citation section how to cite it.", "note")
    citations = []
    for label, obj in items:
        kind = _kind(obj)
        page.heading(2, label)
        prov = _provenance(obj)
        if prov is not None:
            _provenance_table(page, prov)
            citations.append((label, cite_provenance(prov)))
        SECTIONS[kind](page, obj)
    if citations:
        page.heading(2, "Citation")
        for label, text in citations:
            sentence, _, bib = text.partition("\n\n")
            page.heading(3, label)
            page.para(sentence)
            page.add(f"<pre>{html.escape(bib)}</pre>")
    body = "\n".join(page.parts)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def report(results: Any, path: str | Path, *, title: str = "cluster_econ report") -> Path:
    """Write one self-contained HTML report of results.

    Parameters
    ----------
    results : result, sequence of results, or mapping label -> result
        Runs, ``simulate_batch`` Datasets, estimates, calibrations, sweeps and PRIM boxes. Each gets a
        section with its provenance table and what it has: trajectories, fan charts, coefficients,
        the calibration fit (observed vs simulated by region and fit statistics), indicator bands,
        Sobol' bars (sweeps with ``design="sobol"``), the PRIM box; then a citation section.
    path : str or Path
        The ``.html`` file to write (atomically).
    title : str
        The page title.

    Returns
    -------
    Path
        The file. The same inputs give the same bytes: figures are SVG with a fixed hash salt and no
        date, and the page shows no wall-clock time.
    """
    text = render(results, title=title)
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
