"""``simulate_batch``: many scenarios of one model in one vectorised integration."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, get_args

import numpy as np
import pandas as pd
import xarray as xr

from cluster_econ.errors import SpecError
from cluster_econ.provenance import Provenance

from ._api import compile_model
from ._compiled import CompiledModel, Method

logger = logging.getLogger(__name__)

#: working memory aimed at by the default chunk size (bytes)
DEFAULT_CHUNK_BYTES = 256 * 2**20


def default_chunk_size(compiled: CompiledModel) -> int:
    """Scenarios per chunk so one chunk's working arrays stay near ``DEFAULT_CHUNK_BYTES``."""
    cells = sum(max(1, int(np.prod(compiled.shape_of(k), dtype=int))) for k in compiled.variables)
    cells += 4 * len(compiled.statefuls)
    return max(1, int(DEFAULT_CHUNK_BYTES // (8 * 4 * max(cells, 1))))


def simulate_batch(model: Any, scenarios: pd.DataFrame, *, outputs: Sequence[str] | None = None,
                   method: Method = "euler", saveper: float | None = None, chunk_size: int | None = None,
                   progress: bool = False) -> xr.Dataset:
    """Simulate many scenarios of a model at once with the vectorised batch engine.

    Parameters
    ----------
    model : SDModel or str or pathlib.Path or CompiledModel
        The model (see :func:`cluster_econ.load_model`), a model file, or a compiled model.
    scenarios : pandas.DataFrame
        One row per scenario, one column per constant, named by PySD Python name. Cells of a
        subscripted constant may hold numbers, arrays of the subscript shape or
        ``xarray.DataArray``; cells of a scalar constant may hold a ``pandas.Series`` indexed by
        time (a time-series input). Constants not given keep the model's values.
    outputs : sequence of str, optional
        Variables to keep (PySD Python names). Default: every variable not set by ``scenarios``.
        Keeping few outputs keeps memory small: only these are stored, at ``saveper``.
    method : {"euler", "rk4"}, default "euler"
        Euler repeats PySD's computation exactly; "rk4" is classical fourth-order Runge-Kutta.
    saveper : float, optional
        Saving interval (default: the model's SAVEPER).
    chunk_size : int, optional
        Scenarios integrated together; working memory is bounded by it, not by the number of
        scenarios. Default: sized for about 256 MiB of working arrays.
    progress : bool, default False
        Show a progress bar over chunks.

    Returns
    -------
    xarray.Dataset
        Dims ``(scenario, time[, subscripts...])``, one data variable per output (with ``units``,
        ``description`` and ``vensim_name`` attrs); the scenario frame's scalar columns are
        coordinates on ``scenario`` (named ``scenario_<name>`` when the same constant is also an
        output).

    Raises
    ------
    UnsupportedConstructError
        If the model uses a construct the engine does not implement.
    UnknownNameError
        If a column or output is not a constant or variable of the model.

    Examples
    --------
    >>> import pandas as pd
    >>> import cluster_econ as ce
    >>> scen = pd.DataFrame({"contact_infectivity": [0.2, 0.3, 0.4]})  # doctest: +SKIP
    >>> ce.simulate_batch("SIR.mdl", scen, outputs=["infectious"])      # doctest: +SKIP
    """
    if method not in get_args(Method):
        raise SpecError(f"method={method!r} is not valid; use one of {list(get_args(Method))}.")
    if not isinstance(scenarios, pd.DataFrame):
        raise SpecError(f"scenarios must be a pandas DataFrame (one row per scenario), got "
                        f"{type(scenarios).__name__}.")
    if len(scenarios) == 0:
        raise SpecError("scenarios has no rows; give at least one scenario.")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer)
                                   or chunk_size < 1):
        raise SpecError(f"chunk_size={chunk_size!r} is not valid; give a positive integer or None.")
    compiled = model if isinstance(model, CompiledModel) else compile_model(model)
    size = int(chunk_size) if chunk_size is not None else default_chunk_size(compiled)
    logger.info("%s: %d scenarios in chunks of %d", compiled.name, len(scenarios), size)
    result = compiled._run(scenarios, control=(None, None, None, saveper), outputs=outputs, method=method,
                           chunk_size=size, progress=progress)
    version = getattr(model, "version", None)
    provenance = Provenance.capture(
        model_id=str(getattr(model, "id", compiled.name)), model_version=version, model_sha256=compiled.sha256,
        changed_parameters={str(c): "varied by scenario" for c in scenarios.columns},
        details={"engine": "batch", "method": method, "scenarios": len(scenarios), "chunk_size": size,
                 "saveper": float(result["time"].values[1] - result["time"].values[0])
                 if result.sizes["time"] > 1 else None},
    )
    result.attrs.update({
        "model_id": provenance.model_id, "model_version": version or "", "model_sha256": compiled.sha256,
        "engine": "batch", "method": method, "provenance": json.dumps(provenance.to_dict(), default=str),
    })
    return result
