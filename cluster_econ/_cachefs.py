"""Cache folders and files: where the caches live, atomic writes, verified reads.

Every cache of the package (PySD translations, batch-engine kernels) lives in a subfolder of
``$CLUSTER_ECON_CACHE`` (default ``~/.cache/cluster_econ``); ``~`` and environment variables in the
setting are expanded. A cache folder is only used when it is safe and usable:

- it must not be writable by group or others (as ssh and pip refuse such folders), because anyone who
  can write there could plant a translation that is then imported;
- it must be a folder that can be created and written.

Otherwise the package falls back, with a :class:`~cluster_econ.errors.ClusterEconWarning` saying why
and how to fix it, to a private temporary folder (mode 0700) for the rest of the process; a cache
failure never ends a run with a traceback. A folder that is safe but read-only (a cache filled by one
user and shared read-only with others) is still read: :func:`cache_roots` lists it for look-ups, and
only writes go to the fallback.

Folders created here are ``0o755`` and files ``0o644``, both minus the user's umask: never writable
by group or others, readable by them when the umask allows, so a filled cache can be shared.
"""

from __future__ import annotations

import atexit
import errno
import hashlib
import logging
import os
import shutil
import stat
import sys
import tempfile
import threading
import warnings
from pathlib import Path

from .errors import ClusterEconWarning

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "cache_root",
    "cache_roots",
    "configured_base",
    "make_temp_dir",
    "pysd_version",
    "read_verified",
    "sha256_bytes",
]

logger = logging.getLogger(__name__)

_PACKAGE_DIR = str(Path(__file__).resolve().parent)
_LOCK = threading.Lock()
_FALLBACK: Path | None = None
_WARNED: set[tuple[str, str]] = set()
_DIR_MODE = 0o755
_FILE_MODE = 0o644


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _warn(message: str, key: tuple[str, str]) -> None:
    """Warn once per process and ``key``, at the first stack frame outside the package."""
    if key in _WARNED:
        logger.info("%s", message)
        return
    _WARNED.add(key)
    level = 1
    frame = sys._getframe(0)  # stacklevel 1 is this function
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, ClusterEconWarning, stacklevel=level)


def configured_base() -> Path:
    """The configured cache base folder: ``$CLUSTER_ECON_CACHE`` (expanded) or ``~/.cache/cluster_econ``."""
    env = os.environ.get("CLUSTER_ECON_CACHE", "").strip()
    if env:
        return Path(os.path.expanduser(os.path.expandvars(env))).absolute()
    return Path.home().absolute() / ".cache" / "cluster_econ"


