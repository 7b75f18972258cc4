"""The calibration problem: parameters and bounds, targets and units, regions and times matched to a panel."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cluster_econ.errors import DataValidationError, SpecError, UnknownNameError, did_you_mean, plain, unknown_name

__all__ = ["Problem", "Target", "as_params", "build_problem", "normalise_name", "number", "units_match"]


def normalise_name(name: Any) -> str:
    """A region name without case, spaces or punctuation (``"New York"`` = ``"NEW_YORK"``)."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


_UNIT_WORDS = {"jobs": "persons", "job": "persons", "people": "persons", "person": "persons", "workers": "persons",
               "employees": "persons", "thousands": "thousand", "millions": "million", "%": "percent",
               "dimensionless": "dmnl", "fraction": "dmnl", "1": "dmnl", "m": "million", "usd": "usd"}


def _unit_key(unit: str) -> str:
    text = re.sub(r"\([^)]*\)", " ", unit.lower())  # "(1982 prices)" qualifies, it does not change the unit
    text = re.sub(r"\s*(/\s*year|/\s*yr|per\s+year|/\s*annum)\s*$", "", text.strip())  # annual data of a flow
    words = [_UNIT_WORDS.get(w, w) for w in re.split(r"[\s,]+", text) if w]
    return " ".join(sorted(words))


def units_match(model_unit: str, data_unit: str) -> bool | None:
    """True or False when both units are known; None when either is empty (nothing to compare).

    Units are compared after dropping qualifiers in parentheses (price bases), a trailing ``/Year``
    (annual observations of a flow), case, word order and a few synonyms (jobs = persons, % = percent).
    """
    if not str(model_unit).strip() or not str(data_unit).strip():
        return None
    return _unit_key(str(model_unit)) == _unit_key(str(data_unit))


def number(value: Any) -> Any:
    """A number for messages: an integral float as an int (1971.0 -> 1971)."""
    value = plain(value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def as_params(value: Any, what: str) -> dict[str, float]:
    """A mapping of parameter values from a mapping or from an object with ``to_params()``."""
    if value is None:
        return {}
    if hasattr(value, "to_params") and callable(value.to_params):
        value = value.to_params()
    if not isinstance(value, Mapping):
        raise SpecError(f"{what} must be a mapping of parameter name to value, or an object with to_params() "
                        f"(ParameterEstimates, CalibrationResult); got {type(value).__name__}.")
    return dict(value)


@dataclasses.dataclass(frozen=True)
class Target:
    """One model variable fitted to one panel column (``scale`` converts model units to data units)."""

    variable: str
    column: str
    scale: float
    model_unit: str
    data_unit: str


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """Everything a calibration needs, checked and matched, as arrays.

    Observations are stacked in one vector (target-major, then region, then time); ``obs_*`` arrays
    give, for each observation, its target, model-region column, saved-time row and panel group.
    """

    model: Any
    names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    start: np.ndarray
    fixed: Mapping[str, float]
    targets: tuple[Target, ...]
    region_dim: str
    model_regions: tuple[str, ...]
    groups: tuple[str, ...]            # panel entities, in panel order
    group_region: np.ndarray           # group -> model-region index
    times: np.ndarray                  # saved times of the run (panel periods used)
    initial_time: float
    final_time: float
    saveper: float
    observed: np.ndarray               # (n_obs,)
    obs_target: np.ndarray
    obs_group: np.ndarray
    obs_time: np.ndarray               # index into ``times``
    in_fit: np.ndarray                 # bool: used in the fit (not held out)
    loss: str

    @property
    def n_params(self) -> int:
        return len(self.names)

    def to_natural(self, u: np.ndarray) -> np.ndarray:
        """Parameters from their scaled values in [0, 1] (0 = lower bound, 1 = upper bound)."""
        return self.lower + np.asarray(u, dtype=float) * (self.upper - self.lower)

    def to_scaled(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) - self.lower) / (self.upper - self.lower)


def _parameter_items(parameters: Any) -> list[tuple[Any, Any]]:
    """``parameters`` as (name as given, bounds or None) pairs."""
    if isinstance(parameters, str) or not isinstance(parameters, Mapping | Sequence):
        raise SpecError(f"parameters must be a list of names or a mapping name -> (lower, upper); got "
                        f"{parameters!r}.")
    items = list(parameters.items()) if isinstance(parameters, Mapping) else [(p, None) for p in parameters]
    if not items:
        raise SpecError("parameters is empty: name at least one parameter to fit.")
    return items


