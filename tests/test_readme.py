"""Every ```python block of the README runs, in order, in one namespace (as a reader would paste them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from doc_blocks import fence_languages, python_blocks

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 3
    assert all(block.strip() for block in BLOCKS)
    # every block is run (python), or is shell or output text: a block marked ```py or ```pycon would be skipped
    opening = fence_languages(README.read_text(encoding="utf-8"))
    assert set(opening) <= {"python", "bash", ""}, set(opening)
    assert opening.count("python") == len(BLOCKS)


@pytest.mark.slow
def test_every_readme_block_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the README writes results/ and report.html where the reader works
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for number, block in enumerate(BLOCKS, start=1):
        code = compile(block, f"README.md, python block {number}", "exec")
        exec(code, namespace)  # the README's own code, run as a reader would paste it
    batch = namespace["batch"]
    assert dict(batch.sizes)["scenario"] == 3  # type: ignore[attr-defined]
