"""Validation of a panel frame: the checks behind :meth:`RegionalPanel.from_frame`."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import DataValidationError, MissingDataWarning, find_stack_level, plain, unknown_name

_SHOW = 5


def _label(name: str | None) -> str:
    return f"{name}: " if name else ""


def require_columns(df: pd.DataFrame, columns: dict[str, str], *, name: str | None) -> pd.DataFrame:
    """Move index levels named like ``columns`` into columns; raise for any that is missing."""
    index_names = [n for n in df.index.names if n is not None]
    if any(col in index_names for col in columns.values()):
        df = df.reset_index(level=[n for n in index_names if n in columns.values()])
    for role, column in columns.items():
        if column not in df.columns:
            raise unknown_name(column, [str(c) for c in df.columns], f"{role} column", where=name or "the frame")
    return df


def time_as_integer(values: pd.Series, *, column: str, name: str | None) -> pd.Series:
    """Integer time periods, or a :class:`DataValidationError` naming the offending values."""
    if values.isna().any():
        rows = values.index[values.isna()][:_SHOW].tolist()
        raise DataValidationError(
            f"{_label(name)}time column {column!r} has {int(values.isna().sum())} missing values "
            f"(rows {rows}). Every observation needs a time period."
        )
    if pd.api.types.is_datetime64_any_dtype(values) or isinstance(values.dtype, pd.PeriodDtype):
        raise DataValidationError(
            f"{_label(name)}time column {column!r} must hold integer periods (e.g. years); found dates "
            f"({values.dtype}). Convert them with `df[{column!r}] = df[{column!r}].dt.year`."
        )
    if pd.api.types.is_bool_dtype(values):
        raise DataValidationError(
            f"{_label(name)}time column {column!r} holds booleans; it must hold integer periods (e.g. years)."
        )
    if not pd.api.types.is_numeric_dtype(values):
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.isna().any():
            bad = pd.unique(values[numeric.isna()])[:_SHOW].tolist()
            raise DataValidationError(
                f"{_label(name)}time column {column!r} must hold integer periods (e.g. years); "
                f"found {bad}. Convert dates with `df[{column!r}] = df[{column!r}].dt.year` or map the "
                f"periods to integers."
            )
        values = numeric
    as_float = values.to_numpy(dtype=float)  # periods beyond int64 come from pd.to_numeric as Python ints
    if np.abs(as_float).max(initial=0) >= 2.0**63:
        raise DataValidationError(
            f"{_label(name)}time column {column!r} holds periods too large for a 64-bit integer (e.g. "
            f"{plain(values[np.abs(as_float) >= 2.0**63].iloc[0])!r}); use years or period numbers."
        )
    if not np.all(np.isfinite(as_float)) or not np.all(np.mod(values, 1) == 0):
        bad = pd.unique(values[~(np.mod(values, 1) == 0)])[:_SHOW].tolist()
        raise DataValidationError(
            f"{_label(name)}time column {column!r} must hold integer periods (e.g. years); found {bad}."
        )
    return values.astype("int64")


def check_entities(values: pd.Series, *, column: str, name: str | None) -> None:
    if values.isna().any():
        raise DataValidationError(
            f"{_label(name)}entity column {column!r} has {int(values.isna().sum())} missing values. "
            "Drop or label those rows before building a panel."
        )
    try:
        sorted(pd.unique(values))
    except TypeError as err:
        types = sorted({type(v).__name__ for v in pd.unique(values)})
        raise DataValidationError(
            f"{_label(name)}entity column {column!r} mixes types {types} that cannot be sorted; "
            f"convert it with `df[{column!r}].astype(str)`."
        ) from err


def check_duplicates(df: pd.DataFrame, entity: str, time: str, *, name: str | None) -> None:
    dup = df.duplicated([entity, time], keep=False)
    if dup.any():
        pairs = df.loc[dup, [entity, time]].drop_duplicates()
        shown = ", ".join(str(tuple(plain(v) for v in p)) for p in pairs.head(_SHOW).itertuples(index=False))
        more = ", ..." if len(pairs) > _SHOW else ""
        raise DataValidationError(
            f"{_label(name)}{int(dup.sum())} rows share {len(pairs)} duplicate ({entity}, {time}) pairs: "
            f"{shown}{more}. Each entity may appear once per period; aggregate or drop the duplicates first."
        )



def check_unique_columns(df: pd.DataFrame, *, name: str | None) -> None:
    """A :class:`DataValidationError` naming every column name that appears more than once."""
    labels = pd.Series([*map(str, df.columns), *(str(n) for n in df.index.names if n is not None)])
    repeated = sorted(set(labels[labels.duplicated()]))
    if repeated:
        shown = ", ".join(repr(c) for c in repeated[:_SHOW])
        raise DataValidationError(
            f"{_label(name)}the column name{'s' if len(repeated) > 1 else ''} {shown} appear"
            f"{'' if len(repeated) > 1 else 's'} more than once (among the columns and index levels); "
            "rename or drop the duplicates, e.g. `df.loc[:, ~df.columns.duplicated()]`."
        )


def _is_label(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return not pd.api.types.is_numeric_dtype(values.cat.categories.dtype)
    return not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values))


def panel_variables(
    df: pd.DataFrame, variables: list[str], *, keys: tuple[str, str], name: str | None
) -> pd.DataFrame:
    """The variables of a panel: numbers as float or int, everything else as categorical labels.

    Booleans (numpy or the nullable ``boolean``) become 0/1; the nullable ``Int64`` and ``Float64``
    become float64 with NaN where they hold NA (int64 when complete); strings that all read as numbers
    become numbers; any other column (``"yes"``/``"no"``, region names, ...) is kept as a categorical
    label with its missing values as NaN. Whether a label is used as a number is checked where it
    is used (:func:`as_number`).
    """
    out = {}
    for column in variables:
        values = df[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            out[column] = values
        elif pd.api.types.is_complex_dtype(values):
            raise DataValidationError(
                f"{_label(name)}column {column!r} holds complex numbers ({values.dtype}); a panel holds real "
                f"numbers or labels. Keep the part you need, e.g. `df[{column!r}] = df[{column!r}].to_numpy().real`."
            )
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            if values.isna().any() or pd.api.types.is_float_dtype(values):
                out[column] = pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=values.index)
            else:
                out[column] = pd.Series(values.to_numpy(dtype="int64"), index=values.index)
        else:
            missing = values.isna()
            numeric = pd.to_numeric(values.astype(object).where(~missing, None), errors="coerce")
            if (missing | numeric.notna()).all():
                out[column] = numeric.astype("float64")
            else:
                labels = values.astype(object).map(lambda v: np.nan if v is None or v is pd.NA or v != v else str(v))
                out[column] = labels.astype("category")
    frame = pd.DataFrame(out, index=df.index)
    for column, values in frame.items():
        if isinstance(values.dtype, pd.CategoricalDtype):
            continue
        infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
        if infinite.any():
            first = tuple(plain(v) for v in df.loc[infinite, list(keys)].iloc[0])
            raise DataValidationError(
                f"{_label(name)}column {column!r} has {int(infinite.sum())} infinite values (e.g. at "
                f"{keys} = {first}); infinities usually come from a log of zero or a division by zero. "
                "Replace them with NaN or fix the transformation."
            )
    return frame


def label_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of a panel frame that hold labels rather than numbers."""
    return [str(c) for c, v in frame.items() if _is_label(v)]


