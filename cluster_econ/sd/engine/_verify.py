"""Verification of generated kernel source before it is executed.

The compiler builds kernels only from sanitised identifiers (PySD's Python names, checked here) and
``repr``-ed literals. Before a kernel is ``exec``-ed, whether freshly compiled or read from the cache,
its source is parsed and every node is checked against what the compiler emits: assignments,
arithmetic, comparisons, subscripts, calls of numpy, of the engine's runtime helpers and of a few
builtins, and the four kernel functions. Anything else (imports, attribute access outside ``np`` and
the runtime, dunder names, lambdas, loops, ...) refuses the kernel. The kernel runs with no builtins
but those it needs.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

import numpy as np

from cluster_econ.errors import UnsupportedConstructError

from . import _runtime

__all__ = ["KERNEL_BUILTINS", "check_identifier", "verify_expression", "verify_source"]

#: the builtins a kernel may call (and the only ones in its namespace)
KERNEL_BUILTINS: dict[str, Any] = {"dict": dict, "int": int, "float": float, "len": len}

#: the functions a kernel defines
KERNEL_FUNCTIONS = frozenset({"_init", "_step", "_euler", "_ctl"})

_NODES = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.Expr, ast.Name, ast.Load,
    ast.Store, ast.Constant, ast.Attribute, ast.Call, ast.keyword, ast.Subscript, ast.Slice, ast.Tuple, ast.List,
    ast.Dict, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Starred,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.USub, ast.UAdd, ast.Not,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In,
)
_RUNTIME = frozenset(n for n in dir(_runtime) if not n.startswith("_") and callable(getattr(_runtime, n)))
_DICT_METHODS = frozenset({"update", "get"})
_ARRAY_ATTRIBUTES = frozenset({"copy", "shape"})
_FORBIDDEN_NAMES = frozenset(dir(builtins)) - set(KERNEL_BUILTINS) - {"None", "True", "False"}


def check_identifier(name: str) -> str:
    """``name`` if it is a plain Python identifier safe to place in kernel source, else refuse."""
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("__") or not name.isascii():
        raise UnsupportedConstructError(f"The name {name!r} cannot be used in a batch kernel (not a plain "
                                        "identifier). Use engine='pysd' for this model.")
    return name


def _refuse(node: ast.AST, why: str) -> UnsupportedConstructError:
    line = getattr(node, "lineno", "?")
    return UnsupportedConstructError(f"The generated batch kernel failed verification at line {line} ({why}); "
                                     "it is not executed.")


def _check_attribute(node: ast.Attribute) -> None:
    base = node.value
    if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "np" \
            and base.attr == "linalg" and node.attr == "inv":
        return
    if node.attr in _ARRAY_ATTRIBUTES:
        return
    if not isinstance(base, ast.Name):
        raise _refuse(node, f"attribute {node.attr!r} of an expression")
    if base.id == "np":
        if node.attr.startswith("_") or not hasattr(np, node.attr):
            raise _refuse(node, f"np.{node.attr}")
        return
    if base.id == "_rt":
        if node.attr not in _RUNTIME:
            raise _refuse(node, f"_rt.{node.attr}")
        return
    if base.id in ("C", "X", "N", "D", "V", "P") and node.attr in _DICT_METHODS:
        return
    raise _refuse(node, f"attribute {base.id}.{node.attr}")


def verify_source(source: str) -> ast.Module:
    """Parse ``source`` and check every node; UnsupportedConstructError if anything is not kernel code."""
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as err:
        raise UnsupportedConstructError(f"The generated batch kernel does not parse ({err}); it is not "
                                        "executed.") from err
    for stmt in tree.body:
        if not isinstance(stmt, ast.FunctionDef) or stmt.name not in KERNEL_FUNCTIONS:
            raise _refuse(stmt, "a top-level statement other than the kernel functions")
        if stmt.decorator_list or stmt.returns is not None:
            raise _refuse(stmt, "a decorated or annotated function")
    _check_nodes(tree, tree.body)
    return tree


def verify_expression(code: str) -> None:
    """Check one generated expression as :func:`verify_source` checks a kernel (before it is evaluated)."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as err:
        raise UnsupportedConstructError(f"A generated expression does not parse ({err}).") from err
    _check_nodes(tree.body, [])


def _check_nodes(tree: ast.AST, top: list) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise _refuse(node, f"{type(node).__name__} is not emitted by the compiler")
        if isinstance(node, ast.Name):
            if node.id.startswith("__") or node.id in _FORBIDDEN_NAMES:
                raise _refuse(node, f"the name {node.id!r}")
        elif isinstance(node, ast.Attribute):
            _check_attribute(node)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            raise _refuse(node, "an annotated argument")
        elif isinstance(node, ast.FunctionDef) and node not in top:
            raise _refuse(node, "a nested function")
        elif isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str | bool | type(None)):
            raise _refuse(node, f"a {type(node.value).__name__} literal")
