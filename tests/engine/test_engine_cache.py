"""The kernel cache: kernels compiled from the exact bytes hashed, keyed by model, engine and PySD."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pysd
import pytest
from engine_helpers import SIR, SUBSCRIPT_2D
from numpy.testing import assert_allclose, assert_array_equal

import cluster_econ as ce
from cluster_econ.errors import ModelVersionError, UnsupportedConstructError
from cluster_econ.provenance import file_sha256
from cluster_econ.sd.engine import _api, compile_model
from cluster_econ.sd.engine._compiler import DimensionMismatch, KernelCompiler


@pytest.fixture
def fresh_caches(tmp_path, monkeypatch):
    """An empty cache folder and empty in-memory caches, as in a new process on a new machine."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(folder))
    monkeypatch.setattr(_api, "_MEMORY", {})
    return folder


def _clear_memory(monkeypatch) -> None:
    monkeypatch.setattr(_api, "_MEMORY", {})


@pytest.mark.slow  # two fresh PySD translations; test_sd_model checks an edited file is read again
def test_a_model_file_edited_after_loading_is_refused_and_never_cached(tmp_path, fresh_caches, monkeypatch):
    path = tmp_path / "SIR.mdl"
    shutil.copy(SIR, path)
    original = path.read_bytes()
    model = ce.load_model(path)
    reference = ce.simulate(model, engine="pysd", outputs=["infectious"]).data["infectious"].values

    edited = original.replace(b"\t0.3\n", b"\t0.9\n")
    assert edited != original
    path.write_bytes(edited)
    with pytest.raises(ModelVersionError, match=r"SIR\.mdl changed since it was loaded \(sha256 "
                                                 + model.sha256 + r" then, [0-9a-f]{64} now\): load it again"):
        ce.simulate(model, engine="batch")
    assert not list((fresh_caches / "engine").glob("*.index.json")), "a kernel was stored for a file that changed"

    path.write_bytes(original)
    _clear_memory(monkeypatch)
    again = ce.load_model(path)
    assert again.sha256 == model.sha256
    batch = ce.simulate(again, engine="batch", outputs=["infectious"]).data["infectious"].values
    assert_allclose(batch, reference, rtol=1e-12, atol=0)

    # the edited file, loaded as such, is its own model with its own kernel; the original keeps its own
    path.write_bytes(edited)
    changed = ce.simulate(ce.load_model(path), engine="batch", outputs=["infectious"]).data["infectious"].values
    assert np.abs(changed - reference).max() > 1.0
    path.write_bytes(original)
    _clear_memory(monkeypatch)
    restored = ce.simulate(ce.load_model(path), engine="batch", outputs=["infectious"]).data["infectious"].values
    assert_array_equal(restored, batch)


@pytest.mark.slow  # the quick loop has the file edited after loading
def test_a_file_edited_between_hashing_and_parsing_cannot_be_compiled_under_the_old_hash(
        tmp_path, fresh_caches, monkeypatch):
    path = tmp_path / "SIR.mdl"
    shutil.copy(SIR, path)
    model = ce.load_model(path)
    path.write_bytes(path.read_bytes().replace(b"\t0.3\n", b"\t0.9\n"))
    with pytest.raises(ModelVersionError, match="changed since it was loaded"):
        compile_model(model)
    # a bare path is hashed from the very bytes that are compiled
    compiled = compile_model(path)
    assert compiled.sha256 == ce.load_model(path).sha256 != model.sha256
    frame = pd.DataFrame(index=pd.RangeIndex(1))
    assert compiled.run(frame, outputs=["contact_infectivity"])["contact_infectivity"].values[0, 0] == 0.9


