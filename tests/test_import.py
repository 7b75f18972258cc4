"""``import cluster_econ`` is light: the heavy libraries load when first needed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import cluster_econ as ce

HEAVY = ("pysd", "linearmodels", "statsmodels", "scipy.optimize", "matplotlib")


def _loaded_after(code: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    script = f"import sys\n{code}\nimport json\nprint(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_does_not_load_the_heavy_libraries() -> None:
    assert _loaded_after("import cluster_econ") == []


def test_import_loads_no_subpackage_and_not_pandas() -> None:
    # pandas alone takes most of a second to import here; it loads with the first data or estimation name
    layers = ("pandas", "cluster_econ.data", "cluster_econ.estimation", "cluster_econ.sd")
    assert _loaded_after("import cluster_econ", layers) == []
    assert _loaded_after("import cluster_econ as ce\nce.RegionalPanel", layers) == ["pandas", "cluster_econ.data"]


def test_loading_a_dataset_does_not_either() -> None:
    assert _loaded_after("import cluster_econ as ce\nce.load_dataset('us_states').describe()") == []


@pytest.mark.slow
def test_an_estimator_loads_its_engine_when_called() -> None:
    loaded = _loaded_after(
        "import cluster_econ as ce\nce.panel_ols('inv ~ value + capital', ce.load_dataset('grunfeld'))"
    )
    assert {"linearmodels", "statsmodels"} <= set(loaded)
    assert "pysd" not in loaded


def test_later_stages_resolve_on_first_use() -> None:
    from cluster_econ import sd

    assert ce.simulate is sd.simulate
    assert ce.sd is sd
    assert {"simulate", "simulate_batch", "panel_ols", "load_dataset", "cite"} <= set(ce.__all__)
    assert "load_model" in dir(ce)
