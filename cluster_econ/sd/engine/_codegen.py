"""Code generation for the kernel compiler: ordering, hoisting, and the kernel program.

Once every element is compiled, nodes are classified as constant in time (computed once, in
``_init``) or dynamic (computed at every step, in ``_step``), topologically sorted for each phase, and
the sub-expressions the visitor marked as candidates are resolved: a candidate that depends only on
constants and INITIAL values is computed once per run (per scenario chunk) in ``_init`` and read in
``_step``; elsewhere its expression is written in place. Both give the same float operations in the
same order, so hoisting does not change results.
"""

from __future__ import annotations

import re

import numpy as np

from . import _runtime
from ._nodes import CONTROL
from ._program import assemble
from ._state import _CHOICE, _MARKER, CompilerState
from ._statefuls import BY_KIND
from ._verify import KERNEL_BUILTINS, check_identifier, verify_expression


class CodegenMixin(CompilerState):
    """Control variables, node ordering, hoisting and the kernel program (used by ``KernelCompiler``)."""

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
                    code = self.expand(ex.code)
                    verify_expression(code)
                    scope = {"np": np, "_rt": _runtime, "t": 0.0, **names, **{CONTROL[k]: v for k, v in env.items()}}
                    env[n] = float(eval(code, {"__builtins__": KERNEL_BUILTINS, **scope}))
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
        """Compile the model; return the kernel description (program, source, arrays, metadata)."""
        self.control = self._control_values()
        lookups_first = sorted(self.elements, key=lambda n: getattr(
            self.elements[n].components[0], "type", "") != "Lookup")
        for py_name in lookups_first:
            self.compile_element(py_name)
        for name in self.nodes:
            check_identifier(f"v_{name}")
        self._classify()
        init_order = self._toposort({k: n.init_deps or set() for k, n in self.nodes.items()}, "initialisation")
        dynamic = {k for k, n in self.nodes.items() if n.dynamic}
        step_order = self._toposort({k: {d for d in n.step_deps if d in dynamic}
                                     for k, n in self.nodes.items() if k in dynamic}, "run")
        statics = [k for k in init_order if k not in dynamic and not k.startswith("_s")]
        hoisted: dict[int, str] = {}
        step = [[k, self._owner(k), [self.resolve(line, hoisted) for line in self.nodes[k].step_lines],
                 sorted(d for d in self.nodes[k].step_deps if d in dynamic)] for k in step_order]
        ddt = [[key, self._owner(key), [self.resolve(line, hoisted) for line in st.ddt], sorted(st.ddt_deps)]
               for key, st in self.statefuls.items()]
        init = [["", "t = _t0"], ["", "C = {}"], ["", "X = {}"]]
        init += [[self._owner(k), self.expand(line)] for k in init_order for line in self.nodes[k].init_lines or []]
        init.append(["", "C.update({" + ", ".join(f"{k!r}: v_{k}" for k in statics) + "})"])
        init += [[self._owner(owner), f"C['_h{h}'] = {self.expand(self.hoists[h].code)}"]
                 for h, owner in sorted(hoisted.items())]
        euler = [line for key, st in self.statefuls.items() for line in BY_KIND[st.kind].update(key)]
        program = {"init": init, "statics": statics,
                   "initials": [k for k, st in self.statefuls.items() if st.kind == "initial"],
                   "hoisted": sorted(hoisted), "step": step, "ddt": ddt, "euler": euler,
                   "outputs": [k for k in step_order if not k.startswith("_")],
                   "ctl": self._control_function(statics, step_order, dynamic) if self.dynamic_control else []}
        source, owners = assemble(program)
        outputs = [k for k in self.variables if k not in self.lookups]
        return {
            "source": source,
            "program": program,
            "arrays": self.arrays,
            "statefuls": {k: st.kind for k, st in self.statefuls.items()},
            "variables": {k: self.variables[k] for k in outputs},
            "coords": {k: [list(c) for _, c in self.element_dims(k)] for k in outputs},
            "constants": {k: [d for d, _ in v["dims"]] for k, v in self.constants.items()},
            "control": self.control,
            "statics": statics,
            "owners": owners,
            "external_files": sorted(self.external_files),
            "dynamic_control": self.dynamic_control,
            "zero_divisions": self._zero_divisions(),
        }

    def _zero_divisions(self) -> list[list[str]]:
        """``[variable, divisor]`` (Vensim names) for divisions by a literal 0 or a constant that is 0."""
        found = []
        for element, code in self.divisions:
            name = code[2:] if code.startswith("v_") else None
            if name in self.constants and name in self.elements:
                comps = self.elements[name].components
                zero = all(isinstance(c.ast, int | float) and c.ast == 0 for c in comps)
            else:
                zero = code.strip("()") in ("0", "0.0")
            if zero and element in self.elements:
                pair = [self.elements[element].name, self.elements[name].name if name in self.elements else "0"]
                if pair not in found:
                    found.append(pair)
        return found

    # ------------------------------------------------------------------ hoisting
    def _constant(self, h: int) -> bool:
        """Whether hoist candidate ``h`` depends only on constants and INITIAL values (not on time)."""
        ex = self.hoists[h]
        return not ex.time and all(d in self.nodes and not self.nodes[d].dynamic for d in ex.deps)

    def expand(self, code: str) -> str:
        """``code`` with every hoist marker replaced by its expression (inside ``_init``: dense forms)."""
        code = _CHOICE.sub(lambda m: self.choices[int(m.group(1))][2], code)
        return _MARKER.sub(lambda m: f"({self.expand(self.hoists[int(m.group(1))].code)})", code)

    def resolve(self, code: str, hoisted: dict[int, str]) -> str:
        """``code`` of ``_step`` with constant sub-expressions read from ``C`` (noted in ``hoisted``)."""
        def one(match: re.Match) -> str:
            h = int(match.group(1))
            if self._constant(h):
                hoisted.setdefault(h, next(iter(sorted(self.hoists[h].deps)), ""))
                return f"h_{h}"
            return f"({self.resolve(self.hoists[h].code, hoisted)})"

        def choose(match: re.Match) -> str:
            key, sparse, dense = self.choices[int(match.group(1))]
            return sparse if self._constant(key) else dense

        return _MARKER.sub(one, _CHOICE.sub(choose, code))

    def _control_function(self, statics: list[str], step_order: list[str], dynamic: set[str]) -> list[str]:
        """Source of ``_ctl``: TIME STEP, FINAL TIME and SAVEPER at the current time and state."""
        src = ["", "def _ctl(t, C, X, P, _t0, _dt, _tf, _sp):"]
        src += [f"    v_{k} = C[{k!r}]" for k in statics]
        src += [f"    v_{k} = C[{k!r}]" for k, st in self.statefuls.items() if st.kind == "initial"]
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
                    block += [self.expand(line) for line in self.nodes[k].step_lines]
            if name not in dynamic:
                block.append(f"v_{name} = C[{name!r}]")
            block.append(f"{local} = _rt.scalar(v_{name}, {label!r})")
            src.extend("    " + line for line in block)
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
