"""The compiled kernel of a model and its integration loop (Euler as PySD, classical RK4)."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pandas as pd
import xarray as xr

from cluster_econ.errors import SpecError, UnsupportedConstructError, unknown_name
from cluster_econ.typing import Method

from . import _runtime

logger = logging.getLogger(__name__)

_RPREC = 1e-5
_RK4_KINDS = {"integ", "smooth", "delay", "initial"}


def cache_dir() -> Path:
    """Folder of the engine's cache (``$CLUSTER_ECON_CACHE/engine`` or ``~/.cache/cluster_econ/engine``)."""
    root = os.environ.get("CLUSTER_ECON_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "cluster_econ"
    return base / "engine"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_times(t0: float, tf: float, dt: float, sp: float) -> tuple[list[float], list[bool]]:
    """The times PySD visits and whether each is saved (same float operations as PySD's loop)."""
    times, flags = [], []
    prec = dt * _RPREC
    t = t0
    while True:
        in_bounds = t + dt * _RPREC < tf
        delay = t - t0
        flags.append(bool(delay % sp < prec or -delay % sp < prec))
        times.append(t)
        if not in_bounds:
            break
        t = t + dt
    return times, flags


class CompiledModel:
    """A model compiled to a vectorised numpy kernel.

    Holds generated Python source and numpy arrays only, so it pickles and can be sent to another
    process or a Dask worker. Create it with :func:`compile_model`.

    Attributes
    ----------
    name : str
        Model id or file name.
    sha256 : str
        sha256 of the model file the kernel was compiled from.
    source : str
        The generated kernel source.
    variables : dict
        PySD Python name -> {"vensim_name", "units", "description", "dims"}.
    constants : dict
        Python names of the constants a scenario may set, with their dimension names.
    control : dict
        Default ``initial_time``, ``final_time``, ``time_step`` and ``saveper``.
    """

    def __init__(self, description: dict, *, name: str, sha256: str, path: str | None = None,
                 timeseries: frozenset = frozenset()):
        self.name = name
        self.sha256 = sha256
        self.path = path
        self.source: str = description["source"]
        self.arrays: dict[str, np.ndarray] = description["arrays"]
        self.statefuls: dict[str, str] = description["statefuls"]
        self.variables: dict[str, dict] = description["variables"]
        self.coords: dict[str, list[list[str]]] = description["coords"]
        self.constants: dict[str, list[str]] = description["constants"]
        self.control: dict[str, float] = description["control"]
        self.timeseries = frozenset(timeseries)
        self.owners: dict[int, str] = description.get("owners", {})
        self.dynamic_control: bool = description.get("dynamic_control", False)
        self._functions: tuple | None = None
        self._variants: dict[frozenset, CompiledModel] = {}

    def __repr__(self) -> str:
        return (f"<CompiledModel {self.name} ({len(self.variables)} variables, "
                f"{len(self.statefuls)} stateful objects)>")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_functions"] = None
        state["_variants"] = {}
        return state

    # ------------------------------------------------------------------ kernel
    def _kernel(self) -> tuple:
        if self._functions is None:
            namespace: dict[str, Any] = {"np": np, "_rt": _runtime, "_bc": _runtime.bc, **self.arrays}
            code = compile(self.source, f"<cluster_econ kernel {self.name}>", "exec")
            exec(code, namespace)
            self._functions = (namespace["_init"], namespace["_step"], namespace["_euler"], namespace.get("_ctl"))
        return self._functions

    def smoke_test(self) -> None:
        """Initialise and take one step with the defaults; a failure is an unsupported construct."""
        if self.timeseries:
            return
        init, step, _, _ = self._kernel()
        c = self.control
        if self.dynamic_control:
            return
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
            if frame.filename.startswith("<cluster_econ kernel") and frame.lineno in self.owners:
                return self.owners[frame.lineno]
        return None

    def _named(self, err: UnsupportedConstructError) -> UnsupportedConstructError:
        """``err`` with the variable whose equation raised it named, if the message does not name it."""
        owner = self._owner(err)
        if owner is None or repr(owner) in str(err):
            return err
        return UnsupportedConstructError(f"{err} (in the equation of {owner!r} in model {self.name!r})")

    def _variant(self, timeseries: frozenset) -> CompiledModel:
        if timeseries == self.timeseries:
            return self
        if timeseries not in self._variants:
            if self.path is None:
                raise UnsupportedConstructError(
                    f"Time-series inputs for {sorted(timeseries)} need the model file, which is not known "
                    f"for {self.name!r}.")
            from ._api import compile_model

            self._variants[timeseries] = compile_model(self.path, _timeseries=timeseries, _sha256=self.sha256,
                                                       _name=self.name)
        return self._variants[timeseries]

    def dims_of(self, name: str) -> list[str]:
        return list(self.variables[name]["dims"])

    def shape_of(self, name: str) -> tuple[int, ...]:
        return tuple(len(c) for c in self.coords[name])

    # ------------------------------------------------------------------ params
    def _params(self, scenarios: pd.DataFrame) -> tuple[dict, frozenset]:
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
            params[col] = out
        return params, frozenset(timeseries)

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
            outputs: Sequence[str] | None = None, method: Method = "euler") -> xr.Dataset:
        """Integrate every scenario at once.

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

        Returns
        -------
        xarray.Dataset
            Dims ``(scenario, time[, subscripts...])``; the scalar scenario columns are coordinates
            on ``scenario``.
        """
        if method not in get_args(Method):
            raise SpecError(f"method={method!r} is not valid; use one of {list(get_args(Method))}.")
        if scenarios is None:
            scenarios = pd.DataFrame(index=pd.RangeIndex(1, name="scenario"))
        if not isinstance(scenarios, pd.DataFrame):
            raise SpecError(f"scenarios must be a pandas DataFrame, got {type(scenarios).__name__}.")
        if len(scenarios) == 0:
            raise SpecError("scenarios has no rows; give at least one scenario.")
        return self._run(scenarios, control=(initial_time, final_time, time_step, saveper), outputs=outputs,
                         method=method)

    def _run(self, scenarios: pd.DataFrame, *, control: tuple, outputs: Sequence[str] | None, method: str,
             chunk_size: int | None = None, progress: bool = False) -> xr.Dataset:
        params, timeseries = self._params(scenarios)
        kernel = self._variant(timeseries)
        names = kernel._outputs(outputs, scenarios)
        ctl = kernel._control(*control)
        kernel.check_method(method)
        n = len(scenarios)
        size = n if chunk_size is None else int(chunk_size)
        starts = list(range(0, n, size))
        if len(starts) == 1:
            data, times = kernel._integrate_named(params, n, names, ctl, method)
            return kernel._dataset(data, times, names, scenarios)
        data: dict[str, np.ndarray] = {}
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"{self.name}: chunks of {size} scenarios")
        times = np.empty(0)
        for start in starts:
            rows = slice(start, min(start + size, n))
            chunk = {k: (v[0], v[1][:, rows]) if isinstance(v, tuple) else v[rows] for k, v in params.items()}
            part, times = kernel._integrate_named(chunk, rows.stop - rows.start, names, ctl, method)
            for k in names:
                if k not in data:
                    data[k] = np.empty((n, *part[k].shape[1:]))
                data[k][rows] = part[k]
            logger.debug("%s: scenarios %d-%d done", self.name, rows.start, rows.stop - 1)
        return kernel._dataset(data, times, names, scenarios)

    def _outputs(self, outputs: Sequence[str] | None, scenarios: pd.DataFrame) -> list[str]:
        if outputs is None:
            return [n for n in self.variables if n not in scenarios.columns]
        if isinstance(outputs, str):
            outputs = [outputs]
        names = []
        for n in outputs:
            if n not in self.variables:
                raise unknown_name(str(n), sorted(self.variables), "variable", where=self.name)
            names.append(n)
        return names

    def _control(self, t0, tf, dt, sp) -> dict[str, float]:
        c = dict(self.control)
        for key, value in (("initial_time", t0), ("final_time", tf), ("time_step", dt), ("saveper", sp)):
            if value is not None:
                c[key] = float(value)
        if self.dynamic_control:
            return c
        if not c["time_step"] > 0 or not c["saveper"] > 0:
            raise SpecError(f"time_step and saveper must be positive; got {c['time_step']} and {c['saveper']}.")
        if c["final_time"] < c["initial_time"]:
            raise SpecError(f"final_time={c['final_time']} is before initial_time={c['initial_time']}.")
        return c

    def check_method(self, method: str) -> None:
        """Raise :class:`UnsupportedConstructError` if ``method`` cannot integrate this model."""
        if method == "rk4":
            bad = sorted({k for k in self.statefuls.values() if k not in _RK4_KINDS})
            if bad:
                raise UnsupportedConstructError(
                    f"method='rk4' is not supported for models with {', '.join(bad)} objects ({self.name!r}); "
                    "use method='euler'.")

    def _integrate_named(self, params: dict, n: int, names: list[str], control: dict, method: str):
        """:meth:`_integrate`; a refusal raised by the kernel names the variable whose equation raised it."""
        try:
            return self._integrate(params, n, names, control, method)
        except UnsupportedConstructError as err:
            named = self._named(err)
            if named is err:
                raise
            raise named from err

    def _integrate(self, params: dict, n: int, names: list[str], control: dict, method: str):
        self.check_method(method)
        if self.dynamic_control:
            return self._integrate_dynamic(params, n, names, control, method)
        init, step, euler, _ = self._kernel()
        t0, tf, dt, sp = (control[k] for k in ("initial_time", "final_time", "time_step", "saveper"))
        times, flags = save_times(t0, tf, dt, sp)
        n_save = sum(flags)
        prec = dt * _RPREC
        with np.errstate(all="ignore"):
            C, X = init(params, n, t0, dt, tf, sp)
            fixed = [k for k in names if k in C or k in control]  # constant in time: stored once below
            moving = [k for k in names if k not in fixed]
            series: dict[str, list] = {k: [] for k in moving}
            saved_times = []
            for i, (t, flag) in enumerate(zip(times, flags, strict=True)):
                V, D = step(t, C, X, params, t0, dt, tf, sp)
                if flag:
                    for k in moving:
                        series[k].append(V[k])
                    saved_times.append(np.round(t, -int(np.log10(prec))))
                if i == len(times) - 1:
                    break
                if method == "euler":
                    X = euler(X, D, dt)
                else:
                    X = self._rk4(X, D, t, dt, step, C, params, (t0, dt, tf, sp))
        out = {}
        for k in names:
            shape = (n, n_save, *self.shape_of(k))
            if k in series:
                value = np.stack(series[k], axis=1) if series[k] else np.empty(shape)
            else:
                value = np.asarray(C[k] if k in C else control[k], dtype=float)
                value = value.reshape((*value.shape[:1], 1, *value.shape[1:])) if value.ndim else value
            out[k] = np.array(np.broadcast_to(value, shape), dtype=float)
        return out, np.asarray(saved_times)

    def _integrate_dynamic(self, params: dict, n: int, names: list[str], control: dict, method: str):
        """Integration when TIME STEP, FINAL TIME or SAVEPER change during the run (PySD's loop)."""
        if method != "euler":
            raise UnsupportedConstructError(
                f"method={method!r} is not supported for {self.name!r}, whose control variables change during the "
                "run; use method='euler'.")
        init, step, euler, ctl = self._kernel()
        t0 = control["initial_time"]
        given = {k: control[k] for k in ("time_step", "final_time", "saveper") if np.isfinite(control[k])}

        def controls(t, C, X, dt, tf, sp):
            dt, tf, sp = ctl(t, C, X, params, t0, dt, tf, sp)
            return given.get("time_step", dt), given.get("final_time", tf), given.get("saveper", sp)

        nan = float("nan")
        series: dict[str, list] = {k: [] for k in names}
        saved_times = []
        with np.errstate(all="ignore"):
            C, X = init(params, n, t0, nan, nan, nan)
            dt, tf, sp = controls(t0, C, X, nan, nan, nan)
            C, X = init(params, n, t0, dt, tf, sp)
            t = t0
            while True:
                dt, tf, sp = controls(t, C, X, dt, tf, sp)
                V, D = step(t, C, X, params, t0, dt, tf, sp)
                prec = dt * _RPREC
                delay = t - t0
                if delay % sp < prec or -delay % sp < prec:
                    for k in names:
                        series[k].append(V[k] if k in V else C[k])
                    saved_times.append(np.round(t, -int(np.log10(prec))))
                if not t + dt * _RPREC < tf:
                    break
                X = euler(X, D, dt)
                t = t + dt
        out = {k: np.array(np.broadcast_to(np.stack([np.asarray(v, dtype=float).reshape(
            (-1, *self.shape_of(k))) for v in series[k]], axis=1), (n, len(saved_times), *self.shape_of(k))))
            for k in names}
        return out, np.asarray(saved_times)

    def _rk4(self, X, k1, t, dt, step, C, params, ctl):
        keys = [k for k, kind in self.statefuls.items() if kind != "initial"]

        def shifted(D, h):
            Y = dict(X)
            for k in keys:
                Y[k] = X[k] + D[k] * h
            return Y

        k2 = step(t + dt / 2, C, shifted(k1, dt / 2), params, *ctl)[1]
        k3 = step(t + dt / 2, C, shifted(k2, dt / 2), params, *ctl)[1]
        k4 = step(t + dt, C, shifted(k3, dt), params, *ctl)[1]
        new = dict(X)
        for k in keys:
            new[k] = X[k] + dt / 6 * (k1[k] + 2 * k2[k] + 2 * k3[k] + k4[k])
        return new

    def _dataset(self, data: dict, times: np.ndarray, names: list[str], scenarios: pd.DataFrame) -> xr.Dataset:
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