def test_the_cache_key_follows_model_time_series_engine_source_and_pysd_version():
    sha = "a" * 64
    key = _api.source_key(sha, frozenset())
    assert key == _api.source_key(sha, frozenset(), engine=_api.engine_fingerprint(),
                                       pysd=pysd.__version__)
    others = {
        _api.source_key("b" * 64, frozenset()),
        _api.source_key(sha, frozenset({"duration"})),
        _api.source_key(sha, frozenset(), engine="0" * 64),
        _api.source_key(sha, frozenset(), pysd="0.0.0"),
    }
    assert key not in others
    assert len(others) == 4


def test_the_engine_fingerprint_covers_every_source_file_of_the_engine(tmp_path, monkeypatch):
    engine = tmp_path / "engine"
    shutil.copytree(_api.Path(_api.__file__).parent, engine,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(_api, "__file__", str(engine / "_api.py"))
    fingerprint = _api.engine_fingerprint.__wrapped__
    before = fingerprint()
    assert before == _api.engine_fingerprint()  # the copy is the engine itself
    for name in ("_runtime.py", "_compiler.py", "_functions.py", "_statefuls.py"):
        source = engine / name
        text = source.read_text(encoding="utf-8")
        source.write_text(text + "\n# changed\n", encoding="utf-8")
        assert fingerprint() != before, name
        source.write_text(text, encoding="utf-8")
    assert fingerprint() == before


def test_a_kernel_cached_by_another_engine_version_is_not_reused(tmp_path, fresh_caches, monkeypatch):
    path = tmp_path / "SIR.mdl"
    shutil.copy(SIR, path)
    compile_model(path)
    assert len(list((fresh_caches / "engine").glob("*.index.json"))) == 1
    _clear_memory(monkeypatch)
    monkeypatch.setattr(_api, "engine_fingerprint", lambda: "f" * 64)
    compile_model(path)
    assert len(list((fresh_caches / "engine").glob("*.index.json"))) == 2


def test_dimension_mismatches_name_the_variable(monkeypatch, fresh_caches):
    def mismatch(self, ex, target, *, lead=True):
        raise DimensionMismatch("The dimension 'One Dimensional Subscript' with two different sets of elements "
                                "(['Entry 1'] and ['Entry 2'])")

    monkeypatch.setattr(KernelCompiler, "align", mismatch)
    with pytest.raises(UnsupportedConstructError, match=r"^The dimension 'One Dimensional Subscript' with two "
                                                        r"different sets of elements \(\['Entry 1'\] and "
                                                        r"\['Entry 2'\]\) used by '[^']+' in model "
                                                        r"'test_subscript_2d_arrays' is not supported"):
        compile_model(SUBSCRIPT_2D)


def test_any_compiler_failure_names_the_variable(monkeypatch, fresh_caches):
    original = KernelCompiler._operation

    def failing(self, ast, ctx):
        if ctx["element"] == "succumbing":
            raise ValueError("no such function")
        return original(self, ast, ctx)

    monkeypatch.setattr(KernelCompiler, "_operation", failing)
    with pytest.raises(UnsupportedConstructError, match=r"^An expression the batch engine cannot compile "
                                                        r"\(ValueError: no such function\) used by 'Succumbing' "
                                                        r"in model 'SIR' is not supported by the batch engine"):
        compile_model(SIR)


def test_the_bytes_hashed_are_read_as_pysd_reads_the_file(tmp_path):
    from pysd.translators.vensim.vensim_file import VensimFile

    from cluster_econ.sd.engine._tables import _decode_vensim

    crlf = tmp_path / "SIR_crlf.mdl"
    crlf.write_bytes(SIR.read_bytes().replace(b"\n", b"\r\n"))
    for path in [*sorted(SIR.parent.glob("*.mdl")), crlf]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert _decode_vensim(path.read_bytes()) == VensimFile(path)._read(None), path.name
    assert_array_equal(compile_model(crlf).run(outputs=["infectious"])["infectious"].values,
                       compile_model(SIR).run(outputs=["infectious"])["infectious"].values)
    xmile = compile_model(SIR.parent / "test_chained_initialization.xmile")
    assert xmile.sha256 == file_sha256(SIR.parent / "test_chained_initialization.xmile")
