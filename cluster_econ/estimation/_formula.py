"""A small formula layer for panel regressions.

``"log(gsp) ~ log(pcap) + lag(n, 1) + diff(w) + C(sector) + unemp"`` is parsed with :mod:`ast`
and evaluated on a :class:`~cluster_econ.data.RegionalPanel`. Supported terms:

* a plain column name;
* ``log(e)``: natural logarithm (a non-positive value raises :class:`DataValidationError` naming
  the entity and period);
* ``lag(e, k)``: the value ``k`` periods earlier for the same entity, using ``panel.lag`` so a lag
  across a gap in the periods is missing;
* ``diff(e)`` or ``diff(e, k)``: ``e - lag(e, k)``;
* ``C(x)``: a categorical variable, as dummies for every level but the first, named
  ``"C(x)[T.level]"`` (every level for the first ``C()`` term of a formula without intercept,
  ``"y ~ C(region) - 1"``, as in R and patsy). The entity and time index levels can be used
  too: ``C(year)`` gives period dummies. The levels are those of the estimation sample, after
  the rows with a missing value are dropped: with ``lag(n, 1) + C(year)`` the first year, which
  has no lag, is not the base of the dummies, the first year that remains is, and a level left
  without rows gets no column.

The functions nest (``diff(log(x))``, ``lag(log(x), 2)``): since ``log`` is applied value by
value, every lag is taken of a data column with ``panel.lag``. A term is named exactly as written in
the formula. ``- 1`` or ``+ 0`` removes the intercept.
"""

from __future__ import annotations

import ast
import dataclasses
import reprlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..data import RegionalPanel
from ..data._validate import as_number
from ..errors import DataValidationError, SpecError, did_you_mean, unknown_name
from ._common import plain

__all__ = ["Design", "Term", "build_design", "parse_formula"]

_FUNCTIONS = ("log", "lag", "diff", "C")


@dataclasses.dataclass(frozen=True)
class Term:
    """One right-hand-side term: its text as written and its parsed expression."""

    name: str
    node: ast.expr = dataclasses.field(repr=False, compare=False)

    @property
    def is_categorical(self) -> bool:
        return isinstance(self.node, ast.Call) and _func_name(self.node) == "C"


@dataclasses.dataclass(frozen=True)
class ParsedFormula:
    """A formula split into its dependent expression, terms and intercept flag."""

    formula: str
    dependent: Term
    terms: tuple[Term, ...]
    intercept: bool

    def lag_of_dependent(self, term: Term) -> int | None:
        """If ``term`` is ``lag(<dependent>, k)`` return ``k``, else None."""
        node = term.node
        if isinstance(node, ast.Call) and _func_name(node) == "lag":
            inner, k = _lag_args(node, term.name)
            if ast.dump(inner) == ast.dump(self.dependent.node):
                return k
        return None


@dataclasses.dataclass(frozen=True)
class Design:
    """A formula evaluated on a panel.

    Attributes
    ----------
    y : pandas.Series
        The dependent variable, named as written in the formula.
    exog : pandas.DataFrame
        The regressors (without the intercept), one column per term (per level for ``C()``).
    intercept : bool
        Whether the formula asks for an intercept.
    parsed : ParsedFormula
        The parsed formula.
    term_columns : Mapping[str, tuple[str, ...]]
        The columns of ``exog`` that each term produced.
    """

    y: pd.Series
    exog: pd.DataFrame
    intercept: bool
    parsed: ParsedFormula
    term_columns: Mapping[str, tuple[str, ...]]

    @property
    def nobs(self) -> int:
        return len(self.y)


def _func_name(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)


def _int_arg(node: ast.expr, what: str, term: str) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return int(node.value)
    raise SpecError(f"The {what} in {term!r} must be a whole number such as 1; got {ast.unparse(node)!r}.")


def _lag_args(node: ast.Call, term: str) -> tuple[ast.expr, int]:
    if len(node.args) not in (1, 2) or node.keywords:
        raise SpecError(f"{term!r}: lag() takes an expression and a number of periods, e.g. 'lag(n, 1)'.")
    k = _int_arg(node.args[1], "number of periods", term) if len(node.args) == 2 else 1
    if k < 1:
        raise SpecError(f"{term!r}: the number of periods of lag() must be at least 1; got {k}.")
    return node.args[0], k


