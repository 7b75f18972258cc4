"""Calibration: model parameters from panel estimates, and model trajectories fitted to panels."""

__all__: list[str] = []