def _fittable_name(model: Any, given: Any, subscripts: Mapping[str, Any]) -> str:
    """The resolved name of a scalar constant that is not a simulation control variable."""
    name: str = model.resolve(given, what="constant", kinds={"constant"})
    if name in ("initial_time", "final_time", "time_step", "saveper"):
        raise SpecError(f"{given!r} is a simulation control variable; it cannot be calibrated.")
    if subscripts.get(name):
        raise SpecError(f"Parameter {name!r} of {model.label} is subscripted by {list(subscripts[name])}; "
                        "calibrate scalar constants (one value for every region).")
    return name


def _given_bounds(model: Any, name: str, bounds: Any, declared: tuple[float, float]) -> tuple[float, float]:
    """``bounds`` (the declared ones when None) as two finite numbers lower < upper."""
    if bounds is None:
        if not (math.isfinite(declared[0]) and math.isfinite(declared[1])):
            raise SpecError(f"Parameter {name!r} has no declared bounds in {model.label}; give parameters as a "
                            f"mapping name -> (lower, upper), e.g. {{{name!r}: (0.0, 1.0)}}.")
        bounds = declared
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError) as err:
        raise SpecError(f"Bounds of parameter {name!r} must be two numbers (lower, upper); got "
                        f"{plain(bounds)!r}.") from err
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise SpecError(f"Bounds of parameter {name!r} are ({lo:g}, {hi:g}); give finite bounds with "
                        "lower < upper.")
    return lo, hi


def _check_within_declared(model: Any, name: str, lo: float, hi: float, declared: tuple[float, float]) -> None:
    if (math.isfinite(declared[0]) and lo < declared[0]) or (math.isfinite(declared[1]) and hi > declared[1]):
        raise SpecError(f"Bounds ({lo:g}, {hi:g}) of parameter {name!r} reach outside its declared bounds "
                        f"[{declared[0]:g}, {declared[1]:g}] in {model.label}; choose bounds within them.")


def _parameter_bounds(model: Any, parameters: Any) -> tuple[list[str], list[float], list[float]]:
    table = model.parameters.set_index("name")
    items = _parameter_items(parameters)
    subscripts = dict(zip(model.variables["name"], model.variables["subscripts"], strict=True))
    names, lower, upper = [], [], []
    for given, bounds in items:
        name = _fittable_name(model, given, subscripts)
        declared = (float(table.loc[name, "lower"]), float(table.loc[name, "upper"])) if name in table.index \
            else (math.nan, math.nan)
        lo, hi = _given_bounds(model, name, bounds, declared)
        _check_within_declared(model, name, lo, hi, declared)
        if name in names:
            raise SpecError(f"Parameter {name!r} is named twice in parameters.")
        names.append(name)
        lower.append(lo)
        upper.append(hi)
    return names, lower, upper


def _start_values(model: Any, names: list[str], lower: list[float], upper: list[float],
                  start: Mapping[str, float] | None) -> np.ndarray:
    table = model.parameters.set_index("name")
    given = {model.resolve(k, what="constant", kinds={"constant"}): float(v) for k, v in (start or {}).items()}
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise unknown_name(unknown[0], names, "parameter being fitted", where="start")
    out = []
    for name, lo, hi in zip(names, lower, upper, strict=True):
        value = given.get(name)
        if value is None and name in table.index:
            try:
                value = float(table.loc[name, "value"])
            except (TypeError, ValueError):
                value = None
        if value is None or not math.isfinite(value) or not lo <= value <= hi:
            if name in given:
                raise SpecError(f"start value {value!r} of {name!r} is outside its bounds ({lo:g}, {hi:g}).")
            value = (lo + hi) / 2
        out.append(value)
    return np.asarray(out, dtype=float)


def _fixed_values(model: Any, fixed: Any, names: list[str]) -> dict[str, float]:
    from cluster_econ.sd._inputs import check_params

    values = as_params(fixed, "fixed")
    checked = check_params(model, values)  # names resolved, bounds declared in model.toml checked
    out = {}
    for name, value in checked.items():
        if name in names:
            raise SpecError(f"Parameter {name!r} is both fitted (parameters) and fixed (fixed); drop it from one.")
        if not isinstance(value, float):
            raise SpecError(f"fixed value of {name!r} must be a number; got {type(value).__name__}.")
        out[name] = value
    return out