@functools.cache
def engine_fingerprint() -> str:
    """sha256 of the engine's own source files (``cluster_econ/sd/engine/*.py``)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _pysd_version() -> str:
    import pysd

    return str(pysd.__version__)


def source_key(sha256: str, timeseries: frozenset, *, engine: str | None = None, pysd: str | None = None) -> str:
    """Cache key of a kernel: model sha256, time-series inputs, the engine's source and the PySD version.

    ``engine`` and ``pysd`` default to :func:`engine_fingerprint` and the installed PySD's version.
    """
    engine = engine_fingerprint() if engine is None else engine
    pysd = _pysd_version() if pysd is None else pysd
    extra = ",".join(sorted(timeseries))
    return hashlib.sha256(f"{sha256}|{extra}|{engine}|{pysd}".encode()).hexdigest()


def load_cached(sha256: str, timeseries: frozenset) -> dict | None:
    path = cache_dir() / f"{source_key(sha256, timeseries)}.pkl"
    if not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except Exception:  # a corrupt cache entry is recompiled
        logger.warning("Ignoring unreadable engine cache entry %s", path)
        return None


def store_cached(sha256: str, timeseries: frozenset, description: dict) -> None:
    path = cache_dir() / f"{source_key(sha256, timeseries)}.pkl"
    try:
        _atomic_write(path, pickle.dumps(description, protocol=pickle.HIGHEST_PROTOCOL))
        _atomic_write(path.with_suffix(".py"), description["source"].encode())
    except OSError as err:  # a read-only cache only costs recompilation
        logger.warning("Could not write the engine cache %s: %s", path, err)
