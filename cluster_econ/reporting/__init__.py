"""Reporting: saved results and their manifests, reproduction, citation, the HTML report."""

from ._save import load_result, reproduce, save

__all__: list[str] = ["load_result", "reproduce", "save"]
