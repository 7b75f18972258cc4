"""``simulate_batch``: many scenarios of one model in one vectorised integration."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, get_args

import numpy as np
import pandas as pd
import xarray as xr

from cluster_econ._calls import capture
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


def _column_name(compiled: CompiledModel, column: Any) -> Any:
    """The Python name of a constant given by its Python or Vensim name (as PySD, ignoring case)."""
    if column in compiled.constants or not isinstance(column, str):
        return column
    by_vensim = {compiled.variables[k]["vensim_name"]: k for k in compiled.constants if k in compiled.variables}
    if column in by_vensim:
        return by_vensim[column]
    lower = column.lower()
    for vensim, py in by_vensim.items():
        if lower in (vensim.lower(), py.lower()):
            return py
    return column  # unknown: reported with a did-you-mean suggestion when the scenarios are read


def _checked_scenarios(model: Any, compiled: CompiledModel | None, scenarios: pd.DataFrame) -> pd.DataFrame:
    """Columns renamed to Python names and, for an SDModel, checked as ``simulate`` checks ``params``."""
    from cluster_econ.sd._inputs import check_scenario_column

    columns: dict[Any, Any] = {}
    given: dict[Any, Any] = {}
    for column in scenarios.columns:
        if model is not None:
            name = model.resolve(column, what="parameter", kinds=("constant", "lookup", "data"))
        else:
            name = _column_name(compiled, column)
        if name in given:
            raise SpecError(f"Parameter {name!r} is given twice in scenarios (as columns {given[name]!r} and "
                            f"{column!r}); keep one of them.")
        given[name] = column
        cells = scenarios[column]
        checked = check_scenario_column(model, name, cells) if model is not None else cells
        columns[name] = checked.to_numpy()
    return pd.DataFrame(columns, index=scenarios.index)


def _output_names(compiled: CompiledModel, outputs: Sequence[str] | None) -> list[str] | None:
    """Outputs given by Python or Vensim name, as Python names (unknown names are reported later)."""
    if outputs is None:
        return None
    names = [outputs] if isinstance(outputs, str) else list(outputs)
    by_vensim = {meta["vensim_name"]: k for k, meta in compiled.variables.items()}
    lowered = {**{v.lower(): k for v, k in by_vensim.items()}, **{k.lower(): k for k in compiled.variables}}
    return [n if n in compiled.variables or not isinstance(n, str) else by_vensim.get(n, lowered.get(n.lower(), n))
            for n in names]


def simulate_batch(model: Any, scenarios: pd.DataFrame, *, outputs: Sequence[str] | None = None,
                   method: Method = "euler", saveper: float | None = None, chunk_size: int | None = None,
                   progress: bool = False) -> xr.Dataset:
    """Simulate many scenarios of a model at once with the vectorised batch engine.

    Parameters
    ----------
    model : SDModel or str or pathlib.Path or CompiledModel
        The model (see :func:`cluster_econ.load_model`), a registered model id, a model file, or a
        compiled model.
    scenarios : pandas.DataFrame
        One row per scenario, one column per constant, named by PySD Python name or Vensim name.
        Cells of a subscripted constant may hold numbers, arrays of the subscript shape or
        ``xarray.DataArray``; cells of a scalar constant may hold a ``pandas.Series`` indexed by
        time (a time-series input). Constants not given keep the model's values. For a loaded or
        registered model, every cell is checked as :func:`cluster_econ.simulate` checks ``params``
        (finite, within the declared bounds).
    outputs : sequence of str, optional
        Variables to keep (PySD Python names or Vensim names). Default: every variable not set by ``scenarios``.
        Keeping few outputs keeps memory small: only these are stored, at ``saveper``.
    method : {"euler", "rk4"}, default "euler"
        Euler repeats PySD's order of evaluation and agrees with PySD to round-off, not bit for
        bit (see :mod:`cluster_econ.sd.engine`); "rk4" is classical fourth-order Runge-Kutta.
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
    SpecError
        If a value is outside its declared bounds or malformed (naming scenario, parameter, value
        and bounds).

    Examples
    --------
    >>> import pandas as pd
    >>> import cluster_econ as ce
    >>> scenarios = pd.DataFrame({"sme_support": [0.0, 0.25, 0.5]})  # one row per scenario
    >>> batch = ce.simulate_batch(ce.load_model("sme_growth"), scenarios, outputs=["sme_employment"])
    >>> batch.sizes["scenario"], "sme_employment" in batch
    (3, True)
    """
    call = capture("simulate_batch", locals())
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
    from cluster_econ.sd._model import SDModel, _is_path_like, load_model

    if isinstance(model, str) and not _is_path_like(model):  # a registered model id
        model = load_model(model)
    if isinstance(model, SDModel):  # checked before compiling, as simulate() checks params
        scenarios = _checked_scenarios(model, None, scenarios)
    compiled = model if isinstance(model, CompiledModel) else compile_model(model)
    if not isinstance(model, SDModel):
        scenarios = _checked_scenarios(None, compiled, scenarios)
    outputs = _output_names(compiled, outputs)
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
    return call.attach(result)
