"""``simulate_batch``: many scenarios of one model in one vectorised integration, checked and chunked.

The inputs are checked here as :func:`cluster_econ.simulate` checks its own (names, bounds, time
settings, memory); the integration itself is the engine's (:mod:`cluster_econ.sd.engine`), one chunk of
scenarios at a time (:func:`run_chunks`).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._calls import capture
from ..errors import SpecError, check_option
from ..provenance import Provenance
from ._executors import check_executor
from ._inputs import check_control, check_outputs, check_params, check_scenario_column, jsonable
from ._model import SDModel, _is_path_like, load_model
from .engine import CompiledModel, compile_model
from .engine._compiled import Method
from .engine._integrate import max_saved
from .engine._numerics import Errors, check_memory, merge, nonfinite, record, report

__all__ = ["batch_provenance", "default_chunk_size", "run_chunks", "simulate_batch"]

logger = logging.getLogger(__name__)

#: working memory aimed at by the default chunk size (bytes)
DEFAULT_CHUNK_BYTES = 256 * 2**20


def default_chunk_size(compiled: CompiledModel) -> int:
    """Scenarios per chunk so one chunk's working arrays stay near ``DEFAULT_CHUNK_BYTES``."""
    cells = sum(max(1, int(np.prod(compiled.shape_of(k), dtype=int))) for k in compiled.variables)
    cells += 4 * len(compiled.statefuls)
    return max(1, int(DEFAULT_CHUNK_BYTES // (8 * 4 * max(cells, 1))))


def bounds_of(model: SDModel) -> dict[str, tuple[float, float]]:
    """Declared bounds of a model's parameters (only those with a finite bound)."""
    out = {}
    for _, row in model.parameters.iterrows():
        lower, upper = float(row["lower"]), float(row["upper"])
        lower = -math.inf if math.isnan(lower) else lower
        upper = math.inf if math.isnan(upper) else upper
        if math.isfinite(lower) or math.isfinite(upper):
            out[str(row["name"])] = (lower, upper)
    return out


def _load(model: str | Path) -> SDModel:
    """A registered model by id, or a model file (the registered model when it is one's current file)."""
    if isinstance(model, str) and not _is_path_like(model):
        return load_model(model)
    from ._registry import find_entry, registered_ids

    path = Path(model).expanduser()
    loaded = load_model(path)
    for model_id in registered_ids():
        if find_entry(model_id).source.resolve() == loaded.path:
            registered = load_model(model_id)
            if registered.sha256 == loaded.sha256:
                return registered  # with the bounds its model.toml declares
    return loaded


def _model_of(compiled: CompiledModel) -> SDModel | None:
    """The SDModel a compiled model was compiled from, if its file is known and unchanged."""
    from ._registry import find_entry, registered_ids

    if compiled.path is None:
        return None
    path = Path(compiled.path).resolve()
    for model_id in registered_ids():
        if find_entry(model_id).source.resolve() == path:
            try:
                model = load_model(model_id)
            except Exception:  # a registered file edited since: only the compiled model's checks apply
                return None
            return model if model.sha256 == compiled.sha256 else None
    try:
        model = load_model(path)
    except Exception:  # the file is gone or changed: only the compiled model's own checks apply
        return None
    return model if model.sha256 == compiled.sha256 else None


def _defaults(model: SDModel | None, params: Any) -> dict[str, Any]:
    """``params`` (a mapping, or an object with ``to_params()``) as checked values for every scenario."""
    if params is None:
        return {}
    if hasattr(params, "to_params") and not isinstance(params, Mapping):
        params = params.to_params()
    if not isinstance(params, Mapping):
        raise SpecError(f"params must be a mapping of parameter name to value or an object with to_params(); got "
                        f"{type(params).__name__}.")
    return check_params(model, params) if model is not None else dict(params)


def _checked_scenarios(model: SDModel | None, compiled: CompiledModel, scenarios: pd.DataFrame,
                       defaults: Mapping[str, Any]) -> pd.DataFrame:
    """Columns renamed to Python names, checked as ``simulate`` checks ``params``; ``defaults`` added."""
    duplicated = scenarios.columns[scenarios.columns.duplicated()].unique().tolist()
    if duplicated:
        raise SpecError(f"scenarios has the column {duplicated[0]!r} more than once; keep one of them.")
    repeated = scenarios.index[scenarios.index.duplicated()].unique().tolist()
    if repeated:  # the index labels the result's scenario coordinate: a repeated label selects two scenarios
        raise SpecError(
            f"scenarios has the index label {repeated[0]!r} on more than one row; each row is a scenario and its "
            "label names it in the result. Give unique labels, e.g. `scenarios.reset_index(drop=True)`."
        )
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
    frame = pd.DataFrame(columns, index=scenarios.index)
    for name, value in defaults.items():
        if name not in frame.columns:
            frame[name] = pd.Series([value] * len(frame), index=frame.index,
                                    dtype=float if np.ndim(value) == 0 and not isinstance(value, pd.Series) else object)
    return frame


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


def _output_names(model: SDModel | None, compiled: CompiledModel, outputs: Any) -> list[str] | None:
    """Outputs by Python or Vensim name, as Python names, each once (unknown names are reported later)."""
    if outputs is None:
        return None
    if model is not None:
        return check_outputs(model, outputs)
    names = [outputs] if isinstance(outputs, str) else list(outputs)
    if not names:
        raise SpecError("outputs=[] selects nothing: give output names, or None for all variables.")
    by_vensim = {meta["vensim_name"]: k for k, meta in compiled.variables.items()}
    lowered = {**{v.lower(): k for v, k in by_vensim.items()}, **{k.lower(): k for k in compiled.variables}}
    resolved = [n if n in compiled.variables or not isinstance(n, str) else by_vensim.get(n, lowered.get(n.lower(), n))
                for n in names]
    return list(dict.fromkeys(resolved))


def run_chunks(kernel: CompiledModel, params: dict, n: int, names: list[str], control: dict, method: str,
               size: int, *, progress: bool = False, on_chunk: Callable[[int, int], None] | None = None,
               executor: Any = None) -> tuple[dict, np.ndarray, list[dict]]:
    """Integrate ``n`` scenarios in chunks of ``size``; results, saved times and non-finite records.

    Each chunk is one call of :meth:`CompiledModel.integrate` on its rows of ``params``, writing into
    its rows of the result arrays; its outputs are checked for non-finite values as it finishes.
    With an ``executor`` (see :mod:`cluster_econ.sd._executors`) the chunks run there
    (:func:`cluster_econ.sd._batch_tasks.run_on`), with the same result.
    """
    if executor is not None:
        from ._batch_tasks import run_on

        return run_on(executor, kernel, params, n, names, control, method, size, progress=progress)
    shapes = {k: kernel.shape_of(k) for k in names}
    rows_saved = max_saved(*(control[k] for k in ("initial_time", "final_time", "time_step", "saveper"))) \
        if not kernel.dynamic_control else 0
    data = {k: np.empty((n, rows_saved, *shapes[k])) for k in names} if rows_saved else {}
    starts: Any = range(0, n, size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"{kernel.name}: chunks of {size} scenarios")
    times = np.empty(0)
    issues = []
    for start in starts:
        rows = slice(start, min(start + size, n))
        chunk = {k: (v[0], v[1][:, rows]) if isinstance(v, tuple) else v[rows] for k, v in params.items()}
        out = {k: v[rows] for k, v in data.items()} if rows_saved else None  # dynamic control: copied below
        part, times = kernel.integrate(chunk, rows.stop - rows.start, names, control, method, out=out)
        if not data:  # dynamic control: the number of saved times is known only now
            data = {k: np.empty((n, *part[k].shape[1:])) for k in names}
        if out is None:  # otherwise the chunk wrote its rows of ``data`` itself
            for k in names:
                data[k][rows, : part[k].shape[1]] = part[k]
        issues.append(nonfinite(part, times, offset=start, undefined=kernel.undefined, inputs=kernel.constants))
        if on_chunk is not None:
            on_chunk(rows.start, rows.stop)
        logger.debug("%s: scenarios %d-%d done", kernel.name, rows.start, rows.stop - 1)
    return {k: v[:, : len(times)] for k, v in data.items()}, times, merge(issues)


def simulate_batch(model: Any, scenarios: pd.DataFrame, *, params: Any = None,
                   outputs: str | Sequence[str] | None = None, method: Method = "euler",
                   initial_time: float | None = None, final_time: float | None = None,
                   time_step: float | None = None, saveper: float | None = None, chunk_size: int | None = None,
                   errors: Errors = "warn", progress: bool = False, executor: Any = None) -> xr.Dataset:
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
        time (a time-series input). Constants not given keep the model's values (or ``params``).
        Every cell is checked as :func:`cluster_econ.simulate` checks ``params`` (finite, within
        the declared bounds; for a file or a compiled model, those of the model file).
    params : mapping or object with ``to_params()``, optional
        Values for every scenario (e.g. a calibration result), under the scenario columns.
    outputs : str or sequence of str, optional
        Variables to keep (PySD Python names or Vensim names), each once. Default: every variable not
        set by ``scenarios``. Only these, and what they and the stocks need, are computed and stored.
    method : {"euler", "rk4"}, default "euler"
        Euler repeats PySD's order of evaluation and agrees with PySD to round-off, not bit for
        bit (see :mod:`cluster_econ.sd.engine`); "rk4" is classical fourth-order Runge-Kutta.
    initial_time, final_time, time_step, saveper : float, optional
        Simulation control, as in :func:`cluster_econ.simulate`; None keeps the model's own value.
    chunk_size : int, optional
        Scenarios integrated together; working memory is bounded by it, not by the number of
        scenarios. Default: sized for about 256 MiB of working arrays.
    errors : {"warn", "raise"}, default "warn"
        What non-finite outputs give: a :class:`~cluster_econ.errors.NumericalWarning`, or a
        :class:`~cluster_econ.errors.SimulationError`. They are recorded in
        ``attrs["numerical_issues"]`` either way.
    progress : bool, default False
        Show a progress bar over chunks.
    executor : None, "processes", "dask" or dask.distributed.Client
        Where the chunks run: in this process (None), a process pool with one process per core, a
        Dask ``LocalCluster`` started for the call (``"dask"``), or any Dask cluster through its client.
        The compiled kernel goes to each worker once; the result is the same, bit for bit. Dask needs
        ``pip install 'cluster-econ[dask]'``; ``"processes"`` needs the ``if __name__ == "__main__":``
        guard in a script.

    Returns
    -------
    xarray.Dataset
        Dims ``(scenario, time[, subscripts...])``, one data variable per output (with ``units``,
        ``description`` and ``vensim_name`` attrs); the scenario frame's scalar columns are
        coordinates on ``scenario`` (named ``scenario_<name>`` when the same constant is also an
        output). ``attrs["provenance"]`` holds the provenance record as JSON
        (:func:`batch_provenance` and :func:`cluster_econ.cite` read it).

    Raises
    ------
    UnsupportedConstructError
        If the model uses a construct the engine does not implement.
    UnknownNameError
        If a column or output is not a constant or variable of the model.
    SpecError
        If a value is outside its declared bounds or malformed (naming scenario, parameter, value
        and bounds), a column is given twice, the run would exceed the memory available, or the
        executor is not valid (or needs the distributed package, not installed).
    SimulationError
        With ``errors="raise"``, if an output is not finite.

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
    check_option(method, Method, "method")
    check_option(errors, Errors, "errors")
    check_executor(executor)
    if not isinstance(scenarios, pd.DataFrame):
        raise SpecError(f"scenarios must be a pandas DataFrame (one row per scenario), got "
                        f"{type(scenarios).__name__}.")
    if len(scenarios) == 0:
        raise SpecError("scenarios has no rows; give at least one scenario.")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer)
                                   or chunk_size < 1):
        raise SpecError(f"chunk_size={chunk_size!r} is not valid; give a positive integer or None.")
    if isinstance(model, str | Path):  # a registered id, or a file checked against what it declares
        model = _load(model)
    if isinstance(model, CompiledModel):
        compiled, source = model, _model_of(model)
    else:
        compiled, source = compile_model(model), model
    if source is not None:
        control_given = check_control(source, initial_time, final_time, time_step, saveper)
    else:
        control_given = {"initial_time": initial_time, "final_time": final_time, "time_step": time_step,
                         "saveper": saveper}
    defaults = _defaults(source, params)
    varied = [str(c) for c in scenarios.columns]
    scenarios = _checked_scenarios(source, compiled, scenarios, defaults)
    wanted = _output_names(source, compiled, outputs)
    values, timeseries = compiled.prepare(scenarios, bounds_of(source) if source is not None else None)
    kernel = compiled.variant(timeseries)
    names = kernel.output_names(wanted, scenarios)
    control = kernel.control_values(**control_given)
    n = len(scenarios)
    size = min(n, int(chunk_size) if chunk_size is not None else default_chunk_size(kernel))
    check_memory(kernel, names, control, n, size)
    logger.info("%s: %d scenarios in chunks of %d", kernel.name, n, size)
    data, times, issues = run_chunks(kernel, values, n, names, control, method, size, progress=progress,
                                     executor=executor)
    report(issues, scenarios, errors, kernel.name)
    result = kernel.dataset(data, times, names, scenarios)
    record(result, issues, scenarios)
    version = getattr(source, "version", None)
    model_ref = (source.id if getattr(source, "registered", False) else str(compiled.path)) if source else compiled.name
    provenance = Provenance.capture(
        model_id=str(getattr(source, "id", compiled.name)), model_version=version, model_sha256=compiled.sha256,
        changed_parameters={**{k: jsonable(v) for k, v in defaults.items()},
                            **{c: "varied by scenario" for c in varied}},
        details={"engine": "batch", "method": method, "scenarios": n, "chunk_size": size,
                 "saveper": float(times[1] - times[0]) if len(times) > 1 else None,
                 "numerical_issues": json.loads(result.attrs["numerical_issues"])},
    )
    result.attrs.update({
        "model_id": provenance.model_id, "model_version": version or "", "model_sha256": compiled.sha256,
        "engine": "batch", "method": method, "provenance": json.dumps(provenance.to_dict(), default=str),
    })
    return call.attach(result)


def batch_provenance(batch: xr.Dataset) -> Provenance:
    """The :class:`~cluster_econ.provenance.Provenance` of a :func:`simulate_batch` result.

    The record travels in ``batch.attrs["provenance"]`` as JSON, so it survives writing the Dataset to
    netCDF or Zarr; this reads it back. :func:`cluster_econ.cite` accepts the Dataset directly.
    """
    text = getattr(batch, "attrs", {}).get("provenance")
    if not isinstance(text, str):
        raise SpecError("This Dataset carries no provenance record (attrs['provenance']); give a result of "
                        "simulate_batch.")
    return Provenance.from_json(text)
