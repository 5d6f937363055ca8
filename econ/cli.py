"""Command line: ``econ data list``, ``econ data show NAME``, ``econ replicate``, ``econ verify``, ``econ paper``,
``econ --version``.

Errors are one clean line on stderr, never a traceback: library errors (``EconError``, a ``ValueError``) and OS
errors (a missing file, a folder given as a file, an unwritable location) exit with status 2, Ctrl-C with 130.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd


def _data_list(args) -> int:
    from econ import datasets

    with pd.option_context("display.max_colwidth", 80, "display.width", 160):
        print(datasets.list().to_string(index=False))
    return 0


def _data_show(args) -> int:
    from econ import datasets

    info = datasets.describe(args.name)
    print(f"{info['name']}  ({info['kind']}, {info['rows']} rows, file {info['file']})")
    print(info["description"])
    print("\nColumns:")
    for col, text in info["columns"].items():
        print(f"  {col:<28} {text}")
    print("\nProvenance:")
    print(info["provenance"])
    if args.head:
        with pd.option_context("display.width", 160, "display.max_columns", 30):
            print()
            print(datasets.load(args.name).head(args.head).to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="econ",
        description="Causal evaluation of place-based digital infrastructure programs: "
                    "bundled data, estimators and claims you can re-run.",
    )
    from econ import __version__

    parser.add_argument("--version", action="version", version=f"econ {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    data = sub.add_parser("data", help="list and describe the bundled datasets")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_sub.add_parser("list", help="one line per bundled dataset (real or simulated)").set_defaults(func=_data_list)
    show = data_sub.add_parser("show", help="provenance and columns of one dataset")
    show.add_argument("name")
    show.add_argument("--head", type=int, default=5, help="also print the first N rows (0 for none)")
    show.set_defaults(func=_data_show)

    try:  # the claims layer registers `replicate` and `verify` when present
        from econ.claims.cli import add_commands
    except ImportError:
        pass
    else:
        add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(func(args) or 0)
    except ValueError as err:  # EconError and friends: a clear message, no traceback
        print(f"econ: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # missing file, folder given as a file, read-only location: one line
        where = f": {err.filename}" if getattr(err, "filename", None) else ""
        print(f"econ: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("econ: interrupted; results being written were discarded, earlier results are unchanged",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
