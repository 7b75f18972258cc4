"""The ```python blocks of ``docs/*.md`` run, made small: the sizes of the examples are cut, nothing else.

A block that needs what CI does not have (a SLURM cluster) is compiled and its calls of the package are
checked against the real signatures.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from doc_blocks import fence_languages, python_blocks

import cluster_econ as ce

DOCS = Path(__file__).resolve().parents[1] / "docs"
SCALING = (DOCS / "scaling.md").read_text(encoding="utf-8")
BLOCKS = python_blocks(SCALING)
#: the example sizes and the size they run at here (each must be found, so a changed example is noticed)
SMALLER = {"n=200_000": "n=16", "chunk_size=1_000": "chunk_size=8", "n_workers=8": "n_workers=2",
           "chunk_size=2_000": "chunk_size=8"}
NEEDS_SLURM = "dask_jobqueue"


def _small(block: str) -> str:
    for big, small in SMALLER.items():
        block = block.replace(big, small)
    return block


def test_every_block_is_python_and_every_size_cut_is_found() -> None:
    assert len(BLOCKS) == 3
    opening = fence_languages(SCALING)
    assert set(opening) <= {"python", "bash", ""}, set(opening)
    runnable = "".join(b for b in BLOCKS if NEEDS_SLURM not in b)
    for big in SMALLER:
        assert big in runnable, f"{big!r} is no longer in docs/scaling.md: update SMALLER"


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "ce"]


def test_the_slurm_block_compiles_and_calls_the_package_as_it_is() -> None:
    (block,) = [b for b in BLOCKS if NEEDS_SLURM in b]
    tree = ast.parse(block)
    calls = _calls(tree)
    assert {c.func.attr for c in calls} >= {"load_model", "sweep", "Lever", "Uncertainty", "Outcome"}
    for call in calls:
        signature = inspect.signature(getattr(ce, call.func.attr))
        signature.bind(*[None] * len(call.args), **{k.arg: None for k in call.keywords if k.arg})


@pytest.mark.slow  # a process pool and a Dask LocalCluster
def test_the_runnable_blocks_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the examples write study/sweep.zarr where the reader works
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, block in enumerate(BLOCKS, start=1):
        if NEEDS_SLURM in block:
            continue
        exec(compile(_small(block), f"docs/scaling.md, python block {number}", "exec"), namespace)
    res, batch = namespace["res"], namespace["batch"]
    assert len(res.experiments) == 16  # type: ignore[attr-defined]
    assert (tmp_path / "study" / "sweep.zarr").is_dir()
    assert dict(batch.sizes)["scenario"] == 16  # type: ignore[attr-defined]
