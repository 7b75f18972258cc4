"""Checks of simulate()'s inputs: options, time settings, parameter values and bounds, names."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import SpecError, check_option, unknown_name
from ._model import CONTROL_VARIABLES, SDModel

__all__ = ["REGION", "check_control", "check_option", "check_outputs", "check_params", "check_regions",
           "check_scenario_column", "jsonable"]

#: The name of the subscript range ``regions=`` selects from.
REGION = "Region"

_SETTABLE = ("constant", "lookup", "data")


def check_time(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise SpecError(f"{name}={value!r} is not valid: give a finite number (model time units).")
    return float(value)


def check_control(model: SDModel, initial_time: Any, final_time: Any, time_step: Any,
                   saveper: Any) -> dict[str, float | None]:
    given = {"initial_time": check_time("initial_time", initial_time),
             "final_time": check_time("final_time", final_time),
             "time_step": check_time("time_step", time_step),
             "saveper": check_time("saveper", saveper)}
    for name in ("time_step", "saveper"):
        value = given[name]
        if value is not None and value <= 0:
            raise SpecError(f"{name}={value!r} is not valid: it must be positive.")
    start = given["initial_time"] if given["initial_time"] is not None else model.control["initial_time"]
    end = given["final_time"] if given["final_time"] is not None else model.control["final_time"]
    if end <= start:
        raise SpecError(f"final_time={end!r} is not after initial_time={start!r} for {model.label}: "
                        f"give a final_time later than the initial time.")
    return given


def _bounds(model: SDModel, name: str) -> tuple[float, float, str]:
    table = model._parameters
    rows = table[table["name"] == name]
    if rows.empty:
        return -np.inf, np.inf, ""
    lower, upper = float(rows["lower"].iloc[0]), float(rows["upper"].iloc[0])
    lower = -np.inf if math.isnan(lower) else lower
    upper = np.inf if math.isnan(upper) else upper
    return lower, upper, str(rows["unit"].iloc[0])


def _as_array(model: SDModel, name: str, value: Any) -> xr.DataArray:
    dims = model._variables.loc[model._variables["name"] == name, "subscripts"].iloc[0]
    subs = model.subscripts
    if not dims:
        raise SpecError(f"Parameter {name!r} of {model.label} is not subscripted: give a number or a "
                        f"pandas Series indexed by time, not {type(value).__name__}.")
    coords = {d: subs[d] for d in dims}
    shape = tuple(len(c) for c in coords.values())
    array = np.asarray(value, dtype=float)
    if array.shape != shape:
        raise SpecError(f"Parameter {name!r} of {model.label} has subscripts {list(dims)} of shape {shape}; "
                        f"the array given has shape {array.shape}. Give an array of shape {shape} or an "
                        f"xarray.DataArray with dims {list(dims)}.")
    return xr.DataArray(array.copy(), dims=list(dims), coords=coords)


def _time_series(name: str, value: pd.Series) -> pd.Series:
    """A time-series parameter as floats on a strictly increasing float time index."""
    try:
        index = np.asarray(value.index, dtype=float)
        data = np.asarray(value.to_numpy(), dtype=float)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"Time series for parameter {name!r} must have a numeric time index and "
                        f"numeric values: {exc}.") from exc
    if index.size == 0 or np.any(np.diff(index) <= 0) or not np.all(np.isfinite(index)):
        raise SpecError(f"Time series for parameter {name!r} must have a finite, strictly increasing "
                        f"time index with at least one entry; sort it and drop duplicate times.")
    return pd.Series(data, index=pd.Index(index, name="time"), name=name)


def _coerce(model: SDModel, name: str, value: Any) -> Any:
    """A copy of ``value`` in a form PySD and the batch engine accept, checked for finiteness."""
    if isinstance(value, bool):
        raise SpecError(f"Parameter {name!r} of {model.label} got a bool ({value!r}); give a number.")
    if value is None or value is pd.NA or value is pd.NaT:
        raise SpecError(f"Parameter {name!r} of {model.label} got a missing value ({value!r}); give a number "
                        "(a nullable column's NA, in a scenario frame, means the scenario lacks this value).")
    if isinstance(value, numbers.Real):
        out: Any = float(value)
        values = np.array([out])
    elif isinstance(value, pd.Series):
        out = _time_series(name, value)
        values = out.to_numpy()
    elif isinstance(value, xr.DataArray):
        dims = set(model._variables.loc[model._variables["name"] == name, "subscripts"].iloc[0])
        if not set(map(str, value.dims)) <= dims:
            raise SpecError(f"Parameter {name!r} of {model.label} has subscripts {sorted(dims)}; the "
                            f"DataArray given has dims {list(value.dims)}.")
        out = value.astype(float).copy()
        values = np.asarray(out.values)
    elif isinstance(value, np.ndarray | list | tuple):
        out = _as_array(model, name, value)
        values = np.asarray(out.values)
    else:
        raise SpecError(f"Parameter {name!r} of {model.label} got a {type(value).__name__}; give a number, "
                        f"a pandas Series indexed by time, or an array of the parameter's subscript shape.")
    if not np.all(np.isfinite(values)):
        raise SpecError(f"Parameter {name!r} of {model.label} got a non-finite value ({value!r}).")
    lower, upper, unit = _bounds(model, name)
    bad = values[(values < lower) | (values > upper)]
    if bad.size:
        unit_text = f" {unit}" if unit else ""
        raise SpecError(f"Parameter {name!r} = {bad[0]:g}{unit_text} is outside its declared bounds "
                        f"[{lower:g}, {upper:g}] in {model.label}; choose a value within the bounds.")
    return out


def check_scenario_column(model: SDModel, name: str, cells: pd.Series) -> pd.Series:
    """The cells of one scenario column of ``simulate_batch``, checked as ``simulate`` checks ``params``.

    ``name`` is the parameter's Python name. A column of plain numbers is checked at once (finite,
    within bounds); other cells one by one. A SpecError names the scenario (index label) at fault.
    """
    values = cells.to_numpy()
    if values.dtype.kind in "iuf":
        array = np.asarray(values, dtype=float)
        lower, upper, _ = _bounds(model, name)
        if np.isfinite(array).all() and not ((array < lower) | (array > upper)).any():
            return pd.Series(array, index=cells.index, name=name)
    out = []
    for label, value in cells.items():
        if isinstance(value, np.generic):
            value = value.item()
        try:
            out.append(_coerce(model, name, value))
        except SpecError as exc:
            raise SpecError(f"Scenario {label!r}: {exc}") from None
    plain = all(isinstance(v, float) for v in out)
    return pd.Series(out, index=cells.index, name=name, dtype=float if plain else object)


def check_params(model: SDModel, params: Mapping[str, Any] | None) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, Mapping) and callable(getattr(params, "to_params", None)):
        params = params.to_params()  # CalibrationResult, ParameterEstimates (duck typing: sd imports neither)
    if not isinstance(params, Mapping):
        raise SpecError(f"params must be a mapping of parameter name to value; got {type(params).__name__}.")
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(key, str) and key.lower().replace(" ", "_") in CONTROL_VARIABLES:
            keyword = key.lower().replace(" ", "_")
            raise SpecError(f"{key!r} is a simulation control variable, not a parameter: "
                            f"pass {keyword}=... to simulate() instead.")
        name = model.resolve(key, what="parameter", kinds=_SETTABLE)
        if name in CONTROL_VARIABLES:  # pragma: no cover - caught above
            raise SpecError(f"pass {name}=... to simulate() instead of params.")
        if name in out:
            raise SpecError(f"Parameter {name!r} is given twice in params (as {key!r} and another name).")
        out[name] = _coerce(model, name, value)
    return out


def check_outputs(model: SDModel, outputs: str | Sequence[str] | None) -> list[str] | None:
    if outputs is None:
        return None
    if not isinstance(outputs, Iterable):
        raise SpecError(
            f"outputs={outputs!r} is not valid: give a variable name, a list of names, or None for all variables."
        )
    names = [outputs] if isinstance(outputs, str) else list(outputs)
    if not names:
        raise SpecError("outputs=[] selects nothing: give output names, or None for all variables.")
    resolved = [model.resolve(name, what="variable") for name in names]
    return list(dict.fromkeys(resolved))


def check_regions(model: SDModel, regions: str | Sequence[str] | None) -> list[str] | None:
    if regions is None:
        return None
    subs = model.subscripts
    if REGION not in subs:
        ranges = ", ".join(sorted(subs)) or "none"
        raise SpecError(f"regions= needs a model with a {REGION!r} subscript range; {model.label} has "
                        f"subscript ranges: {ranges}. Drop regions=.")
    names = [regions] if isinstance(regions, str) else list(regions)
    if not names:
        raise SpecError("regions=[] selects nothing: give region names, or None for all regions.")
    for name in names:
        if name not in subs[REGION]:
            raise unknown_name(name, subs[REGION], "region", where=model.label)
    return list(dict.fromkeys(names))


def jsonable(value: Any) -> Any:
    if isinstance(value, pd.Series):
        return {float(t): float(v) for t, v in value.items()}
    if isinstance(value, xr.DataArray):
        return value.values.tolist()
    return value
