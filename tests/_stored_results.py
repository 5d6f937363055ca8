"""Shared by the tests that tamper with stored claim results (test_replication_integrity.py,
test_verify_forgery.py): run claims into a results folder, edit a stored JSON file, re-hash a manifest the way a
careful forger would."""

import json
from pathlib import Path

from econ.claims import manifest, runner


def run_stored(ids, out: Path, registry) -> Path:
    """Run the claims ``ids`` into ``out`` as ``econ replicate`` does; every one must succeed."""
    recs = runner.run_claims(list(ids), out=out, registry=registry, progress=False, quiet=True)
    assert all(r["status"] == "ok" for r in recs), [r.get("error") for r in recs]
    return out


def rewrite_json(path: Path, change) -> None:
    """Apply ``change`` (a function that edits the parsed object in place) to the JSON file at ``path``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def rehash(folder: Path) -> None:
    """What a careful forger does after editing: recompute every file hash in the manifest."""
    rewrite_json(folder / "manifest.json", lambda m: m["files"].update(
        {name: manifest.sha256_file(folder / name) for name in m["files"]}))
