"""What makes a stored result checkable: ``results/<id>/manifest.json`` and the checks run on it.

A manifest records everything a result depends on and everything it consists of::

    {
      "format": "econ-result/1",
      "claim": "K1",
      "econ_version": "0.1.0",
      "spec_sha256": "...",        # the claim's registry entry + its script (see spec_hash)
      "data": {"china_prefectures.csv": "<sha256>", ...},   # bundled files read by the run
      "user_data": null | {"file", "path", "sha256", "rows", "columns"},
      "seed": 1, "options": {},
      "files": {"result.json": "<sha256>", "event_study.png": "<sha256>", ...}   # every file written
    }

:func:`check_stored` reads a stored result folder and lists every way it fails: a file altered, truncated, missing
or added (SHA-256 against the manifest), a manifest for another claim or folder (foreign), a result written by
another package version, from another registry entry or script, or from other data (stale). It never re-runs the
claim; ``econ verify`` does that next and compares the numbers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from econ.claims.registry import Claim, Registry

__all__ = ["MANIFEST", "FORMAT", "sha256_file", "spec_hash", "write_manifest", "read_manifest", "check_stored",
           "stored_ids"]

MANIFEST = "manifest.json"
RESULT = "result.json"
FORMAT = "econ-result/1"


def sha256_bytes(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def spec_hash(claim: Claim, registry: Registry) -> str:
    """SHA-256 of what defines a claim: its registry entry (statement, checks, tolerances, inputs, sources) and the
    bytes of its script. Any edit to either makes stored results of the claim stale."""
    from econ.claims.output import jsonable

    script = registry.script_path(claim)
    payload = {"claim": jsonable(dataclasses.asdict(claim)),
               "script": sha256_file(script) if script.is_file() else None}
    return sha256_bytes(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def _econ_version() -> str:
    import econ

    return econ.__version__


def write_manifest(folder: Path, *, claim: Claim, registry: Registry, data: dict, seed, options: dict | None,
                   user_data: dict | None) -> dict:
    """Hash every file in ``folder`` and write ``manifest.json`` there; return the manifest."""
    folder = Path(folder)
    files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*"))
             if p.is_file() and p.name != MANIFEST}
    manifest = {"format": FORMAT, "claim": claim.id, "econ_version": _econ_version(),
                "spec_sha256": spec_hash(claim, registry), "data": dict(sorted(data.items())),
                "user_data": user_data, "seed": seed, "options": options or {}, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def read_manifest(folder: Path) -> dict:
    """The manifest of a stored result (ValueError with the reason when absent or unreadable)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise ValueError(f"{path}: no manifest (not written by this version of econ replicate, or incomplete)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: manifest is not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{path}: format {manifest.get('format') if isinstance(manifest, dict) else None!r}, "
                         f"expected {FORMAT!r}")
    return manifest


_FRESH: set[str] = set()  # results this process computed or re-ran and found equal (see fresh_key)


def fresh_key(folder) -> str | None:
    """What identifies a stored result byte for byte: its claim and the SHA-256 of its manifest (which hashes every
    file; :func:`check_stored` checks the files against it) and, for a result on a user's data set, the SHA-256 of
    that file as it is now (``None`` when it is gone or changed, or without a readable manifest).

    ``econ paper`` renders a result only when it matches a fresh run of its claim; a result whose key is in
    ``_FRESH`` was computed by this very process (``econ replicate`` then ``econ paper`` in one session, the tests)
    or already compared with a fresh run here, so it is not re-run again. The set lives in memory only: editing a
    stored file changes the key (or fails :func:`check_stored`), so nothing written to disk can put a result in it.
    """
    folder = Path(folder)
    try:
        raw = (folder / MANIFEST).read_bytes()
        man = json.loads(raw)
    except (OSError, ValueError):
        return None
    if not isinstance(man, dict):
        return None
    user = man.get("user_data")
    if user:
        try:
            now = sha256_file(user["path"])
        except (OSError, TypeError, KeyError):
            return None
        if now != user.get("sha256"):
            return None
        return f"{folder.name}:{sha256_bytes(raw)}:{now}"
    return f"{folder.name}:{sha256_bytes(raw)}"


