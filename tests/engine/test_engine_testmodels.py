"""The engine on the shared Vensim test-models: canonical outputs, or a clean UnsupportedConstructError."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from engine_helpers import pysd_frame, require_test_models
from pysd.py_backend.utils import detect_encoding, load_outputs
from pysd.tools.benchmarking import assert_frames_close

from cluster_econ.errors import UnsupportedConstructError
from cluster_econ.sd.engine import compile_model

# models using constructs the engine does not implement (DATA read from another model's output,
# which PySD takes through its data_files argument); each must raise UnsupportedConstructError
EXPECTED_UNSUPPORTED = {
    "tests/data_from_other_model/test_data_from_other_model.mdl",
}


def _canonical(root, row) -> pd.DataFrame:
    name = str(row["canonical"]).split(";")[0]
    path = (root / row["model"]).parent / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_outputs(path, encoding=detect_encoding(path))


def check_model(root, row) -> str:
    """'supported' if the engine reproduces the canonical output, 'unsupported' if ``compile_model`` refuses.

    A refusal raised by ``run()``, after compilation, fails: the engine must refuse before integrating.
    """
    path = root / row["model"]
    try:
        compiled = compile_model(path)
    except UnsupportedConstructError as err:
        assert str(err), f"{row['model']}: empty UnsupportedConstructError"
        return "unsupported"
    try:
        ds = compiled.run()
    except UnsupportedConstructError as err:  # refusals must come before any integration starts
        raise AssertionError(f"{row['model']}: compiled, then refused while running: {err}") from err
    actual = pysd_frame(ds)
    canon = _canonical(root, row)
    columns = [c for c in canon.columns if c in actual.columns]
    assert columns, f"{row['model']}: no column in common with the canonical output"
    canon_times = np.asarray(canon.index, dtype=float)
    times = [t for t in actual.index if np.isclose(canon_times, t, rtol=0, atol=1e-9).any()]
    assert len(times) >= min(2, len(canon_times)), f"{row['model']}: no time in common with the canonical output"
    expected = canon.loc[[canon.index[np.isclose(canon_times, t, rtol=0, atol=1e-9)][0] for t in times], columns]
    expected.index = pd.Index(times)
    got = actual.loc[times, columns].astype(float)
    assert_frames_close(got, expected.astype(float), rtol=1e-5, atol=1e-5)
    return "supported"


@pytest.mark.slow
def test_every_pysd_matched_test_model_is_reproduced_or_refused(capsys):
    root = require_test_models()
    manifest = pd.read_csv(root / "manifest.csv")
    rows = manifest[manifest["pysd_matches_canonical"].astype(str) == "True"]
    outcome = {}
    failures = []
    for _, row in rows.iterrows():
        try:
            outcome[row["model"]] = check_model(root, row)
        except AssertionError as err:
            failures.append(f"{row['model']}: {str(err)[:300]}")
    assert not failures, "\n".join(failures)
    supported = sorted(m for m, o in outcome.items() if o == "supported")
    refused = sorted(m for m, o in outcome.items() if o == "unsupported")
    with capsys.disabled():
        print(f"\nbatch engine: {len(supported)} of {len(rows)} PySD-matched test-models supported; "
              f"{len(refused)} refused with UnsupportedConstructError")
    assert set(refused) == EXPECTED_UNSUPPORTED
    assert len(supported) + len(refused) == len(rows)
