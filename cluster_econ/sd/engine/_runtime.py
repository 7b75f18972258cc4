"""Array helpers called by generated kernels.

Every helper works on numpy arrays whose first axis is the scenario axis (length S or 1) and
reproduces the float operations of :mod:`pysd.py_backend.functions` and
:mod:`pysd.py_backend.statefuls` element by element, so a kernel gives the same numbers as PySD.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._sparse import sparsity

SMALL_VENSIM = 1e-6

__all__ = [
    "assemble",
    "delay_order",
    "if_then_else",
    "integer",
    "lookup",
    "modulo",
    "pulse",
    "pulse_train",
    "pulse_train_magnitude",
    "quantum",
    "ramp",
    "reduce",
    "sparsity",
    "step",
    "sum_product",
    "xidz",
    "zidz",
]


def if_then_else(cond, a, b):
    """Vectorised IF THEN ELSE."""
    return np.where(cond, a, b)


def xidz(num, den, x):
    """XIDZ as in PySD: ``x`` where ``|den| < 1e-6`` else ``num / den``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(den) < SMALL_VENSIM, x, num / den)


def zidz(num, den):
    """ZIDZ as in PySD: 0 where ``|den| < 1e-6`` else ``num / den``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(den) < SMALL_VENSIM, 0, num / den)


def integer(x):
    """INTEGER: truncation towards zero."""
    return np.trunc(x)


def quantum(a, b):
    """QUANTUM as in PySD."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b < SMALL_VENSIM, a, b * np.trunc(a / b))


def modulo(x, m):
    """MODULO as in PySD: ``x - quantum(x, m)``."""
    return x - quantum(x, m)


def step(t, dt, value, tstep):
    """STEP as in PySD."""
    return value * (t + dt / 2 > tstep)


def ramp(t, slope, start, finish=None):
    """RAMP as in PySD."""
    final = t if finish is None else np.minimum(finish, t)
    return (t + SMALL_VENSIM > start) * slope * (final - start)


def pulse(t, dt, start, width=None, magnitude=None):
    """PULSE (and the XMILE magnitude form) as in PySD."""
    width = 0.5 * dt if width is None else width
    out = magnitude / dt if magnitude is not None else 1
    return np.where((start - SMALL_VENSIM <= t) & (t < start + width), out, 0)


def pulse_train(t, dt, start, repeat_time, width, end):
    """PULSE TRAIN as in PySD."""
    out = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        single = np.where((start - SMALL_VENSIM <= t) & (t < start + width), out, 0)
        rep = np.where(
            (start <= t) & (t < end),
            np.where(np.mod(t - start + SMALL_VENSIM, repeat_time) < width, out, 0),
            0,
        )
    return np.where(np.asarray(repeat_time) == 0, single, rep)


def pulse_train_magnitude(t, dt, start, repeat_time, magnitude):
    """XMILE's PULSE(magnitude, first, interval) as PySD computes it (one time step wide)."""
    width = 0.5 * dt
    out = magnitude / dt
    with np.errstate(divide="ignore", invalid="ignore"):
        single = np.where((start - SMALL_VENSIM <= t) & (t < start + width), out, 0)
        rep = np.where(start <= t, np.where(np.mod(t - start + SMALL_VENSIM, repeat_time) < width, out, 0), 0)
    return np.where(np.asarray(repeat_time) == 0, single, rep)


_PLAIN: dict[str, Callable[..., Any]] = {"sum": np.sum, "prod": np.prod, "vmin": np.min, "vmax": np.max}
_SKIP: dict[str, Callable[..., Any]] = {"sum": np.nansum, "prod": np.nanprod, "vmin": np.nanmin, "vmax": np.nanmax}


