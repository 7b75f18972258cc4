"""Translation cache: PySD translations of model files, keyed by the sha256 of their bytes.

Translations live outside the source tree, in ``$CLUSTER_ECON_CACHE/pysd/<sha256>/`` (default
``~/.cache/cluster_econ/pysd/<sha256>/``; see :mod:`cluster_econ._cachefs` for the folder rules).
An entry holds the copy of the model source (``model.mdl`` or ``model.xmile``), the Python files
PySD generated, and ``index.json`` recording the PySD version and the sha256 of every file.

An entry is used only if every file has the sha256 its index records, no other file is present,
and every Python file passes :func:`cluster_econ.sd._verify.check_source`; otherwise it is
discarded (with a logged warning) and rebuilt. Translation itself runs in a child process with a
time limit and a memory limit (:mod:`cluster_econ.sd._translate`), from a sanitised abstract model.
Each entry is built in a temporary folder and moved into place with one atomic rename, so processes
racing to translate the same model never see a half-written one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .. import _cachefs
from ..errors import ModelFileError, ModelVersionError, SpecError
from . import _modelfile, _verify

__all__ = ["cache_root", "translated_model_file", "translated_source", "translation_dir"]

logger = logging.getLogger(__name__)

_VENSIM = (".mdl",)
_XMILE = (".xmile", ".xml", ".stmx")
_INDEX = "index.json"
_FORMAT = 1
_OUTCOME = "CLUSTER_ECON_TRANSLATION_OUTCOME "  # as in _translate.OUTCOME (that script is not imported)
#: Files refused in this process ((sha256, Vensim or XMILE) -> error): a file that failed is not translated
#: again. The same bytes read as the other format are another file.
_REFUSED: dict[tuple[str, str], tuple[str, str]] = {}


def cache_root() -> Path:
    """The folder PySD translations are written to (see :func:`cluster_econ._cachefs.cache_root`)."""
    return _cachefs.cache_root("pysd")


def translation_dir(sha256: str) -> Path:
    """The folder where the translation of the file with this sha256 is (or would be) written."""
    return cache_root() / sha256


def _files(folder: Path) -> list[str]:
    """Every file below ``folder`` (relative POSIX paths), byte code included: Python would import it."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def _verified(folder: Path, sha256: str, name: str) -> bool:
    """Whether ``folder`` holds a complete, untampered translation of the file with this sha256."""
    index_path = folder / _INDEX
    if not index_path.is_file():
        return False
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        files = dict(index["files"])
        ok = (index.get("format") == _FORMAT and index.get("pysd") == _cachefs.pysd_version()
              and index.get("sha256") == sha256 and files.get(name) == sha256 and "model.py" in files)
    except (OSError, ValueError, KeyError, TypeError):
        logger.warning("Discarding translation %s: its index is unreadable", folder)
        return False
    if not ok:
        logger.info("Translation %s is for another PySD version or file; rebuilding it", folder)
        return False
    present = set(_files(folder)) - {_INDEX}
    if present != set(files):
        logger.warning("Discarding translation %s: files %s are not those its index records", folder,
                       sorted(present ^ set(files)))
        return False
    for relative, digest in files.items():
        data = _cachefs.read_verified(folder / relative, str(digest))
        if data is None:
            logger.warning("Discarding translation %s: %s does not match its recorded sha256", folder, relative)
            return False
        if relative.endswith(".py"):
            try:
                _verify.check_source(data, folder / relative)
            except ModelFileError as err:
                logger.warning("Discarding translation %s: %s", folder, err)
                return False
    return True


def _find(sha256: str, name: str) -> Path | None:
    for root in _cachefs.cache_roots("pysd"):
        folder = root / sha256
        if folder.is_dir():
            if _verified(folder, sha256, name):
                return folder
    return None


def _run_translation(source: Path, original: Path) -> None:
    """Translate ``source`` (the cache's copy of ``original``) in a child process, within the limits."""
    timeout = _modelfile.translation_timeout()
    memory = _modelfile.translation_memory()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    # run as a plain script (-P: without its folder on sys.path): the child imports PySD, not this package
    command = [sys.executable, "-P", str(Path(__file__).with_name("_translate.py")), str(source), str(memory)]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ModelFileError(
            f"{original}: translation with PySD did not finish within {timeout:g} s and was stopped. "
            f"A model this slow to parse is probably not a Vensim/XMILE model; if it is, raise the limit with "
            f"the environment variable {_modelfile.TIMEOUT_ENV}.") from None
    lines = [line for line in (done.stdout or "").splitlines() if line.startswith(_OUTCOME)]
    try:
        outcome = json.loads(lines[-1][len(_OUTCOME):])
    except (IndexError, ValueError):
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise ModelFileError(f"{original}: translation with PySD stopped without a result (exit status "
                             f"{done.returncode}): {' | '.join(tail) or 'no message'}") from None
    if outcome.get("kind") == "os":  # the cache folder failed, not the model: the caller falls back
        raise OSError(int(outcome.get("errno", 0)), str(outcome.get("message", "")), str(source.parent))
    if not outcome.get("ok"):
        raise _modelfile.translation_error(original, outcome, memory)


