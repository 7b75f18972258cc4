"""Euler parity with PySD: the engine repeats PySD's computation on random parameter sets."""

from __future__ import annotations

import functools
import multiprocessing
import os
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
from engine_helpers import TEST_MODELS, pysd_frame, require_test_models
from numpy.testing import assert_allclose

import cluster_econ as ce
from cluster_econ.errors import UnsupportedConstructError
from cluster_econ.sd.engine import compile_model

RTOL = 1e-9  # relative difference allowed between engine and PySD (Euler)
ATOL = 1e-12  # absolute floor for values that are zero in one and round-off in the other


def _pysd_run(model, params: dict) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.run(params=params or None)


#: largest relative difference seen per model (first word of ``where``), printed by the package-model tests
WORST: dict[str, float] = {}


def assert_parity(engine: pd.DataFrame, reference: pd.DataFrame, where: str) -> int:
    columns = [c for c in reference.columns if c in engine.columns]
    assert columns, f"{where}: no shared column"
    assert_allclose(engine.index.values, np.asarray(reference.index, dtype=float), rtol=0, atol=1e-9)
    worst = 0.0
    for c in columns:
        expected = pd.to_numeric(reference[c], errors="coerce").to_numpy(dtype=float)
        actual = engine[c].to_numpy(dtype=float)
        assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=f"{where}: column {c!r}")
        both = np.isfinite(expected) & (expected != 0)
        if both.any():
            worst = max(worst, float(np.max(np.abs(actual[both] - expected[both]) / np.abs(expected[both]))))
    key = where.split()[0]
    WORST[key] = max(WORST.get(key, 0.0), worst)
    return len(columns)


def _scalar_constants(compiled) -> list[str]:
    return [n for n, dims in compiled.constants.items() if not dims]


