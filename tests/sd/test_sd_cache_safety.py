"""The translation cache is verified before use: altered, truncated or planted entries are rebuilt, never run."""

from __future__ import annotations

import json
import logging
import shutil
import warnings

import pytest
from numpy.testing import assert_allclose
from sd_helpers import SIR

import cluster_econ as ce
from cluster_econ import _cachefs
from cluster_econ.errors import ClusterEconWarning


@pytest.fixture
def sir_short(tmp_path):
    """SIR run for 2 days, in a private cache, translated once."""
    path = tmp_path / "sir.mdl"
    path.write_text(SIR.read_text(encoding="utf-8").replace("FINAL TIME  = 100", "FINAL TIME  = 2"),
                    encoding="utf-8")
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(folder))
    return folder


def _entry(cache, model):
    return cache / "pysd" / model.sha256


def _run(model):
    return ce.simulate(model, engine="pysd").data["infectious"].values


@pytest.mark.slow
def test_an_edited_model_py_is_rebuilt_not_run(sir_short, cache, caplog, tmp_path):
    model = ce.load_model(sir_short)
    reference = _run(model)
    entry = _entry(cache, model)
    text = (entry / "model.py").read_text(encoding="utf-8")
    assert "return 0.3\n" in text
    marker = tmp_path / "PWNED"
    (entry / "model.py").write_text(text.replace("return 0.3\n", "return 0.9\n") +
                                    f"\nimport os\nos.system('touch {marker}')\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="cluster_econ"):
        again = ce.load_model(sir_short)
        rerun = _run(again)
    assert not marker.exists()
    assert "model.py does not match its recorded sha256" in caplog.text
    assert_allclose(rerun, reference, rtol=0, atol=0)  # 0.9 would change every run
    assert (entry / "model.py").read_text(encoding="utf-8") == text  # rebuilt


@pytest.mark.slow
def test_a_consistently_forged_entry_is_refused_by_the_check(sir_short, cache, caplog, tmp_path):
    """Edited model.py with a matching index (sha256 recomputed): the source check still refuses it."""
    model = ce.load_model(sir_short)
    entry = _entry(cache, model)
    marker = tmp_path / "PWNED"
    forged = (entry / "model.py").read_bytes() + f"\n__import__('os').system('touch {marker}')\n".encode()
    (entry / "model.py").write_bytes(forged)
    index = json.loads((entry / "index.json").read_text(encoding="utf-8"))
    index["files"]["model.py"] = _cachefs.sha256_bytes(forged)
    (entry / "index.json").write_text(json.dumps(index), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="cluster_econ"):
        model = ce.load_model(sir_short)
        model.pysd()
    assert not marker.exists()
    assert "which PySD's builder never writes" in caplog.text
    assert "It is not imported" in caplog.text
    assert b"__import__" not in (entry / "model.py").read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncate_py", "truncate_mdl", "empty_index", "garbage_index", "no_index",
                                    "planted_file", "planted_bytecode", "other_pysd", "missing_py"])
