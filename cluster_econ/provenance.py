"""Provenance: where a result came from, so it can be cited and re-run.

Every panel, estimate and simulation carries a frozen :class:`Provenance` record with the versions
of the packages that produced it, the dataset and model it used (with their sha256), the seed and
the parameters changed from their defaults.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import hashlib
import importlib.metadata
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._frozen import FrozenMapping, reduce_frozen

__all__ = ["Provenance", "cite", "file_sha256", "package_versions", "show_versions"]

#: Packages whose versions every provenance record carries.
TRACKED_PACKAGES = (
    "cluster-econ", "numpy", "pandas", "scipy", "statsmodels", "linearmodels", "pysd", "xarray",
)


@functools.cache
def _installed_versions() -> tuple[tuple[str, str], ...]:
    """The tracked packages' versions, looked up once per process (each look-up scans the installed metadata)."""
    versions = [("python", platform.python_version())]
    for name in TRACKED_PACKAGES:
        try:
            versions.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            versions.append((name, "not installed"))
    return tuple(versions)


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that determine cluster_econ's results."""
    return dict(_installed_versions())


def show_versions() -> str:
    """Return the versions of Python and of the packages cluster_econ relies on, one per line.

    Examples
    --------
    >>> import cluster_econ as ce
    >>> print(ce.show_versions())  # doctest: +ELLIPSIS
    python ...
    cluster-econ ...
    """
    versions = package_versions()
    versions["platform"] = platform.platform()
    width = max(map(len, versions))
    return "\n".join(f"{name:<{width}}  {version}" for name, version in versions.items())


def file_sha256(path: str | Path) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return FrozenMapping(mapping)


@dataclasses.dataclass(frozen=True)
class Provenance:
    __reduce__ = reduce_frozen  # picklable despite its read-only mappings

    """Where an object came from.

    Attributes
    ----------
    created : str
        Creation time, ISO 8601 in UTC. Never shown in summaries, so reruns diff clean.
    versions : Mapping[str, str]
        Versions of Python and the tracked packages.
    dataset, dataset_sha256 : str or None
        Name of the dataset used and the sha256 of its CSV (or of the frame's contents).
    model_id, model_version, model_sha256 : str or None
        The system-dynamics model used, its semantic version and the sha256 of its source.
    seed : int or None
        The seed of any random draw.
    changed_parameters : Mapping[str, Any]
        Model parameters changed from their defaults.
    details : Mapping[str, Any]
        Anything else that determines the result (estimator, formula, covariance type, ...).
    """

    created: str
    versions: Mapping[str, str]
    dataset: str | None = None
    dataset_sha256: str | None = None
    model_id: str | None = None
    model_version: str | None = None
    model_sha256: str | None = None
    seed: int | None = None
    changed_parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("versions", "changed_parameters", "details"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @classmethod
    def capture(cls, **fields: Any) -> Provenance:
        """A record stamped with the current time and package versions, plus ``fields``."""
        created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        return cls(created=created, versions=package_versions(), **fields)

    def replace(self, **fields: Any) -> Provenance:
        """A copy with ``fields`` replaced; ``details`` are merged rather than replaced."""
        if "details" in fields:
            fields["details"] = {**self.details, **fields["details"]}
        return dataclasses.replace(self, **fields)

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dictionary."""
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = dict(value) if isinstance(value, Mapping) else value
        return out

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Provenance:
        """The record :meth:`to_dict` wrote (unknown keys are refused)."""
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(record) - names)
        if unknown or "created" not in record or "versions" not in record:
            from .errors import SpecError

            raise SpecError(f"Not a provenance record (unknown keys {unknown}, or no 'created'/'versions').")
        return cls(**dict(record))

    @classmethod
    def from_json(cls, text: str) -> Provenance:
        """The record of :meth:`to_dict` written as JSON (as results carry it in ``attrs['provenance']``)."""
        import json

        from .errors import SpecError

        try:
            record = json.loads(text)
        except ValueError as exc:
            raise SpecError(f"The provenance record is not valid JSON ({exc}).") from exc
        if not isinstance(record, dict):
            raise SpecError("The provenance record is not a JSON object.")
        return cls.from_dict(record)

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs for a summary table: everything but the creation time."""
        rows: list[tuple[str, str]] = []
        if self.dataset:
            rows.append(("Dataset:", self.dataset))
        if self.dataset_sha256:
            rows.append(("Data sha256:", self.dataset_sha256[:12]))
        if self.model_id:
            rows.append(("Model:", f"{self.model_id} {self.model_version or ''}".strip()))
        if self.model_sha256:
            rows.append(("Model sha256:", self.model_sha256[:12]))
        if self.seed is not None:
            rows.append(("Seed:", str(self.seed)))
        rows.append(("cluster_econ:", self.versions.get("cluster-econ", "?")))
        return rows


def cite(obj: Any) -> str:
    """A methods sentence and BibTeX entries for a result or a model.

    Parameters
    ----------
    obj : result, SDModel, Provenance, or a ``simulate_batch`` Dataset
        Anything with a ``provenance`` record: a panel, an estimate, a run, a batch, a calibration, a
        sweep; or a model.

    Returns
    -------
    str
        One sentence saying what was run (model id, version and short sha256, engine and method,
        horizon, the parameters changed or the sweep spec, the dataset and its original study, the
        estimator, the seed, the package versions), then BibTeX entries: ``@software`` for
        cluster_econ (as ``CITATION.cff``) and for the model version (with its sha256), and the
        original study of every dataset (``@article``, ``@incollection``, ``@book``, ...).

    Examples
    --------
    >>> import cluster_econ as ce
    >>> print(ce.cite(ce.load_model("regional_cluster")))  # doctest: +SKIP
    """
    from ._cite import cite_object

    return cite_object(obj)