def _targets(model: Any, panel: Any, targets: Any) -> list[Target]:
    if not isinstance(targets, Mapping) or not targets:
        raise SpecError("targets must be a non-empty mapping of model variable -> panel column, e.g. "
                        "{'output': 'gsp'} (or -> (column, scale) when units differ).")
    units = dict(zip(model.variables["name"], model.variables["unit"], strict=True))
    out: list[Target] = []
    for variable, spec in targets.items():
        name = model.resolve(variable, what="variable")
        column, scale = (spec[0], spec[1] if len(spec) > 1 else None) if isinstance(spec, tuple | list) \
            else (spec, None)
        if not isinstance(column, str):
            raise SpecError(f"Target {variable!r} must map to a panel column name or (column, scale); got {spec!r}.")
        if column not in panel.variables:
            raise unknown_name(column, panel.variables, "column", where=panel.name or "the panel")
        model_unit, data_unit = str(units.get(name, "")), str(panel.units.get(column, ""))
        if scale is None:
            if units_match(model_unit, data_unit) is False:
                raise SpecError(
                    f"Target {name!r} is in {model_unit!r} in {model.label} but column {column!r} is in "
                    f"{data_unit!r}: give a scale converting model units to data units, e.g. "
                    f"targets={{{name!r}: ({column!r}, 100)}} (simulated values are multiplied by it).")
            scale = 1.0
        scale = float(scale)
        if not math.isfinite(scale) or scale <= 0:
            raise SpecError(f"Scale of target {name!r} must be a positive number; got {plain(scale)!r}.")
        if any(t.variable == name for t in out):
            raise SpecError(f"Model variable {name!r} is a target twice.")
        out.append(Target(name, column, scale, model_unit, data_unit))
    return out


def _region_dim(model: Any, targets: list[Target]) -> tuple[str, list[str]]:
    dims = dict(zip(model.variables["name"], model.variables["subscripts"], strict=True))
    found = {t.variable: tuple(dims.get(t.variable, ())) for t in targets}
    for name, d in found.items():
        if len(d) != 1:
            raise SpecError(f"Target {name!r} of {model.label} has subscripts {list(d)}; a target must be "
                            "subscripted by exactly one range of regions to be matched to panel entities.")
    ranges = {d[0] for d in found.values()}
    if len(ranges) > 1:
        raise SpecError(f"Targets are subscripted by different ranges {sorted(ranges)}; use targets over one "
                        "range of regions.")
    dim = ranges.pop()
    return dim, list(model.subscripts[dim])


def _match_regions(model: Any, panel: Any, regions: list[str]) -> list[int]:
    by_key = {normalise_name(r): i for i, r in enumerate(regions)}
    entities = [str(e) for e in panel.entities]
    matched, unmatched = [], []
    for entity in entities:
        index = by_key.get(normalise_name(entity))
        (unmatched.append(entity) if index is None else matched.append(index))
    seen: dict[int, str] = {}
    for entity, index in zip([e for e in entities if normalise_name(e) in by_key], matched, strict=True):
        if index in seen:
            raise SpecError(f"Panel entities {seen[index]!r} and {entity!r} both match region {regions[index]!r} of "
                            f"{model.label} (names are matched ignoring case, spaces and punctuation); keep one.")
        seen[index] = entity
    if unmatched or len(matched) < 2:
        hints = []
        for entity in unmatched[:5]:
            close = did_you_mean(entity, regions)
            hints.append(f"{entity!r}" + (f" (closest: {', '.join(map(repr, close))})" if close else ""))
        shown = ", ".join(map(repr, regions[:12])) + (f", ... ({len(regions)} in all)" if len(regions) > 12 else "")
        head = (f"Panel entities {', '.join(hints)}{' ...' if len(unmatched) > 5 else ''} match no region of "
                f"{model.label}" if unmatched else f"Only {len(matched)} panel entity matches a region of "
                f"{model.label}; at least 2 are needed")
        raise UnknownNameError(
            f"{head}. Model regions: {shown}; panel {panel.entity!r} values: "
            f"{', '.join(map(repr, entities[:12]))}{' ...' if len(entities) > 12 else ''}. Names are matched "
            "ignoring case, spaces and punctuation; keep only matching entities in the panel.")
    return matched


def _times(model: Any, periods: np.ndarray, holdout: Any) -> tuple[np.ndarray, float, float, float]:
    control = model.control
    t0, tf, sp = control["initial_time"], control["final_time"], control["saveper"]
    periods = np.asarray(periods, dtype=float)
    outside = [number(p) for p in periods if p < t0 - 1e-9 or p > tf + 1e-9]
    if outside:
        raise SpecError(f"Panel times {outside[:6]} are outside the horizon [{t0:g}, {tf:g}] of {model.label}; "
                        "keep only periods within it.")
    steps = (periods - t0) / sp
    off = [number(p) for p, s in zip(periods, steps, strict=True) if abs(s - round(s)) > 1e-6]
    if off:
        raise SpecError(f"Panel times {off[:6]} are not on the saved time grid of {model.label} (from {t0:g} "
                        f"every {sp:g}); keep only periods on the grid.")
    if holdout is not None:
        try:
            first, last = (float(h) for h in holdout)
        except (TypeError, ValueError) as err:
            raise SpecError(f"holdout must be (first, last) periods; got {holdout!r}.") from err
        if first > last or not ((periods >= first) & (periods <= last)).any():
            raise SpecError(f"holdout={plain(tuple(holdout))!r} selects no panel period (periods "
                            f"{number(periods.min())}-{number(periods.max())}); give (first, last) within them.")
    # save only as often as the panel is observed: every gcd of the panel's steps on the saved grid
    every = math.gcd(*[int(v) for v in np.rint(steps)]) or 1
    return periods, float(t0), float(periods.max()), float(sp * every)


