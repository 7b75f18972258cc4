"""compare(): estimates side by side, as economists publish them."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._frozen import copied_payloads
from ..errors import SpecError
from ._result import EstimationResult

__all__ = ["ComparisonTable", "compare"]

#: Significance thresholds of the stars (economics convention).
STAR_LEVELS = ((0.01, "***"), (0.05, "**"), (0.10, "*"))


def _stars(p: float) -> str:
    for level, mark in STAR_LEVELS:
        if p < level:
            return mark
    return ""


@copied_payloads("params", "std_errors", "pvalues", "footer")
@dataclasses.dataclass(frozen=True)
class ComparisonTable:
    """Side-by-side estimates: coefficients, standard errors in parentheses, N, R-squared, effects.

    Attributes
    ----------
    params, std_errors, pvalues : pandas.DataFrame
        Numbers, one column per model (missing where a model has no such term).
    footer : pandas.DataFrame
        Rows "Estimator", "Effects", "Cov. type", "N", "R-squared", one column per model.
    stars : bool
        Whether coefficients carry significance stars.
    """

    params: pd.DataFrame
    std_errors: pd.DataFrame
    pvalues: pd.DataFrame
    footer: pd.DataFrame
    dependent: tuple[str, ...]
    stars: bool = True

    @property
    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame of strings: a coefficient row and a standard-error row per term."""
        rows: dict[str, list[str]] = {}
        for term in self.params.index:
            coefs, ses = [], []
            for model in self.params.columns:
                b, se, p = self.params.loc[term, model], self.std_errors.loc[term, model], self.pvalues.loc[term, model]
                if np.isnan(b):
                    coefs.append("")
                    ses.append("")
                    continue
                mark = _stars(p) if self.stars and np.isfinite(p) else ""
                coefs.append(f"{b:.4f}{mark}")
                ses.append(f"({se:.4f})")
            rows[term] = coefs
            rows[f"{term} "] = ses  # trailing space keeps the index unique; shown blank
        body = pd.DataFrame.from_dict(rows, orient="index", columns=list(self.params.columns))
        return pd.concat([body, self.footer])

    def _cells(self) -> tuple[list[str], list[list[str]], int]:
        frame = self.frame
        n_body = 2 * len(self.params.index)
        labels = [lab if i % 2 == 0 or i >= n_body else "" for i, lab in enumerate(frame.index)]
        rows = [[labels[i], *map(str, frame.iloc[i].tolist())] for i in range(len(frame))]
        return ["", *map(str, frame.columns)], rows, n_body

    def _note(self) -> str:
        dep = ", ".join(dict.fromkeys(self.dependent))
        note = f"Dependent variable: {dep}. Standard errors in parentheses."
        if self.stars:
            note += " * p<0.10, ** p<0.05, *** p<0.01."
        return note

    def to_text(self) -> str:
        """Plain text with aligned columns."""
        header, rows, n_body = self._cells()
        widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]

        def line(cells: list[str]) -> str:
            first = cells[0].ljust(widths[0])
            return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

        rule = "=" * len(line(header))
        mid = "-" * len(rule)
        out = [rule, line(header), mid, *(line(r) for r in rows[:n_body]), mid, *(line(r) for r in rows[n_body:]),
               rule, self._note()]
        return "\n".join(out)

    def to_markdown(self) -> str:
        """A GitHub-flavoured Markdown table (no third-party package needed)."""
        header, rows, _ = self._cells()

        def esc(text: str) -> str:
            return text.replace("|", "\\|").replace("*", "\\*")

        out = ["| " + " | ".join(esc(h) for h in header) + " |",
               "|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|"]
        out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
        return "\n".join(out) + "\n\n" + esc(self._note()) + "\n"

    def to_html(self) -> str:
        """An HTML table (also used by notebooks)."""
        header, rows, n_body = self._cells()
        out = ['<table class="cluster-econ-compare">', "<thead><tr>"]
        out += [f"<th>{html.escape(h)}</th>" for h in header]
        out.append("</tr></thead><tbody>")
        for i, r in enumerate(rows):
            style = ' style="border-top: 1px solid"' if i == n_body else ""
            out.append(f"<tr{style}><th style=\"text-align:left\">{html.escape(r[0])}</th>")
            out += [f"<td style=\"text-align:right\">{html.escape(c)}</td>" for c in r[1:]]
            out.append("</tr>")
        out.append(f'</tbody><caption style="caption-side:bottom">{html.escape(self._note())}</caption></table>')
        return "".join(out)

    def to_latex(self) -> str:
        """A LaTeX ``tabular`` (booktabs rules), stars as superscripts."""

        def tex(text: str) -> str:
            for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                         ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"),
                         ("^", r"\textasciicircum{}")):
                text = text.replace(a, b)
            stripped = text.rstrip("*")
            n = len(text) - len(stripped)
            return f"{stripped}$^{{{'*' * n}}}$" if n else text

        header, rows, n_body = self._cells()
        out = [r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}", r"\toprule",
               " & ".join(tex(h) for h in header) + r" \\", r"\midrule"]
        for i, r in enumerate(rows):
            if i == n_body:
                out.append(r"\midrule")
            out.append(" & ".join(tex(c) for c in r) + r" \\")
        out += [r"\bottomrule", r"\end{tabular}", "% " + self._note()]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()


