"""Running an experiment file: every name checked first, then estimates, run, calibration, sweep, report.

The output folder holds ``experiment.toml`` (a copy of the file), ``study.toml`` (the results in the
order they were made), one saved result folder per step under ``results/``, and ``report.html``. It is
built next to its destination and renamed into place at the end.
"""

from __future__ import annotations

import inspect
import logging
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from .. import _toml
from ..errors import ClusterEconError, SpecError, UnknownNameError
from ._report import report
from ._save import load_result, save
from ._schema import ExperimentError, check_name, read_experiment, rethrow

__all__ = ["Study", "load_study", "run_experiment"]

logger = logging.getLogger(__name__)

ESTIMATORS = ("panel_ols", "between_ols", "random_effects", "first_difference", "arellano_bond", "poisson_fe",
              "count_model")
STUDY = "study.toml"


@dataclass
class Study:
    """The results of an experiment, by step name, and where they were saved."""

    folder: Path
    spec: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)
    prim: Any = None

    @property
    def report_path(self) -> Path:
        return self.folder / "report.html"

    def labelled(self) -> dict[str, Any]:
        out = dict(self.results)
        if self.prim is not None:
            out["Scenario discovery (PRIM)"] = self.prim
        return out


# -- name checks -----------------------------------------------------------------------------------
def _load_model(where: str, spec: Mapping[str, Any], base: Path) -> Any:
    import cluster_econ as ce

    model = spec["model"]
    try:
        if "path" in model:
            path = Path(model["path"])
            return ce.load_model(path if path.is_absolute() else (base / path))
        return ce.load_model(model["id"], version=model.get("version"))
    except UnknownNameError as exc:
        raise rethrow(where, "model.id", exc) from exc
    except ClusterEconError as exc:
        raise rethrow(where, "model.path" if "path" in model else "model.version", exc) from exc


def _names(model: Any, kinds: tuple[str, ...] | None = None) -> list[str]:
    table = model.variables
    if kinds is not None:
        table = table[table["kind"].isin(list(kinds))]
    return [*table["name"], *table["vensim_name"]]


def _option(where: str, path: str, value: Any, alias: Any) -> None:
    check_name(where, path, value, get_args(alias), "valid option")


@dataclass(frozen=True)
class _Names:
    """The names an experiment file's names are checked against, and where to report a bad one."""

    where: str
    model: Any
    constants: list[str]
    variables: list[str]
    datasets: list[str]

    def constant(self, path: str, name: str) -> None:
        check_name(self.where, path, name, self.constants, f"constant of {self.model.label}")

    def variable(self, path: str, name: str) -> None:
        check_name(self.where, path, name, self.variables, f"variable of {self.model.label}")

    def dataset(self, path: str, name: str) -> None:
        check_name(self.where, path, name, self.datasets, "bundled dataset")


def _check_estimation(names: _Names, estimation: list[Mapping[str, Any]]) -> None:
    for i, est in enumerate(estimation):
        check_name(names.where, f"estimation[{i}].estimator", est["estimator"], ESTIMATORS, "estimator")
        names.dataset(f"estimation[{i}].dataset", est["dataset"])


def _check_simulation(names: _Names, sim: Mapping[str, Any]) -> None:
    for name in sim.get("params", {}):
        names.constant(f"simulation.params.{name}", name)
    for name in sim.get("outputs", []):
        names.variable("simulation.outputs", name)
    if "engine" in sim:
        check_name(names.where, "simulation.engine", sim["engine"], ("auto", "batch", "pysd"), "valid option")
    if "method" in sim:
        check_name(names.where, "simulation.method", sim["method"], ("euler", "rk4"), "valid option")


def _check_calibration(names: _Names, cal: Mapping[str, Any]) -> None:
    import cluster_econ as ce

    from ..calibration import _calibrate as calibration

    names.dataset("calibration.panel", cal["panel"])
    columns = list(ce.load_dataset(cal["panel"]).variables)
    for variable, column in cal["targets"].items():
        names.variable(f"calibration.targets.{variable}", variable)
        column = column[0] if isinstance(column, list) else column
        check_name(names.where, f"calibration.targets.{variable}", str(column), columns, f"column of {cal['panel']}")
    for name in cal["parameters"]:
        names.constant("calibration.parameters", name)
    for name in (*cal.get("fixed", {}), *cal.get("fixed_from_estimates", {})):
        names.constant("calibration.fixed", name)
    for key, alias in (("loss", calibration.Loss), ("cov_type", calibration.CovType)):
        if key in cal:
            _option(names.where, f"calibration.{key}", cal[key], alias)


