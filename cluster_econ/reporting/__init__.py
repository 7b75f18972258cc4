"""Reporting: saved results and their manifests, reproduction, citation, the HTML report.

``save`` writes a result to a folder with a ``manifest.toml`` holding its call as data;
``load_result`` reads it back; ``reproduce`` re-runs the call and checks the values; ``report``
writes one self-contained HTML file of results.
"""

from ._report import report
from ._save import load_result, reproduce, save

__all__: list[str] = ["load_result", "report", "reproduce", "save"]
