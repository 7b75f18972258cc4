"""System-dynamics models: the model registry, loading, single runs and batches of scenarios.

``list_models`` lists the registered models, ``load_model`` loads one (or any Vensim / XMILE file)
as an :class:`SDModel`, and ``simulate`` runs it once into a :class:`Run`. ``simulate_batch`` runs a
frame of scenarios at once on the vectorised engine of :mod:`cluster_econ.sd.engine`.
"""

from __future__ import annotations

from . import _quiet  # noqa: F401  (first: PySD's chardet import made quiet)
from ._batch import batch_provenance, simulate_batch
from ._model import SDModel, load_model
from ._registry import list_models, record_model_hash
from ._run import Run
from ._simulate import simulate

__all__ = ["Run", "SDModel", "batch_provenance", "list_models", "load_model", "record_model_hash", "simulate",
           "simulate_batch"]
