"""The vectorised batch engine: many scenarios of a system-dynamics model in one integration.

PySD's translator parses the model into an abstract model; :func:`compile_model` turns that into
generated numpy source with a leading scenario axis, so S scenarios (times any subscript
dimensions) advance together. Euler integration repeats PySD's evaluation order and float
operations, so results match PySD; RK4 is offered as Vensim does. :func:`simulate_batch` runs a
scenario frame in memory-bounded chunks.
"""

from __future__ import annotations

from ._api import compile_model
from ._batch import simulate_batch
from ._compiled import CompiledModel

__all__ = ["CompiledModel", "compile_model", "simulate_batch"]

