"""Citations: a methods sentence and BibTeX entries for any result or model (``ce.cite``).

The sentence says what was run, from the call a result records (``provenance.details["call"]``): the
model id, version and short sha256, the engine, method and horizon, the parameters changed or the sweep
spec, the dataset and the estimator. The BibTeX entries cite the package (the fields of
``CITATION.cff``), the model version (``@software`` with version and sha256) and each dataset's
original study, from the ``[[reference]]`` tables of ``data/<name>.toml``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from .provenance import Provenance

__all__ = ["PACKAGE", "cite_object"]

#: The package as CITATION.cff and .zenodo.json describe it (tests check that they agree).
PACKAGE = {
    "title": "cluster_econ: system dynamics and panel econometrics of regional industrial clusters",
    "authors": ["The cluster_econ developers"],
    "license": "BSD-3-Clause",
    "year": 2026,
}

_BIB_FIELDS = ("author", "editor", "title", "booktitle", "journal", "series", "volume", "number", "edition",
               "pages", "school", "publisher", "address", "year", "doi", "url")


def _tex(text: Any) -> str:
    return re.sub(r"([&%$#_])", r"\\\1", str(text))


def _authors(names: Iterable[str]) -> str:
    return " and ".join("{" + _tex(n) + "}" if "," not in n else _tex(n) for n in names)


def bibtex(kind: str, key: str, fields: Mapping[str, Any]) -> str:
    """One BibTeX entry; list fields (authors, editors) are joined with ``and``."""
    lines = [f"@{kind}{{{key},"]
    for name in (*_BIB_FIELDS, *(f for f in fields if f not in _BIB_FIELDS)):
        value = fields.get(name)
        if value is None or name in ("type", "key"):
            continue
        text = _authors(value) if isinstance(value, list | tuple) else _tex(value)
        lines.append(f"  {name} = {{{text}}},")
    lines[-1] = lines[-1].rstrip(",")
    return "\n".join(lines) + "\n}"


def _package_entry(version: str) -> str:
    return bibtex("software", "cluster_econ", {
        "author": PACKAGE["authors"], "title": PACKAGE["title"], "version": version, "year": PACKAGE["year"],
        "license": PACKAGE["license"],
    })


def _key(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def _model_entry(model_id: str, version: str | None, sha: str | None) -> str:
    title = f"{model_id}" + (f", version {version}" if version else "") + ": a stock-and-flow model"
    fields: dict[str, Any] = {"author": PACKAGE["authors"], "title": title,
                              "version": version or f"sha256 {str(sha)[:12]}", "year": PACKAGE["year"],
                              "note": f"Model file sha256 {sha}"}
    if version:
        fields["note"] += f"; distributed with cluster_econ as models/{model_id}/versions/{version}.mdl"
    return bibtex("software", _key(f"{model_id}_{version or str(sha)[:12]}"), fields)


def dataset_references(name: str) -> list[dict[str, Any]]:
    """The ``[[reference]]`` tables of ``data/<name>.toml`` (empty for unknown or non-bundled data)."""
    from .data._registry import data_dir

    path = data_dir() / f"{name}.toml"
    if not path.is_file():
        return []
    with open(path, "rb") as handle:
        return list(tomllib.load(handle).get("reference", []))


def _short_ref(ref: Mapping[str, Any]) -> str:
    authors = [str(a).split(",")[0] for a in ref.get("author", [])]
    who = authors[0] if len(authors) == 1 else " and ".join(authors) if len(authors) == 2 else f"{authors[0]} et al."
    return f"{who} {ref.get('year', '')}".strip()


def _datasets(prov: Provenance) -> list[tuple[str, str | None]]:
    found: dict[str, str | None] = {}
    if prov.dataset:
        found[prov.dataset] = prov.dataset_sha256

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            if isinstance(value.get("dataset"), str):
                found.setdefault(value["dataset"], value.get("sha256"))
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(prov.details.get("call", {}))
    walk(prov.details.get("sources", {}))
    return list(found.items())


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _changes(params: Mapping[str, Any], limit: int = 8) -> str:
    items = [f"{k} = {_number(v) if not isinstance(v, Mapping | list) else 'a time series'}"
             for k, v in params.items()]
    if len(items) > limit:
        items = [*items[:limit], f"and {len(items) - limit} more"]
    return ", ".join(items)


def _model_phrase(prov: Provenance) -> str:
    if not prov.model_id:
        return ""
    version = f" {prov.model_version}" if prov.model_version else ""
    return f"model {prov.model_id}{version} (sha256 {str(prov.model_sha256)[:12]})"


def _horizon(details: Mapping[str, Any]) -> str:
    start, end = details.get("initial_time"), details.get("final_time")
    step = details.get("time_step")
    text = f"{_number(start)}-{_number(end)}" if start is not None and end is not None else ""
    return text + (f", time step {_number(step)}" if step is not None else "")


def _sentence(prov: Provenance) -> str:
    details = prov.details
    call = details.get("call") or {}
    verb = call.get("verb")
    args = call.get("arguments", {}) or {}
    model = _model_phrase(prov)
    engine = details.get("engine")
    method = details.get("method")
    how = f"the {engine} engine ({method})" if engine and method else f"the {engine} engine" if engine else ""
    if verb == "simulate" or (verb is None and model and "scenarios" not in details):
        text = f"We simulated {model}" + (f" with {how}" if how else "")
        horizon = _horizon(details)
        text += f" over {horizon}" if horizon else ""
        changed = dict(prov.changed_parameters)
        text += f", changing {_changes(changed)}" if changed else ", with every parameter at its default"
    elif verb == "simulate_batch" or (verb is None and "scenarios" in details):
        columns = list(dict(prov.changed_parameters))
        text = f"We simulated {details.get('scenarios', 'a batch of')} scenarios of {model} with {how}"
        text += f", varying {', '.join(columns)}" if columns else ""
    elif verb == "calibrate" or details.get("kind") == "calibration":
        targets = args.get("targets") or details.get("targets") or {}
        fitted = args.get("parameters") or details.get("parameters") or []
        names = list(fitted) if isinstance(fitted, Mapping | list) else [str(fitted)]
        how = details.get("estimator") or (f"loss {args.get('loss', 'log')}, covariance "
                                            f"{args.get('cov_type', 'clustered')}")
        holdout = args.get("holdout")
        text = (f"We calibrated {', '.join(map(str, names))} of {model} to the panel targets "
                f"{', '.join(f'{k} ~ {v}' for k, v in dict(targets).items())} ({how}"
                + (f"; holdout {holdout[0]}-{holdout[-1]})" if holdout else ")"))
        fixed = args.get("fixed")
        text += f", with {_changes(fixed)} held fixed" if isinstance(fixed, Mapping) and fixed else ""
    elif verb == "sweep":
        levers = [lv.get("name") for lv in args.get("levers", []) if isinstance(lv, Mapping)]
        uncertain = [u.get("name") for u in args.get("uncertainties", []) if isinstance(u, Mapping)]
        text = (f"We ran a policy sweep of {model}: {args.get('n')} scenarios, design "
                f"{args.get('design', 'lhs')}, over the levers {', '.join(map(str, levers)) or 'none'}")
        text += f" and the uncertainties {', '.join(map(str, uncertain))}" if uncertain else ""
        reference = args.get("reference")
        text += f", each paired with a reference run at {_changes(reference)}" if reference else ""
    elif details.get("estimator"):
        text = f"We estimated {details.get('formula', '')} by {details['estimator']}"
        extra = [f"{', '.join(details['effects'])} effects" if details.get("effects") else "",
                 f"{details.get('cov_type')} standard errors" if details.get("cov_type") else ""]
        if details.get("cov_type") == "clustered" and details.get("cluster"):
            extra[1] = f"standard errors clustered by {' and '.join(details['cluster'])}"
        extra = [e for e in extra if e]
        text += f" ({'; '.join(extra)})" if extra else ""
    else:
        text = f"We used {model}" if model else ""
    return text


def cite_provenance(prov: Provenance) -> str:
    version = prov.versions.get("cluster-econ", "unknown")
    sentence = _sentence(prov)
    data = _datasets(prov)
    refs: list[dict[str, Any]] = []
    phrases = []
    for name, sha in data:
        own = dataset_references(name)
        refs += own
        cite_as = "; ".join(_short_ref(r) for r in own)
        phrases.append(f"dataset {name} (sha256 {str(sha)[:12]}" + (f"; {cite_as}" if cite_as else "") + ")")
    if phrases:
        sentence += (", on " if sentence else "We used ") + " and ".join(phrases)
    if prov.seed is not None:
        sentence += f", seed {prov.seed}"
    sentence += (f". Computed with cluster_econ {version} (numpy {prov.versions.get('numpy')}, pandas "
                 f"{prov.versions.get('pandas')}, statsmodels {prov.versions.get('statsmodels')}, pysd "
                 f"{prov.versions.get('pysd')}).")
    entries = [_package_entry(version)]
    if prov.model_id:
        entries.append(_model_entry(prov.model_id, prov.model_version, prov.model_sha256))
    seen = set()
    for ref in refs:
        if ref.get("key") in seen:
            continue
        seen.add(ref.get("key"))
        entries.append(bibtex(str(ref.get("type", "article")), str(ref.get("key")), ref))
    legacy = prov.details.get("dataset_citation")
    if legacy and not refs and prov.dataset:
        entries.append(bibtex("misc", _key(prov.dataset), {"title": prov.dataset, "note": legacy}))
    return sentence + "\n\n" + "\n\n".join(entries)


def cite_object(obj: Any) -> str:
    """See :func:`cluster_econ.cite`."""
    import xarray as xr

    from .errors import SpecError

    if isinstance(obj, Provenance):
        return cite_provenance(obj)
    if isinstance(obj, xr.Dataset) and isinstance(obj.attrs.get("provenance"), str):
        prov = Provenance(**json.loads(obj.attrs["provenance"]))
        return cite_provenance(prov)
    if hasattr(obj, "sha256") and hasattr(obj, "path") and hasattr(obj, "parameters"):  # an SDModel
        prov = Provenance.capture(model_id=obj.id, model_version=obj.version, model_sha256=obj.sha256)
        sentence = (f"We used the stock-and-flow {_model_phrase(prov)}"
                    + (f", {obj.description.split('. ')[0][0].lower()}{obj.description.split('. ')[0][1:]}"
                       if obj.description else ""))
        body = cite_provenance(prov)
        return sentence + body[body.index(". Computed with"):]
    record = getattr(obj, "provenance", None)
    if not isinstance(record, Provenance):
        raise SpecError(f"cite() needs an object with a provenance record; got {type(obj).__name__}.")
    return cite_provenance(record)
