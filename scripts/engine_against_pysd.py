"""Run the batch engine and PySD on every Vensim model in a folder and compare them.

For each ``.mdl`` under the folder (recursively), the engine compiles and runs the model with its
defaults and PySD runs the same file; the script prints one line per model: ``same`` (every shared
column within ``--rtol``), ``DIFFERS`` (the worst column, with its relative difference), ``refused``
(the engine raised :class:`~cluster_econ.errors.UnsupportedConstructError`, with its message),
``ERROR`` (any other exception: a bug) or ``pysd fails`` (nothing to compare with). It exits with 1
if any model differs or errs. Use it on models the test suite does not hold, e.g. a checkout of the
SDXorg test-model suite: ``python scripts/engine_against_pysd.py path/to/test-models``. PySD writes
its translation (a ``.py``) beside each model file, so run it on a copy you may write to.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from cluster_econ.errors import UnsupportedConstructError
from cluster_econ.sd.engine import compile_model, pysd_frame
from cluster_econ.sd.engine._compare import worst_difference


def check(path: Path, rtol: float) -> tuple[str, str]:
    """Outcome and detail for one model file."""
    import pysd

    try:
        compiled = compile_model(path)
    except UnsupportedConstructError as err:
        return "refused", str(err).splitlines()[0][:160]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            engine = pysd_frame(compiled.run())
    except Exception as err:  # anything escaping a compiled kernel is reported as a bug
        return "ERROR", f"{type(err).__name__}: {str(err)[:160]}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = pysd.read_vensim(str(path)).run()
    except Exception as err:  # a PySD failure only means there is no reference
        return "pysd fails", f"{type(err).__name__}: {str(err)[:120]}"
    worst, where, n = worst_difference(engine, reference, rtol)
    if n == 0:
        return "ERROR", "no column in common with PySD"
    if worst > 1:
        return "DIFFERS", f"{where!r}: {worst * rtol:.3g} relative, over {n} columns"
    return "same", f"{n} columns"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rtol", type=float, default=1e-9, help="relative (and absolute) tolerance, default 1e-9")
    args = parser.parse_args(argv)
    counts: dict[str, int] = {}
    for path in sorted(args.folder.rglob("*.mdl")):
        outcome, detail = check(path, args.rtol)
        counts[outcome] = counts.get(outcome, 0) + 1
        print(f"{outcome:10s} {path.relative_to(args.folder)}: {detail}", flush=True)
    print("; ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    return 1 if counts.get("DIFFERS") or counts.get("ERROR") else 0


if __name__ == "__main__":
    sys.exit(main())