def compare(
    results: Sequence[EstimationResult] | Mapping[str, EstimationResult], *, stars: bool = True
) -> ComparisonTable:
    """Put estimates side by side, as in a published table.

    Parameters
    ----------
    results : sequence of EstimationResult, or mapping of column label to EstimationResult
        The models, in column order. A sequence is labelled ``(1)``, ``(2)``, ...
    stars : bool, optional
        Mark coefficients significant at 10 %, 5 % and 1 % with ``*``, ``**``, ``***``.

    Returns
    -------
    ComparisonTable
        With ``to_text()``, ``to_html()``, ``to_latex()``, ``to_markdown()`` and a DataFrame view
        ``frame``; ``str()`` gives the text.

    Examples
    --------
    >>> import cluster_econ as ce
    >>> grunfeld = ce.load_dataset("grunfeld")
    >>> ols = ce.panel_ols("inv ~ value + capital", grunfeld, effects=(), cov_type="unadjusted")
    >>> fe = ce.panel_ols("inv ~ value + capital", grunfeld, cov_type="unadjusted")
    >>> print(ce.compare({"Pooled": ols, "Within": fe}))
    =======================================
                    Pooled           Within
    ---------------------------------------
    Intercept  -42.7144***      -58.7439***
                  (9.5117)        (12.4537)
    value        0.1156***        0.1101***
                  (0.0058)         (0.0119)
    capital      0.2307***        0.3101***
                  (0.0255)         (0.0174)
    ---------------------------------------
    Estimator   Pooled OLS           Within
    Effects           none           entity
    Cov. type   unadjusted       unadjusted
    N                  200              200
    R-squared       0.8124  0.7668 (within)
    =======================================
    Dependent variable: inv. Standard errors in parentheses. * p<0.10, ** p<0.05, *** p<0.01.
    """
    if isinstance(results, Mapping):
        labels, models = [str(k) for k in results], list(results.values())
    elif isinstance(results, Sequence) and not isinstance(results, str):
        models = list(results)
        labels = [f"({i})" for i in range(1, len(models) + 1)]
    else:
        raise SpecError(f"compare() takes a list or dict of EstimationResult; got {type(results).__name__}.")
    if not models:
        raise SpecError("compare() needs at least one result.")
    for label, m in zip(labels, models, strict=True):
        if not isinstance(m, EstimationResult):
            raise SpecError(f"compare(): {label} is a {type(m).__name__}, not an EstimationResult.")
    terms: list[str] = []
    for m in models:
        terms += [t for t in m.params.index if t not in terms]
    params = pd.DataFrame({lab: m.params.reindex(terms) for lab, m in zip(labels, models, strict=True)})
    ses = pd.DataFrame({lab: m.std_errors.reindex(terms) for lab, m in zip(labels, models, strict=True)})
    pvals = pd.DataFrame({lab: m.pvalues.reindex(terms) for lab, m in zip(labels, models, strict=True)})

    def r2(m: EstimationResult) -> str:
        if not m.r2:
            return ""
        kind, value = next(iter(m.r2.items()))
        return f"{value:.4f}" if kind == "overall" else f"{value:.4f} ({kind})"

    footer = pd.DataFrame(
        {
            lab: [m.estimator, ", ".join(m.effects) or "none", m.cov_label, str(m.nobs), r2(m)]
            for lab, m in zip(labels, models, strict=True)
        },
        index=["Estimator", "Effects", "Cov. type", "N", "R-squared"],
    )
    return ComparisonTable(params, ses, pvals, footer, tuple(m.dependent for m in models), stars=stars)
