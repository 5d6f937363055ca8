"""``econ verify``: check the stored results, re-run every claim, and compare.

Three steps, every failure reported as one line naming the claim, the file and the field:

1. **Stored results** (``results/<id>/``, :func:`econ.claims.manifest.check_stored`): every file's SHA-256 against
   the manifest (an altered, truncated, missing or extra file fails), the manifest's claim against its folder and
   the registry (a foreign result fails), and the package version, spec hash (registry entry + script) and bundled
   data hashes against the current ones (a stale result fails). A results folder that does not exist is reported
   and skipped (nothing stored yet); once it exists, a requested claim without a stored result fails.
2. **Re-run** each claim from scratch into a temporary folder (with the data recorded in a stored result's manifest
   when it was run on a user's panel).
3. **Compare** the fresh result with ``replication/expected/<id>.json`` (registered settings on bundled data) and
   with the stored ``result.json`` and tables:

   * the verdict (label, qualifier, data) and every check's status must be identical;
   * every number (check values and the script's ``numbers``, table cells) must agree within the claim's
     ``verify_rtol`` / ``verify_atol`` (``|new - old| <= atol + rtol * |old|``); strings and booleans exactly;
     Markdown, LaTeX and HTML tables exactly;
   * every text the paper prints from the record -- notes, table and figure captions, the data description, the data
     files read, the user's data set and the seed -- word for word, the numbers written in them within the same
     tolerance (:func:`econ.claims.runner.fingerprint`; expected files written before texts were fingerprinted carry
     no ``text`` and are compared on numbers only);
   * figures byte for byte against the fresh run. The tools are the fresh run's: the stored ``versions`` field is
     only quoted in the message, so editing it cannot switch the comparison off (a figure drawn with other package
     versions cannot be verified here and fails, saying so);
   * a number present on one side only is a mismatch.

A ``user_data`` entry (a run on the user's panel, re-run on that file and not compared with the expected file) must
be the same in ``manifest.json`` and ``result.json``, well formed, and belong to a causal claim; otherwise it is
reported as forged and the result is re-run on the bundled data and compared with the expected file like any other.

Regenerate the expected files deliberately with ``econ replicate --update-expected``. The bundled data files'
hashes used by the re-run are printed, and the data files themselves are checked against ``data/checksums.json``.
"""

from __future__ import annotations

import json
import math
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from econ.claims import manifest, output, runner
from econ.claims.registry import Registry
from econ.claims.registry import load as load_registry

__all__ = ["verify", "compare", "compare_stored", "ClaimCheck"]


@dataclass
class ClaimCheck:
    id: str
    verdict: str
    ok: bool
    mismatches: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)


def compare(expected: dict, actual: dict, rtol: float, atol: float, where: str = "",
            names: tuple[str, str] = ("expected", "got")) -> list[str]:
    """Differences between two fingerprints (:func:`econ.claims.runner.fingerprint`), one sentence each naming the
    field (``where`` prefixes each, e.g. the file); an empty list means they match."""
    a_name, b_name = names
    pre = f"{where} " if where else ""
    out = []
    for key in ("verdict", "qualifier", "on"):
        if expected.get(key, "") != actual.get(key, ""):
            out.append(f"{pre}{key}: {a_name} {expected.get(key, '')!r} vs {b_name} {actual.get(key, '')!r}")
    exp_checks, act_checks = expected.get("checks", {}), actual.get("checks", {})
    for name in sorted(set(exp_checks) | set(act_checks)):
        e, a = exp_checks.get(name), act_checks.get(name)
        if e is None or a is None:
            out.append(f"{pre}checks.{name}: present only in the {b_name if e is None else a_name} result")
            continue
        if e.get("status") != a.get("status"):
            out.append(f"{pre}checks.{name}.status: {a_name} {e.get('status')!r} vs {b_name} {a.get('status')!r}")
        if not _close(e.get("value"), a.get("value"), rtol, atol):
            out.append(f"{pre}checks.{name}.value: {a_name} {e.get('value')!r} vs {b_name} {a.get('value')!r}")
    exp_num, act_num = expected.get("numbers", {}), actual.get("numbers", {})
    for key in sorted(set(exp_num) | set(act_num)):
        if key not in exp_num or key not in act_num:
            out.append(f"{pre}numbers.{key}: present only in the {b_name if key not in exp_num else a_name} result")
        elif not _close(exp_num[key], act_num[key], rtol, atol):
            out.append(f"{pre}numbers.{key}: {a_name} {exp_num[key]!r} vs {b_name} {act_num[key]!r}")
    if "text" in expected:  # expected files written before the texts were fingerprinted have no "text"
        out += [f"{pre}{d}" for d in _text_diffs(expected["text"], actual.get("text") or {}, rtol, atol, names)]
    return out


