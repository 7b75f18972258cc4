"""Exception and warning hierarchy of cluster_econ.

Every error raised on purpose by the package derives from :class:`ClusterEconError`, and every
warning from :class:`ClusterEconWarning`, so users can catch or filter them in one place.
Messages name the bad value, where it came from, and how to fix it.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import Any, get_args

import numpy as np

__all__ = [
    "CalibrationError",
    "ClusterEconError",
    "ClusterEconWarning",
    "ConvergenceWarning",
    "DataValidationError",
    "IdentificationWarning",
    "MissingDataWarning",
    "ModelFileError",
    "ModelVersionError",
    "NumericalWarning",
    "ReproducibilityError",
    "ReproducibilityWarning",
    "SimulationError",
    "SpecError",
    "UnknownNameError",
    "UnsupportedConstructError",
    "check_option",
    "did_you_mean",
    "find_stack_level",
    "plain",
    "unknown_name",
]


class ClusterEconError(Exception):
    """Base class of every error cluster_econ raises on purpose."""


class DataValidationError(ClusterEconError, ValueError):
    """Data that cannot be used as given (duplicates, wrong types, bad values, altered files)."""


class SpecError(ClusterEconError, ValueError):
    """An option, formula, parameter value or specification that is not valid."""


class UnknownNameError(ClusterEconError, KeyError):
    """A name (column, dataset, model, parameter, variable) that does not exist."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class ModelVersionError(ClusterEconError):
    """A model file that does not match its recorded version, or an unknown model version."""


class CalibrationError(ClusterEconError, RuntimeError):
    """A calibration that cannot be set up or does not produce a usable result."""


class UnsupportedConstructError(ClusterEconError, NotImplementedError):
    """A model construct the batch engine does not implement."""


class ModelFileError(ClusterEconError, ValueError):
    """A model file that cannot be read: malformed, too large, not a regular file, or unsafe."""


class SimulationError(ClusterEconError, RuntimeError):
    """A simulation whose results are not usable (non-finite values with ``errors="raise"``)."""


class ReproducibilityError(ClusterEconError):
    """A re-run that does not reproduce a saved result (values, package versions or model differ)."""


class ClusterEconWarning(UserWarning):
    """Base class of every warning cluster_econ issues."""


class MissingDataWarning(ClusterEconWarning):
    """Missing values were found in data."""


class ConvergenceWarning(ClusterEconWarning):
    """An optimiser or iterative estimator did not converge."""


class IdentificationWarning(ClusterEconWarning):
    """Parameters the data cannot tell apart (rank-deficient Jacobian, highly correlated estimates)."""


class NumericalWarning(ClusterEconWarning):
    """A simulation produced non-finite values."""


class ReproducibilityWarning(ClusterEconWarning):
    """A re-run reproduced a saved result's values, but with other package versions or platform."""


def did_you_mean(name: str, candidates: Iterable[str], *, n: int = 3) -> list[str]:
    """Return up to ``n`` candidates close to ``name``, best first (case-insensitive)."""
    candidates = [str(c) for c in candidates]
    lower = {c.lower(): c for c in candidates}
    matches = difflib.get_close_matches(str(name).lower(), list(lower), n=n, cutoff=0.6)
    return [lower[m] for m in matches]


def unknown_name(name: str, candidates: Iterable[str], what: str, *, where: str = "") -> UnknownNameError:
    """Build an :class:`UnknownNameError` with a did-you-mean suggestion.

    Parameters
    ----------
    name : str
        The name the user gave.
    candidates : iterable of str
        The valid names.
    what : str
        What kind of name it is ("column", "dataset", "parameter", ...).
    where : str, optional
        Where it was looked up ("us_states", "regional_cluster 1.0.0", ...).

    Examples
    --------
    >>> err = unknown_name("rd_subsidy", ["rd_subsidy_rate"], "parameter", where="regional_cluster 1.0.0")
    >>> print(err)
    'rd_subsidy' is not a parameter of regional_cluster 1.0.0. Did you mean 'rd_subsidy_rate'?
    """
    candidates = list(candidates)
    location = f" of {where}" if where else ""
    article = "an" if what[:1].lower() in "aeiou" else "a"
    message = f"{name!r} is not {article} {what}{location}."
    close = did_you_mean(name, candidates)
    if close:
        message += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
    elif candidates:
        shown = ", ".join(repr(c) for c in sorted(candidates)[:20])
        more = f", ... ({len(candidates)} in all)" if len(candidates) > 20 else ""
        message += f" Valid {what}s: {shown}{more}."
    return UnknownNameError(message)


def plain(value: Any) -> Any:
    """``value`` with numpy scalars turned into Python ones (also inside tuples and lists), for messages.

    ``repr(plain(np.float64(317.6)))`` is ``'317.6'`` rather than ``'np.float64(317.6)'``.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return type(value)(plain(v) for v in value)
    return value


def check_option(value: Any, alias: Any, name: str) -> Any:
    """Check ``value`` against the values of a ``Literal`` alias and return it; a SpecError otherwise."""
    allowed = get_args(alias)
    if value not in allowed:
        close = did_you_mean(str(value), [str(a) for a in allowed])
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SpecError(
            f"{name}={plain(value)!r} is not valid; choose one of {', '.join(map(repr, allowed))}.{hint}"
        )
    return value


_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def find_stack_level() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside cluster_econ.

    Walks up the call stack from the caller of :func:`warnings.warn` and counts the frames that
    belong to the package, so a warning raised deep inside an estimator points at the user's line
    (the notebook cell), however many internal calls lie in between. After xarray's
    ``find_stack_level``.

    Examples
    --------
    Inside the package, ``warnings.warn(message, SomeWarning, stacklevel=find_stack_level())``.
    Called from outside the package it points at its caller:

    >>> find_stack_level()
    1
    """
    frame = inspect.currentframe()
    level = 0
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            break
        level += 1
        frame = frame.f_back
    return max(level, 1)