def _perturbed(compiled, rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Scenarios that scale every scalar constant by a factor in [0.9, 1.1] (integers kept)."""
    ds = compiled.run(outputs=_scalar_constants(compiled) or None)
    rows = []
    for _ in range(n):
        row = {}
        for name in _scalar_constants(compiled):
            value = float(ds[name].values[0, 0])
            if value == int(value):
                continue  # orders, indices and switches stay as they are
            row[name] = value * rng.uniform(0.9, 1.1)
        rows.append(row)
    return pd.DataFrame(rows, index=pd.RangeIndex(n, name="scenario"))


def _supported_test_models() -> list[str]:
    if not (TEST_MODELS / "manifest.csv").is_file():
        return []
    manifest = pd.read_csv(TEST_MODELS / "manifest.csv")
    matched = manifest[manifest["pysd_matches_canonical"].astype(str) == "True"]
    # PySD itself takes seconds on a few models; those are covered by the canonical-output walk,
    # except the subscripted delays and smooths, kept here for their stateful arrays
    quick = (matched["pysd_run_ms"] < 300) | matched["model"].str.contains("subscripted_(?:delays|smooth)")
    return list(matched.loc[quick, "model"])


@pytest.mark.slow
def test_parity_with_pysd_on_every_supported_test_model(tmp_path):
    import shutil

    import pysd

    root = require_test_models()
    rng = np.random.default_rng(20240611)
    checked = 0
    for rel in _supported_test_models():
        try:
            compiled = compile_model(root / rel)
        except UnsupportedConstructError:
            continue
        scen = _perturbed(compiled, rng, 1)
        copy = tmp_path / rel  # PySD writes its translation beside the model file
        if not copy.parent.exists():  # with the folder's data files
            shutil.copytree((root / rel).parent, copy.parent)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = pysd.read_vensim(str(copy))
        batch = compiled.run(scen)
        for i in range(len(scen)):
            params = {k: v for k, v in scen.iloc[i].items() if pd.notna(v)}
            reference = _pysd_run(model, params)
            assert_parity(pysd_frame(batch, i), reference, f"{rel} scenario {i}")
        checked += 1
    assert checked >= 55


def _package_models() -> list[str]:
    """Ids of the package's models; a registry that cannot be read fails collection (never an empty list)."""
    ids = [str(i) for i in ce.list_models()["id"]]
    assert ids, "the model registry lists no model"
    return ids


#: CLUSTER_ECON_FULL_PARITY=1: 50 random parameter sets of every package model at its own TIME STEP and
#: SAVEPER on every variable; by default 10 sets (PySD needs up to 8 s per run of regional_cluster)
FULL_PARITY = os.environ.get("CLUSTER_ECON_FULL_PARITY", "") not in ("", "0")
N_SETS = 50 if FULL_PARITY else 10  # random parameter sets per package model
# PySD needs seconds per run of the subscripted models over their full horizons (about 1.5 s for
# knowledge_spillover and 5-8 s for the 48-region regional_cluster, whatever SAVEPER: its cost is per
# TIME STEP), so by default those run their sets over the full horizon at TIME STEP 1 and SAVEPER 5
# (the same equations, a quarter of the steps) and regional_cluster is compared on its stocks and on the
# variables nothing else uses (together they depend on every variable); their default parameters also
# run at the model's own TIME STEP (test_parity_with_pysd_at_the_models_own_time_step).
COARSE = {"knowledge_spillover": (1.0, 5.0, "all"), "regional_cluster": (1.0, 5.0, "stocks and sinks")}
# PySD reference runs in parallel processes, except under pytest-xdist, whose workers already fill the cores
WORKERS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else max(1, min(2, os.cpu_count() or 1))


def _random_scenarios(model, n: int, seed: int) -> pd.DataFrame:
    table = model.parameters
    rng = np.random.default_rng(seed)
    rows = table[[np.ndim(v) == 0 for v in table["value"]]]
    rows = rows[np.isfinite(rows["lower"].astype(float)) & np.isfinite(rows["upper"].astype(float))]
    assert len(rows) > 0, f"{model.id}: no parameter with bounds"
    return pd.DataFrame({r["name"]: rng.uniform(float(r["lower"]), float(r["upper"]), n) for _, r in rows.iterrows()})


@functools.cache
def _pysd_model(model_id: str):
    return ce.load_model(model_id).pysd()


def _sinks(model_id: str) -> list[str]:
    """Python names of the auxiliaries and flows no other variable uses."""
    used: set[str] = set()
    for deps in _pysd_model(model_id).dependencies.values():
        if isinstance(deps, dict):
            for key, value in deps.items():
                used |= set(value) if isinstance(value, dict) else {key}
    table = ce.load_model(model_id).variables
    return [n for n, k in zip(table["name"], table["kind"], strict=True)
            if k in ("auxiliary", "flow") and n not in used]


def _reference(model_id: str, rows: list[dict], run_kwargs: dict, fresh: bool = False) -> list[pd.DataFrame]:
    """PySD runs of ``rows`` (parameter dicts), one after the other in one process.

    PySD keeps parameters between runs: a worker runs a forked copy of the loaded model, which is
    discarded with it; in this process a ``fresh`` model is loaded.
    """
    model = ce.load_model(model_id).pysd() if fresh else _pysd_model(model_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [model.run(params=params or None, **run_kwargs) for params in rows]


def _references(model_id: str, scen: pd.DataFrame, run_kwargs: dict) -> list[pd.DataFrame]:
    """PySD runs of every scenario row, shared between ``WORKERS`` processes (forked: the model is loaded)."""
    rows = [scen.iloc[i].to_dict() for i in range(len(scen))]
    _pysd_model(model_id)
    if WORKERS == 1 or len(rows) < 4:
        return _reference(model_id, rows, run_kwargs, fresh=True)
    parts = [rows[i::WORKERS] for i in range(WORKERS)]
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=multiprocessing.get_context("fork")) as pool:
        done = list(pool.map(_reference, [model_id] * WORKERS, parts, [run_kwargs] * WORKERS))
    frames: list[pd.DataFrame] = [pd.DataFrame()] * len(rows)
    for w, part in enumerate(done):
        for j, frame in enumerate(part):
            frames[w + j * WORKERS] = frame
    return frames


@pytest.mark.slow
@pytest.mark.parametrize("model_id", _package_models())
def test_parity_with_pysd_on_package_models(model_id, capsys):
    model = ce.load_model(model_id)
    scen = _random_scenarios(model, N_SETS, seed=sum(map(ord, model_id)))
    compiled = compile_model(model)
    time_step, saveper, which = (None, None, "all") if FULL_PARITY else COARSE.get(model_id, (None, None, "all"))
    if which == "all":
        outputs = [k for k in compiled.variables if k not in scen.columns]
    else:
        stocks = list(model.variables.loc[model.variables["kind"] == "stock", "name"])
        outputs = stocks + _sinks(model_id)
    batch = compiled.run(scen, time_step=time_step, saveper=saveper, outputs=outputs)
    expected_columns = sum(int(np.prod(compiled.shape_of(k), dtype=int)) for k in outputs)
    run_kwargs = {"time_step": time_step, "saveper": saveper, "final_time": model.control["final_time"],
                  "return_columns": None if which == "all" else [compiled.variables[k]["vensim_name"] for k in outputs]}
    if time_step is None:
        run_kwargs.update(time_step=model.control["time_step"], saveper=model.control["saveper"])
    references = _references(model_id, scen, run_kwargs)
    for i, reference in enumerate(references):
        columns = assert_parity(pysd_frame(batch, i), reference, f"{model_id} scenario {i}")
        assert columns == expected_columns
    assert batch.sizes["time"] == len(references[0]) > 1
    assert float(batch["time"].values[-1]) == model.control["final_time"]
    finite = np.mean([np.isfinite(batch[k].values).mean() for k in outputs])
    with capsys.disabled():
        print(f"\n{model_id}: {N_SETS} sets x {batch.sizes['time']} times x {expected_columns} columns "
              f"(TIME STEP {time_step or model.control['time_step']}), {finite:.1%} finite; largest relative "
              f"difference from PySD {WORST.get(model_id, 0.0):.1e}")


@pytest.mark.slow
@pytest.mark.parametrize("model_id", [m for m in _package_models() if m in COARSE and not FULL_PARITY])
def test_parity_with_pysd_at_the_models_own_time_step(model_id):
    model = ce.load_model(model_id)
    compiled = compile_model(model)
    stocks = list(model.variables.loc[model.variables["kind"] == "stock", "name"])
    outputs = stocks + _sinks(model_id)
    ds = compiled.run(outputs=outputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = model.pysd().run(
            return_columns=[ds[k].attrs["vensim_name"] for k in outputs], final_time=model.control["final_time"],
            time_step=model.control["time_step"], saveper=model.control["saveper"])
    assert assert_parity(pysd_frame(ds), reference, f"{model_id} defaults") == sum(
        int(np.prod(compiled.shape_of(k), dtype=int)) for k in outputs)
