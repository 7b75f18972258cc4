"""Build ``models/regional_cluster/regional_cluster.mdl`` from a state panel and the template below.

The integrated model is subscripted by ``Region``; its elements and their initial values (public
capital, private capital, output, employment, unemployment) are read from a panel in the layout of
``data/us_states.csv`` (columns ``state, year, pcap, pc, gsp, emp, unemp``) at one base year. Regions
exchange knowledge with the other regions of their group: the US Census Bureau division for the 48
contiguous states, or a ``group`` column of the panel when it has one. Replacing the region list is
therefore a matter of running this script on another panel::

    python scripts/build_regional_model.py --panel data/us_states.csv --year 1970

The generated ``.mdl`` is committed and is the source of truth; after regenerating it, bump the
version in ``models/regional_cluster/model.toml`` and record the new sha256 there (the model tests
refuse a changed ``.mdl`` whose sha256 is not the one of ``model.toml``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PANEL = ROOT / "data" / "us_states.csv"
DEFAULT_OUTPUT = ROOT / "models" / "regional_cluster" / "regional_cluster.mdl"

#: US Census Bureau divisions of the 48 contiguous states, in the panel's spelling.
CENSUS_DIVISIONS: dict[str, list[str]] = {
    "New England": ["CONNECTICUT", "MAINE", "MASSACHUSETTS", "NEW_HAMPSHIRE", "RHODE_ISLAND", "VERMONT"],
    "Middle Atlantic": ["NEW_JERSEY", "NEW_YORK", "PENNSYLVANIA"],
    "East North Central": ["ILLINOIS", "INDIANA", "MICHIGAN", "OHIO", "WISCONSIN"],
    "West North Central": [
        "IOWA", "KANSAS", "MINNESOTA", "MISSOURI", "NEBRASKA", "NORTH_DAKOTA", "SOUTH_DAKOTA",
    ],
    "South Atlantic": [
        "DELAWARE", "FLORIDA", "GEORGIA", "MARYLAND", "NORTH_CAROLINA", "SOUTH_CAROLINA", "VIRGINIA",
        "WEST_VIRGINIA",
    ],
    "East South Central": ["ALABAMA", "KENTUCKY", "MISSISSIPPI", "TENNESSE"],
    "West South Central": ["ARKANSAS", "LOUISIANA", "OKLAHOMA", "TEXAS"],
    "Mountain": ["ARIZONA", "COLORADO", "IDAHO", "MONTANA", "NEVADA", "NEW_MEXICO", "UTAH", "WYOMING"],
    "Pacific": ["CALIFORNIA", "OREGON", "WASHINGTON"],
}

Equation = tuple[str, str, str, str]  # (left-hand side, right-hand side, unit, description)


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
    text = [format(v, ".10g") for v in values]
    lines = [", ".join(text[i:i + per_line]) for i in range(0, len(text), per_line)]
    return ",\\\n\t\t".join(lines)


def read_panel(path: Path, year: int) -> list[dict[str, str]]:
    """Rows of ``path`` for ``year`` (one per region, in file order)."""
    with path.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if int(r["year"]) == year]
    if not rows:
        raise SystemExit(f"{path} has no rows for year {year}; pick a year present in the panel.")
    return rows


def groups_of(rows: list[dict[str, str]]) -> list[int]:
    """Group code per region: the panel's ``group`` column or the Census division of the state."""
    if "group" in rows[0]:
        names = sorted({r["group"] for r in rows})
        return [names.index(r["group"]) + 1 for r in rows]
    division = {s: i + 1 for i, states in enumerate(CENSUS_DIVISIONS.values()) for s in states}
    missing = [r["state"] for r in rows if r["state"] not in division]
    if missing:
        raise SystemExit(f"no Census division known for {missing}; add a 'group' column to the panel.")
    return [division[r["state"]] for r in rows]


