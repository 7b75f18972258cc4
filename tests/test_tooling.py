"""The development loop: `make check` (quick), `make test` (everything), CI strict, mypy configured."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _target(name: str) -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{name}:.*\n((?:\t.*\n)+)", text, flags=re.M)
    assert match, f"no `{name}` target in the Makefile"
    return [line.strip() for line in match.group(1).splitlines()]


def test_make_check_runs_ruff_mypy_and_the_quick_tests() -> None:
    steps = " ; ".join(_target("check"))
    assert "ruff check ." in steps
    assert "mypy" in steps
    assert '-m "not slow"' in steps


def test_make_test_runs_everything() -> None:
    steps = " ; ".join(_target("test"))
    assert "ruff check ." in steps
    assert "mypy" in steps
    assert "pytest" in steps
    assert "not slow" not in steps


def test_both_loops_run_the_tests_on_every_core() -> None:
    for name in ("check", "test"):
        pytest_line = next(line for line in _target(name) if "pytest" in line)
        assert re.search(r" -n \S+", pytest_line), f"`make {name}` runs pytest in one process"
    assert re.search(r"^PYTEST_WORKERS \?= auto$", (ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.M)
    dev = PYPROJECT["project"]["optional-dependencies"]["dev"]
    assert any(d.startswith("pytest-xdist") for d in dev)


def test_doctests_are_part_of_pytest() -> None:
    options = PYPROJECT["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in options["addopts"]
    assert "cluster_econ" in options["testpaths"]


def test_ci_sets_ci_so_missing_shared_models_fail() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^export CI=1$", script, flags=re.M)
    assert script.index("export CI=1") < script.index("make test")


def test_mypy_and_the_ruff_families_are_configured() -> None:
    mypy = PYPROJECT["tool"]["mypy"]
    assert mypy["ignore_missing_imports"] is True
    assert mypy["files"] == ["cluster_econ"]
    selected = set(PYPROJECT["tool"]["ruff"]["lint"]["select"])
    assert {"C90", "PT", "PERF", "S"} <= selected


def test_every_module_reads_in_one_go() -> None:
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "cluster_econ").rglob("*.py")
    }
    too_long = {p: n for p, n in sizes.items() if n > 500}
    assert too_long == {}
