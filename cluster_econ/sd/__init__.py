"""sd"""

__all__: list[str] = []
