"""Reporting: saved results and their manifests, reproduction, citation, the HTML report."""

__all__: list[str] = []
