"""SDModel.no_policy and SDModel.indicators, read from model.toml."""

from __future__ import annotations

import pytest

import cluster_econ as ce
from cluster_econ.errors import SpecError, UnknownNameError


def edit(folder, old: str, new: str) -> None:
    path = folder / "model.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_model_without_declarations_has_empty_no_policy_and_indicators(registry):
    model = ce.load_model("sir_copy")
    assert model.no_policy == {}
    assert model.indicators == {}


def test_no_policy_and_indicators_come_from_model_toml(registry):
    edit(registry, 'kind = "assumed"\n', 'kind = "lever"\nno_policy = 0.0\n')
    edit(registry, "[[parameter]]", '[indicators]\ninfected = "infectious"\n\n[[parameter]]')
    model = ce.load_model("sir_copy")
    assert model.no_policy == {"contact_infectivity": 0.0}
    assert model.indicators == {"infected": "infectious"}
    model.no_policy["contact_infectivity"] = 1.0  # a copy: the model is unchanged
    assert model.no_policy == {"contact_infectivity": 0.0}


def test_no_policy_outside_the_bounds_is_refused(registry):
    edit(registry, 'kind = "assumed"\n', 'kind = "lever"\nno_policy = 2.0\n')
    with pytest.raises(SpecError, match=r"no_policy = 2 of 'contact_infectivity' .* outside its bounds \[0, 1\]"):
        ce.load_model("sir_copy")


def test_an_indicator_naming_an_unknown_variable_is_refused(registry):
    edit(registry, "[[parameter]]", '[indicators]\njobs = "infectios"\n\n[[parameter]]')
    with pytest.raises(UnknownNameError, match=r"'infectios' is not a variable of .*Did you mean 'infectious'"):
        ce.load_model("sir_copy")


def test_regional_cluster_declares_its_no_policy_run_and_indicators():
    model = ce.load_model("regional_cluster")
    levers = model.parameters.set_index("name")
    levers = levers[levers["kind"] == "lever"]
    assert set(model.no_policy) == set(levers.index)
    assert model.indicators["jobs"] == "employment"
    assert model.indicators["spend"] == "cumulative_programme_cost"
    assert set(model.indicators.values()) <= set(model.variables["name"])
