"""``econ replicate`` and ``econ verify`` sub-commands (registered by ``econ/cli.py``)."""

from __future__ import annotations

import argparse


def _replicate(args) -> int:
    from econ.claims import runner, schema

    mapping = schema.parse_map(args.map)
    if mapping and args.data is None:
        raise SystemExit("econ replicate: --map only applies together with --data")
    records = runner.run_claims(args.ids, data=args.data, mapping=mapping, out=args.out,
                                progress=not args.no_progress, update_expected=args.update_expected)
    if args.update_expected:
        print("expected results updated in replication/expected/ (review the diff before committing)")
    return 0 if all(r.get("status") == "ok" for r in records) else 1


def _verify(args) -> int:
    from econ.claims.verify import verify

    outcomes = verify(args.ids, expected_dir=args.expected, progress=not args.no_progress, keep=args.keep)
    return 0 if all(o.ok for o in outcomes) else 1


def add_commands(subparsers) -> None:
    rep = subparsers.add_parser(
        "replicate", help="run the registered claims and write results/<id>/",
        description="Run claims (all by default) on the bundled data, or the causal claims K1-K4 on your panel "
                    "with --data. Writes results/<id>/result.json, tables (.md, .tex, .csv) and figures (.png).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="column roles for --map (defaults = the bundled demo panel's names):\n"
               "  unit, time, cohort (first designation year, 0 = never) or treated (0/1), outcome (log urban/rural\n"
               "  income) or urban_income + rural_income, region (K3), firms, nonfarm, public_services (K4 channels),\n"
               "  controls (a+b), psm_covariates (K1 propensity score, a+b)\n"
               "example: econ replicate K1 K3 --data mycities.dta --map unit=city_code,time=year,cohort=bbc_year,"
               "outcome=ln_ratio")
    rep.add_argument("ids", nargs="*", metavar="ID", help="claim ids (default: all), e.g. D1 K2")
    rep.add_argument("--data", help="your panel (CSV, Stata .dta or parquet) for the causal claims")
    rep.add_argument("--map", help="role=column pairs, comma-separated (see below)")
    rep.add_argument("--out", default="results", help="output directory (default: results)")
    rep.add_argument("--update-expected", action="store_true",
                     help="also write replication/expected/<id>.json from this run (deliberate; then review)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep.set_defaults(func=_replicate)

    ver = subparsers.add_parser(
        "verify", help="re-run every claim and compare with replication/expected/",
        description="Re-run claims from scratch in a temporary directory and compare verdicts, check statuses "
                    "and numbers with the committed expected results (tolerances from the registry). "
                    "Exit status 1 on any mismatch.")
    ver.add_argument("ids", nargs="*", metavar="ID", help="claim ids (default: all)")
    ver.add_argument("--expected", help="directory of expected <id>.json files (default: replication/expected)")
    ver.add_argument("--keep", help="write the fresh results here instead of a temporary directory")
    ver.add_argument("--no-progress", action="store_true")
    ver.set_defaults(func=_verify)
