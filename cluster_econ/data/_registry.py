"""The bundled datasets: ``data/<name>.csv`` with its ``data/<name>.toml`` metadata."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from .._bundled_paths import bundled_dir
from ..errors import DataValidationError, SpecError, unknown_name
from ..provenance import Provenance, file_sha256
from ._panel import RegionalPanel

__all__ = ["data_dir", "list_datasets", "load_dataset"]


def data_dir() -> Path:
    """Folder of the bundled datasets.

    ``$CLUSTER_ECON_DATA`` if set, else the datasets installed with the package, else the ``data/``
    folder of the source tree (an editable install).
    """
    override = os.environ.get("CLUSTER_ECON_DATA")
    return Path(override) if override else bundled_dir("data")


def _names() -> list[str]:
    return sorted(p.stem for p in data_dir().glob("*.toml"))


def _metadata(name: str) -> dict[str, Any]:
    if not isinstance(name, str):
        raise SpecError(f"A dataset name is a string such as 'us_states'; got {type(name).__name__} {name!r}.")
    if not name.isidentifier():
        error = unknown_name(name, _names(), "dataset")
        raise type(error)(
            f"{error} Dataset names are plain identifiers such as 'us_states', not paths; to use a file of your own, "
            "read it with pandas and build the panel with ce.RegionalPanel.from_frame(df, entity=..., time=...)."
        )
    path = data_dir() / f"{name}.toml"
    if name not in _names():  # never asks the file system about a name (one too long for a file name)
        error = unknown_name(name, _names(), "dataset")
        raise type(error)(f"{error} Available datasets: {', '.join(_names())}.")
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def load_dataset(name: str) -> RegionalPanel:
    """Load a bundled panel dataset, checking its file against the recorded sha256.

    Parameters
    ----------
    name : str
        One of the names in :func:`list_datasets` (``us_states``, ``uk_firms``, ``firm_patents``,
        ``mi_training_grants``, ``in_enterprise_zones``, ``grunfeld``).

    Returns
    -------
    RegionalPanel
        Validated, with units, the dataset's citation in ``metadata`` and its sha256 in ``provenance``.
        Missing values that the dataset documents are kept without a warning; ``describe()`` counts them.

    Raises
    ------
    UnknownNameError
        No such dataset (with a did-you-mean and the list of datasets).
    DataValidationError
        The CSV's bytes differ from the sha256 recorded in its TOML.

    Examples
    --------
    >>> import cluster_econ as ce
    >>> ce.load_dataset("us_states").describe().headline()
    '48 entities (state), 17 periods (year 1970-1986), 816 observations, balanced'
    """
    meta = _metadata(name)
    csv_path = data_dir() / f"{name}.csv"
    actual = file_sha256(csv_path)
    if actual != meta["sha256"]:
        raise DataValidationError(
            f"{csv_path} has sha256 {actual}, but {name}.toml records {meta['sha256']}: the file was changed. "
            f"Restore it (`git checkout -- data/{name}.csv`), or, if the change is deliberate, re-record the "
            f"hash with `python scripts/build_datasets.py --rehash {name}` and document the change."
        )
    variables = meta.get("variables", {})
    entity, time = meta["entity"], meta["time"]
    frame = pd.read_csv(csv_path)
    units = {v: spec.get("unit", "") for v, spec in variables.items() if v not in (entity, time)}
    provenance = Provenance.capture(
        dataset=name, dataset_sha256=actual, details={"dataset_citation": meta.get("citation", "")}
    )
    return RegionalPanel._build(
        frame,
        entity=entity,
        time=time,
        units=units,
        dropna=False,
        name=name,
        provenance=provenance,
        metadata=meta,
        warn_missing=False,
    )


def list_datasets() -> pd.DataFrame:
    """The bundled datasets: name, title, entities, periods, observations, citation."""
    rows = []
    for name in _names():
        meta = _metadata(name)
        rows.append({key: meta.get(key) for key in ("name", "title", "entities", "periods", "observations")}
                    | {"citation": meta.get("citation")})
    return pd.DataFrame(rows, columns=["name", "title", "entities", "periods", "observations", "citation"])
