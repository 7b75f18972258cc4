"""The function registry: one entry per Vensim (or XMILE) function the batch engine compiles.

Keys are the names PySD's translator gives the call in its abstract model (the Vensim name in lower
case with underscores, as in PySD's ``functionspace``: ``IF THEN ELSE`` -> ``if_then_else``). Each
value is an emitter ``emit(compiler, call, ctx) -> Ex`` that returns the vectorised numpy code of one
call. Most entries are made by :func:`elementwise` from a code template whose ``{0}``, ``{1}``, ...
are the arguments laid out on their common dimensions; the few that need their arguments' dimensions
(reductions, vector functions) or their unparsed arguments (``ACTIVE INITIAL``) have emitters of their
own. Adding a function is adding an entry here (and a helper in ``_runtime`` if numpy has none), plus a
parity test.

Names absent from :data:`FUNCTIONS` are refused at compile time with an
:class:`~cluster_econ.errors.UnsupportedConstructError` naming the function and the variable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._nodes import Ex, merge_deps
from ._sparse import sparse_product

__all__ = ["FUNCTIONS", "Emitter", "elementwise"]

Emitter = Callable[[Any, Any, dict], Ex]


def _args(c: Any, call: Any, ctx: dict) -> list[Ex]:
    return [c.visit(a, ctx) for a in call.arguments]


def elementwise(template: str, *, time: bool = False, arity: int | None = None) -> Emitter:
    """An emitter applying ``template`` to the arguments broadcast on their common dimensions.

    ``time`` marks functions of the simulation time (STEP, RAMP, PULSE, ...): their value is
    recomputed at every step even when their arguments are constants.
    """
    def emit(c: Any, call: Any, ctx: dict) -> Ex:
        args = _args(c, call, ctx)
        if arity is not None and len(args) != arity:
            raise c.fail(f"{c.vensim_function(call)} with {len(args)} arguments (expected {arity})", ctx["element"])
        dims = c.union(*args)
        codes = [a.code if a.scalar else c.align(a, dims) for a in args]
        scalar = all(a.scalar for a in args)
        return Ex(template.format(*codes), dims, 0, scalar, merge_deps(*args), time or any(a.time for a in args))

    emit.template = template  # type: ignore[attr-defined]
    return emit


def _product(c: Any, call: Any, ctx: dict) -> Ex | None:
    """SUM(a * b) as one ``einsum`` (no product array), when the argument is a product of two arrays."""
    (ast,) = call.arguments
    if type(ast).__name__ != "ArithmeticStructure" or list(ast.operators) != ["*"] or len(ast.arguments) != 2:
        return None
    left, right = (c.visit(a, ctx) for a in ast.arguments)
    if left.scalar or right.scalar:
        return None
    own = [d for d, _ in ctx["def_dims"]]
    dims = tuple(sorted(c.union(left, right), key=lambda d: own.index(d[0]) if d[0] in own else len(own)))
    axes = tuple(i + 1 for i, (d, _) in enumerate(dims) if d.endswith("!"))
    if not axes:
        return None
    kept = tuple((d, crd) for d, crd in dims if not d.endswith("!"))
    code = f"_rt.sum_product({c.align(left, dims)}, {c.align(right, dims)}, {axes})"
    code = sparse_product(c, ast.arguments[1], left, dims, axes, ctx, code)
    return Ex(code, kept, 0, False, merge_deps(left, right), left.time or right.time)


def _reduction(kind: str) -> Emitter:
    """SUM, PROD, VMIN, VMAX over the ``!`` dimensions of the argument (NaN skipped, as xarray does)."""
    def emit(c: Any, call: Any, ctx: dict) -> Ex:
        if kind == "sum":
            fused = _product(c, call, ctx)
            if fused is not None:
                return fused
        (arg,) = _args(c, call, ctx)
        axes = tuple(i + 1 for i, (d, _) in enumerate(arg.dims) if d.endswith("!"))
        if arg.scalar or not axes:
            raise c.fail(f"{kind.upper()} without a '!' dimension", ctx["element"])
        dims = tuple((d, crd) for d, crd in arg.dims if not d.endswith("!"))
        return Ex(c.reduction(kind, arg, axes), dims, 0, False, arg.deps, arg.time)

    return emit


def _active_initial(c: Any, call: Any, ctx: dict) -> Ex:
    ctx["active_initial"] = True
    chosen = call.arguments[1] if ctx["mode"] == "init" else call.arguments[0]
    ex = c.visit(chosen, ctx)
    if ex.order:
        ex.lower(-1)
    return ex


def _get_time_value(c: Any, call: Any, ctx: dict) -> Ex:
    rel, _offset, measure = call.arguments
    if rel != 0 or measure != 0:
        raise c.fail("GET TIME VALUE other than (0, offset, 0) (simulation time plus offset)", ctx["element"])
    off = c.visit(call.arguments[1], ctx)
    return Ex(f"(t + {off.code})", off.dims, 0, off.scalar, off.deps, True)


def _invert_matrix(c: Any, call: Any, ctx: dict) -> Ex:
    mat = _args(c, call, ctx)[0]  # INVERT MATRIX(matrix, n): n is implied by the matrix
    if mat.scalar or len(mat.dims) < 2:
        raise c.fail("INVERT MATRIX of a variable with fewer than two dimensions", ctx["element"])
    return Ex(f"np.linalg.inv({mat.code})", mat.dims, 0, False, mat.deps, mat.time)


def _vector_order(name: str) -> Emitter:
    def emit(c: Any, call: Any, ctx: dict) -> Ex:
        vec, direction = _args(c, call, ctx)
        if vec.scalar or not vec.dims:
            raise c.fail(f"{name.upper()} of a variable without subscripts", ctx["element"])
        return Ex(f"_rt.{name}({vec.code}, {direction.code})", vec.dims, 0, False, merge_deps(vec, direction),
                  vec.time or direction.time)

    return emit


def _vector_reorder(c: Any, call: Any, ctx: dict) -> Ex:
    vec, order = _args(c, call, ctx)
    if vec.scalar or order.scalar or len(vec.dims) != len(order.dims) or vec.dims[:-1] != order.dims[:-1]:
        raise c.fail("VECTOR REORDER of arrays whose leading dimensions differ", ctx["element"])
    return Ex(f"_rt.vector_reorder({vec.code}, {order.code})", vec.dims, 0, False, merge_deps(vec, order),
              vec.time or order.time)


def _vector_select(c: Any, call: Any, ctx: dict) -> Ex:
    args = _args(c, call, ctx)
    sel, expr = args[0], args[1]
    dims = c.union(sel, expr)
    axes = tuple(i + 1 for i, (d, _) in enumerate(dims) if d.endswith("!"))
    if not axes:
        raise c.fail("VECTOR SELECT without a '!' dimension", ctx["element"])
    out_dims = tuple((d, crd) for d, crd in dims if not d.endswith("!"))
    codes = [a.code if a.scalar else c.align(a, dims) for a in (sel, expr)]
    rest = ", ".join(a.code for a in args[2:])
    return Ex(f"_rt.vector_select({codes[0]}, {codes[1]}, {axes}, {rest})", out_dims, 0, False, merge_deps(*args),
              any(a.time for a in args))


def _elmcount(c: Any, call: Any, ctx: dict) -> Ex:
    (arg,) = _args(c, call, ctx)
    return Ex(str(len(arg.dims[0][1])) if arg.dims else "1", scalar=True)


#: Vensim function (PySD's name for the call) -> emitter
FUNCTIONS: dict[str, Emitter] = {
    # numpy functions, as PySD's functionspace writes them
    "abs": elementwise("np.abs({0})", arity=1),
    "exp": elementwise("np.exp({0})", arity=1),
    "sin": elementwise("np.sin({0})", arity=1),
    "cos": elementwise("np.cos({0})", arity=1),
    "tan": elementwise("np.tan({0})", arity=1),
    "arcsin": elementwise("np.arcsin({0})", arity=1),
    "arccos": elementwise("np.arccos({0})", arity=1),
    "arctan": elementwise("np.arctan({0})", arity=1),
    "sinh": elementwise("np.sinh({0})", arity=1),
    "cosh": elementwise("np.cosh({0})", arity=1),
    "tanh": elementwise("np.tanh({0})", arity=1),
    "sqrt": elementwise("np.sqrt({0})", arity=1),
    "ln": elementwise("np.log({0})", arity=1),
    "log": elementwise("(np.log({0})/np.log({1}))", arity=2),
    "pi": elementwise("np.pi", arity=0),
    "power": elementwise("np.power({0}, {1})", arity=2),
    "min": elementwise("np.minimum({0}, {1})", arity=2),
    "max": elementwise("np.maximum({0}, {1})", arity=2),
    # pysd.py_backend.functions, element by element (_runtime)
    "if_then_else": elementwise("_rt.if_then_else({0}, {1}, {2})", arity=3),
    "xidz": elementwise("_rt.xidz({0}, {1}, {2})", arity=3),
    "zidz": elementwise("_rt.zidz({0}, {1})", arity=2),
    "integer": elementwise("_rt.integer({0})", arity=1),
    "modulo": elementwise("_rt.modulo({0}, {1})", arity=2),
    "quantum": elementwise("_rt.quantum({0}, {1})", arity=2),
    # functions of time
    "step": elementwise("_rt.step(t, _dt, {0}, {1})", time=True, arity=2),
    "ramp": elementwise("_rt.ramp(t, {0}, {1}, {2})", time=True, arity=3),
    "Xramp": elementwise("_rt.ramp(t, {0}, {1})", time=True, arity=2),
    "pulse": elementwise("_rt.pulse(t, _dt, {0}, width={1})", time=True, arity=2),
    "Xpulse": elementwise("_rt.pulse(t, _dt, {0}, magnitude={1})", time=True, arity=2),
    "pulse_train": elementwise("_rt.pulse_train(t, _dt, {0}, {1}, {2}, {3})", time=True, arity=4),
    "Xpulse_train": elementwise("_rt.pulse_train_magnitude(t, _dt, {0}, {1}, {2})", time=True, arity=3),
    "get_time_value": _get_time_value,
    "active_initial": _active_initial,
    # reductions and vector functions over '!' dimensions
    "sum": _reduction("sum"),
    "prod": _reduction("prod"),
    "vmin": _reduction("vmin"),
    "vmax": _reduction("vmax"),
    "elmcount": _elmcount,
    "invert_matrix": _invert_matrix,
    "vector_select": _vector_select,
    "vector_sort_order": _vector_order("vector_sort_order"),
    "vector_rank": _vector_order("vector_rank"),
    "vector_reorder": _vector_reorder,
}
