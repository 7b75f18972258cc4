"""``SweepResult``: the experiments, outcomes, indicators and sensitivity of a sweep."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from statsmodels.iolib.summary import Summary
from statsmodels.iolib.table import SimpleTable

from cluster_econ import _results_io
from cluster_econ.errors import SpecError, unknown_name
from cluster_econ.provenance import Provenance

from . import _plots
from ._indicators import REASONS
from ._sensitivity import morris_indices, sobol_indices

__all__ = ["SweepResult"]


#: bytes of an outcome read at once (all runs, a block of its cells) when it is read lazily from a store
BLOCK_BYTES = 64 * 2**20


def _by_cells(values: xr.DataArray, estimate: Any) -> dict[str, np.ndarray]:
    """``estimate`` on (runs, cells); a lazily read outcome is loaded a block of cells at a time.

    A block holds as many cells as fit in :data:`BLOCK_BYTES` for all runs (at least one), so the
    memory used does not grow with the number of cells. The bootstrap weights depend only on the seed
    and the number of runs, and every sum over runs is taken one run at a time
    (:mod:`cluster_econ.sweeps._sensitivity`), so estimates by blocks equal, bit for bit, one estimate
    over all cells.
    """
    flat = values.data.reshape(values.shape[0], -1)
    if not hasattr(flat, "compute"):
        return dict(estimate(np.asarray(flat, dtype=float)))
    block = max(1, BLOCK_BYTES // (8 * max(1, flat.shape[0])))
    parts = [estimate(np.asarray(flat[:, a:a + block].compute(), dtype=float))
             for a in range(0, flat.shape[1], block)]
    return {k: np.concatenate([p[k] for p in parts], axis=-1) for k in parts[0]}


def _readonly(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.copy(deep=True)


@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult:
    """The result of :func:`cluster_econ.sweep`.

    Attributes
    ----------
    experiments : pandas.DataFrame
        One row per scenario (index ``scenario``), one column per lever and uncertainty.
    outcomes : pandas.DataFrame
        Scalar outcomes, same index.
    data : xarray.Dataset
        Time-series and regional outcomes, dims ``(scenario[, time][, region])``.
    indicators : pandas.DataFrame
        Indicators against each scenario's paired reference run, same index (no columns without
        reference runs). Undefined values are NaN; :attr:`indicator_reasons` says why.
    indicator_reasons : pandas.DataFrame
        Same shape as ``indicators``: ``""`` where defined, else the reason.
    provenance : Provenance
        Model id, version and sha256, the seed, package versions and the call
        (``details["call"]``), from which the result can be re-run.

    Every payload handed out is a copy, so the result cannot be changed.
    """

    _experiments: pd.DataFrame
    _outcomes: pd.DataFrame
    _data: xr.Dataset
    _indicators: pd.DataFrame
    _reasons: pd.DataFrame
    provenance: Provenance

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_raw(cls, raw: dict[str, Any], *, experiments: pd.DataFrame, outcomes: Sequence[Any], plan: Any,
                 provenance: Provenance) -> SweepResult:
        index = experiments.index
        scalars = {o.label: raw["outcomes"][o.label] for o in outcomes if o.scalar}
        data_vars = {}
        coords: dict[str, Any] = {"scenario": np.asarray(index)}
        for o in outcomes:
            if o.scalar:
                continue
            if o.time == "all":
                coords["time"] = raw["times"]
            if not o.reduce:
                for d in o.dims:
                    coords.setdefault(d, list(plan.coords[d]))
            data_vars[o.label] = xr.Variable(("scenario", *o.out_dims), raw["outcomes"][o.label],
                                             attrs={"units": plan.units[o.variable], "variable": o.variable})
        data = xr.Dataset(data_vars, coords=coords)
        codes = raw["reasons"]
        reasons = pd.DataFrame({k: pd.Categorical.from_codes(v, categories=[REASONS[i] for i in sorted(REASONS)])
                                for k, v in codes.items()}, index=index)
        return cls(experiments.copy(), pd.DataFrame(scalars, index=index), data,
                   pd.DataFrame(raw["indicators"], index=index), reasons, provenance)

    # ------------------------------------------------------------------ saving
    def _save_parts(self) -> dict[str, Any]:
        """What :meth:`save` writes: the tables as CSV, the time series as Zarr, plus the provenance."""
        frames = {"experiments": self._experiments, "outcomes": self._outcomes, "indicators": self._indicators,
                  "indicator_reasons": self._reasons.astype(str)}
        return {"kind": "SweepResult", "provenance": self.provenance, "frames": frames,
                "datasets": {"data": self._data}}

    def save(self, path: str | Path) -> Path:
        """Save the sweep to a folder (tables as CSV, time series as Zarr, ``manifest.toml``; see ``ce.save``)."""
        return _results_io.write_folder(path, **self._save_parts())

    @classmethod
    def _from_saved(cls, folder: _results_io.SavedFolder) -> SweepResult:
        categories = [REASONS[i] for i in sorted(REASONS)]
        raw = folder.frame("indicator_reasons").fillna("")
        reasons = pd.DataFrame({k: pd.Categorical(raw[k].astype(str), categories=categories) for k in raw.columns},
                               index=raw.index)
        return cls(folder.frame("experiments"), folder.frame("outcomes"), folder.dataset("data"),
                   folder.frame("indicators"), reasons, folder.provenance)

    # ------------------------------------------------------------------ payloads
    @property
    def experiments(self) -> pd.DataFrame:
        return _readonly(self._experiments)

    @property
    def outcomes(self) -> pd.DataFrame:
        return _readonly(self._outcomes)

    @property
    def data(self) -> xr.Dataset:
        return self._data.copy(deep=True)

    @property
    def indicators(self) -> pd.DataFrame:
        return _readonly(self._indicators)

    @property
    def indicator_reasons(self) -> pd.DataFrame:
        return _readonly(self._reasons)

    @property
    def indicator_units(self) -> dict[str, str]:
        """The unit of each indicator, in the model's units (e.g. ``cost_per_net_job``: spend over jobs)."""
        return dict(self.provenance.details.get("indicator_units", {}))

    @property
    def call(self) -> dict[str, Any]:
        return dict(self.provenance.details["call"])

    @property
    def _args(self) -> dict[str, Any]:
        return dict(self.provenance.details["call"]["arguments"])

    @property
    def design(self) -> str:
        return str(self._args["design"])

    @property
    def levers(self) -> list[str]:
        return [lv["name"] for lv in self._args["levers"]]

    @property
    def uncertainties(self) -> list[str]:
        return [u["name"] for u in self._args["uncertainties"]]

    @property
    def reference(self) -> dict[str, float]:
        return dict(self._args.get("reference") or {})

    def __len__(self) -> int:
        return len(self._experiments)

    def __repr__(self) -> str:
        return (f"<SweepResult {self.provenance.model_id} {self.provenance.model_version or ''}: {len(self)} "
                f"scenarios, design={self.design!r}, seed={self.provenance.seed}>")

    # ------------------------------------------------------------------ lookups
    def _values(self, name: str) -> xr.DataArray:
        """An outcome or indicator as a DataArray with a leading scenario dim."""
        if name in self._outcomes.columns:
            return xr.DataArray(self._outcomes[name].to_numpy(), dims=("scenario",))
        if name in self._indicators.columns:
            return xr.DataArray(self._indicators[name].to_numpy(), dims=("scenario",))
        if name in self._data.data_vars:
            return self._data[name]
        known = [*self._outcomes.columns, *self._data.data_vars, *self._indicators.columns]
        raise unknown_name(name, [str(k) for k in known], "outcome or indicator", where="this sweep")

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: one row per scenario and quantity (levers, uncertainties, outcomes, indicators)."""
        wide = pd.concat([self._outcomes, self._indicators], axis=1)
        tidy = wide.reset_index().melt(id_vars="scenario", var_name="name", value_name="value")
        return tidy.merge(self._experiments.reset_index(), on="scenario")

    # ------------------------------------------------------------------ bands
    def bands(self, q: Sequence[float] = (0.05, 0.5, 0.95), by: str | None = None) -> pd.DataFrame:
        """Quantile bands of every indicator and scalar outcome across scenarios (NaNs left out).

        Parameters
        ----------
        q : sequence of float
            Quantiles, each in [0, 1].
        by : str, optional
            A lever (or uncertainty): bands per value (a discrete lever) or per quartile bin.

        Returns
        -------
        pandas.DataFrame
            Columns ``name``, [``by``], ``n`` (defined values) and one column per quantile (``q0.05``, ...).
        """
        qs = [float(x) for x in q]
        if not qs or any(not 0 <= x <= 1 for x in qs):
            raise SpecError(f"q={list(q)!r} is not valid; give quantiles in [0, 1].")
        wide = pd.concat([self._indicators, self._outcomes], axis=1)
        if by is None:
            groups: list[tuple[Any, pd.DataFrame]] = [(None, wide)]
        else:
            if by not in self._experiments.columns:
                raise unknown_name(by, list(self._experiments.columns), "lever or uncertainty", where="this sweep")
            key = self._experiments[by]
            if key.nunique() > 8:
                key = pd.qcut(key, 4, duplicates="drop")
            groups = [(g, wide.loc[idx]) for g, idx in key.groupby(key, observed=True).groups.items()]
        rows = []
        for group, frame in groups:
            for name in frame.columns:
                values = frame[name].to_numpy(dtype=float)
                defined = values[np.isfinite(values)]
                row: dict[str, Any] = {"name": name}
                if by is not None:
                    row[by] = group
                row["n"] = defined.size
                quant = np.quantile(defined, qs) if defined.size else np.full(len(qs), np.nan)
                row.update({f"q{x:g}": v for x, v in zip(qs, quant, strict=True)})
                rows.append(row)
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ sensitivity
    def _factors(self) -> list[str]:
        return [*self.levers, *self.uncertainties]

    def sobol(self, outcome: str, *, resamples: int = 1000, level: float = 0.95,
              seed: int | None = None) -> pd.DataFrame | xr.Dataset:
        """Sobol' indices of an outcome or indicator (``design="sobol"`` sweeps).

        Returns a DataFrame indexed by ``parameter`` (``S1``, ``S1_conf``, ``ST``, ``ST_conf``, the
        percentile-bootstrap bounds, and ``S2_<parameter>`` columns when second-order samples were
        drawn) for a scalar; an xarray Dataset over ``(parameter, time[, region])`` otherwise, all
        cells at once. ``seed`` (default: the sweep's) seeds the bootstrap.
        """
        if self.design != "sobol":
            raise SpecError(f"sobol() needs a sweep with design='sobol'; this one used design={self.design!r}.")
        values = self._values(outcome)
        names = self._factors()
        second = bool(self._args.get("second_order"))
        seed = int(self.provenance.seed or 0) if seed is None else seed
        res = _by_cells(values, lambda y: sobol_indices(y, len(names), second_order=second, resamples=resamples,
                                                         level=level, seed=seed))
        return self._shape(res, values, names)

    def morris(self, outcome: str, *, resamples: int = 1000, level: float = 0.95,
               seed: int | None = None) -> pd.DataFrame | xr.Dataset:
        """Morris elementary-effect statistics (``mu_star``, ``mu_star_conf``, ``sigma``, ``mu``)."""
        if self.design != "morris":
            raise SpecError(f"morris() needs a sweep with design='morris'; this one used design={self.design!r}.")
        from ._designs import _unit

        names = self._factors()
        args = self._args
        unit = _unit("morris", int(args["n"]), len(names), np.random.default_rng(int(args["seed"])), False, 2)
        values = self._values(outcome)
        seed = int(self.provenance.seed or 0) if seed is None else seed
        res = _by_cells(values, lambda y: morris_indices(y, unit, len(names), resamples=resamples, level=level,
                                                          seed=seed))
        return self._shape(res, values, names)

    @staticmethod
    def _shape(res: dict[str, np.ndarray], values: xr.DataArray, names: list[str]) -> pd.DataFrame | xr.Dataset:
        cells = values.dims[1:]
        if not cells:
            first = [k for k in ("S1", "S1_conf", "ST", "ST_conf", "mu_star", "mu_star_conf", "sigma") if k in res]
            order = first + [k for k in res if k not in first and res[k].ndim == 2]
            frame = pd.DataFrame({k: res[k][..., 0] for k in order}, index=pd.Index(names, name="parameter"))
            if "S2" in res:
                for i, name in enumerate(names):
                    frame[f"S2_{name}"] = res["S2"][:, i, 0]
            return frame
        shape = tuple(values.sizes[d] for d in cells)
        coords: dict[str, Any] = {str(d): values[d].values for d in cells if d in values.coords}
        coords["parameter"] = names
        out = {}
        for k, v in res.items():
            if v.ndim == 2:
                out[k] = (("parameter", *cells), v.reshape((len(names), *shape)))
            else:
                out[k] = (("parameter", "parameter_2", *cells), v.reshape((len(names), len(names), *shape)))
        if "S2" in res:
            coords["parameter_2"] = names
        return xr.Dataset(out, coords=coords)

    # ------------------------------------------------------------------ printing
    def summary(self) -> Summary:
        """Spec, seed and model, then 5/50/95 % bands of indicators and scalar outcomes (no wall clock)."""
        prov = self.provenance
        args = self._args
        left = [("Model:", f"{prov.model_id} {prov.model_version or ''}".strip()),
                ("Model sha256:", str(prov.model_sha256)[:12]), ("Design:", self.design), ("Seed:", str(prov.seed))]
        right = [("Scenarios:", str(len(self))), ("Levers:", str(len(self.levers))),
                 ("Uncertainties:", str(len(self.uncertainties))),
                 ("Reference runs:", "paired" if prov.details.get("paired") else "none")]
        top = SimpleTable([[a, b, c, d] for (a, b), (c, d) in zip(left, right, strict=True)],
                          title="Policy sweep")
        smry = Summary()
        smry.tables.append(top)
        bands = self.bands()
        if len(bands):
            cols = [c for c in bands.columns if c.startswith("q")]
            smry.tables.append(SimpleTable([[f"{r['n']}", *[f"{r[c]:.6g}" for c in cols]] for _, r in bands.iterrows()],
                                           headers=["n", *[f"{float(c[1:]):.0%}" for c in cols]],
                                           stubs=list(bands["name"]), title="Across scenarios"))
        notes = [f"Reference: {args.get('reference')}"] if args.get("reference") else []
        undefined = {k: int((v != "").sum()) for k, v in self._reasons.items() if (v != "").any()}
        if undefined:
            notes.append("Undefined (NaN, reasons in indicator_reasons): " + ", ".join(
                f"{k} in {v}" for k, v in undefined.items()))
        if notes:
            smry.add_extra_txt(notes)
        return smry

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    # ------------------------------------------------------------------ figures
    def plot_fan(self, outcome: str, *, by: str | None = None, q: Sequence[float] = (0.05, 0.5, 0.95),
                 ax: Any = None) -> Any:
        """Fan chart of a time-series outcome (reduced over regions by sum), optionally by lever group."""
        return _plots.fan(self, outcome, by=by, q=q, ax=ax)

    def plot_sensitivity(self, outcome: str, *, ax: Any = None) -> Any:
        """Tornado-style bars: Sobol' S1 and ST (sobol designs) or Morris mu_star (morris designs)."""
        return _plots.sensitivity(self, outcome, ax=ax)

    def plot_scatter(self, y: str, x: str, *, ax: Any = None) -> Any:
        """Scatter of an indicator or outcome against a lever or uncertainty."""
        return _plots.scatter(self, y, x, ax=ax)
