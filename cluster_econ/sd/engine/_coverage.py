"""Which of PySD's Vensim and XMILE functions the batch engine compiles, from its registries."""

from __future__ import annotations

import inspect

__all__ = ["coverage", "coverage_line"]

#: PySD structure names that are syntax, not functions
_SYNTAX = {"reference", "subscripts_ref", "arithmetic", "logic", "call", "lookup", "data"}
#: abstract structures the compiler's visitor handles itself (not stateful, not a call)
_VISITED = {"InlineLookupsStructure", "AllocateByPriorityStructure", "GetConstantsStructure", "GetDataStructure",
            "GetLookupsStructure"}


def _label(name: str) -> str:
    """The Vensim (or XMILE) spelling of a PySD function name: ``if_then_else`` -> ``IF THEN ELSE``."""
    if name.startswith("X") and name[1:2].islower():
        return f"{name[1:].upper().replace('_', ' ')} (XMILE)"
    if name.endswith("_xmile"):
        return f"{name[:-6].upper().replace('_', ' ')} (XMILE)"
    return name.upper().replace("_", " ")


def _structure_of(factory: object) -> str:
    """The abstract structure (or, for a call, ``call:<name>``) a PySD structure factory builds."""
    if inspect.isclass(factory):
        return factory.__name__
    try:
        n = len(inspect.signature(factory).parameters)  # type: ignore[arg-type]
        built = factory(*range(n))  # type: ignore[operator]
    except (TypeError, ValueError):
        return ""
    if type(built).__name__ == "CallStructure":
        return f"call:{built.function.reference}"
    return type(built).__name__


def coverage() -> list[tuple[str, str, bool]]:
    """``(Vensim name, PySD name, supported)`` for every function PySD translates, sorted by name.

    The list is PySD's own: the calls of its ``functionspace`` and the function-like structures of
    its Vensim translator (stateful functions, GET functions, allocation, ...). A function is
    supported when the engine's function registry or stateful registry has it (or the visitor
    compiles its structure); any other is refused at compile time with an UnsupportedConstructError.
    """
    from pysd.builders.python.python_functions import functionspace
    from pysd.translators.vensim.vensim_structures import structures

    from ._functions import FUNCTIONS
    from ._statefuls import STATEFULS

    rows: dict[str, tuple[str, str, bool]] = {}
    for name in functionspace:
        rows[name] = (_label(name), name, name in FUNCTIONS)
    for name, factory in structures.items():
        if name in _SYNTAX or name in rows:
            continue
        built = _structure_of(factory)
        supported = (built in STATEFULS or built in _VISITED
                     or (built.startswith("call:") and built[5:] in FUNCTIONS))
        rows[name] = (_label(name), name, supported)
    return sorted(rows.values())


def coverage_line() -> str:
    """One sentence for the README: how many functions are supported, and which are refused."""
    rows = coverage()
    refused = [vensim for vensim, _, ok in rows if not ok]
    return (f"The batch engine compiles {len(rows) - len(refused)} of the {len(rows)} Vensim and XMILE functions "
            f"PySD translates; it refuses, with an `UnsupportedConstructError` naming the function and the "
            f"variable, {', '.join(f'`{r}`' for r in refused)}.")
