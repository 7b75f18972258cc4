"""cluster_econ: system dynamics and panel econometrics of regional industrial clusters."""

from __future__ import annotations

import importlib.metadata

from . import errors
from .provenance import Provenance, cite, show_versions

try:
    __version__ = importlib.metadata.version("cluster-econ")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["Provenance", "__version__", "cite", "errors", "show_versions"]
