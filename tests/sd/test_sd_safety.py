"""Opening a model file runs nothing of it: code injections through every text PySD embeds.

Each hostile file (see ``hostile.py``) would create a marker file if any of its text ran as code.
Every case goes through ``load_model``, ``SDModel.pysd()``, ``simulate`` on both engines and
``simulate_batch`` on the bare path (the batch engine's own parse); the marker must never appear.
A case either loads (its text kept as data) or is refused with a ``ModelFileError``, as the table says.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hostile import VENSIM_CASES, XMILE_CASES
from numpy.testing import assert_allclose
from sd_helpers import SIR

import cluster_econ as ce
from cluster_econ.errors import ClusterEconError, ModelFileError
from cluster_econ.sd import _verify

#: case -> None when the file loads (its text stays data), or the ModelFileError message expected.
EXPECTED = {
    "comment": None,
    "comment_backslash": None,
    "unit": None,
    "variable_name": None,
    "variable_name_docstring": None,
    "subscript_name": None,
    "subscript_range_name": r"the subscript range .* contains \"'\"; names with quotes",
    "lookup": None,
    "lookup_comment": None,
    "macro_name": r"the macro name .* contains",
    "macro_comment": None,
    "get_reference": r"\(file in the equation of 'Duration'\) contains '\\\\'",
    "get_reference_tab": r"\(tab in the equation of 'Series'\) contains '\\\\'",
    "xmile_doc": None,
    "xmile_name": None,
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("safety-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLUSTER_ECON_CACHE", str(folder))
        yield folder


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumericalWarning and the like are not what is tested here
        return call()


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted({**VENSIM_CASES, **XMILE_CASES}))
def test_injected_text_never_runs(case, tmp_path, cache):
    make = {**VENSIM_CASES, **XMILE_CASES}[case]
    marker = tmp_path / "PWNED"
    path = tmp_path / (f"{case}.xmile" if case in XMILE_CASES else f"{case}.mdl")
    path.write_text(make(marker), encoding="utf-8")
    expected = EXPECTED[case]
    if expected is not None:
        for call in (lambda: ce.load_model(path), lambda: ce.simulate(path, engine="pysd")):
            with pytest.raises(ModelFileError, match=expected) as info:
                call()
            assert str(path) in str(info.value)
            assert not marker.exists()
    else:
        model = ce.load_model(path)
        assert not marker.exists()
        _quiet(model.pysd).run()
        assert not marker.exists()
        runs = [_quiet(lambda engine=engine: ce.simulate(model, engine=engine)) for engine in ("pysd", "batch")]
        assert not marker.exists()
        stock = "infectious" if case in VENSIM_CASES else "stock_a"
        assert_allclose(runs[0].data[stock].values, runs[1].data[stock].values, rtol=1e-9, atol=1e-9)
        assert runs[0].provenance.details["engine"] == "pysd"
        assert runs[1].provenance.details["engine"] == "batch"
    # the batch engine parses the bare file itself: nothing runs there either
    try:
        _quiet(lambda: ce.simulate_batch(path, pd.DataFrame(index=range(2))))
    except ClusterEconError:
        pass  # refusing is fine; running the text is not
    assert not marker.exists()


@pytest.mark.slow
def test_the_reported_comment_stays_a_comment(tmp_path, cache):
    """The report's repro: the comment is kept as text and the model computes as the original."""
    from hostile import comment

    marker = tmp_path / "PWNED"
    path = tmp_path / "sir_comment.mdl"
    path.write_text(comment(marker), encoding="utf-8")
    model = ce.load_model(path)
    description = model.variables.set_index("name").loc["duration", "description"]
    assert "__import__" in description
    assert str(marker) in description
    original = tmp_path / "sir_short.mdl"
    original.write_text(SIR.read_text(encoding="utf-8").replace("FINAL TIME  = 100", "FINAL TIME  = 2"),
                        encoding="utf-8")
    clean = ce.simulate(ce.load_model(original), engine="pysd").data["infectious"].values
    assert_allclose(ce.simulate(model, engine="pysd").data["infectious"].values, clean, rtol=0, atol=0)
    assert not marker.exists()


def test_the_verifier_alone_refuses_what_unsanitised_pysd_writes(tmp_path):
    """Without the sanitiser PySD writes the injection into model.py; the check refuses that file."""
    from hostile import comment
    from pysd.builders.python.python_model_builder import ModelBuilder
    from pysd.translators.vensim.vensim_file import VensimFile

    marker = tmp_path / "PWNED"
    path = tmp_path / "model.mdl"
    path.write_text(comment(marker), encoding="utf-8")
    parsed = VensimFile(path)
    parsed.parse()
    ModelBuilder(parsed.get_abstract_model()).build_model()  # writes model.py, imports nothing
    source = (tmp_path / "model.py").read_bytes()
    assert b'__import__("os").system' in source
    refused = r"contains (a reference to 'str'|the attribute 'system').*It is not imported"
    with pytest.raises(ModelFileError, match=refused):
        _verify.check_source(source, tmp_path / "model.py")
    assert not marker.exists()


@pytest.mark.parametrize(("snippet", "what"), [
    ("import os\n", "an import of 'os'"),
    ("from os import system\n", "an import of 'system' from 'os'"),
    ("from pysd.py_backend.utils import load_modules\n", "from 'pysd.py_backend.utils'"),
    ("x = eval('1')\n", "a reference to 'eval'"),
    ("x = open\n", "a reference to 'open'"),
    ("x = __builtins__\n", "a reference to '__builtins__'"),
    ("x = ().__class__\n", "the attribute '__class__'"),
    ("x = (1).real\n", "the attribute 'real'"),
    ("class A:\n    pass\n", "a ClassDef node"),
    ("with x:\n    pass\n", "a With node"),
    ("x = [a for a in ()]\n", "a ListComp node"),
    ("x = f'{1}'\n", "a JoinedStr node"),
    ("def f(open):\n    return 1\n\n\ny = open('x')\n", "a reference to 'open'"),
    ("@staticmethod\ndef f():\n    return 1\n", "a decorator other than @component.add"),
    ("x = b'1'\n", "a bytes literal"),
    ("x = 1 +\n", "not valid Python"),
])
def test_the_verifier_refuses_what_the_builder_never_writes(snippet, what, tmp_path):
    base = (b"from pathlib import Path\nimport numpy as np\nfrom pysd import Component\n"
            b"component = Component()\n")
    with pytest.raises(ModelFileError, match=re.escape(what)):
        _verify.check_source(base + snippet.encode(), tmp_path / "model.py")


@pytest.mark.slow
def test_the_verifier_accepts_the_package_models():
    for model_id in ce.list_models()["id"]:
        model = ce.load_model(model_id)
        source = (model.pysd(initialize=False).py_model_file)  # loaded, so the check passed
        _verify.check_source(open(source, "rb").read(), model.path)
        assert np.isfinite(model.parameters["value"].astype(float)).all()