def translated_source(path: Path, sha256: str) -> Path:
    """The cached copy of the model source whose sha256 is ``sha256``, translating it if needed.

    The folder holds ``model.mdl`` (or ``model.xmile``), the PySD translation ``model.py`` (and the
    files of its macros and subscripts) and ``index.json``.

    Raises
    ------
    ModelVersionError
        If the file at ``path`` no longer has the sha256 it had when it was loaded.
    ModelFileError
        If the file cannot be translated (malformed, too large, too slow, unsafe names).
    SpecError
        If the file is not a Vensim or XMILE model.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in _VENSIM + _XMILE:
        raise SpecError(f"{path} is not a Vensim (.mdl) or XMILE (.xmile, .xml, .stmx) model file.")
    name = "model" + (".mdl" if suffix in _VENSIM else ".xmile")
    found = _find(sha256, name)
    if found is not None:
        return found / name
    if (sha256, name) in _REFUSED:
        where, message = _REFUSED[sha256, name]
        raise ModelFileError(message.replace(where, str(path)))
    data = _modelfile.read_model_bytes(Path(path))
    actual = _cachefs.sha256_bytes(data)
    if actual != sha256:
        raise ModelVersionError(
            f"{path} changed since it was loaded (sha256 {sha256} then, {actual} now): "
            f"load it again with load_model()."
        )
    root = cache_root()
    try:
        return _build(Path(path), data, sha256, name, root)
    except OSError as err:  # no space, a folder turned read-only ...: the private fallback, with a warning
        fallback = _cachefs.fall_back("pysd", root, err)
    try:
        return _build(Path(path), data, sha256, name, fallback)
    except OSError as err:
        raise SpecError(f"The translation of {path} cannot be written, neither to {root} nor to {fallback} "
                        f"({err.strerror or err}). Set CLUSTER_ECON_CACHE to a folder with free space that you "
                        f"can write.") from err


def _build(path: Path, data: bytes, sha256: str, name: str, root: Path) -> Path:
    """Translate ``data`` (the bytes of ``path``) into a new entry of ``root``; the cached source's path."""
    final = root / sha256
    tmp = _cachefs.make_temp_dir(root, f".tmp-{sha256[:16]}-")
    try:
        _cachefs.atomic_write_bytes(tmp / name, data)
        logger.info("Translating %s with PySD into %s", path, final)
        try:
            _run_translation(tmp / name, path)
        except ModelFileError as err:
            if "did not finish within" not in str(err) and "of memory and was stopped" not in str(err):
                # a file that failed under a limit may pass under another one: only bad files are remembered
                _REFUSED[sha256, name] = (str(path), str(err))
            raise
        shutil.rmtree(tmp / "__pycache__", ignore_errors=True)
        files = {}
        for relative in _files(tmp):
            content = (tmp / relative).read_bytes()
            if relative.endswith(".py"):
                _verify.check_source(content, path)
            files[relative] = _cachefs.sha256_bytes(content)
        index = {"format": _FORMAT, "pysd": _cachefs.pysd_version(), "source": path.name,
                 "sha256": sha256, "files": files}
        _cachefs.atomic_write_text(tmp / _INDEX, json.dumps(index, indent=1, sort_keys=True))
        _install(tmp, final, sha256, name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final / name


def _install(tmp: Path, final: Path, sha256: str, name: str) -> None:
    """Move the finished translation ``tmp`` to ``final``, replacing a stale or damaged entry."""
    if final.exists() and not _verified(final, sha256, name):
        # stale (other PySD version) or damaged: move it aside atomically, then delete it
        stale = _cachefs.make_temp_dir(final.parent, f".stale-{sha256[:16]}-")
        try:
            os.replace(final, stale / "old")
        except FileNotFoundError:
            pass
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.replace(tmp, final)
    except OSError:
        # another process installed the same translation first
        if not _verified(final, sha256, name):
            raise


def translated_model_file(path: Path, sha256: str) -> Path:
    """The cached PySD Python file of the model whose source has this sha256."""
    return translated_source(path, sha256).with_name("model.py")
