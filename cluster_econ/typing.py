"""The closed option sets of cluster_econ, as ``Literal`` aliases for annotations.

Each option of a public function that takes one of a fixed set of strings is annotated with one of
these aliases and checked against it at run time (:func:`cluster_econ.errors.check_option`), so a
type checker and the package agree on what is valid::

    from cluster_econ.typing import CovType

    def fit(panel, cov_type: CovType = "clustered"): ...
"""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = [
    "BetweenCovType",
    "CalibrationCovType",
    "CalibrationMethod",
    "CountCovType",
    "CovType",
    "Design",
    "Distribution",
    "Effect",
    "Engine",
    "Errors",
    "Family",
    "Loss",
    "Method",
    "OutcomeTime",
    "PoissonFECovType",
    "RECovType",
    "REMethod",
    "Reduce",
    "Weights",
]

#: Covariance of the within and pooled estimators (``panel_ols``, ``first_difference``).
CovType: TypeAlias = Literal["unadjusted", "robust", "clustered", "driscoll_kraay"]
#: Covariance of the between estimator.
BetweenCovType: TypeAlias = Literal["unadjusted", "robust"]
#: Covariance of Swamy-Arora random effects.
RECovType: TypeAlias = Literal["unadjusted", "robust", "clustered"]
#: Covariance of the pooled count models.
CountCovType: TypeAlias = Literal["unadjusted", "robust", "clustered"]
#: Covariance of conditional fixed-effects Poisson.
PoissonFECovType: TypeAlias = Literal["unadjusted", "clustered"]
#: An effect removed or modelled by a panel estimator, and a cluster dimension.
Effect: TypeAlias = Literal["entity", "time"]
#: Estimation method of random effects.
REMethod: TypeAlias = Literal["swamy_arora", "ml"]
#: Distribution of the pooled count models.
Family: TypeAlias = Literal["poisson", "negative_binomial"]
#: Simulation engine of ``simulate``.
Engine: TypeAlias = Literal["auto", "batch", "pysd"]
#: Integration method of ``simulate`` and ``simulate_batch``.
Method: TypeAlias = Literal["euler", "rk4"]
#: Residual of a calibration: log model minus log data, levels, or relative to the data.
Loss: TypeAlias = Literal["log", "level", "relative"]
#: Covariance of calibrated parameters.
CalibrationCovType: TypeAlias = Literal["clustered", "unadjusted", "bootstrap"]
#: Calibration method: trajectory least squares or indirect inference.
CalibrationMethod: TypeAlias = Literal["trajectory", "indirect"]
#: Distribution of a sweep uncertainty.
Distribution: TypeAlias = Literal["uniform", "triangular", "normal"]
#: Reduction of an outcome over regions.
Reduce: TypeAlias = Literal["sum", "mean"]
#: Experimental design of a sweep.
Design: TypeAlias = Literal["lhs", "mc", "sobol", "morris", "full_factorial"]
#: The named weighting of calibration targets (a mapping of weights is the other choice).
Weights: TypeAlias = Literal["variance"]
#: The named times of a sweep outcome (a number is the other choice).
OutcomeTime: TypeAlias = Literal["final", "all"]
#: What a simulation does with non-finite outputs: warn (and record them) or raise.
Errors: TypeAlias = Literal["warn", "raise"]
