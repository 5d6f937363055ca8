"""Run every ``benchmarks/bench_*.py`` (this is what ``make bench`` calls).

    python benchmarks/run_all.py            # full sizes
    python benchmarks/run_all.py --quick    # small sizes, a smoke run
    python benchmarks/run_all.py feols      # only bench files whose name contains "feols"

Each bench module exposes ``main(quick: bool = False)`` that prints a ratio table (see ``_timing.py``). A bench that
raises is reported and the others still run; the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # `import _timing` and `import econ` from a source checkout


def discover(pattern: str = "") -> list[Path]:
    """The bench files of this directory whose stem contains ``pattern``, in name order."""
    return sorted(p for p in HERE.glob("bench_*.py") if pattern in p.stem)


def run_one(path: Path, quick: bool) -> bool:
    """Import ``path`` and call its ``main``; True when it finished without an exception."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        main = module.main
        takes_quick = "quick" in inspect.signature(main).parameters
        main(quick=quick) if takes_quick else main()
    except Exception:
        traceback.print_exc()
        print(f"!! {path.name} failed", flush=True)
        return False
    return True


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pattern", nargs="?", default="", help="run only bench files whose name contains this")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = discover(args.pattern)
    if not paths:
        print(f"no benchmarks/bench_*.py matches {args.pattern!r}")
        return 1
    failed = []
    for path in paths:
        print(f"\n## {path.stem}{' (quick)' if args.quick else ''}", flush=True)
        start = time.perf_counter()
        if not run_one(path, args.quick):
            failed.append(path.name)
        print(f"\n({path.stem} took {time.perf_counter() - start:.1f} s)", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
