"""The wheel carries every subpackage, dataset and model."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_subpackage_is_listed() -> None:
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "cluster_econ").rglob("__init__.py")
    }
    listed = {name for name in CONFIG["packages"] if not name.startswith("cluster_econ._bundled")}
    assert found == listed


def test_every_dataset_and_model_file_is_package_data() -> None:
    for package, folder in CONFIG["package-dir"].items():
        patterns = CONFIG["package-data"][package]
        files = [p.relative_to(ROOT / folder).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file()]
        assert files
        missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
        assert missing == [], f"{folder}/ files left out of the wheel: {missing}"


def test_every_bundled_folder_is_a_declared_package() -> None:
    """setuptools warns "Package would be ignored" for a data folder that is importable but not listed."""
    declared = set(CONFIG["packages"])
    for package, folder in CONFIG["package-dir"].items():
        for path in [ROOT / folder, *(p for p in (ROOT / folder).rglob("*") if p.is_dir())]:
            if path.name == "__pycache__" or not any(p.is_file() for p in path.iterdir()):
                continue
            name = ".".join([package, *path.relative_to(ROOT / folder).parts])
            assert name in declared, f"{path.relative_to(ROOT)}/ holds files: list {name!r} in pyproject.toml"
