"""simulate(): run a system-dynamics model once, with PySD or the batch engine, from a clean state."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._calls import capture
from ..errors import SimulationError, SpecError, UnsupportedConstructError
from ..provenance import Provenance
from ..typing import Engine, Method
from ._inputs import REGION, check_control, check_option, check_outputs, check_params, check_regions, jsonable
from ._model import SDModel, load_model
from ._run import Run
from .engine._integrate import max_saved
from .engine._numerics import Errors, available_memory, check_steps, nonfinite, record, report

__all__ = ["Engine", "Method", "simulate"]

logger = logging.getLogger(__name__)


def _compiled(model: SDModel) -> Any:
    """The batch engine's compiled model (the engine caches it, in memory then on disk; the parameter
    values are checked against the model's bounds by ``check_params``, not by the shared kernel)."""
    from .engine import compile_model

    return compile_model(model)


def _choose_engine(model: SDModel, engine: str, method: str, params: Mapping[str, Any]) -> Any:
    """The compiled batch model to use, or None for PySD."""
    if engine == "pysd":
        if method != "euler":
            raise SpecError(f"method={method!r} is not available with engine='pysd': PySD integrates with "
                            f"Euler only. Use method='euler', or engine='batch' for RK4.")
        return None
    kinds = dict(zip(model._variables["name"], model._variables["kind"], strict=True))
    replaced = sorted(name for name in params if kinds.get(name) in ("lookup", "data"))
    if engine == "auto" and replaced and method == "euler":
        logger.debug("new values for lookups/data %s: running %s with PySD", replaced, model.label)
        return None
    try:
        return _compiled(model)
    except ImportError as exc:
        if engine == "batch" or method != "euler":
            raise SpecError(f"The batch engine (cluster_econ.sd.engine.compile_model) is not available: "
                            f"{exc}. Use engine='pysd' with method='euler'.") from exc
        logger.debug("batch engine not available (%s); running %s with PySD", exc, model.label)
    except UnsupportedConstructError as exc:
        if engine == "batch" or method != "euler":
            raise
        logger.info("batch engine does not support %s (%s); running it with PySD", model.label, exc)
    return None


def _check_limits(model: SDModel, control: Mapping[str, float | None], outputs: list[str] | None) -> None:
    """Refuse, before PySD builds its time grid, a run whose steps or saved values are out of reach."""
    given = {k: (v if v is not None else model.control.get(k, np.nan)) for k, v in control.items()}
    t0, tf, dt = (float(given[k]) for k in ("initial_time", "final_time", "time_step"))
    sp = float(given["saveper"]) if np.isfinite(float(given["saveper"])) else dt
    if not all(np.isfinite([t0, tf, dt])) or dt <= 0 or sp <= 0:
        return  # control variables that change in time: PySD checks them itself
    steps = check_steps(model.label, t0, tf, dt)
    subs = model.subscripts
    table = model._variables.set_index("name")
    names = outputs if outputs else list(table.index)
    cells = sum(int(np.prod([len(subs.get(d, [1])) for d in table.loc[n, "subscripts"]], dtype=np.int64))
                for n in names if n in table.index)
    rows = max_saved(t0, tf, dt, sp)
    estimate = 8 * (rows * max(cells, 1) * 3 + steps)  # PySD keeps a frame of objects and copies it
    available = available_memory()
    if estimate > available:
        raise SpecError(f"{model.label}: this run needs about {estimate / 2**30:,.1f} GiB ({rows:,} saved times x "
                        f"{cells:,} saved cells), more than the {available / 2**30:,.1f} GiB available. Save less "
                        "often (saveper) or keep fewer outputs (outputs=...).")


def _dataset_from_pysd(frame: pd.DataFrame, namespace: Mapping[str, str],
                       model: SDModel) -> tuple[xr.Dataset, dict[str, dict[str, list[Any]]]]:
    time = np.asarray(frame.index, dtype=float)
    meta = model._variables.set_index("name")
    subs = model.subscripts
    data_vars: dict[str, xr.DataArray] = {}
    for column in frame.columns:
        name = namespace.get(column, column)
        values = frame[column].to_list()
        first = values[0]
        if isinstance(first, xr.DataArray):
            dims = tuple(map(str, first.dims))
            array = np.stack([np.asarray(v.transpose(*dims).values, dtype=float) for v in values])
            coords = {d: list(first[d].values) for d in dims}
        else:
            array = np.asarray(values, dtype=float)
            dims = tuple(meta.loc[name, "subscripts"]) if name in meta.index else ()
            if dims and all(len(subs.get(d, ())) == 1 for d in dims):
                coords = {d: subs[d] for d in dims}
                array = array.reshape(array.shape[0], *([1] * len(dims)))
            else:
                dims, coords = (), {}
        attrs = {"units": "", "description": "", "vensim_name": str(column)}
        if name in meta.index:
            attrs.update(units=meta.loc[name, "unit"], description=meta.loc[name, "description"],
                         vensim_name=meta.loc[name, "vensim_name"])
        data_vars[name] = xr.DataArray(array, dims=("time", *dims), coords={"time": time, **coords},
                                       attrs=attrs)
    data = xr.Dataset(data_vars)  # outer join: a variable on part of a range gets NaN elsewhere
    elements = {
        name: {str(d): da[d].values.tolist() for d in da.dims if d != "time"}
        for name, da in data_vars.items()
        if any(da.sizes[d] != data.sizes[d] for d in da.dims)
    }
    return data, elements