_NUMBER = re.compile(r"([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?)")


def _text_close(e, a, rtol, atol) -> bool:
    """Texts agree: the words exactly, every number written in them within the claim's tolerance."""
    if not isinstance(e, str) or not isinstance(a, str):
        return e == a
    e_parts, a_parts = _NUMBER.split(e), _NUMBER.split(a)
    if len(e_parts) != len(a_parts):
        return False
    for i, (x, y) in enumerate(zip(e_parts, a_parts)):
        if i % 2 == 0:
            if x != y:
                return False
        elif x != y and not _close(float(x.replace(",", "")), float(y.replace(",", "")), rtol, atol):
            return False
    return True


def _text_diffs(expected: dict, actual: dict, rtol, atol, names) -> list[str]:
    """Differences in what the paper prints from a record: notes, captions, data description, data files, seed."""
    a_name, b_name = names
    out = []
    e_notes, a_notes = list(expected.get("notes") or []), list(actual.get("notes") or [])
    for i in range(max(len(e_notes), len(a_notes))):
        e, a = (e_notes[i] if i < len(e_notes) else None), (a_notes[i] if i < len(a_notes) else None)
        if not _text_close(e, a, rtol, atol):
            out.append(f"notes[{i}]: {a_name} {e!r} vs {b_name} {a!r}")
    e_cap, a_cap = expected.get("captions") or {}, actual.get("captions") or {}
    for key in sorted(set(e_cap) | set(a_cap)):
        if not _text_close(e_cap.get(key), a_cap.get(key), rtol, atol):
            out.append(f"{key}.caption: {a_name} {e_cap.get(key)!r} vs {b_name} {a_cap.get(key)!r}")
    for key in ("data", "data_files", "user_data", "seed"):
        if not _text_close(expected.get(key), actual.get(key), rtol, atol):
            out.append(f"{key}: {a_name} {expected.get(key)!r} vs {b_name} {actual.get(key)!r}")
    return out


def _close(e, a, rtol, atol) -> bool:
    if isinstance(e, bool) or isinstance(a, bool) or not isinstance(e, (int, float)) \
            or not isinstance(a, (int, float)):
        return e == a
    if math.isnan(e) or math.isnan(a):
        return math.isnan(e) and math.isnan(a)
    return abs(a - e) <= atol + rtol * abs(e)


