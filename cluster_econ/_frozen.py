"""Payloads of frozen results handed out as copies, so a result really cannot change."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


_SCALARS = (str, bytes, int, float, complex, bool, type(None))


def _copy(value: Any) -> Any:
    if isinstance(value, dict | list | set):
        return copy.deepcopy(value)
    method = getattr(value, "copy", None)
    if callable(method):
        try:
            return method(deep=True)  # pandas and xarray objects: their data too, not only the container
        except TypeError:
            return method()
    return copy.deepcopy(value)


class FrozenMapping(Mapping[str, Any]):
    """A read-only mapping that hands out deep copies of its nested containers.

    ``mapping["key"] = value`` raises ``TypeError`` (as with :class:`types.MappingProxyType`), and
    changing a list or dict read from it (``details["call"]["arguments"]["effects"].append(...)``)
    changes only that copy, so a record such as :attr:`Provenance.details` really cannot change.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = copy.deepcopy(dict(data or {}))

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        return value if isinstance(value, _SCALARS) else copy.deepcopy(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMapping({self._data!r})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), (self._data,)


def _private(name: str) -> str:
    return f"_{name}_payload"


def stored(obj: Any, name: str) -> Any:
    """The payload ``name`` of ``obj`` itself, not a copy: for the class's own reads, which change nothing."""
    return vars(obj)[_private(name)]


def _payload(name: str) -> property:
    private = _private(name)

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