def _check_sweep_keys(where: str, sweep: Mapping[str, Any], accepted: Mapping[str, Any]) -> None:
    """Keys of [sweep] that the installed sweep() does not take."""
    for key in ("executor", "store"):
        if key in sweep and key not in accepted:
            raise ExperimentError(f"{where}: sweep.{key}: this version of cluster_econ's sweep() takes no "
                                  f"{key}=; remove the key.")


def _check_sweep_rows(names: _Names, sweep: Mapping[str, Any]) -> None:
    """The [[sweep.lever]], [[sweep.uncertainty]] and [[sweep.outcome]] rows (at least one outcome)."""
    for table in ("lever", "uncertainty"):
        for i, row in enumerate(sweep.get(table, [])):
            names.constant(f"sweep.{table}[{i}].name", row["name"])
    for i, row in enumerate(sweep.get("outcome", [])):
        names.variable(f"sweep.outcome[{i}].variable", row["variable"])
    if not sweep.get("outcome"):
        raise ExperimentError(f"{names.where}: sweep.outcome: give at least one [[sweep.outcome]].")


def _check_sweep_options(where: str, sweep: Mapping[str, Any], accepted: Mapping[str, Any]) -> None:
    from ..sweeps import _designs

    if "design" in sweep:
        _option(where, "sweep.design", sweep["design"], _designs.Design)
    if "executor" in sweep and "executor" in accepted:
        from ..sd import _executors

        check_name(where, "sweep.executor", sweep["executor"],
                   [e for e in _executors.EXECUTORS if isinstance(e, str)], "executor")


def _check_sweep_indicators(names: _Names, sweep: Mapping[str, Any]) -> None:
    """sweep.reference names levers of the sweep; sweep.indicators maps indicator roles to variables."""
    from ..sweeps import _indicators

    levers = [row["name"] for row in sweep.get("lever", [])]
    for name in sweep.get("reference", {}):
        check_name(names.where, f"sweep.reference.{name}", name, levers, "lever of this sweep")
    for role, value in sweep.get("indicators", {}).items():
        if role in ("discount_rate", "horizon"):
            continue
        check_name(names.where, f"sweep.indicators.{role}", role, _indicators.ROLES, "indicator role")
        names.variable(f"sweep.indicators.{role}", str(value))


def _check_prim(where: str, prim: Mapping[str, Any], sweep: Mapping[str, Any]) -> None:
    from ..sweeps import _indicators

    outcomes = [row.get("name", row["variable"]) for row in sweep.get("outcome", [])]
    check_name(where, "prim.indicator", prim["indicator"], [*_indicators.INDICATORS, *outcomes],
               "indicator or outcome of this sweep")


def _check_sweep(names: _Names, sweep: Mapping[str, Any], prim: Mapping[str, Any] | None) -> None:
    import cluster_econ as ce

    accepted = inspect.signature(ce.sweep).parameters
    _check_sweep_keys(names.where, sweep, accepted)
    _check_sweep_rows(names, sweep)
    _check_sweep_options(names.where, sweep, accepted)
    _check_sweep_indicators(names, sweep)
    if prim:
        _check_prim(names.where, prim, sweep)


def _check(where: str, spec: Mapping[str, Any], model: Any) -> None:
    """Every name in ``spec`` (models' variables, datasets, options) checked before any work is done."""
    import cluster_econ as ce

    names = _Names(where, model, constants=_names(model, ("constant", "lookup", "data")), variables=_names(model),
                   datasets=list(ce.list_datasets()["name"]))
    _check_estimation(names, spec.get("estimation", []))
    _check_simulation(names, spec.get("simulation", {}))
    if spec.get("calibration"):
        _check_calibration(names, spec["calibration"])
    if spec.get("sweep"):
        _check_sweep(names, spec["sweep"], spec.get("prim"))


# -- steps -----------------------------------------------------------------------------------------
def _estimate(spec: Mapping[str, Any]) -> Any:
    import cluster_econ as ce

    options = {k: (tuple(v) if isinstance(v, list) else v) for k, v in spec.items()
               if k not in ("label", "estimator", "formula", "dataset")}
    return getattr(ce, spec["estimator"])(spec["formula"], ce.load_dataset(spec["dataset"]), **options)


