"""``econ verify``: re-run every claim from scratch and compare with the committed expected results.

Each claim runs into a fresh temporary directory; its fingerprint (:func:`econ.claims.runner.fingerprint`) is
compared with ``replication/expected/<id>.json``:

* the verdict (and its qualifier) and every check's status must be identical;
* every number (check values and the script's ``numbers``) must agree within the claim's ``verify_rtol`` /
  ``verify_atol`` from the registry (``|new - old| <= atol + rtol * |old|``); strings and booleans exactly;
* a number present on one side only is a mismatch.

Regenerate the expected files deliberately with ``econ replicate --update-expected``.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from econ.claims import runner
from econ.claims.registry import Registry
from econ.claims.registry import load as load_registry

__all__ = ["verify", "compare", "ClaimCheck"]


@dataclass
class ClaimCheck:
    id: str
    verdict: str
    ok: bool
    mismatches: list[str] = field(default_factory=list)


def compare(expected: dict, actual: dict, rtol: float, atol: float) -> list[str]:
    """Differences between two fingerprints, one sentence each (empty list = match)."""
    out = []
    for key in ("verdict", "qualifier"):
        if expected.get(key, "") != actual.get(key, ""):
            out.append(f"{key}: expected {expected.get(key)!r}, got {actual.get(key)!r}")
    exp_checks, act_checks = expected.get("checks", {}), actual.get("checks", {})
    for name in sorted(set(exp_checks) | set(act_checks)):
        e, a = exp_checks.get(name), act_checks.get(name)
        if e is None or a is None:
            out.append(f"check {name}: present only in {'the new run' if e is None else 'the expected file'}")
            continue
        if e["status"] != a["status"]:
            out.append(f"check {name}: status expected {e['status']!r}, got {a['status']!r}")
        if not _close(e["value"], a["value"], rtol, atol):
            out.append(f"check {name}: value expected {e['value']!r}, got {a['value']!r}")
    exp_num, act_num = expected.get("numbers", {}), actual.get("numbers", {})
    for key in sorted(set(exp_num) | set(act_num)):
        if key not in exp_num or key not in act_num:
            out.append(f"number {key}: present only in {'the new run' if key not in exp_num else 'the expected file'}")
        elif not _close(exp_num[key], act_num[key], rtol, atol):
            out.append(f"number {key}: expected {exp_num[key]!r}, got {act_num[key]!r}")
    return out


def _close(e, a, rtol, atol) -> bool:
    if isinstance(e, bool) or isinstance(a, bool) or not isinstance(e, (int, float)) \
            or not isinstance(a, (int, float)):
        return e == a
    if math.isnan(e) or math.isnan(a):
        return math.isnan(e) and math.isnan(a)
    return abs(a - e) <= atol + rtol * abs(e)


def verify(ids=None, expected_dir=None, registry: Registry | None = None, progress: bool = True,
           stream=None, quiet: bool = False, keep: str | Path | None = None) -> list[ClaimCheck]:
    """Re-run claims (all by default) and compare with ``expected_dir`` (default ``replication/expected``).

    Prints PASS/FAIL per claim with its verdict and every mismatch; returns the per-claim outcomes.
    ``keep`` writes the fresh results there instead of a temporary directory that is removed afterwards.
    """
    registry = registry or load_registry()
    expected_dir = Path(expected_dir) if expected_dir is not None else registry.scripts_dir / "expected"
    claims = registry.select(ids)
    with tempfile.TemporaryDirectory(prefix="econ-verify-") as tmp:
        out = Path(keep) if keep is not None else Path(tmp)
        records = runner.run_claims([c.id for c in claims], out=out, registry=registry, progress=progress,
                                    quiet=True)
    outcomes = []
    for claim, rec in zip(claims, records):
        path = expected_dir / f"{claim.id}.json"
        if rec.get("status") != "ok":
            outcomes.append(ClaimCheck(claim.id, "ERROR", False, [rec.get("error", "failed")]))
            continue
        actual = runner.fingerprint(rec)
        if not path.is_file():
            outcomes.append(ClaimCheck(claim.id, actual["verdict"], False,
                                       [f"no expected file {path} (create it with econ replicate --update-expected)"]))
            continue
        expected = json.loads(path.read_text(encoding="utf-8"))
        diffs = compare(expected, actual, claim.verify_rtol, claim.verify_atol)
        outcomes.append(ClaimCheck(claim.id, rec["verdict"]["text"], not diffs, diffs))
    if not quiet:
        stream = stream or sys.stdout
        for o in outcomes:
            print(f"{'PASS' if o.ok else 'FAIL'}  {o.id:<4} {o.verdict}", file=stream)
            for m in o.mismatches[:20]:
                print(f"        {m}", file=stream)
            if len(o.mismatches) > 20:
                print(f"        ... and {len(o.mismatches) - 20} more", file=stream)
        n_fail = sum(not o.ok for o in outcomes)
        print(f"\n{len(outcomes) - n_fail} of {len(outcomes)} claims match {expected_dir}", file=stream)
    return outcomes
