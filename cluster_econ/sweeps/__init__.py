"""Policy sweeps: levers, uncertainties and outcomes over many scenarios, indicators, sensitivity, discovery."""

__all__: list[str] = []