def _split_terms(node: ast.expr, text: str, out: list[tuple[str, ast.expr]], state: dict[str, Any]) -> None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        _split_terms(node.left, text, out, state)
        _split_terms(node.right, text, out, state)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        if isinstance(node.right, ast.Constant) and node.right.value == 1:
            _split_terms(node.left, text, out, state)
            state["intercept"] = False
        else:
            raise SpecError(
                f"Only '- 1' (no intercept) can be subtracted in a formula; got '- {ast.unparse(node.right)}'."
            )
    elif isinstance(node, ast.Constant) and node.value in (0, 1) and not isinstance(node.value, bool):
        state["intercept"] = bool(node.value)
    else:
        segment = ast.get_source_segment(text, node) or ast.unparse(node)
        out.append((segment.strip(), node))


def _check_call(node: ast.Call, term: str, *, top: bool) -> None:
    name = _func_name(node)
    if name not in _FUNCTIONS:
        close = did_you_mean(name, _FUNCTIONS)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SpecError(
            f"Unknown function {name!r} in term {term!r}; formulas support {', '.join(_FUNCTIONS)}.{hint}"
        )
    if name == "C":
        if not top:
            raise SpecError(f"C() must be a whole term, not nested inside another function: {term!r}.")
        if len(node.args) != 1 or node.keywords or not isinstance(node.args[0], ast.Name):
            raise SpecError(f"C() takes one column name, e.g. 'C(sector)'; got {term!r}.")
        return
    if name == "log":
        if len(node.args) != 1 or node.keywords:
            raise SpecError(f"log() takes one argument; got {term!r}.")
        inner = node.args[0]
    elif name == "lag":
        inner, _ = _lag_args(node, term)
    else:  # diff
        if len(node.args) not in (1, 2) or node.keywords:
            raise SpecError(f"diff() takes an expression and optionally a number of periods; got {term!r}.")
        inner = node.args[0]
        if len(node.args) == 2 and _int_arg(node.args[1], "number of periods", term) < 1:
            raise SpecError(f"{term!r}: the number of periods of diff() must be at least 1.")
    _check_expr(inner, term, top=False)


def _check_expr(node: ast.expr, term: str, *, top: bool) -> None:
    if isinstance(node, ast.Name):
        return
    if isinstance(node, ast.Call):
        _check_call(node, term, top=top)
        return
    raise SpecError(
        f"Cannot read the term {term!r}: use column names and log(), lag(), diff() or C(), "
        "joined by '+' (e.g. 'log(gsp) ~ log(pcap) + unemp')."
    )


def parse_formula(formula: str) -> ParsedFormula:
    """Parse ``"y ~ a + b"`` into a :class:`ParsedFormula` (no data needed)."""
    if not isinstance(formula, str):
        raise SpecError(
            f"The formula must be a string such as 'log(gsp) ~ log(pcap) + unemp'; got {type(formula).__name__} "
            f"{reprlib.repr(formula)}. Estimators take the formula first and the panel second."
        )
    if formula.count("~") != 1:
        raise SpecError(f"A formula needs exactly one '~', as in 'log(gsp) ~ log(pcap) + unemp'; got {formula!r}.")
    lhs_text, rhs_text = (part.strip() for part in formula.split("~"))
    if not lhs_text or not rhs_text:
        raise SpecError(f"A formula needs a dependent variable and at least one term; got {formula!r}.")
    try:
        lhs = ast.parse(lhs_text, mode="eval").body
        rhs = ast.parse(rhs_text, mode="eval").body
    except SyntaxError as exc:
        raise SpecError(
            f"Cannot parse the formula {formula!r}: {exc.msg}. Terms are column names and log(), lag(), diff(), "
            "C() joined by '+'; a column name in a formula must be a Python identifier (letters, digits and '_', "
            "not a keyword such as 'lambda' or 'class'): rename such columns before building the panel, e.g. "
            "`df.rename(columns={'my col': 'my_col'})`."
        ) from None
    _check_expr(lhs, lhs_text, top=False)
    pieces: list[tuple[str, ast.expr]] = []
    state: dict[str, Any] = {"intercept": True}
    _split_terms(rhs, rhs_text, pieces, state)
    seen: set[str] = set()
    terms = []
    for text, node in pieces:
        _check_expr(node, text, top=True)
        key = ast.dump(node)
        if key in seen:
            raise SpecError(f"The term {text!r} appears twice in {formula!r}.")
        seen.add(key)
        terms.append(Term(text, node))
    if ast.dump(lhs) in seen:
        raise SpecError(f"The dependent variable {lhs_text!r} is also a regressor in {formula!r}.")
    if not terms and not state["intercept"]:
        raise SpecError(
            f"{formula!r} has nothing to estimate: no regressor and the intercept removed. Add a term "
            f"(e.g. '{lhs_text} ~ x'), or write '{lhs_text} ~ 1' for the mean."
        )
    return ParsedFormula(formula, Term(lhs_text, lhs), tuple(terms), state["intercept"])


