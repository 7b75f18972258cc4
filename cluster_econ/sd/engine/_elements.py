"""Elements and macros for the kernel compiler: one node per model element, macros inlined per call.

An element's components (one per subscript definition) are compiled by the visitor and assembled on
the element's dimensions; constants become scenario inputs (``P``), and ``ACTIVE INITIAL`` elements get
an initialisation of their own. A macro call compiles the macro's elements again under a prefix of
its own, so each call keeps its own state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from cluster_econ.errors import UnsupportedConstructError

from ._nodes import CONTROL, Dims, Ex, Node
from ._state import CompilerState, DimensionMismatch


class ElementsMixin(CompilerState):
    """Compile model elements and macro calls (used by ``KernelCompiler``)."""

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
    def _naming(self, py_name: str) -> Iterator[None]:
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
            lines, deps, tflag, active = self._element_lines(py_name, comps, el_dims, mode, is_const)
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

    def _element_lines(self, py_name: str, comps: list, el_dims: Dims, mode: str,
                       is_const: bool) -> tuple[list[str], set[str], bool, bool]:
        """The lines computing an element in ``mode`` ("step" or "init"), their dependencies, whether
        they depend on time, and whether the element is an ACTIVE INITIAL one."""
        deps: set[str] = set()
        parts: list[tuple[str, tuple[str, str] | None, tuple[int, ...], bool]] = []
        tflag = active = False
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
        value = self._assembled(py_name, parts, self._shape(el_dims))
        if py_name in self.timeseries:
            line = f"v_{py_name} = _rt.lookup(t, P[{py_name!r}][0], P[{py_name!r}][1], 'interpolate')"
            tflag = True
        elif is_const:
            line = f"v_{py_name} = P[{py_name!r}] if {py_name!r} in P else {value}"
        else:
            line = f"v_{self.prefix + py_name} = {value}"
        return [line], deps, tflag, active

    def _assembled(self, py_name: str, parts: list[tuple[str, tuple[str, str] | None, tuple[int, ...], bool]],
                   shape: tuple[int, ...]) -> str:
        """The code of an element's value from the code of its components, each placed in its cells."""
        code, place, _, exact = parts[0]
        if len(parts) == 1 and place is None:
            return code if exact else f"_bc({code}, {shape})"
        places: list[tuple[str, str]] = []
        for _code, where, _, _ in parts:
            if where is None:
                raise self._fail("Overlapping subscript definitions", py_name)
            places.append(where)
        items = ", ".join(f"({c}, {p[0]}, {p[1]}, {cs})" for (c, _, cs, _), p in zip(parts, places, strict=True))
        covered = set().union(*(set(self.arrays[p[0]].tolist()) for p in places))
        missing = sorted(set(range(int(np.prod(shape, dtype=int)))) - covered)
        if missing and not self.prefix:  # cells no equation defines: NaN by construction, as in PySD
            self.variables[py_name]["undefined"] = missing
        return f"_rt.assemble({shape}, [{items}])"

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