def test_a_damaged_entry_is_rebuilt(damage, sir_short, cache, caplog):
    model = ce.load_model(sir_short)
    reference = _run(model)
    n_variables = len(model.variables)
    entry = _entry(cache, model)
    py, mdl, index = entry / "model.py", entry / "model.mdl", entry / "index.json"
    if damage == "truncate_py":
        py.write_bytes(py.read_bytes()[: py.stat().st_size // 2])
    elif damage == "truncate_mdl":  # would parse silently into part of the model
        mdl.write_bytes(mdl.read_bytes()[: mdl.stat().st_size // 3])
    elif damage == "empty_index":
        index.write_text("{}", encoding="utf-8")
    elif damage == "garbage_index":
        index.write_bytes(b"\x80\x04}\x94.")  # a pickle, for instance
    elif damage == "no_index":
        index.unlink()
    elif damage == "planted_file":
        (entry / "helper.py").write_text("import os\n", encoding="utf-8")
    elif damage == "planted_bytecode":
        (entry / "__pycache__").mkdir()
        (entry / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"\x00" * 16)
    elif damage == "other_pysd":
        data = json.loads(index.read_text(encoding="utf-8"))
        data["pysd"] = "0.0.1"
        index.write_text(json.dumps(data), encoding="utf-8")
    elif damage == "missing_py":
        py.unlink()
    with caplog.at_level(logging.INFO, logger="cluster_econ"):
        again = ce.load_model(sir_short)
    assert len(again.variables) == n_variables
    assert_allclose(_run(again), reference, rtol=0, atol=0)
    assert "Translating" in caplog.text  # rebuilt
    assert sorted(p.name for p in entry.iterdir()) == ["index.json", "model.mdl", "model.py"]
    assert [p.name for p in (cache / "pysd").iterdir()] == [model.sha256]  # nothing left behind


@pytest.mark.slow  # a fresh PySD translation
def test_a_new_entry_follows_the_umask_is_shareable_and_gets_no_byte_code(sir_short, cache):
    model = ce.load_model(sir_short)
    entry = _entry(cache, model)
    modes = {p.name: p.stat().st_mode & 0o777 for p in [entry, *entry.iterdir()]}
    assert modes == {model.sha256: 0o755, "index.json": 0o644, "model.mdl": 0o644, "model.py": 0o644}
    model.pysd()  # importing the translation and running it leave the entry as it was written
    ce.simulate(model, engine="pysd")
    assert not (entry / "__pycache__").exists()
    assert sorted(p.name for p in entry.iterdir()) == ["index.json", "model.mdl", "model.py"]


@pytest.mark.slow  # a fresh PySD translation
def test_an_unusable_cache_folder_falls_back_and_the_model_still_runs(sir_short, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(blocker))
    with pytest.warns(ClusterEconWarning, match="cannot be used: a part of the path is a file") as record:
        model = ce.load_model(sir_short)
    ours = [w for w in record if issubclass(w.category, ClusterEconWarning)]  # not an import's DeprecationWarning
    assert [w.filename for w in ours] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClusterEconWarning)  # warned once per process, not per call
        run = ce.simulate(model, engine="pysd")
    assert run.data["infectious"].values[0] == 5.0


@pytest.mark.slow  # a fresh PySD translation into the private fallback
def test_a_group_writable_cache_is_not_used(sir_short, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    (shared / "pysd").mkdir(parents=True)
    (shared / "pysd").chmod(0o777)
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(shared))
    with pytest.warns(ClusterEconWarning, match=r"chmod go-w"):
        ce.load_model(sir_short)
    assert list((shared / "pysd").iterdir()) == []
    shutil.rmtree(shared)


@pytest.mark.slow  # a fresh interpreter translating in a tmpfs
def test_a_full_disk_falls_back_to_the_private_cache(sir_short, tmp_path):
    """The cache folder is a 4 KiB tmpfs: the model source fits, its translation does not.

    Needs a private mount namespace (root, as in CI); skipped elsewhere.
    """
    import os
    import subprocess
    import sys

    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.skip("mounting a small tmpfs needs root and unshare(1)")
    small = tmp_path / "small"
    small.mkdir()
    code = f"""
import warnings
import cluster_econ as ce
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model = ce.load_model({str(sir_short)!r})
print("WARN", [str(w.message) for w in caught if "cache" in str(w.message)])
print("RUN", ce.simulate(model, engine="pysd").data["infectious"].values[0])
"""
    script = 'mount -t tmpfs -o size=4k,mode=0755 tmpfs "$1" && shift && exec "$@"'
    done = subprocess.run([unshare, "--mount", "sh", "-c", script, "sh", str(small), sys.executable, "-c", code],
                          env={**os.environ, "CLUSTER_ECON_CACHE": str(small)}, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0 and "mount" in done.stderr and "Traceback" not in done.stderr:
        pytest.skip(f"a tmpfs cannot be mounted here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line[:4] in ("WARN", "RUN "))
    assert "no space left on the device" in lines["WARN"]
    assert "private temporary cache" in lines["WARN"]
    assert float(lines["RUN"]) == 5.0
    assert list(small.iterdir()) == []  # the mount was private to the child
