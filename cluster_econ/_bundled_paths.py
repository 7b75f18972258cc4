"""Where the bundled datasets and models are: inside an installed package, or in the source tree."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["bundled_dir"]

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(kind: Literal["data", "models"]) -> Path:
    """``cluster_econ/_bundled/<kind>`` in an installed wheel, else ``<kind>/`` at the repository root.

    pyproject.toml maps the repository's ``data/`` and ``models/`` folders to ``cluster_econ._bundled``
    when a wheel is built; an editable install reads them where they are.
    """
    installed = _PACKAGE / "_bundled" / kind
    return installed if installed.is_dir() else _PACKAGE.parent / kind
