"""Panel econometrics that match the published tables.

Every estimator takes a formula and a :class:`~cluster_econ.data.RegionalPanel` and returns an
:class:`EstimationResult`. Formulas understand ``log(x)``, ``lag(x, k)`` (by entity, gap-aware),
``diff(x)``, ``C(x)`` and column names, and name each coefficient exactly as its term is written.

Engines: statsmodels for pooled OLS, Poisson, negative binomial, conditional Poisson, ML random
effects, and first differences with time effects or period clusters; linearmodels for the within,
between, Swamy-Arora random-effects and the other first-difference cases; Arellano-Bond difference
GMM on numpy/scipy. Each result names its engine in ``engine``.
"""

from ._compare import ComparisonTable, compare
from ._count import count_model, poisson_fe
from ._difference import first_difference
from ._gmm import arellano_bond
from ._hausman import hausman
from ._linear import between_ols, panel_ols
from ._random import random_effects
from ._result import EstimationResult, TestResult

__all__ = [
    "ComparisonTable",
    "EstimationResult",
    "TestResult",
    "arellano_bond",
    "between_ols",
    "compare",
    "count_model",
    "first_difference",
    "hausman",
    "panel_ols",
    "poisson_fe",
    "random_effects",
]
