"""Imported first by :mod:`cluster_econ.sd`: what PySD imports, made to import without warnings."""

from __future__ import annotations

import importlib
import warnings


def _quiet_chardet() -> None:
    """Import ``chardet.universaldetector`` once, without the DeprecationWarning chardet 5 gives on import.

    PySD imports that module; under ``python -W error`` (or a test suite's ``filterwarnings = error``)
    its warning would make every model load fail. Once imported here, it is not imported again.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"chardet\.universaldetector is deprecated",
                                category=DeprecationWarning)
        try:
            importlib.import_module("chardet.universaldetector")
        except ImportError:  # another chardet, or none: PySD copes, and so does this
            pass


_quiet_chardet()
