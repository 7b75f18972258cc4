"""Warnings point at the user's line, found by walking the stack (``errors.find_stack_level``)."""

from __future__ import annotations

import pandas as pd
import pytest

import cluster_econ as ce
from cluster_econ.errors import ClusterEconWarning, MissingDataWarning, find_stack_level


def test_find_stack_level_outside_the_package_is_one() -> None:
    assert find_stack_level() == 1


def _user_helper() -> None:
    """A user's own function: the warning must point here, not into the package."""
    panel = ce.load_dataset("us_states")
    ce.panel_ols("log(gsp) ~ log(pcap) + unemp + hwy", panel.__class__.from_frame(
        panel.frame.reset_index().assign(hwy=1.0), entity="state", time="year"), drop_absorbed=True)


def test_dropped_regressor_warning_points_at_the_calling_line() -> None:
    with pytest.warns(ClusterEconWarning, match=r"dropped 'hwy'") as record:
        _user_helper()
    assert {w.filename for w in record} == {__file__}


def test_first_difference_and_missing_data_warnings_point_at_the_caller() -> None:
    df = pd.DataFrame({"r": ["a"] * 3 + ["b"] * 3, "t": [1, 2, 3] * 2, "y": [1.0, None, 3, 4, 5, 7],
                       "x": [1.0, 2, 4, 3, 5, 6]})
    with pytest.warns(MissingDataWarning) as record:
        ce.RegionalPanel.from_frame(df, entity="r", time="t")
    assert record[0].filename == __file__