def _run_pysd(model: SDModel, params: Mapping[str, Any], control: Mapping[str, float | None],
              outputs: list[str] | None) -> tuple[xr.Dataset, dict[str, dict[str, list[Any]]]]:
    # a fresh model, so nothing set by earlier runs survives; initialised on load as pysd.load does, so
    # the hard-coded lookups are loaded before params replace them (run() would reload them otherwise)
    pysd_model = model.pysd()
    vensim = dict(zip(model._variables["name"], model._variables["vensim_name"], strict=True))
    start = control["initial_time"]
    if start is not None:
        # PySD's initial_condition=(time, {}) moves the clock after the stocks are initialised, so
        # initial values that use INITIAL TIME would keep the file's value; replace the control
        # variable itself on this fresh model instead, as changing INITIAL TIME in Vensim does
        pysd_model.components._control_vars["initial_time"] = lambda: start
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Replacing a constant value with a time-dependent value")
        # PySD 3.14 still calls DataFrame.set_index(inplace=True), deprecated in pandas 3.1
        warnings.filterwarnings("ignore", message="The inplace keyword", module="pysd")
        try:
            frame = pysd_model.run(
                params=dict(params) or None,
                return_columns=[vensim[name] for name in outputs] if outputs else None,
                final_time=control["final_time"], time_step=control["time_step"], saveper=control["saveper"],
                flatten_output=False,
            )
        except (ZeroDivisionError, OverflowError, FloatingPointError) as exc:  # PySD's scalar arithmetic
            changed = ", ".join(f"{k}={jsonable(v)!r}" for k, v in params.items()) or "the model's own values"
            raise SimulationError(f"PySD stopped running {model.label} with {changed}: {type(exc).__name__}: "
                                  f"{exc}. Check the parameter values (bounds, divisions by zero).") from exc
    return _dataset_from_pysd(frame, pysd_model.namespace, model)


def _scenario_frame(params: Mapping[str, Any]) -> pd.DataFrame:
    if not params:
        return pd.DataFrame(index=pd.RangeIndex(1))
    columns = {}
    for name, value in params.items():
        array_like = isinstance(value, xr.DataArray | pd.Series)
        columns[name] = pd.Series([value], dtype=object if array_like else float)
    return pd.DataFrame(columns)


def _run_batch(model: SDModel, compiled: Any, params: Mapping[str, Any], control: Mapping[str, float | None],
               outputs: list[str] | None, method: str, errors: str) -> xr.Dataset:
    data = compiled.run(_scenario_frame(params), outputs=outputs, method=method, errors=errors, **control)
    data = data.isel(scenario=0, drop=True)
    scalar = [name for name, coord in data.coords.items() if coord.ndim == 0]
    data = data.drop_vars(scalar)
    data.attrs = {"numerical_issues": data.attrs.get("numerical_issues", "[]")}
    # variables in the order PySD returns them: the requested order, else the model's own order
    order = outputs if outputs else [name for name in model._variables["name"] if name in data.data_vars]
    rest = [name for name in data.data_vars if name not in order]
    return data[[*order, *rest]]