def _table_diffs(cid: str, stored_dir: Path, fresh_dir: Path, stored: dict, fresh: dict, rtol, atol) -> list[str]:
    """Stored tables against the re-run's: CSV cells numerically, Markdown / LaTeX / HTML text exactly."""
    out = []
    s_tabs, f_tabs = stored.get("tables") or {}, fresh.get("tables") or {}
    for name in sorted(set(s_tabs) | set(f_tabs)):
        if name not in s_tabs or name not in f_tabs:
            out.append(f"{cid}: table {name}: present only in the {'recomputed' if name not in s_tabs else 'stored'}"
                       " result")
            continue
        for kind in sorted((set(s_tabs[name]) | set(f_tabs[name])) - {"caption"}):
            s_file, f_file = s_tabs[name].get(kind), f_tabs[name].get(kind)
            if s_file is None or f_file is None or not (stored_dir / s_file).is_file():
                out.append(f"{cid}: {s_file or f_file}: missing from the stored result")
                continue
            if kind == "csv":
                out += _csv_diffs(cid, stored_dir / s_file, fresh_dir / f_file, rtol, atol)
            else:
                s_text = (stored_dir / s_file).read_text(encoding="utf-8", errors="replace").splitlines()
                f_text = (fresh_dir / f_file).read_text(encoding="utf-8", errors="replace").splitlines()
                for i, (x, y) in enumerate(zip(s_text + [""] * len(f_text), f_text + [""] * len(s_text))):
                    if x != y:
                        out.append(f"{cid}: {s_file} line {i + 1}: stored {x[:80]!r} vs recomputed {y[:80]!r}")
                        break
    s_figs, f_figs = stored.get("figures") or {}, fresh.get("figures") or {}
    for name in sorted(set(s_figs) ^ set(f_figs)):
        out.append(f"{cid}: figure {name}: present only in the {'recomputed' if name not in s_figs else 'stored'} "
                   "result")
    for name in sorted(set(s_figs) & set(f_figs)):
        s_png, f_png = stored_dir / s_figs[name].get("png", ""), fresh_dir / f_figs[name].get("png", "")
        # images are byte-identical when drawn by the same package versions on the same platform (fixed dpi, no
        # timestamp). The tools are those of the fresh run, never the stored record's "versions" (a text anyone can
        # edit): a figure drawn elsewhere cannot be verified here and fails, saying so
        if not s_png.is_file() or not f_png.is_file() or s_png.read_bytes() != f_png.read_bytes():
            tools = fresh.get("versions") or {}
            told = stored.get("versions") or {}
            other = {k: told.get(k) for k in sorted(set(tools) | set(told)) if told.get(k) != tools.get(k)}
            why = (f"; result.json field versions says it was drawn with {other} while the fresh run used "
                   f"{ {k: tools.get(k) for k in other} } (re-run econ replicate {cid} with the installed tools)"
                   if other else " (same package versions and platform)")
            out.append(f"{cid}: {s_png.name}: the stored image differs from the recomputed one{why}")
    return out


def _csv_diffs(cid, stored: Path, fresh: Path, rtol, atol) -> list[str]:
    try:
        a = pd.read_csv(stored, keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError) as err:
        return [f"{cid}: {stored.name}: unreadable ({err})"]
    b = pd.read_csv(fresh, keep_default_na=False, na_values=[""])
    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        return [f"{cid}: {stored.name}: stored {a.shape[0]}x{a.shape[1]} table with columns {list(a.columns)} vs "
                f"recomputed {b.shape[0]}x{b.shape[1]} with {list(b.columns)}"]
    for col in a.columns:
        for i, (x, y) in enumerate(zip(a[col].tolist(), b[col].tolist())):
            x, y = output.jsonable(x), output.jsonable(y)
            if not _close(x, y, rtol, atol):
                return [f"{cid}: {stored.name} row {i + 1} column {col!r}: stored {x!r} vs recomputed {y!r}"]
    return []


def compare_stored(claim, stored_dir: Path, stored: dict, fresh_dir: Path, fresh: dict) -> list[str]:
    """Every difference between a stored result (folder and record) and a fresh re-run of the claim."""
    cid = claim.id
    if stored.get("status") != "ok":
        return [f"{cid}: result.json field status: stored {stored.get('status')!r}"]
    rtol, atol = claim.verify_rtol, claim.verify_atol
    diffs = compare(runner.fingerprint(stored), runner.fingerprint(fresh), rtol, atol,
                    where=f"{cid}: result.json", names=("stored", "recomputed"))
    return diffs + _table_diffs(cid, stored_dir, fresh_dir, stored, fresh, rtol, atol)


