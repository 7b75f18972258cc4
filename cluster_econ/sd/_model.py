"""SDModel: a system-dynamics model file with its metadata, and :func:`load_model`."""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _cachefs
from ..errors import ModelFileError, SpecError, unknown_name
from . import _cache, _modelfile, _registry

if TYPE_CHECKING:  # pragma: no cover
    from pysd.py_backend.model import Model
    from pysd.translators.structures.abstract_model import AbstractModel

__all__ = ["CONTROL_VARIABLES", "SDModel", "load_model"]

_NO_BYTECODE = threading.Lock()
_DESCRIBED_LOCK = threading.Lock()

#: PySD names of the simulation control variables, set through ``simulate``'s keywords.
CONTROL_VARIABLES = ("initial_time", "final_time", "time_step", "saveper")

PARAMETER_COLUMNS = ["name", "value", "unit", "kind", "lower", "upper", "source"]
VARIABLE_COLUMNS = ["name", "vensim_name", "unit", "description", "kind", "subscripts"]


@dataclasses.dataclass(frozen=True, eq=False)
class SDModel:
    """A system-dynamics model: its source file, version, parameters and variables.

    Create it with :func:`load_model`. It holds paths and tables only (never a PySD model), so it
    pickles; :meth:`pysd` gives a fresh PySD model whenever one is needed.

    Attributes
    ----------
    id : str
        Registry id (``"regional_cluster"``), or the file stem for an unregistered file.
    version : str or None
        Semantic version from ``model.toml``; None for an unregistered file.
    path : Path
        The ``.mdl`` / ``.xmile`` source file.
    sha256 : str
        sha256 of the source file's bytes when it was loaded.
    description : str
        What the model is for.
    parameters : pandas.DataFrame
        name, value, unit, kind, lower, upper, source. From ``model.toml`` for registered models;
        for an unregistered file, the constants PySD finds (kind ``"unknown"``, bounds NaN).
    variables : pandas.DataFrame
        name (PySD Python name), vensim_name, unit, description, kind (stock, flow, auxiliary,
        constant, lookup, data) and subscripts (tuple of subscript ranges).
    subscripts : dict
        Subscript range -> list of its elements.
    control : dict
        The model's own initial_time, final_time, time_step and saveper.
    registered : bool
        Whether the model comes from the registry (``models/<id>/``).
    """

    id: str
    version: str | None
    path: Path
    sha256: str
    description: str
    registered: bool
    _parameters: pd.DataFrame = dataclasses.field(repr=False)
    _variables: pd.DataFrame = dataclasses.field(repr=False)
    _subscripts: dict[str, list[str]] = dataclasses.field(repr=False)
    _control: dict[str, float] = dataclasses.field(repr=False)
    _no_policy: dict[str, float] = dataclasses.field(repr=False, default_factory=dict)
    _indicators: dict[str, str] = dataclasses.field(repr=False, default_factory=dict)

    @property
    def parameters(self) -> pd.DataFrame:
        return self._parameters.copy()

    @property
    def variables(self) -> pd.DataFrame:
        return self._variables.copy()

    @property
    def subscripts(self) -> dict[str, list[str]]:
        return {name: list(elements) for name, elements in self._subscripts.items()}

    @property
    def control(self) -> dict[str, float]:
        return dict(self._control)

    @property
    def no_policy(self) -> dict[str, float]:
        """Lever -> its no-policy value (``no_policy`` keys of ``model.toml``); empty when none are declared."""
        return dict(self._no_policy)

    @property
    def indicators(self) -> dict[str, str]:
        """Role -> model variable (the ``[indicators]`` table of ``model.toml``, e.g. ``jobs``); may be empty."""
        return dict(self._indicators)

    @property
    def label(self) -> str:
        """``"<id> <version>"`` for registered models, the file name otherwise (for messages)."""
        return f"{self.id} {self.version}" if self.registered else self.path.name

    def __repr__(self) -> str:
        return (f"SDModel(id={self.id!r}, version={self.version!r}, path={str(self.path)!r}, "
                f"sha256={self.sha256[:12]!r}, {len(self._variables)} variables)")

    def pysd(self, *, initialize: bool = True) -> Model:
        """A fresh PySD model loaded from the cached translation of this file.

        Every call returns a new object, so changes made to it never reach other runs. External data
        files (``GET XLS DATA`` and friends) are read relative to the folder of :attr:`path`, as
        Vensim reads them, not relative to the cached translation.

        Parameters
        ----------
        initialize : bool, default True
            Initialise the stocks on load (PySD's ``initialize`` argument).
        """
        return _load_pysd(self.path, self.sha256, initialize=initialize)

    def abstract_model(self) -> AbstractModel:
        """PySD's ``AbstractModel`` of this file, parsed from the cached copy of its source."""
        source = _cache.translated_source(self.path, self.sha256)
        if source.suffix == ".mdl":
            from pysd.translators.vensim.vensim_file import VensimFile

            parsed = VensimFile(source)
        else:
            from pysd.translators.xmile.xmile_file import XmileFile

            parsed = XmileFile(source)
        parsed.parse()
        return parsed.get_abstract_model()

    def resolve(self, name: str, *, what: str = "variable", kinds: Iterable[str] | None = None) -> str:
        """The PySD Python name of a variable given by its Python or Vensim name.

        Exact Python names win, then exact Vensim names, then either ignoring case (as PySD does).

        Raises
        ------
        UnknownNameError
            With a did-you-mean suggestion among the allowed names.
        """
        table = self._variables
        if kinds is not None:
            table = table[table["kind"].isin(list(kinds))]
        py_names = list(table["name"])
        if not isinstance(name, str):
            raise SpecError(f"{what.capitalize()} names must be strings; got {name!r}.")
        if name in py_names:
            return name
        by_vensim = dict(zip(table["vensim_name"], table["name"], strict=True))
        if name in by_vensim:
            return by_vensim[name]
        lower = name.lower()
        for vensim, py in by_vensim.items():
            if lower in (vensim.lower(), py.lower()):
                return py
        raise unknown_name(name, py_names, what, where=self.label)