def simulate(model: SDModel | str | Path, *, params: Mapping[str, Any] | None = None,
             initial_time: float | None = None, final_time: float | None = None,
             time_step: float | None = None, saveper: float | None = None,
             regions: str | Sequence[str] | None = None, outputs: str | Sequence[str] | None = None,
             engine: Engine = "auto", method: Method = "euler", errors: Errors = "warn") -> Run:
    """Simulate a system-dynamics model once, from a clean state.

    Every call starts from the model file's own values plus ``params``: two identical calls give
    identical results, whatever ran in between.

    Parameters
    ----------
    model : SDModel, str or Path
        A loaded model, a registered model id, or a path to a ``.mdl`` / ``.xmile`` file.
    params : mapping, optional
        Parameter name (PySD Python name or Vensim name) -> value: a number, a pandas Series indexed
        by time (interpolated linearly), or for a subscripted parameter an array of its subscript
        shape or an ``xarray.DataArray``. Values are checked against declared bounds.
    initial_time, final_time, time_step, saveper : float, optional
        Simulation control; None keeps the model's own value.
    regions : str or sequence of str, optional
        Keep only these elements of the ``Region`` subscript range in the result (the model still
        runs every region; other ranges, such as an equivalent ``Partner`` range, are kept whole).
    outputs : str or sequence of str, optional
        Variables to return (Python or Vensim names); None returns every variable PySD returns.
    engine : {"auto", "batch", "pysd"}, default "auto"
        "batch" uses the vectorised engine (``cluster_econ.sd.engine``), "pysd" PySD; "auto" uses
        the batch engine when it supports the model and PySD otherwise.
    method : {"euler", "rk4"}, default "euler"
        Integration method; PySD offers Euler only, so "rk4" needs the batch engine.
    errors : {"warn", "raise"}, default "warn"
        What non-finite outputs (NaN, inf) give, with either engine: a
        :class:`~cluster_econ.errors.NumericalWarning` naming the variable and the first time, or a
        :class:`~cluster_econ.errors.SimulationError`. Recorded in ``provenance.details`` either way.

    Returns
    -------
    Run

    Raises
    ------
    UnknownNameError
        Unknown parameter, output or region name (with a did-you-mean suggestion).
    SpecError
        Values outside declared bounds, malformed inputs, invalid options, ``regions=`` for a model
        without a ``Region`` subscript, or time settings whose steps or saved values would not fit in
        memory (the message gives the estimate and the fix).
    SimulationError
        With ``errors="raise"``, if an output is not finite.

    Examples
    --------
    >>> import cluster_econ as ce
    >>> run = ce.simulate("regional_cluster", params={"public_investment_share": 0.02},
    ...                   final_time=2000)  # doctest: +SKIP
    >>> run.data["sme_employment"].sel(time=2000)  # doctest: +SKIP
    """
    call = capture("simulate", locals())
    check_option(engine, Engine, "engine")
    check_option(method, Method, "method")
    check_option(errors, Errors, "errors")
    if not isinstance(model, SDModel):
        model = load_model(model)
    if params is not None and not isinstance(params, Mapping) and hasattr(params, "to_params"):
        params = params.to_params()  # a calibration result or parameter estimates
    control = check_control(model, initial_time, final_time, time_step, saveper)
    values = check_params(model, params)
    wanted = check_outputs(model, outputs)
    chosen_regions = check_regions(model, regions)
    compiled = _choose_engine(model, engine, method, values)
    if compiled is not None:
        try:
            elements: dict[str, dict[str, list[Any]]] = {}
            data, used = _run_batch(model, compiled, values, control, wanted, method, errors), "batch"
        except UnsupportedConstructError as exc:  # e.g. a time-series input the kernel cannot take
            if engine == "batch" or method != "euler":
                raise
            logger.info("batch engine cannot run this call of %s (%s); running it with PySD", model.label, exc)
            compiled = None
    if compiled is None:
        _check_limits(model, control, wanted)
        data, elements = _run_pysd(model, values, control, wanted)
        own = {k: data[k].sel({d: v for d, v in elements[k].items()}) if k in elements else data[k]
               for k in map(str, data.data_vars)}  # a variable on part of a range is NaN elsewhere by construction
        issues = nonfinite({k: np.asarray(v.transpose("time", ...).values)[None] for k, v in own.items()},
                           np.asarray(data["time"].values),
                           inputs=set(model._variables["name"][model._variables["kind"].isin(["constant", "lookup",
                                                                                                "data"])]))
        report(issues, _scenario_frame(values), errors, model.label)
        record(data, issues, _scenario_frame(values))
        used = "pysd"
    if chosen_regions is not None:
        data = data.sel({REGION: chosen_regions})
    settings = {name: (given if given is not None else model.control[name]) for name, given in control.items()}
    times = np.asarray(data["time"].values, dtype=float)
    if control["saveper"] is None and times.size > 1:  # the model's SAVEPER may follow TIME STEP
        settings["saveper"] = float(times[1] - times[0])
    details = {"engine": used, "method": method, **settings, "regions": chosen_regions, "outputs": wanted,
               "numerical_issues": json.loads(data.attrs.pop("numerical_issues", "[]"))}
    provenance = Provenance.capture(
        model_id=model.id, model_version=model.version, model_sha256=model.sha256,
        changed_parameters={name: jsonable(value) for name, value in values.items()}, details=details,
    )
    return call.attach(Run(data=data, model=model, provenance=provenance, _elements=elements))
