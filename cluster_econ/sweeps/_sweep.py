"""``ce.sweep``: levers and uncertainties over many scenarios, each paired with a no-policy run."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cluster_econ.errors import SpecError, UnknownNameError, check_option, plain, unknown_name
from cluster_econ.provenance import Provenance
from cluster_econ.sd._executors import check_executor, run_tasks

from . import _indicators
from ._designs import Design, draw
from ._evaluate import Plan, ResolvedOutcome, concat_chunks, default_chunk_size, evaluate_chunk
from ._result import SweepResult
from ._specs import Lever, Outcome, Uncertainty
from ._store import SweepStore, open_sweep

__all__ = ["sweep"]

logger = logging.getLogger(__name__)

_OPTIONS = ("discount_rate", "horizon")


def _load(model: Any) -> Any:
    from cluster_econ.sd import SDModel, load_model

    if isinstance(model, SDModel):
        return model
    if isinstance(model, str | Path):
        return load_model(model)
    raise SpecError(f"sweep() needs an SDModel (ce.load_model), a registered model id or a model file; got "
                    f"{type(model).__name__}.")


def _model_call(model: Any) -> dict[str, Any]:
    if model.registered:
        return {"id": model.id, "version": model.version, "sha256": model.sha256}
    return {"path": str(model.path), "sha256": model.sha256}


def _declared(model: Any, name: str) -> tuple[float, float, float]:
    table = model.parameters
    row = table[table["name"] == name]
    if row.empty:
        return -math.inf, math.inf, math.nan
    lo, hi = float(row["lower"].iloc[0]), float(row["upper"].iloc[0])
    value = row["value"].iloc[0]
    value = float(value) if isinstance(value, int | float | np.number) else math.nan
    return (-math.inf if math.isnan(lo) else lo), (math.inf if math.isnan(hi) else hi), value


def _constant(model: Any, name: str, what: str) -> str:
    from cluster_econ.sd._model import CONTROL_VARIABLES

    if not isinstance(name, str):
        raise SpecError(f"A {what} must name a model constant; got {plain(name)!r}.")
    if name in CONTROL_VARIABLES:
        raise SpecError(f"{name!r} is a simulation control variable, not a {what}.")
    return str(model.resolve(name, what=f"constant ({what})", kinds=("constant",)))


def _factors(model: Any, levers: Sequence[Any], uncertainties: Sequence[Any]) -> tuple[list[Lever],
                                                                                       list[Uncertainty]]:
    seen: dict[str, str] = {}
    out_l: list[Lever] = []
    out_u: list[Uncertainty] = []
    for kind, specs, cls in (("lever", levers, Lever), ("uncertainty", uncertainties, Uncertainty)):
        if isinstance(specs, Lever | Uncertainty):
            specs = [specs]
        for spec in specs:
            if not isinstance(spec, cls):
                raise SpecError(f"{kind}s must be ce.{cls.__name__} objects; got {type(spec).__name__}.")
            name = _constant(model, spec.name, kind)
            if name in seen:
                raise SpecError(f"{name!r} is given twice (as {seen[name]} and as {kind}); a constant is either "
                                "a lever or an uncertainty, once.")
            seen[name] = kind
            lo, hi, _ = _declared(model, name)
            if spec.lower < lo or spec.upper > hi:
                raise SpecError(f"The range [{spec.lower:g}, {spec.upper:g}] of {kind} {name!r} is outside its "
                                f"declared bounds [{lo:g}, {hi:g}] in {model.label}; narrow it to the bounds.")
            if isinstance(spec, Lever):
                out_l.append(Lever(name, spec.lower, spec.upper, values=spec.values))
            else:
                params = {k: dict(v) if isinstance(v, Mapping) else v for k, v in spec.params.items()}
                out_u.append(Uncertainty(name, spec.lower, spec.upper, distribution=spec.distribution,  # type: ignore[arg-type]
                                         **params))
    return out_l, out_u


def _outcomes(model: Any, outcomes: Sequence[Any], control: Mapping[str, float]) -> list[ResolvedOutcome]:
    if isinstance(outcomes, Outcome):
        outcomes = [outcomes]
    if not outcomes:
        raise SpecError("outcomes= is empty; give at least one ce.Outcome.")
    table = model.variables.set_index("name")
    out: list[ResolvedOutcome] = []
    for spec in outcomes:
        if not isinstance(spec, Outcome):
            raise SpecError(f"outcomes must be ce.Outcome objects; got {type(spec).__name__}.")
        variable = str(model.resolve(spec.variable, what="variable"))
        if isinstance(spec.time, float) and not control["initial_time"] <= spec.time <= control["final_time"]:
            raise SpecError(f"Outcome {spec.label!r} reads time {spec.time:g}, outside the run "
                            f"[{control['initial_time']:g}, {control['final_time']:g}].")
        if spec.label in {o.label for o in out}:
            raise SpecError(f"Two outcomes are named {spec.label!r}; give one of them name=.")
        out.append(ResolvedOutcome(spec.label, variable, spec.time, spec.reduce,
                                   tuple(table.loc[variable, "subscripts"])))
    return out


def _indicator_spec(model: Any, indicators: Mapping[str, Any] | None,
                    control: Mapping[str, float]) -> _indicators.IndicatorSpec | None:
    given = dict(indicators or {})
    for key in given:
        if key not in _indicators.ROLES and key not in _OPTIONS:
            raise unknown_name(str(key), [*_indicators.ROLES, *_OPTIONS], "known indicator role or option",
                               where="sweep(indicators=...)")
    declared = dict(getattr(model, "indicators", {}) or {})
    roles = _indicator_roles(model, given, declared)
    rate = given.get("discount_rate", declared.get("discount_rate", 0.03))
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1:
        raise SpecError(f"discount_rate={plain(rate)!r} is not valid; give a rate in [0, 1), e.g. 0.03.")
    horizon = _horizon(given, control)
    if not roles:
        return None
    units = model.variables.set_index("name")["unit"]
    return _indicators.IndicatorSpec(roles=roles, units={r: str(units[v]) for r, v in roles.items()},
                                     discount_rate=float(rate), horizon=float(horizon),
                                     initial_time=float(control["initial_time"]))


def _indicator_roles(model: Any, given: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, str]:
    """Role -> model variable: as given (``None`` drops the role), else as the model declares, else the default."""
    names = set(model.variables["name"])
    roles: dict[str, str] = {}
    for role, default in _indicators.ROLES.items():
        if role in given:
            if given[role] is not None:
                roles[role] = str(model.resolve(given[role], what=f"variable (indicator role {role!r})"))
        elif role in declared:
            roles[role] = str(model.resolve(declared[role], what="variable"))
        elif default in names:
            roles[role] = default
    return roles


def _horizon(given: Mapping[str, Any], control: Mapping[str, float]) -> float:
    horizon = given.get("horizon", control["final_time"])
    if isinstance(horizon, bool) or not isinstance(horizon, int | float) or not (
            control["initial_time"] <= horizon <= control["final_time"]):
        raise SpecError(f"horizon={plain(horizon)!r} is not valid; give a time within the run "
                        f"[{control['initial_time']:g}, {control['final_time']:g}].")
    return horizon


def _reference(model: Any, levers: list[Lever], reference: Mapping[str, Any] | None) -> dict[str, float]:
    names = [lever.name for lever in levers]
    given: dict[str, float] = {}
    source = reference if reference is not None else getattr(model, "no_policy", {}) or {}
    if not isinstance(source, Mapping):
        raise SpecError(f"reference must map lever names to no-policy values; got {type(source).__name__}.")
    for key, value in source.items():
        name = _constant_name(model, key)
        if name not in names:
            if reference is None:
                continue  # the model's no-policy values of levers this sweep does not vary
            raise unknown_name(str(key), names, "lever of this sweep", where="reference")
        given[name] = _reference_value(model, name, value)
    for name in names:
        if name not in given:
            given[name] = _declared_reference(model, name)
    return given


def _constant_name(model: Any, key: Any) -> str:
    try:  # Python or Vensim name of a constant
        return str(model.resolve(key, what="constant", kinds=("constant",)))
    except UnknownNameError:
        return str(key)


def _reference_value(model: Any, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpecError(f"reference value of {name!r} must be a finite number; got {plain(value)!r}.")
    lo, hi, _ = _declared(model, name)
    if not lo <= value <= hi:
        raise SpecError(f"reference value {value:g} of {name!r} is outside its declared bounds [{lo:g}, {hi:g}].")
    return float(value)


def _declared_reference(model: Any, name: str) -> float:
    value = _declared(model, name)[2]
    if math.isnan(value):
        raise SpecError(f"No reference value for lever {name!r}: the model declares none; give "
                        f"reference={{{name!r}: value}}.")
    return value


def _check_design(design: Any, n: Any, levers: list[Lever], uncertainties: list[Uncertainty]) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise SpecError(f"n={plain(n)!r} is not valid; give a positive integer number of scenarios.")
    check_option(design, Design, "design")
    if design in ("sobol", "morris") and not (levers or uncertainties):
        raise SpecError(f"design={design!r} needs levers or uncertainties to vary; give at least one.")
    if design in ("sobol", "morris") and any(u.correlation for u in uncertainties):
        raise SpecError(f"design={design!r} assumes independent inputs; correlated uncertainties (from "
                        "uncertainties_from) need design='lhs' or 'mc'.")
    if design == "full_factorial":
        if not levers:
            raise SpecError("design='full_factorial' needs levers with values=.")
        continuous = [lever.name for lever in levers if lever.values is None]
        if continuous:
            raise SpecError(f"design='full_factorial' needs a discrete set of values for every lever; "
                            f"{continuous[0]!r} is continuous: give it values=[...].")
        if not uncertainties and n != 1:
            raise SpecError(f"design='full_factorial' without uncertainties runs each lever combination once; "
                            f"n={n} would repeat identical runs: give n=1.")
    if design in ("lhs", "mc") and not (levers or uncertainties) and n > 1:
        raise SpecError(f"Nothing varies across the n={n} scenarios; give levers or uncertainties.")


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def _run(plan: Plan, experiments: pd.DataFrame, size: int, progress: bool, executor: Any = None,
         store: SweepStore | None = None, provenance: Provenance | None = None) -> dict[str, Any] | None:
    """Evaluate the experiments chunk by chunk on the executor; into the store, or joined in scenario order."""
    chunks = _chunks(len(experiments), size)
    done = store.done if store is not None else set()
    todo = [i for i in range(len(chunks)) if i not in done]
    tasks = [experiments.iloc[slice(*chunks[i])] for i in todo]
    labels = [f"chunk {i} (scenarios {chunks[i][0]}-{chunks[i][1] - 1}, first scenario "
              f"{experiments.index[chunks[i][0]]!r})" for i in todo]
    bar: Any = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(chunks), initial=len(done), desc=f"sweep of {plan.label}: chunks of {size}")
    parts: dict[int, dict[str, Any]] = {}
    try:
        for j, part in run_tasks(evaluate_chunk, plan, tasks, executor=executor, labels=labels):
            i = todo[j]
            if store is not None and provenance is not None:
                store.begin(experiments, provenance, _template(plan, part), _coords(plan))
                store.write(i, part)
            else:
                parts[i] = part
            logger.debug("chunk %d (scenarios %d-%d) done", i, *chunks[i])
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return concat_chunks([parts[i] for i in range(len(chunks))]) if store is None else None


def _template(plan: Plan, part: dict[str, Any]) -> dict[str, Any]:
    dims = {o.label: (o.out_dims, {"units": plan.units[o.variable], "variable": o.variable}) for o in plan.outcomes}
    return {**part, "dims": dims}


def _coords(plan: Plan) -> dict[str, list]:
    return {d: list(plan.coords[d]) for o in plan.outcomes if not o.reduce for d in o.dims}


def sweep(model: Any, *, levers: Sequence[Lever] = (), uncertainties: Sequence[Uncertainty] = (),
          outcomes: Sequence[Outcome], n: int, design: Design = "lhs", seed: int = 0,
          reference: Mapping[str, float] | None = None, indicators: Mapping[str, Any] | None = None,
          chunk_size: int | None = None, progress: bool = False, second_order: bool = False,
          executor: Any = None, store: str | Path | None = None, overwrite: bool = False) -> SweepResult:
    """Run a policy sweep: levers and uncertainties over ``n`` scenarios, each with its no-policy run.

    Parameters
    ----------
    model : SDModel or str or pathlib.Path
        A model from :func:`cluster_econ.load_model`, a registered model id, or a model file.
    levers, uncertainties : sequences of :class:`Lever` and :class:`Uncertainty`
        Model constants to vary; their ranges must lie within the model's declared bounds.
    outcomes : sequence of :class:`Outcome`
        Variables read from every run.
    n : int
        Scenarios (``"lhs"``, ``"mc"``); base sample (``"sobol"``: ``n * (k + 2)`` scenarios, or
        ``n * (2k + 2)`` with ``second_order``); trajectories (``"morris"``: ``n * (k + 1)``);
        uncertainty draws per lever combination (``"full_factorial"``).
    design : {"lhs", "mc", "sobol", "morris", "full_factorial"}, default "lhs"
    seed : int, default 0
        Seeds ``numpy.random.default_rng``; the same call gives the same bytes.
    reference : mapping, optional
        Lever values of the no-policy run (default: ``model.no_policy``, then the levers' model values).
        Each scenario is paired with a reference run sharing its uncertainty draws, in the same batch.
    indicators : mapping, optional
        Roles -> model variables (``jobs``, ``spend``, ``value_added``, ``sme_jobs``, ``sme_seat_share``,
        ``startup_rate``; defaults from the model's ``[indicators]`` table, else variables of those
        default names), plus ``discount_rate`` (0.03) and ``horizon`` (the final time). A role
        mapped to None is dropped. Reference runs are made when there are levers and indicator roles.
    chunk_size : int, optional
        Scenarios integrated together (their reference runs come on top); bounds working memory.
    progress : bool, default False
        A progress bar over chunks.
    second_order : bool, default False
        With ``design="sobol"``, also sample for second-order indices.
    executor : None, "processes", "dask" or dask.distributed.Client
        Where the chunks run (see :mod:`cluster_econ.sd._executors`); the result is the same, bit
        for bit, whichever is used.
    store : path, optional
        A Zarr store written chunk by chunk as chunks finish; the same call on an existing store
        resumes it (finished chunks are read, not recomputed). The result then reads its time
        series lazily from the store; its Sobol' and Morris indices and fan charts of a time series
        read them a block of cells at a time, with the same bytes as without a store.
    overwrite : bool, default False
        Start over in a store that holds a different sweep (otherwise refused with SpecError).

    Returns
    -------
    SweepResult

    References
    ----------
    Kwakkel (2017), The Exploratory Modeling Workbench, Environ. Model. Softw. 96; Saltelli et al.
    (2010), Comput. Phys. Commun. 181(2).
    """
    sd_model = _load(model)
    from cluster_econ.sd.engine import compile_model

    lev, unc = _factors(sd_model, levers, uncertainties)
    _check_design(design, n, lev, unc)
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise SpecError(f"seed={plain(seed)!r} is not valid; give a non-negative integer.")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer)
                                   or chunk_size < 1):
        raise SpecError(f"chunk_size={plain(chunk_size)!r} is not valid; give a positive integer or None.")
    control = sd_model.control
    outs = _outcomes(sd_model, outcomes, control)
    ind = _indicator_spec(sd_model, indicators, control)
    ref = _reference(sd_model, lev, reference) if lev else {}
    paired = bool(lev) and ind is not None
    experiments = draw(lev, unc, n=int(n), design=design, seed=int(seed), second_order=second_order)
    kernel = compile_model(sd_model)
    outputs = tuple(dict.fromkeys([o.variable for o in outs] + (list(ind.roles.values()) if ind else [])))
    units = sd_model.variables.set_index("name")["unit"]
    plan = Plan(kernel=kernel, levers=tuple(lv.name for lv in lev), reference=ref, paired=paired, outputs=outputs,
                outcomes=tuple(outs), indicators=ind if paired else None, label=sd_model.label,
                coords={d: list(v) for d, v in sd_model.subscripts.items()},
                units={o.variable: str(units[o.variable]) for o in outs})
    size = int(chunk_size) if chunk_size is not None else default_chunk_size(kernel, paired)
    check_executor(executor)
    logger.info("sweep of %s: %d scenarios (%s) in chunks of %d", sd_model.label, len(experiments), design, size)
    arguments: dict[str, Any] = {
        "model": _model_call(sd_model), "levers": [lv.to_dict() for lv in lev],
        "uncertainties": [u.to_dict() for u in unc], "outcomes": [_outcome_dict(o) for o in outcomes],
        "n": int(n), "design": design, "seed": int(seed), "reference": ref if lev else None,
        "indicators": ind.to_dict() if ind else None, "chunk_size": chunk_size, "second_order": bool(second_order)}
    call = {"verb": "sweep", "arguments": arguments}
    provenance = Provenance.capture(
        model_id=sd_model.id, model_version=sd_model.version, model_sha256=sd_model.sha256, seed=int(seed),
        changed_parameters={name: "varied by scenario" for name in experiments.columns},
        details={"call": call, "engine": "batch", "scenarios": len(experiments), "paired": paired,
                 "indicator_units": _indicators.indicator_units(ind) if paired and ind else {}})
    if store is None:
        raw = _run(plan, experiments, size, progress, executor) or {}
        return SweepResult.from_raw(raw, experiments=experiments, outcomes=outs, plan=plan, provenance=provenance)
    spec = {k: v for k, v in arguments.items() if k != "chunk_size"}
    writer = SweepStore(store, {**spec, "scenarios": len(experiments), "chunk_size": size},
                        _chunks(len(experiments), size), overwrite=overwrite)
    resumed = len(writer.done)
    _run(plan, experiments, size, progress, executor, writer, provenance)
    result = open_sweep(store, partial=False)
    details = {**result.provenance.details, "chunks_resumed": resumed}
    return dataclasses.replace(result, provenance=result.provenance.replace(details=details))


def _outcome_dict(spec: Any) -> dict[str, Any]:
    return spec.to_dict() if isinstance(spec, Outcome) else {}
