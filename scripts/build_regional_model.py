"""Build ``models/regional_cluster/regional_cluster.mdl`` from a state panel and the template below.

The integrated model is subscripted by ``Region``; its elements and their initial values (public
capital, private capital, output, employment, unemployment) are read from a panel in the layout of
``data/us_states.csv`` (columns ``state, year, pcap, pc, gsp, emp, unemp``) at one base year. Regions
exchange knowledge with the other regions within ``exchange distance limit`` (300 km, Bottazzi and Peri
2003) of great-circle distance between their positions: the US Census Bureau's 2010 centers of population
for US states (``data/geo/state_centers_2010.csv``), or ``latitude`` and ``longitude`` columns of the panel.
Replacing the region list is therefore a matter of running this script on another panel::

    python scripts/build_regional_model.py --panel data/us_states.csv --year 1970

The generated ``.mdl`` is committed and is the source of truth. Writing the default output also records
its sha256 in ``models/regional_cluster/model.toml`` (``mdl_sha256`` and the current version's history
row); once a version is released, bump the version there before regenerating (the model tests refuse a
changed ``.mdl`` whose sha256 is not the one of ``model.toml``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PANEL = ROOT / "data" / "us_states.csv"
DEFAULT_OUTPUT = ROOT / "models" / "regional_cluster" / "regional_cluster.mdl"
#: Calibrated values written by ``scripts/calibrate_regional_model.py --write``.
CALIBRATION = ROOT / "models" / "regional_cluster" / "calibration.toml"

#: Centers of population of the US states (U.S. Census Bureau 2010), with their provenance in the .toml.
CENTRES = ROOT / "data" / "geo" / "state_centers_2010.csv"
#: Panel spellings that differ from the Census Bureau's state names.
PANEL_SPELLING = {"TENNESSEE": "TENNESSE"}

sys.path.insert(0, str(Path(__file__).resolve().parent))
from regional_equations import CONTROL, TEMPLATE, Equation  # noqa: E402

#: First and last year of the panel window the state-specific drivers are estimated on.
DRIVER_YEARS = (1970, 1986)


def render(groups: list[tuple[str, str, list[Equation]]], header: str = "") -> str:
    """Render groups of equations as Vensim text (``{UTF-8}``, one equation per variable).

    Parameters
    ----------
    groups : list of (name, description, equations)
        Each group becomes a Vensim group (``.name``) holding its equations in order.
    header : str
        Text placed before the first group (subscript ranges), already in Vensim syntax.
    """
    out = ["{UTF-8}\n"]
    if header:
        out.append(header.rstrip() + "\n\n")
    for name, description, equations in groups:
        out.append(f"********************************************************\n\t.{name}\n"
                   f"********************************************************~\n\t\t{description}\n\t|\n\n")
        for lhs, rhs, unit, desc in equations:
            for bad in ("~", "|"):
                if bad in desc or bad in unit:
                    raise ValueError(f"{lhs!r}: {bad!r} is not allowed in a unit or description")
            out.append(f"{lhs} =\n\t{rhs}\n\t~\t{unit}\n\t~\t{desc}\n\t|\n\n")
    out.append("\\\\\\---/// Sketch information - do not modify anything except names\n"
               "V300  Do not put anything below this section - it will be ignored\n")
    return "".join(out)


def vector(values: list[float], per_line: int = 6) -> str:
    """Format a list of numbers as a Vensim constant list, wrapped with backslash continuations."""
    text = [format(round(v, 8), ".10g") for v in values]  # PySD 3.14 keeps 8 decimals of a constant list
    lines = [", ".join(text[i:i + per_line]) for i in range(0, len(text), per_line)]
    return ",\\\n\t\t".join(lines)


def read_panel(path: Path, year: int) -> list[dict[str, str]]:
    """Rows of ``path`` for ``year`` (one per region, in file order)."""
    rows = [r for r in read_rows(path) if int(r["year"]) == year]
    if not rows:
        raise SystemExit(f"{path} has no rows for year {year}; pick a year present in the panel.")
    return rows


def read_rows(path: Path) -> list[dict[str, str]]:
    """All rows of the panel ``path``."""
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def ols_slope(x: list[float], y: list[float]) -> float:
    """OLS slope of ``y`` on ``x`` (with an intercept)."""
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxx = sum((a - mx) ** 2 for a in x)
    if sxx == 0:
        raise SystemExit("a driver's regressor does not vary over the driver window; pick a longer window.")
    return sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sxx


def slope(years: list[float], values: list[float]) -> float:
    """OLS slope of ``log(values)`` on ``years`` (a log-linear trend growth rate per year)."""
    return ols_slope(years, [math.log(v) for v in values])


def drivers(all_rows: list[dict[str, str]], names: list[str], window: tuple[int, int]) -> dict[str, list[float]]:
    """State-specific drivers from the panel years in ``window``: trend growth rates and mean unemployment.

    ``labour_force`` is employment over (1 - unemployment rate); ``cycle`` is the cross-state mean of the
    unemployment rate in each year relative to its mean over the window (one value per year).
    """
    lo, hi = window
    rows = [r for r in all_rows if lo <= int(r["year"]) <= hi]
    by_state: dict[str, list[dict[str, str]]] = {n: [] for n in names}
    for r in rows:
        if r["state"] in by_state:
            by_state[r["state"]].append(r)
    short = [n for n, rs in by_state.items() if len(rs) < 3]
    if short:
        raise SystemExit(f"fewer than 3 panel years in {lo}-{hi} for {short}; pick a longer --driver-years window.")
    out: dict[str, list[float]] = {k: [] for k in ("gsp", "pc", "pcap", "emp", "lf", "unemp")}
    for n in names:
        rs = by_state[n]
        years = [float(r["year"]) for r in rs]
        for col in ("gsp", "pc", "pcap", "emp"):
            out[col].append(slope(years, [float(r[col]) for r in rs]))
        out["lf"].append(slope(years, [float(r["emp"]) / (1 - float(r["unemp"]) / 100) for r in rs]))
        out["unemp"].append(sum(float(r["unemp"]) for r in rs) / len(rs))
    years = sorted({int(r["year"]) for r in rows})
    means = [sum(float(r["unemp"]) for r in rows if int(r["year"]) == y) / len(names) for y in years]
    overall = sum(means) / len(means)
    out["cycle_years"] = [float(y) for y in years]
    out["cycle"] = [m / overall for m in means]
    cycle = dict(zip(years, out["cycle"], strict=True))
    out["cycle_sensitivity"] = [cycle_sensitivity(by_state[n], cycle) for n in names]
    return out


def cycle_sensitivity(rows: list[dict[str, str]], cycle: dict[int, float]) -> float:
    """OLS slope of the log odds of the state's unemployment rate on the log national cycle index.

    1 is a state whose unemployment odds move with the national cycle; Michigan's exceed 1, the oil states'
    fall short of it (Blanchard and Katz 1992 find state unemployment cycles of very different amplitude).
    """
    return ols_slope([math.log(cycle[int(r["year"])]) for r in rows],
                     [math.log(float(r["unemp"]) / (100 - float(r["unemp"]))) for r in rows])


def state_centres(path: Path = CENTRES) -> dict[str, tuple[float, float]]:
    """(latitude, longitude) in degrees of each state's 2010 center of population, in the panel's spelling.

    The file's sha256 must be the one recorded in its ``.toml`` (the data module's rule for bundled data).
    """
    with path.with_suffix(".toml").open("rb") as fh:
        recorded = tomllib.load(fh)["sha256"]
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != recorded:
        raise SystemExit(f"{path} has sha256 {actual}, but {path.with_suffix('.toml').name} records {recorded}: "
                         "the file was changed; restore it from the source named there.")
    out = {}
    for r in read_rows(path):
        name = r["STNAME"].upper().replace(" ", "_")
        out[PANEL_SPELLING.get(name, name)] = (float(r["LATITUDE"]), float(r["LONGITUDE"]))
    return out


def positions_of(rows: list[dict[str, str]]) -> tuple[list[float], list[float]]:
    """Latitude and longitude (degrees) per region: the panel's ``latitude``/``longitude`` columns, else the
    US Census Bureau's 2010 center of population of the state."""
    if "latitude" in rows[0] and "longitude" in rows[0]:
        return [float(r["latitude"]) for r in rows], [float(r["longitude"]) for r in rows]
    centres = state_centres()
    missing = [r["state"] for r in rows if r["state"] not in centres]
    if missing:
        raise SystemExit(f"no position known for {missing}; add latitude and longitude columns to the panel.")
    return [centres[r["state"]][0] for r in rows], [centres[r["state"]][1] for r in rows]


