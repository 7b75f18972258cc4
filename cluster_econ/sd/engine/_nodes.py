"""The intermediate objects of the kernel compiler: compiled expressions, nodes and stateful objects."""

from __future__ import annotations

from dataclasses import dataclass, field

CONTROL = {"initial_time": "_t0", "final_time": "_tf", "time_step": "_dt", "saveper": "_sp"}
OPS = {
    "^": ("%(left)s**%(right)s", 1), "*": ("%(left)s*%(right)s", 2), "/": ("%(left)s/%(right)s", 2),
    "+": ("%(left)s + %(right)s", 3), "-": ("%(left)s - %(right)s", 3),
    "=": ("%(left)s == %(right)s", 4), "<>": ("%(left)s != %(right)s", 4),
    ">=": ("%(left)s >= %(right)s", 4), ">": ("%(left)s > %(right)s", 4),
    "<=": ("%(left)s <= %(right)s", 4), "<": ("%(left)s < %(right)s", 4),
    ":NOT:": ("np.logical_not(%s)", 0), ":AND:": ("np.logical_and(%(left)s, %(right)s)", 0),
    ":OR:": ("np.logical_or(%(left)s, %(right)s)", 0), "negative": ("-%s", 3),
}

Dims = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass
class Ex:
    """A compiled sub-expression: code, its dimensions and what it depends on."""

    code: str
    dims: Dims = ()
    order: int = 0
    scalar: bool = False
    deps: frozenset = frozenset()
    time: bool = False

    def lower(self, new_order: int) -> None:
        if self.order >= new_order and self.order != 0 and new_order != 0:
            self.code = f"({self.code})"
            self.order = 0


@dataclass
class Node:
    """A value computed by the kernel: a model element or a hidden stateful object."""

    name: str
    local: str
    step_lines: list[str] = field(default_factory=list)
    step_deps: set = field(default_factory=set)
    init_lines: list[str] | None = None
    init_deps: set | None = None
    dynamic: bool = False
    stateful: str = ""


@dataclass
class Stateful:
    """A hidden stateful object (stock, smooth, delay, ...)."""

    key: str
    kind: str
    dims: Dims
    element: str
    ddt: list[str] = field(default_factory=list)
    ddt_deps: set = field(default_factory=set)


def merge_deps(*exs: Ex) -> frozenset:
    out: set = set()
    for e in exs:
        out |= e.deps
    return frozenset(out)
