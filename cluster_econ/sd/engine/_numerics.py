"""Checks around an integration: memory before it, non-finite values after it (never silent).

The kernels run with numpy's floating-point warnings off (a warning per operation would be both noisy
and slow); instead every run and every chunk of a batch has its outputs checked here, and non-finite
values are reported once, naming the variable, the first time, how many scenarios and the first such
scenario's parameters, as a :class:`~cluster_econ.errors.NumericalWarning` or, with ``errors="raise"``,
a :class:`~cluster_econ.errors.SimulationError`.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import pandas as pd

from cluster_econ.errors import NumericalWarning, SimulationError, SpecError
from cluster_econ.typing import Errors

from ._integrate import max_saved, steps_upper_bound

__all__ = ["Errors", "available_memory", "check_memory", "merge", "nonfinite", "record", "report"]


#: integration steps above which a run is refused (``CLUSTER_ECON_MAX_STEPS`` overrides)
MAX_STEPS = 10**8
_PACKAGE = str(Path(__file__).resolve().parents[2])


def stack_level() -> int:
    """The stack level of the first frame outside cluster_econ (for ``warnings.warn``)."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def nonfinite(data: dict[str, np.ndarray], times: np.ndarray, offset: int = 0,
              undefined: Mapping[str, Sequence[int]] | None = None,
              inputs: Collection[str] = ()) -> list[dict[str, Any]]:
    """One record per output with non-finite values: variable, first time, scenarios, first scenario.

    Arrays have the scenario axis first and time second; ``offset`` is the position of the first
    scenario of this chunk in the whole batch. ``undefined`` gives, per variable, the flat positions
    of subscript cells no equation defines (NaN by construction, as in PySD), which are not checked;
    nor are the ``inputs`` (constants, whose scenario values are checked before the run, and whose
    file values, e.g. empty spreadsheet cells, are the model's data).
    """
    issues = []
    for name, values in data.items():
        if name in inputs or values.size == 0 or np.isfinite(values).all():
            continue
        cells = values.reshape(values.shape[0], values.shape[1], -1)
        skip = (undefined or {}).get(name)
        if skip:
            cells = np.delete(cells, list(skip), axis=2)
        bad = np.logical_not(np.isfinite(cells)).any(axis=2)
        if not bad.any():
            continue
        rows = np.flatnonzero(bad.any(axis=1))
        first_time = int(np.flatnonzero(bad.any(axis=0))[0])
        issues.append({"variable": name, "first_time": float(times[first_time]) if len(times) else float("nan"),
                       "scenarios": int(rows.size), "first_scenario": int(rows[0]) + offset})
    return issues


def merge(parts: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The records of several chunks as one record per variable."""
    out: dict[str, dict[str, Any]] = {}
    for issues in parts:
        for issue in issues:
            known = out.get(issue["variable"])
            if known is None:
                out[issue["variable"]] = dict(issue)
                continue
            known["scenarios"] += issue["scenarios"]
            known["first_time"] = min(known["first_time"], issue["first_time"])
            known["first_scenario"] = min(known["first_scenario"], issue["first_scenario"])
    return sorted(out.values(), key=lambda i: (i["first_time"], i["variable"]))


def _parameters(scenarios: pd.DataFrame, row: int) -> dict[str, Any]:
    values = scenarios.iloc[row]
    return {str(k): (float(v) if np.ndim(v) == 0 and not isinstance(v, pd.Series) else "array")
            for k, v in values.items()}


def report(issues: Sequence[dict[str, Any]], scenarios: pd.DataFrame, errors: str, model: str) -> None:
    """Warn (or raise SimulationError with ``errors="raise"``) if ``issues`` is not empty."""
    if not issues:
        return
    first = issues[0]
    row = first["first_scenario"]
    label = scenarios.index[row] if row < len(scenarios) else row
    others = [i["variable"] for i in issues[1:]]
    more = f" ({len(others)} other variables too: {', '.join(others[:5])}{', ...' if len(others) > 5 else ''})" \
        if others else ""
    message = (f"{model}: {first['variable']!r} is not finite (NaN or inf) from time {first['first_time']:g} in "
               f"{first['scenarios']} of {len(scenarios)} scenarios{more}; the first is scenario {label!r} with "
               f"parameters {_parameters(scenarios, row) if row < len(scenarios) else {}}. Check the parameter "
               "values (bounds, divisions by zero) or the time step.")
    if errors == "raise":
        raise SimulationError(message)
    warnings.warn(message, NumericalWarning, stacklevel=stack_level())


def record(ds: Any, issues: Sequence[dict[str, Any]], scenarios: pd.DataFrame) -> None:
    """Keep the records in ``ds.attrs["numerical_issues"]`` (JSON, so the result can be written to netCDF)."""
    listed = []
    for issue in issues:
        row = issue["first_scenario"]
        listed.append({**issue, "first_scenario": str(scenarios.index[row]) if row < len(scenarios) else str(row)})
    ds.attrs["numerical_issues"] = json.dumps(listed)


def available_memory() -> int:
    """Bytes of memory available to a new allocation (``MemAvailable``; physical memory if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2**62


def check_steps(label: str, t0: float, tf: float, dt: float) -> int:
    """Refuse (SpecError) a run of more integration steps than ``CLUSTER_ECON_MAX_STEPS``; return the steps."""
    steps = steps_upper_bound(t0, tf, dt)
    limit = int(os.environ.get("CLUSTER_ECON_MAX_STEPS", MAX_STEPS))
    if steps > limit:
        raise SpecError(f"{label}: initial_time={t0:g}, final_time={tf:g} and time_step={dt:g} make "
                        f"{steps:,} integration steps, more than the limit of {limit:,}; use a larger time_step "
                        "or a shorter run (or set CLUSTER_ECON_MAX_STEPS).")
    return steps


def check_memory(kernel: Any, names: Sequence[str], control: dict[str, float], scenarios: int,
                 chunk: int) -> int:
    """Refuse (SpecError) a run whose time steps or memory are out of reach; return the estimate in bytes.

    The estimate is the saved results (saved times x saved cells x scenarios) plus the working arrays
    of one chunk (every variable and stateful object of the kernel, a few copies, per scenario).
    """
    if kernel.dynamic_control:
        return 0
    t0, tf, dt, sp = (control[k] for k in ("initial_time", "final_time", "time_step", "saveper"))
    check_steps(kernel.name, t0, tf, dt)
    rows = max_saved(t0, tf, dt, sp)
    cells = sum(max(1, int(np.prod(kernel.shape_of(k), dtype=np.int64))) for k in names)
    work = sum(max(1, int(np.prod(kernel.shape_of(k), dtype=np.int64))) for k in kernel.variables)
    work += 4 * len(kernel.statefuls)
    estimate = 8 * (rows * cells * scenarios + 4 * work * chunk)
    available = available_memory()
    if estimate > available:
        raise SpecError(
            f"{kernel.name}: this run needs about {estimate / 2**30:,.1f} GiB ({rows:,} saved times x {cells:,} "
            f"saved cells x {scenarios:,} scenarios, plus working arrays of {chunk:,} scenarios at a time), more "
            f"than the {available / 2**30:,.1f} GiB available. Save less often (saveper), keep fewer outputs "
            "(outputs=...), run fewer scenarios at a time (chunk_size) or fewer scenarios per call.")
    return estimate
