"""cluster_econ: system dynamics and panel econometrics of regional industrial clusters.

The public verbs live in the subpackages (``data``, ``estimation``, ``sd``, ``calibration``,
``sweeps``, ``reporting``) and are re-exported here, so ``import cluster_econ as ce`` gives
``ce.load_dataset``, ``ce.panel_ols``, ``ce.simulate``, ...

``import cluster_econ`` is quick: every subpackage is imported the first time one of its names is
used (``ce.load_dataset`` loads the data layer with pandas; the estimators import statsmodels and
linearmodels when first called; ``sd`` brings PySD and xarray).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import TYPE_CHECKING, Any

from . import errors as errors
from . import typing as typing
from .provenance import Provenance as Provenance
from .provenance import cite as cite
from .provenance import show_versions as show_versions

if TYPE_CHECKING:  # type checkers see every name; at run time each subpackage loads on first use
    from . import calibration as calibration
    from . import data as data
    from . import estimation as estimation
    from . import reporting as reporting
    from . import sd as sd
    from . import sweeps as sweeps
    from .calibration import *  # noqa: F403
    from .data import *  # noqa: F403
    from .estimation import *  # noqa: F403
    from .reporting import *  # noqa: F403
    from .sd import *  # noqa: F403
    from .sweeps import *  # noqa: F403

try:
    __version__ = importlib.metadata.version("cluster-econ")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

_LAZY_SUBPACKAGES = ("data", "estimation", "sd", "calibration", "sweeps", "reporting")
_EAGER = ["Provenance", "__version__", "cite", "errors", "show_versions", "typing"]


def _subpackage(name: str) -> Any:
    return importlib.import_module(f".{name}", __name__)


def __getattr__(name: str) -> Any:
    """The subpackages and their public names, imported on first use (PEP 562)."""
    if name in _LAZY_SUBPACKAGES:
        return _subpackage(name)
    if name == "__all__":
        return [*_EAGER, *(n for sub in _LAZY_SUBPACKAGES for n in _subpackage(sub).__all__)]
    if not name.startswith("_"):  # public names only: probes such as IPython's _repr_*_ import nothing
        for sub in _LAZY_SUBPACKAGES:
            module = _subpackage(sub)
            if name in module.__all__:
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_SUBPACKAGES, *__getattr__("__all__")})
