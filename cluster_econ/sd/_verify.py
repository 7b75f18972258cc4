"""Check that a Python model file is what PySD's builder emits, before it is ever imported.

PySD translates a model into Python source and the source is imported to run it, so any text of the
model that reaches that source unquoted would run as code. :mod:`cluster_econ.sd._translate` makes
those texts harmless before the build; this module checks the result again, and every cached file
before each import, against the shape of what ``pysd/builders/python`` writes:

- only the statements and expressions the builder uses (no ``class``, ``with``, ``try``, ``del``,
  ``global``, comprehensions, ``await``, f-strings, ...);
- imports of ``pathlib.Path``, ``numpy``, ``xarray``, ``scipy.stats`` and names of
  ``pysd.py_backend.<module>`` only (never ``pysd.py_backend.utils.load_modules``, which runs files);
- every name used is defined in the file (function, assignment, argument, import) or is one of a few
  harmless builtins, so ``exec``, ``eval``, ``open``, ``__import__``, ``getattr`` ... cannot be reached;
- attributes are from the builder's vocabulary (numpy and xarray arithmetic, ``.loc``, ``.values``,
  ...); no attribute starting with ``_``, so no way to ``__class__`` / ``__globals__`` and out.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from ..errors import ModelFileError

__all__ = ["check_source"]

_NODES = frozenset({
    "Module", "Expr", "Assign", "AugAssign", "FunctionDef", "Return", "For", "If", "Pass",
    "Import", "ImportFrom", "alias", "arguments", "arg", "keyword",
    "Call", "Attribute", "Name", "Constant", "BinOp", "UnaryOp", "BoolOp", "Compare", "IfExp", "Lambda",
    "Dict", "List", "Tuple", "Set", "Subscript", "Slice", "Starred",
    "Load", "Store",
    "Add", "Sub", "Mult", "Div", "FloorDiv", "Mod", "Pow", "USub", "UAdd", "Not", "And", "Or",
    "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "In", "NotIn", "Is", "IsNot",
})

_PYSD_MODULES = frozenset({"statefuls", "functions", "external", "data", "lookups", "allocation", "model"})
_FROM_IMPORTS = {"pathlib": {"Path"}, "pysd": {"Component"}, "scipy": {"stats"}}
_MODULE_IMPORTS = {"numpy": "np", "xarray": "xr"}
#: sha256 of the sources that passed in this process: the check depends on the bytes alone, so the same
#: bytes (a cached translation loaded again) are not parsed and walked again
_PASSED: set[str] = set()

#: Builtins the builder's code uses; none reaches the interpreter, the file system or other modules.
_BUILTINS = frozenset({"float", "int", "bool", "len", "abs", "min", "max", "round", "range", "list", "dict",
                       "tuple", "zip", "True", "False", "None", "__file__"})

#: Attribute names in PySD's generated code: numpy/xarray/scipy.stats calls and PySD objects' fields.
_ATTRIBUTES = frozenset({
    # numpy and scipy.stats functions the builder's function table emits
    "abs", "add", "all", "arange", "arccos", "arcsin", "arctan", "array", "cos", "cosh", "empty", "exp",
    "full", "inf", "interp", "inv", "isnan", "linalg", "log", "logical_and", "logical_not", "logical_or",
    "max", "maximum", "min", "minimum", "moveaxis", "nan", "ndarray", "pi", "power", "prod", "random",
    "reshape", "sin", "sinh", "sqrt", "sum", "tan", "tanh", "tile", "uniform", "rvs", "truncnorm",
    "truncexpon",
    # xarray
    "DataArray", "expand_dims", "loc", "ones_like", "rename", "reset_coords", "transpose", "values",
    "zeros_like", "dims", "coords", "squeeze", "copy",
    # PySD objects in the generated code
    "add_to", "joinpath", "parent", "final_time", "initial_time", "saveper", "time_step", "stage", "round",
})


def _fail(where: Path, node: ast.AST | None, what: str) -> ModelFileError:
    line = f" line {node.lineno}" if node is not None and hasattr(node, "lineno") else ""
    return ModelFileError(
        f"The Python translation of {where.name} ({where},{line}) contains {what}, which PySD's builder never "
        f"writes: the model file injects code into its translation, or the cached translation was altered. "
        f"It is not imported. Check the model's comments, units and names.")


def _bound(node: ast.AST) -> set[str]:
    """Names bound by ``node``'s statements or arguments (module, function or lambda), nested ones included."""
    names: set[str] = set()
    body = node.body if isinstance(node, ast.Module | ast.FunctionDef) else [node.body]  # type: ignore[attr-defined]
    for statement in body:
        for sub in ast.walk(statement):
            if isinstance(sub, ast.FunctionDef):
                names.add(sub.name)
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
            elif isinstance(sub, ast.alias):
                names.add(sub.asname or sub.name)
    if isinstance(node, ast.FunctionDef | ast.Lambda):
        args = node.args
        names.update(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
        names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    return names


def _macro_inputs(tree: ast.Module) -> set[str]:
    """Names a macro's file receives from its caller: the values of its top-level ``_params`` dict."""
    names: set[str] = set()
    for statement in tree.body:
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == "_params"
                and isinstance(statement.value, ast.Dict)):
            names.update(v.value for v in statement.value.values
                         if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value.isidentifier()
                         and not v.value.startswith("__"))
    return names


