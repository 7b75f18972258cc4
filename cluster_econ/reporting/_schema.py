"""The experiment file: its schema, and validation before any work is done.

An experiment is a TOML file describing a whole study: the model, optional estimates, a simulation,
a calibration, a policy sweep and a PRIM query, and the report. :func:`read_experiment` refuses
unknown keys, wrong types and unknown names (models, datasets, estimators, parameters, variables,
options) with the file, the key path and a did-you-mean, before anything runs.
"""

from __future__ import annotations

import numbers
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SpecError, UnknownNameError, did_you_mean

__all__ = ["SCHEMA", "ExperimentError", "read_experiment"]


class ExperimentError(SpecError):
    """An experiment file that cannot be run (unknown key, wrong type, unknown name)."""


@dataclass(frozen=True)
class Field:
    kind: str  # str, int, float, bool, list[str], list[float], list[int], table, table[str], table[float], ...
    required: bool = False
    doc: str = ""


def _alternatives(kind: str) -> list[str]:
    """``kind`` split at its top-level ``|`` (not inside brackets)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(kind):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(kind[start:i])
            start = i + 1
    return [*parts, kind[start:]]


def _is(kind: str, value: Any) -> bool:
    alternatives = _alternatives(kind)
    if len(alternatives) > 1:
        return any(_is(k, value) for k in alternatives)
    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    simple: dict[str, Callable[[Any], bool]] = {
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: number,
        "bool": lambda v: isinstance(v, bool),
        "table": lambda v: isinstance(v, Mapping),
        "any": lambda v: True,
    }
    if kind in simple:
        return simple[kind](value) if kind != "float" else number
    if kind.startswith("list[") and kind.endswith("]"):
        return isinstance(value, list) and all(_is(kind[5:-1], v) for v in value)
    if kind.startswith("table[") and kind.endswith("]"):
        return isinstance(value, Mapping) and all(_is(kind[6:-1], v) for v in value.values())
    raise AssertionError(f"unknown schema kind {kind}")  # pragma: no cover - a bug in SCHEMA itself


LEVER = {"name": Field("str", True), "lower": Field("float"), "upper": Field("float"),
         "values": Field("list[float]")}
UNCERTAINTY = {"name": Field("str", True), "lower": Field("float", True), "upper": Field("float", True),
               "distribution": Field("str"), "mode": Field("float"), "mean": Field("float"), "sd": Field("float")}
OUTCOME = {"variable": Field("str", True), "time": Field("float|str"), "reduce": Field("str"), "name": Field("str")}

SCHEMA: dict[str, Any] = {
    "experiment": {"title": Field("str"), "description": Field("str")},
    "model": {"id": Field("str"), "version": Field("str"), "path": Field("str")},
    "estimation": [{  # an array of tables: [[estimation]]
        "label": Field("str"), "estimator": Field("str", True), "formula": Field("str", True),
        "dataset": Field("str", True), "effects": Field("list[str]"), "cov_type": Field("str"),
        "cluster": Field("list[str]"), "method": Field("str"), "two_step": Field("bool"),
        "time_effects": Field("bool"), "max_lag": Field("int"), "family": Field("str"),
    }],
    "simulation": {"params": Field("table[float]"), "initial_time": Field("float"), "final_time": Field("float"),
                   "time_step": Field("float"), "saveper": Field("float"), "outputs": Field("list[str]"),
                   "regions": Field("list[str]"), "engine": Field("str"), "method": Field("str"),
                   "calibrated": Field("bool")},
    "calibration": {"panel": Field("str", True), "targets": Field("table[str|list[any]]", True),
                    "parameters": Field("list[str]|table[list[float]]", True), "fixed": Field("table[float]"),
                    "fixed_from_estimates": Field("table[str]"), "loss": Field("str"),
                    "weights": Field("str|table[float]"),
                    "cov_type": Field("str"), "holdout": Field("list[int]"), "n_starts": Field("int"),
                    "seed": Field("int"), "n_boot": Field("int"), "max_nfev": Field("int")},
    "sweep": {"lever": [LEVER], "uncertainty": [UNCERTAINTY], "outcome": [OUTCOME],
              "uncertainties_from_calibration": Field("bool"), "n": Field("int", True), "design": Field("str"),
              "seed": Field("int"), "reference": Field("table[float]"), "indicators": Field("table[str|float]"),
              "chunk_size": Field("int"), "executor": Field("str"), "store": Field("str")},
    "prim": {"indicator": Field("str", True), "above": Field("float"), "below": Field("float"),
             "peel_alpha": Field("float"), "paste_alpha": Field("float"), "mass_min": Field("float"),
             "threshold": Field("float")},
    "report": {"title": Field("str"), "enabled": Field("bool")},
}


def _fail(where: str, path: str, message: str) -> ExperimentError:
    return ExperimentError(f"{where}: {path}: {message}")


def _unknown_key(where: str, sub: str, key: str, schema: Mapping[str, Any]) -> ExperimentError:
    close = did_you_mean(key, schema)
    hint = f" Did you mean {close[0]!r}?" if close else f" Valid keys: {', '.join(sorted(schema))}."
    return _fail(where, sub, f"unknown key {key!r}.{hint}")


def _check_table_array(where: str, sub: str, value: Any, row_schema: Mapping[str, Any]) -> None:
    rows = value if isinstance(value, list) else None
    if rows is None or not all(isinstance(r, Mapping) for r in rows):
        raise _fail(where, sub, f"expected an array of tables ([[{sub}]]), got {type(value).__name__}.")
    for i, row in enumerate(rows):
        _check_table(where, f"{sub}[{i}]", row, row_schema)


def _check_value(where: str, sub: str, value: Any, spec: Field | dict[str, Any] | list[Any]) -> None:
    if isinstance(spec, list):  # an array of tables
        _check_table_array(where, sub, value, spec[0])
    elif isinstance(spec, dict):
        _check_table(where, sub, value, spec)
    elif not _is(spec.kind, value):
        raise _fail(where, sub, f"expected {spec.kind}, got {type(value).__name__} {value!r}.")


def _check_table(where: str, path: str, table: Any, schema: Mapping[str, Any]) -> None:
    if not isinstance(table, Mapping):
        raise _fail(where, path, f"expected a table, got {type(table).__name__} {table!r}.")
    for key, value in table.items():
        sub = f"{path}.{key}" if path else key
        if key not in schema:
            raise _unknown_key(where, sub, key, schema)
        _check_value(where, sub, value, schema[key])
    for key, spec in schema.items():
        if isinstance(spec, Field) and spec.required and key not in table:
            raise _fail(where, f"{path}.{key}" if path else key, "is required.")


def read_experiment(path: str | Path) -> dict[str, Any]:
    """Read and check the structure of an experiment file (names are checked by the runner)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ExperimentError(f"{file}: no such experiment file.")
    try:
        spec = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{file}: not valid TOML: {exc}.") from exc
    _check_table(str(file), "", spec, SCHEMA)
    model = spec.get("model")
    if not model or ("id" in model) == ("path" in model):
        raise _fail(str(file), "model", "give exactly one of model.id (a registered model) or model.path (a file).")
    if "path" in model and "version" in model:
        raise _fail(str(file), "model.version", "applies to a registered model (model.id), not to model.path.")
    if "prim" in spec and "sweep" not in spec:
        raise _fail(str(file), "prim", "needs a [sweep] to discover scenarios in.")
    prim = spec.get("prim", {})
    if prim and ("above" in prim) == ("below" in prim):
        raise _fail(str(file), "prim", "give exactly one of prim.above or prim.below (the condition on the indicator).")
    if spec.get("simulation", {}).get("calibrated") and "calibration" not in spec:
        raise _fail(str(file), "simulation.calibrated", "needs a [calibration] whose parameters the run uses.")
    if spec.get("sweep", {}).get("uncertainties_from_calibration") and "calibration" not in spec:
        raise _fail(str(file), "sweep.uncertainties_from_calibration", "needs a [calibration] to draw from.")
    if spec.get("calibration", {}).get("fixed_from_estimates") and not spec.get("estimation"):
        raise _fail(str(file), "calibration.fixed_from_estimates", "needs an [[estimation]] to take the terms from.")
    return spec


def check_name(where: str, path: str, name: str, known: Any, what: str) -> None:
    """ExperimentError naming the key path when ``name`` is not among ``known`` (with did-you-mean)."""
    known = [str(k) for k in known]
    if name in known:
        return
    close = did_you_mean(name, known)
    hint = f" Did you mean {close[0]!r}?" if close else f" Valid: {', '.join(known[:12])}" + (
        ", ..." if len(known) > 12 else "") + "."
    article = "an" if what[:1].lower() in "aeiou" else "a"
    raise _fail(where, path, f"{name!r} is not {article} {what}.{hint}")


def rethrow(where: str, path: str, exc: Exception) -> ExperimentError:
    """An UnknownNameError or SpecError of the package re-raised with the file and key path."""
    text = exc.args[0] if isinstance(exc, UnknownNameError) and exc.args else str(exc)
    return _fail(where, path, str(text))
