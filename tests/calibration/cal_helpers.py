"""Synthetic panels simulated from the small regional growth model with known parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import cluster_econ as ce

MODEL_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "sdmodels" / "regional_growth.mdl"
TRUTH = {"saving_rate": 0.25, "depreciation_rate": 0.05, "employment_adjustment_time": 3.0}
BOUNDS = {"saving_rate": (0.05, 0.5), "depreciation_rate": (0.01, 0.15), "employment_adjustment_time": (0.5, 8.0)}
TARGETS = {"output": "gsp", "employment": "emp", "capital": "pc", "investment": "inv"}
COLUMNS = {"output": "gsp", "employment": "emp", "capital": "pc", "investment": "inv", "unemployment_rate": "unemp"}
UNITS = {"gsp": "USD million (1982 prices)", "emp": "thousand persons", "pc": "USD million (1982 prices)",
         "inv": "USD million (1982 prices)", "unemp": "percent"}


def synthetic_panel(params=None, *, last=1986, sigma=0.0, rho=0.6, seed=0, name="synthetic_growth",
                    state_names=None) -> ce.RegionalPanel:
    """A panel of the model's trajectories at ``params``, with multiplicative AR(1) noise when sigma > 0."""
    model = ce.load_model(MODEL_PATH)
    run = ce.simulate(model, params=params or TRUTH, final_time=last, outputs=list(COLUMNS))
    data = run.data
    rng = np.random.default_rng(seed)
    frames = []
    regions = [str(r) for r in data["Region"].values]
    times = data["time"].values
    for var, col in COLUMNS.items():
        values = data[var].transpose("time", "Region").values.copy()
        if var == "unemployment_rate":
            values = values * 100
        if sigma > 0:
            noise = np.empty_like(values)
            noise[0] = rng.normal(0, sigma, len(regions))
            for t in range(1, len(times)):
                noise[t] = rho * noise[t - 1] + rng.normal(0, sigma * np.sqrt(1 - rho**2), len(regions))
            values = values * np.exp(noise)
        frames.append(pd.DataFrame(values, index=times, columns=regions).stack().rename(col))
    frame = pd.concat(frames, axis=1).reset_index()
    frame.columns = ["year", "state", *COLUMNS.values()]
    if state_names is not None:
        frame["state"] = frame["state"].map(state_names)
    frame["year"] = frame["year"].astype(int)
    return ce.RegionalPanel.from_frame(frame, entity="state", time="year", units=UNITS, name=name)