class _Evaluator:
    """Evaluate parsed expressions on a panel, every lag through ``panel.lag``."""

    def __init__(self, panel: RegionalPanel, formula: str) -> None:
        self.panel = panel
        self.formula = formula
        self.frame: pd.DataFrame = panel.frame
        self._cache: dict[tuple[str, int], pd.Series] = {}

    def _candidates(self) -> list[str]:
        return [*map(str, self.frame.columns), *map(str, self.frame.index.names)]

    def _values(self, name: str) -> pd.Series:
        if name in self.frame.columns:
            return self.frame[name]
        if name in self.frame.index.names:  # the entity or time index level, e.g. C(year)
            return pd.Series(self.frame.index.get_level_values(name), index=self.frame.index)
        raise unknown_name(name, self._candidates(), "column", where=_panel_name(self.panel))

    def column(self, name: str, shift: int) -> pd.Series:
        key = (name, shift)
        if key not in self._cache:
            series = self._values(name)
            if shift != 0:
                if name not in self.frame.columns:
                    raise SpecError(f"lag() and diff() apply to data columns, not to the index level {name!r}.")
                series = self.panel.lag(name, k=shift)
            numbers = as_number(series, column=name, name=self.panel.name, purpose=f"in {self.formula!r}")
            self._cache[key] = pd.Series(numbers.to_numpy(), index=self.frame.index)
        return self._cache[key]

    def evaluate(self, node: ast.expr, shift: int = 0) -> pd.Series:
        if isinstance(node, ast.Name):
            return self.column(node.id, shift)
        if not isinstance(node, ast.Call):  # _check_expr admits only names and calls
            raise SpecError(f"Cannot evaluate {ast.unparse(node)!r}; use column names and log(), lag(), diff().")
        name = _func_name(node)
        if name == "log":
            base = self.evaluate(node.args[0], 0)
            bad = base.notna() & (base <= 0)
            if bad.any():
                where = [plain(tuple(i) if isinstance(i, tuple) else i) for i in base.index[bad.to_numpy()][:3]]
                shown = ", ".join(f"{w!r}" for w in where)
                more = f" and {int(bad.sum()) - 3} more" if bad.sum() > 3 else ""
                raise DataValidationError(
                    f"log({ast.unparse(node.args[0])}) needs positive values, but "
                    f"{ast.unparse(node.args[0])} is zero or negative at ({self.panel.entity}, "
                    f"{self.panel.time}) = {shown}{more} in {_panel_name(self.panel)}. Drop or recode "
                    "those rows, or use a transformation defined there."
                )
            inner = self.evaluate(node.args[0], shift)
            return pd.Series(np.log(inner.to_numpy()), index=inner.index)
        if name == "lag":
            inner, k = _lag_args(node, ast.unparse(node))
            return self.evaluate(inner, shift + k)
        if name == "diff":
            k = _int_arg(node.args[1], "number of periods", ast.unparse(node)) if len(node.args) == 2 else 1
            return self.evaluate(node.args[0], shift) - self.evaluate(node.args[0], shift + k)
        raise SpecError(f"C() cannot be used inside another expression: {ast.unparse(node)!r}.")

    def categorical_values(self, term: Term) -> pd.Series:
        """The values of the column or index level in ``C(x)``."""
        if not (isinstance(term.node, ast.Call) and term.node.args and isinstance(term.node.args[0], ast.Name)):
            raise SpecError(f"C() takes one column name, e.g. 'C(sector)'; got {term.name!r}.")
        return self._values(term.node.args[0].id)