def _unsafe(path: Path) -> str | None:
    """Why ``path`` (an existing folder) must not be trusted, or None."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        return f"it cannot be inspected ({err.strerror or err})"
    if not stat.S_ISDIR(mode):
        return "it is not a folder"
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = {stat.S_IWGRP: "group", stat.S_IWOTH: "others"}.get(mode & (stat.S_IWGRP | stat.S_IWOTH),
                                                                   "group and others")
        return (f"it is writable by {who} (mode {stat.S_IMODE(mode):04o}), so others could plant code in it; "
                f"fix it with `chmod go-w {path}`")
    return None


def _makedirs(path: Path) -> None:
    """Create ``path`` and its missing parents, each ``0o755`` minus the umask (never group-writable)."""
    missing = []
    for folder in [path, *path.parents]:
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, _DIR_MODE)  # the umask applies on top
        except FileExistsError:
            pass


def _usable(path: Path, base: Path) -> str | None:
    """Create ``path`` if needed and check it can hold a cache; the reason it cannot, or None."""
    try:
        if path.exists() and not path.is_dir():
            return "it exists and is not a folder"
        _makedirs(path)
    except OSError as err:
        return _explain(err)
    for folder in dict.fromkeys((base, path)):
        reason = _unsafe(folder)
        if reason:
            return reason if folder == path else f"its parent {folder} is unsafe: {reason}"
    try:  # an actual write: permission bits say nothing for root or on read-only mounts
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        return _explain(err)
    return None


def _explain(err: OSError) -> str:
    reasons = {
        errno.EACCES: "permission denied", errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENOTDIR: "a part of the path is a file, not a folder", errno.ENOENT: "a parent folder cannot be created",
        errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is exceeded",
    }
    where = f" ({err.filename})" if err.filename else ""
    return f"{reasons.get(err.errno or 0, err.strerror or str(err))}{where}"


def _fallback_base() -> Path:
    global _FALLBACK
    with _LOCK:
        if _FALLBACK is None or not _FALLBACK.is_dir():
            _FALLBACK = Path(tempfile.mkdtemp(prefix="cluster_econ-cache-"))  # 0700: private to this user
            atexit.register(shutil.rmtree, _FALLBACK, True)
        return _FALLBACK


def cache_root(sub: str) -> Path:
    """The folder where the cache ``sub`` is written, created if needed.

    ``$CLUSTER_ECON_CACHE/<sub>`` (or ``~/.cache/cluster_econ/<sub>``) when it is usable and safe;
    otherwise a private temporary folder for this process, with a warning (once) saying why and how
    to fix the setting.

    Parameters
    ----------
    sub : str
        Name of the cache (``"pysd"``, ``"engine"``); a single path component.

    Returns
    -------
    pathlib.Path
    """
    if not sub or "/" in sub or "\\" in sub or sub in (".", ".."):
        raise ValueError(f"cache name must be one path component, got {sub!r}")
    base = configured_base()
    target = base / sub
    reason = _usable(target, base)
    if reason is None:
        return target
    fallback = _fallback_base() / sub
    fallback.mkdir(mode=0o700, exist_ok=True)
    _warn(f"The cache folder {target} cannot be used: {reason}. Using a private temporary cache "
          f"({fallback}) for this session instead; set CLUSTER_ECON_CACHE to a folder of your own that only "
          f"you can write (e.g. ~/.cache/cluster_econ) to keep translations between sessions.",
          (str(target), reason))
    return fallback


def cache_roots(sub: str) -> list[Path]:
    """The folders to look in for entries of the cache ``sub``, best first.

    The configured folder when it exists and is safe, even if it is read-only (a shared cache), then
    this process's fallback folder if one was created. Nothing is created and nothing is warned here.
    """
    roots = []
    base = configured_base()
    target = base / sub
    if target.is_dir() and _unsafe(target) is None and (not base.is_dir() or _unsafe(base) is None):
        roots.append(target)
    if _FALLBACK is not None and (_FALLBACK / sub).is_dir():
        roots.append(_FALLBACK / sub)
    return roots


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A new empty folder in ``parent`` with the cache's folder mode (``0o755`` minus the umask)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(folder, _DIR_MODE & ~_umask())
    return folder


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, fsync, rename.

    Readers see the old file or the new one, never a part. The file gets mode ``0o644`` minus the
    umask. On failure (no space, ...) the temporary file is removed and the error is raised.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _FILE_MODE & ~_umask())
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` encoded as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_verified(path: Path, sha256: str) -> bytes | None:
    """The bytes of ``path`` if their sha256 is ``sha256``; None if missing, unreadable or altered.

    A mismatch is logged as a warning (the caller discards and rebuilds the entry).
    """
    try:
        with open(path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                logger.warning("Ignoring cache entry %s: not a regular file", path)
                return None
            data = fh.read()
    except OSError:
        return None
    actual = sha256_bytes(data)
    if actual != sha256:
        logger.warning("Discarding cache entry %s: its sha256 is %s, the index records %s (altered or truncated)",
                       path, actual, sha256)
        return None
    return data


def pysd_version() -> str:
    """Version of the installed PySD."""
    import pysd

    return str(pysd.__version__)