def build_problem(model: Any, panel: Any, *, targets: Any, parameters: Any, fixed: Any, loss: str,
                  holdout: Any, start: Mapping[str, float] | None = None) -> Problem:
    """Check every input of a calibration and match the model to the panel."""
    from cluster_econ.data import RegionalPanel

    if not isinstance(panel, RegionalPanel):
        raise SpecError(f"panel must be a RegionalPanel (ce.load_dataset or RegionalPanel.from_frame); got "
                        f"{type(panel).__name__}.")
    names, lower, upper = _parameter_bounds(model, parameters)
    fixed_values = _fixed_values(model, fixed, names)
    start_values = _start_values(model, names, lower, upper, start)
    target_list = _targets(model, panel, targets)
    region_dim, regions = _region_dim(model, target_list)
    group_region = _match_regions(model, panel, regions)
    # the targets are used as numbers: a label column is refused here, with the message of panel.numeric
    frame = pd.DataFrame({t.column: panel.numeric(t.column, purpose=f"as the calibration target of {t.variable!r}")
                          for t in target_list}).dropna(how="all")
    for target in target_list:
        if not frame[target.column].notna().any():
            raise DataValidationError(
                f"Target {target.variable!r}: column {target.column!r} of {panel.name or 'the panel'} has no "
                "observation (every value is missing); choose a column with data."
            )
    periods = np.sort(frame.index.get_level_values(1).unique().to_numpy())
    times, t0, tf, sp = _times(model, periods, holdout)
    groups = [str(e) for e in panel.entities]
    group_index = {g: i for i, g in enumerate(groups)}
    time_index = {float(t): i for i, t in enumerate(times)}
    observed, o_target, o_group, o_time = [], [], [], []
    for k, target in enumerate(target_list):
        series = frame[target.column].dropna()
        ents = series.index.get_level_values(0).astype(str)
        tims = series.index.get_level_values(1).astype(float)
        values = series.to_numpy(dtype=float)
        if loss == "log" and (values <= 0).any():
            j = int(np.flatnonzero(values <= 0)[0])
            raise SpecError(f"loss='log' needs positive data, but target {target.variable!r} (column "
                            f"{target.column!r}) is {plain(values[j])!r} for region {ents[j]!r} at time "
                            f"{number(tims[j])!r}; use loss='level' or drop the observation.")
        observed.append(values)
        o_target.append(np.full(len(values), k))
        o_group.append(np.array([group_index[e] for e in ents], dtype=int))
        o_time.append(np.array([time_index[float(t)] for t in tims], dtype=int))
    obs_time = np.concatenate(o_time)
    in_fit = np.ones(len(obs_time), dtype=bool)
    if holdout is not None:
        first, last = (float(h) for h in holdout)
        in_fit = ~((times[obs_time] >= first) & (times[obs_time] <= last))
    if in_fit.sum() <= len(names):
        raise SpecError(f"Only {int(in_fit.sum())} observations are left for the fit of {len(names)} parameters; "
                        "use more data or a shorter holdout.")
    return Problem(
        model=model, names=tuple(names), lower=np.asarray(lower), upper=np.asarray(upper), start=start_values,
        fixed=fixed_values, targets=tuple(target_list), region_dim=region_dim, model_regions=tuple(regions),
        groups=tuple(groups), group_region=np.asarray(group_region, dtype=int), times=times, initial_time=t0,
        final_time=tf, saveper=sp, observed=np.concatenate(observed), obs_target=np.concatenate(o_target),
        obs_group=np.concatenate(o_group), obs_time=obs_time, in_fit=in_fit, loss=loss,
    )


def observations_frame(problem: Problem) -> pd.DataFrame:
    """region, time, target, column of every observation (in the order of the stacked vector)."""
    return pd.DataFrame({
        "region": np.asarray(problem.groups, dtype=object)[problem.obs_group],
        "time": problem.times[problem.obs_time],
        "target": np.asarray([t.variable for t in problem.targets], dtype=object)[problem.obs_target],
        "column": np.asarray([t.column for t in problem.targets], dtype=object)[problem.obs_target],
    })