def _kind(row: pd.Series, flows: set[str]) -> str:
    kind, subtype = row["Type"], row["Subtype"]
    if kind == "Stateful":
        return "stock" if subtype == "Integ" else "auxiliary"
    if kind == "Constant":
        return "constant"
    if kind == "Lookup":
        return "lookup"
    if kind == "Data":
        return "data"
    return "flow" if row["Py Name"] in flows else "auxiliary"


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _flows(dependencies: Mapping[str, Any]) -> set[str]:
    """Variables that appear directly in the rate of an INTEG stock."""
    flows: set[str] = set()
    for name, deps in dependencies.items():
        if name.startswith("_integ_") and isinstance(deps, Mapping):
            flows.update(deps.get("step", {}))
    return flows


def _describe(model: Model) -> tuple[pd.DataFrame, dict[str, float]]:
    doc = model.doc.set_index("Py Name", drop=False)
    order = [name for name in model.namespace.values() if name != "time" and name in doc.index]
    doc = doc.loc[order]  # the model's own order, which is also the order of PySD's output columns
    flows = _flows(model.dependencies)
    variables = pd.DataFrame({
        "name": doc["Py Name"].astype(str).to_numpy(),
        "vensim_name": doc["Real Name"].astype(str).to_numpy(),
        "unit": [_text(u) for u in doc["Units"]],
        "description": [_text(c) for c in doc["Comment"]],
        "kind": [_kind(row, flows) for _, row in doc.iterrows()],
        "subscripts": [tuple(s) if isinstance(s, list | tuple) else () for s in doc["Subscripts"]],
    }, columns=VARIABLE_COLUMNS)
    control = {name: float(getattr(model.time, name)()) for name in CONTROL_VARIABLES}
    return variables.reset_index(drop=True), control


def _constant_value(model: Model, name: str) -> Any:
    try:
        value = model[name]
    except Exception:  # a constant PySD cannot evaluate on its own (external data, ...)
        return np.nan
    if hasattr(value, "dims"):
        return value.copy()
    return float(value)


def _limits(value: Any) -> tuple[float, float]:
    """(lower, upper) from PySD's ``Limits`` (Vensim's ``~ units [min, max]``); NaN where not given."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        return np.nan, np.nan
    bounds = []
    for item in value[:2]:
        try:
            number = float(item)
        except (TypeError, ValueError):
            number = np.nan
        bounds.append(number if not math.isinf(number) else np.nan)  # an infinite bound is no bound
    return bounds[0], bounds[1]


def _file_parameters(model: Model, variables: pd.DataFrame, source: Path) -> pd.DataFrame:
    """The constants of an unregistered file; bounds from Vensim's unit ranges (``~ Dmnl [0, 1]``)."""
    table = variables[(variables["kind"] == "constant") & ~variables["name"].isin(CONTROL_VARIABLES)]
    doc = model.doc
    limits = dict(zip(doc["Py Name"], doc["Limits"], strict=True)) if "Limits" in doc else {}
    rows = []
    for name, unit in zip(table["name"], table["unit"], strict=True):
        lower, upper = _limits(limits.get(name))
        rows.append({"name": name, "value": _constant_value(model, name), "unit": unit, "kind": "unknown",
                     "lower": lower, "upper": upper, "source": str(source)})
    return pd.DataFrame(rows, columns=PARAMETER_COLUMNS)


