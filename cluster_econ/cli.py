"""The ``cluster-econ`` command line: a thin layer over the package's verbs.

``cluster-econ demo`` runs the whole pipeline on the bundled data. ``run EXPERIMENT.toml --output DIR``
runs a study described in an experiment file; ``reproduce DIR`` re-runs it and checks the values (exit
0 equal, 1 different, 2 bad input); ``report DIR`` rebuilds its HTML report; ``cite DIR`` prints how
to cite it. Errors of the package are printed as one line (no traceback) with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import pandas as pd

from . import __version__
from .errors import ClusterEconError

__all__ = ["main"]


def _print(text: object = "") -> None:
    sys.stdout.write(f"{text}\n")


def _section(title: str) -> None:
    _print()
    _print(title)
    _print("=" * len(title))


def _demo_data() -> None:
    from .data import load_dataset

    _section("Data: US states, 1970-1986 (Munnell 1990)")
    _print(load_dataset("us_states").describe())


PRODUCTION_FUNCTION = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"


def _demo_estimation() -> None:
    from .data import load_dataset
    from .estimation import compare, panel_ols

    _section("Estimation: production function with public capital (Munnell 1990; Holtz-Eakin 1994)")
    panel = load_dataset("us_states")
    specs = {"Pooled OLS": (), "State effects": ("entity",), "State and year effects": ("entity", "time")}
    results = {label: panel_ols(PRODUCTION_FUNCTION, panel, effects=effects) for label, effects in specs.items()}
    _print(compare(results))
    pooled, within = (float(results[label].params["log(pcap)"]) for label in ("Pooled OLS", "State effects"))
    _print(f"Public-capital elasticity: {pooled:.3f} pooled, {within:.3f} with state effects.")


DEMO_OUTCOMES = {  # variable: (label, how to aggregate the 48 states)
    "output": ("Output (USD bn 1982/yr)", "sum"),
    "employment": ("Employment (million jobs)", "sum"),
    "sme_employment": ("SME employment (million jobs)", "sum"),
    "public_capital": ("Public capital (USD bn 1982)", "sum"),
    "unemployment_rate": ("Unemployment rate (%, mean)", "mean"),
    "alignment": ("Alignment (0-1, mean)", "mean"),
    "sme_seat_share": ("SME seat share (mean)", "mean"),
}


def _demo_simulation() -> None:
    from .sd import load_model, simulate

    model = load_model("regional_cluster")
    _section(f"Simulation: {model.id} {model.version}, 48 US states from their 1970 values to 2000")
    run = simulate(model, final_time=2000, saveper=10, outputs=list(DEMO_OUTCOMES))
    rows = {}
    for name, (label, how) in DEMO_OUTCOMES.items():
        values = run.data[name]
        values = values.sum("Region") if how == "sum" else values.mean("Region")
        scale = 1e-3 if how == "sum" else 1.0
        rows[label] = (values * scale).to_series()
    table = pd.DataFrame(rows).T
    table.columns = [f"{t:.0f}" for t in table.columns]
    _print(table.to_string(float_format=lambda x: f"{x:,.3f}"))
    _print(f"engine: {run.provenance.details.get('engine')}, model sha256 {model.sha256[:12]}")


DEMO_STEPS: list[Callable[[], None]] = [_demo_data, _demo_estimation, _demo_simulation]


def cmd_demo(_args: argparse.Namespace) -> None:
    """Show the whole pipeline on the bundled data."""
    _print(f"cluster_econ {__version__}: the pipeline on the bundled data")
    for step in DEMO_STEPS:
        step()


def cmd_datasets(_args: argparse.Namespace) -> None:
    from .data import list_datasets

    with pd.option_context("display.max_colwidth", 60, "display.width", 160):
        _print(list_datasets().drop(columns="citation").to_string(index=False))


def cmd_describe(args: argparse.Namespace) -> None:
    from .data import load_dataset

    panel = load_dataset(args.name)
    _print(panel.describe())
    _print()
    _print(f"Citation: {panel.metadata.get('citation', '')}")


def cmd_versions(_args: argparse.Namespace) -> None:
    from .provenance import show_versions

    _print(show_versions())


def cmd_run(args: argparse.Namespace) -> None:
    from .reporting._experiment import run_experiment

    study = run_experiment(args.experiment, args.output, n=args.n)
    _print(f"{len(study.results)} result(s) saved in {study.folder}:")
    for name in study.results:
        _print(f"  - {name}")
    if study.report_path.is_file():
        _print(f"Report: {study.report_path}")


def cmd_reproduce(args: argparse.Namespace) -> int:
    import warnings

    from .errors import ReproducibilityError, ReproducibilityWarning
    from .reporting import reproduce
    from .reporting._experiment import result_folders

    different = 0
    for name, folder in result_folders(args.folder):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ReproducibilityWarning)
            try:
                reproduce(folder)
            except ReproducibilityError as error:
                different += 1
                _print(f"DIFFERENT  {name}: {error}")
                continue
        _print(f"EQUAL      {name}")
        for warning in caught:
            if issubclass(warning.category, ReproducibilityWarning):
                _print(f"           note: {warning.message}")
    return 1 if different else 0


def cmd_report(args: argparse.Namespace) -> None:
    from .reporting._experiment import rebuild_report

    _print(f"Report: {rebuild_report(args.folder)}")


def cmd_cite(args: argparse.Namespace) -> None:
    from .provenance import cite
    from .reporting import load_result
    from .reporting._experiment import result_folders

    for i, (name, folder) in enumerate(result_folders(args.folder)):
        if i:
            _print()
        _print(f"# {name}")
        _print(cite(load_result(folder)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cluster-econ",
        description="System dynamics and panel econometrics of regional industrial clusters.",
    )
    parser.add_argument("--version", action="version", version=f"cluster-econ {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="run the whole pipeline on the bundled data").set_defaults(func=cmd_demo)
    commands.add_parser("datasets", help="list the bundled datasets").set_defaults(func=cmd_datasets)
    describe = commands.add_parser("describe", help="describe a bundled dataset")
    describe.add_argument("name", help="dataset name (see `cluster-econ datasets`)")
    describe.set_defaults(func=cmd_describe)
    commands.add_parser("versions", help="versions of the packages results depend on").set_defaults(
        func=cmd_versions
    )
    run = commands.add_parser("run", help="run a study described in an experiment TOML file")
    run.add_argument("experiment", help="the experiment file (see examples/)")
    run.add_argument("--output", "-o", required=True, help="the folder to write the results and report to")
    run.add_argument("--n", type=int, default=None, help="override the sweep's number of scenarios")
    run.set_defaults(func=cmd_run)
    reproduce = commands.add_parser("reproduce", help="re-run saved results and check their values "
                                                      "(exit 0 equal, 1 different, 2 bad input)")
    reproduce.add_argument("folder", help="a study folder (from `run`) or one saved result folder")
    reproduce.set_defaults(func=cmd_reproduce)
    rebuild = commands.add_parser("report", help="rebuild the HTML report of a study folder")
    rebuild.add_argument("folder")
    rebuild.set_defaults(func=cmd_report)
    cite = commands.add_parser("cite", help="the methods sentence and BibTeX of saved results")
    cite.add_argument("folder", help="a study folder or one saved result folder")
    cite.set_defaults(func=cmd_cite)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cluster-econ`` console script."""
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except ClusterEconError as error:
        sys.stderr.write(f"cluster-econ: {type(error).__name__}: {error}\n")
        return 2
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