def model_text(rows: list[dict[str, str]], year: int) -> str:
    """The full ``.mdl`` text for the regions in ``rows`` initialised at ``year``."""
    names = [r["state"] for r in rows]
    for n in names:
        if not n or any(c in n for c in ",;:[]!|~\"()"):
            raise SystemExit(f"region name {n!r} cannot be a Vensim subscript element; rename it.")
    col = {c: [float(r[c]) for r in rows] for c in ("pcap", "pc", "gsp", "emp", "unemp")}
    header = (
        "Region:\n\t" + ",\\\n\t".join(", ".join(names[i:i + 6]) for i in range(0, len(names), 6))
        + "\n\t~\t\n\t~\tRegions of the model: the states of the panel the model was built from.\n\t|\n\n"
        "Partner <-> Region\n\t~\t\n\t~\tThe same regions, seen as knowledge-exchange partners.\n\t|\n"
    )
    src = f"us_states panel (Munnell 1990), {year}"
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
        ("exchange group[Region]", vector([float(g) for g in groups_of(rows)], per_line=16), "Dmnl",
         "Knowledge-exchange group of each region (US Census division for US states)."),
        ("region number[Region]", vector([float(i + 1) for i in range(len(rows))], per_line=16), "Dmnl",
         "Position of the region in the Region list (used to exclude self-exchange)."),
        ("same group[Region, Partner]",
         "IF THEN ELSE(exchange group[Region] = exchange group[Partner] :AND: "
         "region number[Region] <> region number[Partner], 1, 0)",
         "Dmnl", "1 if the partner is another region of the same exchange group, else 0."),
        ("exchange weight[Region, Partner]",
         "ZIDZ(same group[Region, Partner], SUM(same group[Region, Partner!]))", "Dmnl",
         "Exchange matrix W: equal weights on the other regions of the group, rows sum to 1."),
    ]
    groups = [("Control", "Simulation control parameters.", CONTROL)]
    groups += [("Data", f"Initial values from the {src} and the exchange matrix.", data)]
    groups += TEMPLATE
    return render(groups, header)


CONTROL: list[Equation] = [
    ("INITIAL TIME", "1970", "Year", "The initial time for the simulation."),
    ("FINAL TIME", "2000", "Year", "The final time for the simulation."),
    ("TIME STEP", "0.25", "Year [0,?]", "The time step for the simulation."),
    ("SAVEPER", "1", "Year [0,?]", "The frequency with which output is stored."),
]

R = "[Region]"

LEVERS: list[Equation] = [
    ("public investment share", "0.01", "Dmnl",
     "Lever: programme public investment as a share of output, from investment start time."),
    ("investment start time", "1975", "Year", "Lever: year the cluster programme starts."),
    ("knowledge sharing intensity", "0.5", "Dmnl",
     "Lever: intensity of the within-cluster knowledge-sharing programme (0 = none)."),
    ("between cluster exchange intensity", "0.5", "Dmnl",
     "Lever: intensity of the between-cluster exchange programme (0 = none)."),
    ("sme representation quota", "0.2", "Dmnl",
     "Lever: minimum SME share of seats in cluster governance once engagement starts."),
    ("engagement start delay", "0", "Year",
     "Lever: years between investment start and stakeholder engagement start (0 = early)."),
    ("sme support", "0", "Dmnl", "Lever: fractional cut of the young-SME hazard from investment start time."),
    ("programme switch", "STEP(1, investment start time)", "Dmnl",
     "1 once the cluster programme has started, else 0."),
    ("engagement switch", "STEP(1, investment start time + engagement start delay)", "Dmnl",
     "1 once stakeholder engagement has started, else 0."),
]

