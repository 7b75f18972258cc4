"""Panel data: the bundled datasets and :class:`RegionalPanel`."""

from ._panel import PanelDescription, RegionalPanel
from ._registry import data_dir, list_datasets, load_dataset

__all__ = ["PanelDescription", "RegionalPanel", "data_dir", "list_datasets", "load_dataset"]
