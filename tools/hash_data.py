"""Record the SHA-256 and row count of every bundled data file in ``data/checksums.json``.

    python tools/hash_data.py            # refresh data/checksums.json after adding or changing a file in data/
    python tools/hash_data.py --check    # exit 1 (listing the files) if any recorded entry is stale or missing

``econ.datasets`` refuses to load a bundled file whose bytes do not match its entry (a truncated or edited file,
or one added without running this script). Rows are data rows of a CSV (header excluded, quoted newlines
handled), features of a GeoJSON, and null for other JSON files. ``PROVENANCE.md`` and Python files are
documentation/code and are not recorded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from econ.datasets import CHECKSUMS_FILE, compute_checksums, read_checksums, write_checksums  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT / "data"), help="the data directory (default: the repo's data/)")
    parser.add_argument("--check", action="store_true", help="only compare; do not write")
    args = parser.parse_args(argv)
    folder = Path(args.data)
    current = compute_checksums(folder)
    if args.check:
        recorded = read_checksums(folder)
        stale = sorted(f for f in set(current) | set(recorded) if current.get(f) != recorded.get(f))
        for f in stale:
            print(f"stale or missing checksum: {f}")
        return 1 if stale else 0
    write_checksums(folder, current)
    for name, entry in current.items():
        print(f"{name:<45} {entry['rows'] if entry['rows'] is not None else '-':>8} rows  {entry['sha256']}")
    print(f"wrote {folder / CHECKSUMS_FILE} ({len(current)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