INVESTMENT: list[Equation] = [
    ("output elasticity of private capital", "0.31", "Dmnl",
     "alpha. Estimated: Munnell (1990) pooled OLS on the us_states panel."),
    ("output elasticity of labour", "0.59", "Dmnl", "beta. Estimated: Munnell (1990) pooled OLS."),
    ("output elasticity of public capital", "0.15", "Dmnl",
     "gamma. Estimated: Munnell (1990) pooled OLS (about 0 with state effects, Holtz-Eakin 1994)."),
    ("public capital depreciation rate", "0.03", "1/Year", "Literature: Kamps (2004), 0.025-0.04."),
    ("private capital depreciation rate", "0.06", "1/Year", "Literature: Kamps (2004), 0.0425-0.085."),
    ("public capital replacement ratio", "1", "Dmnl",
     "Assumed: baseline public investment as a multiple of 1970 replacement needs (0-1.5)."),
    ("private capital trend growth", "0.03", "1/Year",
     "Assumed: growth of private capital built into the reference investment rate (0-0.05)."),
    ("construction time", "3", "Year", "Assumed: average construction delay of public capital (2-5)."),
    ("budget spending time", "1", "Year", "Assumed: average time from appropriation to spending (0.5-2)."),
    ("fit elasticity of public capital", "0.5", "Dmnl",
     "Assumed: elasticity of effective public capital to its alignment fit (0-1)."),
    ("attractiveness perception time", "2", "Year", "Assumed: time to perceive attractiveness (1-4)."),
    ("public capital elasticity of attractiveness", "1", "Dmnl",
     "Assumed: elasticity of attractiveness to (effective or SME-relevant) public capital (0-2)."),
    ("attractiveness elasticity of private investment", "0.5", "Dmnl",
     "Assumed: elasticity of private investment to perceived attractiveness (0-1)."),
    ("baseline public investment share" + R,
     "INITIAL(public capital replacement ratio * public capital depreciation rate * "
     "initial public capital[Region] / initial output[Region])",
     "Dmnl", "Public investment share of output before and besides the programme."),
    ("appropriation" + R,
     "(baseline public investment share[Region] + public investment share * programme switch) * output[Region]",
     "USD million/Year", "Public investment appropriated to the investment budget."),
    ("programme public spend" + R, "public investment share * programme switch * output[Region]",
     "USD million/Year", "Public investment appropriated by the cluster programme."),
    ("cumulative public spend" + R, "INTEG(programme public spend[Region], 0)", "USD million",
     "Programme public investment appropriated since INITIAL TIME."),
    ("total cumulative public spend", "INTEG(SUM(programme public spend[Region!]), 0)", "USD million",
     "Programme public investment appropriated since INITIAL TIME, all regions."),
    ("investment budget" + R,
     "INTEG(appropriation[Region] - spending[Region], "
     "baseline public investment share[Region] * initial output[Region] * budget spending time)",
     "USD million", "Appropriated public investment not yet spent."),
    ("spending" + R, "investment budget[Region] / budget spending time", "USD million/Year",
     "Public investment spent, starting construction."),
    ("capital under construction" + R,
     "INTEG(spending[Region] - completion[Region], "
     "baseline public investment share[Region] * initial output[Region] * construction time)",
     "USD million", "Public capital under construction."),
    ("completion" + R, "capital under construction[Region] / construction time", "USD million/Year",
     "Public capital completed."),
    ("public capital" + R,
     "INTEG(completion[Region] - public capital depreciation[Region], initial public capital[Region])",
     "USD million", "Public capital stock K_g (maps to pcap)."),
    ("public capital depreciation" + R, "public capital depreciation rate * public capital[Region]",
     "USD million/Year", "Depreciation of public capital."),
    ("aligned capital under construction" + R,
     "INTEG(spending[Region] * alignment[Region] - aligned completion[Region], "
     "reference alignment * capital under construction[Region])",
     "USD million", "Co-flow: capital under construction weighted by the alignment when it was committed."),
    ("aligned completion" + R, "aligned capital under construction[Region] / construction time",
     "USD million/Year", "Co-flow: alignment-weighted completion."),
    ("aligned public capital" + R,
     "INTEG(aligned completion[Region] - aligned depreciation[Region], "
     "reference alignment * initial public capital[Region])",
     "USD million", "Co-flow: public capital weighted by the alignment when it was committed."),
    ("aligned depreciation" + R, "public capital depreciation rate * aligned public capital[Region]",
     "USD million/Year", "Co-flow: alignment-weighted depreciation."),
    ("average alignment fit" + R, "aligned public capital[Region] / public capital[Region]", "Dmnl",
     "Average alignment of the public capital stock when it was committed."),
    ("effective public capital" + R,
     "public capital[Region] * (average alignment fit[Region] / reference alignment) "
     "^ fit elasticity of public capital",
     "USD million", "Public capital scaled by its alignment fit, as it enters production."),
    ("sme relevant public capital" + R, "aligned public capital[Region] / reference alignment",
     "USD million", "Public capital that fits SME needs, in units of reference-aligned capital."),
    ("indicated attractiveness" + R,
     "(effective public capital[Region] / initial public capital[Region]) "
     "^ public capital elasticity of attractiveness",
     "Dmnl", "Attractiveness to investors relative to INITIAL TIME."),
    ("perceived attractiveness" + R,
     "INTEG((indicated attractiveness[Region] - perceived attractiveness[Region]) / "
     "attractiveness perception time, 1)",
     "Dmnl", "Attractiveness as perceived by investors (first-order smooth)."),
    ("indicated sme attractiveness" + R,
     "(sme relevant public capital[Region] / initial public capital[Region]) "
     "^ public capital elasticity of attractiveness",
     "Dmnl", "Attractiveness to SME founders relative to INITIAL TIME."),
    ("perceived sme attractiveness" + R,
     "INTEG((indicated sme attractiveness[Region] - perceived sme attractiveness[Region]) / "
     "attractiveness perception time, 1)",
     "Dmnl", "Attractiveness as perceived by SME founders (first-order smooth)."),
    ("private investment rate" + R,
     "INITIAL((private capital depreciation rate + private capital trend growth) * "
     "initial private capital[Region] / initial output[Region])",
     "Dmnl", "Reference private investment as a share of output."),
    ("private investment" + R,
     "private investment rate[Region] * output[Region] * perceived attractiveness[Region] "
     "^ attractiveness elasticity of private investment",
     "USD million/Year", "Private investment, driven by output and attractiveness."),
    ("private capital depreciation" + R, "private capital depreciation rate * private capital[Region]",
     "USD million/Year", "Depreciation of private capital."),
    ("private capital" + R,
     "INTEG(private investment[Region] - private capital depreciation[Region], initial private capital[Region])",
     "USD million", "Private capital stock K_p (maps to pc)."),
    ("base total factor productivity" + R,
     "INITIAL(initial output[Region] / (initial private capital[Region] ^ output elasticity of private capital"
     " * initial public capital[Region] ^ output elasticity of public capital"
     " * initial employment[Region] ^ output elasticity of labour))",
     "Dmnl", "TFP A0 that reproduces output at INITIAL TIME (units follow from the elasticities)."),
    ("tfp scale" + R,
     "INITIAL(base total factor productivity[Region] / initial knowledge[Region] ^ knowledge elasticity of tfp)",
     "Dmnl", "A0 / K_ref^eta, so that TFP equals A0 at INITIAL TIME."),
    ("total factor productivity" + R, "tfp scale[Region] * knowledge stock[Region] ^ knowledge elasticity of tfp",
     "Dmnl", "TFP A = A0 (K / K_ref)^eta."),
    ("output" + R,
     "total factor productivity[Region] * private capital[Region] ^ output elasticity of private capital"
     " * effective public capital[Region] ^ output elasticity of public capital"
     " * employment[Region] ^ output elasticity of labour",
     "USD million/Year", "Value added Y = A K_p^alpha K_g^gamma L^beta (maps to gsp)."),
]

