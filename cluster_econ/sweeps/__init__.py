"""Policy sweeps: levers, uncertainties and outcomes over many scenarios, indicators, sensitivity, discovery.

``sweep`` draws scenarios of levers (policy knobs) and uncertainties with a seeded design, runs each
with a paired no-policy reference run on the batch engine, and returns a :class:`SweepResult` with
the indicators economists report, quantile bands, Sobol' and Morris indices; ``prim`` finds the box
of levers and uncertainties where a condition holds (scenario discovery).
"""

from ._designs import SamplingWarning
from ._prim import PrimResult, prim
from ._result import SweepResult
from ._specs import Lever, Outcome, Uncertainty, uncertainties_from
from ._store import open_sweep
from ._sweep import sweep

__all__ = ["Lever", "Outcome", "PrimResult", "SamplingWarning", "SweepResult", "Uncertainty", "open_sweep", "prim",
           "sweep", "uncertainties_from"]