def _registry_parameters(entry: _registry.RegistryEntry, variables: pd.DataFrame) -> pd.DataFrame:
    known = set(variables.loc[variables["kind"].isin(["constant", "lookup", "data"]), "name"])
    rows = []
    for row in entry.parameters:
        name = str(row.get("name", ""))
        if name not in known:
            raise unknown_name(name, sorted(known), "constant",
                               where=f"{entry.source.name} (named in the [[parameter]] table of "
                                     f"{entry.folder / 'model.toml'})")
        rows.append({
            "name": name,
            "value": row.get("value", np.nan),
            "unit": str(row.get("unit", "")),
            "kind": str(row.get("kind", "")),
            "lower": float(row.get("lower", np.nan)),
            "upper": float(row.get("upper", np.nan)),
            "source": str(row.get("source", "")),
        })
    return pd.DataFrame(rows, columns=PARAMETER_COLUMNS)


def _is_path_like(id_or_path: str | Path) -> bool:
    if isinstance(id_or_path, Path):
        return True
    text = str(id_or_path)
    return Path(text).suffix.lower() in _registry.SOURCE_SUFFIXES or "/" in text or "\\" in text


def load_model(id_or_path: str | Path, *, version: str | None = None) -> SDModel:
    """Load a registered model by id, or any Vensim / XMILE model file by path.

    Parameters
    ----------
    id_or_path : str or Path
        A registered model id (see :func:`list_models`), or the path to a ``.mdl`` / ``.xmile`` file.
    version : str, optional
        Pin the version of a registered model: any version in its ``[[history]]``, loaded from
        ``models/<id>/versions/<version>.mdl`` with that release's parameter table
        (``versions/<version>.toml``), both checked against the recorded sha256. None takes the
        current version.

    Returns
    -------
    SDModel

    Raises
    ------
    UnknownNameError
        Unknown model id (with a did-you-mean suggestion).
    ModelVersionError
        ``version`` is not a released version or its kept files are missing, or the ``.mdl`` differs
        from the hash recorded in ``model.toml`` (edited without a version bump).
    SpecError
        A path that does not exist or is not a model file; ``version`` given for an unregistered file.
    ModelFileError
        A file that cannot be a model (a folder, a device, a link loop, empty, binary, UTF-16, above
        ``CLUSTER_ECON_MAX_MODEL_SIZE`` bytes, default 20 MB), that PySD cannot parse (the message gives
        the line and construct), whose translation exceeds ``CLUSTER_ECON_TRANSLATION_TIMEOUT`` seconds
        (default 300) or ``CLUSTER_ECON_TRANSLATION_MEMORY`` bytes, or with names that cannot be
        embedded in PySD's Python safely.

    Notes
    -----
    A model file is data: nothing in it runs when it is loaded. PySD translates it in a separate
    process from a sanitised abstract model, and the generated Python is checked against what PySD's
    builder writes (and against the sha256 recorded in the translation cache) before it is imported.
    For a file, lower and upper bounds of the constants come from Vensim's unit ranges
    (``~ Dmnl [0, 1]``), so ``simulate`` refuses values outside them.

    Examples
    --------
    >>> import cluster_econ as ce
    >>> model = ce.load_model("regional_cluster")  # doctest: +SKIP
    >>> model.parameters[["name", "value", "lower", "upper"]]  # doctest: +SKIP
    """
    if _is_path_like(id_or_path):
        path = Path(os.path.expandvars(os.path.expanduser(str(id_or_path))))
        if not os.path.lexists(path):
            raise SpecError(f"Model file {str(path)!r} does not exist. Give a path to a .mdl or .xmile file "
                            f"or a registered model id ({', '.join(_registry.registered_ids()) or 'none'}).")
        if version is not None:
            raise SpecError(f"version={version!r} applies to registered models only; {path.name} is a "
                            f"file path. Drop version= or load a registered model by id.")
        _modelfile.check_path(path)  # a folder, a device, a link loop ... is named as such
        if path.suffix.lower() not in _registry.SOURCE_SUFFIXES:
            raise SpecError(f"{path} is not a Vensim (.mdl) or XMILE (.xmile, .xml, .stmx) model file.")
        path = path.resolve()
        sha = _cachefs.sha256_bytes(_modelfile.read_model_bytes(path))
        entry = None
    else:
        entry = _registry.entry_for_version(_registry.find_entry(str(id_or_path)), version)
        sha = _registry.check_version(entry, version)
        path = entry.source.resolve()
    variables, control, subscripts, file_parameters = _described(path, sha, registered=entry is not None)
    if entry is None:
        return SDModel(id=path.stem, version=None, path=path, sha256=sha, description="", registered=False,
                       _parameters=file_parameters, _variables=variables, _subscripts=subscripts, _control=control)
    return SDModel(id=entry.id, version=entry.version, path=path, sha256=sha,
                   description=entry.description, registered=True,
                   _parameters=_registry_parameters(entry, variables), _variables=variables,
                   _subscripts=subscripts, _control=control, _no_policy=_no_policy(entry, variables),
                   _indicators=_checked_indicators(entry, variables))


