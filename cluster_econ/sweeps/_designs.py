"""Experimental designs: points of the unit hypercube mapped to lever and uncertainty values.

Every design draws from ``numpy.random.default_rng(seed)`` only, so the same spec and seed give the
same scenarios, bit for bit, whatever the chunking or executor of the runs.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from cluster_econ.errors import ClusterEconWarning, SpecError
from cluster_econ.typing import Design

from ._specs import Lever, Uncertainty

__all__ = ["Design", "SamplingWarning", "draw"]

MORRIS_LEVELS = 4


class SamplingWarning(ClusterEconWarning):
    """A design whose sample size weakens its properties (a Sobol' base sample not a power of 2)."""


def _unit(design: str, n: int, k: int, rng: np.random.Generator, second_order: bool,
          stacklevel: int) -> np.ndarray:
    if design == "mc":
        return rng.random((n, k))
    if design == "lhs":
        return qmc.LatinHypercube(d=k, seed=rng).random(n)
    problem = {"num_vars": k, "names": [f"x{i}" for i in range(k)], "bounds": [[0.0, 1.0]] * k}
    if design == "sobol":
        from SALib.sample import sobol as salib_sobol

        if n & (n - 1):
            warnings.warn(f"design='sobol' with n={n}: the Sobol' sequence keeps its balance properties only "
                          "for powers of 2; use n = 2**m (e.g. {}).".format(1 << int(n).bit_length()),
                          SamplingWarning, stacklevel=stacklevel)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # scipy's own power-of-2 warning, given above
            return np.asarray(salib_sobol.sample(problem, n, calc_second_order=second_order, seed=rng), dtype=float)
    from SALib.sample import morris as salib_morris

    return np.asarray(salib_morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=rng), dtype=float)


def _copula(unit: np.ndarray, uncertainties: Sequence[Uncertainty], offset: int) -> np.ndarray:
    """Correlate the columns of normal uncertainties that declare correlations (Gaussian copula)."""
    names = [u.name for u in uncertainties]
    joint = [i for i, u in enumerate(uncertainties) if u.correlation]
    if not joint:
        return unit
    corr = np.eye(len(joint))
    for a, i in enumerate(joint):
        for other, rho in uncertainties[i].correlation.items():
            if other not in names:
                raise SpecError(f"Uncertainty {names[i]!r} is correlated with {other!r}, which is not an "
                                "uncertainty of this sweep; add it or drop the correlation.")
            j = names.index(other)
            if j not in joint:
                raise SpecError(f"Uncertainty {names[i]!r} is correlated with {other!r} but not the reverse.")
            corr[a, joint.index(j)] = rho
    if not np.allclose(corr, corr.T, rtol=0, atol=1e-12):
        raise SpecError("The correlations of the uncertainties are not symmetric; give each pair the same value.")
    try:
        chol = np.linalg.cholesky(corr)
    except np.linalg.LinAlgError as err:
        raise SpecError("The correlation matrix of the uncertainties is not positive definite.") from err
    cols = [offset + i for i in joint]
    z = stats.norm.ppf(np.clip(unit[:, cols], 1e-16, 1 - 1e-16))
    out = unit.copy()
    out[:, cols] = stats.norm.cdf(z @ chol.T)
    return out


def draw(levers: Sequence[Lever], uncertainties: Sequence[Uncertainty], *, n: int, design: str, seed: int,
         second_order: bool = False, stacklevel: int = 4) -> pd.DataFrame:
    """The experiments: one row per scenario, one column per lever then uncertainty.

    Parameters
    ----------
    levers, uncertainties : sequences of specs (already checked against the model)
    n : int
        Sample size (base sample for ``"sobol"``, trajectories for ``"morris"``, uncertainty draws per
        lever combination for ``"full_factorial"``).
    design : str
    seed : int
        Seeds ``numpy.random.default_rng``, the only source of randomness.

    References
    ----------
    McKay, Beckman and Conover (1979), Technometrics 21(2); Saltelli (2002), Comput. Phys. Commun.
    145(2); Morris (1991), Technometrics 33(2); Campolongo, Cariboni and Saltelli (2007), Environ. Model.
    Softw. 22(10).
    """
    rng = np.random.default_rng(seed)
    names = [f.name for f in levers] + [u.name for u in uncertainties]
    if design == "full_factorial":
        grid = np.array(list(itertools.product(*[lever.values or () for lever in levers])), dtype=float)
        if uncertainties:
            unit = _copula(qmc.LatinHypercube(d=len(uncertainties), seed=rng).random(n), uncertainties, 0)
            draws = np.column_stack([u.ppf(unit[:, i]) for i, u in enumerate(uncertainties)])
            values = np.column_stack([np.repeat(grid, n, axis=0), np.tile(draws, (len(grid), 1))])
        else:
            values = grid
    else:
        unit = _unit(design, n, len(names), rng, second_order, stacklevel)
        if design not in ("sobol", "morris"):  # correlated draws are refused for these by the sweep
            unit = _copula(unit, uncertainties, len(levers))
        factors: list[Any] = [*levers, *uncertainties]
        values = np.column_stack([f.ppf(unit[:, i]) for i, f in enumerate(factors)])
    frame = pd.DataFrame(values, columns=names)
    frame.index = pd.RangeIndex(len(frame), name="scenario")
    return frame
