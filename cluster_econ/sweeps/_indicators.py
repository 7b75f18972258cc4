"""Indicators economists report, from each scenario's run and its paired no-policy run.

Every indicator is a difference against the reference run that shares the scenario's uncertainty
draws (common random numbers), read up to the horizon. Undefined values are NaN with a reason code
(see :data:`REASONS`), never inf.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["INDICATORS", "REASONS", "ROLES", "IndicatorSpec", "compute", "indicator_units"]

#: role -> default model variable (used when the model declares no ``[indicators]`` table)
ROLES = {"jobs": "employment", "spend": "cumulative_programme_cost", "value_added": "output",
         "sme_jobs": "sme_employment", "sme_seat_share": "sme_seat_share", "startup_rate": "startup_rate"}
#: roles whose regional values are summed (the others are averaged over regions)
EXTENSIVE = {"jobs", "spend", "value_added", "sme_jobs"}

#: indicator -> roles it needs
INDICATORS: dict[str, tuple[str, ...]] = {
    "net_jobs": ("jobs",),
    "net_job_years": ("jobs",),
    "cost_per_net_job": ("jobs", "spend"),
    "net_jobs_per_million": ("jobs", "spend"),
    "present_value_added": ("value_added",),
    "benefit_cost_ratio": ("value_added", "spend"),
    "output_multiplier": ("value_added", "spend"),
    "net_sme_jobs": ("sme_jobs",),
    "sme_share_of_net_jobs": ("jobs", "sme_jobs"),
    "sme_share_of_employment": ("jobs", "sme_jobs"),
    "time_to_first_net_job": ("jobs",),
    "payback_year": ("value_added", "spend"),
    "representation_gap": ("jobs", "sme_jobs", "sme_seat_share"),
    "startup_rate": ("startup_rate",),
}

#: reason code -> text (0: defined)
REASONS = {
    0: "",
    1: "no net jobs at the horizon",
    2: "no net programme spend at the horizon",
    3: "no net job by the horizon",
    4: "not paid back by the horizon",
    5: "the run gave non-finite values",
}

_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9}


def unit_scale(unit: str) -> float:
    """Multiplier from a unit such as ``"thousand jobs"`` or ``"USD million"`` to base units."""
    scale = 1.0
    for word, factor in _SCALE.items():
        if re.search(rf"\b{word}\b", unit.lower().split("/")[0]):
            scale *= factor
    return scale


def is_rate(unit: str) -> bool:
    """Whether a unit is per time (``"USD million/Year"``)."""
    return bool(re.search(r"/\s*(year|yr|month|quarter|day)s?\s*$", unit.strip().lower()))


@dataclasses.dataclass(frozen=True)
class IndicatorSpec:
    """Resolved indicator settings: roles -> variables, their units, discount rate and horizon."""

    roles: Mapping[str, str]
    units: Mapping[str, str]
    discount_rate: float
    horizon: float
    initial_time: float

    @property
    def names(self) -> list[str]:
        return [k for k, need in INDICATORS.items() if all(r in self.roles for r in need)]

    def to_dict(self) -> dict[str, Any]:
        return {**dict(self.roles), "discount_rate": self.discount_rate, "horizon": self.horizon}


def _total(unit: str) -> str:
    """The unit of a rate integrated over time ("USD million/Year" -> "USD million")."""
    return unit.rsplit("/", 1)[0].strip() if is_rate(unit) else unit


def indicator_units(spec: IndicatorSpec) -> dict[str, str]:
    """The unit of every indicator computed under ``spec`` (in the model's own units)."""
    u = spec.units
    jobs, spend, va = u.get("jobs", ""), _total(u.get("spend", "")), _total(u.get("value_added", ""))
    currency = " ".join(w for w in spend.split() if w.lower() not in _SCALE) or spend
    table = {"net_jobs": jobs, "net_job_years": f"{jobs} * Year", "cost_per_net_job": f"{spend} / ({jobs})",
             "net_jobs_per_million": f"{jobs} per million {currency}", "present_value_added": f"{va} (discounted)",
             "benefit_cost_ratio": "Dmnl", "output_multiplier": "Dmnl", "net_sme_jobs": u.get("sme_jobs", ""),
             "sme_share_of_net_jobs": "Dmnl", "sme_share_of_employment": "Dmnl", "time_to_first_net_job": "Year",
             "payback_year": "Year", "representation_gap": "Dmnl", "startup_rate": u.get("startup_rate", "")}
    return {k: table[k] for k in spec.names}


def _aggregate(role: str, array: np.ndarray) -> np.ndarray:
    """(scenarios, time[, cells...]) -> (scenarios, time): regions summed or averaged."""
    if array.ndim == 2:
        return array
    flat = array.reshape(array.shape[0], array.shape[1], -1)
    return flat.sum(axis=2) if role in EXTENSIVE else flat.mean(axis=2)


def _upto(series: np.ndarray, times: np.ndarray, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """The saved values up to the horizon, the last one interpolated at the horizon if it is not saved."""
    k = int(np.searchsorted(times, horizon, side="left"))
    if k < len(times) and times[k] == horizon:
        return series[:, : k + 1], times[: k + 1]
    w = (horizon - times[k - 1]) / (times[k] - times[k - 1])
    last = series[:, k - 1] + w * (series[:, k] - series[:, k - 1])
    return np.concatenate([series[:, :k], last[:, None]], axis=1), np.append(times[:k], horizon)


def _trapezoid(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    if y.shape[1] < 2:
        return np.zeros(y.shape[0])
    return np.sum((y[:, 1:] + y[:, :-1]) * 0.5 * np.diff(t), axis=1)


def _cumulative_trapezoid(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    out = np.zeros_like(y)
    if y.shape[1] > 1:
        out[:, 1:] = np.cumsum((y[:, 1:] + y[:, :-1]) * 0.5 * np.diff(t), axis=1)
    return out


def _first_time(mask: np.ndarray, t: np.ndarray) -> np.ndarray:
    hit = mask.any(axis=1)
    return np.where(hit, t[np.argmax(mask, axis=1)], np.nan)


def _ratio(num: np.ndarray, den: np.ndarray, ok: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(ok, num / np.where(ok, den, 1.0), np.nan)


def compute(spec: IndicatorSpec, policy: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray],
            times: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Indicators and reason codes of a chunk of scenarios.

    Parameters
    ----------
    spec : IndicatorSpec
    policy, reference : mapping role -> array (scenarios, time[, regions])
        Saved values of each role's variable in the scenarios' runs and in their paired reference runs.
    times : numpy.ndarray
        The saved times.

    Returns
    -------
    values, reasons : dict name -> array (scenarios,)
        Indicator values (NaN where undefined) and reason codes (:data:`REASONS`).
    """
    c = _chunk(spec, policy, reference, times)
    spend = _spend(c) if "spend" in spec.roles else None
    if "jobs" in spec.roles:
        _jobs_indicators(c, spend)
    if "sme_jobs" in spec.roles:
        c.put("net_sme_jobs", c.p["sme_jobs"][:, -1] - c.q["sme_jobs"][:, -1])
    if "value_added" in spec.roles:
        _value_added_indicators(c, spend)
    if {"sme_seat_share", "jobs", "sme_jobs"} <= set(spec.roles):
        c.put("representation_gap", _representation_gap(c, policy, times))
    if "startup_rate" in spec.roles:
        c.put("startup_rate", c.p["startup_rate"][:, -1])
    order = [k for k in INDICATORS if k in c.out]
    return {k: c.out[k] for k in order}, {k: c.why[k] for k in order}


@dataclasses.dataclass
class _Chunk:
    """A chunk's series up to the horizon (policy ``p``, reference ``q``) and the indicators put so far."""

    spec: IndicatorSpec
    p: dict[str, np.ndarray]
    q: dict[str, np.ndarray]
    t: np.ndarray
    disc: np.ndarray
    finite: np.ndarray
    out: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    why: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def m(self) -> int:
        return int(self.finite.shape[0])

    def put(self, name: str, value: np.ndarray, code: np.ndarray | int = 0) -> None:
        """Record an indicator; code 5 where the runs or the value are not finite, else ``code``."""
        codes = np.where(self.finite, code, 5).astype(np.int8)
        codes = np.where((codes == 0) & ~np.isfinite(value), 5, codes).astype(np.int8)
        self.out[name] = np.where(codes == 0, value, np.nan)
        self.why[name] = codes


def _chunk(spec: IndicatorSpec, policy: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray],
           times: np.ndarray) -> _Chunk:
    p: dict[str, np.ndarray] = {}
    q: dict[str, np.ndarray] = {}
    t = times
    for role in spec.roles:
        p[role], t = _upto(_aggregate(role, policy[role]), times, spec.horizon)
        q[role], _ = _upto(_aggregate(role, reference[role]), times, spec.horizon)
    finite = np.ones(next(iter(p.values())).shape[0], bool)
    for role in spec.roles:
        finite &= np.isfinite(p[role]).all(axis=1) & np.isfinite(q[role]).all(axis=1)
    disc = (1.0 + spec.discount_rate) ** -(t - spec.initial_time)
    return _Chunk(spec, p, q, t, disc, finite)


@dataclasses.dataclass(frozen=True)
class _Spend:
    """Net programme spend over the run, its discounted cumulative cost, and where it is positive."""

    net: np.ndarray
    cum_cost: np.ndarray
    spent: np.ndarray

    @property
    def pv_cost(self) -> np.ndarray:
        return self.cum_cost[:, -1]


def _spend(c: _Chunk) -> _Spend:
    d = c.p["spend"] - c.q["spend"]
    if is_rate(c.spec.units["spend"]):
        net_spend = _trapezoid(d, c.t)
        cum_cost = _cumulative_trapezoid(d * c.disc, c.t)
    else:
        net_spend = d[:, -1] - d[:, 0]
        inc = np.diff(d, axis=1) * 0.5 * (c.disc[1:] + c.disc[:-1])
        cum_cost = np.concatenate([np.zeros((c.m, 1)), np.cumsum(inc, axis=1)], axis=1)
    return _Spend(net_spend, cum_cost, net_spend > 0)


def _jobs_indicators(c: _Chunk, spend: _Spend | None) -> None:
    net = c.p["jobs"] - c.q["jobs"]
    net_jobs = net[:, -1]
    has_jobs = net_jobs > 0
    c.put("net_jobs", net_jobs)
    c.put("net_job_years", _trapezoid(net, c.t))
    one_job = 1.0 / unit_scale(c.spec.units["jobs"])
    first = _first_time(net >= one_job, c.t) - c.spec.initial_time
    c.put("time_to_first_net_job", first, np.where(np.isnan(first), 3, 0))
    if spend is not None:
        c.put("cost_per_net_job", _ratio(spend.net, net_jobs, has_jobs), np.where(has_jobs, 0, 1))
        millions = spend.net * unit_scale(c.spec.units["spend"]) / 1e6
        c.put("net_jobs_per_million", _ratio(net_jobs, millions, spend.spent), np.where(spend.spent, 0, 2))
    if "sme_jobs" in c.spec.roles:
        sme = c.p["sme_jobs"][:, -1]
        net_sme = sme - c.q["sme_jobs"][:, -1]
        c.put("sme_share_of_net_jobs", _ratio(net_sme, net_jobs, has_jobs), np.where(has_jobs, 0, 1))
        c.put("sme_share_of_employment", _ratio(sme, c.p["jobs"][:, -1], np.ones(c.m, bool)))


def _value_added_indicators(c: _Chunk, spend: _Spend | None) -> None:
    net_va = c.p["value_added"] - c.q["value_added"]
    pv = _trapezoid(net_va * c.disc, c.t)
    c.put("present_value_added", pv)
    if spend is None:
        return
    has_cost = spend.pv_cost > 0
    spent = spend.spent
    c.put("benefit_cost_ratio", _ratio(pv, spend.pv_cost, has_cost), np.where(has_cost, 0, 2))
    c.put("output_multiplier", _ratio(_trapezoid(net_va, c.t), spend.net, spent), np.where(spent, 0, 2))
    cum_benefit = _cumulative_trapezoid(net_va * c.disc, c.t)
    paid = (spend.cum_cost > 0) & (cum_benefit >= spend.cum_cost)
    year = _first_time(paid, c.t)
    c.put("payback_year", year, np.where(~spent, 2, np.where(np.isnan(year), 4, 0)))


def _representation_gap(c: _Chunk, policy: Mapping[str, np.ndarray], times: np.ndarray) -> np.ndarray:
    """SME seat share minus SME share of employment at the horizon, region by region then averaged."""
    h = c.spec.horizon
    seat = _upto_last(policy["sme_seat_share"], times, h)
    share = _upto_last(policy["sme_jobs"], times, h) / _upto_last(policy["jobs"], times, h)
    if seat.shape == share.shape:  # region by region, then averaged over regions
        return (seat - share).reshape(c.m, -1).mean(axis=1)
    return seat.reshape(c.m, -1).mean(axis=1) - c.p["sme_jobs"][:, -1] / c.p["jobs"][:, -1]


def _upto_last(array: np.ndarray, times: np.ndarray, horizon: float) -> np.ndarray:
    """Values at the horizon, regions kept: (scenarios[, cells...])."""
    flat = array.reshape(array.shape[0], array.shape[1], -1)
    cells = [_upto(flat[:, :, c], times, horizon)[0][:, -1] for c in range(flat.shape[2])]
    return np.stack(cells, axis=1).reshape((array.shape[0], *array.shape[2:]))
