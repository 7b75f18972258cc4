"""``compile_model``: from a model (SDModel or file) to a cached :class:`CompiledModel`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from cluster_econ.errors import SpecError, UnsupportedConstructError
from cluster_econ.provenance import file_sha256

from ._compiled import CompiledModel, load_cached, store_cached
from ._compiler import KernelCompiler, load_abstract_model

logger = logging.getLogger(__name__)

_MEMORY: dict[tuple[str, frozenset], CompiledModel] = {}


def _resolve(model: Any) -> tuple[Path, str, str]:
    if isinstance(model, str | Path):
        path = Path(model)
        if not path.is_file():
            raise SpecError(f"Model file {str(path)!r} does not exist; give the path of a .mdl or .xmile file "
                            "or an SDModel from ce.load_model().")
        return path, file_sha256(path), path.stem
    path = getattr(model, "path", None)
    if path is None:
        raise SpecError(f"compile_model expects an SDModel or a path to a model file, got {type(model).__name__}.")
    sha = getattr(model, "sha256", None) or file_sha256(path)
    return Path(path), sha, str(getattr(model, "id", Path(path).stem))


def compile_model(model: Any, *, _timeseries: frozenset = frozenset()) -> CompiledModel:
    """Compile a model into a vectorised numpy kernel (cached by the model file's sha256).

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
    """
    path, sha, name = _resolve(model)
    key = (sha, frozenset(_timeseries))
    if key in _MEMORY:
        return _MEMORY[key]
    description = load_cached(sha, key[1])
    fresh = description is None
    if fresh:
        abstract = load_abstract_model(path)
        try:
            description = KernelCompiler(abstract, name=name, timeseries=key[1]).compile()
        except UnsupportedConstructError:
            raise
        except Exception as err:  # a construct the compiler does not recognise
            raise UnsupportedConstructError(
                f"Model {name!r} uses a construct the batch engine cannot compile ({type(err).__name__}: {err}). "
                "Use engine='pysd' for this model.") from err
    compiled = CompiledModel(description, name=name, sha256=sha, path=str(path), timeseries=key[1])
    if fresh:
        compiled.smoke_test()
        if not description.get("external_files"):  # data read from other files may change: not cached
            store_cached(sha, key[1], description)
        logger.info("Compiled %s (%d variables) to a batch kernel", name, len(description["variables"]))
    _MEMORY[key] = compiled
    return compiled