def _dummies(term: Term, values: pd.Series, *, full: bool = False) -> pd.DataFrame:
    """0/1 columns for every level of ``values`` present in it but the first (the base), or for
    every level with ``full=True`` (the first categorical term of a formula without intercept).

    Levels are taken from ``values`` as given, so the caller passes the rows of the estimation
    sample: the base is the first level that remains, and levels without a row get no column.
    """
    levels = sorted(pd.unique(values.dropna()))
    out = {}
    for level in levels if full else levels[1:]:
        label = int(level) if isinstance(level, float | np.floating) and float(level).is_integer() else plain(level)
        dummy = (values == level).astype(float).where(values.notna())
        out[f"{term.name}[T.{label}]"] = dummy.to_numpy()
    return pd.DataFrame(out, index=values.index)


def _panel_name(panel: RegionalPanel) -> str:
    return str(getattr(panel, "name", None) or "the panel")


def build_design(formula: str | ParsedFormula, panel: RegionalPanel, *, dropna: bool = True) -> Design:
    """Evaluate ``formula`` on ``panel``.

    Parameters
    ----------
    formula : str or ParsedFormula
        The formula.
    panel : RegionalPanel
        The data.
    dropna : bool, optional
        Drop the rows where the dependent variable or a regressor is missing (the default). The
        dummies of ``C()`` terms are built on the rows kept; with ``dropna=False`` on every row.

    Returns
    -------
    Design
    """
    parsed = formula if isinstance(formula, ParsedFormula) else parse_formula(formula)
    ev = _Evaluator(panel, parsed.formula)
    index = panel.frame.index
    y = ev.evaluate(parsed.dependent.node).rename(parsed.dependent.name)
    numeric: dict[str, pd.Series] = {}
    categories: dict[str, pd.Series] = {}
    for term in parsed.terms:
        if term.is_categorical:
            categories[term.name] = ev.categorical_values(term)
        else:
            numeric[term.name] = ev.evaluate(term.node)
    keep = np.ones(len(index), dtype=bool)
    if dropna:
        # the estimation sample first, so that C() terms get their levels (and base) from its rows
        keep = y.notna().to_numpy().copy()
        for series in (*numeric.values(), *categories.values()):
            keep &= series.notna().to_numpy()
        if not keep.any():
            raise DataValidationError(
                f"No complete observations for {parsed.formula!r} in {_panel_name(panel)}: every row has a "
                "missing value in the dependent variable or a regressor (check the lags and the periods)."
            )
    rows = index[keep]
    columns: dict[str, np.ndarray] = {}
    term_columns: dict[str, tuple[str, ...]] = {}
    first_categorical = next((t.name for t in parsed.terms if t.is_categorical), None)
    for term in parsed.terms:
        if term.is_categorical:
            # without an intercept the first categorical term keeps its base level, as in R and patsy
            full = not parsed.intercept and term.name == first_categorical
            dummies = _dummies(term, categories[term.name][keep], full=full)
            if dummies.shape[1] == 0:
                levels = pd.unique(categories[term.name][keep].dropna())
                shown = f" ({plain(levels[0])!r})" if len(levels) else ""
                raise SpecError(
                    f"{term.name!r} in {parsed.formula!r} has one level{shown} in the estimation sample of "
                    f"{_panel_name(panel)}, so it makes no dummy and explains nothing; remove it from the formula."
                )
            for col in dummies:
                columns[col] = dummies[col].to_numpy()
            term_columns[term.name] = tuple(dummies.columns)
        else:
            columns[term.name] = numeric[term.name].to_numpy()[keep]
            term_columns[term.name] = (term.name,)
    exog = pd.DataFrame(columns, index=rows)
    return Design(y=y[keep], exog=exog, intercept=parsed.intercept, parsed=parsed, term_columns=term_columns)
