"""cluster_econ: system dynamics and panel econometrics of regional industrial clusters.

The public verbs live in the subpackages (``data``, ``estimation``, ``sd``) and are re-exported here,
so ``import cluster_econ as ce`` gives ``ce.load_dataset``, ``ce.panel_ols``, ``ce.simulate``, ...
"""

from __future__ import annotations

import importlib.metadata

from . import calibration, data, errors, estimation, reporting, sd, sweeps
from .calibration import *  # noqa: F403
from .data import *  # noqa: F403
from .estimation import *  # noqa: F403
from .provenance import Provenance, cite, show_versions
from .reporting import *  # noqa: F403
from .sd import *  # noqa: F403
from .sweeps import *  # noqa: F403

try:
    __version__ = importlib.metadata.version("cluster-econ")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "Provenance",
    "__version__",
    "cite",
    "errors",
    "show_versions",
    *calibration.__all__,
    *data.__all__,
    *estimation.__all__,
    *reporting.__all__,
    *sd.__all__,
    *sweeps.__all__,
]