SME: list[Equation] = [
    ("sme birth rate", "0.1", "1/Year",
     "Literature: births per SME, Eurostat about 0.09, Decker et al. (2014) 0.08-0.12."),
    ("young sme hazard", "0.19", "1/Year", "Literature: young-firm death rate, Eurostat survival implies 0.16-0.22."),
    ("maturation time", "5", "Year", "Literature: a firm is young for its first 5 years (Eurostat)."),
    ("mature sme death rate", "0.06", "1/Year", "Literature: mature-firm death rate, Eurostat 0.05-0.07."),
    ("scale up rate", "0.003", "1/Year", "Assumed: mature SMEs growing into large firms (0.001-0.005)."),
    ("large firm exit rate", "0.03", "1/Year", "Assumed: exit rate of large firms (0.01-0.05)."),
    ("young sme size", "5", "jobs/firm", "Assumed: jobs per young SME (3-8)."),
    ("mature sme size", "15", "jobs/firm", "Assumed: jobs per mature SME (10-25)."),
    ("jobs per thousand jobs", "1000", "jobs/thousand jobs", "Unit conversion."),
    ("initial sme employment share", "0.6", "Dmnl",
     "Literature: SME share of employment, OECD SME and Entrepreneurship Outlook 2019 (about 60 %)."),
    ("attractiveness elasticity of births", "0.3", "Dmnl",
     "Assumed: elasticity of SME births to SME attractiveness (0-1)."),
    ("knowledge elasticity of births", "0.05", "Dmnl", "Assumed: elasticity of SME births to SME knowledge (0-0.2)."),
    ("saturation elasticity", "0.5", "Dmnl",
     "Assumed: elasticity of births per SME to market capacity per SME (0-0.9; below 1 so no SMEs, no births)."),
    ("employment persistence", "0.65", "Dmnl",
     "Estimated: rho of the dynamic employment equation, Arellano and Bond (1991) on UK firms, 0.6-0.7."),
    ("employment adjustment time", "-1 / LN(employment persistence)", "Year",
     "tau_E = -1/ln(rho): time for employment to adjust to desired employment."),
    ("young share at equilibrium",
     "(mature sme death rate + scale up rate) / (mature sme death rate + scale up rate + 1 / maturation time)",
     "Dmnl", "Share of young firms among SMEs in the ageing chain's equilibrium."),
    ("initial sme firms" + R,
     "INITIAL(initial employment[Region] * initial sme employment share * jobs per thousand jobs / "
     "(young share at equilibrium * young sme size + (1 - young share at equilibrium) * mature sme size))",
     "firm", "Number of SMEs at INITIAL TIME."),
    ("initial large firms" + R,
     "INITIAL(scale up rate * initial sme firms[Region] * (1 - young share at equilibrium) / large firm exit rate)",
     "firm", "Number of large firms at INITIAL TIME (scale-up balances exits)."),
    ("large firm size" + R,
     "INITIAL(initial employment[Region] * (1 - initial sme employment share) * jobs per thousand jobs / "
     "initial large firms[Region])",
     "jobs/firm", "Jobs per large firm, calibrated to employment at INITIAL TIME."),
    ("young smes" + R,
     "INTEG(sme births[Region] - young sme deaths[Region] - maturation[Region], "
     "initial sme firms[Region] * young share at equilibrium)",
     "firm", "SMEs younger than 5 years."),
    ("mature smes" + R,
     "INTEG(maturation[Region] - mature sme deaths[Region] - scale up[Region], "
     "initial sme firms[Region] * (1 - young share at equilibrium))",
     "firm", "SMEs 5 years and older."),
    ("large firms" + R, "INTEG(scale up[Region] - large firm exits[Region], initial large firms[Region])",
     "firm", "Large firms (250 or more employees)."),
    ("sme firms" + R, "young smes[Region] + mature smes[Region]", "firm", "All SMEs."),
    ("sme capacity per output" + R, "INITIAL(initial sme firms[Region] / initial output[Region])",
     "firm*Year/USD million", "SMEs the market supports per unit of output (their ratio at INITIAL TIME)."),
    ("sme market capacity" + R, "sme capacity per output[Region] * output[Region]", "firm",
     "Number of SMEs the regional market supports at the reference birth rate."),
    ("attractiveness effect on births" + R,
     "perceived sme attractiveness[Region] ^ attractiveness elasticity of births", "Dmnl",
     "Effect of SME attractiveness on births (1 at INITIAL TIME)."),
    ("knowledge effect on births" + R,
     "(sme knowledge[Region] / initial sme knowledge[Region]) ^ knowledge elasticity of births", "Dmnl",
     "Effect of knowledge available to SMEs on births (1 at INITIAL TIME)."),
    ("sme capacity ceiling", "2", "Dmnl",
     "Assumed: most SMEs the market can hold, as a multiple of market capacity (1.5-3)."),
    ("market room effect on births" + R,
     "MAX(0, MIN(1, (sme capacity ceiling - sme firms[Region] / sme market capacity[Region]) / "
     "(sme capacity ceiling - 1)))",
     "Dmnl",
     "Logistic limit: 1 up to market capacity, falling to 0 as SMEs reach the capacity ceiling."),
    ("sme births" + R,
     "sme birth rate * attractiveness effect on births[Region] * knowledge effect on births[Region] * "
     "sme firms[Region] ^ (1 - saturation elasticity) * sme market capacity[Region] ^ saturation elasticity * "
     "market room effect on births[Region]",
     "firm/Year",
     "New SMEs: b S (capacity / S)^e room (R entrepreneurship breeds entrepreneurship; B saturation; "
     "B market room)."),
    ("births per sme" + R, "ZIDZ(sme births[Region], sme firms[Region])", "1/Year",
     "SME births per existing SME."),
    ("effective young sme hazard", "young sme hazard * (1 - sme support * programme switch)", "1/Year",
     "Young-SME hazard after SME support."),
    ("young sme deaths" + R, "effective young sme hazard * young smes[Region]", "firm/Year",
     "Deaths of young SMEs (B failure)."),
    ("maturation" + R, "young smes[Region] / maturation time", "firm/Year", "Young SMEs becoming mature."),
    ("mature sme deaths" + R, "mature sme death rate * mature smes[Region]", "firm/Year", "Deaths of mature SMEs."),
    ("scale up" + R, "scale up rate * mature smes[Region]", "firm/Year", "Mature SMEs growing into large firms."),
    ("large firm exits" + R, "large firm exit rate * large firms[Region]", "firm/Year", "Exits of large firms."),
    ("desired sme employment" + R,
     "(young smes[Region] * young sme size + mature smes[Region] * mature sme size) / jobs per thousand jobs",
     "thousand jobs", "Jobs the SMEs want to fill."),
    ("large firm jobs per firm" + R, "INITIAL(large firm size[Region] / jobs per thousand jobs)",
     "thousand jobs/firm", "Large-firm size in thousand jobs per firm."),
    ("desired large firm employment" + R,
     "large firms[Region] * large firm jobs per firm[Region] * output demand effect[Region]",
     "thousand jobs", "Jobs the large firms want to fill."),
    ("output demand effect" + R, "(output[Region] * output scale[Region]) ^ output elasticity of large firm jobs",
     "Dmnl", "Large firms hire as output grows: (output / initial output)^elasticity."),
    ("output scale" + R, "INITIAL(1 / initial output[Region])", "Year/USD million",
     "Inverse of output at INITIAL TIME."),
    ("output elasticity of large firm jobs", "0.5", "Dmnl",
     "Assumed: elasticity of large-firm labour demand to output (0-1)."),
    ("minimum unemployment fraction", "0.005", "Dmnl",
     "Assumed: frictional unemployment below which firms cannot hire (0-0.02)."),
    ("labour demand" + R, "desired sme employment[Region] + desired large firm employment[Region]",
     "thousand jobs", "Jobs SMEs and large firms want to fill."),
    ("labour availability" + R,
     "MIN(1, XIDZ((1 - minimum unemployment fraction) * labour force[Region], labour demand[Region], 1))",
     "Dmnl", "Share of desired jobs the labour force can fill (B labour constraint; 1 while labour is slack)."),
    ("sme employment change" + R,
     "(desired sme employment[Region] * labour availability[Region] - sme employment[Region]) / "
     "employment adjustment time",
     "thousand jobs/Year", "Net SME job creation."),
    ("large firm employment change" + R,
     "(desired large firm employment[Region] * labour availability[Region] - large firm employment[Region]) / "
     "employment adjustment time",
     "thousand jobs/Year", "Net large-firm job creation."),
    ("sme employment" + R,
     "INTEG(sme employment change[Region], initial employment[Region] * initial sme employment share)",
     "thousand jobs", "Employment in SMEs."),
    ("large firm employment" + R,
     "INTEG(large firm employment change[Region], initial employment[Region] * (1 - initial sme employment share))",
     "thousand jobs", "Employment in large firms."),
    ("employment" + R, "sme employment[Region] + large firm employment[Region]", "thousand jobs",
     "Total employment L (maps to emp)."),
    ("sme employment share" + R, "sme employment[Region] / employment[Region]", "Dmnl",
     "SME share of employment."),
    ("sme share of new jobs" + R,
     "XIDZ(sme employment[Region] - INITIAL(sme employment[Region]), "
     "employment[Region] - INITIAL(employment[Region]), initial sme employment share)",
     "Dmnl", "SME share of net jobs created since INITIAL TIME."),
    ("labour force natural growth", "0.01", "1/Year", "Assumed: labour force growth without migration (0-0.02)."),
    ("migration adjustment time", "1", "Year",
     "Assumed: time for migration to close the gap to natural unemployment (1-7; Blanchard and Katz 1992)."),
    ("natural unemployment fraction" + R, "INITIAL(initial unemployment rate[Region] / 100)", "Dmnl",
     "Unemployment fraction the labour market returns to."),
    ("maximum migration rate", "0.03", "1/Year",
     "Assumed: largest net migration per year as a share of the labour force (0.01-0.05; Blanchard and Katz 1992)."),
    ("indicated net migration" + R,
     "(labour demand[Region] / (1 - natural unemployment fraction[Region]) - labour force[Region]) / "
     "migration adjustment time",
     "thousand jobs/Year",
     "Net migration that would staff the jobs on offer at natural unemployment (workers follow labour demand)."),
    ("net migration" + R,
     "MAX(-maximum migration rate * labour force[Region], "
     "MIN(maximum migration rate * labour force[Region], indicated net migration[Region]))",
     "thousand jobs/Year",
     "Net migration of workers (in thousand jobs of labour supply), bounded by the maximum migration rate."),
    ("labour force" + R,
     "INTEG(labour force natural growth * labour force[Region] + net migration[Region], "
     "initial employment[Region] / (1 - natural unemployment fraction[Region]))",
     "thousand jobs", "Labour force (in thousand jobs of labour supply)."),
    ("unemployment rate" + R, "100 * (1 - employment[Region] / labour force[Region])", "percent",
     "Unemployment rate (maps to unemp)."),
]

