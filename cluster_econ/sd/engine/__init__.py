"""The vectorised batch engine: many scenarios of a system-dynamics model in one integration.

PySD's translator parses the model into an abstract model; :func:`compile_model` turns that into
generated numpy source with a leading scenario axis, so S scenarios (times any subscript
dimensions) advance together. Euler integration repeats PySD's evaluation order and float
operations, so results agree with PySD to round-off, not bit for bit: numpy's vectorised ``**``,
``exp`` and ``log`` may round the last bit differently from the C library PySD's scalar arithmetic
uses (and differently for one scenario than for a batch), and such differences grow a little along
a run (relative differences up to about 1e-11 on the package models' parity runs, which allow 1e-9).
RK4 is offered as Vensim does.

Work that is constant in time is done once per run (per scenario chunk): sub-expressions of
constants and INITIAL values are hoisted, variables no kept output or stock needs are left out, and
a sum over a partner dimension weighted by a matrix that is constant in time
(``SUM(w[A, B!] * f(...))``) is evaluated only on the matrix's non-zero cells (:mod:`._sparse`).

This is a lower layer than :mod:`cluster_econ.sd`: it knows nothing of the model registry or of input
checking. :func:`cluster_econ.simulate_batch` checks a frame of scenarios and runs it here in
memory-bounded chunks. The constructs the engine compiles are listed in two registries,
:data:`~._functions.FUNCTIONS` (Vensim functions) and :data:`~._statefuls.STATEFULS` (stateful
objects); :func:`coverage` reports which of PySD's Vensim functions are supported, and
:func:`pysd_frame` lays a result out as PySD's ``run()`` does, to compare the two.
"""

from __future__ import annotations

from ._api import compile_model
from ._compare import pysd_frame
from ._compiled import CompiledModel
from ._coverage import coverage

__all__ = ["CompiledModel", "compile_model", "coverage", "pysd_frame"]
