"""Model files as untrusted input: what kind of file it is, how large, how it is read, and the limits.

A model path must name a regular file of at most ``CLUSTER_ECON_MAX_MODEL_SIZE`` bytes (default
20 MB: PySD needs about 450 times a file's size in memory to translate it). Folders, devices, pipes,
sockets, symbolic-link loops, empty files and text that is not a Vensim/XMILE text file (NUL bytes,
UTF-16 without the XML declaration that allows it) are refused with a
:class:`~cluster_econ.errors.ModelFileError` that says what the path is. Translation runs in a child
process stopped after ``CLUSTER_ECON_TRANSLATION_TIMEOUT`` seconds (default 300) and limited to
``CLUSTER_ECON_TRANSLATION_MEMORY`` bytes of address space (default half the machine's memory).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

from ..errors import ModelFileError, SpecError

__all__ = ["MEMORY_ENV", "SIZE_ENV", "TIMEOUT_ENV", "check_path", "max_model_size", "read_model_bytes",
           "translation_error", "translation_memory", "translation_timeout"]

SIZE_ENV = "CLUSTER_ECON_MAX_MODEL_SIZE"
TIMEOUT_ENV = "CLUSTER_ECON_TRANSLATION_TIMEOUT"
MEMORY_ENV = "CLUSTER_ECON_TRANSLATION_MEMORY"
DEFAULT_MAX_SIZE = 20_000_000
DEFAULT_TIMEOUT = 300.0

_UNITS = {"": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "kib": 2**10, "mib": 2**20, "gib": 2**30}


def _env_number(name: str, default: float, *, size: bool) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    match = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)", text.lower())
    if match is None or (match.group(2) and (not size or match.group(2) not in _UNITS)) or float(match.group(1)) <= 0:
        example = "20MB, 50000000" if size else "600"
        raise SpecError(f"{name}={text!r} is not valid: give a positive number{' of bytes' if size else ' of seconds'}"
                        f" (e.g. {example}), or unset it for the default.")
    return float(match.group(1)) * (_UNITS[match.group(2)] if size else 1)


def max_model_size() -> int:
    """Largest model file accepted, in bytes (``CLUSTER_ECON_MAX_MODEL_SIZE``, default 20 MB)."""
    return int(_env_number(SIZE_ENV, DEFAULT_MAX_SIZE, size=True))


def translation_timeout() -> float:
    """Seconds a translation may take (``CLUSTER_ECON_TRANSLATION_TIMEOUT``, default 300)."""
    return _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT, size=False)


def translation_memory() -> int:
    """Address-space limit of the translating process in bytes (default half the machine's memory, >= 2 GiB)."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 8 * 2**30
    return int(_env_number(MEMORY_ENV, max(2 * 2**30, physical // 2), size=True))


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                        (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
                        (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return None if stat.S_ISREG(mode) else "not a regular file"


def check_path(path: Path) -> os.stat_result:
    """Refuse paths that are not regular model files of an accepted size; return their status.

    Raises
    ------
    SpecError
        If nothing exists at ``path``.
    ModelFileError
        A symbolic-link loop, a dangling link, a folder, a device, a pipe, a socket, an empty file or
        a file above :func:`max_model_size`.
    """
    try:
        status = os.stat(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ModelFileError(f"{path} is a symbolic link loop, not a model file: fix or remove the link.") from None
        if err.errno in (errno.ENOENT, errno.ENOTDIR):
            if os.path.islink(path):
                raise ModelFileError(f"{path} is a symbolic link to {os.readlink(path)!r}, which does not exist."
                                     ) from None
            raise SpecError(f"Model file {str(path)!r} does not exist. Give a path to a .mdl or .xmile file "
                            f"or a registered model id.") from None
        raise ModelFileError(f"{path} cannot be read: {err.strerror or err}.") from None
    kind = _kind(status.st_mode)
    if kind is not None:
        raise ModelFileError(f"{path} is {kind}, not a model file: give the path of a .mdl or .xmile file.")
    _check_size(path, status.st_size)
    return status


def _check_size(path: Path, size: int) -> None:
    limit = max_model_size()
    if size == 0:
        raise ModelFileError(f"{path} is empty: it holds no model.")
    if size > limit:
        raise ModelFileError(f"{path} is {size / 1e6:.1f} MB, above the {limit / 1e6:g} MB accepted for a model file "
                             f"(translating it would take about {size * 450 / 2**30:.0f} GiB of memory). If it is a "
                             f"genuine model, raise the limit with the environment variable {SIZE_ENV}.")


def read_model_bytes(path: Path) -> bytes:
    """The bytes of the model file at ``path``, after the checks of :func:`check_path` and of its text.

    The file is opened once without blocking (a pipe cannot hang the call) and checked on the open
    descriptor, so what is read is what was checked.
    """
    check_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise ModelFileError(f"{path} cannot be read: {err.strerror or err}.") from None
    with os.fdopen(fd, "rb") as fh:
        status = os.fstat(fh.fileno())
        kind = _kind(status.st_mode)
        if kind is not None:
            raise ModelFileError(f"{path} is {kind}, not a model file: give the path of a .mdl or .xmile file.")
        _check_size(path, status.st_size)
        data = fh.read(max_model_size() + 1)
    _check_size(path, len(data))
    _check_text(path, data)
    return data


def _check_text(path: Path, data: bytes) -> None:
    xml = path.suffix.lower() != ".mdl"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") and not xml:
        raise ModelFileError(f"{path} is encoded in UTF-16; Vensim text models (.mdl) are read as UTF-8 or Latin-1. "
                             f"Save it again as UTF-8 (in Vensim: save as .mdl; in an editor: choose UTF-8).")
    if xml and re.search(rb"<!ENTITY", data[:65536]):
        raise ModelFileError(f"{path} declares XML entities (<!ENTITY ...>), which XMILE models never need and which "
                             f"can read other files or expand without bound: remove the DOCTYPE declaration.")
    if xml and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return  # XML may be UTF-16 when it says so with a byte-order mark; lxml reads it
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ModelFileError(f"{path} holds a NUL byte (line {line}, byte {nul}): it is binary, not a Vensim or XMILE "
                             f"text model (or it is UTF-16 without a byte-order mark: save it as UTF-8).")


_SKETCH_KEY = re.compile(r"^'?(alignment|sketch|view)'?$")


def translation_error(original: Path, outcome: dict[str, Any], memory: int) -> ModelFileError:
    """The error for a failed translation, from the child's outcome record."""
    kind = outcome.get("kind")
    if kind == "memory":
        return ModelFileError(f"{original}: translating it with PySD needed more than {memory / 2**30:.1f} GiB of "
                              f"memory and was stopped. If it is a genuine model, raise the limit with the environment "
                              f"variable {MEMORY_ENV}.")
    if kind == "unsafe":
        return ModelFileError(f"{original}: {outcome.get('message')}.")
    line = outcome.get("line")
    construct = outcome.get("construct")
    kind_name = outcome.get("type", "error")
    message = str(outcome.get("message", "")).strip()
    explained = None
    if kind_name in ("KeyError", "IndexError") and (_SKETCH_KEY.match(message) or "sketch" in str(construct)):
        explained = ("the sketch section is incomplete (a view without its header lines): the file looks "
                     "truncated")
    where = f", line {line}" if line else ""
    at = f" in {construct}" if construct else ""
    first = message.splitlines()[0] if message else "no message"
    if line:  # parsimonious counts lines in PySD's whitespace-collapsed text: drop its position
        first = re.sub(r"\s*\(line \d+, column \d+\)\.?|\s*\(model\.\w+, line \d+\)", "", first)
    detail = explained or f"{kind_name}: {first}"
    return ModelFileError(f"{original}{where}: PySD could not translate this model file{at}: {detail}. "
                          f"Check the file in Vensim (or Stella for XMILE), or fix it at that place.")