def _calibrate(model: Any, spec: Mapping[str, Any], estimates: list[Any], where: str) -> Any:
    import cluster_econ as ce

    targets = {k: (tuple(v) if isinstance(v, list) else v) for k, v in spec["targets"].items()}
    parameters = spec["parameters"]
    if isinstance(parameters, Mapping):
        parameters = {k: tuple(v) for k, v in parameters.items()}
    fixed: dict[str, float] = dict(spec.get("fixed", {}))
    if spec.get("fixed_from_estimates"):
        try:
            derived = ce.parameters_from_estimates(estimates[0], dict(spec["fixed_from_estimates"]))
        except ClusterEconError as exc:
            raise rethrow(where, "calibration.fixed_from_estimates", exc) from exc
        fixed = {**derived.to_params(), **fixed}
    options = {k: spec[k] for k in ("loss", "weights", "cov_type", "n_starts", "seed", "n_boot", "max_nfev")
               if k in spec}
    if "holdout" in spec:
        options["holdout"] = tuple(spec["holdout"])
    return ce.calibrate(model, ce.load_dataset(spec["panel"]), targets=targets, parameters=parameters,
                        fixed=fixed or None, **options)


def _sweep(model: Any, spec: Mapping[str, Any], calibration: Any, n: int | None, base: Path) -> Any:
    import cluster_econ as ce

    levers = [ce.Lever(row["name"], row.get("lower", min(row.get("values", [0]))),
                       row.get("upper", max(row.get("values", [0]))), values=row.get("values"))
              for row in spec.get("lever", [])]
    uncertainties = [ce.Uncertainty(row["name"], row["lower"], row["upper"],
                                    **{k: v for k, v in row.items() if k not in ("name", "lower", "upper")})
                     for row in spec.get("uncertainty", [])]
    if spec.get("uncertainties_from_calibration"):
        uncertainties += list(ce.uncertainties_from(calibration))
    outcomes = [ce.Outcome(row["variable"], **{k: v for k, v in row.items() if k != "variable"})
                for row in spec["outcome"]]
    options = {k: spec[k] for k in ("design", "seed", "reference", "indicators", "chunk_size", "executor")
               if k in spec}
    if "store" in spec:  # relative to the experiment file, like model.path
        store = Path(spec["store"])
        options["store"] = store if store.is_absolute() else base / store
    return ce.sweep(model, levers=levers, uncertainties=uncertainties, outcomes=outcomes,
                    n=int(n if n is not None else spec["n"]), **options)


def prim_of(sweep_result: Any, spec: Mapping[str, Any]) -> Any:
    """The PRIM box an experiment's ``[prim]`` asks for, on a sweep result."""
    import cluster_econ as ce

    name = spec["indicator"]
    frame = sweep_result.indicators if name in sweep_result.indicators.columns else sweep_result.outcomes
    values = frame[name]
    condition = values > spec["above"] if "above" in spec else values < spec["below"]
    options = {k: spec[k] for k in ("peel_alpha", "paste_alpha", "mass_min", "threshold") if k in spec}
    return ce.prim(sweep_result, condition, **options)


# -- the whole study -------------------------------------------------------------------------------
def _steps(spec: Mapping[str, Any], model: Any, where: str, n: int | None,
           base: Path) -> list[tuple[str, Callable[[dict], Any]]]:
    import cluster_econ as ce

    steps: list[tuple[str, Callable[[dict], Any]]] = []
    def estimation(est: Mapping[str, Any], label: str) -> Callable[[dict], Any]:
        return lambda done: (label, _estimate(est))

    for i, est in enumerate(spec.get("estimation", [])):
        steps.append((f"estimation/{i}", estimation(est, est.get("label", f"estimate {i + 1}: {est['estimator']}"))))
    if "calibration" in spec:
        def calibrate(done: dict) -> tuple[str, Any]:
            estimates = [done[k][1] for k in done if k.startswith("estimation/")]  # in the file's order
            return "calibration", _calibrate(model, spec["calibration"], estimates, where)
        steps.append(("calibration", calibrate))
    if "simulation" in spec:
        def simulate(done: dict) -> tuple[str, Any]:
            sim = {k: v for k, v in spec["simulation"].items() if k != "calibrated"}
            params = dict(sim.pop("params", {}))
            if spec["simulation"].get("calibrated"):
                params = {**done["calibration"][1].to_params(), **params}
            return "simulation", ce.simulate(model, params=params or None, **sim)
        steps.append(("simulation", simulate))
    if "sweep" in spec:
        steps.append(("sweep", lambda done: ("policy sweep", _sweep(model, spec["sweep"], done.get(
            "calibration", (None, None))[1], n, base))))
    return steps


