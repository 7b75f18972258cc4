"""A small TOML writer for manifests and experiment files (the standard library only reads TOML).

It writes what :mod:`tomllib` reads back to the same Python values: strings, booleans, integers,
floats (written with ``repr``, so they round-trip exactly, ``nan`` and ``inf`` included), lists and
tables. TOML has no null: keys whose value is None are left out, and None inside a list is refused.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["dumps"]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"TOML keys must be strings; got {name!r}.")
    return name if _BARE.match(name) else _string(name)


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=True).replace("\x7f", "\\u007f")


def _float(number: float) -> str:
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return repr(number)


def _inline_table(table: Mapping[Any, Any]) -> str:
    items = [f"{_key(k)} = {_scalar(v)}" for k, v in table.items() if v is not None]
    return "{" + ", ".join(items) + "}"


def _array(values: Any) -> str:
    items = []
    for item in values:
        if item is None:
            raise TypeError("TOML has no null: a list holds None.")
        items.append(_scalar(item))
    return "[" + ", ".join(items) + "]"


def _scalar(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _float(float(value))
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        return _inline_table(value)
    if isinstance(value, Sequence | np.ndarray):
        return _array(value)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to TOML.")


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _emit(table: Mapping[str, Any], path: list[str], out: list[str]) -> None:
    plain = [(k, v) for k, v in table.items() if v is not None and not _is_table(v) and not _is_table_array(v)]
    for key, value in plain:
        out.append(f"{_key(key)} = {_scalar(value)}")
    for key, value in table.items():
        if _is_table(value):
            sub = [*path, _key(key)]
            out.append("")
            out.append("[" + ".".join(sub) + "]")
            _emit(value, sub, out)
    for key, value in table.items():
        if _is_table_array(value):
            sub = [*path, _key(key)]
            for row in value:
                out.append("")
                out.append("[[" + ".".join(sub) + "]]")
                _emit(row, sub, out)


def dumps(data: Mapping[str, Any]) -> str:
    """``data`` as TOML text (keys in the given order, None values left out)."""
    out: list[str] = []
    _emit(data, [], out)
    return "\n".join(out).lstrip("\n") + "\n"
