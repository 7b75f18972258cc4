"""Recording the call that produced a result, as plain data, so it can be saved and re-run.

:func:`capture` is called on entry of a public verb (``simulate``, ``simulate_batch``, the estimators),
and ``attach`` on its result stores ``{"verb": name, "arguments": {...}}`` in the result's
``provenance.details["call"]``: models by id, version and sha256 (or path and sha256), panels by
dataset name and sha256, objects with ``to_params()`` by their parameter values, frames column by
column, everything else as it is when it is plain data. An argument that is not data (a callable)
makes the call ``reproducible = False`` with the reason, rather than pretending.

This module is the lowest layer: it recognises models and panels by their attributes, not their class.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["PendingCall", "attach_call", "call_data", "capture", "to_data"]

class NotData(Exception):
    """An argument that cannot be recorded as data."""


def _model_spec(value: Any, provenance: Any) -> dict[str, Any]:
    if isinstance(value, str | Path) and provenance is not None and getattr(provenance, "model_id", None):
        registered = provenance.model_version is not None
        value_path = Path(str(value))
        if registered and value_path.suffix == "":
            return {"id": provenance.model_id, "version": provenance.model_version,
                    "sha256": provenance.model_sha256}
        return {"path": str(value_path.expanduser().resolve()), "sha256": provenance.model_sha256}
    if getattr(value, "registered", False):
        return {"id": value.id, "version": value.version, "sha256": value.sha256}
    if hasattr(value, "sha256") and hasattr(value, "path"):
        return {"path": str(value.path), "sha256": value.sha256}
    if hasattr(value, "sha256") and hasattr(value, "name"):  # a compiled model
        return {"id": str(value.name), "sha256": value.sha256}
    raise NotData(f"model of type {type(value).__name__}")


def _panel_spec(value: Any) -> dict[str, Any]:
    prov = getattr(value, "provenance", None)
    return {"dataset": getattr(prov, "dataset", None) or getattr(value, "name", None),
            "sha256": getattr(prov, "dataset_sha256", None)}


def _frame_spec(frame: pd.DataFrame) -> dict[str, Any]:
    columns = {}
    for column in frame.columns:
        columns[str(column)] = [to_data(v) for v in frame[column].tolist()]
    return {"frame": {"columns": columns, "index": [to_data(v) for v in frame.index.tolist()],
                      "index_name": frame.index.name}}


def _series_spec(series: pd.Series) -> dict[str, Any]:
    return {"series": {"index": [to_data(v) for v in series.index.tolist()],
                       "values": [to_data(v) for v in series.tolist()]}}


def _is_xarray(value: Any, kind: str) -> bool:
    """``isinstance(value, xarray.<kind>)`` without importing xarray (nothing is one before it is imported)."""
    module = sys.modules.get("xarray")
    return module is not None and isinstance(value, getattr(module, kind))


def _dataarray_spec(array: xr.DataArray) -> dict[str, Any]:
    return {"dataarray": {"dims": [str(d) for d in array.dims],
                          "coords": {str(d): [to_data(v) for v in array[d].values.tolist()]
                                     for d in array.dims if d in array.coords},
                          "values": to_data(array.values)}}


def _params_data(value: Any) -> dict[str, Any]:
    return {str(k): to_data(v) for k, v in value.to_params().items()}


def _dataclass_data(value: Any) -> dict[str, Any]:
    return {"spec": type(value).__name__,
            **{f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}}


def _has_params(value: Any) -> bool:
    return hasattr(value, "to_params") and callable(value.to_params)


def _is_dataclass_instance(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


# (test, conversion), tried in this order: bool before int (a bool is an int), and objects with to_params()
# before the mappings and sequences they may also be.
_CONVERSIONS: tuple[tuple[Callable[[Any], bool], Callable[[Any], Any]], ...] = (
    (lambda v: v is None or isinstance(v, bool | str), lambda v: v),
    (lambda v: isinstance(v, np.bool_), bool),
    (lambda v: isinstance(v, int | np.integer), int),
    (lambda v: isinstance(v, float | np.floating), float),
    (lambda v: isinstance(v, Path), str),
    (_has_params, _params_data),
    (lambda v: isinstance(v, pd.Series), _series_spec),
    (lambda v: isinstance(v, pd.DataFrame), _frame_spec),
    (lambda v: _is_xarray(v, "DataArray"), _dataarray_spec),
    (lambda v: isinstance(v, np.ndarray), lambda v: [to_data(x) for x in v.tolist()]),
    (lambda v: isinstance(v, Mapping), lambda v: {str(k): to_data(x) for k, x in v.items()}),
    (lambda v: isinstance(v, list | tuple), lambda v: [to_data(x) for x in v]),
    (_is_dataclass_instance, _dataclass_data),
)


def to_data(value: Any) -> Any:
    """``value`` as plain, JSON- and TOML-writable data; NotData if it cannot be."""
    for applies, convert in _CONVERSIONS:
        if applies(value):
            return convert(value)
    raise NotData(f"{type(value).__name__}")


def _argument(name: str, value: Any, provenance: Any) -> Any:
    if name == "model":
        return _model_spec(value, provenance)
    if name == "panel":
        return _panel_spec(value)
    return to_data(value)


def _provenance_of(result: Any) -> Any:
    if _is_xarray(result, "Dataset"):
        from .provenance import Provenance

        text = result.attrs.get("provenance")
        return Provenance(**json.loads(text)) if isinstance(text, str) else None
    return getattr(result, "provenance", None)


def call_data(verb: str, given: Mapping[str, Any], provenance: Any = None) -> dict[str, Any]:
    """The call of ``verb`` with the arguments ``given`` (every parameter, defaults included) as data."""
    arguments: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in given.items():
        if name in ("progress", "executor"):
            continue  # a display option, or where it ran: never a part of the result
        try:
            arguments[name] = _argument(name, value, provenance)
        except NotData as exc:
            problems.append(f"{name} ({exc})")
            arguments[name] = None
    call: dict[str, Any] = {"verb": verb, "arguments": arguments}
    if problems:
        call["reproducible"] = False
        call["reason"] = "arguments that are not data: " + ", ".join(problems)
    return call


def attach_call(result: Any, call: Mapping[str, Any]) -> Any:
    """``result`` with ``call`` in its provenance details (a new object; a Dataset gets new attrs)."""
    if _is_xarray(result, "Dataset"):
        text = result.attrs.get("provenance")
        record = json.loads(text) if isinstance(text, str) else {}
        record.setdefault("details", {})["call"] = dict(call)
        result.attrs["provenance"] = json.dumps(record, default=str)
        return result
    prov = getattr(result, "provenance", None)
    if prov is None or not dataclasses.is_dataclass(result) or isinstance(result, type):
        return result
    return dataclasses.replace(result, provenance=prov.replace(details={"call": dict(call)}))


class PendingCall:
    """The arguments of a verb captured on entry, turned into data once its result exists."""

    def __init__(self, verb: str, arguments: Mapping[str, Any]) -> None:
        self.verb = verb
        self.arguments = dict(arguments)

    def attach(self, result: Any) -> Any:
        """``result`` with the call in ``provenance.details["call"]``."""
        return attach_call(result, call_data(self.verb, self.arguments, _provenance_of(result)))


def capture(verb: str, arguments: Mapping[str, Any]) -> PendingCall:
    """Capture a verb's arguments: ``call = capture("panel_ols", locals())`` as its first statement, then
    ``return call.attach(result)``. Recording inside the verb (rather than in a wrapper) keeps the stack
    levels of its warnings pointing at the user's line.
    """
    return PendingCall(verb, {k: v for k, v in arguments.items() if not k.startswith("__")})
