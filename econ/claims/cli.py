"""``econ replicate``, ``econ verify`` and ``econ paper`` sub-commands (registered by ``econ/cli.py``)."""

from __future__ import annotations

import argparse


def _replicate(args) -> int:
    from econ.claims import runner, schema

    mapping = schema.parse_map(args.map)
    if mapping and args.data is None:
        from econ.errors import SpecificationError

        raise SpecificationError("--map only applies together with --data (the bundled claims use their own data)")
    records = runner.run_claims(args.ids, data=args.data, mapping=mapping, out=args.out,
                                progress=not args.no_progress, update_expected=args.update_expected,
                                weights=args.weights)
    if args.update_expected:
        print("expected results updated in replication/expected/ (review the diff before committing)")
    ok = all(r.get("status") == "ok" for r in records)
    if ok and args.paper:  # same process: the claims just run are known to match, so the paper does not re-run them
        from econ.claims import paper

        return paper.main(["--results", args.out, *(["--no-progress"] if args.no_progress else [])])
    return 0 if ok else 1


def _verify(args) -> int:
    from econ.claims.verify import verify

    outcomes = verify(args.ids, expected_dir=args.expected, progress=not args.no_progress, keep=args.keep,
                      results=args.results)
    return 0 if all(o.ok for o in outcomes) else 1


def _paper(args) -> int:
    from econ.claims import paper

    return paper.main([*(["--results", args.results]), *(["--template", args.template] if args.template else []),
                       *(["--out", args.out] if args.out else []), *(["--no-progress"] if args.no_progress else [])])


def _roles_help() -> str:
    from econ.claims.schema import ROLE_HELP

    lines = ["column roles for --map role=column (with --data; nothing is guessed: a role not mapped is not used,",
             "and a check that needs it is reported as not testable):"]
    for role, (need, meaning) in ROLE_HELP.items():
        lines.append(f"  {role:<16} {need:<44} {meaning}".rstrip())
    return "\n".join(lines)


def add_commands(subparsers) -> None:
    rep = subparsers.add_parser(
        "replicate", help="run the registered claims and write results/<id>/",
        description="Run claims (all by default) on the bundled data, or the causal claims K1-K4 on your panel "
                    "with --data. Writes results/<id>/result.json, tables (.md, .tex, .csv) and figures (.png).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_roles_help() + "\n\nexample: econ replicate K1 --data mpdta.csv "
               "--map unit=countyreal,time=year,cohort=first.treat,outcome=lemp,psm_covariates=lpop\n"
               "Each claim is written atomically to <out>/<id>/ with a manifest.json (SHA-256 of every file); a claim "
               "that fails leaves its previous result and writes <out>/<id>.error.json. Exit status 1 if any claim "
               "failed, 2 on a usage or data error.")
    rep.add_argument("ids", nargs="*", metavar="ID", help="claim ids (default: all), e.g. D1 K2")
    rep.add_argument("--data", help="your panel (CSV, Stata .dta or parquet) for the causal claims")
    rep.add_argument("--map", help="role=column pairs, comma-separated (see below)")
    rep.add_argument("--weights", help="K2 with --data: your spatial weights, an edge-list CSV (columns source,target "
                                       "[,weight] holding your unit ids; one row per undirected link)")
    rep.add_argument("--out", default="results", help="output directory (default: results)")
    rep.add_argument("--update-expected", action="store_true",
                     help="also write replication/expected/<id>.json from this run (deliberate; then review)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep.add_argument("--paper", action="store_true",
                     help="then build paper/build/paper.html from these results in the same process (what `make "
                          "replicate` does; `econ paper` alone re-runs every stored claim before rendering it)")
    rep.set_defaults(func=_replicate)

    ver = subparsers.add_parser(
        "verify", help="check stored results, re-run every claim, compare with them and replication/expected/",
        description="Check every stored result's manifest and files (tampered, truncated, stale or foreign results "
                    "fail), re-run the claims from scratch in a temporary directory and compare verdicts, check "
                    "statuses, numbers and tables with the stored results and the committed expected results "
                    "(tolerances from the registry). Prints the data hashes used. Exit status 1 on any mismatch.")
    ver.add_argument("ids", nargs="*", metavar="ID", help="claim ids (default: all)")
    ver.add_argument("--expected", help="directory of expected <id>.json files (default: replication/expected)")
    ver.add_argument("--results", default="results", help="folder of stored results to check (default: results)")
    ver.add_argument("--keep", help="write the fresh results here instead of a temporary directory")
    ver.add_argument("--no-progress", action="store_true")
    ver.set_defaults(func=_verify)

    pap = subparsers.add_parser(
        "paper", help="build paper/build/paper.html from the stored results",
        description="Render paper/paper.html.in with the stored results. Every stored claim is re-run once and a "
                    "result that does not pass econ verify (manifest, fresh run, replication/expected/) is refused "
                    "(shown as missing); check statuses and verdicts are recomputed from the stored numbers. "
                    "Exit status 1 if anything is missing or refused.")
    pap.add_argument("--results", default="results", help="folder of stored results (default: results)")
    pap.add_argument("--template", help="template (default: paper/paper.html.in)")
    pap.add_argument("--out", help="output file (default: paper/build/paper.html)")
    pap.add_argument("--no-progress", action="store_true", help="no progress bar while the claims are re-run")
    pap.set_defaults(func=_paper)
