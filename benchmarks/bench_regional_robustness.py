"""Robustness of regional_cluster over its declared ranges (one command; not a timed unit test).

1,000 uniform interior draws, 1,000 corner draws (every parameter at one of its bounds) and the
all-lower and all-upper sets, run on the batch engine to FINAL TIME and to 2030; counts the runs with
a non-finite output, a negative stock or a share outside [0, 1]. ``--n`` scales the draws.

    python benchmarks/bench_regional_robustness.py [--n 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "models"))

from robustness import check_draws, robustness_draws

import cluster_econ as ce


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args(argv)
    model = ce.load_model("regional_cluster")
    draws = robustness_draws(model, args.n, seed=20261201)
    for final in (model.control["final_time"], 2030.0):
        start = time.perf_counter()
        failures = check_draws(model, draws, final_time=final)
        sys.stdout.write(f"to {final:g}: {len(draws)} draws, {len(failures)} failing "
                         f"({time.perf_counter() - start:.0f} s)\n")
        for line in failures[:10]:
            sys.stdout.write(f"  {line}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
