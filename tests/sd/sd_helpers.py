"""Shared paths and small model files for the tests of cluster_econ.sd."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cluster_econ.provenance import file_sha256

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sdmodels"
SIR = FIXTURES / "SIR.mdl"
SUBSCRIPT_2D = FIXTURES / "test_subscript_2d_arrays.mdl"
XMILE = FIXTURES / "test_chained_initialization.xmile"

#: The whole public SD test-model suite, beside the repository (CI lays it there). Without it the few
#: tests that need a model with external files are skipped, except in CI, where they fail.
TEST_MODELS = Path(__file__).resolve().parents[2].parent / "shared" / "test-models"
needs_shared = pytest.mark.skipif(
    not TEST_MODELS.is_dir() and not os.environ.get("CI"),
    reason=f"the shared SD test models are not at {TEST_MODELS}",
)

REGIONAL_MDL = """{UTF-8}
Region: north, south, east
\t~\t
\t~\tRegions of the test economy.
\t|

Partner <-> Region
\t~\t
\t~\tThe same regions, seen as exchange partners.
\t|

Exchange Weight[Region, Partner]=
\t0, 0.5, 0.5; 0.5, 0, 0.5; 0.5, 0.5, 0;
\t~\tDmnl
\t~\tWeight of a partner in a region's exchange.
\t|

Capital[Region]= INTEG (
\tInvestment[Region] - Depreciation[Region],
\t\tInitial Capital[Region])
\t~\tUSD
\t~\tCapital stock by region.
\t|

Initial Capital[Region]=
\t100, 50, 20
\t~\tUSD
\t~\tCapital at the initial time.
\t|

Investment[Region]=
\tInvestment Share * Output[Region]
\t~\tUSD/Year
\t~\tGross investment.
\t|

Output[Region]=
\tCapital[Region] ^ 0.5
\t~\tUSD/Year
\t~\tOutput from capital.
\t|

Depreciation[Region]=
\tDepreciation Rate * Capital[Region]
\t~\tUSD/Year
\t~\tCapital lost to depreciation.
\t|

Depreciation Rate=
\t0.05
\t~\t1/Year
\t~\tShare of capital lost each year.
\t|

Investment Share=
\t0.2
\t~\tDmnl
\t~\tShare of output invested.
\t|

INITIAL TIME  = 1970
\t~\tYear
\t~\tThe initial time for the simulation.
\t|

FINAL TIME  = 1980
\t~\tYear
\t~\tThe final time for the simulation.
\t|

TIME STEP  = 0.25
\t~\tYear [0,?]
\t~\tThe time step for the simulation.
\t|

SAVEPER  = 1
\t~\tYear [0,?]
\t~\tThe frequency with which output is stored.
\t|
"""


def write_regional(folder: Path) -> Path:
    """A small Region-subscripted model written into ``folder``."""
    path = folder / "regional_test.mdl"
    path.write_text(REGIONAL_MDL, encoding="utf-8")
    return path


def make_registry(root: Path, model_id: str = "sir_copy") -> Path:
    """A models folder holding one registered copy of SIR; returns the model folder."""
    folder = root / model_id
    folder.mkdir(parents=True)
    shutil.copyfile(SIR, folder / f"{model_id}.mdl")
    sha = file_sha256(folder / f"{model_id}.mdl")
    (folder / "model.toml").write_text(
        f'id = "{model_id}"\n'
        'version = "1.0.0"\n'
        f'mdl_sha256 = "{sha}"\n'
        'description = "SIR epidemic, registered for tests."\n\n'
        "[[parameter]]\n"
        'name = "contact_infectivity"\nvalue = 0.3\nunit = "Persons/Persons/Day"\nkind = "assumed"\n'
        'lower = 0.0\nupper = 1.0\nsource = "assumed: range explored in sweeps"\n\n'
        "[[parameter]]\n"
        'name = "duration"\nvalue = 5\nunit = "Days"\nkind = "literature"\n'
        'lower = 1.0\nupper = 20.0\nsource = "Textbook value"\n\n'
        "[[history]]\n"
        f'version = "1.0.0"\nmdl_sha256 = "{sha}"\n',
        encoding="utf-8",
    )
    return folder