#: (file, sha256, cache folder, registered) -> what its translation describes, for the last few files loaded.
#: The file's hash is taken on every load, so an edited file is a new key (or refused), never a stale hit.
_DESCRIBED: collections.OrderedDict[tuple, tuple] = collections.OrderedDict()
_DESCRIBED_SIZE = 16


def _described(path: Path, sha256: str, *, registered: bool) -> tuple[pd.DataFrame, dict[str, float],
                                                                       dict[str, list[str]], pd.DataFrame]:
    """Variables, control, subscripts and (for a file) constants of a translation, each a fresh copy.

    A registered model's constants come from its ``model.toml``, so its translation is loaded without
    PySD's ``initialize`` (which evaluates every stock); a file's constants are read from the initialised
    model. Either is done once per file, hash and cache folder in a process; the cached translation is
    checked on every call.
    """
    key = (str(path), sha256, str(_cachefs.configured_base()), registered)
    with _DESCRIBED_LOCK:
        found = _DESCRIBED.get(key)
    if found is not None:
        _cache.translated_model_file(path, sha256)  # the cached translation is checked (and rebuilt) all the same
    else:
        model = _load_pysd(path, sha256, initialize=not registered)
        if registered:
            try:
                _bind_time(model)
            except AttributeError:  # a PySD whose internals differ from 3.14's: its full initialisation
                model.initialize()
        variables, control = _describe(model)
        subscripts = {name: list(elements) for name, elements in model.subscripts.items()}
        parameters = (pd.DataFrame(columns=PARAMETER_COLUMNS) if registered
                      else _file_parameters(model, variables, path))
        found = (variables, control, subscripts, parameters)
        with _DESCRIBED_LOCK:
            _DESCRIBED[key] = found
            while len(_DESCRIBED) > _DESCRIBED_SIZE:
                _DESCRIBED.popitem(last=False)
    variables, control, subscripts, parameters = found
    parameters = parameters.copy()
    parameters["value"] = [v.copy() if hasattr(v, "copy") else v for v in parameters["value"]]
    return (variables.copy(), dict(control), {name: list(elements) for name, elements in subscripts.items()},
            parameters)


def _bind_time(model: Model) -> None:
    """The first steps of PySD's ``Model.initialize`` (PySD 3.14): bind the time object, so that control
    variables defined by others (``SAVEPER = TIME STEP``) can be read, without evaluating the stocks."""
    if model.time is None:
        model.time = model.time_initialization()
    model.time.reset()
    model.components._init_outer_references({"scope": model, "time": model.time})


def _no_policy(entry: _registry.RegistryEntry, variables: pd.DataFrame) -> dict[str, float]:
    """``no_policy`` values of the parameter rows; SpecError if one lies outside the row's bounds."""
    out: dict[str, float] = {}
    for row in entry.parameters:
        if "no_policy" not in row:
            continue
        name, value = str(row["name"]), float(row["no_policy"])
        lower, upper = float(row.get("lower", -math.inf)), float(row.get("upper", math.inf))
        if not lower <= value <= upper:
            raise SpecError(f"no_policy = {value:g} of {name!r} in {entry.folder / 'model.toml'} lies outside its "
                            f"bounds [{lower:g}, {upper:g}]; give a value within them.")
        out[name] = value
    return out


def _checked_indicators(entry: _registry.RegistryEntry, variables: pd.DataFrame) -> dict[str, str]:
    """The ``[indicators]`` table; UnknownNameError if it names a variable the model lacks."""
    known = list(variables["name"])
    for role, name in entry.indicators:
        if name not in known:
            raise unknown_name(name, known, "variable", where=f"{entry.source.name} (indicator {role!r} of the "
                                                              f"[indicators] table of {entry.folder / 'model.toml'})")
    return dict(entry.indicators)


def _load_pysd(path: Path, sha256: str, *, initialize: bool = True) -> Model:
    import pysd

    py_file = _cache.translated_model_file(path, sha256)
    with _NO_BYTECODE:  # byte code beside the verified source would be imported unverified next time
        previous = sys.dont_write_bytecode
        sys.dont_write_bytecode = True
        try:
            model = pysd.load(str(py_file), initialize=False)
        except Exception as err:  # a translation PySD itself cannot load (it was checked: nothing ran)
            raise ModelFileError(f"{path}: PySD translated this model file but cannot load the translation "
                                 f"({type(err).__name__}: {err}). The file is probably incomplete.") from err
        finally:
            sys.dont_write_bytecode = previous
    for element in model._external_elements:  # read external files next to the source, not the cache
        element.root = path.parent
    if initialize:
        model.initialize()
    return model
