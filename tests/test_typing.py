"""One module of Literal option aliases, used by the signatures and by the run-time checks."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest

import cluster_econ as ce
from cluster_econ import typing as ce_typing
from cluster_econ.errors import SpecError

ROOT = Path(__file__).resolve().parents[1] / "cluster_econ"


def test_every_alias_is_a_literal_and_exported() -> None:
    assert ce.typing is ce_typing
    for name in ce_typing.__all__:
        alias = getattr(ce_typing, name)
        assert typing.get_origin(alias) is typing.Literal, name
        assert all(isinstance(v, str) for v in typing.get_args(alias)), name


def test_no_module_defines_its_own_literal_alias() -> None:
    """Aliases live in cluster_econ/typing.py only (``Method`` was once defined twice)."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        if path.name == "typing.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            stripped = line.split("#")[0]
            if "Literal[" in stripped and not stripped.lstrip().startswith("def "):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize(
    ("function", "option", "alias"),
    [
        (ce.panel_ols, "cov_type", ce_typing.CovType),
        (ce.between_ols, "cov_type", ce_typing.BetweenCovType),
        (ce.random_effects, "method", ce_typing.REMethod),
        (ce.random_effects, "cov_type", ce_typing.RECovType),
        (ce.poisson_fe, "cov_type", ce_typing.PoissonFECovType),
        (ce.count_model, "family", ce_typing.Family),
    ],
)
def test_signatures_use_the_aliases_and_calls_are_checked_against_them(function, option, alias) -> None:
    hints = typing.get_type_hints(function)
    assert hints[option] == alias
    default = inspect.signature(function).parameters[option].default
    assert default in typing.get_args(alias)


def test_the_sd_aliases_are_the_shared_ones() -> None:
    from cluster_econ.sd import _simulate
    from cluster_econ.sd.engine import _compiled

    assert _simulate.Method is _compiled.Method is ce_typing.Method
    assert _simulate.Engine is ce_typing.Engine
    with pytest.raises(SpecError, match=r"method='rk5' is not valid.*Did you mean 'rk4'"):
        ce.simulate(ce.load_model("sme_growth"), method="rk5")
