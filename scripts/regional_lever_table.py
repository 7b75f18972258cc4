"""Measure the lever table of ``regional_cluster`` (the table of ``models/README.md``) on the batch engine.

Every scenario runs 1970-2000 for all 48 states; net jobs are measured against the no-policy run
(``model.no_policy``, the defaults), cost is the total programme cost 1970-2000 (USD million of 1982).
Columns: employment 2000, net jobs, net SME jobs, output 2000 against no policy, unemployment 1990 and
2000, mean alignment 2000, cost, cost per net job, and net jobs per net SME job (the analogue of
Moretti's 2010 local multiplier: his 1.6 additional local jobs per tradable job is a ratio of 2.6 total
jobs per targeted job). ``--place`` adds the place-based table: each lever in one state at a time
(``programme coverage`` 1 there, 0 elsewhere), the median over the 48 states of the state's net jobs and net
SME jobs, of the national net jobs and of the state's cost per net job, and the ratio of the medians of
local net jobs and local net SME jobs.

Run ``python scripts/regional_lever_table.py [--place]`` (about a minute, two with ``--place``); it
prints Markdown tables.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

import cluster_econ as ce
from cluster_econ.sd.engine import compile_model

#: The programme of the behaviour tests (tests/models/test_models_behaviour.py).
PROGRAMME = {"public_investment_share": 0.01, "knowledge_sharing_intensity": 0.5,
             "between_cluster_exchange_intensity": 0.5, "sme_representation_quota": 0.2, "engagement_effort": 1.0}
SCENARIOS: dict[str, dict[str, float]] = {
    "no policy": {},
    "public_investment_share 0.01": {"public_investment_share": 0.01},
    "public_investment_share 0.05": {"public_investment_share": 0.05},
    "sme_support 0.25": {"sme_support": 0.25},
    "sme_support 0.5": {"sme_support": 0.5},
    "knowledge_sharing_intensity 2": {"knowledge_sharing_intensity": 2.0},
    "between_cluster_exchange_intensity 2": {"between_cluster_exchange_intensity": 2.0},
    "sme_representation_quota 0.6": {"sme_representation_quota": 0.6},
    "engagement_effort 1": {"engagement_effort": 1.0},
    "programme": PROGRAMME,
    "programme, engagement_start_delay 15": {**PROGRAMME, "engagement_start_delay": 15.0},
    "programme, quota 0.6": {**PROGRAMME, "sme_representation_quota": 0.6},
    "programme, investment_start_time 1970": {**PROGRAMME, "investment_start_time": 1970.0},
    "programme + sme_support 0.5": {**PROGRAMME, "sme_support": 0.5},
    "programme, sharing 0": {**PROGRAMME, "knowledge_sharing_intensity": 0.0},
    "programme, exchange 0": {**PROGRAMME, "between_cluster_exchange_intensity": 0.0},
}
PLACE = ["public_investment_share 0.01", "programme", "sme_support 0.5", "engagement_effort 1",
         "sme_representation_quota 0.6", "knowledge_sharing_intensity 2", "between_cluster_exchange_intensity 2"]
OUTPUTS = ["employment", "sme_employment", "output", "unemployment_rate", "alignment", "cumulative_programme_cost"]
END = 2000.0


def frame_of(scenarios: dict[str, dict[str, float]]) -> pd.DataFrame:
    """One row per scenario with every lever that any scenario sets (no-policy values elsewhere)."""
    model = ce.load_model("regional_cluster")
    levers = sorted({k for s in scenarios.values() for k in s})
    rows = [{k: s.get(k, model.no_policy[k]) for k in levers} for s in scenarios.values()]
    return pd.DataFrame(rows, index=pd.Index(list(scenarios), name="name"))


def per_job(cost_musd: float, jobs_thousand: float) -> float:
    """USD per net job (nan without a net job gain)."""
    return cost_musd * 1e6 / (jobs_thousand * 1e3) if jobs_thousand > 0.5 else float("nan")


def lever_table(compiled) -> pd.DataFrame:
    """The all-states table, one row per scenario of ``SCENARIOS``."""
    ds = compiled.run(frame_of(SCENARIOS).reset_index(drop=True), outputs=OUTPUTS, final_time=END)
    at = {y: ds.sel(time=y) for y in (1990.0, END)}
    end = at[END]
    rows = []
    for i, name in enumerate(SCENARIOS):
        e, s = end.isel(scenario=i), end.isel(scenario=0)
        jobs = float(e["employment"].sum() - s["employment"].sum())
        sme = float(e["sme_employment"].sum() - s["sme_employment"].sum())
        cost = float(e["cumulative_programme_cost"].sum())
        rows.append({
            "scenario": name, "employment 2000 (thousand)": float(e["employment"].sum()),
            "net jobs (thousand)": jobs, "net SME jobs (thousand)": sme,
            "output 2000 vs no policy (%)": 100 * float(e["output"].sum() / s["output"].sum() - 1),
            "unemp 1990": float(at[1990.0]["unemployment_rate"].isel(scenario=i).mean()),
            "unemp 2000": float(e["unemployment_rate"].mean()), "mean alignment": float(e["alignment"].mean()),
            "cost 1970-2000 (USD bn)": cost / 1e3, "cost per net job (USD)": per_job(cost, jobs),
            "net jobs per net SME job": jobs / sme if abs(sme) > 0.5 else float("nan"),
        })
    return pd.DataFrame(rows).set_index("scenario")


def place_table(compiled, regions: list[str]) -> pd.DataFrame:
    """Each lever of ``PLACE`` in one state at a time: medians over the states of local net jobs and cost per job."""
    n = len(regions)
    ref = compiled.run(None, outputs=["employment", "sme_employment"], final_time=END).sel(time=END).isel(scenario=0)
    base, base_sme = ref["employment"], ref["sme_employment"]
    rows = []
    for name in PLACE:
        levers = frame_of({name: SCENARIOS[name]})
        scen = pd.concat([levers] * n, ignore_index=True)
        scen["programme_coverage"] = [np.eye(n)[r] for r in range(n)]
        end = compiled.run(scen, outputs=["employment", "sme_employment", "cumulative_programme_cost"],
                           final_time=END).sel(time=END)
        jobs = np.array([float(end["employment"].isel(scenario=r, Region=r) - base.isel(Region=r)) for r in range(n)])
        sme = np.array([float(end["sme_employment"].isel(scenario=r, Region=r) - base_sme.isel(Region=r))
                        for r in range(n)])
        cost = np.array([float(end["cumulative_programme_cost"].isel(scenario=r, Region=r)) for r in range(n)])
        total_jobs = np.array([float(end["employment"].isel(scenario=r).sum() - base.sum()) for r in range(n)])
        per = np.array([per_job(c, j) for c, j in zip(cost, jobs, strict=True)])
        rows.append({"lever (one state)": name, "median local net jobs (thousand)": float(np.median(jobs)),
                     "median local net SME jobs (thousand)": float(np.median(sme)),
                     "median national net jobs (thousand)": float(np.median(total_jobs)),
                     "local net jobs per local net SME job": float(np.median(jobs) / np.median(sme))
                     if abs(np.median(sme)) > 0.05 else float("nan"),
                     "median cost per local net job (USD)": float(np.nanmedian(per)) if np.isfinite(per).any()
                     else float("nan")})
    return pd.DataFrame(rows).set_index("lever (one state)")


def markdown(table: pd.DataFrame, digits: int = 2) -> str:
    """``table`` as a Markdown table (index first), numbers with thousands separators."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:,.{digits}f}"
        return str(v)
    head = [table.index.name or "", *table.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join([str(i), *(cell(v) for v in row)]) + " |" for i, row in zip(
        table.index, table.itertuples(index=False), strict=True)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--place", action="store_true", help="also the place-based (one state) table")
    args = parser.parse_args(argv)
    model = ce.load_model("regional_cluster")
    compiled = compile_model(model)
    sys.stdout.write(f"{model.label}\n\n{markdown(lever_table(compiled))}\n")
    if args.place:
        sys.stdout.write(f"\n{markdown(place_table(compiled, list(model.subscripts['Region'])), 1)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
