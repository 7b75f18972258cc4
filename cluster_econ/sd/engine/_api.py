"""``compile_model``: from a model (SDModel or file) to a cached :class:`CompiledModel`.

One kernel cache: in memory (per process), then on disk (``$CLUSTER_ECON_CACHE/engine``, see
:mod:`._store`), keyed by the model file's sha256, the time-series inputs, the engine's own source and
the PySD version.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import warnings
from pathlib import Path
from typing import Any

from cluster_econ.errors import ModelVersionError, NumericalWarning, SpecError, UnsupportedConstructError

from . import _store
from ._compiled import CompiledModel
from ._compiler import KernelCompiler, load_abstract_model
from ._numerics import stack_level

logger = logging.getLogger(__name__)

__all__ = ["compile_model", "engine_fingerprint", "source_key"]

_MEMORY: dict[tuple[str, frozenset], CompiledModel] = {}
_ARRAYS = "arrays"
_SOURCE = "source"


@functools.cache
def engine_fingerprint() -> str:
    """sha256 of the engine's own source files (``cluster_econ/sd/engine/*.py``)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def source_key(sha256: str, timeseries: frozenset, *, engine: str | None = None, pysd: str | None = None) -> str:
    """Cache key of a kernel: model sha256, time-series inputs, the engine's source and the PySD version.

    ``engine`` and ``pysd`` default to :func:`engine_fingerprint` and the installed PySD's version.
    """
    engine = engine_fingerprint() if engine is None else engine
    pysd = _store.pysd_version() if pysd is None else pysd
    extra = ",".join(sorted(timeseries))
    return hashlib.sha256(f"{sha256}|{extra}|{engine}|{pysd}".encode()).hexdigest()


def load_cached(sha256: str, timeseries: frozenset) -> dict | None:
    """The kernel description cached on disk, verified; None if absent or discarded."""
    entry = _store.load_entry(source_key(sha256, timeseries))
    if entry is None:
        return None
    source, arrays, meta = entry
    return {**meta, _SOURCE: source, _ARRAYS: arrays}


def store_cached(sha256: str, timeseries: frozenset, description: dict) -> None:
    meta = {k: v for k, v in description.items() if k not in (_SOURCE, _ARRAYS, "owners")}
    _store.store_entry(source_key(sha256, timeseries), description[_SOURCE], description[_ARRAYS], meta)


def _resolve(model: Any) -> tuple[Path, str | None, str]:
    """Model file, the sha256 it must have (None for a bare path) and the model's name."""
    if isinstance(model, str | Path):
        path = Path(model)
        if not path.is_file():
            raise SpecError(f"Model file {str(path)!r} does not exist; give the path of a .mdl or .xmile file "
                            "or an SDModel from ce.load_model().")
        return path, None, path.stem
    given = getattr(model, "path", None)
    if given is None:
        raise SpecError(f"compile_model expects an SDModel or a path to a model file, got {type(model).__name__}.")
    return Path(given), getattr(model, "sha256", None), str(getattr(model, "id", Path(given).stem))


def _read_verified(path: Path, expected: str | None) -> tuple[bytes, str]:
    """The file's bytes and their sha256; ModelVersionError if they are not the ``expected`` ones."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if expected is not None and sha != expected:
        raise ModelVersionError(
            f"{path} changed since it was loaded (sha256 {expected} then, {sha} now): load it again with "
            "load_model().")
    return data, sha


def _from_disk(path: Path, sha256: str, name: str, timeseries: frozenset) -> CompiledModel | None:
    """The kernel cached on disk, verified; None if there is none (or it does not verify: discarded)."""
    description = load_cached(sha256, timeseries)
    if description is None:
        return None
    try:
        compiled = CompiledModel(description, name=name, sha256=sha256, path=str(path), timeseries=timeseries)
        compiled._kernel()  # verified before it runs; an entry that does not verify is compiled again
    except (KeyError, TypeError, UnsupportedConstructError) as err:
        _store.discard(source_key(sha256, timeseries), f"it does not hold a valid kernel ({err})")
        return None
    return compiled


def _compile(path: Path, sha256: str, name: str, timeseries: frozenset, data: bytes | None) -> CompiledModel:
    """Compile the file (whose bytes must have ``sha256``), smoke-test the kernel and cache it on disk."""
    if data is None:
        data, _ = _read_verified(path, sha256)
    abstract = load_abstract_model(path, data)
    try:
        description = KernelCompiler(abstract, name=name, timeseries=timeseries).compile()
    except UnsupportedConstructError:  # names the construct and the variable
        raise
    except Exception as err:  # failures inside a variable's equation are named by the compiler
        raise UnsupportedConstructError(
            f"Model {name!r} could not be compiled by the batch engine, outside the equation of any one "
            f"variable ({type(err).__name__}: {err}). Use engine='pysd' for this model.") from err
    compiled = CompiledModel(description, name=name, sha256=sha256, path=str(path), timeseries=timeseries)
    compiled.smoke_test()
    if not description.get("external_files"):  # data read from other files may change: not cached
        store_cached(sha256, timeseries, description)
    logger.info("Compiled %s (%d variables) to a batch kernel", name, len(description["variables"]))
    return compiled


def compile_model(model: Any, *, _timeseries: frozenset = frozenset(), _sha256: str | None = None,
                  _name: str | None = None) -> CompiledModel:
    """Compile a model into a vectorised numpy kernel (cached by the model file's sha256).

    The file is read once; the kernel is compiled from exactly the bytes whose sha256 keys the cache.
    Kernels are cached in memory and on disk under the model's sha256, the engine's own source and
    the PySD version, so a kernel is never reused for another file content or another engine.

    Parameters
    ----------
    model : SDModel or str or pathlib.Path
        A model from :func:`cluster_econ.load_model`, or the path of a Vensim ``.mdl`` (or XMILE) file.

    Returns
    -------
    CompiledModel
        Generated source and arrays; picklable.

    Raises
    ------
    UnsupportedConstructError
        If the model uses a construct the engine does not implement (names the construct and the
        variable), before anything is integrated.
    ModelVersionError
        If the kernel must be compiled and the file of an SDModel no longer has the sha256 it had when
        it was loaded (a kernel already cached for that sha256 is the loaded model's and is reused).
    """
    path, expected, name = _resolve(model)
    expected = expected or _sha256
    name = _name or name
    timeseries = frozenset(_timeseries)
    data = None
    if expected is None:  # a bare path: the key is the hash of the bytes that will be compiled
        data, expected = _read_verified(path, None)
    key = (expected, timeseries)
    if key in _MEMORY:
        return _MEMORY[key]
    compiled = _from_disk(path, expected, name, timeseries)
    if compiled is None:
        compiled = _compile(path, expected, name, timeseries, data)
    for variable, divisor in compiled.zero_divisions:
        warnings.warn(f"{name}: {variable!r} divides by {divisor!r}, which is 0 in the model file; every run that "
                      "keeps it 0 gives non-finite values there.", NumericalWarning, stacklevel=stack_level())
    _MEMORY[key] = compiled
    return compiled
