"""Sparse evaluation of ``SUM(w[A, B!] * f(...))`` when the weights ``w`` are constant in time.

A between-region exchange ``SUM(weight[Region, Partner!] * MAX(x[Partner!] - x[Region], 0))`` builds
an S x R x P array at every step, although most weights are zero (a region trades with the few
regions of its group). When the weights prove constant in time, the kernel computes once per run
(per scenario chunk) which partners have a weight that is not zero in some scenario
(:func:`sparsity`: at most K per region, padded with zero weights),
and at every step evaluates the other factor only at those R x K cells, gathering the partner
values with an index array. Zero weights contribute nothing to the sum (and a non-finite product
is skipped by the NaN-skipping sum either way), so the result is the dense one up to the order of
the additions.

The gathered factor is compiled a second time from the same syntax, with :meth:`Gather.align`
laying out operands on the R x K cells. Only element-wise arithmetic, comparisons and a few
element-wise functions of references of at most one dimension are compiled this way; anything
else (a stateful object, a lookup, a nested reduction, a subscripted array of both dimensions)
keeps the dense form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._nodes import Dims, Ex

__all__ = ["Gather", "NotGathered", "sparse_product", "sparsity"]

#: functions whose result at a cell depends on the arguments at that cell only
ELEMENTWISE = frozenset({"max", "min", "abs", "exp", "ln", "sqrt", "if_then_else", "integer"})
_NODES = ("ArithmeticStructure", "LogicStructure", "ReferenceStructure", "CallStructure")


class NotGathered(Exception):
    """The factor cannot be evaluated on the gathered cells; the dense form is used."""


@dataclass(frozen=True)
class Gather:
    """Layout of the gathered cells: ``dims`` = (A, B!) of the dense product, ``cols`` the code of the
    (A, K) index array of the partners (B!) kept per row."""

    dims: Dims
    cols: str

    def check(self, ast: Any) -> None:
        """Refuse (:class:`NotGathered`) a syntax node that is not element-wise."""
        if isinstance(ast, bool | int | float):
            return
        kind = type(ast).__name__
        if kind not in _NODES:
            raise NotGathered(kind)
        if kind == "CallStructure" and ast.function.reference not in ELEMENTWISE:
            raise NotGathered(str(ast.function.reference))

    def reference(self, ex: Ex) -> Ex:
        """A reference is gathered only when it has at most one dimension."""
        if len(ex.dims) > 1:
            raise NotGathered("a reference with more than one dimension")
        return ex

    def align(self, ex: Ex, target: Dims) -> str | None:
        """Code of ``ex`` on the gathered cells of ``target``; None if ``target`` has no partner axis."""
        if all(d != self.dims[1][0] for d, _ in target):
            return None
        if target != self.dims:
            raise NotGathered("an operand laid out on other dimensions")
        if ex.scalar or ex.dims == target:
            return ex.code  # already on the gathered cells
        if ex.dims == self.dims[1:]:
            return f"({ex.code})[:, {self.cols}]"
        if ex.dims == self.dims[:1]:
            return f"({ex.code})[:, :, None]"
        if not ex.dims:
            return f"({ex.code})[:, None, None]"
        raise NotGathered("an operand with other dimensions")


def sparse_product(c: Any, factor: Any, left: Ex, dims: Dims, axes: tuple[int, ...], ctx: dict,
                   dense: str) -> str:
    """The code of ``SUM(left * factor)``: a choice between the sparse and the ``dense`` form.

    The choice is made when the kernel is generated: the sparse form where ``left`` proves constant
    in time, the dense form elsewhere (and always in ``_init``).
    """
    if (len(dims) != 2 or axes != (2,) or left.dims != dims or not left.code.isidentifier() or left.time
            or c.dynamic_control or c.gather is not None):
        return dense
    pattern = c.candidate(Ex(f"_rt.sparsity({left.code})", dims, 0, False, left.deps, left.time))
    key = c.marker_key(pattern.code)
    if key is None:
        return dense
    statefuls, arrays = len(c.statefuls), len(c.arrays)
    c.gather = Gather(dims, f"{pattern.code}[0]")
    try:
        ex = c.visit(factor, ctx)
        code = c.align(ex, dims)
    except NotGathered:
        return dense
    finally:
        c.gather = None
    if len(c.statefuls) != statefuls or len(c.arrays) != arrays:
        return dense
    return c.choice(key, f"_rt.sum_product({pattern.code}[1], {code}, {axes})", dense)


def sparsity(w):
    """The cells of ``w`` (scenario axis, rows, partners) that a sum over partners needs.

    Returns ``(cols, weights)``: per row the K partners whose weight is not zero in some scenario
    (in increasing order, padded with zero-weight partners; K at least 1), and ``w`` at those cells
    (0 at the padding). See :mod:`cluster_econ.sd.engine._sparse`.
    """
    w = np.asarray(w, dtype=float)
    needed = (w != 0).any(axis=0)
    k = max(1, int(needed.sum(axis=1).max(initial=0)))
    cols = np.argsort(~needed, axis=1, kind="stable")[:, :k]
    kept = np.take_along_axis(needed, cols, axis=1)
    weights = np.where(kept, np.take_along_axis(w, cols[None], axis=2), 0.0)
    return cols, weights
