"""Malformed and hostile model files end in a ModelFileError naming the file and what is wrong.

No builtin or third-party exception escapes: every case is one row of a table, with either the
message expected or ``None`` for a file that is legitimately a model (e.g. no sketch, no encoding
header) and must load.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sd_helpers import SIR

import cluster_econ as ce
from cluster_econ.errors import ClusterEconError, ModelFileError, SpecError

TEXT = SIR.read_text(encoding="utf-8")
DATA = SIR.read_bytes()


def _cut(marker: str, after: int = 0) -> bytes:
    return TEXT[: TEXT.index(marker) + after].encode()


def _random(n: int) -> bytes:
    """Deterministic noise (a fixed linear congruential sequence)."""
    state, out = 12345, bytearray()
    for _ in range(n):
        state = (1103515245 * state + 12345) % 2**31
        out.append(state >> 16 & 0xFF)
    return bytes(out)


INCOMPLETE = r"it defines no INITIAL TIME, FINAL TIME, TIME STEP: the file is cut short \(truncated\?\)"

#: name -> (file content, expected message regex or None when it must load)
FILES: dict[str, tuple[bytes, str | None]] = {
    # 1. truncated at several points
    "truncated_mid_equation.mdl": (_cut("Succumbing-Recovering", 5), INCOMPLETE),
    "truncated_10_percent.mdl": (DATA[: len(DATA) // 10], INCOMPLETE),
    "truncated_before_a_used_element.mdl": (_cut("Total Population=\n"), INCOMPLETE),
    "truncated_in_control_section.mdl": (_cut("SAVEPER  ="), r"it defines no TIME STEP: the file is cut short"),
    "truncated_in_sketch.mdl": (_cut("10,7,Succumbing"), None),  # the sketch is layout only
    "truncated_at_sketch_marker.mdl": (_cut("\\\\\\---///", 5), None),
    # 2. random bytes
    "random_bytes.mdl": (_random(4096), r"holds a NUL byte \(line \d+, byte \d+\): it is binary"),
    # 3. empty
    "empty.mdl": (b"", r"is empty: it holds no model"),
    # 4. UTF-16, with and without a byte-order mark
    "utf16.mdl": (TEXT.encode("utf-16"), r"is encoded in UTF-16; .* Save it again as UTF-8"),
    "utf16_no_bom.mdl": (TEXT.encode("utf-16-le"), r"holds a NUL byte \(line 1, byte 1\)"),
    # 8. NUL bytes in an otherwise good file
    "nul_byte.mdl": (DATA[:500] + b"\x00" + DATA[500:], r"holds a NUL byte \(line 25, byte 500\)"),
    # 9. invalid XMILE XML
    "invalid_xml.xmile": (b"<xmile><model><variables><aux name='a'><eqn>1</eqn></aux>",
                          r", line 1: .*not well-formed XML: Premature end of data"),
    "vensim_text_as_xmile.xmile": (DATA, r", line 1: .*not well-formed XML: Start tag expected"),
    "xml_entities.xmile": (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
                           b"<xmile><model/></xmile>", r"declares XML entities"),
    # 10. an unbalanced equation
    "unbalanced_equation.mdl": (TEXT.replace("Infectious/Duration", "(Infectious/Duration").encode(),
                                r", line 39: PySD could not translate .* in the definition of 'Recovering'"),
    # 11. missing sketch / missing encoding header: legitimate models
    "no_sketch.mdl": (TEXT.split("\\\\\\---///")[0].encode(), None),
    "no_encoding_header.mdl": (TEXT.split("\n", 1)[1].encode(), None),
    "latin1.mdl": (TEXT.replace("{UTF-8}", "{ISO-8859-1}").replace("Yay!", "Ol\xe9!").encode("latin-1"), None),
    # more hostile files
    "unknown_encoding.mdl": (TEXT.replace("{UTF-8}", "{NOPE-99}").encode(), r"unknown encoding: NOPE-99"),
    "undefined_reference.mdl": (TEXT.replace("Infectious/Duration", "Infectious/Nowhere").encode(),
                                r"in the definition of 'Recovering': KeyError: 'nowhere'"),
    "plain_text.mdl": (b"hello world, this is not a model\n", r", line 1: PySD could not translate"),
    "xml_as_vensim.mdl": (b"<?xml version='1.0'?><xmile/>", r", line 1: PySD could not translate"),
    "garbage_in_equation.mdl": (TEXT.replace("Duration=\n\t5", "Duration=\n\t5 5 5").encode(),
                                r"in the definition of 'Duration'"),
    "xmile_without_variables.xmile": (b"<xmile xmlns='http://docs.oasis-open.org/xmile/ns/XMILE/v1.0'>"
                                      b"<model></model></xmile>", r"PySD could not translate"),
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("malformed-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLUSTER_ECON_CACHE", str(folder))
        yield folder


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FILES))
def test_malformed_file(name, tmp_path, cache):
    content, expected = FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    if expected is None:
        model = ce.load_model(path)
        assert len(model.variables) == 12
        assert "infectious" in set(model.variables["name"])
        return
    with pytest.raises(ModelFileError, match=expected) as info:
        ce.load_model(path)
    assert str(info.value).startswith(str(path.resolve())), str(info.value)


@pytest.mark.slow  # two fresh PySD translations
def test_bytes_refused_as_xmile_still_load_as_vensim(tmp_path, cache):
    """A refusal is remembered for the format it was read as, not for the bytes alone."""
    as_xmile = tmp_path / "sir.xmile"
    as_xmile.write_bytes(DATA)
    with pytest.raises(ModelFileError, match="not well-formed XML"):
        ce.load_model(as_xmile)
    as_vensim = tmp_path / "sir.mdl"
    as_vensim.write_bytes(DATA)
    assert "infectious" in set(ce.load_model(as_vensim).variables["name"])


def _loop(tmp_path: Path) -> Path:
    a, b = tmp_path / "a.mdl", tmp_path / "b.mdl"
    os.symlink(b, a)
    os.symlink(a, b)
    return a


def _dangling(tmp_path: Path) -> Path:
    link = tmp_path / "gone.mdl"
    os.symlink(tmp_path / "missing.mdl", link)
    return link


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "folder.mdl").mkdir()
    return tmp_path / "folder.mdl"


def _fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "pipe.mdl")  # opening it for reading would block without a writer
    return tmp_path / "pipe.mdl"


@pytest.mark.parametrize(("make", "expected"), [
    (_folder, r"folder\.mdl is a folder, not a model file"),
    (_loop, r"a\.mdl is a symbolic link loop, not a model file"),
    (_dangling, r"gone\.mdl is a symbolic link to '.*missing\.mdl', which does not exist"),
    (lambda _: Path("/dev/zero"), r"^/dev/zero is a character device, not a model file"),
    (lambda _: Path("/dev/null"), r"^/dev/null is a character device"),
    (_fifo, r"pipe\.mdl is a named pipe, not a model file"),
], ids=["directory", "symlink_loop", "dangling_symlink", "dev_zero", "dev_null", "named_pipe"])
def test_paths_that_are_not_files_are_named_as_such(make, expected, tmp_path):
    path = make(tmp_path)
    with pytest.raises(ModelFileError, match=expected):
        ce.load_model(path)


def test_a_wrong_extension_and_a_missing_file_are_spec_errors(tmp_path):
    (tmp_path / "model.txt").write_bytes(DATA)
    with pytest.raises(SpecError, match=r"model\.txt is not a Vensim \(\.mdl\) or XMILE"):
        ce.load_model(tmp_path / "model.txt")
    with pytest.raises(SpecError, match=r"does not exist"):
        ce.load_model(tmp_path / "nothing.mdl")


def test_a_file_above_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.mdl"
    path.write_bytes(DATA)
    monkeypatch.setenv("CLUSTER_ECON_MAX_MODEL_SIZE", "2KB")
    with pytest.raises(ModelFileError, match=r"big\.mdl is 3,166 bytes, above the 2,000 bytes accepted .* "
                                             r"CLUSTER_ECON_MAX_MODEL_SIZE"):
        ce.load_model(path)
    monkeypatch.setenv("CLUSTER_ECON_MAX_MODEL_SIZE", "lots")
    with pytest.raises(SpecError, match=r"CLUSTER_ECON_MAX_MODEL_SIZE='lots' is not valid"):
        ce.load_model(path)


def test_the_default_size_limit_is_20_mb(tmp_path, monkeypatch):
    monkeypatch.delenv("CLUSTER_ECON_MAX_MODEL_SIZE", raising=False)
    path = tmp_path / "huge.mdl"
    with open(path, "wb") as fh:  # sparse: 20 MB + 1 byte without writing them
        fh.truncate(20_000_001)
    with pytest.raises(ModelFileError, match=r"huge\.mdl is 20\.0 MB, above the 20\.0 MB accepted"):
        ce.load_model(path)


def test_translation_has_a_time_limit(tmp_path, monkeypatch, cache):
    """A file whose translation takes longer than the limit is stopped (the child is killed)."""
    path = tmp_path / "slow.mdl"
    constants = "".join(f"a{i} = {i}\n~~|\n" for i in range(3000))
    total = "total = " + "+".join(f"a{i}" for i in range(3000)) + "\n~~|\n"
    control = TEXT[TEXT.index("FINAL TIME"):TEXT.index("\\\\\\---///")]
    path.write_text("{UTF-8}\n" + constants + total + control, encoding="utf-8")
    monkeypatch.setenv("CLUSTER_ECON_TRANSLATION_TIMEOUT", "0.5")
    with pytest.raises(ModelFileError, match=r"slow\.mdl: translation with PySD did not finish within 0\.5 s and was "
                                             r"stopped.*CLUSTER_ECON_TRANSLATION_TIMEOUT"):
        ce.load_model(path)


@pytest.mark.slow
def test_nothing_but_package_errors_escapes(tmp_path, cache):
    """Every row above again, through simulate: only ClusterEconError subclasses come out."""
    for name, (content, expected) in FILES.items():
        if expected is None:
            continue
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ClusterEconError) as info:
            ce.simulate(path)
        assert isinstance(info.value, ModelFileError), (name, info.value)
        assert re.search(expected, str(info.value)), (name, str(info.value))


@pytest.mark.slow  # the quick loop has the time limit of the same child process
def test_translation_has_a_memory_limit(tmp_path, monkeypatch, cache):
    """The translating process gets a bounded address space; running out is a clear error, not a crash."""
    path = tmp_path / "small_memory.mdl"
    path.write_bytes(DATA + b"\n")  # new bytes: not in the cache
    monkeypatch.setenv("CLUSTER_ECON_TRANSLATION_MEMORY", "100MB")
    with pytest.raises(ModelFileError, match=r"small_memory\.mdl: translating it with PySD needed more than 0\.1 GiB "
                                             r"of memory and was stopped.*CLUSTER_ECON_TRANSLATION_MEMORY"):
        ce.load_model(path)
    monkeypatch.delenv("CLUSTER_ECON_TRANSLATION_MEMORY")
    assert len(ce.load_model(path).variables) == 12  # a memory failure is not remembered as a bad file
