"""RegionalPanel: a validated entity-by-time panel with units and provenance."""

from __future__ import annotations

import dataclasses
import hashlib
import html
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .._frozen import FrozenMapping, copied_payloads, reduce_frozen
from ..errors import DataValidationError, SpecError, unknown_name
from ..provenance import Provenance
from . import _validate

__all__ = ["PanelDescription", "RegionalPanel"]


def _frame_sha256(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    digest.update(repr((list(frame.index.names), [str(c) for c in frame.columns])).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def _require_frame(df: Any) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"from_frame() needs a pandas DataFrame; got {type(df).__name__}.")


def _index_levels(df: pd.DataFrame) -> tuple[str, str]:
    """The (entity, time) names of a frame indexed by two named levels; SpecError otherwise."""
    names = list(df.index.names)
    if len(names) != 2 or not all(isinstance(n, str) and n for n in names):
        shown = "an unnamed index" if names == [None] else f"index levels {names}"
        raise SpecError(f"from_frame() needs entity= and time=, the columns naming the region and the period "
                        f"(e.g. entity='state', time='year'); the frame has {shown}, not two named levels "
                        "(entity, time) to take them from.")
    return names[0], names[1]


@dataclasses.dataclass(frozen=True, eq=False)
class RegionalPanel:
    """A panel of entities (regions, firms, cities) observed over integer time periods.

    Build one with :func:`cluster_econ.load_dataset` or :meth:`RegionalPanel.from_frame`; both validate
    the data. The frame is sorted by entity and time and indexed by both.

    Attributes
    ----------
    frame : pandas.DataFrame
        The variables, indexed by a (entity, time) MultiIndex. A copy is returned, so changing it
        never changes the panel.
    entity, time : str
        Names of the entity and time index levels.
    units : Mapping[str, str]
        Unit of each variable ("" where unknown).
    name : str or None
        Dataset name.
    provenance : Provenance
        Dataset name and sha256, package versions, creation time.
    metadata : Mapping[str, Any]
        Title, citation, licence, variable descriptions (bundled datasets).

    Examples
    --------
    >>> import cluster_econ as ce
    >>> panel = ce.load_dataset("us_states")
    >>> panel.entity, panel.time, len(panel.frame)
    ('state', 'year', 816)
    >>> float(panel.lag("gsp").loc[("ALABAMA", 1971)])
    28418.0

    Columns that hold labels rather than numbers (region names, ``"yes"``/``"no"`` flags) are kept
    as categorical labels; ``C(region)`` in a formula makes dummies of them, and using one as a
    number raises a :class:`~cluster_econ.errors.DataValidationError` naming it.
    """

    __reduce__ = reduce_frozen  # picklable despite its read-only mappings

    _frame: pd.DataFrame
    entity: str
    time: str
    units: Mapping[str, str]
    name: str | None
    provenance: Provenance
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", MappingProxyType(dict(self.units)))
        object.__setattr__(self, "metadata", FrozenMapping(self.metadata))  # nested tables handed out as copies

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        entity: str | None = None,
        time: str | None = None,
        units: Mapping[str, str] | None = None,
        dropna: bool = False,
        name: str | None = None,
    ) -> RegionalPanel:
        """Validate a long-format frame and build a panel.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per (entity, time); the two may also be index levels.
        entity, time : str, optional
            Columns (or index levels) naming the entity and the integer time period. Left out, they are
            the two levels of ``df``'s index, as linearmodels takes a panel (entity, then time).
        units : mapping, optional
            Unit of each variable.
        dropna : bool, default False
            Drop rows with a missing value in any variable (and say how many). By default missing
            values are kept and a :class:`~cluster_econ.errors.MissingDataWarning` gives counts per column.
        name : str, optional
            A name for the data, used in messages and provenance.

        Raises
        ------
        DataValidationError
            Empty frame, a column name that appears twice, duplicate (entity, time) rows, non-integer
            time, infinite values, complex numbers.
        UnknownNameError
            ``entity`` or ``time`` is not a column.
        SpecError
            ``entity`` or ``time`` is not a column name (a string), or both name the same column.

        Notes
        -----
        Columns are kept as they come: numbers (the nullable ``Int64``, ``Float64`` and ``boolean``
        dtypes too, their NA counted as missing), and everything else (strings, ``"yes"``/``"no"``
        flags, region names) as categorical labels, which ``describe()`` lists. A label column is
        checked where it is used as a number (a formula term, a model target), not here. Column
        names that are not strings (``5``) become strings (``"5"``).
        """
        _require_frame(df)
        if entity is None and time is None:
            entity, time = _index_levels(df)
        if entity is None or time is None:
            given = "entity" if time is None else "time"
            raise SpecError(f"from_frame() got {given}= but not {'time' if given == 'entity' else 'entity'}=; "
                            "give both (e.g. entity='state', time='year'), or neither for a frame indexed by "
                            "(entity, time).")
        return cls._build(df, entity=entity, time=time, units=units, dropna=dropna, name=name)

    @classmethod
    def _build(
        cls,
        df: pd.DataFrame,
        *,
        entity: str,
        time: str,
        units: Mapping[str, str] | None,
        dropna: bool,
        name: str | None,
        provenance: Provenance | None = None,
        metadata: Mapping[str, Any] | None = None,
        warn_missing: bool = True,
    ) -> RegionalPanel:
        _require_frame(df)
        for role, column in (("entity", entity), ("time", time)):
            if not isinstance(column, str):
                raise SpecError(
                    f"{role} must be a column name (a string such as 'state'); got {type(column).__name__} "
                    f"{column!r}."
                )
        if entity == time:
            raise SpecError(f"entity and time must be different columns; both are {entity!r}.")
        label = f"{name}: " if name else ""
        _validate.check_unique_columns(df, name=name)
        df = df.set_axis([str(c) for c in df.columns], axis=1)  # names such as 5 become '5', as in messages
        if df.empty:
            raise DataValidationError(f"{label}the frame is empty; a panel needs at least one observation.")
        df = _validate.require_columns(df, {"entity": entity, "time": time}, name=name)
        _validate.check_entities(df[entity], column=entity, name=name)
        times = _validate.time_as_integer(df[time], column=time, name=name)
        df = df.assign(**{time: times})
        _validate.check_duplicates(df, entity, time, name=name)
        variables = [str(c) for c in df.columns if c not in (entity, time)]
        values = _validate.panel_variables(df, variables, keys=(entity, time), name=name)
        if warn_missing or dropna:
            keep = _validate.handle_missing(values, dropna=dropna, name=name)
            values, df = values[keep], df[keep]
        if values.empty and variables:
            raise DataValidationError(f"{label}no complete rows are left after dropping missing values.")
        index = pd.MultiIndex.from_arrays([df[entity].to_numpy(), df[time].to_numpy()], names=[entity, time])
        frame = values.set_axis(index).sort_index(kind="mergesort")
        unknown_units = sorted(set(units or {}) - set(variables))
        if unknown_units:
            raise unknown_name(unknown_units[0], variables, "variable", where=name or "the frame")
        unit_map = {v: str((units or {}).get(v, "")) for v in variables}
        if provenance is None:
            provenance = Provenance.capture(dataset=name, dataset_sha256=_frame_sha256(frame))
        return cls(frame, entity, time, unit_map, name, provenance, metadata or {})

    # ------------------------------------------------------------------ access
    @property
    def frame(self) -> pd.DataFrame:
        return self._frame.copy()

    @property
    def variables(self) -> list[str]:
        """Names of the variables (columns of :attr:`frame`)."""
        return [str(c) for c in self._frame.columns]

    @property
    def entities(self) -> pd.Index:
        return self._frame.index.get_level_values(0).unique()

    @property
    def periods(self) -> np.ndarray:
        """Sorted distinct time periods."""
        return np.sort(self._frame.index.get_level_values(1).unique().to_numpy())

    def __len__(self) -> int:
        return len(self._frame)

    def __repr__(self) -> str:
        return (
            f"<RegionalPanel {self.name or ''} {len(self.entities)} {self.entity} x {len(self.periods)} "
            f"{self.time}, {len(self)} observations, {len(self.variables)} variables>"
        ).replace("<RegionalPanel  ", "<RegionalPanel ")

    def equals(self, other: RegionalPanel) -> bool:
        """True when both panels hold the same data, names and units."""
        return (
            isinstance(other, RegionalPanel)
            and (self.entity, self.time, dict(self.units)) == (other.entity, other.time, dict(other.units))
            and self._frame.equals(other._frame)
        )

    @property
    def labels(self) -> list[str]:
        """Names of the variables that hold categorical labels rather than numbers."""
        return _validate.label_columns(self._frame)

    def _column(self, column: str) -> pd.Series:
        if column not in self._frame.columns:
            raise unknown_name(column, self.variables, "variable", where=self.name or "the panel")
        return self._frame[column]

    def numeric(self, column: str, *, purpose: str = "") -> pd.Series:
        """``column`` as float64 numbers (NaN where missing), indexed like :attr:`frame`.

        Parameters
        ----------
        column : str
            A variable of the panel.
        purpose : str, optional
            Where the number is used, for the message ("as a model target", "in 'y ~ x'").

        Raises
        ------
        UnknownNameError
            ``column`` is not a variable (with a did-you-mean).
        DataValidationError
            ``column`` holds labels, not numbers; the message shows examples and suggests ``C()``.
        """
        return _validate.as_number(
            self._column(column), column=column, name=self.name, purpose=purpose or "there"
        ).copy()

    # ------------------------------------------------------------------ time operations
    def lag(self, column: str, k: int = 1) -> pd.Series:
        """Value of ``column`` k periods earlier for the same entity (NaN across gaps and at the start).

        A lag looks up the period ``t - k`` itself, so in an unbalanced panel with a gap the lag is
        missing, never the previous row. Negative ``k`` gives leads.
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise SpecError(f"lag order k must be an integer; got {k!r}.")
        values = self._column(column)
        periods = self.periods
        span = int(periods[-1] - periods[0])
        if abs(int(k)) > span:
            raise SpecError(
                f"lag order k={int(k)} of {column!r} is longer than the {span} periods between the first and last "
                f"{self.time} of {self.name or 'the panel'} ({int(periods[0])}-{int(periods[-1])}): every value "
                "would be missing. Use a lag within the span of the data."
            )
        index = self._frame.index
        shifted_index = pd.MultiIndex.from_arrays(
            [index.get_level_values(0), index.get_level_values(1) + int(k)], names=index.names
        )
        shifted = pd.Series(values.array, index=shifted_index)
        return shifted.reindex(index).rename(f"lag({column}, {k})")

    def diff(self, column: str, k: int = 1) -> pd.Series:
        """``column`` minus its gap-aware lag of order k."""
        lagged = self.lag(column, k)
        return (self.numeric(column, purpose="in diff()") - lagged.astype(float)).rename(f"diff({column}, {k})")

    # ------------------------------------------------------------------ description
    def describe(self) -> PanelDescription:
        """Entities, periods, balance, gaps and missing values per variable."""
        index = self._frame.index
        times = index.get_level_values(1).to_numpy()
        periods = self.periods
        steps = np.diff(periods)
        step = math.gcd(*map(int, steps)) if len(steps) else 1
        per_entity = pd.Series(times, index=index.get_level_values(0)).groupby(level=0, sort=True)
        span = (per_entity.max() - per_entity.min()) // step + 1
        gaps = span[span > per_entity.size()].index.tolist()
        labels = set(self.labels)
        numbers = [v for v in self.variables if v not in labels]
        stats = self._frame[numbers].describe().T if numbers else pd.DataFrame(columns=["mean", "std", "min", "max"])
        stats = stats.reindex(self.variables)
        kinds = [
            f"label ({len(self._frame[v].cat.categories)} levels)" if v in labels else "number" for v in self.variables
        ]
        table = pd.DataFrame(
            {
                "kind": kinds,
                "unit": [self.units.get(v, "") for v in self.variables],
                "missing": self._frame.isna().sum().reindex(self.variables).to_numpy(),
                "mean": stats.get("mean"),
                "std": stats.get("std"),
                "min": stats.get("min"),
                "max": stats.get("max"),
            },
            index=pd.Index(self.variables, name="variable"),
        )
        return PanelDescription(
            name=self.name,
            title=str(self.metadata.get("title", "")),
            entity=self.entity,
            time=self.time,
            entities=len(self.entities),
            periods=len(periods),
            first=int(periods[0]),
            last=int(periods[-1]),
            observations=len(self),
            balanced=len(self) == len(self.entities) * len(periods),
            entities_with_gaps=tuple(gaps),
            variables=table,
            sha256=self.provenance.dataset_sha256 or "",
            labels=tuple(v for v in self.variables if v in labels),
        )


def _fmt(x: float) -> str:
    return f"{x:,.2f}" if abs(x) < 1e9 else f"{x:.4g}"


@copied_payloads("variables")
@dataclasses.dataclass(frozen=True, eq=False)
class PanelDescription:
    """What :meth:`RegionalPanel.describe` reports; prints as text and renders as HTML."""

    name: str | None
    title: str
    entity: str
    time: str
    entities: int
    periods: int
    first: int
    last: int
    observations: int
    balanced: bool
    entities_with_gaps: tuple[Any, ...]
    variables: pd.DataFrame
    sha256: str
    labels: tuple[str, ...] = ()

    def headline(self) -> str:
        balance = "balanced" if self.balanced else "unbalanced"
        return (
            f"{self.entities} entities ({self.entity}), {self.periods} periods ({self.time} {self.first}-"
            f"{self.last}), {self.observations} observations, {balance}"
        )

    def _gaps(self) -> str:
        if not self.entities_with_gaps:
            return "none"
        shown = ", ".join(map(str, self.entities_with_gaps[:5]))
        more = f", ... ({len(self.entities_with_gaps)} in all)" if len(self.entities_with_gaps) > 5 else ""
        return shown + more

    def _labels(self) -> str:
        if not self.labels:
            return "none"
        return ", ".join(self.labels) + " (kept as categories: C(x) in a formula makes dummies)"

    def __str__(self) -> str:
        title = f"{self.name}: {self.title}" if self.name else "panel"
        table = self.variables.to_string(float_format=_fmt)
        return "\n".join(
            [
                title.rstrip(": "),
                self.headline(),
                f"entities with gaps in time: {self._gaps()}",
                f"label columns: {self._labels()}",
                f"sha256: {self.sha256}",
                "",
                table,
            ]
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        title = f"<b>{esc(str(self.name))}</b>: {esc(self.title)}" if self.name else "<b>panel</b>"
        return (
            f"<p>{title}<br>{esc(self.headline())}<br>entities with gaps in time: {esc(self._gaps())}<br>"
            f"label columns: {esc(self._labels())}</p>"
            + self.variables.to_html(float_format=_fmt)
        )