def model_text(rows: list[dict[str, str]], year: int, all_rows: list[dict[str, str]] | None = None,
               window: tuple[int, int] = DRIVER_YEARS) -> str:
    """The full ``.mdl`` text for the regions in ``rows`` initialised at ``year``, drivers from ``window``."""
    names = [r["state"] for r in rows]
    for n in names:
        if not n or any(c in n for c in ",;:[]!|~\"()"):
            raise SystemExit(f"region name {n!r} cannot be a Vensim subscript element; rename it.")
    col = {c: [float(r[c]) for r in rows] for c in ("pcap", "pc", "gsp", "emp", "unemp")}
    lat, lon = positions_of(rows)
    position_source = ("the panel's latitude and longitude columns" if "latitude" in rows[0] else
                       "U.S. Census Bureau, 2010 centers of population by state (data/geo/state_centers_2010.csv)")
    drv = drivers(all_rows if all_rows is not None else rows, names, window)
    header = (
        "Region:\n\t" + ",\\\n\t".join(", ".join(names[i:i + 6]) for i in range(0, len(names), 6))
        + "\n\t~\t\n\t~\tRegions of the model: the states of the panel the model was built from.\n\t|\n\n"
        "Partner <-> Region\n\t~\t\n\t~\tThe same regions, seen as knowledge-exchange partners.\n\t|\n"
    )
    src = f"us_states panel (Munnell 1990), {year}"
    trend = f"us_states panel (Munnell 1990): OLS slope of the log on the year, {window[0]}-{window[1]}"
    productivity = [g / e for g, e in zip(col["gsp"], col["emp"], strict=True)]
    national = sum(col["gsp"]) / sum(col["emp"])
    cycle = ",".join(f"({y:g},{c:.6g})" for y, c in zip(drv["cycle_years"], drv["cycle"], strict=True))
    data: list[Equation] = [
        ("initial public capital[Region]", vector(col["pcap"]), "USD million",
         f"Public capital stock pcap at INITIAL TIME. Data: {src}."),
        ("initial private capital[Region]", vector(col["pc"]), "USD million",
         f"Private capital stock pc at INITIAL TIME. Data: {src}."),
        ("initial output[Region]", vector(col["gsp"]), "USD million/Year",
         f"Gross state product gsp at INITIAL TIME. Data: {src}."),
        ("initial employment[Region]", vector(col["emp"]), "thousand jobs",
         f"Non-agricultural payroll employment emp at INITIAL TIME. Data: {src}."),
        ("initial unemployment rate[Region]", vector(col["unemp"]), "percent",
         f"Unemployment rate unemp at INITIAL TIME. Data: {src}."),
        ("output trend growth[Region]", vector(drv["gsp"]), "1/Year", f"Trend growth of gsp. Data: {trend}."),
        ("private capital trend growth[Region]", vector(drv["pc"]), "1/Year", f"Trend growth of pc. Data: {trend}."),
        ("public capital trend growth[Region]", vector(drv["pcap"]), "1/Year",
         f"Trend growth of pcap (baseline public investment keeps it). Data: {trend}."),
        ("employment trend growth[Region]", vector(drv["emp"]), "1/Year", f"Trend growth of emp. Data: {trend}."),
        ("labour force trend growth[Region]", vector(drv["lf"]), "1/Year",
         f"Trend growth of the labour force emp / (1 - unemp / 100). Data: {trend}."),
        ("national public capital trend growth", format(round(sum(drv["pcap"]) / len(names), 8), ".10g"), "1/Year",
         f"Mean over the regions of the trend growth of pcap. Data: {trend}."),
        ("natural unemployment rate[Region]", vector(drv["unemp"]), "percent",
         f"Mean unemployment rate of the state, {window[0]}-{window[1]}. Data: us_states panel (Munnell 1990)."),
        ("relative rd intensity[Region]", vector([p / national for p in productivity]), "Dmnl",
         f"R&D intensity relative to the national one, proxied by output per job relative to the regions' "
         f"aggregate (the panel has no R&D). Data: {src}."),
        ("panel end year", format(float(window[1]), "g"), "Year", "Last year of the driver window."),
        ("unemployment cycle sensitivity[Region]", vector(drv["cycle_sensitivity"]), "Dmnl",
         f"Elasticity of the odds of the state's unemployment rate with respect to the national cycle index: OLS "
         f"slope of log(u / (100 - u)) on the log index, {window[0]}-{window[1]}. Data: us_states panel (Munnell "
         f"1990)."),
        ("national unemployment cycle index",
         f"WITH LOOKUP(Time, ([({window[0]:g},0)-(2100,3)],{cycle},({window[1] + 1:g},1)))", "Dmnl",
         f"Cross-state mean unemployment rate relative to its {window[0]}-{window[1]} mean (1 afterwards): the "
         f"national business cycle, exogenous to the regions. Data: us_states panel (Munnell 1990)."),
        ("region latitude[Region]", vector(lat), "degree",
         "Latitude of the region's position (north positive). Data: " + position_source + "."),
        ("region longitude[Region]", vector(lon), "degree",
         "Longitude of the region's position (east positive). Data: " + position_source + "."),
        ("region number[Region]", vector([float(i + 1) for i in range(len(rows))], per_line=16), "Dmnl",
         "Position of the region in the Region list (used to exclude self-exchange)."),
        ("earth radius", "6371", "km", "Mean radius of the Earth (IUGG), for great-circle distances."),
        ("radians per degree", "0.0174532925199", "1/degree", "pi / 180."),
        ("exchange distance limit", "300", "km",
         "Literature: distance beyond which knowledge spillovers between regions vanish, Bottazzi and Peri (2003): "
         "about 300 km (200-500)."),
        ("cosine of distance[Region, Partner]",
         "MIN(1, MAX(-1, SIN(region latitude[Region] * radians per degree) * SIN(region latitude[Partner] * "
         "radians per degree) + COS(region latitude[Region] * radians per degree) * COS(region latitude[Partner] * "
         "radians per degree) * COS((region longitude[Region] - region longitude[Partner]) * radians per degree)))",
         "Dmnl", "Cosine of the central angle between the two positions (spherical law of cosines), kept in [-1, 1] "
         "against round-off."),
        ("distance[Region, Partner]", "earth radius * ARCCOS(cosine of distance[Region, Partner])", "km",
         "Great-circle distance between the positions of region and partner."),
        ("near partner[Region, Partner]",
         "IF THEN ELSE(distance[Region, Partner] <= exchange distance limit :AND: "
         "region number[Region] <> region number[Partner], 1, 0)",
         "Dmnl", "1 if the partner is another region within the exchange distance limit, else 0."),
        ("exchange weight[Region, Partner]",
         "ZIDZ(near partner[Region, Partner], SUM(near partner[Region, Partner!]))", "Dmnl",
         "Exchange matrix W: equal weights on the other regions within the exchange distance limit, rows sum to 1 "
         "(0 for a region with no partner that near)."),
    ]
    groups = [("Control", "Simulation control parameters.", CONTROL)]
    groups += [("Data", f"Initial values and drivers from the {src} and the exchange matrix.", data)]
    values = calibrated_values()
    groups += [(name, text, [with_value(eq, values) for eq in eqs]) for name, text, eqs in TEMPLATE]
    return render(groups, header)


