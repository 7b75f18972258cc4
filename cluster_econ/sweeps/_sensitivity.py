"""Sobol' and Morris sensitivity indices, vectorised over every output cell at once.

Unlike one SALib call per column, the estimators here take outputs of shape (runs, cells) — every
time and region of a time-series outcome together — and bootstrap all cells with one set of
resampling weights (matrix products), with percentile intervals from a seeded generator.
"""

from __future__ import annotations

import numpy as np

__all__ = ["morris_indices", "sobol_indices"]



def _wsum(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``weights @ values``, summed over the samples one at a time, in the same order for every cell.

    A BLAS product rounds differently for different numbers of columns, so indices computed for a block
    of cells (a sweep read from its store) would differ in the last bits from those of all cells at once,
    and by much more where an output barely varies. Accumulating sample by sample gives each cell the same
    float operations whatever the block.
    """
    total = np.zeros((weights.shape[0], *values.shape[1:]))
    for i in range(values.shape[0]):
        total += weights[:, i].reshape(-1, *(1,) * (values.ndim - 1)) * values[i]
    return total


def _sum(values: np.ndarray) -> np.ndarray:
    """The sum over samples (axis 0), one sample at a time, as :func:`_wsum`, for any number of cells.

    ``numpy.mean(axis=0)`` sums in an order that depends on how many cells there are (pairwise along a
    single column), so a point estimate for a block of cells would differ in the last bits from the
    same estimate computed with all cells.
    """
    total = np.zeros(values.shape[1:])
    for row in values:
        total += row
    return total


def _mean(values: np.ndarray) -> np.ndarray:
    return _sum(values) / values.shape[0]


def _var(values: np.ndarray) -> np.ndarray:
    """The population variance over samples, the sums taken as :func:`_mean` takes them."""
    return _mean((values - _mean(values)) ** 2)


def _weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """Bootstrap weights (resamples, n): multinomial counts over n rows, divided by n."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=resamples) / n


def _interval(boot: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.nanquantile(boot, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


def _safe(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def sobol_indices(y: np.ndarray, k: int, *, second_order: bool, resamples: int = 1000, level: float = 0.95,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """First-order, total and (optionally) second-order Sobol' indices from a Saltelli sample.

    Parameters
    ----------
    y : numpy.ndarray
        Outputs (runs, cells), runs in the order of SALib's Saltelli sample (blocks of
        ``A, AB_1..AB_k, [BA_1..BA_k], B`` per base row).
    k : int
        Number of factors.
    second_order : bool
        Whether the sample holds the ``BA`` rows.
    resamples, level, seed
        Percentile bootstrap: number of resamples, interval level and seed.

    Returns
    -------
    dict
        ``S1``, ``ST`` (k, cells) with ``*_lower``, ``*_upper`` and ``*_conf`` (half the interval's
        width); ``S2`` (k, k, cells) and its bounds when ``second_order``. NaN in cells whose output
        does not vary beyond rounding.

    References
    ----------
    Saltelli et al. (2010), Variance based sensitivity analysis of model output, Comput. Phys. Commun.
    181(2), 259-270 (first-order estimator); Jansen (1999), Comput. Phys. Commun. 117 (total);
    Efron and Tibshirani (1993), An Introduction to the Bootstrap (percentile intervals).
    """
    step = 2 * k + 2 if second_order else k + 2
    y = np.asarray(y, dtype=float).reshape(y.shape[0], -1)
    n = y.shape[0] // step
    a, b = y[0::step], y[step - 1::step]
    ab = [y[1 + j::step] for j in range(k)]
    ba = [y[1 + k + j::step] for j in range(k)] if second_order else []
    w = _weights(n, resamples, seed)

    def var(weights: np.ndarray | None) -> np.ndarray:
        if weights is None:
            return _var(np.concatenate([a, b]))
        mean = (_wsum(weights, a) + _wsum(weights, b)) / 2
        return (_wsum(weights, a * a) + _wsum(weights, b * b)) / 2 - mean * mean

    v, vb = var(None), var(w)
    out: dict[str, np.ndarray] = {}
    s1, st, s1b, stb = [], [], [], []
    for j in range(k):
        first = b * (ab[j] - a)
        total = 0.5 * (a - ab[j]) ** 2
        s1.append(_safe(_mean(first), v))
        st.append(_safe(_mean(total), v))
        s1b.append(_safe(_wsum(w, first), vb))
        stb.append(_safe(_wsum(w, total), vb))
    for name, point, boot in (("S1", s1, s1b), ("ST", st, stb)):
        out[name] = np.array(point)
        lo, hi = _interval(np.stack(boot, axis=1), level)
        out[f"{name}_lower"], out[f"{name}_upper"], out[f"{name}_conf"] = lo, hi, (hi - lo) / 2
    if second_order:
        cells = y.shape[1]
        s2 = np.full((k, k, cells), np.nan)
        lo2, hi2 = np.full_like(s2, np.nan), np.full_like(s2, np.nan)
        for j in range(k):
            for i in range(j + 1, k):
                joint = ba[j] * ab[i] - a * b
                s2[j, i] = _safe(_mean(joint), v) - s1[j] - s1[i]
                boot = _safe(_wsum(w, joint), vb) - s1b[j] - s1b[i]
                lo2[j, i], hi2[j, i] = _interval(boot, level)
        out["S2"], out["S2_lower"], out["S2_upper"], out["S2_conf"] = s2, lo2, hi2, (hi2 - lo2) / 2
    # cells whose output does not vary beyond rounding (variance below 1e-12 of its second moment) have no
    # indices: NaN, not the noise of a ratio of rounding errors
    flat = v <= 1e-12 * (_mean(a * a) + _mean(b * b)) / 2
    for key in out:
        out[key][..., flat] = np.nan
    return out


def morris_indices(y: np.ndarray, unit: np.ndarray, k: int, *, resamples: int = 1000, level: float = 0.95,
                   seed: int = 0) -> dict[str, np.ndarray]:
    """Morris elementary-effect statistics (mu, mu_star, sigma) from trajectories.

    Parameters
    ----------
    y : numpy.ndarray
        Outputs (runs, cells), runs in trajectory order (``k + 1`` rows each).
    unit : numpy.ndarray
        The design in the unit hypercube (runs, k), as sampled.

    Returns
    -------
    dict
        ``mu``, ``mu_star``, ``sigma``, ``mu_star_conf`` (half-width of the percentile bootstrap
        interval of ``mu_star``), each (k, cells).

    References
    ----------
    Morris (1991), Technometrics 33(2), 161-174; Campolongo, Cariboni and Saltelli (2007), An effective
    screening design for sensitivity analysis of large models, Environ. Model. Softw. 22(10), 1509-1518.
    """
    y = np.asarray(y, dtype=float).reshape(y.shape[0], -1)
    t = y.shape[0] // (k + 1)
    y3 = y.reshape(t, k + 1, -1)
    u3 = unit.reshape(t, k + 1, k)
    du = np.diff(u3, axis=1)  # (t, k, k): step s changes one factor
    changed = np.argmax(np.abs(du), axis=2)  # (t, k)
    delta = np.take_along_axis(du, changed[:, :, None], axis=2)[:, :, 0]
    effects = np.diff(y3, axis=1) / delta[:, :, None]  # (t, k steps, cells)
    ee = np.empty_like(effects)
    rows = np.arange(t)[:, None]
    ee[rows, changed] = effects  # (t, factor, cells)
    w = _weights(t, resamples, seed)
    boot = _wsum(w, np.abs(ee))  # (resamples, k, cells), the same for any block of cells
    lo, hi = _interval(boot, level)
    mu = _mean(ee)
    sigma = np.sqrt(_sum((ee - mu) ** 2) / (t - 1)) if t > 1 else np.full(ee.shape[1:], np.nan)
    return {"mu": mu, "mu_star": _mean(np.abs(ee)), "sigma": sigma, "mu_star_conf": (hi - lo) / 2}