def as_number(values: pd.Series, *, column: str, name: str | None, purpose: str) -> pd.Series:
    """``values`` as float64, or a :class:`DataValidationError` if they are labels, not numbers.

    Used wherever a variable enters a computation as a number (a formula term, a model target);
    ``purpose`` says where ("in 'log(gsp) ~ region'", "as a model target").
    """
    if not _is_label(values):
        return pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=values.index, name=values.name)
    numeric = pd.to_numeric(values.astype(object), errors="coerce")
    bad = values.notna() & numeric.isna()
    examples = sorted(map(str, pd.unique(values[bad].astype(object))))[:_SHOW]
    raise DataValidationError(
        f"{_label(name)}column {column!r} is used as a number {purpose}, but it holds labels: "
        f"{int(bad.sum())} non-numeric values, e.g. {examples}. Use C({column}) for one dummy per level, "
        f"or clean the values and convert the column with `pd.to_numeric(df[{column!r}])`."
    )


def handle_missing(values: pd.DataFrame, *, dropna: bool, name: str | None) -> pd.Series:
    """Rows to keep. Warns with counts per column, or drops the incomplete rows when ``dropna``."""
    missing = values.isna()
    counts = missing.sum()
    counts = counts[counts > 0]
    keep = ~missing.any(axis=1)
    if counts.empty:
        return keep
    per_column = ", ".join(f"{col} {int(n)}" for col, n in counts.items())
    if dropna:
        warnings.warn(
            f"{_label(name)}dropped {int((~keep).sum())} of {len(keep)} rows with missing values ({per_column}).",
            MissingDataWarning,
            stacklevel=find_stack_level(),
        )
        return keep
    warnings.warn(
        f"{_label(name)}missing values per column: {per_column}. Estimators drop incomplete rows; "
        "pass dropna=True to drop them now.",
        MissingDataWarning,
        stacklevel=find_stack_level(),
    )
    return pd.Series(True, index=values.index)
