"""The compiled kernel of a model and its integration loop (Euler as PySD, classical RK4)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from typing import Any, get_args

import numpy as np
import pandas as pd
import xarray as xr

from cluster_econ.errors import SpecError, UnsupportedConstructError, unknown_name
from cluster_econ.typing import Method

from . import _runtime
from ._integrate import integrate_dynamic, integrate_fixed
from ._numerics import Errors, check_memory, nonfinite, record, report
from ._program import assemble
from ._statefuls import RK4_KINDS
from ._verify import KERNEL_BUILTINS, verify_source

logger = logging.getLogger(__name__)

class CompiledModel:
    """A model compiled to a vectorised numpy kernel.

    Holds the kernel program (generated lines as plain data) and numpy arrays only, so it pickles and
    can be sent to another process or a Dask worker. Create it with :func:`compile_model`. Kernel
    source is verified (:func:`~._verify.verify_source`) before it is executed.

    Attributes
    ----------
    name : str
        Model id or file name.
    sha256 : str
        sha256 of the model file the kernel was compiled from.
    source : str
        The generated kernel source (every variable).
    variables : dict
        PySD Python name -> {"vensim_name", "units", "description", "dims"}.
    constants : dict
        Python names of the constants a scenario may set, with their dimension names.
    control : dict
        Default ``initial_time``, ``final_time``, ``time_step`` and ``saveper``.

    A compiled model is shared (it is cached per model file), so it is immutable: its attributes
    cannot be set, and what differs between runs (scenario values, declared bounds, time controls)
    is passed to each run.
    """

    def __init__(self, description: dict, *, name: str, sha256: str, path: str | None = None,
                 timeseries: frozenset = frozenset()):
        self.name = name
        self.sha256 = sha256
        self.path = path
        self.source: str = description["source"]
        self.program: dict = description["program"]
        self.arrays: dict[str, np.ndarray] = description["arrays"]
        self.statefuls: dict[str, str] = description["statefuls"]
        self.variables: dict[str, dict] = description["variables"]
        self.coords: dict[str, list[list[str]]] = description["coords"]
        self.constants: dict[str, list[str]] = description["constants"]
        self.control: dict[str, float] = description["control"]
        self.timeseries = frozenset(timeseries)
        self.dynamic_control: bool = description.get("dynamic_control", False)
        #: [variable, divisor] of divisions by a constant that is 0 in the model file
        self.zero_divisions: list[list[str]] = description.get("zero_divisions", [])
        #: flat positions of the subscript cells no equation defines, per variable (NaN by construction)
        self.undefined: dict[str, list[int]] = {k: v["undefined"] for k, v in self.variables.items()
                                                if v.get("undefined")}
        self._kernels: dict[frozenset | None, tuple] = {}
        self._owners: dict[str, dict[int, str]] = {}
        self._variants: dict[frozenset, CompiledModel] = {}
        self._frozen = True

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(f"CompiledModel is immutable (it is shared by every run of {self.name!r}); "
                                 f"pass per-run settings such as bounds= to run() instead of setting {name!r}.")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (f"<CompiledModel {self.name} ({len(self.variables)} variables, "
                f"{len(self.statefuls)} stateful objects)>")

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_kernels"] = {}
        state["_owners"] = {}
        state["_variants"] = {}
        return state

    # ------------------------------------------------------------------ kernel
    def _kernel(self, keep: Sequence[str] | None = None) -> tuple:
        """The kernel's functions, for every variable or only for what ``keep`` (outputs) needs."""
        key = None if keep is None or self.dynamic_control else frozenset(keep)
        if key not in self._kernels:
            source, owners = (self.source, None) if key is None else assemble(self.program, key)
            if owners is None:
                owners = assemble(self.program)[1]
            verify_source(source)  # nothing but what the compiler emits is ever executed
            filename = f"<cluster_econ kernel {self.name} #{len(self._owners)}>"
            self._owners[filename] = owners
            namespace: dict[str, Any] = {"__builtins__": KERNEL_BUILTINS, "np": np, "_rt": _runtime,
                                         "_bc": _runtime.bc, **self.arrays}
            exec(compile(source, filename, "exec"), namespace)
            self._kernels[key] = (namespace["_init"], namespace["_step"], namespace["_euler"], namespace.get("_ctl"))
        return self._kernels[key]

    def smoke_test(self) -> None:
        """Initialise and take one step with the defaults; a failure is an unsupported construct."""
        if self.timeseries or self.dynamic_control:
            return
        init, step, _, _ = self._kernel()
        c = self.control
        try:
            with np.errstate(all="ignore"):
                C, X = init({}, 2, c["initial_time"], c["time_step"], c["final_time"], c["saveper"])
                V, _ = step(c["initial_time"], C, X, {}, c["initial_time"], c["time_step"], c["final_time"],
                            c["saveper"])
            for name in self.variables:
                value = V.get(name, C.get(name))
                if value is None:
                    continue
                shape = self.shape_of(name)
                if np.ndim(value) != len(shape) + 1 or np.shape(value)[1:] != shape or np.shape(value)[0] not in (1, 2):
                    raise ValueError(f"{self.variables[name]['vensim_name']!r} has shape {np.shape(value)}, "
                                     f"expected (scenarios, {', '.join(map(str, shape))})")
        except UnsupportedConstructError as err:
            named = self._named(err)
            if named is err:
                raise
            raise named from err
        except Exception as err:
            owner = self._owner(err)
            where = f" in the equation of {owner!r}" if owner else ""
            raise UnsupportedConstructError(
                f"Model {self.name!r} uses a construct the batch engine does not handle{where} "
                f"({type(err).__name__}: {err}). Use engine='pysd' for this model.") from err

    def _owner(self, err: BaseException) -> str | None:
        """Vensim name of the variable whose generated line raised ``err`` (None if not in the kernel)."""
        for frame in reversed(traceback.extract_tb(err.__traceback__)):
            owners = self._owners.get(frame.filename)
            if owners is not None and frame.lineno in owners:
                return owners[frame.lineno] or None
        return None

    def _named(self, err: UnsupportedConstructError) -> UnsupportedConstructError:
        """``err`` with the variable whose equation raised it named, if the message does not name it."""
        owner = self._owner(err)
        if owner is None or repr(owner) in str(err):
            return err
        return UnsupportedConstructError(f"{err} (in the equation of {owner!r} in model {self.name!r})")

    def variant(self, timeseries: frozenset) -> CompiledModel:
        """The kernel taking the constants ``timeseries`` as time series (compiled once, cached)."""
        if timeseries == self.timeseries:
            return self
        if timeseries not in self._variants:
            if self.path is None:
                raise UnsupportedConstructError(
                    f"Time-series inputs for {sorted(timeseries)} need the model file, which is not known "
                    f"for {self.name!r}.")
            from ._api import compile_model

            other = compile_model(self.path, _timeseries=timeseries, _sha256=self.sha256, _name=self.name)
            self._variants[timeseries] = other
        return self._variants[timeseries]

    def dims_of(self, name: str) -> list[str]:
        return list(self.variables[name]["dims"])

    def shape_of(self, name: str) -> tuple[int, ...]:
        return tuple(len(c) for c in self.coords[name])

    # ------------------------------------------------------------------ params
    def prepare(self, scenarios: pd.DataFrame, bounds: Mapping[str, tuple[float, float]] | None = None,
                ) -> tuple[dict, frozenset]:
        """Scenario columns (Python names) as kernel inputs: constant -> array, scenario axis first.

        Also returns the constants given as time series (which need a kernel variant, :meth:`variant`).
        Values are checked to be finite and, where ``bounds`` (name -> (lower, upper)) has them,
        within their bounds.
        """
        bounds = {} if bounds is None else bounds
        params: dict[str, Any] = {}
        timeseries = []
        n = len(scenarios)
        for col in scenarios.columns:
            if col not in self.constants:
                raise unknown_name(str(col), sorted(self.constants), "constant", where=self.name)
            shape = self.shape_of(col)
            cells = list(scenarios[col])
            if any(isinstance(c, pd.Series) for c in cells):
                if shape:
                    raise UnsupportedConstructError(
                        f"Time-series input for the subscripted constant {col!r} is not supported.")
                series = [c for c in cells if isinstance(c, pd.Series)]
                index = np.unique(np.concatenate([np.asarray(c.index, float) for c in series]))
                values = np.empty((len(index), n))
                for j, c in enumerate(cells):
                    if not isinstance(c, pd.Series):
                        values[:, j] = float(c)
                    else:
                        c = c.sort_index()
                        values[:, j] = np.interp(index, np.asarray(c.index, float), np.asarray(c.values, float))
                params[col] = (index, values)
                timeseries.append(col)
                continue
            out = np.empty((n, *shape))
            for j, c in enumerate(cells):
                out[j] = self._cell(col, c, shape)
            if not np.isfinite(out).all():
                j = int(np.flatnonzero(~np.isfinite(out.reshape(n, -1)).all(axis=1))[0])
                raise SpecError(f"Scenario {scenarios.index[j]!r} gives {col!r} a non-finite value "
                                f"({cells[j]!r}); give finite numbers.")
            if col in bounds:
                self._check_bounds(col, out, scenarios.index, bounds[col])
            params[col] = out
        return params, frozenset(timeseries)

    def _check_bounds(self, col: str, values: np.ndarray, index: pd.Index, bounds: tuple[float, float]) -> None:
        lower, upper = bounds
        bad = np.flatnonzero(((values < lower) | (values > upper)).reshape(len(values), -1).any(axis=1))
        if bad.size:
            j = int(bad[0])
            value = values[j].flat[int(np.flatnonzero((values[j] < lower) | (values[j] > upper))[0])]
            raise SpecError(f"Scenario {index[j]!r}: parameter {col!r} = {value:g} is outside its declared bounds "
                            f"[{lower:g}, {upper:g}] in {self.name}; choose a value within the bounds.")

    def _cell(self, col: str, cell: Any, shape: tuple[int, ...]) -> np.ndarray:
        if isinstance(cell, xr.DataArray):
            dims = self.dims_of(col)
            missing = [d for d in cell.dims if d not in dims]
            if missing:
                raise SpecError(f"Value for {col!r} has dimensions {list(cell.dims)}; expected {dims}.")
            cell = cell.transpose(*[d for d in dims if d in cell.dims])
            cell = cell.expand_dims([d for d in dims if d not in cell.dims]).transpose(*dims)
            cell = cell.values
        value = np.asarray(cell, dtype=float)
        try:
            return np.broadcast_to(value, shape)
        except ValueError as err:
            raise SpecError(
                f"Value for {col!r} has shape {value.shape}; expected a number or an array of shape {shape} "
                f"(dimensions {self.dims_of(col)})."
            ) from err

    # ------------------------------------------------------------------ run
    def run(self, scenarios: pd.DataFrame | None = None, *, initial_time: float | None = None,
            final_time: float | None = None, time_step: float | None = None, saveper: float | None = None,
            outputs: Sequence[str] | None = None, method: Method = "euler", errors: Errors = "warn",
            bounds: Mapping[str, tuple[float, float]] | None = None) -> xr.Dataset:
        """Integrate every scenario at once (one chunk; :func:`cluster_econ.simulate_batch` chunks).

        Parameters
        ----------
        scenarios : pandas.DataFrame, optional
            One row per scenario, one column per constant (PySD Python names). A cell of a
            subscripted constant may hold a number, an array of the subscript shape or an
            ``xarray.DataArray``; a cell of a scalar constant may hold a ``pandas.Series`` indexed by
            time (a time-series input, interpolated linearly). ``None`` runs the defaults once.
        initial_time, final_time, time_step, saveper : float, optional
            Override the model's control variables.
        outputs : sequence of str, optional
            Python names of the variables to keep (default: all).
        method : {"euler", "rk4"}
            Integration method. Euler repeats PySD's order of evaluation and agrees with PySD to
            round-off, not bit for bit (see :mod:`cluster_econ.sd.engine`); RK4 is the classical
            fourth-order Runge-Kutta scheme Vensim offers.
        errors : {"warn", "raise"}, default "warn"
            Non-finite outputs give a :class:`~cluster_econ.errors.NumericalWarning` (and are
            recorded in ``attrs["numerical_issues"]``), or with "raise" a
            :class:`~cluster_econ.errors.SimulationError`.
        bounds : mapping, optional
            Declared bounds ``name -> (lower, upper)`` to check the scenario values against
            (:func:`cluster_econ.simulate_batch` passes those of the model it loaded).

        Returns
        -------
        xarray.Dataset
            Dims ``(scenario, time[, subscripts...])``; the scalar scenario columns are coordinates
            on ``scenario``.
        """
        if method not in get_args(Method):
            raise SpecError(f"method={method!r} is not valid; use one of {list(get_args(Method))}.")
        if errors not in get_args(Errors):
            raise SpecError(f"errors={errors!r} is not valid; use one of {list(get_args(Errors))}.")
        if scenarios is None:
            scenarios = pd.DataFrame(index=pd.RangeIndex(1, name="scenario"))
        if not isinstance(scenarios, pd.DataFrame):
            raise SpecError(f"scenarios must be a pandas DataFrame, got {type(scenarios).__name__}.")
        if len(scenarios) == 0:
            raise SpecError("scenarios has no rows; give at least one scenario.")
        params, timeseries = self.prepare(scenarios, bounds)
        kernel = self.variant(timeseries)
        names = kernel.output_names(outputs, scenarios)
        control = kernel.control_values(initial_time, final_time, time_step, saveper)
        check_memory(kernel, names, control, len(scenarios), len(scenarios))
        data, times = kernel.integrate(params, len(scenarios), names, control, method)
        issues = nonfinite(data, times, undefined=self.undefined, inputs=self.constants)
        report(issues, scenarios, errors, self.name)
        ds = kernel.dataset(data, times, names, scenarios)
        record(ds, issues, scenarios)
        return ds

    def output_names(self, outputs: Sequence[str] | None, scenarios: pd.DataFrame) -> list[str]:
        """Python names of the outputs to keep (default: every variable the scenarios do not set), once each."""
        if outputs is None:
            return [n for n in self.variables if n not in scenarios.columns]
        if isinstance(outputs, str):
            outputs = [outputs]
        names = []
        for n in outputs:
            if n not in self.variables:
                raise unknown_name(str(n), sorted(self.variables), "variable", where=self.name)
            names.append(n)
        return list(dict.fromkeys(names))

    def control_values(self, initial_time: float | None = None, final_time: float | None = None,
                       time_step: float | None = None, saveper: float | None = None) -> dict[str, float]:
        """The model's control values with the given ones replacing them (checked)."""
        c = dict(self.control)
        for key, value in (("initial_time", initial_time), ("final_time", final_time), ("time_step", time_step),
                           ("saveper", saveper)):
            if value is not None:
                c[key] = float(value)
        if self.dynamic_control:
            return c
        if not all(np.isfinite(c[k]) for k in c):
            raise SpecError(f"The control values must be finite; got {c}.")
        if not c["time_step"] > 0 or not c["saveper"] > 0:
            raise SpecError(f"time_step and saveper must be positive; got {c['time_step']} and {c['saveper']}.")
        if c["final_time"] < c["initial_time"]:
            raise SpecError(f"final_time={c['final_time']} is before initial_time={c['initial_time']}.")
        return c

    def check_method(self, method: str) -> None:
        """Raise :class:`UnsupportedConstructError` if ``method`` cannot integrate this model."""
        if method == "rk4":
            bad = sorted({k for k in self.statefuls.values() if k not in RK4_KINDS})
            if bad:
                raise UnsupportedConstructError(
                    f"method='rk4' is not supported for models with {', '.join(bad)} objects ({self.name!r}); "
                    "use method='euler'.")

    def integrate(self, params: dict, n: int, names: list[str], control: dict, method: str,
                  out: dict[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Integrate one chunk of ``n`` scenarios: the saved values of ``names`` and the saved times.

        ``params`` maps constants to arrays with the scenario axis first (see :meth:`prepare`);
        ``control`` is :meth:`control_values`'s result. Only what ``names`` and the stocks need is
        computed. ``out`` may hold arrays of shape ``(n, max_saved, *shape)`` to write into. A refusal
        raised by the kernel names the variable whose equation raised it.
        """
        self.check_method(method)
        shapes = {k: self.shape_of(k) for k in names}
        try:
            if self.dynamic_control:
                if method != "euler":
                    raise UnsupportedConstructError(
                        f"method={method!r} is not supported for {self.name!r}, whose control variables change "
                        "during the run; use method='euler'.")
                return integrate_dynamic(self._kernel(), params, n, names, shapes, control)
            keys = [k for k, kind in self.statefuls.items() if kind != "initial"]
            return integrate_fixed(self._kernel(names), params, n, names, shapes, control, method, keys, out)
        except UnsupportedConstructError as err:
            named = self._named(err)
            if named is err:
                raise
            raise named from err

    def dataset(self, data: dict, times: np.ndarray, names: list[str], scenarios: pd.DataFrame) -> xr.Dataset:
        coords: dict[str, Any] = {"scenario": np.asarray(scenarios.index), "time": times}
        data_vars = {}
        for k in names:
            dims = self.dims_of(k)
            for d, c in zip(dims, self.coords[k], strict=True):
                coords.setdefault(d, c)
            meta = self.variables[k]
            data_vars[k] = xr.Variable(("scenario", "time", *dims), data[k], attrs={
                "units": meta["units"], "description": meta["description"], "vensim_name": meta["vensim_name"]})
        for col in scenarios.columns:
            values = scenarios[col]
            if values.map(lambda v: np.ndim(v) == 0 and not isinstance(v, pd.Series)).all():
                label = col if col not in data_vars else f"scenario_{col}"
                coords[label] = ("scenario", np.asarray(values, dtype=float))
        return xr.Dataset(data_vars, coords=coords)

