"""Print cluster_econ's estimates next to the published numbers in tests/golden/estimation_tables.toml.

Run: ``python scripts/estimation_reference.py``. For every golden case it prints the published
estimate and standard error (where the source prints one), cluster_econ's, and the largest absolute
difference against the case's tolerance, so a reviewer can see how closely each table is reproduced
(the golden test asserts it).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import cluster_econ as ce

TABLES = Path(__file__).resolve().parents[1] / "tests" / "golden" / "estimation_tables.toml"


def main() -> int:
    cases = tomllib.loads(TABLES.read_text(encoding="utf-8"))["case"]
    worst_ratio = 0.0
    for case in cases:
        options = {k: tuple(v) if isinstance(v, list) else v for k, v in case["options"].items()}
        res = getattr(ce, case["function"])(case["formula"], ce.load_dataset(case["dataset"]), **options)
        print(f"\n{case['id']}: {case['table']}\n  source: {case['source']}")
        print(f"  {'term':<12} {'published':>22} {'cluster_econ':>26}")
        worst = 0.0
        for term, published in case["estimates"].items():
            b, se = published[0], published[1] if len(published) == 2 else None  # some sources print no SE
            ours_b, ours_se = res.params[term], res.std_errors[term]
            worst = max(worst, abs(ours_b - b), 0.0 if se is None else abs(ours_se - se))
            shown = "(    none)" if se is None else f"({se:.7f})"
            print(f"  {term:<12} {b:>11.7f} {shown:>10} {ours_b:>13.7f} ({ours_se:.7f})")
        for name, (value, atol) in case.get("statistics", {}).items():
            ours = res.statistics[name] if name in res.statistics else res.tests[name].statistic
            print(f"  {name:<12} {value:>11.7f}             {ours:>13.7f}  (tolerance {atol:g})")
        print(f"  largest difference {worst:.2e}, tolerance {case['atol']:g}")
        worst_ratio = max(worst_ratio, worst / case["atol"])
    print(f"\nlargest difference / tolerance over all cases: {worst_ratio:.3f}")
    return 0 if worst_ratio <= 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
