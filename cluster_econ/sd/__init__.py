"""System-dynamics models: the model registry, loading, and single runs.

``list_models`` lists the registered models, ``load_model`` loads one (or any Vensim / XMILE file)
as an :class:`SDModel`, and ``simulate`` runs it once into a :class:`Run`. The vectorised batch engine
for many scenarios lives in :mod:`cluster_econ.sd.engine`.
"""

from __future__ import annotations

from ._model import SDModel, load_model
from ._registry import list_models, record_model_hash
from ._run import Run
from ._simulate import simulate

__all__ = ["Run", "SDModel", "list_models", "load_model", "record_model_hash", "simulate"]

try:  # the batch engine re-exports simulate_batch once it provides it
    from .engine import simulate_batch
except ImportError:  # pragma: no cover - engine without simulate_batch
    pass
else:
    __all__ += ["simulate_batch"]
