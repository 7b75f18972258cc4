"""Translation cache: PySD translations of model files, keyed by the sha256 of their bytes.

Translations live outside the source tree, in ``$CLUSTER_ECON_CACHE/pysd/<sha256>/`` (default
``~/.cache/cluster_econ/pysd/<sha256>/``). Each one is built in a temporary folder next to its final
place and moved there with one atomic rename, so processes racing to translate the same model never
see a half-written translation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from .. import _cachefs
from ..errors import ModelVersionError, SpecError

__all__ = ["cache_root", "translated_source", "translation_dir"]

logger = logging.getLogger(__name__)

_VENSIM = (".mdl",)
_XMILE = (".xmile", ".xml", ".stmx")
_META = "translation.json"


def cache_root() -> Path:
    """The folder holding PySD translations: ``$CLUSTER_ECON_CACHE/pysd`` or ``~/.cache/cluster_econ/pysd``."""
    return _cachefs.cache_root("pysd")


_pysd_version = _cachefs.pysd_version


def translation_dir(sha256: str) -> Path:
    """The cache folder of the translation of the file with this sha256."""
    return cache_root() / sha256


def _is_complete(folder: Path) -> bool:
    meta = folder / _META
    if not meta.is_file() or not (folder / "model.py").is_file():
        return False
    try:
        return json.loads(meta.read_text(encoding="utf-8")).get("pysd") == _pysd_version()
    except (OSError, ValueError):
        return False


def _translate(source: Path) -> None:
    """Translate ``source`` with PySD; the Python model is written next to it."""
    from pysd.builders.python.python_model_builder import ModelBuilder

    if source.suffix == ".mdl":
        from pysd.translators.vensim.vensim_file import VensimFile

        parsed = VensimFile(source)
    else:
        from pysd.translators.xmile.xmile_file import XmileFile

        parsed = XmileFile(source)
    parsed.parse()
    ModelBuilder(parsed.get_abstract_model()).build_model()


def translated_source(path: Path, sha256: str) -> Path:
    """The cached copy of the model source whose sha256 is ``sha256``, translating it if needed.

    The folder holds ``model.mdl`` (or ``model.xmile``), the PySD translation ``model.py`` and
    ``translation.json`` (PySD version, original file name, sha256).

    Raises
    ------
    ModelVersionError
        If the file at ``path`` no longer has the sha256 it had when it was loaded.
    SpecError
        If the file is not a Vensim or XMILE model.
    """
    final = translation_dir(sha256)
    suffix = path.suffix.lower()
    if suffix not in _VENSIM + _XMILE:
        raise SpecError(f"{path} is not a Vensim (.mdl) or XMILE (.xmile, .xml, .stmx) model file.")
    name = "model" + (".mdl" if suffix in _VENSIM else ".xmile")
    if _is_complete(final):
        return final / name
    data = Path(path).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ModelVersionError(
            f"{path} changed since it was loaded (sha256 {sha256} then, {actual} now): "
            f"load it again with load_model()."
        )
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{sha256[:16]}-", dir=root))
    try:
        (tmp / name).write_bytes(data)
        logger.info("Translating %s with PySD into %s", path, final)
        _translate(tmp / name)
        meta = {"pysd": _pysd_version(), "source": Path(path).name, "sha256": sha256}
        (tmp / _META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        if final.exists() and not _is_complete(final):
            # stale (other PySD version) or damaged: move it aside atomically, then delete it
            stale = Path(tempfile.mkdtemp(prefix=f".stale-{sha256[:16]}-", dir=root))
            try:
                os.replace(final, stale / "old")
            except FileNotFoundError:
                pass
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, final)
        except OSError:
            # another process installed the same translation first
            if not _is_complete(final):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final / name


def translated_model_file(path: Path, sha256: str) -> Path:
    """The cached PySD Python file of the model whose source has this sha256."""
    return translated_source(path, sha256).with_name("model.py")