def remember_fresh(folder) -> None:
    """Record that the result in ``folder`` matches a fresh run made in this process (see :func:`fresh_key`)."""
    key = fresh_key(folder)
    if key:
        _FRESH.add(key)


def is_fresh(folder) -> bool:
    key = fresh_key(folder)
    return key is not None and key in _FRESH


def stored_ids(results) -> list[str]:
    """Names of the result folders in ``results`` (hidden temporary folders excluded)."""
    results = Path(results)
    if not results.is_dir():
        return []
    return sorted(p.name for p in results.iterdir() if p.is_dir() and not p.name.startswith("."))


def check_stored(folder, registry: Registry, current_data: dict | None = None) -> list[str]:
    """Every problem of the stored result in ``folder`` (empty list = it verifies), one sentence each naming the
    claim, the file and the field.

    ``current_data`` maps bundled data files to their current SHA-256 (default: the recorded checksums); a result
    computed from other data is stale.
    """
    from econ import datasets

    folder = Path(folder)
    cid = folder.name
    try:
        manifest = read_manifest(folder)
    except ValueError as err:
        return [f"{cid}: {err}"]
    problems = []
    if manifest.get("claim") != cid:
        problems.append(f"{cid}: {MANIFEST} field claim: {manifest.get('claim')!r} -- a result of another claim "
                        f"stored under {cid}/ (foreign)")
    if cid not in registry.ids:
        return problems + [f"{cid}: not a registered claim (foreign result folder)"]
    claim = registry[cid]
    files = manifest.get("files") or {}
    if RESULT not in files:
        problems.append(f"{cid}: {MANIFEST} field files: lists no {RESULT}")
    for name, digest in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{cid}: {name}: listed in the manifest but missing")
        elif sha256_file(path) != digest:
            problems.append(f"{cid}: {name}: SHA-256 {sha256_file(path)[:12]}... differs from the manifest's "
                            f"{str(digest)[:12]}... (file altered or truncated after it was written)")
    extra = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and p.name != MANIFEST and p.relative_to(folder).as_posix() not in files)
    for name in extra:
        problems.append(f"{cid}: {name}: not written by the run (not in the manifest; foreign file)")
    version = _econ_version()
    if manifest.get("econ_version") != version:
        problems.append(f"{cid}: {MANIFEST} field econ_version: stored {manifest.get('econ_version')!r} vs "
                        f"installed {version!r} (stale: re-run econ replicate {cid})")
    spec = spec_hash(claim, registry)
    if manifest.get("spec_sha256") != spec:
        problems.append(f"{cid}: {MANIFEST} field spec_sha256: stored {str(manifest.get('spec_sha256'))[:12]}... "
                        f"vs current {spec[:12]}... (the registry entry or script changed; stale)")
    recorded = current_data if current_data is not None else {
        f: e.get("sha256") for f, e in datasets.read_checksums().items()}
    for name, digest in sorted((manifest.get("data") or {}).items()):
        now = recorded.get(name)
        if now != digest:
            problems.append(f"{cid}: {MANIFEST} field data.{name}: stored {str(digest)[:12]}... vs current "
                            f"{str(now)[:12] if now else 'absent'}... (the bundled data changed; stale)")
    if RESULT in files and (folder / RESULT).is_file():
        try:
            record = json.loads((folder / RESULT).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            problems.append(f"{cid}: {RESULT}: not valid JSON ({err})")
        else:
            if not isinstance(record, dict) or record.get("id") != cid:
                got = record.get("id") if isinstance(record, dict) else None
                problems.append(f"{cid}: {RESULT} field id: {got!r} (a result of another claim; foreign)")
    return problems
