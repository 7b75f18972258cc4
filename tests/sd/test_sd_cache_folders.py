"""Cache folders and files (cluster_econ._cachefs), on the real file system.

The tests run as root in CI, where permission bits do not stop writes. Cases that depend on
permissions therefore run the code in a child process as the unprivileged user ``nobody`` when the
tests run as root, and directly otherwise; the other cases (a file in place of the folder, a parent
that cannot be created, group-writable folders) behave the same for every user.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from cluster_econ import _cachefs
from cluster_econ.errors import ClusterEconWarning

IS_ROOT = os.geteuid() == 0
REPO = Path(__file__).resolve().parents[2]


def run_read_only(code: str, folder: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that cannot write into ``folder``.

    As an ordinary user the folder is made read-only with chmod. Root ignores permission bits, so as
    root the child runs in a private mount namespace where ``folder`` is a read-only bind mount (a
    real read-only file system for that process only); skipped where that is not allowed.
    """
    full_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "HOME": str(cwd), **env}
    python = [sys.executable, "-W", "error::cluster_econ.errors.ClusterEconWarning", "-c", textwrap.dedent(code)]
    if not IS_ROOT:
        folder.chmod(0o555)
        try:
            return subprocess.run(python, env=full_env, cwd=cwd, capture_output=True, text=True, timeout=120)
        finally:
            folder.chmod(0o755)
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root without unshare(1): no way to make a folder read-only for root")
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    done = subprocess.run([unshare, "--mount", "sh", "-c", script, "sh", str(folder), *python], env=full_env,
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 and "mount" in done.stderr and "Traceback" not in done.stderr:
        pytest.skip(f"running as root and a read-only bind mount is not allowed here: {done.stderr.strip()}")
    return done


def _fallback_warning(record: pytest.WarningsRecorder, reason: str) -> str:
    messages = [str(w.message) for w in record if issubclass(w.category, ClusterEconWarning)]
    assert len(messages) == 1, messages
    assert reason in messages[0], messages[0]
    return messages[0]


def _assert_fallback(root: Path, configured: Path) -> None:
    assert root.is_dir()
    assert not str(root).startswith(str(configured))
    assert stat.S_IMODE(root.parent.stat().st_mode) == 0o700  # private to this user
    _cachefs.atomic_write_text(root / "probe.txt", "usable")
    assert (root / "probe.txt").read_text(encoding="utf-8") == "usable"


def test_tilde_and_variables_are_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CE_TEST_BASE", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLUSTER_ECON_CACHE", "~/cache")
    assert _cachefs.cache_root("pysd") == tmp_path / "home" / "cache" / "pysd"
    monkeypatch.setenv("CLUSTER_ECON_CACHE", "$CE_TEST_BASE/c")
    assert _cachefs.cache_root("engine") == tmp_path / "elsewhere" / "c" / "engine"
    assert (tmp_path / "home" / "cache" / "pysd").is_dir() and (tmp_path / "elsewhere" / "c" / "engine").is_dir()
    assert not (tmp_path / "~").exists() and not (tmp_path / "$CE_TEST_BASE").exists()


def test_default_is_under_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CLUSTER_ECON_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _cachefs.cache_root("pysd") == tmp_path / ".cache" / "cluster_econ" / "pysd"


def test_created_folders_are_not_writable_by_group_or_others_even_with_umask_002(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(tmp_path / "c"))
    old = os.umask(0o002)
    try:
        root = _cachefs.cache_root("pysd")
        _cachefs.atomic_write_text(root / "index.json", "{}")
        folder = _cachefs.make_temp_dir(root, ".tmp-")
    finally:
        os.umask(old)
    assert stat.S_IMODE(root.stat().st_mode) == 0o755
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "index.json").stat().st_mode) == 0o644
    # a second call trusts the folder it made: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _cachefs.cache_root("pysd") == root


@pytest.mark.parametrize(("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700),
                                                                (0o027, 0o640, 0o750)])
def test_files_follow_the_umask(tmp_path, monkeypatch, umask, file_mode, dir_mode):
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(tmp_path / "c"))
    old = os.umask(umask)
    try:
        root = _cachefs.cache_root("engine")
        _cachefs.atomic_write_bytes(root / "k.npz", b"\x93NUMPY")
        folder = _cachefs.make_temp_dir(root, ".tmp-")
    finally:
        os.umask(old)
    assert stat.S_IMODE((root / "k.npz").stat().st_mode) == file_mode
    assert stat.S_IMODE(root.stat().st_mode) == dir_mode
    assert stat.S_IMODE(folder.stat().st_mode) == dir_mode


def test_a_regular_file_in_place_of_the_folder_falls_back_with_a_warning(tmp_path, monkeypatch):
    blocker = tmp_path / "cachefile"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(blocker))
    with pytest.warns(ClusterEconWarning) as record:
        root = _cachefs.cache_root("pysd")
    message = _fallback_warning(record, "a part of the path is a file, not a folder")
    assert str(blocker / "pysd") in message and "CLUSTER_ECON_CACHE" in message
    assert record[0].filename == __file__  # the warning points at the caller, not the package
    _assert_fallback(root, blocker)
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_the_cache_folder_itself_being_a_file_falls_back(tmp_path, monkeypatch):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "pysd").write_text("", encoding="utf-8")
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(tmp_path / "c"))
    with pytest.warns(ClusterEconWarning) as record:
        root = _cachefs.cache_root("pysd")
    _fallback_warning(record, "it exists and is not a folder")
    _assert_fallback(root, tmp_path / "c")