KNOWLEDGE: list[Equation] = [
    ("rd intensity", "0.02", "Dmnl", "Assumed: R&D spending as a share of output (0.01-0.03)."),
    ("knowledge productivity", "1", "Dmnl", "Assumed: nu, scale of knowledge creation (normalisation)."),
    ("rd elasticity of knowledge creation", "0.85", "Dmnl",
     "Literature: lambda, Bottazzi and Peri (2003), own-region elasticity 0.8-0.9."),
    ("knowledge elasticity of knowledge creation", "0.3", "Dmnl",
     "Assumed: phi < 1 (Jones 1995), standing-on-shoulders effect (0-0.8)."),
    ("knowledge obsolescence rate", "0.15", "1/Year",
     "Literature: delta_K, Griliches (1979) 0.15; Hall (2007) 0.15-0.4."),
    ("knowledge elasticity of tfp", "0.1", "Dmnl", "Assumed: eta, elasticity of TFP to knowledge (0-0.2)."),
    ("between cluster absorption rate", "0.1", "1/Year",
     "Assumed: sigma_b, rate of absorbing partners' knowledge-intensity gap (0.01-0.3)."),
    ("within cluster spillover rate", "0.5", "1/Year",
     "Assumed: sigma_w, rate of knowledge transfer from cluster leaders to SMEs (0.1-1)."),
    ("initial absorptive capacity", "0.5", "Dmnl", "Assumed: absorptive capacity at INITIAL TIME (0.2-0.8)."),
    ("absorptive capacity adjustment time", "5", "Year", "Assumed: time to build absorptive capacity (3-10)."),
    ("absorptive capacity elasticity", "0.3", "Dmnl",
     "Assumed: elasticity of indicated absorptive capacity to SME knowledge (0-1)."),
    ("patents per knowledge unit", "0.05", "patents/knowledge unit",
     "Assumed: patents per unit of new knowledge (to calibrate on the firm patent panel)."),
    ("rd spending" + R, "rd intensity * output[Region]", "USD million/Year", "R&D spending."),
    ("initial knowledge" + R,
     "INITIAL((knowledge productivity * (rd intensity * initial output[Region]) ^ rd elasticity of knowledge creation"
     " / knowledge obsolescence rate) ^ (1 / (1 - knowledge elasticity of knowledge creation)))",
     "knowledge unit", "Knowledge stock in perpetual-inventory equilibrium at INITIAL TIME."),
    ("knowledge creation" + R,
     "knowledge productivity * rd spending[Region] ^ rd elasticity of knowledge creation * "
     "knowledge stock[Region] ^ knowledge elasticity of knowledge creation",
     "knowledge unit/Year", "New knowledge nu RD^lambda K^phi (Jones 1995)."),
    ("knowledge intensity" + R, "knowledge stock[Region] / output[Region]", "knowledge unit*Year/USD million",
     "Knowledge per unit of output."),
    ("between cluster spillover" + R,
     "between cluster absorption rate * between cluster exchange intensity * programme switch * "
     "absorptive capacity[Region] * output[Region] * SUM(exchange weight[Region, Partner!] * "
     "MAX(knowledge intensity[Partner!] - knowledge intensity[Region], 0))",
     "knowledge unit/Year", "Knowledge absorbed from more knowledge-intensive regions of the group."),
    ("knowledge obsolescence" + R, "knowledge obsolescence rate * knowledge stock[Region]", "knowledge unit/Year",
     "Obsolescence of knowledge."),
    ("knowledge stock" + R,
     "INTEG(knowledge creation[Region] + between cluster spillover[Region] - knowledge obsolescence[Region], "
     "initial knowledge[Region])",
     "knowledge unit", "Regional knowledge (R&D capital, perpetual inventory)."),
    ("initial within cluster spillover rate",
     "within cluster spillover rate * initial network density * reference alignment * initial absorptive capacity",
     "1/Year", "Fractional within-cluster spillover rate at INITIAL TIME."),
    ("initial sme knowledge" + R,
     "INITIAL(initial knowledge[Region] * initial within cluster spillover rate / "
     "(initial within cluster spillover rate + knowledge obsolescence rate))",
     "knowledge unit", "SME knowledge in equilibrium at INITIAL TIME."),
    ("within cluster spillover" + R,
     "within cluster spillover rate * (1 + knowledge sharing intensity * programme switch) * "
     "network density[Region] * alignment[Region] * absorptive capacity[Region] * "
     "MAX(knowledge stock[Region] - sme knowledge[Region], 0)",
     "knowledge unit/Year", "Knowledge flowing from cluster leaders to SMEs, gated by alignment."),
    ("sme knowledge obsolescence" + R, "knowledge obsolescence rate * sme knowledge[Region]", "knowledge unit/Year",
     "Obsolescence of SME knowledge."),
    ("sme knowledge" + R,
     "INTEG(within cluster spillover[Region] - sme knowledge obsolescence[Region], initial sme knowledge[Region])",
     "knowledge unit", "Knowledge available to the region's SMEs."),
    ("indicated absorptive capacity" + R,
     "MIN(1, initial absorptive capacity * (sme knowledge[Region] / initial sme knowledge[Region]) "
     "^ absorptive capacity elasticity)",
     "Dmnl", "Absorptive capacity the region's knowledge supports."),
    ("absorptive capacity" + R,
     "INTEG((indicated absorptive capacity[Region] - absorptive capacity[Region]) / "
     "absorptive capacity adjustment time, initial absorptive capacity)",
     "Dmnl", "Absorptive capacity (0-1), cumulative."),
    ("patents" + R, "patents per knowledge unit * knowledge creation[Region]", "patents/Year",
     "Patents (maps to the firm patent panel)."),
]

