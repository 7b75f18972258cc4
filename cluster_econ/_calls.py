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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
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


def to_data(value: Any) -> Any:
    """``value`` as plain, JSON- and TOML-writable data; NotData if it cannot be."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_params") and callable(value.to_params):
        return {str(k): to_data(v) for k, v in value.to_params().items()}
    if isinstance(value, pd.Series):
        return {"series": {"index": [to_data(v) for v in value.index.tolist()],
                           "values": [to_data(v) for v in value.tolist()]}}
    if isinstance(value, pd.DataFrame):
        return _frame_spec(value)
    if isinstance(value, xr.DataArray):
        return {"dataarray": {"dims": [str(d) for d in value.dims],
                              "coords": {str(d): [to_data(v) for v in value[d].values.tolist()]
                                         for d in value.dims if d in value.coords},
                              "values": to_data(value.values)}}
    if isinstance(value, np.ndarray):
        return [to_data(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"spec": type(value).__name__,
                **{f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise NotData(f"{type(value).__name__}")


def _argument(name: str, value: Any, provenance: Any) -> Any:
    if name == "model":
        return _model_spec(value, provenance)
    if name == "panel":
        return _panel_spec(value)
    return to_data(value)


def _provenance_of(result: Any) -> Any:
    if isinstance(result, xr.Dataset):
        from .provenance import Provenance

        text = result.attrs.get("provenance")
        return Provenance(**json.loads(text)) if isinstance(text, str) else None
    return getattr(result, "provenance", None)


def call_data(verb: str, given: Mapping[str, Any], provenance: Any = None) -> dict[str, Any]:
    """The call of ``verb`` with the arguments ``given`` (every parameter, defaults included) as data."""
    arguments: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in given.items():
        if name == "progress":
            continue  # a display option, never a part of the result
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
    if isinstance(result, xr.Dataset):
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
