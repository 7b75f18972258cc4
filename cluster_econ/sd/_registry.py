"""The model registry: the ``models/<id>/`` folders, their ``model.toml`` and version immutability.

A registered model lives in ``models/<id>/<id>.mdl`` next to a ``model.toml`` that records its semantic
version and the sha256 of the ``.mdl`` bytes. A released version is immutable: a ``.mdl`` whose bytes no
longer match the recorded hash is refused until the version is bumped and the hash re-recorded with
:func:`record_model_hash`.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._bundled_paths import bundled_dir
from ..errors import ModelVersionError, SpecError, unknown_name
from ..provenance import file_sha256

__all__ = ["list_models", "models_dir", "record_model_hash"]

#: Suffixes of the model source files PySD translates.
SOURCE_SUFFIXES = (".mdl", ".xmile", ".xml", ".stmx")

_TOML = "model.toml"


def models_dir() -> Path:
    """The folder holding the registered models.

    ``$CLUSTER_ECON_MODELS`` if set, else the models installed with the package, else the ``models/``
    folder of the source tree (an editable install).
    """
    env = os.environ.get("CLUSTER_ECON_MODELS")
    if env:
        return Path(env).expanduser()
    return bundled_dir("models")


@dataclass(frozen=True)
class RegistryEntry:
    """What ``model.toml`` says about one registered model."""

    id: str
    folder: Path
    source: Path
    version: str
    mdl_sha256: str
    description: str
    parameters: tuple[dict[str, Any], ...] = ()
    history: tuple[dict[str, Any], ...] = field(default=())
    indicators: tuple[tuple[str, str], ...] = ()

    @property
    def known_versions(self) -> list[str]:
        versions = [str(row.get("version")) for row in self.history]
        return versions if self.version in versions else [*versions, self.version]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path} is not valid TOML: {exc}. Fix the file.") from exc


def _source_file(folder: Path, model_id: str) -> Path:
    for suffix in SOURCE_SUFFIXES:
        candidate = folder / f"{model_id}{suffix}"
        if candidate.is_file():
            return candidate
    raise SpecError(
        f"Model folder {folder} has a {_TOML} but no {model_id}.mdl (or .xmile): "
        f"add the model source file named after the folder."
    )


def read_entry(folder: Path) -> RegistryEntry:
    """Read and check ``folder/model.toml``."""
    toml_path = folder / _TOML
    meta = _read_toml(toml_path)
    missing = [key for key in ("id", "version", "mdl_sha256") if key not in meta]
    if missing:
        raise SpecError(f"{toml_path} lacks the required key(s) {missing}: add them (see models/README.md).")
    model_id = str(meta["id"])
    if model_id != folder.name:
        raise SpecError(
            f"{toml_path} declares id {model_id!r} but lives in folder {folder.name!r}: "
            f"the id must equal the folder name."
        )
    return RegistryEntry(
        id=model_id,
        folder=folder,
        source=_source_file(folder, model_id),
        version=str(meta["version"]),
        mdl_sha256=str(meta["mdl_sha256"]),
        description=str(meta.get("description", "")).strip(),
        parameters=tuple(dict(row) for row in meta.get("parameter", [])),
        history=tuple(dict(row) for row in meta.get("history", [])),
        indicators=_indicators(meta.get("indicators", {}), toml_path),
    )


def _indicators(table: Any, toml_path: Path) -> tuple[tuple[str, str], ...]:
    """The ``[indicators]`` table (role -> variable name) as sorted pairs; SpecError if it is malformed."""
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise SpecError(f"[indicators] in {toml_path} must map roles to variable names, e.g. jobs = \"employment\".")
    return tuple(sorted((str(k), str(v)) for k, v in table.items()))


def _model_folders() -> list[Path]:
    root = models_dir()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / _TOML).is_file())


def registered_ids() -> list[str]:
    """Ids of the registered models (folder names), sorted."""
    return [p.name for p in _model_folders()]


def find_entry(model_id: str) -> RegistryEntry:
    """The registry entry of ``model_id``; :class:`UnknownNameError` with did-you-mean if absent."""
    folder = models_dir() / model_id
    if not (folder / _TOML).is_file():
        raise unknown_name(model_id, registered_ids(), "registered model", where=str(models_dir()))
    return read_entry(folder)


def list_models() -> pd.DataFrame:
    """The registered system-dynamics models.

    Returns
    -------
    pandas.DataFrame
        One row per model with columns ``id``, ``version``, ``description`` and ``path`` (the model
        source file), sorted by id. Models live in ``models/<id>/`` of the source tree, or in
        ``$CLUSTER_ECON_MODELS`` if that environment variable is set.

    Examples
    --------
    >>> import cluster_econ as ce
    >>> models = ce.list_models()
    >>> list(models.columns[:2]), "regional_cluster" in set(models["id"])
    (['id', 'version'], True)
    """
    rows = []
    for folder in _model_folders():
        entry = read_entry(folder)
        rows.append({"id": entry.id, "version": entry.version, "description": entry.description,
                     "path": str(entry.source)})
    return pd.DataFrame(rows, columns=["id", "version", "description", "path"])


def check_version(entry: RegistryEntry, version: str | None) -> str:
    """Check the requested version and the source file's hash; return the file's sha256.

    Raises
    ------
    ModelVersionError
        If ``version`` is not the entry's version (see :func:`entry_for_version` for older ones), or
        the source file's bytes differ from the hash recorded in ``model.toml``.
    """
    if version is not None and str(version) != entry.version:
        known = ", ".join(entry.known_versions)
        raise ModelVersionError(
            f"{entry.id} has no loadable version {version!r}; the current version is {entry.version} "
            f"(known versions from [[history]] in {entry.folder / _TOML}: {known}). "
            f"Use version=None or one of the known versions."
        )
    actual = file_sha256(entry.source)
    released = [str(row.get("mdl_sha256")) for row in entry.history if str(row.get("version")) == entry.version]
    if actual == entry.mdl_sha256 and released and any(sha != actual for sha in released):
        raise ModelVersionError(
            f"{entry.id} {entry.version} was released with sha256 {released[0]} (its [[history]] row in "
            f"{entry.folder / _TOML}), but {entry.source} and the top-level mdl_sha256 now say {actual}: "
            f"the hash was re-recorded without a version bump. A released model version is immutable: "
            f"bump `version` and run cluster_econ.sd.record_model_hash({str(entry.folder)!r})."
        )
    if actual == entry.mdl_sha256 and not released:
        raise ModelVersionError(
            f"{entry.folder / _TOML} has no [[history]] row for its current version {entry.version}: "
            f"run cluster_econ.sd.record_model_hash({str(entry.folder)!r}) to append it."
        )
    if actual != entry.mdl_sha256:
        raise ModelVersionError(
            f"{entry.source} was changed without a version bump: its sha256 is {actual} but "
            f"{entry.folder / _TOML} records mdl_sha256 = {entry.mdl_sha256} for {entry.id} "
            f"{entry.version}. A released model version is immutable. Either revert the edit, or bump "
            f"`version` in model.toml and run cluster_econ.sd.record_model_hash({str(entry.folder)!r}), "
            f"which re-records mdl_sha256 and appends the [[history]] row for the new version."
        )
    return actual


VERSIONS = "versions"


def entry_for_version(entry: RegistryEntry, version: str | None) -> RegistryEntry:
    """The entry of a released version: ``entry`` itself for None or the current version, else the files
    ``versions/<version>.mdl`` and ``versions/<version>.toml`` (that release's ``model.toml``).

    Raises
    ------
    ModelVersionError
        If ``version`` is not in ``[[history]]``, its files are missing, or the kept ``.mdl`` does not have
        the sha256 its ``[[history]]`` row records.
    """
    if version is None or str(version) == entry.version:
        return entry
    version = str(version)
    rows = [row for row in entry.history if str(row.get("version")) == version]
    known = ", ".join(entry.known_versions)
    if not rows:
        raise ModelVersionError(
            f"{entry.id} has no loadable version {version!r}; the current version is {entry.version} "
            f"(known versions from [[history]] in {entry.folder / _TOML}: {known}). "
            f"Use version=None or one of the known versions."
        )
    folder = entry.folder / VERSIONS
    suffix = entry.source.suffix
    source, meta_path = folder / f"{version}{suffix}", folder / f"{version}.toml"
    missing = [p.name for p in (source, meta_path) if not p.is_file()]
    if missing:
        raise ModelVersionError(
            f"{entry.id} has no loadable version {version!r}: {', '.join(missing)} missing from {folder} "
            f"(known versions from [[history]] in {entry.folder / _TOML}: {known}). Keep the source file and "
            f"model.toml of every released version there, as versions/<version>{suffix} and "
            f"versions/<version>.toml."
        )
    recorded = str(rows[0].get("mdl_sha256"))
    actual = file_sha256(source)
    if actual != recorded:
        raise ModelVersionError(
            f"{source} has sha256 {actual}, but {entry.id} {version} was released with sha256 {recorded} "
            f"(its [[history]] row in {entry.folder / _TOML}): the kept copy was changed. Restore it from "
            f"the release (git history)."
        )
    meta = _read_toml(meta_path)
    return RegistryEntry(
        id=entry.id, folder=entry.folder, source=source, version=version, mdl_sha256=recorded,
        description=str(meta.get("description", entry.description)).strip(),
        parameters=tuple(dict(row) for row in meta.get("parameter", [])),
        history=tuple(entry.history),
    )


_TOP_HASH = re.compile(r'^mdl_sha256\s*=\s*"[^"]*"[ \t]*$', re.MULTILINE)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record_model_hash(model_dir: str | Path) -> str:
    """Record the sha256 of a registered model's source file in its ``model.toml``.

    Run it after bumping ``version`` in ``model.toml`` for an edited ``.mdl``: it writes the file's
    sha256 into the top-level ``mdl_sha256`` and appends a ``[[history]]`` row for the new version
    (or leaves the row as is if it already records this hash). The file is rewritten atomically and
    nothing else in it changes.

    Parameters
    ----------
    model_dir : str or Path
        The model folder, ``models/<id>/``, holding ``model.toml`` and ``<id>.mdl``.

    Returns
    -------
    str
        The recorded sha256.

    Raises
    ------
    ModelVersionError
        If the ``[[history]]`` row of the current version already records a different hash: that
        version was released with other bytes, so bump ``version`` first.
    """
    folder = Path(model_dir)
    toml_path = folder / _TOML
    if not toml_path.is_file():
        raise SpecError(f"{folder} has no {_TOML}: pass a model folder such as 'models/sme_growth'.")
    entry = read_entry(folder)
    actual = file_sha256(entry.source)
    rows = [row for row in entry.history if str(row.get("version")) == entry.version]
    for row in rows:
        if str(row.get("mdl_sha256")) != actual:
            raise ModelVersionError(
                f"{entry.id} {entry.version} was released with sha256 {row.get('mdl_sha256')} (its "
                f"[[history]] row in {toml_path}), but {entry.source.name} now has sha256 {actual}. "
                f"A released version is immutable: bump `version` in {toml_path} and call "
                f"record_model_hash again."
            )
    text = toml_path.read_text(encoding="utf-8")
    line = f'mdl_sha256 = "{actual}"'
    first_table = re.search(r"^\s*\[", text, re.MULTILINE)
    head_end = first_table.start() if first_table else len(text)
    head, tail = text[:head_end], text[head_end:]
    if _TOP_HASH.search(head):
        head = _TOP_HASH.sub(line, head, count=1)
    else:
        head = re.sub(r'^(version\s*=.*)$', lambda m: m.group(1) + "\n" + line, head, count=1,
                      flags=re.MULTILINE)
    text = head + tail
    if not rows:
        text = text.rstrip("\n") + f'\n\n[[history]]\nversion = "{entry.version}"\n{line}\n'
    _write_atomic(toml_path, text)
    return actual
