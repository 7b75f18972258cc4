"""Compile PySD's abstract model into a vectorised numpy kernel (generated Python source).

The parser is PySD's (``pysd.translators``); names and subscript ranges come from PySD's own
builder machinery (``SectionBuilder``, ``SubscriptManager``, ``NamespaceManager``), so Python
names, dimension names and element orders are exactly PySD's. Every value in a kernel is a numpy
array whose first axis is the scenario axis (length S, or 1 when it does not vary between
scenarios), followed by the variable's subscript dimensions in PySD's order.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from typing import Any

import numpy as np

from cluster_econ.errors import UnsupportedConstructError

from . import _runtime
from ._nodes import CONTROL, NUMPY_FUNCS, OPS, REDUCE, Dims, Ex, Node, Stateful, merge_deps
from ._statefuls import StatefulsMixin
from ._tables import TablesMixin, load_abstract_model

logger = logging.getLogger(__name__)

__all__ = ["CONTROL", "KernelCompiler", "load_abstract_model"]


class DimensionMismatch(UnsupportedConstructError):
    """Dimensions that do not line up; re-raised naming the variable being compiled."""


class KernelCompiler(StatefulsMixin, TablesMixin):
    """Compile one abstract model section into kernel source plus constant arrays."""

    def __init__(self, abstract_model: Any, *, name: str, timeseries: frozenset = frozenset()):
        from pysd.builders.python.python_model_builder import ModelBuilder

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sections = ModelBuilder(abstract_model).sections
        self.section = sections[0]
        self.model_name = name
        self.timeseries = frozenset(timeseries)
        for section in sections:
            for element in section.elements:
                section.namespace.add_to_namespace(element.name)
                element.identifier = section.namespace.namespace[element.name]
                section.subscripts.elements[element.identifier] = element.subscripts
        self.macros = {sec.name: sec for sec in sections[1:]}
        self.subs = self.section.subscripts
        self.ns = self.section.namespace
        self.elements = {el.identifier: el for el in self.section.elements}
        self.prefix = ""  # name prefix of the macro instance being compiled ("" for the model itself)
        self.params: dict[str, Ex] = {}
        self._instances = 0
        self.external_files: set[str] = set()
        self.dynamic_control = False  # TIME STEP, FINAL TIME or SAVEPER change during the run
        self.arrays: dict[str, np.ndarray] = {}
        self.nodes: dict[str, Node] = {}
        self.statefuls: dict[str, Stateful] = {}
        self._memo: dict[int, Ex] = {}
        self.constants: dict[str, dict] = {}
        self.lookups: dict[str, tuple[str, str, str, Dims]] = {}
        self.variables: dict[str, dict] = {}
        self.control: dict[str, float] = {}

    # ------------------------------------------------------------------ helpers
    def _array(self, value: np.ndarray, prefix: str = "_A") -> str:
        key = f"{prefix}{len(self.arrays)}"
        self.arrays[key] = np.ascontiguousarray(value)
        return key

    def _fail(self, construct: str, element: str, hint: str = "") -> UnsupportedConstructError:
        vensim = self.elements[element].name if element in self.elements else element
        msg = (f"{construct} used by {vensim!r} in model {self.model_name!r} is not supported by the "
               "batch engine.")
        return UnsupportedConstructError(msg + (" " + hint if hint else " Use engine='pysd' for this model."))

    def element_dims(self, py_name: str) -> Dims:
        el = self.elements[py_name]
        return tuple((d, tuple(c)) for d, c in self.subs.make_coord_dict(el.subscripts).items())

    @staticmethod
    def _shape(dims: Dims) -> tuple[int, ...]:
        return tuple(len(c) for _, c in dims)

    def align(self, ex: Ex, target: Dims, *, lead: bool = True) -> str:
        """Code for ``ex`` laid out on ``target`` dims (missing dims become length-1 axes)."""
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

    # ------------------------------------------------------------------ visitor
    def visit(self, ast: Any, ctx: dict) -> Ex:
        from pysd.translators.structures import abstract_expressions as ae

        if isinstance(ast, bool):
            return Ex(repr(float(ast)), scalar=True)
        if isinstance(ast, int | float | np.integer | np.floating):
            value = float(ast) if isinstance(ast, np.floating) else ast
            if isinstance(value, float) and np.isnan(value):
                return Ex("np.nan", scalar=True)
            return Ex(repr(value), scalar=True)
        if isinstance(ast, np.ndarray):
            dims = ctx["def_dims"]
            arr = np.asarray(ast, dtype=float).reshape((1, *self._shape(dims)))
            return Ex(self._array(arr), dims=dims)
        if isinstance(ast, ae.ArithmeticStructure | ae.LogicStructure):
            return self._operation(ast, ctx)
        if isinstance(ast, ae.ReferenceStructure):
            return self._reference(ast, ctx)
        if isinstance(ast, ae.CallStructure):
            return self._call(ast, ctx)
        if isinstance(ast, ae.InlineLookupsStructure):
            arg = self.visit(ast.argument, ctx)
            lk = ast.lookups
            xs = self._array(np.asarray(lk.x, dtype=float), "_X")
            ys = self._array(np.asarray(lk.y, dtype=float), "_Y")
            return Ex(f"_rt.lookup({arg.code}, {xs}, {ys}, 'interpolate')", dims=arg.dims,
                      scalar=arg.scalar, deps=arg.deps, time=arg.time)
        if isinstance(ast, ae.AllocateByPriorityStructure):
            return self._allocate_by_priority(ast, ctx)
        if isinstance(ast, ae.GetConstantsStructure):
            values = self._external("constant", ast, ctx)
            arr = np.asarray(values, dtype=float).reshape((1, *self._shape(ctx["def_dims"])))
            return Ex(self._array(arr), dims=ctx["def_dims"])
        if isinstance(ast, ae.GetDataStructure):
            times, values = self._external("data", ast, ctx)
            ys = np.asarray(values, dtype=float).reshape((len(times), 1, *self._shape(ctx["def_dims"])))
            interp = (ctx.get("keyword") or "interpolate").replace(" ", "_")
            code = f"_rt.data(t, {self._array(np.asarray(times, float), '_X')}, {self._array(ys, '_Y')}, {interp!r})"
            return Ex(code, dims=ctx["def_dims"], time=True)
        stateful_kinds = (ae.IntegStructure, ae.DelayStructure, ae.DelayNStructure, ae.DelayFixedStructure,
                          ae.SmoothStructure, ae.SmoothNStructure, ae.TrendStructure, ae.ForecastStructure,
                          ae.SampleIfTrueStructure, ae.InitialStructure)
        if isinstance(ast, stateful_kinds):
            return self._stateful(ast, ctx)
        raise self._fail(type(ast).__name__.replace("Structure", "").upper(), ctx["element"])

    def _operation(self, ast: Any, ctx: dict) -> Ex:
        args = [self.visit(a, ctx) for a in ast.arguments]
        ops = list(ast.operators)
        dims = self.union(*args)
        for a in args:
            if not a.scalar and a.dims != dims:
                a.code = self.align(a, dims)
                a.order = 0
        deps = merge_deps(*args)
        tflag = any(a.time for a in args)
        scalar = all(a.scalar for a in args)
        order = OPS[ops[-1]][1]
        if ops[-1] == "^":
            args[-1].lower(2)
        else:
            args[-1].lower(order)
        if len(args) == 1:
            if ops[0] == "negative":
                order = 1
            return Ex(OPS[ops[0]][0] % args[0].code, dims, order, scalar, deps, tflag)
        right = args.pop().code
        while args or ops:
            template = OPS[ops.pop()][0]
            left = args.pop()
            left.lower(order)
            right = template % {"left": left.code, "right": right}
        return Ex(right, dims, order, scalar, deps, tflag)

    def _dep(self, py_name: str, ctx: dict) -> Ex:
        """A reference to a whole element."""
        if py_name == "time":
            return Ex("t", scalar=True, time=True)
        if py_name in CONTROL:
            return Ex(CONTROL[py_name], scalar=True)
        el = self.elements[py_name]
        if el.components and type(el.components[0]).__name__ == "ComponentBuilder" and getattr(
                el.components[0], "type", "") == "Lookup":
            raise self._fail(f"Use of the lookup {el.name!r} without an argument", ctx["element"])
        node = self.prefix + py_name
        return Ex(f"v_{node}", dims=self.element_dims(py_name), deps=frozenset({node}))

    def _reference(self, ast: Any, ctx: dict) -> Ex:
        ref = ast.reference
        if ref in self.ns.cleanspace and self.ns.cleanspace[ref] in self.params:
            param = self.params[self.ns.cleanspace[ref]]
            if getattr(ast.subscripts, "subscripts", None):
                raise self._fail("A subscripted macro parameter", ctx["element"])
            return Ex(param.code, param.dims, param.order, param.scalar, param.deps, param.time)
        if ref not in self.ns.cleanspace and ref in CONTROL:
            return Ex(CONTROL[ref], scalar=True)
        if ref not in self.ns.cleanspace:
            if ref in self.subs.subscript2num:
                expr, subs = self.subs.subscript2num[ref]
                if not subs:
                    return Ex(expr, scalar=True)
                (dim, coords), = subs.items()
                values = np.asarray(eval(expr, {"np": np, "_subscript_dict": self.subs.subscripts}),
                                    dtype=float)
                return Ex(self._array(values.reshape(1, -1)), dims=((dim, tuple(coords)),))
            raise self._fail(f"The unknown name {ref!r}", ctx["element"])
        py_name = self.ns.cleanspace[ref]
        whole = self._dep(py_name, ctx)
        ref_subs = getattr(ast.subscripts, "subscripts", [])
        if not ref_subs or whole.scalar:
            return whole
        return self._subscript(whole, py_name, list(ref_subs), ctx)

    def _subscript(self, whole: Ex, py_name: str, ref_subs: list, ctx: dict, *, lead: int = 1) -> Ex:
        coords = self.subs.make_coord_dict(ref_subs)
        if len(coords) != len(ref_subs):
            raise self._fail("A reference with a repeated subscript range", ctx["element"])
        def_subs = ctx["def_subs"]
        mapping: dict[str, list] = {}
        for dim, crd in coords.items():
            if len(crd) > 1:
                if dim not in def_subs and not dim.endswith("!"):
                    not_mapped = True
                    for mapped in self.subs.mapping[dim]:
                        if mapped in def_subs and mapped not in coords:
                            mapping[mapped] = self.subs.subscripts[mapped]
                            not_mapped = False
                            break
                    if not_mapped:
                        mapping[dim] = crd
                else:
                    mapping[dim] = crd
        original = list(whole.dims)
        if len(original) != len(coords):
            raise self._fail(f"A reference to {py_name!r} with {len(coords)} subscripts", ctx["element"])
        index: list[str] = [":"] * lead
        takes: list[tuple[int, list[int]]] = []
        final: list[tuple[str, tuple]] = []
        axis = lead
        for (dim, crd), (_odim, ocrd) in zip(coords.items(), original, strict=True):
            if len(crd) == 1:
                if crd[0] not in ocrd:
                    raise self._fail(f"The subscript {crd[0]!r} of {py_name!r}", ctx["element"])
                index.append(str(list(ocrd).index(crd[0])))
                continue
            index.append(":")
            if len(crd) < len(ocrd):
                try:
                    pos = [list(ocrd).index(c) for c in crd]
                except ValueError as err:
                    raise self._fail(f"The subrange {dim!r} of {py_name!r}", ctx["element"]) from err
                takes.append((axis, pos))
            elif len(crd) > len(ocrd):
                raise self._fail(f"The range {dim!r} on {py_name!r}", ctx["element"])
            final.append((dim, tuple(crd)))
            axis += 1
        code = whole.code
        if any(i != ":" for i in index):
            code = f"{code}[{', '.join(index)}]"
        for ax, pos in takes:
            if pos != list(range(pos[0], pos[0] + len(pos))):
                code = f"np.take({code}, {self._array(np.asarray(pos), '_I')}, axis={ax})"
            else:
                sl = [":"] * ax + [f"{pos[0]}:{pos[0] + len(pos)}"]
                code = f"{code}[{', '.join(sl)}]"
        dims = tuple(final)
        if len(mapping) != len(final):
            raise self._fail(f"The subscript mapping on {py_name!r}", ctx["element"])
        mdims = tuple((d, tuple(c)) for d, c in mapping.items())
        for (d1, c1), (_d2, c2) in zip(dims, mdims, strict=True):
            if len(c1) != len(c2):
                raise self._fail(f"The subscript mapping of {d1!r} on {py_name!r}", ctx["element"])
        return Ex(code, dims=mdims, deps=whole.deps, time=whole.time)

    def _call(self, ast: Any, ctx: dict) -> Ex:
        fname = ast.function.reference
        if fname in self.macros:
            return self._macro_call(fname, ast, ctx)
        if fname in self.ns.cleanspace:
            return self._lookup_call(ast, ctx)
        if fname == "active_initial":
            ctx["active_initial"] = True
            chosen = ast.arguments[1] if ctx["mode"] == "init" else ast.arguments[0]
            ex = self.visit(chosen, ctx)
            ex.lower(-1) if ex.order else None
            return ex
        if fname == "get_time_value":
            rel, _offset, measure = ast.arguments
            if rel != 0 or measure != 0:
                raise self._fail("GET TIME VALUE other than (0, offset, 0) (simulation time plus offset)",
                                 ctx["element"])
        args = [self.visit(a, ctx) for a in ast.arguments]
        deps = merge_deps(*args)
        tflag = any(a.time for a in args)
        if fname == "get_time_value":
            off = args[1]
            return Ex(f"(t + {off.code})", off.dims, 0, off.scalar, deps, True)
        if fname == "invert_matrix":
            mat = args[0]
            if mat.scalar or len(mat.dims) < 2:
                raise self._fail("INVERT MATRIX of a variable with fewer than two dimensions", ctx["element"])
            return Ex(f"np.linalg.inv({mat.code})", mat.dims, 0, False, deps, tflag)
        if fname in ("vector_sort_order", "vector_rank"):
            vec, direction = args
            if vec.scalar or not vec.dims:
                raise self._fail(f"{fname.upper()} of a variable without subscripts", ctx["element"])
            return Ex(f"_rt.{fname}({vec.code}, {direction.code})", vec.dims, 0, False, deps, tflag)
        if fname == "vector_reorder":
            vec, order = args
            if vec.scalar or order.scalar or len(vec.dims) != len(order.dims) or vec.dims[:-1] != order.dims[:-1]:
                raise self._fail("VECTOR REORDER of arrays whose leading dimensions differ", ctx["element"])
            return Ex(f"_rt.vector_reorder({vec.code}, {order.code})", vec.dims, 0, False, deps, tflag)
        if fname == "vector_select":
            sel, expr = args[0], args[1]
            dims = self.union(sel, expr)
            axes = tuple(i + 1 for i, (d, _) in enumerate(dims) if d.endswith("!"))
            if not axes:
                raise self._fail("VECTOR SELECT without a '!' dimension", ctx["element"])
            out_dims = tuple((d, c) for d, c in dims if not d.endswith("!"))
            codes = [self.align(a, dims) if not a.scalar else a.code for a in (sel, expr)]
            rest = ", ".join(a.code for a in args[2:])
            return Ex(f"_rt.vector_select({codes[0]}, {codes[1]}, {axes}, {rest})", out_dims, 0, False, deps, tflag)
        if fname in REDUCE:
            (arg,) = args
            axes = [i + 1 for i, (d, _) in enumerate(arg.dims) if d.endswith("!")]
            if arg.scalar or not axes:
                raise self._fail(f"{fname.upper()} without a '!' dimension", ctx["element"])
            dims = tuple((d, c) for d, c in arg.dims if not d.endswith("!"))
            return Ex(f"_rt.reduce({fname!r}, {arg.code}, {tuple(axes)})", dims, 0, False, deps, tflag)
        if fname == "elmcount":
            return Ex(str(len(args[0].dims[0][1])) if args[0].dims else "1", scalar=True)
        dims = self.union(*args)
        scalar = all(a.scalar for a in args)
        if fname in ("step", "ramp", "pulse", "pulse_train", "Xpulse", "Xpulse_train", "Xramp"):
            tflag = True
            scalar = False if not scalar else scalar
        codes = [self.align(a, dims) if not a.scalar else a.code for a in args]
        out = None
        if fname in NUMPY_FUNCS:
            out = f"{NUMPY_FUNCS[fname]}({codes[0]})"
        elif fname == "pi":
            out = "np.pi"
        elif fname == "power":
            out = f"np.power({codes[0]}, {codes[1]})"
        elif fname == "min":
            out = f"np.minimum({codes[0]}, {codes[1]})"
        elif fname == "max":
            out = f"np.maximum({codes[0]}, {codes[1]})"
        elif fname == "log":
            out = f"(np.log({codes[0]})/np.log({codes[1]}))"
        elif fname == "if_then_else":
            out = f"_rt.if_then_else({codes[0]}, {codes[1]}, {codes[2]})"
        elif fname in ("xidz", "zidz", "integer", "modulo", "quantum"):
            out = f"_rt.{fname}({', '.join(codes)})"
        elif fname == "step":
            out = f"_rt.step(t, _dt, {codes[0]}, {codes[1]})"
        elif fname == "ramp":
            out = f"_rt.ramp(t, {codes[0]}, {codes[1]}, {codes[2]})"
        elif fname == "Xramp":
            out = f"_rt.ramp(t, {codes[0]}, {codes[1]})"
        elif fname == "pulse":
            out = f"_rt.pulse(t, _dt, {codes[0]}, width={codes[1]})"
        elif fname == "Xpulse":
            out = f"_rt.pulse(t, _dt, {codes[0]}, magnitude={codes[1]})"
        elif fname == "pulse_train":
            out = f"_rt.pulse_train(t, _dt, {codes[0]}, {codes[1]}, {codes[2]}, {codes[3]})"
        if out is None:
            raise self._fail(f"The function {fname.upper()}", ctx["element"])
        return Ex(out, dims, 0, scalar, deps, tflag)

    def _allocate_by_priority(self, ast: Any, ctx: dict) -> Ex:
        request, priority, width, supply = (self.visit(a, ctx) for a in (ast.request, ast.priority, ast.width,
                                                                          ast.supply))
        if request.scalar or not request.dims:
            raise self._fail("ALLOCATE BY PRIORITY of a request without subscripts", ctx["element"])
        last = request.dims[-1]
        merged = [d for d in self.union(request, priority, width, supply) if d[0] != last[0]]
        dims = (*merged, last)
        codes = [a.code if a.scalar else self.align(a, dims) for a in (request, priority)]
        codes += [a.code if a.scalar else self.align(a, tuple(merged)) for a in (width, supply)]
        deps = merge_deps(request, priority, width, supply)
        tflag = any(a.time for a in (request, priority, width, supply))
        return Ex(f"_rt.allocate_by_priority({', '.join(codes)})", dims, 0, False, deps, tflag)

    def _lookup_call(self, ast: Any, ctx: dict) -> Ex:
        py_name = self.ns.cleanspace[ast.function.reference]
        if self.prefix + py_name not in self.lookups:
            raise self._fail(f"The call to {py_name!r} (not a lookup table)", ctx["element"])
        (arg_ast,) = ast.arguments
        arg = self.visit(arg_ast, ctx)
        xs, ys, interp, tdims = self.lookups[self.prefix + py_name]
        table = Ex(ys, dims=tdims)
        ref_subs = getattr(ast.function.subscripts, "subscripts", [])
        if ref_subs:
            table = self._subscript(table, py_name, list(ref_subs), ctx)
        dims = self.union(arg, table)
        xcode = arg.code if arg.scalar else self.align(arg, dims)
        ycode = self.align(table, dims) if table.dims else table.code
        scalar = arg.scalar and not dims
        code = f"_rt.lookup({xcode}, {xs}, {ycode}, {interp!r})"
        if arg.scalar and dims:  # the table's dimensions only: add the scenario axis
            code = f"{code}[None]"
        return Ex(code, dims, 0, scalar, arg.deps, arg.time)

    # ------------------------------------------------------------------ statefuls
    # ------------------------------------------------------------------ elements
    def _component_ctx(self, py_name: str, component: Any, mode: str) -> dict:
        def_subs = self.subs.make_coord_dict(component.subscripts[0])
        return {
            "element": py_name,
            "def_subs": def_subs,
            "def_dims": tuple((d, tuple(c)) for d, c in def_subs.items()),
            "mode": mode,
            "keyword": getattr(component, "keyword", None),
        }

    def _placement(self, py_name: str, component: Any, def_dims: Dims) -> tuple[str, str] | None:
        """Flat target/source index arrays placing a component in its element (None: whole)."""
        el_dims = self.element_dims(py_name)
        idx = []
        for (_d, coords), (_ed, ecoords) in zip(def_dims, el_dims, strict=True):
            idx.append([list(ecoords).index(c) for c in coords])
        cshape = self._shape(def_dims)
        mask = np.ones(cshape, dtype=bool)
        for exc in component.subscripts[1]:
            exc_dict = self.subs.make_coord_dict(exc)
            sel = []
            for (_d, coords), (_ed, ecrd) in zip(def_dims, exc_dict.items(), strict=True):
                sel.append([list(coords).index(c) for c in ecrd if c in coords])
            mask[np.ix_(*sel)] = False
        eshape = self._shape(el_dims)
        full = all(i == list(range(n)) for i, n in zip(idx, eshape, strict=True)) and mask.all()
        if full:
            return None
        grids = np.meshgrid(*[np.asarray(i) for i in idx], indexing="ij") if idx else []
        target = np.ravel_multi_index(tuple(g.ravel() for g in grids), eshape) if idx else np.zeros(1, int)
        source = np.arange(int(np.prod(cshape, dtype=int)))
        keep = mask.ravel()
        return self._array(target[keep], "_I"), self._array(source[keep], "_I")

    def compile_element(self, py_name: str) -> None:
        """Compile one element; any failure becomes an UnsupportedConstructError naming it."""
        with self._naming(py_name):
            self._compile_element(py_name)

    @contextlib.contextmanager
    def _naming(self, py_name: str):
        try:
            yield
        except DimensionMismatch as err:
            raise self._fail(str(err), py_name) from None
        except UnsupportedConstructError:
            raise
        except Exception as err:  # a construct the compiler does not recognise
            raise self._fail(f"An expression the batch engine cannot compile ({type(err).__name__}: {err})",
                             py_name) from err

    def _compile_element(self, py_name: str) -> None:
        el = self.elements[py_name]
        comps = el.components
        kinds = {type(c.ast).__name__ if hasattr(c, "ast") else "" for c in comps}
        units = el.units
        if not self.prefix:
            self.variables[py_name] = {
                "vensim_name": el.name, "units": units or "", "description": (el.documentation or "").strip(),
                "dims": [d for d, _ in self.element_dims(py_name)],
            }
        if py_name in CONTROL and not self.prefix and not self.dynamic_control:
            return
        first = comps[0]
        ctype = getattr(first, "type", "Auxiliary")
        if ctype == "Lookup" or "LookupsStructure" in kinds or "GetLookupsStructure" in kinds:
            self._compile_lookup(py_name)
            return
        if "DataStructure" in kinds:
            raise self._fail("Data read from an output file (a DATA variable without GET)", py_name)
        el_dims = self.element_dims(py_name)
        from pysd.translators.structures.abstract_expressions import GetConstantsStructure

        literal = int | float | np.ndarray | np.integer | np.floating | GetConstantsStructure
        is_const = not self.prefix and py_name not in CONTROL and all(isinstance(c.ast, literal) for c in comps)
        node_name = self.prefix + py_name
        node = Node(name=node_name, local=f"v_{node_name}")
        for mode in ("step", "init"):
            lines: list[str] = []
            deps: set = set()
            parts = []
            tflag = False
            active = False
            for c in comps:
                ctx = self._component_ctx(py_name, c, mode)
                ex = self.visit(c.ast, ctx)
                active = active or ctx.get("active_initial", False)
                deps |= set(ex.deps)
                tflag = tflag or ex.time
                code = ex.code if ex.scalar else self.align(ex, ctx["def_dims"])
                place = self._placement(py_name, c, ctx["def_dims"])
                exact = not ex.scalar and ex.dims == ctx["def_dims"]
                parts.append((code, place, self._shape(ctx["def_dims"]), exact))
            shape = self._shape(el_dims)
            if len(parts) == 1 and parts[0][1] is None:
                value = parts[0][0] if parts[0][3] else f"_bc({parts[0][0]}, {shape})"
            else:
                for _code, place, _, _ in parts:
                    if place is None:
                        raise self._fail("Overlapping subscript definitions", py_name)
                items = ", ".join(f"({code}, {p[0]}, {p[1]}, {cs})" for code, p, cs, _ in parts)
                value = f"_rt.assemble({shape}, [{items}])"
            if py_name in self.timeseries:
                lines.append(f"v_{py_name} = _rt.lookup(t, P[{py_name!r}][0], P[{py_name!r}][1], 'interpolate')")
                tflag = True
            elif is_const:
                lines.append(f"v_{py_name} = P[{py_name!r}] if {py_name!r} in P else {value}")
            else:
                lines.append(f"v_{node_name} = {value}")
            if mode == "step":
                node.step_lines, node.step_deps = lines, deps
                node.dynamic = tflag or active
                if not active:
                    node.init_lines, node.init_deps = lines, deps
                    break
            else:
                node.init_lines, node.init_deps = lines, deps
        if is_const:
            self.constants[py_name] = {"dims": el_dims}
        self.nodes[node_name] = node

    def _macro_call(self, fname: str, ast: Any, ctx: dict) -> Ex:
        """Inline one call of a macro: its elements become nodes of their own, named per call."""
        section = self.macros[fname]
        if section.returns:
            raise self._fail(f"The macro {fname!r} with several outputs", ctx["element"])
        if len(ast.arguments) != len(section.params):
            raise self._fail(f"A call of the macro {fname!r} with {len(ast.arguments)} arguments", ctx["element"])
        args = [self.visit(a, ctx) for a in ast.arguments]
        if any(a.dims for a in args) or section.subscripts.subscripts:
            raise self._fail(f"The subscripted macro {fname!r}", ctx["element"])
        outputs = [el.identifier for el in section.elements if el.identifier == section.namespace.cleanspace.get(fname)]
        if not outputs:
            raise self._fail(f"The macro {fname!r} without an output variable of its name", ctx["element"])
        self._instances += 1
        prefix = f"_m{self._instances}_"
        saved = (self.subs, self.ns, self.elements, self.prefix, self.params, self._memo)
        self.subs, self.ns = section.subscripts, section.namespace
        self.elements = {el.identifier: el for el in section.elements}
        self.prefix = saved[3] + prefix
        self.params = {section.namespace.cleanspace[p.lower().replace(" ", "_")]: a
                       for p, a in zip(section.params, args, strict=True)}
        self._memo = {}
        try:
            for py_name in sorted(self.elements, key=lambda n: getattr(
                    self.elements[n].components[0], "type", "") != "Lookup"):
                self.compile_element(py_name)
            node = self.prefix + outputs[0]
        finally:
            self.subs, self.ns, self.elements, self.prefix, self.params, self._memo = saved
        tflag = any(a.time for a in args)
        return Ex(f"v_{node}", deps=frozenset({node}), time=tflag)

    # ------------------------------------------------------------------ control
    def _control_values(self) -> dict[str, float]:
        env: dict[str, float] = {}
        pending = [n for n in CONTROL if n in self.elements]
        for _ in range(5):
            for n in list(pending):
                el = self.elements[n]
                ctx = {"element": n, "def_subs": {}, "def_dims": (), "mode": "step"}
                with self._naming(n):
                    ex = self.visit(el.components[0].ast, ctx)
                literals = {d: self.elements[d].components[0].ast for d in ex.deps if d in self.elements}
                constant = len(literals) == len(ex.deps) and not any(
                    len(self.elements[d].components) != 1 or self.elements[d].subscripts
                    or not isinstance(v, int | float) for d, v in literals.items())
                if not constant and n == "initial_time":
                    raise self._fail("An INITIAL TIME that depends on other variables", n,
                                     "Give INITIAL TIME as a number or an expression of numeric constants.")
                if not constant or (ex.time and n != "initial_time"):
                    self.dynamic_control = True  # computed at every step by the kernel's _ctl
                    pending.remove(n)
                    env[n] = np.nan
                    continue
                names = {f"v_{d}": float(v) for d, v in literals.items()}
                try:  # an INITIAL TIME given in terms of Time is evaluated at Time = 0, as PySD does
                    env[n] = float(eval(ex.code, {"np": np, "_rt": _runtime, "t": 0.0, **names,
                                                  **{CONTROL[k]: v for k, v in env.items()}}))
                    pending.remove(n)
                    if np.isnan(env[n]) and n != "initial_time":  # follows a control that changes in time
                        self.dynamic_control = True
                except NameError:
                    continue
        if pending:
            raise self._fail("A control variable that cannot be evaluated", pending[0])
        for n in CONTROL:
            env.setdefault(n, {"initial_time": 0.0, "final_time": 1.0, "time_step": 1.0}.get(n, np.nan))
        if np.isnan(env["saveper"]) and not self.dynamic_control:
            env["saveper"] = env["time_step"]
        return env

    # ------------------------------------------------------------------ driver
    def compile(self) -> dict:
        """Compile the model; return the kernel description (source, arrays, metadata)."""
        self.control = self._control_values()
        lookups_first = sorted(self.elements, key=lambda n: getattr(
            self.elements[n].components[0], "type", "") != "Lookup")
        for py_name in lookups_first:
            self.compile_element(py_name)
        self._classify()
        init_order = self._toposort({k: n.init_deps for k, n in self.nodes.items()}, "initialisation")
        dynamic = {k for k, n in self.nodes.items() if n.dynamic}
        step_order = self._toposort({k: {d for d in n.step_deps if d in dynamic}
                                     for k, n in self.nodes.items() if k in dynamic}, "run")
        statics = [k for k in init_order if k not in dynamic and not k.startswith("_s")]
        src = ["# generated by cluster_econ.sd.engine; do not edit", "", "",
               "def _init(P, S, _t0, _dt, _tf, _sp):",
               "    t = _t0", "    C = {}", "    X = {}"]
        owner: dict[int, str] = {}

        def own(name: str, lines: list[str]) -> None:
            for line in lines:
                src.append("    " + line)
                owner[len(src)] = self._owner(name)

        for k in init_order:
            own(k, self.nodes[k].init_lines)
        src += ["    C.update({" + ", ".join(f"{k!r}: v_{k}" for k in statics) + "})", "    return C, X", "", "",
                "def _step(t, C, X, P, _t0, _dt, _tf, _sp):"]
        src += [f"    v_{k} = C[{k!r}]" for k in statics]
        src += [f"    v_{k} = C[{k!r}]" for k, st in self.statefuls.items() if st.kind == "initial"]
        for k in step_order:
            own(k, self.nodes[k].step_lines)
        src.append("    D = {}")
        for key, st in self.statefuls.items():
            own(key, st.ddt)
        src.append("    V = {" + ", ".join(f"{k!r}: v_{k}" for k in step_order if not k.startswith("_")) + "}")
        src += ["    return V, D", "", "", "def _euler(X, D, _dt):", "    N = dict(X)"]
        for key, st in self.statefuls.items():
            if st.kind in ("integ", "smooth", "delay", "delayn"):
                src.append(f"    N[{key!r}] = X[{key!r}] + D[{key!r}] * _dt")
            elif st.kind == "nonneg":
                src.append(f"    N[{key!r}] = np.maximum(X[{key!r}] + D[{key!r}] * _dt, 0)")
            elif st.kind == "sampleiftrue":
                src.append(f"    N[{key!r}] = np.broadcast_to(D[{key!r}], X[{key!r}].shape).copy()")
            elif st.kind == "delayfixed":
                src.append(f"    _rt.delay_fixed_update(N, D, {key!r})")
        src += ["    return N", ""]
        if self.dynamic_control:
            src += self._control_function(statics, step_order, dynamic, own)
        outputs = [k for k in self.variables if k not in self.lookups]
        return {
            "source": "\n".join(src),
            "arrays": self.arrays,
            "statefuls": {k: st.kind for k, st in self.statefuls.items()},
            "variables": {k: self.variables[k] for k in outputs},
            "coords": {k: [list(c) for _, c in self.element_dims(k)] for k in outputs},
            "constants": {k: [d for d, _ in v["dims"]] for k, v in self.constants.items()},
            "control": self.control,
            "statics": statics,
            "owners": owner,
            "external_files": sorted(self.external_files),
            "dynamic_control": self.dynamic_control,
        }

    def _control_function(self, statics: list[str], step_order: list[str], dynamic: set[str], own) -> list[str]:
        """Source of ``_ctl``: TIME STEP, FINAL TIME and SAVEPER at the current time and state."""
        src = ["", "def _ctl(t, C, X, P, _t0, _dt, _tf, _sp):"]
        src += [f"    v_{k} = C[{k!r}]" for k in statics]
        src += [f"    v_{k} = C[{k!r}]" for k, st in self.statefuls.items() if st.kind == "initial"]
        lines_before = len(src)
        for name, local, label in (("time_step", "_dt", "TIME STEP"), ("final_time", "_tf", "FINAL TIME"),
                                   ("saveper", "_sp", "SAVEPER")):
            if name not in self.nodes:
                if name == "saveper":
                    src.append("    _sp = _dt")
                continue
            needed: set[str] = set()
            stack = [name]
            while stack:
                k = stack.pop()
                if k in needed or k not in dynamic:
                    continue
                needed.add(k)
                stack.extend(self.nodes[k].step_deps)
            block: list[str] = []
            for k in step_order:
                if k in needed:
                    block += self.nodes[k].step_lines
            if name not in dynamic:
                block.append(f"v_{name} = C[{name!r}]")
            block.append(f"{local} = _rt.scalar(v_{name}, {label!r})")
            src.extend("    " + line for line in block)
        _ = lines_before, own
        src += ["    return _dt, _tf, _sp", ""]
        return src

    def _owner(self, name: str) -> str:
        """Vensim name of the variable a generated line computes."""
        if name in self.statefuls:
            name = self.statefuls[name].element
        return self.elements[name].name if name in self.elements else name

    def _classify(self) -> None:
        changed = True
        while changed:
            changed = False
            for n in self.nodes.values():
                if not n.dynamic and any(self.nodes[d].dynamic for d in n.step_deps if d in self.nodes):
                    n.dynamic = True
                    changed = True

    def _toposort(self, graph: dict[str, set], phase: str) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}
        for start in graph:
            if start in state:
                continue
            stack = [(start, iter(sorted(graph[start])))]
            state[start] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    stack.pop()
                    state[node] = 2
                    order.append(node)
                    continue
                if nxt not in graph:
                    continue
                if state.get(nxt) == 1:
                    raise self._fail(f"A circular dependency at {phase} through {nxt!r}", node)
                if nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(sorted(graph[nxt]))))
        return order
