"""Payloads of frozen results handed out as copies, so a result really cannot change."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def _copy(value: Any) -> Any:
    method = getattr(value, "copy", None)
    if callable(method):
        return method(deep=True) if hasattr(value, "iloc") else method()
    return copy.deepcopy(value)


def _payload(name: str) -> property:
    private = f"_{name}_payload"

    def get(self: Any) -> Any:
        return _copy(getattr(self, private))

    def set_(self: Any, value: Any) -> None:  # called by the dataclass __init__ (object.__setattr__)
        object.__setattr__(self, private, _copy(value))

    return property(get, set_, doc=f"{name} (a copy: changing it never changes the result).")


def copied_payloads(*names: str) -> Callable[[T], T]:
    """Class decorator for a frozen dataclass: the fields ``names`` are stored as private copies and
    every read returns a fresh copy (pandas objects deep-copied, numpy arrays copied).

    Assigning to the attribute still raises ``FrozenInstanceError``; assigning *into* what it
    returns changes only that copy.
    """

    def decorate(cls: T) -> T:
        for name in names:
            if name not in getattr(cls, "__dataclass_fields__", {}):
                raise TypeError(f"{cls.__name__} has no dataclass field {name!r}")
            setattr(cls, name, _payload(name))
        return cls

    return decorate


def reduce_frozen(self: Any) -> tuple[Any, tuple[Any, ...]]:
    """``__reduce__`` of a frozen dataclass whose mappings are read-only proxies (which cannot be
    pickled): rebuild it from its fields, the proxies passed as plain dicts (``__post_init__``
    makes them read-only again)."""
    values = (getattr(self, f.name) for f in dataclasses.fields(self))
    return type(self), tuple(dict(v) if isinstance(v, MappingProxyType) else v for v in values)
