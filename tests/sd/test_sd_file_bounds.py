"""Bounds of an unregistered model file come from Vensim's unit ranges (``~ units [min, max]``)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from sd_helpers import SIR

import cluster_econ as ce
from cluster_econ.errors import SpecError

RANGED = (SIR.read_text(encoding="utf-8")
          .replace("FINAL TIME  = 100", "FINAL TIME  = 2")
          .replace("~\tPersons/Persons/Day\n", "~\tPersons/Persons/Day [0, 1]\n")
          .replace("~\tDays\n", "~\tDays [1, ?]\n")
          .replace("Total Population=\n\t1000\n\t~\tPersons\n",
                   "Total Population=\n\t1000\n\t~\tPersons [?, 1e6, 10]\n"))


@pytest.fixture(scope="module")
def ranged(tmp_path_factory):
    path = tmp_path_factory.mktemp("bounds") / "sir_ranged.mdl"
    path.write_text(RANGED, encoding="utf-8")
    return ce.load_model(path)


def test_unit_ranges_fill_lower_and_upper(ranged):
    table = ranged.parameters.set_index("name")
    assert (table.loc["contact_infectivity", "lower"], table.loc["contact_infectivity", "upper"]) == (0.0, 1.0)
    assert table.loc["duration", "lower"] == 1.0
    assert math.isnan(table.loc["duration", "upper"])
    assert math.isnan(table.loc["total_population", "lower"])
    assert table.loc["total_population", "upper"] == 1e6
    assert table.loc["contact_infectivity", "unit"] == "Persons/Persons/Day"


def test_a_file_without_ranges_has_no_bounds():
    table = ce.load_model(SIR).parameters
    assert table[["lower", "upper"]].isna().all().all()


def test_simulate_checks_the_file_bounds(ranged):
    with pytest.raises(SpecError, match=r"'contact_infectivity' = 1\.5 Persons/Persons/Day is outside its declared "
                                        r"bounds \[0, 1\]"):
        ce.simulate(ranged, params={"contact_infectivity": 1.5})
    with pytest.raises(SpecError, match=r"'duration' = 0\.5 Days is outside its declared bounds \[1, inf\]"):
        ce.simulate(ranged, params={"duration": 0.5}, engine="pysd")
    run = ce.simulate(ranged, params={"contact_infectivity": 1.0, "duration": 100.0})
    assert run.data["infectious"].values[0] == 5.0


def test_simulate_batch_checks_the_file_bounds(ranged):
    with pytest.raises(SpecError, match=r"contact_infectivity.*outside"):
        ce.simulate_batch(ranged, pd.DataFrame({"contact_infectivity": [0.5, -0.1]}))


def test_a_run_does_not_leave_its_bounds_on_the_shared_kernel(ranged):
    """The compiled kernel is cached per file: one call's bounds must not reach another call."""
    from cluster_econ.sd.engine import compile_model

    compiled = compile_model(ranged)
    wide = pd.DataFrame({"contact_infectivity": [0.5, 2.0]})
    before = compiled.run(wide, outputs=["infectious"])  # no bounds given: every value runs
    with pytest.raises(SpecError, match=r"Scenario 1: (?i:parameter) 'contact_infectivity' = 2 .*bounds \[0, 1\]"):
        ce.simulate_batch(ranged, wide, outputs=["infectious"])
    ce.simulate(ranged, params={"contact_infectivity": 0.5})
    after = compiled.run(wide, outputs=["infectious"])
    assert after["infectious"].equals(before["infectious"])
    with pytest.raises(SpecError, match=r"Scenario 1: (?i:parameter) 'contact_infectivity' = 2 .*bounds \[0, 1\]"):
        compiled.run(wide, outputs=["infectious"], bounds={"contact_infectivity": (0.0, 1.0)})


def test_the_shared_kernel_cannot_be_changed(ranged):
    from cluster_econ.sd.engine import compile_model

    compiled = compile_model(ranged)
    with pytest.raises(AttributeError, match=r"CompiledModel is immutable .* bounds= to run\(\)"):
        compiled.bounds = {"contact_infectivity": (0.0, 0.1)}  # type: ignore[attr-defined]
    assert compile_model(ranged) is compiled
