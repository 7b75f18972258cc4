"""The stateful registry: one builder class per kind of stateful object PySD's abstract model has.

Each stateful call (INTEG, DELAY*, SMOOTH*, TREND, FORECAST, SAMPLE IF TRUE, INITIAL) becomes a hidden
node whose state lives in ``X[key]`` (delays and smooths stack their stages on a leading axis). A
builder says how the state is initialised (``_init``), what the node's value is at a step and the
state's derivative (``_step``), and how Euler advances it (``_euler``), with the same float operations
as :mod:`pysd.py_backend.statefuls`, as PySD's own builder classes do for its Python models.
:data:`STATEFULS` maps PySD's structure name to its builder; a structure absent from it is refused.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._nodes import Ex, Node, Stateful

__all__ = ["RK4_KINDS", "STATEFULS", "StatefulBuilder", "build_stateful"]


class StatefulBuilder:
    """How one kind of stateful object is initialised, evaluated and advanced.

    Subclasses set :attr:`kind` and :attr:`rk4` and implement :meth:`build`, which fills
    ``init_lines``/``init_deps`` (initial state), ``step_lines``/``step_deps`` (the node's value at a
    step) and ``ddt`` (lines setting ``D[key]``, the state's derivative or next value).
    """

    #: label of the kind, recorded in the compiled model
    kind: ClassVar[str] = "integ"
    #: whether RK4 may advance it (its state moves by a derivative, with no side effects)
    rk4: ClassVar[bool] = True

    def __init__(self, compiler: Any, ast: Any, ctx: dict, key: str):
        self.c, self.ast, self.ctx, self.key = compiler, ast, ctx, key
        self.dims = ctx["def_dims"]
        self.shape = compiler._shape(self.dims)
        self.element = ctx["element"]
        self.x = f"X[{key!r}]"
        self.init_lines: list[str] = []
        self.init_deps: set = set()
        self.step_lines: list[str] = [f"v_{key} = {self.x}"]
        self.step_deps: set = set()
        self.ddt: list[str] = []
        self.dynamic = True
        self.arg_deps: set = set()  # everything the arguments depend on (what the derivative may need)

    def arg(self, a: Any) -> tuple[Ex, str]:
        ex = self.c.visit(a, self.ctx)
        self.arg_deps |= set(ex.deps)
        return ex, (ex.code if ex.scalar else self.c.align(ex, self.dims))

    def order(self, a: Any) -> Ex:
        if isinstance(a, int | float):
            return Ex(repr(a), scalar=True)
        ex = self.c.visit(a, self.ctx)
        self.arg_deps |= set(ex.deps)
        return ex

    def full(self, code: str) -> str:
        return f"_rt.full({code}, S, {self.shape})"

    def build(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def update(cls, key: str) -> list[str]:
        """Euler's update of the state (``N`` new state, ``X`` old, ``D`` from ``_step``)."""
        return [f"N[{key!r}] = X[{key!r}] + D[{key!r}] * _dt"]


class Integ(StatefulBuilder):
    kind = "integ"

    def build(self) -> None:
        _flow, fcode = self.arg(self.ast.flow)
        init, icode = self.arg(self.ast.initial)
        self.init_lines = [f"{self.x} = {self.full(icode)}"]
        self.init_deps = set(init.deps)
        self.ddt = [f"D[{self.key!r}] = {fcode}"]


class NonNegativeInteg(Integ):
    kind = "nonneg"
    rk4 = False

    @classmethod
    def update(cls, key: str) -> list[str]:
        return [f"N[{key!r}] = np.maximum(X[{key!r}] + D[{key!r}] * _dt, 0)"]


class Initial(StatefulBuilder):
    kind = "initial"

    def build(self) -> None:
        init, icode = self.arg(self.ast.initial)
        self.init_lines = [f"C[{self.key!r}] = {self.full(icode)}"]
        self.init_deps = set(init.deps)
        self.step_lines = []
        self.dynamic = False

    @classmethod
    def update(cls, key: str) -> list[str]:
        return []


class Delay(StatefulBuilder):
    kind = "delay"

    def build(self) -> None:
        _inp, incode = self.arg(self.ast.input)
        dly, dcode = self.arg(self.ast.delay_time)
        init, icode = self.arg(self.ast.initial)
        order = self.order(self.ast.order)
        key, x = self.key, self.x
        o = f"C['{key}_o']"
        self.init_lines = [
            f"{o} = _rt.delay_order({order.code}, _dt, {dcode}, {self.element!r})",
            f"_v = {self.full(f'{icode} * {dcode}')}",
            f"{x} = np.stack([_v] * {o})",
        ]
        self.init_deps = set(init.deps) | set(dly.deps) | set(order.deps)
        self.stages(incode, dcode, o, dly)

    def stages(self, incode: str, dcode: str, o: str, dly: Ex) -> None:
        key, x = self.key, self.x
        self.step_lines = [f"v_{key} = {x}[-1] / {dcode}"]
        self.step_deps = set(dly.deps)
        self.ddt = [f"_out = {x} / {dcode}", "_in = np.roll(_out, 1, axis=0)", f"_in[0] = {incode}",
                    f"D[{key!r}] = (_in - _out) * {o}"]


class DelayN(Delay):
    kind = "delayn"
    rk4 = False  # the stages' delay times are moved along inside _step

    def stages(self, incode: str, dcode: str, o: str, dly: Ex) -> None:
        key, x = self.key, self.x
        self.init_lines.append(f"X['{key}_t'] = np.stack([{self.full(dcode)}] * {o})")
        self.step_lines = [f"v_{key} = {x}[-1] / X['{key}_t'][0]"]
        self.ddt = [f"_tm = np.roll(X['{key}_t'], 1, axis=0)", f"_tm[0] = {dcode}", f"X['{key}_t'] = _tm",
                    f"_out = {x} / _tm", "_in = np.roll(_out, 1, axis=0)", f"_in[0] = {incode}",
                    f"D[{key!r}] = (_in - _out) * {o}"]


class DelayFixed(StatefulBuilder):
    kind = "delayfixed"
    rk4 = False

    def build(self) -> None:
        _inp, incode = self.arg(self.ast.input)
        dly, dcode = self.arg(self.ast.delay_time)
        init, icode = self.arg(self.ast.initial)
        key, x = self.key, self.x
        o = f"C['{key}_o']"
        self.init_lines = [f"{o} = _rt.fixed_delay_order({dcode}, _dt, {self.element!r})",
                           f"{x} = {self.full(icode)}", f"X['{key}_pipe'] = np.stack([{x}] * {o})",
                           f"X['{key}_p'] = 0"]
        self.init_deps = set(init.deps) | set(dly.deps)
        self.ddt = [f"D[{key!r}] = _bc({incode}, {self.shape})"]

    @classmethod
    def update(cls, key: str) -> list[str]:
        return [f"_rt.delay_fixed_update(N, D, {key!r})"]


class Smooth(StatefulBuilder):
    kind = "smooth"

    def build(self) -> None:
        _inp, incode = self.arg(self.ast.input)
        _stime, scode = self.arg(self.ast.smooth_time)
        init, icode = self.arg(self.ast.initial)
        order = self.order(self.ast.order)
        key, x = self.key, self.x
        o = f"C['{key}_o']"
        self.init_lines = [f"{o} = _rt.smooth_order({order.code}, {self.element!r})",
                           f"{x} = np.stack([{self.full(icode)}] * int({o}))"]
        self.init_deps = set(init.deps) | set(order.deps)
        self.step_lines = [f"v_{key} = {x}[-1]"]
        self.ddt = [f"_tg = np.roll({x}, 1, axis=0)", f"_tg[0] = {incode}", f"D[{key!r}] = (_tg - {x}) * {o} / {scode}"]


class Trend(StatefulBuilder):
    kind = "integ"

    def build(self) -> None:
        inp, incode = self.arg(self.ast.input)
        avg, acode = self.arg(self.ast.average_time)
        init, icode = self.arg(self.ast.initial_trend)
        key, x = self.key, self.x
        self.init_lines = [f"{x} = {self.full(f'{incode} / (1 + {icode}*{acode})')}"]
        self.init_deps = set(inp.deps) | set(avg.deps) | set(init.deps)
        self.step_lines = [f"v_{key} = _rt.zidz({incode} - {x}, {acode} * np.abs({x}))"]
        self.step_deps = set(inp.deps) | set(avg.deps)
        self.ddt = [f"D[{key!r}] = ({incode} - {x}) / {acode}"]


class Forecast(StatefulBuilder):
    kind = "integ"

    def build(self) -> None:
        inp, incode = self.arg(self.ast.input)
        avg, acode = self.arg(self.ast.average_time)
        hor, hcode = self.arg(self.ast.horizon)
        init, icode = self.arg(self.ast.initial_trend)
        key, x = self.key, self.x
        self.init_lines = [f"{x} = {self.full(f'{incode} / (1 + {icode})')}"]
        self.init_deps = set(inp.deps) | set(init.deps)
        self.step_lines = [f"v_{key} = {incode} * (1 + _rt.zidz({incode} - {x}, {acode} * {x})*{hcode})"]
        self.step_deps = set(inp.deps) | set(avg.deps) | set(hor.deps)
        self.ddt = [f"D[{key!r}] = ({incode} - {x}) / {acode}"]


class SampleIfTrue(StatefulBuilder):
    kind = "sampleiftrue"
    rk4 = False

    def build(self) -> None:
        cond, ccode = self.arg(self.ast.condition)
        inp, incode = self.arg(self.ast.input)
        init, icode = self.arg(self.ast.initial)
        key, x = self.key, self.x
        self.init_lines = [f"{x} = {self.full(icode)}"]
        self.init_deps = set(init.deps)
        self.step_lines = [f"v_{key} = _rt.if_then_else({ccode}, {incode}, {x})"]
        self.step_deps = set(cond.deps) | set(inp.deps)
        self.ddt = [f"D[{key!r}] = {x}*0 + _rt.if_then_else({ccode}, {incode}, {x})"]

    @classmethod
    def update(cls, key: str) -> list[str]:
        return [f"N[{key!r}] = np.broadcast_to(D[{key!r}], X[{key!r}].shape).copy()"]


#: PySD abstract structure name -> builder class
STATEFULS: dict[str, type[StatefulBuilder]] = {
    "IntegStructure": Integ,
    "InitialStructure": Initial,
    "DelayStructure": Delay,
    "DelayNStructure": DelayN,
    "DelayFixedStructure": DelayFixed,
    "SmoothStructure": Smooth,
    "SmoothNStructure": Smooth,
    "TrendStructure": Trend,
    "ForecastStructure": Forecast,
    "SampleIfTrueStructure": SampleIfTrue,
}

#: kinds RK4 can advance
RK4_KINDS = frozenset(b.kind for b in STATEFULS.values() if b.rk4)
#: kind -> builder, for the Euler update
BY_KIND: dict[str, type[StatefulBuilder]] = {}
for _builder in STATEFULS.values():
    BY_KIND.setdefault(_builder.kind, _builder)
BY_KIND["nonneg"] = NonNegativeInteg


def build_stateful(compiler: Any, ast: Any, ctx: dict) -> Ex:
    """Compile one stateful call into a hidden node (memoised per call, so each call is one object)."""
    if id(ast) in compiler._memo:
        return compiler._memo[id(ast)]
    name = type(ast).__name__
    builder_class = STATEFULS.get(name)
    if builder_class is None:
        raise compiler.fail(name.replace("Structure", "").upper(), ctx["element"])
    if builder_class is Integ and getattr(ast, "non_negative", False):
        builder_class = NonNegativeInteg
    key = f"_s{compiler._stateful_keys}"  # taken before the arguments, which may hold stateful calls too
    compiler._stateful_keys += 1
    builder = builder_class(compiler, ast, ctx, key)
    builder.build()
    node = Node(name=key, local=f"v_{key}", dynamic=builder.dynamic, stateful=key)
    node.step_lines, node.step_deps = builder.step_lines, builder.step_deps
    if builder.kind == "initial":
        node.init_lines = [*builder.init_lines, f"v_{key} = C[{key!r}]"]
    else:
        node.init_lines = builder.init_lines + builder.step_lines
    node.init_deps = builder.init_deps | set(builder.step_deps)
    compiler.nodes[key] = node
    compiler.statefuls[key] = Stateful(key, builder.kind, builder.dims, builder.element, builder.ddt,
                                       builder.arg_deps)
    ex = Ex(f"v_{key}", dims=builder.dims, deps=frozenset({key}))
    compiler._memo[id(ast)] = ex
    return ex
