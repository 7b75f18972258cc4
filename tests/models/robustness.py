"""Draws within the declared bounds and the checks every run must pass (finite, stocks >= 0, shares in [0, 1])."""

from __future__ import annotations

import numpy as np
import pandas as pd

import cluster_econ as ce
from cluster_econ.sd.engine import compile_model

#: variables that are shares and must stay in [0, 1]
SHARES = ("alignment", "trust", "network_density", "absorptive_capacity", "engaged_sme_share", "sme_seat_share",
          "programme_alignment_fit", "sme_employment_share", "unemployment_fraction", "alignment_fit",
          "sme_knowledge_share", "labour_availability", "market_room_effect_on_births")


def robustness_draws(model: ce.SDModel, n: int, seed: int) -> pd.DataFrame:
    """``n`` uniform interior draws, ``n`` corner draws, then the all-lower and all-upper sets."""
    table = model.parameters
    table = table[np.isfinite(table["lower"]) & np.isfinite(table["upper"])]
    rng = np.random.default_rng(seed)
    lo, hi = table["lower"].to_numpy(float), table["upper"].to_numpy(float)
    interior = lo + (hi - lo) * rng.uniform(size=(n, len(lo)))
    corners = np.where(rng.uniform(size=(n, len(lo))) < 0.5, lo, hi)
    rows = np.vstack([interior, corners, lo[None], hi[None]])
    return pd.DataFrame(rows, columns=list(table["name"]))


def check_draws(model: ce.SDModel, draws: pd.DataFrame, *, final_time: float, chunk: int = 250) -> list[str]:
    """One line per failing draw: its index and what failed (empty when all pass)."""
    compiled = compile_model(model)
    stocks = list(model.variables.loc[model.variables["kind"] == "stock", "name"])
    names = [*stocks, *[s for s in SHARES if s in compiled.variables], "output", "employment",
             "unemployment_rate", "cumulative_programme_cost"]
    names = list(dict.fromkeys(names))
    failures = []
    for start in range(0, len(draws), chunk):
        part = draws.iloc[start:start + chunk].reset_index(drop=True)
        ds = compiled.run(part, outputs=names, final_time=final_time, saveper=1.0)
        bad: dict[int, list[str]] = {}
        for name in names:
            values = ds[name].transpose("scenario", ...).values.reshape(len(part), -1)
            checks = [("non-finite", ~np.isfinite(values).all(axis=1))]
            if name in stocks:
                checks.append(("negative", (values < -1e-9).any(axis=1)))
            if name in SHARES:
                checks.append(("outside [0, 1]", ((values < -1e-12) | (values > 1 + 1e-12)).any(axis=1)))
            for what, mask in checks:
                for i in np.flatnonzero(mask):
                    bad.setdefault(start + int(i), []).append(f"{name} {what}")
        failures += [f"draw {i}: {', '.join(v[:4])}" for i, v in sorted(bad.items())]
    return failures
