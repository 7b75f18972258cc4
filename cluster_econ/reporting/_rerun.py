"""Re-running a recorded call: the arguments decoded from data back into models, panels and frames."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from ..errors import ReproducibilityError, SpecError, unknown_name

__all__ = ["VERBS", "decode_arguments", "run_call"]

#: The verbs a manifest may name, as ``cluster_econ`` attributes.
VERBS = ("simulate", "simulate_batch", "panel_ols", "between_ols", "random_effects", "first_difference",
         "arellano_bond", "poisson_fe", "count_model", "calibrate", "sweep")


def _model(spec: Mapping[str, Any]) -> Any:
    from ..sd import load_model

    if spec.get("path"):
        model = load_model(Path(str(spec["path"])))
    elif spec.get("id"):
        model = load_model(str(spec["id"]), version=spec.get("version"))
    else:
        raise SpecError(f"The recorded model {dict(spec)!r} names neither an id nor a path.")
    recorded = spec.get("sha256")
    if recorded and recorded != model.sha256:
        raise ReproducibilityError(
            f"The model differs: the result was made with {model.label} of sha256 {recorded}, but "
            f"{model.path} has sha256 {model.sha256}. Restore the model file the result was made with."
        )
    return model


def _panel(spec: Mapping[str, Any]) -> Any:
    from ..data import list_datasets, load_dataset

    name = spec.get("dataset")
    if not name or name not in set(list_datasets()["name"]):
        raise SpecError(
            f"The result was estimated on a panel named {name!r}, which is not a bundled dataset: it cannot be "
            f"rebuilt from its name. Re-run the estimate by hand on that panel."
        )
    panel = load_dataset(str(name))
    recorded = spec.get("sha256")
    if recorded and recorded != panel.provenance.dataset_sha256:
        raise ReproducibilityError(
            f"The data differ: the result used {name} with sha256 {recorded}, but the bundled {name} has sha256 "
            f"{panel.provenance.dataset_sha256} (a transformed or subset panel, or a changed dataset)."
        )
    return panel


def _spec_object(value: Mapping[str, Any]) -> Any:
    import cluster_econ

    cls = getattr(cluster_econ, str(value["spec"]), None)
    if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
        raise SpecError(f"The recorded call holds a {value['spec']!r} spec, which this cluster_econ does not know.")
    init = {f.name for f in dataclasses.fields(cls) if f.init}
    kwargs = {k: decode(v) for k, v in value.items() if k in init}
    return cls(**kwargs)


def decode(value: Any) -> Any:
    """Plain data written by :func:`cluster_econ._calls.to_data` back into frames, series and specs."""
    if isinstance(value, Mapping):
        keys = set(value)
        if keys == {"series"}:
            body = value["series"]
            return pd.Series(body.get("values", []), index=body.get("index", []), dtype=float)
        if keys == {"frame"}:
            body = value["frame"]
            columns = {k: list(v) for k, v in body.get("columns", {}).items()}
            index = pd.Index(body.get("index", []), name=body.get("index_name"))
            return pd.DataFrame(columns, index=index if len(index) else None)
        if keys == {"dataarray"}:
            body = value["dataarray"]
            return xr.DataArray(body["values"], dims=body["dims"], coords=body.get("coords", {}))
        if "spec" in value:
            return _spec_object(value)
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def decode_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in arguments.items():
        if name == "model" and isinstance(value, Mapping):
            out[name] = _model(value)
        elif name == "panel" and isinstance(value, Mapping):
            out[name] = _panel(value)
        else:
            out[name] = decode(value)
    return out


def _sweep_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    import cluster_econ as ce

    def spec(cls: Any, row: Any, first: str) -> Any:
        if not isinstance(row, Mapping):
            return row
        rest = {k: v for k, v in row.items() if k != first}
        if cls is ce.Uncertainty:
            return cls(row["name"], rest.pop("lower"), rest.pop("upper"), **rest)
        return cls(row[first], **rest)

    out = dict(arguments)
    out["levers"] = [spec(ce.Lever, r, "name") for r in arguments.get("levers", [])]
    out["uncertainties"] = [spec(ce.Uncertainty, r, "name") for r in arguments.get("uncertainties", [])]
    out["outcomes"] = [spec(ce.Outcome, r, "variable") for r in arguments.get("outcomes", [])]
    return out


def _calibrate_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    out = dict(arguments)
    targets = arguments.get("targets")
    if isinstance(targets, Mapping):
        out["targets"] = {k: tuple(v) if isinstance(v, list) else v for k, v in targets.items()}
    parameters = arguments.get("parameters")
    if isinstance(parameters, Mapping):
        out["parameters"] = {k: tuple(v) for k, v in parameters.items()}
    if isinstance(arguments.get("holdout"), list):
        out["holdout"] = tuple(arguments["holdout"])
    return out


ADAPT = {"sweep": _sweep_arguments, "calibrate": _calibrate_arguments}


def run_call(call: Mapping[str, Any], *, where: str) -> Any:
    """Run a recorded call ``{"verb": ..., "arguments": {...}}``."""
    import cluster_econ

    if not call or "verb" not in call:
        raise SpecError(f"{where} records no call ([call] with a verb): the result cannot be re-run.")
    if call.get("reproducible") is False:
        raise SpecError(f"{where} records a call that cannot be re-run: {call.get('reason', 'no reason given')}.")
    verb = str(call["verb"])
    if verb not in VERBS or not hasattr(cluster_econ, verb):
        raise unknown_name(verb, [v for v in VERBS if hasattr(cluster_econ, v)], "verb", where=where)
    func = getattr(cluster_econ, verb)
    accepted = inspect.signature(func).parameters
    given = {k: v for k, v in call.get("arguments", {}).items() if k in accepted}  # e.g. notes such as fixed_source
    arguments = decode_arguments(given)
    if verb in ADAPT:
        arguments = ADAPT[verb](arguments)
    return func(**arguments)
