"""The chunks of a ``simulate_batch`` run on an executor (a process pool or a Dask cluster).

The compiled kernel and the run settings travel to every worker once (see
:mod:`cluster_econ.sd._executors`); a task carries only its chunk's rows of the prepared inputs, and
returns the chunk's saved values, saved times and non-finite records. The parent writes each chunk
into its rows of the result as it arrives, so the result has the same bytes as the in-process loop.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ._executors import run_tasks
from .engine._integrate import max_saved
from .engine._numerics import merge, nonfinite

__all__ = ["integrate_chunk", "run_on"]

logger = logging.getLogger(__name__)


def integrate_chunk(shared: tuple, task: tuple) -> tuple[dict[str, np.ndarray], np.ndarray, list[dict]]:
    """One chunk on a worker: ``shared = (kernel, names, control, method)``, ``task = (start, params, m)``."""
    kernel, names, control, method = shared
    start, params, m = task
    part, times = kernel.integrate(params, m, names, control, method)
    part = {k: np.ascontiguousarray(v[:, : len(times)]) for k, v in part.items()}
    return part, times, nonfinite(part, times, offset=start, undefined=kernel.undefined, inputs=kernel.constants)


def run_on(executor: Any, kernel: Any, params: dict, n: int, names: list[str], control: dict, method: str,
           size: int, *, progress: bool = False) -> tuple[dict, np.ndarray, list[dict]]:
    """As :func:`cluster_econ.sd._batch.run_chunks`, the chunks evaluated on ``executor``."""
    starts = list(range(0, n, size))
    rows = [slice(a, min(a + size, n)) for a in starts]
    tasks = [(r.start, {k: (v[0], v[1][:, r]) if isinstance(v, tuple) else v[r] for k, v in params.items()},
              r.stop - r.start) for r in rows]
    labels = [f"chunk {i} (scenarios {r.start}-{r.stop - 1})" for i, r in enumerate(rows)]
    fixed = not kernel.dynamic_control
    saved = max_saved(*(control[k] for k in ("initial_time", "final_time", "time_step", "saveper"))) if fixed else 0
    shapes = {k: kernel.shape_of(k) for k in names}
    data = {k: np.empty((n, saved, *shapes[k])) for k in names} if fixed else {}
    held: dict[int, dict[str, np.ndarray]] = {}  # dynamic control: chunks kept until all are in
    times_of: dict[int, np.ndarray] = {}
    issues: dict[int, list[dict]] = {}
    bar: Any = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc=f"{kernel.name}: chunks of {size} scenarios")
    try:
        for i, (part, times, found) in run_tasks(integrate_chunk, (kernel, names, control, method), tasks,
                                                 executor=executor, labels=labels):
            times_of[i], issues[i] = times, found
            if fixed:
                for k in names:
                    data[k][rows[i], : part[k].shape[1]] = part[k]
            else:
                held[i] = part
            logger.debug("%s: scenarios %d-%d done", kernel.name, rows[i].start, rows[i].stop - 1)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    if not fixed:  # as the in-process loop: arrays shaped by the first chunk, cut to the last one's times
        data = {k: np.empty((n, *held[0][k].shape[1:])) for k in names}
        for i, part in held.items():
            for k in names:
                data[k][rows[i], : part[k].shape[1]] = part[k]
    times = times_of[len(tasks) - 1]
    return {k: v[:, : len(times)] for k, v in data.items()}, times, merge(issues[i] for i in range(len(tasks)))