def calibrated_values(path: Path = CALIBRATION) -> dict[str, float]:
    """``[values]`` of the calibration output (``scripts/calibrate_regional_model.py --write``), by Python name."""
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return {str(k): float(v) for k, v in tomllib.load(fh)["values"].items()}


def with_value(eq: Equation, values: dict[str, float]) -> Equation:
    """``eq`` with its constant replaced by the calibrated value of the same name, if there is one."""
    lhs, _rhs, unit, desc = eq
    name = lhs.replace(" ", "_")
    return (lhs, format(values[name], ".10g"), unit, desc) if name in values else eq


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panel", type=Path, default=DEFAULT_PANEL, help="panel CSV (default: %(default)s)")
    parser.add_argument("--year", type=int, default=1970, help="base year of the initial values")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the .mdl")
    args = parser.parse_args(argv)
    text = model_text(read_panel(args.panel, args.year), args.year, read_rows(args.panel))
    write_atomic(args.output, text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    sys.stdout.write(f"wrote {args.output}\nsha256 {digest}\n")
    toml = args.output.parent / "model.toml"
    if args.output.resolve() == DEFAULT_OUTPUT.resolve() and toml.exists():
        version = record_sha(toml, digest)
        sys.stdout.write(f"recorded it in {toml} for version {version}\n")
    return 0


def record_sha(toml: Path, digest: str) -> str:
    """Write ``digest`` as ``mdl_sha256`` of ``toml`` and of its last ``[[history]]`` row (the current version).

    The calibrated values (``calibration.toml``) become the ``value`` of their parameters too.

    The current version is not yet released while it is the last history row; a released version must be
    bumped in ``model.toml`` (with a new history row) before the model is regenerated.
    """
    text = toml.read_text(encoding="utf-8")
    for name, value in calibrated_values().items():
        block = re.compile(r'(\[\[parameter\]\]\nname = "' + re.escape(name) + r'"\nvalue = )[^\n]*')
        text, n = block.subn(r"\g<1>" + repr(value), text, count=1)
        if n != 1:
            raise SystemExit(f"{name} of {CALIBRATION.name} is not a parameter of {toml}")
    version = re.search(r'^version = "([^"]+)"', text, flags=re.M)
    if version is None:
        raise SystemExit(f"{toml} has no version line")
    text = re.sub(r'^mdl_sha256 = "[0-9a-f]{64}"', f'mdl_sha256 = "{digest}"', text, count=1, flags=re.M)
    head = r'(\[\[history\]\]\nversion = "' + re.escape(version.group(1))
    row = re.compile(head + r'"\nmdl_sha256 = ")[0-9a-f]{64}"')
    if not row.search(text):
        text = text.rstrip("\n") + f'\n\n[[history]]\nversion = "{version.group(1)}"\nmdl_sha256 = "{digest}"\n'
    else:
        text = row.sub(lambda m: m.group(1) + digest + '"', text)
    write_atomic(toml, text)
    return version.group(1)


if __name__ == "__main__":
    raise SystemExit(main())
