"""The ``cluster-econ`` command line: a thin layer over the package's verbs.

``cluster-econ demo`` runs the whole pipeline on the bundled data. ``run EXPERIMENT.toml --output DIR``
runs a study described in an experiment file; ``reproduce DIR`` re-runs it and checks the values (exit
0 equal, 1 different, 2 bad input); ``report DIR`` rebuilds its HTML report; ``cite DIR`` prints how
to cite it. Errors of the package are printed as one line (no traceback) with exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import pandas as pd

from . import __version__
from .errors import ClusterEconError

__all__ = ["main"]


def _print(text: object = "") -> None:
    sys.stdout.write(f"{text}\n")


def cmd_demo(args: argparse.Namespace) -> None:
    """Show the whole pipeline on the bundled data."""
    from ._demo import run_demo

    run_demo(_print, output=args.output)


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
    demo = commands.add_parser("demo", help="run the whole pipeline on the bundled data")
    demo.add_argument("--output", "-o", default=None,
                      help="folder for the saved results and report (default: a new temporary folder)")
    demo.set_defaults(func=cmd_demo)
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
        sys.stdout.flush()  # inside the try: a closed pipe is met here, not in the interpreter's exit
    except ClusterEconError as error:
        sys.stderr.write(f"cluster-econ: {type(error).__name__}: {error}\n")
        return 2
    except BrokenPipeError:
        # the reader stopped early (``cluster-econ describe us_states | head``): not an error of ours;
        # stdout goes to devnull so that the interpreter's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command ended by a closed pipe
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