def _load(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def verify(ids=None, expected_dir=None, registry: Registry | None = None, progress: bool = True,
           stream=None, quiet: bool = False, keep: str | Path | None = None, results="results",
           options: dict | None = None) -> list[ClaimCheck]:
    """Check stored results, re-run claims (all by default) and compare; print PASS/FAIL per claim with every
    mismatch, and the data hashes used; return the per-claim outcomes.

    ``results`` is the folder of stored results (``econ replicate``'s ``--out``); ``keep`` writes the fresh results
    there instead of a temporary folder; ``options`` re-runs with non-registered settings (e.g. fewer draws, for
    tests): the expected files are then not compared, and only stored results run with the same options pass.
    """
    from econ import datasets

    registry = registry or load_registry()
    expected_dir = Path(expected_dir) if expected_dir is not None else registry.scripts_dir / "expected"
    claims = registry.select(ids)
    results = Path(results)
    if results.exists() and not results.is_dir():
        raise runner.ClaimError(f"--results {results}: is a file, not a folder of results")
    options = options or {}
    runner.recover(results)
    stored_present = results.is_dir()
    outcomes: dict[str, ClaimCheck] = {}
    notes = []
    if not stored_present:
        notes.append(f"no stored results at {results}: only the re-run and {expected_dir} were compared "
                     "(run econ replicate first to check stored results)")

    # 1. stored results: manifest and files; which data to re-run on
    stored, user_runs = {}, {}
    for claim in claims:
        folder = results / claim.id
        problems = []
        if stored_present and not folder.is_dir():
            problems.append(f"{claim.id}: no stored result in {folder} (run econ replicate {claim.id})")
        elif folder.is_dir():
            problems += manifest.check_stored(folder, registry)
            man = _load(folder / manifest.MANIFEST) or {}
            rec = _load(folder / manifest.RESULT)
            if (man.get("options") or {}) != options.get(claim.id, {}):
                problems.append(f"{claim.id}: manifest.json field options: stored {man.get('options')!r} vs "
                                f"requested {options.get(claim.id, {})!r} (not the registered settings)")
            forged = _user_data_problems(claim, man, rec)
            problems += forged
            if isinstance(rec, dict):
                stored[claim.id] = rec
                if man.get("user_data") and not forged:
                    user_runs[claim.id] = man["user_data"]
        outcomes[claim.id] = ClaimCheck(claim.id, "?", not problems, problems)
    if stored_present and not ids:
        for name in manifest.stored_ids(results):
            if name not in registry.ids:
                outcomes[name] = ClaimCheck(name, "foreign", False,
                                            [f"{name}: {results / name} is not a registered claim (foreign folder)"])
    bad_data = datasets.check_files()
    if bad_data:
        outcomes["data"] = ClaimCheck("data", "bundled data", False, list(bad_data.values()))

    # 2. re-run, 3. compare
    with tempfile.TemporaryDirectory(prefix="econ-verify-") as tmp:
        fresh_root = Path(keep) if keep is not None else Path(tmp)
        bundled = [c for c in claims if c.id not in user_runs]
        fresh = {}
        if bundled:
            recs = runner.run_claims([c.id for c in bundled], out=fresh_root / "bundled", registry=registry,
                                     progress=progress, quiet=True, options=options)
            fresh.update({r["id"]: (r, fresh_root / "bundled" / r["id"]) for r in recs})
        for cid, user in user_runs.items():
            fresh[cid] = _rerun_user(cid, user, fresh_root / f"user-{cid}", registry, options, outcomes)
        for claim in claims:
            oc = outcomes[claim.id]
            rec, folder = fresh.get(claim.id, (None, None))
            if rec is None:
                continue
            if rec.get("status") != "ok":
                oc.verdict, oc.ok = "ERROR", False
                oc.mismatches.append(f"{claim.id}: the re-run failed: {rec.get('error', '?')}")
                continue
            oc.verdict = rec["verdict"]["text"]
            oc.data = dict(rec.get("data_files") or {})
            if rec.get("user_data"):
                oc.data[rec["user_data"]["file"]] = rec["user_data"]["sha256"]
            diffs = []
            if claim.id not in user_runs and not options.get(claim.id):
                path = expected_dir / f"{claim.id}.json"
                expected = _load(path)
                if expected is None:
                    diffs.append(f"{claim.id}: no readable expected file {path} (create it with econ replicate "
                                 "--update-expected)")
                else:
                    diffs += compare(expected, runner.fingerprint(rec), claim.verify_rtol, claim.verify_atol,
                                     where=f"{claim.id}: {path.name}", names=("expected", "recomputed"))
            if claim.id in stored:
                diffs += compare_stored(claim, results / claim.id, stored[claim.id], folder, rec)
            oc.mismatches += diffs
            oc.ok = oc.ok and not diffs
    out = list(outcomes.values())
    if not quiet:
        _report(out, notes, expected_dir, results, stream or sys.stdout)
    return out


_USER_KEYS = {"file", "path", "sha256", "rows", "columns"}


def _user_data_problems(claim, man: dict, rec) -> list[str]:
    """A ``user_data`` entry that cannot be genuine: absent from one of manifest.json / result.json or different
    there, on a claim that only runs on bundled data, or malformed. Such a result is re-run on the bundled data and
    compared with the expected file like any other (the entry never switches that comparison off)."""
    cid = claim.id
    m_user = man.get("user_data")
    r_user = rec.get("user_data") if isinstance(rec, dict) else None
    if not m_user and not r_user:
        return []
    if m_user != r_user:
        return [f"{cid}: manifest.json field user_data: {m_user!r} differs from result.json field user_data "
                f"{r_user!r} (a result forged or mixed from two runs)"]
    if claim.kind != "causal":
        named = m_user.get("file") if isinstance(m_user, dict) else m_user
        return [f"{cid}: manifest.json field user_data: {cid} is a {claim.kind} claim that runs on the bundled data "
                f"only, yet the result says it was computed on {named!r} (forged)"]
    if not isinstance(m_user, dict) or set(m_user) != _USER_KEYS or not m_user.get("path") or \
            Path(str(m_user["path"])).name != m_user.get("file"):
        return [f"{cid}: manifest.json field user_data: malformed entry {m_user!r} (expected the keys "
                f"{sorted(_USER_KEYS)}, with file the name of path)"]
    return []


def _rerun_user(cid, user: dict, out: Path, registry, options, outcomes):
    """Re-run a claim on the user's data recorded in its manifest (the file must still be there, unchanged)."""
    from econ.claims.manifest import sha256_file

    path = Path(user.get("path") or "")
    oc = outcomes[cid]
    if not path.is_file() or sha256_file(path) != user.get("sha256"):
        oc.ok = False
        oc.mismatches.append(f"{cid}: manifest.json field user_data: the data it was run on ({user.get('path')}, "
                             f"SHA-256 {str(user.get('sha256'))[:12]}...) is not available unchanged, so the result "
                             "cannot be re-computed")
        return None, None
    try:
        recs = runner.run_claims([cid], data=path, mapping=user.get("columns") or {}, out=out, registry=registry,
                                 progress=False, quiet=True, options=options)
    except ValueError as err:
        oc.ok = False
        oc.mismatches.append(f"{cid}: re-running on {path.name} failed: {err}")
        return None, None
    return recs[0], out / cid


def _report(outcomes, notes, expected_dir, results, stream) -> None:
    for o in outcomes:
        print(f"{'PASS' if o.ok else 'FAIL'}  {o.id:<4} {o.verdict}", file=stream)
        for m in o.mismatches[:30]:
            print(f"        {m}", file=stream)
        if len(o.mismatches) > 30:
            print(f"        ... and {len(o.mismatches) - 30} more", file=stream)
    used = {}
    for o in outcomes:
        used.update(o.data)
    if used:
        print("\ndata used by the re-run (SHA-256):", file=stream)
        for name, digest in sorted(used.items()):
            print(f"  {digest}  {name}", file=stream)
    for n in notes:
        print(f"\nnote: {n}", file=stream)
    n_fail = sum(not o.ok for o in outcomes)
    print(f"\n{len(outcomes) - n_fail} of {len(outcomes)} checked items pass (stored results in {results}, "
          f"expected results in {expected_dir})", file=stream)
