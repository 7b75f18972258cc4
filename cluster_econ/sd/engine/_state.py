"""The state the parts of the kernel compiler share, and the helpers they all use.

``KernelCompiler`` is built of parts (``ElementsMixin``, ``TablesMixin``, ``CodegenMixin`` and the
visitor of ``_compiler``); each derives from :class:`CompilerState`, which declares every attribute
they share and the methods one part calls on another, so each part is type-checked on its own.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from cluster_econ.errors import UnsupportedConstructError

from ._nodes import Dims, Ex, Node, Stateful
from ._sparse import Gather

__all__ = ["CompilerState", "DimensionMismatch"]

_MARKER = re.compile("«([0-9]+)»")  # a hoist candidate in generated code (see CodegenMixin.resolve)
_CHOICE = re.compile("‹([0-9]+)›")  # sparse or dense form of a product (see ._sparse)


class DimensionMismatch(UnsupportedConstructError):
    """Dimensions that do not line up; re-raised naming the variable being compiled."""


class CompilerState:
    """What the compiler's parts share: the model being compiled and what is compiled so far."""

    section: Any  # PySD's SectionBuilder of the model
    model_name: str
    timeseries: frozenset[str]  # constants given as time series
    macros: dict[str, Any]  # macro name -> its SectionBuilder
    subs: Any  # PySD's SubscriptManager of the section being compiled
    ns: Any  # PySD's NamespaceManager of the section being compiled
    elements: dict[str, Any]  # Python name -> PySD's element builder
    prefix: str  # name prefix of the macro instance being compiled ("" for the model itself)
    params: dict[str, Ex]  # macro parameters of the instance being compiled
    _instances: int
    external_files: set[str]
    dynamic_control: bool  # TIME STEP, FINAL TIME or SAVEPER change during the run
    arrays: dict[str, np.ndarray]
    nodes: dict[str, Node]
    statefuls: dict[str, Stateful]
    _stateful_keys: int  # keys handed out, nested calls included (a call's key is taken before its arguments)
    _memo: dict[int, Ex]
    constants: dict[str, dict[str, Any]]
    lookups: dict[str, tuple[str, str, str, Dims]]
    variables: dict[str, dict[str, Any]]
    control: dict[str, float]
    hoists: dict[int, Ex]  # candidate sub-expressions that may be constant in time
    divisions: list[tuple[str, str]]  # (element, code of a divisor)
    gather: Gather | None  # set while a factor is compiled on gathered cells (._sparse)
    choices: dict[int, tuple[int, str, str]]  # sparse or dense form, by hoist candidate

    if TYPE_CHECKING:  # defined by the parts; declared here for the others that call them
        def visit(self, ast: Any, ctx: dict) -> Ex: ...
        def compile_element(self, py_name: str) -> None: ...
        def _compile_lookup(self, py_name: str) -> None: ...
        def _component_ctx(self, py_name: str, component: Any, mode: str) -> dict: ...
        def _naming(self, py_name: str) -> contextlib.AbstractContextManager[None]: ...

    def _array(self, value: np.ndarray, prefix: str = "_A") -> str:
        key = f"{prefix}{len(self.arrays)}"
        self.arrays[key] = np.ascontiguousarray(value)
        return key

    def fail(self, construct: str, element: str, hint: str = "") -> UnsupportedConstructError:
        vensim = self.elements[element].name if element in self.elements else element
        msg = (f"{construct} used by {vensim!r} in model {self.model_name!r} is not supported by the "
               "batch engine.")
        return UnsupportedConstructError(msg + (" " + hint if hint else " Use engine='pysd' for this model."))

    _fail = fail

    @staticmethod
    def vensim_function(call: Any) -> str:
        """The Vensim spelling of a call's function (``if_then_else`` -> ``IF THEN ELSE``)."""
        return str(call.function.reference).upper().replace("_", " ")

    def reduction(self, kind: str, arg: Ex, axes: tuple[int, ...]) -> str:
        """Code of a SUM/PROD/VMIN/VMAX of ``arg`` over ``axes`` (NaN skipped, as xarray does)."""
        return f"_rt.reduce({kind!r}, {arg.code}, {axes})"

    def candidate(self, ex: Ex) -> Ex:
        """``ex`` registered as a sub-expression that is computed once per run if it proves constant.

        Whether it is constant is known only when every element is compiled (``CodegenMixin``), so
        its code is replaced by a marker the code generator resolves: the hoisted value where every
        dependency is constant in time, the expression itself elsewhere.
        """
        if ex.scalar or ex.time or self.dynamic_control or ex.code.isidentifier() or _MARKER.fullmatch(ex.code):
            return ex
        key = len(self.hoists)
        self.hoists[key] = Ex(ex.code, ex.dims, ex.order, ex.scalar, ex.deps, ex.time)
        return Ex(f"«{key}»", ex.dims, 0, ex.scalar, ex.deps, ex.time)

    @staticmethod
    def marker_key(code: str) -> int | None:
        """The hoist candidate ``code`` is the marker of (None if it is not a marker)."""
        match = _MARKER.fullmatch(code)
        return int(match.group(1)) if match else None

    def choice(self, key: int, sparse: str, dense: str) -> str:
        """A marker for ``sparse`` where hoist candidate ``key`` proves constant, else ``dense``."""
        number = len(self.choices)
        self.choices[number] = (key, sparse, dense)
        return _CHOICE.pattern.replace("([0-9]+)", str(number))

    def element_dims(self, py_name: str) -> Dims:
        el = self.elements[py_name]
        return tuple((d, tuple(c)) for d, c in self.subs.make_coord_dict(el.subscripts).items())

    @staticmethod
    def _shape(dims: Dims) -> tuple[int, ...]:
        return tuple(len(c) for _, c in dims)

    def align(self, ex: Ex, target: Dims, *, lead: bool = True) -> str:
        """Code for ``ex`` laid out on ``target`` dims (missing dims become length-1 axes)."""
        gathered = None if self.gather is None else self.gather.align(ex, target)
        if gathered is not None:
            return gathered
        if ex.scalar or (ex.dims == target[: len(ex.dims)] and len(ex.dims) == len(target)):
            return ex.code
        names = [d for d, _ in target]
        tmap = dict(target)
        for d, c in ex.dims:
            if d not in tmap:
                raise DimensionMismatch(f"The dimension {d!r}, which cannot be placed on the dimensions {names},")
            if tuple(tmap[d]) != tuple(c):
                raise DimensionMismatch(
                    f"The dimension {d!r} with two different sets of elements ({list(tmap[d])} and {list(c)})")
        own = [d for d, _ in ex.dims]
        order = sorted(range(len(own)), key=lambda i: names.index(own[i]))
        code = f"({ex.code})"
        if order != list(range(len(own))):
            code = f"np.transpose({ex.code}, {(0, *[i + 1 for i in order])})"
        present = {own[i] for i in order}
        if len(present) != len(names):
            idx = ", ".join(":" if d in present else "None" for d in names)
            code = f"{code}[:, {idx}]"
        return code

    @staticmethod
    def union(*exs: Ex) -> Dims:
        out: dict[str, tuple] = {}
        for e in exs:
            for d, c in e.dims:
                if d in out and tuple(out[d]) != tuple(c):
                    raise DimensionMismatch(
                        f"The dimension {d!r} with two different sets of elements ({list(out[d])} and {list(c)})")
                out.setdefault(d, tuple(c))
        return tuple(out.items())