def test_a_parent_that_cannot_be_created_falls_back(tmp_path, monkeypatch):
    # /proc refuses new folders for every user, root included
    monkeypatch.setenv("CLUSTER_ECON_CACHE", f"/proc/self/no-such-{tmp_path.name}/cache")
    with pytest.warns(ClusterEconWarning) as record:
        root = _cachefs.cache_root("pysd")
    _fallback_warning(record, "a parent folder cannot be created")
    _assert_fallback(root, Path("/proc/self"))


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757, 0o1777])
def test_a_folder_writable_by_others_is_refused_with_the_fix(tmp_path, monkeypatch, mode):
    base = tmp_path / "shared"
    (base / "pysd").mkdir(parents=True)
    (base / "pysd").chmod(mode)
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(base))
    with pytest.warns(ClusterEconWarning) as record:
        root = _cachefs.cache_root("pysd")
    message = _fallback_warning(record, f"chmod go-w {base / 'pysd'}")
    assert "writable by" in message and f"{stat.S_IMODE(mode):04o}" in message
    _assert_fallback(root, base)
    assert _cachefs.cache_roots("pysd") == [root]  # the unsafe folder is not even read


def test_a_group_writable_parent_is_refused_too(tmp_path, monkeypatch):
    base = tmp_path / "base"
    base.mkdir()
    base.chmod(0o770)
    monkeypatch.setenv("CLUSTER_ECON_CACHE", str(base))
    with pytest.warns(ClusterEconWarning) as record:
        _cachefs.cache_root("engine")
    _fallback_warning(record, f"its parent {base} is unsafe")
    assert not (base / "engine").exists() or _cachefs.cache_roots("engine")[0] != base / "engine"


def test_a_read_only_folder_falls_back_for_writes_and_is_still_read(tmp_path):
    """A cache filled once and shared read-only: it is read, and writes go to a private fallback."""
    base = tmp_path / "ro"
    root = base / "pysd"
    root.mkdir(parents=True)
    _cachefs.atomic_write_text(root / "entry.txt", "filled by its owner")
    code = """
        import warnings
        from cluster_econ import _cachefs
        from cluster_econ.errors import ClusterEconWarning
        roots = _cachefs.cache_roots("pysd")
        print("READ", roots[0] / "entry.txt", (roots[0] / "entry.txt").read_text())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            write = _cachefs.cache_root("pysd")
        print("WRITE", write)
        print("WARN", [str(w.message) for w in caught if issubclass(w.category, ClusterEconWarning)])
        _cachefs.atomic_write_text(write / "new.txt", "x")
        print("LOOK", _cachefs.cache_roots("pysd"))
    """
    done = run_read_only(code, root, {"CLUSTER_ECON_CACHE": str(base)}, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines["READ"] == f"{root / 'entry.txt'} filled by its owner"
    assert not lines["WRITE"].startswith(str(base))
    assert ("permission denied" in lines["WARN"] or "read-only" in lines["WARN"]) and str(root) in lines["WARN"]
    assert lines["LOOK"].startswith(f"[PosixPath('{root}'), ")  # the shared folder first, then the fallback
    assert sorted(p.name for p in root.iterdir()) == ["entry.txt"]


def test_atomic_write_leaves_the_old_file_when_the_disk_is_full(tmp_path):
    """A write that fails half-way (file size limit, as a full disk) leaves no part and no temp file."""
    target = tmp_path / "entry.bin"
    target.write_bytes(b"old")
    code = f"""
        import resource, signal
        from pathlib import Path
        from cluster_econ import _cachefs
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            _cachefs.atomic_write_bytes(Path({str(target)!r}), b"n" * 100_000)
        except OSError as err:
            print("FAILED", err.errno)
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.stdout.startswith("FAILED"), done.stdout + done.stderr
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["entry.bin"]


def test_read_verified(tmp_path, caplog):
    path = tmp_path / "model.py"
    data = b"x = 1\n"
    path.write_bytes(data)
    sha = _cachefs.sha256_bytes(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert _cachefs.read_verified(path, sha) == data
    assert _cachefs.read_verified(tmp_path / "missing.py", sha) is None
    assert _cachefs.read_verified(tmp_path, sha) is None  # a folder
    path.write_bytes(b"x = 4\n")
    with caplog.at_level(logging.WARNING, logger="cluster_econ._cachefs"):
        assert _cachefs.read_verified(path, sha) is None
    assert "Discarding cache entry" in caplog.text and str(path) in caplog.text
    path.write_bytes(data[:3])  # truncated
    assert _cachefs.read_verified(path, sha) is None


def test_cache_names_are_one_path_component():
    for bad in ["", "..", "a/b"]:
        with pytest.raises(ValueError, match="one path component"):
            _cachefs.cache_root(bad)


def test_pysd_version():
    import pysd

    assert _cachefs.pysd_version() == pysd.__version__