def _check_names(node: ast.AST, scope: frozenset[str], where: Path) -> None:
    """Every name read in ``node`` is bound in its own scope or an enclosing one, or a harmless builtin."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.Lambda):
            _check_function(child, scope, where)
            continue
        if isinstance(child, ast.Name):
            _check_name(child, scope, where)
        _check_names(child, scope, where)


def _check_function(node: ast.FunctionDef | ast.Lambda, scope: frozenset[str], where: Path) -> None:
    """The names of a function or lambda: decorators and defaults in ``scope``, the body in its own scope."""
    outer = [*node.decorator_list] if isinstance(node, ast.FunctionDef) else []
    outer += [d for d in (*node.args.defaults, *node.args.kw_defaults) if d is not None]
    for expression in outer:
        _check_names(expression, scope, where)
    inner = scope | _bound(node)
    for part in ([*node.body] if isinstance(node, ast.FunctionDef) else [node.body]):
        _check_names(part, inner, where)
        if isinstance(part, ast.Name):
            _check_name(part, inner, where)


def _check_name(node: ast.Name, scope: frozenset[str], where: Path) -> None:
    if isinstance(node.ctx, ast.Load) and node.id not in scope:
        raise _fail(where, node, f"a reference to {node.id!r}")
    if node.id.startswith("__") and node.id not in ("__data", "__pysd_version__", "__file__"):
        raise _fail(where, node, f"the name {node.id!r}")


def _check_import(node: ast.Import | ast.ImportFrom, where: Path) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in _MODULE_IMPORTS or _MODULE_IMPORTS[alias.name] != alias.asname:
                raise _fail(where, node, f"an import of {alias.name!r}")
        return
    module = node.module or ""
    allowed = _FROM_IMPORTS.get(module)
    if node.level:
        raise _fail(where, node, "a relative import")
    for alias in node.names:
        if alias.asname is not None or alias.name.startswith("_") or alias.name == "*":
            raise _fail(where, node, f"an import of {alias.name!r} from {module!r}")
        if allowed is not None:
            ok = alias.name in allowed
        else:
            parts = module.split(".")
            ok = len(parts) == 3 and parts[:2] == ["pysd", "py_backend"] and parts[2] in _PYSD_MODULES
        if not ok:
            raise _fail(where, node, f"an import of {alias.name!r} from {module!r}")


def check_source(data: bytes, where: Path) -> None:
    """Raise :class:`~cluster_econ.errors.ModelFileError` unless ``data`` has the shape of PySD's output.

    Parameters
    ----------
    data : bytes
        Content of a generated Python model file.
    where : pathlib.Path
        The file it comes from (for the message).
    """
    digest = hashlib.sha256(data).hexdigest()
    if digest in _PASSED:
        return
    try:
        tree = ast.parse(data, filename=str(where))
    except (SyntaxError, ValueError) as err:  # ValueError: NUL bytes
        raise ModelFileError(f"The Python translation of {where.name} ({where}) is not valid Python ({err}); "
                             f"it is not imported.") from None
    for node in ast.walk(tree):
        _check_node(node, where)
    _check_names(tree, frozenset(_bound(tree) | _macro_inputs(tree) | _BUILTINS), where)
    _PASSED.add(digest)


def _check_node(node: ast.AST, where: Path) -> None:
    """One node of the tree: of a kind the builder writes, with the builder's imports, attributes, decorators."""
    kind = type(node).__name__
    if kind not in _NODES:
        raise _fail(where, node, f"a {kind} node")
    if isinstance(node, ast.Import | ast.ImportFrom):
        _check_import(node, where)
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_") or node.attr not in _ATTRIBUTES:
            raise _fail(where, node, f"the attribute {node.attr!r}")
    elif isinstance(node, ast.FunctionDef):
        for decorator in node.decorator_list:
            if not _is_component_add(decorator):
                raise _fail(where, decorator, "a decorator other than @component.add")
    elif isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        raise _fail(where, node, "a bytes literal")


def _is_component_add(decorator: ast.expr) -> bool:
    """Whether a decorator is ``@component.add(...)``, the only one the builder writes."""
    return (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and isinstance(decorator.func.value, ast.Name) and decorator.func.value.id == "component"
            and decorator.func.attr == "add")
