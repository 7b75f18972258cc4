"""Calibration: model parameters from panel estimates, and model trajectories fitted to panels.

``calibrate`` fits a stock-and-flow model's parameters to a regional panel (trajectory matching or
indirect inference) and returns a :class:`CalibrationResult` with cluster-robust, unadjusted or
bootstrap covariance and Sterman's fit statistics.
"""

from ._calibrate import calibrate
from ._estimates import ParameterEstimates, parameters_from_estimates
from ._result import CalibrationResult

__all__ = ["CalibrationResult", "ParameterEstimates", "calibrate", "parameters_from_estimates"]
