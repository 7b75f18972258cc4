"""The vectorised batch engine: many scenarios of a system-dynamics model in one integration.

PySD's translator parses the model into an abstract model; :func:`compile_model` turns that into
generated numpy source with a leading scenario axis, so S scenarios (times any subscript
dimensions) advance together. Euler integration repeats PySD's evaluation order and float
operations, so results agree with PySD to round-off, not bit for bit: numpy's vectorised ``**``,
``exp`` and ``log`` may round the last bit differently from the C library PySD's scalar arithmetic
uses (and differently for one scenario than for a batch), and such differences grow a little along
a run (relative differences up to about 1e-11 on the package models' parity runs, which allow 1e-9).
RK4 is offered as Vensim does. :func:`simulate_batch` runs a scenario frame in memory-bounded chunks.
"""

from __future__ import annotations

from ._api import compile_model
from ._batch import simulate_batch
from ._compiled import CompiledModel

__all__ = ["CompiledModel", "compile_model", "simulate_batch"]

