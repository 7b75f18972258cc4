"""Benchmark: two-way within estimator with clustered standard errors on a large synthetic panel.

10,000 entities x 50 periods x 5 regressors. Prints the time of ``ce.panel_ols`` and of calling
``linearmodels.PanelOLS`` directly on the same arrays in the same run (the overhead target is a
ratio of at most 1.5), and the peak memory of each (tracemalloc).

Run: ``python benchmarks/bench_estimation.py [--entities N] [--periods T] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd
from linearmodels.panel import PanelOLS

import cluster_econ as ce

FORMULA = "y ~ x1 + x2 + x3 + x4 + x5"


def synthetic_panel(n_entities: int, n_periods: int, seed: int = 20260101) -> ce.RegionalPanel:
    rng = np.random.default_rng(seed)
    entity = np.repeat(np.arange(n_entities), n_periods)
    period = np.tile(np.arange(2000, 2000 + n_periods), n_entities)
    alpha = rng.normal(size=n_entities)[entity]
    gamma = rng.normal(size=n_periods)[period - 2000]
    x = rng.normal(size=(entity.size, 5)) + 0.5 * alpha[:, None]
    y = x @ np.array([1.0, -0.5, 0.25, 0.0, 2.0]) + alpha + gamma + rng.normal(size=entity.size)
    frame = pd.DataFrame({"region": entity, "year": period, "y": y, **{f"x{j + 1}": x[:, j] for j in range(5)}})
    return ce.RegionalPanel.from_frame(frame, entity="region", time="year", name="synthetic")


def run_wrapper(panel: ce.RegionalPanel) -> np.ndarray:
    res = ce.panel_ols(FORMULA, panel, effects=("entity", "time"), cov_type="clustered")
    return res.std_errors.to_numpy()


def run_direct(panel: ce.RegionalPanel) -> np.ndarray:
    frame = panel.frame
    exog = frame[["x1", "x2", "x3", "x4", "x5"]].copy()
    exog.insert(0, "const", 1.0)
    res = PanelOLS(frame["y"], exog, entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, group_debias=True
    )
    return res.std_errors.to_numpy()


def measure(panel: ce.RegionalPanel, repeat: int) -> dict[str, tuple[float, float]]:
    """Best time over ``repeat`` interleaved runs (so load on the machine hits both alike), and peak memory."""
    funcs = {"direct": run_direct, "wrapper": run_wrapper}
    best = dict.fromkeys(funcs, np.inf)
    for _ in range(repeat):
        for name, func in funcs.items():
            start = time.perf_counter()
            func(panel)
            best[name] = min(best[name], time.perf_counter() - start)
    out = {}
    for name, func in funcs.items():
        tracemalloc.start()
        func(panel)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out[name] = (best[name], peak / 2**20)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    panel = synthetic_panel(args.entities, args.periods)
    run_direct(panel)  # warm up imports and caches
    figures = measure(panel, args.repeat)
    (direct_t, direct_mem), (wrap_t, wrap_mem) = figures["direct"], figures["wrapper"]
    print(f"two-way within, clustered SEs, {args.entities} entities x {args.periods} periods x 5 regressors")
    print(f"  linearmodels PanelOLS directly : {direct_t:8.3f} s   peak {direct_mem:8.1f} MiB")
    print(f"  ce.panel_ols                   : {wrap_t:8.3f} s   peak {wrap_mem:8.1f} MiB")
    print(f"  time ratio (target <= 1.5)     : {wrap_t / direct_t:8.2f}")
    print(f"  memory ratio                   : {wrap_mem / direct_mem:8.2f}")


if __name__ == "__main__":
    main()