ALIGNMENT: list[Equation] = [
    ("initial trust", "0.4", "Dmnl", "Assumed: trust between SMEs and cluster leaders at INITIAL TIME (0.2-0.6)."),
    ("trust build time", "3", "Year",
     "Assumed: trust builds slowly, 2-5 years (Black et al. 2003; Luna-Reyes et al. 2004)."),
    ("trust erosion time", "0.75", "Year", "Assumed: trust erodes fast, 0.5-1 year (same sources)."),
    ("trust gain from engagement", "1", "Dmnl", "Assumed: rise of indicated trust per unit engaged share (0-3)."),
    ("sme recruitment rate", "0.2", "1/Year", "Assumed: fraction of unengaged SMEs engaged per year (0.05-0.5)."),
    ("benefit elasticity of engagement", "1", "Dmnl",
     "Assumed: elasticity of engagement to perceived SME benefit (0-2)."),
    ("engagement fatigue rate", "0.1", "1/Year", "Assumed: fraction of engaged SMEs dropping out per year (0.05-0.3)."),
    ("baseline sme seat share", "0.1", "Dmnl", "Assumed: SME seat share without engagement (0-0.3)."),
    ("capture sensitivity", "1", "Dmnl",
     "Assumed: kappa, loss of alignment per unit representation gap "
     "(0-1.2; below 1/0.7 so the pre-programme alignment stays positive)."),
    ("alignment adjustment time", "2", "Year", "Assumed: time for alignment to follow trust and representation (1-4)."),
    ("initial network density", "0.3", "Dmnl", "Assumed: network density at INITIAL TIME (0.1-0.5)."),
    ("density gain from engagement", "1", "Dmnl", "Assumed: rise of indicated density per unit engaged share (0-2)."),
    ("density gain from sharing programme", "0.5", "Dmnl",
     "Assumed: rise of indicated density per unit of knowledge sharing intensity (0-1)."),
    ("density adjustment time", "3", "Year", "Assumed: time for the network to form or decay (1-5)."),
    ("reference alignment",
     "initial trust * MAX(0, 1 - capture sensitivity * ABS(baseline sme seat share - initial sme employment share))",
     "Dmnl", "Alignment in equilibrium before the programme: the reference for the alignment fit."),
    ("maximum recruitment rate", "1", "1/Year",
     "Assumed: most of the unengaged SMEs that can join cluster governance in a year (0.5-2)."),
    ("engagement" + R,
     "engagement switch * MIN(maximum recruitment rate, sme recruitment rate * (trust[Region] / initial trust) * "
     "perceived sme attractiveness[Region] ^ benefit elasticity of engagement) * (1 - engaged sme share[Region])",
     "1/Year", "Share of SMEs joining cluster governance per year (R engagement-trust, R alignment-benefit)."),
    ("disengagement" + R,
     "engaged sme share[Region] * (engagement fatigue rate + births per sme[Region])", "1/Year",
     "Engaged share lost to fatigue (B fatigue) and to dilution by unengaged new SMEs."),
    ("engaged sme share" + R, "INTEG(engagement[Region] - disengagement[Region], 0)", "Dmnl",
     "Share of SMEs engaged in cluster governance (SMEs leave engaged or not alike)."),
    ("engaged smes" + R, "engaged sme share[Region] * sme firms[Region]", "firm",
     "SMEs engaged in cluster governance."),
    ("sme seat share" + R,
     "MAX(baseline sme seat share, engagement switch * MAX(sme representation quota, "
     "engaged sme share[Region] * sme employment share[Region]))",
     "Dmnl", "SME share of seats in cluster governance."),
    ("representation gap" + R, "sme seat share[Region] - sme employment share[Region]", "Dmnl",
     "SME seat share minus SME employment share (B capture by large firms when negative)."),
    ("indicated trust" + R,
     "MIN(1, initial trust * (1 + trust gain from engagement * engaged sme share[Region]))", "Dmnl",
     "Trust the current engagement supports."),
    ("trust change" + R,
     "IF THEN ELSE(indicated trust[Region] >= trust[Region], "
     "(indicated trust[Region] - trust[Region]) / trust build time, "
     "(indicated trust[Region] - trust[Region]) / trust erosion time)",
     "1/Year", "Trust builds slowly and erodes fast."),
    ("trust" + R, "INTEG(trust change[Region], initial trust)", "Dmnl", "Trust (0-1)."),
    ("indicated alignment" + R,
     "trust[Region] * MAX(0, 1 - capture sensitivity * ABS(representation gap[Region]))", "Dmnl",
     "Alignment that trust and representation support."),
    ("alignment" + R,
     "INTEG((indicated alignment[Region] - alignment[Region]) / alignment adjustment time, reference alignment)",
     "Dmnl", "Alignment of stakeholder interests (0-1)."),
    ("indicated network density" + R,
     "MIN(1, initial network density * (1 + density gain from engagement * engaged sme share[Region] + "
     "density gain from sharing programme * knowledge sharing intensity * programme switch))",
     "Dmnl", "Network density that engagement and the sharing programme support."),
    ("network density" + R,
     "INTEG((indicated network density[Region] - network density[Region]) / density adjustment time, "
     "initial network density)",
     "Dmnl", "Density of the cluster network (0-1)."),
]

TEMPLATE = [
    ("Levers", "Policy levers of the cluster programme.", LEVERS),
    ("Investment", "(a) Cluster investment: public and private capital, output.", INVESTMENT),
    ("SME growth", "(b) SME ageing chain, large firms, employment, labour market.", SME),
    ("Knowledge", "(c) Knowledge creation and spillover.", KNOWLEDGE),
    ("Alignment", "(d) Stakeholder engagement, trust, alignment, network density.", ALIGNMENT),
]


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
    text = model_text(read_panel(args.panel, args.year), args.year)
    write_atomic(args.output, text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    sys.stdout.write(f"wrote {args.output}\nsha256 {digest}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