def reduce(kind, x, axes):
    """SUM, PROD, VMIN, VMAX over ``axes`` skipping NaN, as xarray does."""
    out = _PLAIN[kind](x, axis=axes)
    if np.isnan(out).any():  # only then pay for the NaN-skipping version
        out = _SKIP[kind](x, axis=axes)
    return out


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def sum_product(a, b, axes):
    """SUM(a * b) over ``axes`` without building the product (``einsum``), NaN skipped as xarray does.

    ``a`` and ``b`` are laid out on the same dimensions (length-1 axes broadcast).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    labels = _LETTERS[: max(a.ndim, b.ndim)]
    kept = "".join(c for i, c in enumerate(labels) if i not in axes)
    out = np.einsum(f"{labels},{labels}->{kept}", a, b)
    if np.isnan(out).any():  # only then pay for the NaN-skipping version
        out = np.nansum(a * b, axis=axes)
    return out


def _one(value, what):
    from cluster_econ.errors import UnsupportedConstructError

    values = np.unique(np.asarray(value, dtype=float))
    if len(values) != 1:
        raise UnsupportedConstructError(
            f"The {what} of a VECTOR function differs between scenarios or elements ({values.tolist()}); the batch "
            "engine needs one value.")
    return values[0].item()


def vector_select(sel, expr, axes, missing, action, error):
    """VECTOR SELECT as PySD computes it, over ``axes``."""
    action = _one(action, "numerical action")
    error = _one(error, "error action")
    sel = np.asarray(sel, dtype=float)
    zeros = np.all(sel == 0, axis=axes)
    if np.any(zeros) and error in (1, 3):
        raise FloatingPointError("All the values of selection_array are 0...")
    if np.any(np.sum(sel != 0, axis=axes) > 1) and error in (2, 3):
        raise FloatingPointError("More than one non-zero values in selection_array...")
    with np.errstate(all="ignore"):
        if action in range(5):
            array = np.where(sel == 0, np.nan, sel * expr)
        elif action == 5:
            array = np.where(sel == 0, np.nan, np.asarray(expr) ** sel)
        elif action in range(6, 11):
            array = np.where(sel == 0, np.nan, expr)
        else:
            raise ValueError(f"Invalid argument value 'numerical_action={action}'.")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if action in (0, 6):
                out = np.nansum(array, axis=axes)
            elif action in (1, 5, 7):
                out = np.nanprod(array, axis=axes)
            elif action in (2, 8):
                out = np.nanmin(array, axis=axes)
            elif action in (3, 9):
                out = np.nanmax(array, axis=axes)
            else:
                out = np.nanmean(array, axis=axes)
    return np.where(zeros, missing, out)


def vector_sort_order(vector, direction):
    """VECTOR SORT ORDER along the last dimension, as PySD computes it."""
    order = np.argsort(np.asarray(vector), axis=-1)
    return np.flip(order, axis=-1) if _one(direction, "direction") <= 0 else order


def vector_rank(vector, direction):
    """VECTOR RANK along the last dimension (1 = first), as PySD computes it."""
    return np.argsort(vector_sort_order(vector, direction), axis=-1) + 1


def vector_reorder(vector, order):
    """VECTOR REORDER along the last dimension."""
    vector = np.asarray(vector)
    index = np.asarray(order).astype(int)
    shape = np.broadcast_shapes(vector.shape[:-1], index.shape[:-1])
    return np.take_along_axis(np.broadcast_to(vector, (*shape, vector.shape[-1])),
                              np.broadcast_to(index, (*shape, index.shape[-1])), axis=-1)


def allocate_by_priority(request, priority, width, supply):
    """ALLOCATE BY PRIORITY over the last dimension, one allocation per scenario and cell (PySD's algorithm)."""
    from pysd.py_backend.allocation import _allocate_by_priority_1d

    request = np.asarray(request, dtype=float)
    priority = np.asarray(priority, dtype=float)
    width = np.asarray(width, dtype=float)
    supply = np.asarray(supply, dtype=float)
    if np.any(request < 0):
        raise ValueError("There are some negative request values. Allocation requires all quantities to be "
                         "positive or 0.")
    if np.any(width <= 0):
        raise ValueError("width must be greater than 0.")
    if np.any(supply < 0):
        raise ValueError("supply must not be negative.")
    n = request.shape[-1]
    lead = np.broadcast_shapes(request.shape[:-1], priority.shape[:-1], width.shape, supply.shape)
    request = np.broadcast_to(request, (*lead, n))
    priority = np.broadcast_to(priority, (*lead, n))
    width = np.broadcast_to(width, lead)
    supply = np.broadcast_to(supply, lead)
    out = np.empty((*lead, n))
    for idx in np.ndindex(*lead):
        out[idx] = _allocate_by_priority_1d(request[idx], priority[idx], float(width[idx]), float(supply[idx]))
    return out


def lookup(x, xs, ys, interp):
    """Piecewise-linear lookup with end clamping (Vensim) or extrapolation (XMILE).

    ``ys`` has the table axis first and is broadcastable against ``x`` behind it.
    """
    x = np.asarray(x, dtype=float)
    n = len(xs)
    if ys.ndim - 1 < x.ndim:  # table dims are the trailing dims of x
        ys = ys.reshape((n,) + (1,) * (x.ndim - ys.ndim + 1) + ys.shape[1:])
    ysb = np.broadcast_to(ys, (n, *np.broadcast_shapes(x.shape, ys.shape[1:])))
    xb = np.broadcast_to(x, ysb.shape[1:])
    if interp == "hold_backward":
        j = np.clip(np.searchsorted(xs, xb, side="right") - 1, 0, n - 1)
        return np.take_along_axis(ysb, j[None], axis=0)[0]
    if n == 1:
        return np.array(ysb[0], copy=True)
    j = np.clip(np.searchsorted(xs, xb, side="right") - 1, 0, n - 2)
    y0 = np.take_along_axis(ysb, j[None], axis=0)[0]
    y1 = np.take_along_axis(ysb, (j + 1)[None], axis=0)[0]
    x0 = xs[j]
    x1 = xs[j + 1]
    slope = (y1 - y0) / (x1 - x0)
    out = slope * (xb - x0) + y0
    exact = xb == x0
    out = np.where(exact, y0, out)
    if interp == "extrapolate":
        return out
    out = np.where(xb <= xs[0], ysb[0], out)
    return np.where(xb >= xs[-1], ysb[-1], out)


def data(t, xs, ys, interp):
    """A GET DATA series at time ``t`` as PySD's ``Data`` gives it (``ys`` has time first)."""
    hit = np.flatnonzero(xs == t)
    if hit.size:
        return ys[hit[0]]
    if interp == "raw":
        return np.full(ys.shape[1:], np.nan)
    if t > xs[-1]:
        return ys[-1]
    if t < xs[0]:
        return ys[0]
    j = int(np.searchsorted(xs, t)) - 1
    if interp == "look_forward":
        return ys[j + 1]
    if interp == "hold_backward":
        return ys[j]
    slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
    return slope * (t - xs[j]) + ys[j]


def assemble(shape, parts):
    """Assemble an element from its components.

    ``parts`` is a list of ``(value, target, source, comp_shape)``: ``value`` covers the component
    (scenario axis first), ``target`` the flat positions in the element, ``source`` the flat
    positions in the component.
    """
    s = max(np.shape(p[0])[0] if np.ndim(p[0]) else 1 for p in parts)
    out = np.full((s, int(np.prod(shape, dtype=int))), np.nan)
    for value, target, source, comp_shape in parts:
        v = np.broadcast_to(value, (s, *comp_shape)).reshape(s, -1)
        out[:, target] = v[:, source]
    return out.reshape((s, *shape))


def delay_order(order, dt, delay_time, name):
    """Order of a DELAY/DELAY N as PySD sets it at initialisation (one value for all scenarios)."""
    from cluster_econ.errors import UnsupportedConstructError

    o = np.unique(np.asarray(order, dtype=float))
    if len(o) != 1:
        raise UnsupportedConstructError(
            f"The delay order of {name!r} differs between scenarios ({o.tolist()}); the batch engine "
            "needs one delay order for all scenarios. Run these scenarios separately."
        )
    result = int(o[0])
    dtv = np.asarray(delay_time, dtype=float)
    mins = dtv.reshape(dtv.shape[0], -1).min(axis=1) if dtv.ndim else dtv.reshape(1)
    orders = set()
    for dtime in np.unique(mins):
        k = result
        while k * dt > dtime:
            k -= 1
        orders.add(k)
    if len(orders) != 1:
        raise UnsupportedConstructError(
            f"The delay time of {name!r} is so short in some scenarios that PySD lowers the delay "
            "order there; the batch engine needs one order for all scenarios. Use a delay time of at "
            "least order * TIME STEP."
        )
    return orders.pop()


def fixed_delay_order(delay_time, dt, name):
    """Length of the DELAY FIXED pipeline, as PySD computes it."""
    from cluster_econ.errors import UnsupportedConstructError

    vals = np.unique(np.asarray(delay_time, dtype=float))
    orders = {round(max(v / dt, 1) + SMALL_VENSIM) for v in vals}
    if len(orders) != 1:
        raise UnsupportedConstructError(
            f"The DELAY FIXED time of {name!r} differs between scenarios; the batch engine needs one "
            "pipeline length for all scenarios."
        )
    return orders.pop()


def bc(value, shape):
    """Broadcast ``value`` (scenario axis first, or a scalar) to ``(S or 1, *shape)``."""
    if type(value) is np.ndarray and value.ndim == len(shape) + 1:
        if value.shape[1:] == shape:
            return value
        return np.broadcast_to(value, (value.shape[0], *shape))
    return np.full((1, *shape), value, dtype=float)


def smooth_order(order, name):
    """Order of a SMOOTH N (one value for all scenarios)."""
    from cluster_econ.errors import UnsupportedConstructError

    o = np.unique(np.asarray(order, dtype=float))
    if len(o) != 1:
        raise UnsupportedConstructError(
            f"The smooth order of {name!r} differs between scenarios ({o.tolist()}); the batch engine "
            "needs one order for all scenarios."
        )
    return o[0].item()


def delay_fixed_update(X, D, key):
    """Advance a DELAY FIXED pipeline by one step (in place on the new state dict ``X``)."""
    pipe = X[f"{key}_pipe"].copy()
    p = X[f"{key}_p"]
    pipe[p] = D[key]
    p = (p + 1) % pipe.shape[0]
    X[f"{key}_pipe"], X[f"{key}_p"], X[key] = pipe, p, pipe[p].copy()


def scalar(value, name):
    """A control variable's value as one float (the same for every scenario)."""
    from cluster_econ.errors import UnsupportedConstructError

    values = np.unique(np.asarray(value, dtype=float))
    if len(values) != 1:
        raise UnsupportedConstructError(
            f"{name} takes different values in different scenarios ({values.tolist()}); the batch engine "
            "integrates all scenarios on one time grid.")
    return values[0].item()


def full(value, n, shape):
    """A writable float copy of ``value`` broadcast to ``(n, *shape)`` (initial stateful values)."""
    return np.array(np.broadcast_to(bc(value, shape), (n, *shape)), dtype=float)
