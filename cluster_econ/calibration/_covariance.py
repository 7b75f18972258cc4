"""Covariance of calibrated parameters: cluster-robust sandwich, unadjusted, and identification checks.

References
----------
Cameron, A. C. and Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
Journal of Human Resources 50(2), 317-372.
White, H. (1980). A heteroskedasticity-consistent covariance matrix estimator and a direct test for
heteroskedasticity. Econometrica 48(4), 817-838.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["clustered_cov", "correlated_pairs", "rank_deficient", "unadjusted_cov"]

#: relative singular value below which the Jacobian counts as rank-deficient
RANK_TOLERANCE = 1e-7
#: absolute correlation of two estimates above which they are reported as not told apart
CORRELATION_LIMIT = 0.95


def _bread(jac: np.ndarray) -> np.ndarray:
    return np.linalg.pinv(jac.T @ jac)


def clustered_cov(jac: np.ndarray, resid: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(J'J)^-1 (sum_g J_g' r_g r_g' J_g) (J'J)^-1 * G / (G - 1), for weighted residuals r.

    ``jac`` is the Jacobian of the weighted residuals (so J'J = J'WJ of the unweighted ones) and
    ``groups`` the cluster (region) of each residual.
    """
    bread = _bread(jac)
    labels = np.unique(groups)
    scores = np.vstack([jac[groups == g].T @ resid[groups == g] for g in labels])
    meat = scores.T @ scores
    n_groups = len(labels)
    factor = n_groups / (n_groups - 1) if n_groups > 1 else 1.0
    return factor * bread @ meat @ bread


def unadjusted_cov(jac: np.ndarray, resid: np.ndarray) -> np.ndarray:
    """s^2 (J'J)^-1 with s^2 = r'r / (n - p): independent, homoskedastic (weighted) errors."""
    n, p = jac.shape
    s2 = float(resid @ resid) / max(n - p, 1)
    return s2 * _bread(jac)


def rank_deficient(jac: np.ndarray, names: Sequence[str]) -> list[str]:
    """Parameters the Jacobian cannot tell apart (those loading on its near-null directions)."""
    names = list(names)
    norms = np.linalg.norm(jac, axis=0)
    dead = [names[int(j)] for j in np.flatnonzero(norms == 0)]
    if dead:
        return dead
    _, s, vt = np.linalg.svd(jac / norms, full_matrices=False)
    small = s < RANK_TOLERANCE * s[0]
    found: list[str] = []
    for row in vt[small]:
        for j in np.flatnonzero(np.abs(row) > 0.3):
            if names[int(j)] not in found:
                found.append(names[int(j)])
    return found


def correlated_pairs(cov: np.ndarray, names: Sequence[str]) -> list[tuple[str, str, float]]:
    """Pairs of estimates whose correlation exceeds :data:`CORRELATION_LIMIT` in absolute value."""
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    pairs = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if sd[i] > 0 and sd[j] > 0:
                rho = cov[i, j] / (sd[i] * sd[j])
                if abs(rho) > CORRELATION_LIMIT:
                    pairs.append((names[i], names[j], float(rho)))
    return pairs
