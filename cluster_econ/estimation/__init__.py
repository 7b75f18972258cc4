"""estimation"""

__all__: list[str] = []
