"""Robustness of a model over the ranges its model.toml declares (shared by the range tests).

A sweep samples exactly the declared ranges, so any draw within them that produces a non-finite value,
a negative stock or a share outside [0, 1] is a defect of the model or of its bounds. The designs:
interior draws (uniform within the bounds), corner draws (every parameter at its lower or upper bound,
chosen at random) and the two extremes (all at the lower bound, all at the upper bound). Runs go to the
model's FINAL TIME and on to 2030, on the batch engine (identical to PySD to round-off, see tests/engine).

Run as a script for the full-size check (1,000 interior and 1,000 corner draws per model)::

    python tests/models/ranges_check.py cluster_investment sme_growth
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import cluster_econ as ce
from cluster_econ.sd.engine import compile_model

#: the check runs at least to this year (and to FINAL TIME if later)
HORIZON = 2030.0
#: variables that are fractions of a whole, so must lie in [0, 1], besides every ``*_share`` variable
UNIT_INTERVAL = {"alignment", "trust", "network_density", "absorptive_capacity", "average_alignment_fit",
                 "programme_alignment_fit", "indicated_absorptive_capacity", "indicated_trust",
                 "indicated_alignment", "indicated_network_density", "reference_alignment",
                 "young_share_at_equilibrium", "unemployment_fraction"}
#: ``*_share`` variables that are not fractions of a whole (a share of *net* new jobs can be negative or
#: exceed 1 when total employment falls)
NOT_SHARES = {"sme_share_of_new_jobs"}


@dataclass
class RangeReport:
    """Failures of one design: how many scenarios fail, and which variables fail first."""

    design: str
    scenarios: int
    failed: np.ndarray
    reasons: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def n_failed(self) -> int:
        return int(self.failed.sum())

    def describe(self) -> str:
        top = sorted(self.reasons.items(), key=lambda kv: -kv[1])[:6]
        kinds = ", ".join(f"{k} {v}" for k, v in self.kinds.items())
        return (f"{self.design}: {self.n_failed} of {self.scenarios} fail [{kinds}]"
                + (f" ({top})" if top else ""))


def bounded_parameters(model: ce.SDModel) -> pd.DataFrame:
    table = model.parameters
    return table[np.isfinite(table["lower"]) & np.isfinite(table["upper"])].reset_index(drop=True)


def designs(model: ce.SDModel, n_interior: int, n_corner: int, seed: int) -> dict[str, pd.DataFrame]:
    """Interior, corner and extreme scenario frames over the declared bounds."""
    rng = np.random.default_rng(seed)
    table = bounded_parameters(model)
    lower, upper = table["lower"].to_numpy(float), table["upper"].to_numpy(float)
    names = list(table["name"])
    interior = lower + rng.uniform(size=(n_interior, len(names))) * (upper - lower)
    corner = np.where(rng.integers(0, 2, size=(n_corner, len(names))) == 1, upper, lower)
    return {
        "interior": pd.DataFrame(interior, columns=names),
        "corner": pd.DataFrame(corner, columns=names),
        "all-lower": pd.DataFrame([lower], columns=names),
        "all-upper": pd.DataFrame([upper], columns=names),
    }


def classify(model: ce.SDModel) -> tuple[list[str], list[str], list[str]]:
    """(every variable to check, the stocks, the shares) of a model."""
    variables = model.variables
    constants = set(model.parameters["name"])
    keep = variables[~variables["name"].isin(constants | {"time"})]
    stocks = list(keep.loc[keep["kind"] == "stock", "name"])
    shares = [n for n in keep["name"] if (n in UNIT_INTERVAL or n.endswith("_share")) and n not in NOT_SHARES]
    return list(keep["name"]), stocks, shares


def check(model_id: str, n_interior: int, n_corner: int, *, seed: int = 20261201,
          method: str = "euler") -> list[RangeReport]:
    """Run the designs and report the failing scenarios of each."""
    model = ce.load_model(model_id)
    compiled = compile_model(model)
    names, stocks, shares = classify(model)
    names = [n for n in names if n in compiled.variables]
    final = max(float(model.control["final_time"]), HORIZON)
    reports = []
    for design, frame in designs(model, n_interior, n_corner, seed).items():
        data = compiled.run(frame, final_time=final, saveper=1.0, outputs=names, method=method)
        n = len(frame)
        failed = np.zeros(n, dtype=bool)
        reasons: dict[str, int] = {}
        kinds = {"non-finite": np.zeros(n, dtype=bool), "negative stock": np.zeros(n, dtype=bool),
                 "share outside [0, 1]": np.zeros(n, dtype=bool)}
        for name in names:
            values = np.asarray(data[name].transpose("scenario", ...).values, dtype=float).reshape(n, -1)
            bad = ~np.isfinite(values).all(axis=1)
            kinds["non-finite"] |= bad
            finite = np.where(np.isfinite(values), values, 0.0)
            if name in stocks:
                negative = (finite < -1e-9 * np.maximum(1.0, np.abs(finite).max(axis=1, keepdims=True))).any(axis=1)
                kinds["negative stock"] |= negative
                bad |= negative
            if name in shares:
                outside = ((finite < -1e-12) | (finite > 1 + 1e-12)).any(axis=1)
                kinds["share outside [0, 1]"] |= outside
                bad |= outside
            if bad.any():
                reasons[name] = int(bad.sum())
            failed |= bad
        reports.append(RangeReport(design, n, failed, reasons, {k: int(v.sum()) for k, v in kinds.items()}))
    return reports


def main(argv: list[str]) -> int:
    ids = argv or ["cluster_investment", "sme_growth", "knowledge_spillover", "stakeholder_alignment"]
    worst = 0
    for model_id in ids:
        for report in check(model_id, 1000, 1000):
            print(f"{model_id:24s} {report.describe()}")
            worst = max(worst, report.n_failed)
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
