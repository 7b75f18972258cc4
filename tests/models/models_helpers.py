"""Shared helpers of the model tests: each model is translated by PySD once per test session.

The ``.mdl`` files are copied to a temporary folder before translation, so PySD's generated ``.py``
never lands in ``models/``. ``fresh(model_id)`` loads a new PySD model from the cached translation
for every run: PySD keeps parameters set by ``run(params=...)``, and a fresh load rules out leaks
between tests. The caches are module globals (this module is imported once), so the translation and
the regional_cluster scenario runs are shared by all test modules of ``tests/models``.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pysd

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
MODEL_IDS = ["cluster_investment", "sme_growth", "knowledge_spillover", "stakeholder_alignment", "regional_cluster"]
REGIONAL_COLUMNS = ["sme_employment", "employment", "alignment", "knowledge_stock", "knowledge_intensity",
                    "cumulative_public_spend", "sme_seat_share", "public_capital", "between_cluster_spillover",
                    "output",
                    "trust", "network_density", "absorptive_capacity", "engaged_sme_share", "unemployment_rate",
                    "private_capital", "large_firm_employment", "start_ups", "young_smes", "mature_smes", "large_firms",
                    "total_cumulative_programme_cost", "programme_alignment_fit", "effective_programme_capital",
                    "programme_public_capital"]

_TRANSLATIONS: dict[str, Path] = {}
_REGIONAL_RUNS: dict[tuple, pd.DataFrame] = {}
_ROOT: list[Path] = []


def mdl_path(model_id: str) -> Path:
    """Committed Vensim source of ``model_id``."""
    return MODELS / model_id / f"{model_id}.mdl"


def translated(model_id: str) -> Path:
    """Path of the PySD translation of a temporary copy of the model, translated at first use."""
    if model_id not in _TRANSLATIONS:
        if not _ROOT:
            _ROOT.append(Path(tempfile.mkdtemp(prefix="cluster_econ_models_")))
            atexit.register(shutil.rmtree, _ROOT[0], ignore_errors=True)
        folder = _ROOT[0] / model_id
        folder.mkdir()
        src = folder / f"{model_id}.mdl"
        shutil.copy(mdl_path(model_id), src)
        pysd.read_vensim(str(src))
        _TRANSLATIONS[model_id] = src.with_suffix(".py")
    return _TRANSLATIONS[model_id]


def fresh(model_id: str):
    """A freshly loaded PySD model (no parameters left over from other runs)."""
    return pysd.load(str(translated(model_id)))


def run_model(model, *, params: dict | None = None, columns: list[str] | None = None, **kwargs) -> pd.DataFrame:
    """``model.run`` with PySD's warnings about replaced stocks silenced (extreme-condition tests)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Replacing", category=UserWarning)
        return model.run(params=params or {}, return_columns=columns, **kwargs)


def by_element(frame: pd.DataFrame, name: str, time: float) -> pd.Series:
    """Values of subscripted ``name`` at ``time``, indexed by subscript element."""
    row = frame.loc[time]
    cols = [c for c in frame.columns if c.startswith(name + "[")]
    return pd.Series([row[c] for c in cols], index=[c[len(name) + 1:-1] for c in cols], name=name)


def regional_run(**params: float) -> pd.DataFrame:
    """regional_cluster run to 2000 with ``params`` changed, cached per parameter set.

    Run on the batch engine (identical to PySD to round-off: tests/engine checks regional_cluster at 1e-9)
    and returned in PySD's layout (columns ``name[REGION]``, index time), so a 48-state run costs a
    fraction of a second instead of a minute.
    """
    key = tuple(sorted(params.items()))
    if key not in _REGIONAL_RUNS:
        import cluster_econ as ce
        from cluster_econ.sd.engine import compile_model

        compiled = compile_model(ce.load_model("regional_cluster"))
        scen = pd.DataFrame([params]) if params else None
        ds = compiled.run(scen, outputs=REGIONAL_COLUMNS)
        columns = {}
        for name in REGIONAL_COLUMNS:
            x = ds[name].isel(scenario=0) if "scenario" in ds[name].dims else ds[name]
            if "time" not in x.dims:
                x = x.expand_dims(time=ds["time"].values)
            if "Region" in x.dims:
                for region in x["Region"].values:
                    columns[f"{name}[{region}]"] = x.sel(Region=region).values
            else:
                columns[name] = x.values
        _REGIONAL_RUNS[key] = pd.DataFrame(columns, index=pd.Index(ds["time"].values, name="time"))
    return _REGIONAL_RUNS[key]


def centre_distances(regions: list[str]) -> np.ndarray:
    """Great-circle distances (km, haversine) between the Census Bureau's 2010 state centres of population,
    computed here from the data file, independently of the model's own (spherical law of cosines)."""
    import numpy as np

    centres = pd.read_csv(REPO / "data" / "geo" / "state_centers_2010.csv")
    centres.index = centres["STNAME"].str.upper().str.replace(" ", "_").replace({"TENNESSEE": "TENNESSE"})
    lat, lon = (np.radians(centres.loc[regions, c].to_numpy()) for c in ("LATITUDE", "LONGITUDE"))
    h = np.sin((lat[:, None] - lat[None]) / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None]) * np.sin(
        (lon[:, None] - lon[None]) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))