def _replace_folder(tmp: Path, target: Path) -> None:
    if target.exists():
        if not (target / STUDY).is_file() and any(target.iterdir()):
            raise SpecError(f"{target} is a non-empty folder that holds no study ({STUDY}); refusing to replace "
                            f"it. Choose an empty or new --output folder.")
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / "old")
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


def run_experiment(path: str | Path, output: str | Path, *, n: int | None = None) -> Study:
    """Run an experiment file into a study folder.

    Parameters
    ----------
    path : str or Path
        The experiment TOML file.
    output : str or Path
        The folder to write (results, ``study.toml``, ``report.html``).
    n : int, optional
        Override ``[sweep] n`` (smaller studies for tests).

    Raises
    ------
    ExperimentError
        Unknown keys, wrong types, unknown names, with the file and key path, before any work.
    """
    file = Path(path).expanduser().resolve()
    where = str(file)
    spec = read_experiment(file)
    model = _load_model(where, spec, file.parent)
    _check(where, spec, model)
    target = Path(output).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not (target / STUDY).is_file() and any(target.iterdir()):
        raise SpecError(f"{target} is a non-empty folder that holds no study ({STUDY}); choose another --output.")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        shutil.copyfile(file, tmp / "experiment.toml")
        done: dict[str, tuple[str, Any]] = {}
        rows = []
        for key, step in _steps(spec, model, where, n, file.parent):
            logger.info("experiment %s: %s", file.name, key)
            done[key] = step(done)
            label, result = done[key]
            folder = f"results/{key.replace('/', '-')}"
            save(result, tmp / folder)
            rows.append({"name": label, "step": key, "path": folder})
        study = Study(tmp, spec, {label: result for label, result in done.values()})
        if "prim" in spec:
            study.prim = prim_of(done["sweep"][1], spec["prim"])
        meta = {"format": "cluster_econ study", "experiment": "experiment.toml", "n_override": n, "result": rows}
        (tmp / STUDY).write_text(_toml.dumps(meta), encoding="utf-8")
        if spec.get("report", {}).get("enabled", True):
            report(study.labelled(), tmp / "report.html", title=_title(spec))
        _replace_folder(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    study.folder = target
    return study


def _title(spec: Mapping[str, Any]) -> str:
    return str(spec.get("report", {}).get("title") or spec.get("experiment", {}).get("title") or "cluster_econ study")


def load_study(folder: str | Path) -> Study:
    """A study folder read back: its experiment, its saved results, and its PRIM box recomputed."""
    root = Path(folder).expanduser()
    index = root / STUDY
    if not index.is_file():
        raise SpecError(f"{root} holds no {STUDY}: give a folder written by `cluster-econ run`.")
    meta = tomllib.loads(index.read_text(encoding="utf-8"))
    spec = tomllib.loads((root / meta.get("experiment", "experiment.toml")).read_text(encoding="utf-8"))
    study = Study(root, spec)
    sweep = None
    for row in meta.get("result", []):
        study.results[row["name"]] = load_result(root / row["path"])
        if row["step"] == "sweep":
            sweep = study.results[row["name"]]
    if "prim" in spec and sweep is not None:
        study.prim = prim_of(sweep, spec["prim"])
    return study


def result_folders(folder: str | Path) -> list[tuple[str, Path]]:
    """(name, folder) of each result of a study, or the folder itself when it is one saved result."""
    root = Path(folder).expanduser()
    if (root / STUDY).is_file():
        meta = tomllib.loads((root / STUDY).read_text(encoding="utf-8"))
        return [(row["name"], root / row["path"]) for row in meta.get("result", [])]
    return [(root.name, root)]


def rebuild_report(folder: str | Path) -> Path:
    study = load_study(folder)
    return report(study.labelled(), study.report_path, title=_title(study.spec))
