"""Shared helpers of the model tests: each model file is translated by PySD once for the test run.

The ``.mdl`` files are copied to a folder of the test run's cache (``tests/conftest.py``) before
translation, so PySD's generated ``.py`` never lands in ``models/``; the folder is named by the
sha256 of the file and the PySD version, and moved into place in one rename, so the test processes
of a run share one translation. ``fresh(model_id)`` loads a new PySD model from that translation for
every run: PySD keeps parameters set by ``run(params=...)``, and a fresh load rules out leaks between
tests. The regional_cluster scenario runs are cached in this module (imported once per process).
"""

from __future__ import annotations

import atexit
import hashlib
import os
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


def _translations_folder() -> Path:
    """Where the translations live: in the test run's cache folder, else a temporary folder of this process."""
    if os.environ.get("CLUSTER_ECON_CACHE"):
        return Path(os.environ["CLUSTER_ECON_CACHE"]) / "tests-pysd"
    if not _ROOT:
        _ROOT.append(Path(tempfile.mkdtemp(prefix="cluster_econ_models_")))
        atexit.register(shutil.rmtree, _ROOT[0], ignore_errors=True)
    return _ROOT[0]


def translated(model_id: str) -> Path:
    """Path of the PySD translation of a copy of the model, translated at first use in the test run."""
    if model_id not in _TRANSLATIONS:
        data = mdl_path(model_id).read_bytes()
        parent = _translations_folder()
        parent.mkdir(parents=True, exist_ok=True)
        final = parent / f"{model_id}-{hashlib.sha256(data).hexdigest()[:16]}-pysd{pysd.__version__}"
        if not (final / f"{model_id}.py").is_file():
            tmp = Path(tempfile.mkdtemp(prefix=f".{model_id}-", dir=parent))
            (tmp / f"{model_id}.mdl").write_bytes(data)
            pysd.read_vensim(str(tmp / f"{model_id}.mdl"))
            try:
                tmp.rename(final)  # another test process may have been first: then its translation is used
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
        _TRANSLATIONS[model_id] = final / f"{model_id}.py"
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
