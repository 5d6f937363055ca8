"""``econ replicate``: run claim scripts, decide verdicts, write ``results/<id>/``.

A claim script ``replication/<id>_<slug>.py`` exposes ``run(data=None, out_dir=None, **options) -> dict`` and
returns plain data (it never decides a verdict)::

    {
      "values":        {check name: number},           # quantities the registry's checks compare
      "untestable":    {check name: reason},            # checks the script could not compute, and why
      "pipeline_values": {check name: number},          # causal claims on simulated data: errors vs the truth
      "simulated":     bool,                            # were the outcomes simulated (causal claims)?
      "numbers":       {name: number or nested dict},   # everything else worth keeping (compared by verify)
      "tables":        {name: DataFrame or (DataFrame, caption)},
      "figures":       {name: matplotlib Figure or (Figure, caption)},
      "regressions":   {name: (list of econ Results, model names, caption)},   # written with econ.etable
      "notes":         [str, ...],                      # sentences for the paper, numbers formatted in
      "seed":          int or None,
    }

The runner checks that every registry check is either in ``values`` or in ``untestable``, applies the checks
(:mod:`econ.claims.verdict`), and writes ``result.json`` (all numbers, verdict, package versions, seed), the tables
(.md, .tex, .csv) and figures (.png).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import inspect
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path

import pandas as pd

from econ.claims import lock, manifest, output, verdict
from econ.claims.registry import Claim, Registry
from econ.claims.registry import load as load_registry
from econ.errors import EconError

__all__ = ["ClaimError", "run_claims", "run_claim", "fingerprint", "versions", "load_script", "summary_table",
           "recompute", "error_message"]


class ClaimError(EconError):
    """A claim script returned something the runner cannot use, or was asked to run on the wrong data."""


def versions() -> dict:
    """Versions of Python and the packages the numbers depend on."""
    import matplotlib
    import numpy
    import scipy

    import econ

    return {"python": platform.python_version(), "econ": econ.__version__, "numpy": numpy.__version__,
            "pandas": pd.__version__, "scipy": scipy.__version__, "matplotlib": matplotlib.__version__,
            "platform": platform.platform(terse=True)}


def load_script(registry: Registry, claim: Claim):
    """Import ``replication/<id>_<slug>.py`` as a module (fresh each call)."""
    path = registry.script_path(claim)
    if not path.is_file():
        raise ClaimError(f"{claim.id}: script {path} not found")
    spec = importlib.util.spec_from_file_location(f"econ_replication_{claim.id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise ClaimError(f"{claim.id}: {path.name} has no run(data=None, out_dir=None, ...) function")
    return module


def _user_stamp(user_data: dict | None) -> str:
    """How a user's data set is named in verdicts, captions and axes: file name and short SHA-256."""
    if not user_data:
        return ""
    return f"{user_data['file']} (SHA-256 {user_data['sha256'][:12]})"


def _caption(caption: str | None, simulated: bool, user_data: dict | None, name: str) -> str:
    text = caption or name.replace("_", " ")
    if simulated and "SIMULATED" not in text:
        text = f"SIMULATED data: {text}"
    if user_data:
        roles = ", ".join(f"{r}={'+'.join(c) if isinstance(c, list) else c}"
                          for r, c in user_data["columns"].items())
        text = f"{text} [data: {_user_stamp(user_data)}; columns {roles}]"
    return text


def _stamp_figure(fig, simulated: bool, user_data: dict | None) -> None:
    """Put the data's nature on the image itself, so a figure copied out of the paper still says it."""
    if simulated:
        fig.text(0.995, 0.005, "SIMULATED DATA", ha="right", va="bottom", fontsize=7, color="crimson",
                 weight="bold")
    if user_data:
        fig.text(0.005, 0.005, f"data: {_user_stamp(user_data)}", ha="left", va="bottom", fontsize=6,
                 color="0.3")


def run_claim(claim: Claim, registry: Registry, out_dir: Path, data: pd.DataFrame | None = None,
              roles: dict | None = None, user_data: dict | None = None, options: dict | None = None) -> dict:
    """Run one claim and write its outputs atomically to ``out_dir``; return the result record (as in result.json).

    Everything is written into a hidden temporary folder next to ``out_dir`` (``.<id>.partial-*``), hashed into
    ``manifest.json`` and only then renamed into place (the previous folder, if any, is replaced in two renames and
    restored if the second fails). An exception or Ctrl-C on the way removes the temporary folder and leaves the
    previous complete result, or none, untouched. Two runs writing into one results folder never undo each other
    (:mod:`econ.claims.lock`): the swap and the recovery of a killed run's leftovers happen under the folder's lock,
    and a temporary folder is removed by recovery only when the run that owns it is gone; the result renamed into
    place last is the one kept, always complete.
    """
    from econ import datasets

    out_dir = Path(out_dir)
    if data is not None and claim.kind != "causal":
        raise ClaimError(f"{claim.id} is a {claim.kind} claim: it runs on the bundled data only (--data is for "
                         "the causal claims K1-K4)")
    parent = out_dir.parent
    if out_dir.exists() and not out_dir.is_dir():
        raise ClaimError(f"cannot write the results of {claim.id} to {out_dir}: it exists and is not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with lock.folder_lock(parent):
            _recover(parent, out_dir.name)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=parent))
            owned = lock.OwnedFolder(tmp)  # locked before recovery by another run could see it
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; results are ordinary folders
    except OSError as err:
        raise ClaimError(f"cannot write the results of {claim.id} to {out_dir}: {_os_reason(err)}") from None
    try:
        record = _run_into(claim, registry, tmp, data, roles, user_data, options, datasets)
        with lock.folder_lock(parent):
            _commit(tmp, out_dir)
            manifest.remember_fresh(out_dir)  # computed here: econ paper in this process need not re-run it
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        owned.release()
    return record


def _run_into(claim, registry, tmp, data, roles, user_data, options, datasets) -> dict:
    module = load_script(registry, claim)
    kwargs = dict(options or {})
    if claim.inputs:
        kwargs["inputs"] = dict(claim.inputs)
    if claim.kind == "causal":
        kwargs.update(data=data, roles=roles)
    start = time.perf_counter()
    with datasets.track_files() as used:
        raw = module.run(out_dir=tmp, **kwargs)
        raw = _check_output(claim, raw)
    elapsed = time.perf_counter() - start
    record = _decide(claim, raw, user_data)
    simulated = record["simulated_outputs"]
    record["tables"] = {}
    for name, tab in raw.get("tables", {}).items():
        frame, caption = _with_caption(tab)
        record["tables"][name] = output.write_table(frame, tmp, name,
                                                    caption=_caption(caption, simulated, user_data, name))
    for name, (results, names, caption) in raw.get("regressions", {}).items():
        record["tables"][name] = output.write_regressions(results, tmp, name, names,
                                                          _caption(caption, simulated, user_data, name))
    record["figures"] = {}
    for name, fig in raw.get("figures", {}).items():
        figure, caption = _with_caption(fig)
        _stamp_figure(figure, simulated, user_data)
        record["figures"][name] = {"png": output.write_figure(figure, tmp, name),
                                   "caption": _caption(caption, simulated, user_data, name)}
    record["data_files"] = dict(sorted(used.items()))
    record.update(seed=raw.get("seed"), options=dict(options or {}), versions=versions(),
                  elapsed_seconds=round(elapsed, 2), status="ok")
    output.dump_json(record, tmp / manifest.RESULT)
    manifest.write_manifest(tmp, claim=claim, registry=registry, data=used, seed=raw.get("seed"),
                            options=options, user_data=user_data)
    return record


@contextlib.contextmanager
def _sigint_deferred():
    """Hold Ctrl-C during the few renames that swap a result in; raise it once they are done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _commit(tmp: Path, target: Path) -> None:
    """Rename the finished ``tmp`` folder to ``target``, replacing a previous folder without a mixed state."""
    with _sigint_deferred():
        _swap(tmp, target)


def _swap(tmp: Path, target: Path) -> None:
    if not target.exists():
        os.rename(tmp, target)
        return
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _recover(parent: Path, name: str) -> None:
    """Undo what a killed run may have left: restore a previous result moved aside during the swap, drop the
    temporary folders of runs that are gone. Call it holding ``lock.folder_lock(parent)``: swaps happen under that
    lock, so an ``.old-*`` folder seen here was left by a run killed mid-swap, never one in the middle of it."""
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(f".{name}.old-*"))
    if olds and not (parent / name).exists():
        os.rename(olds[0], parent / name)
        olds = olds[1:]
    # a temporary folder is removed by its own run, even on Ctrl-C; one whose run was killed is dropped here, one
    # whose run is alive (however long it has been running) is locked by it and kept
    abandoned = [p for p in parent.glob(f".{name}.partial-*") if lock.is_abandoned(p)]
    for leftover in [*olds, *abandoned]:
        shutil.rmtree(leftover, ignore_errors=True)


def recover(out) -> None:
    """Under the folder's lock, restore every previous result a killed run left moved aside in ``out`` and drop
    killed runs' temporary folders (see :func:`_recover`)."""
    out = Path(out)
    if out.is_dir():
        with lock.folder_lock(out):
            for name in {p.name[1:].split(".")[0] for p in out.glob(".*.old-*")} | \
                    {p.name[1:].split(".")[0] for p in out.glob(".*.partial-*")}:
                _recover(out, name)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _os_reason(err: OSError) -> str:
    """An OS error as one line: what failed and where (no errno noise, no traceback)."""
    where = f" ({err.filename})" if getattr(err, "filename", None) else ""
    return f"{err.strerror or type(err).__name__}{where}"


def error_message(err: BaseException) -> str:
    """The full, one-paragraph message of a claim's failure."""
    if isinstance(err, OSError):
        return _os_reason(err)
    if isinstance(err, EconError):
        return str(err)
    return f"{type(err).__name__}: {err}"


def _with_caption(item) -> tuple:
    """A script's table or figure, given bare or as (object, caption): (object, caption or None)."""
    return item if isinstance(item, tuple) else (item, None)


def _check_output(claim: Claim, raw) -> dict:
    if not isinstance(raw, dict):
        raise ClaimError(f"{claim.id}: run() must return a dict, got {type(raw).__name__}")
    values, untestable = raw.get("values", {}), raw.get("untestable", {})
    names = {c.name for c in claim.checks}
    missing = sorted(names - set(values) - set(untestable))
    unknown = sorted((set(values) | set(untestable)) - names)
    problems = []
    if missing:
        problems.append(f"no value and no reason for check(s) {missing}")
    if unknown:
        problems.append(f"value(s) for check(s) {unknown} that are not in the registry")
    if claim.kind == "causal" and raw.get("simulated"):
        pipe = {c.name for c in claim.pipeline_checks}
        got = set(raw.get("pipeline_values", {}))
        if pipe - got:
            problems.append(f"no pipeline value for {sorted(pipe - got)}")
    if problems:
        raise ClaimError(f"{claim.id}: " + "; ".join(problems))
    return raw


def _judge(claim: Claim, check_inputs: dict, simulated: bool, on: str) -> tuple[list, list, verdict.Verdict]:
    """Apply the registry's checks to the computed numbers: (checks, pipeline checks, verdict)."""
    values, untestable = check_inputs.get("values", {}), check_inputs.get("untestable", {})
    if simulated:
        reason = "the outcomes are simulated (bundled demonstration panel); value on simulated data: {}"
        checks = [verdict.evaluate(c, None, reason.format(verdict.fmt(values.get(c.name)))) for c in claim.checks]
        pipe_values = check_inputs.get("pipeline_values", {})
        pipeline = [verdict.evaluate(c, pipe_values.get(c.name)) for c in claim.pipeline_checks]
        return checks, pipeline, verdict.decide_simulated(pipeline)
    checks = [verdict.evaluate(c, values.get(c.name), untestable.get(c.name)) for c in claim.checks]
    return checks, [], verdict.decide(checks, on=on)


def _decide(claim: Claim, raw: dict, user_data: dict | None) -> dict:
    simulated = claim.kind == "causal" and bool(raw.get("simulated"))
    check_inputs = {"values": dict(raw.get("values", {})), "untestable": dict(raw.get("untestable", {})),
                    "pipeline_values": dict(raw.get("pipeline_values", {})) if simulated else {}}
    on = _user_stamp(user_data)
    checks, pipeline, decision = _judge(claim, check_inputs, simulated, on)
    if user_data:  # the check's basis names the data it was computed from
        checks = [dataclasses.replace(c, basis=f"user data: {user_data['file']}") if c.basis == "user data" else c
                  for c in checks]
    data_text = (f"{on}, {user_data['rows']} rows" if user_data else
                 "SIMULATED demonstration panel on the real prefectures (econ.simulate)" if simulated else
                 "bundled data")
    return {
        "id": claim.id, "title": claim.title, "kind": claim.kind, "statement": claim.statement,
        "hypothesis": claim.statement if user_data else None,
        "verdict": decision.to_dict(),
        "checks": [c.to_dict() for c in checks],
        "pipeline_checks": [c.to_dict() for c in pipeline],
        "check_inputs": check_inputs,
        "computed_on_simulated_data": dict(check_inputs["values"]) if simulated else {},
        "numbers": raw.get("numbers", {}),
        "notes": list(raw.get("notes", [])),
        "data": data_text,
        "user_data": user_data,
        "simulated": simulated,
        "simulated_outputs": simulated or bool(raw.get("simulated")),
    }


def recompute(claim: Claim, record: dict) -> dict:
    """The checks and verdict that follow from a stored record's numbers under the current registry.

    Returns ``{"checks": [...], "pipeline_checks": [...], "verdict": {...}}`` computed afresh (nothing taken from
    the record's own statuses); the paper shows these, and refuses a record whose stored ones differ.
    """
    inputs = record.get("check_inputs") or {}
    user = record.get("user_data")
    checks, pipeline, decision = _judge(claim, inputs, bool(record.get("simulated")), _user_stamp(user))
    if user:
        checks = [dataclasses.replace(c, basis=f"user data: {user['file']}") if c.basis == "user data" else c
                  for c in checks]
    return output.jsonable({"checks": [c.to_dict() for c in checks], "pipeline_checks": [c.to_dict() for c in pipeline],
                            "verdict": decision.to_dict()})


def fingerprint(record: dict) -> dict:
    """What ``econ verify`` compares: verdict, check statuses and values, every number (flattened), and every text
    the paper prints from the record: notes, table and figure captions, the data description, the data files read
    and the user's data set (``user_data``), and the seed."""
    data = output.jsonable(record)
    captions = {f"{kind}.{name}": meta.get("caption", "") for kind in ("tables", "figures")
                for name, meta in sorted((data.get(kind) or {}).items())}
    return {
        "id": data["id"],
        "verdict": data["verdict"]["label"],
        "qualifier": data["verdict"].get("qualifier", ""),
        "on": data["verdict"].get("on", ""),
        "checks": {c["name"]: {"status": c["status"], "value": c["value"]}
                   for c in data["checks"] + data["pipeline_checks"]},
        "numbers": output.flatten(data.get("numbers", {})),
        "text": {"notes": list(data.get("notes") or []), "captions": captions, "data": data.get("data"),
                 "data_files": dict(data.get("data_files") or {}), "user_data": data.get("user_data"),
                 "seed": data.get("seed")},
    }


def error_path(out: Path, cid: str) -> Path:
    """Where a failed run's record goes: ``<out>/<id>.error.json`` (the previous complete result stays in
    ``<out>/<id>/``)."""
    return Path(out) / f"{cid}.error.json"


def _error_record(claim: Claim, err: BaseException, out: Path) -> dict:
    record = {"id": claim.id, "title": claim.title, "kind": claim.kind, "statement": claim.statement,
              "status": "error", "error": error_message(err), "error_type": type(err).__name__,
              "traceback": traceback.format_exc(limit=8),
              "previous_result_kept": (Path(out) / claim.id / manifest.MANIFEST).is_file()}
    path = error_path(out, claim.id)
    try:
        tmp = path.with_name(f".{path.name}.partial")
        tmp.write_text(json.dumps(output.jsonable(record), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        record["error_file"] = str(path)
    except OSError:
        record["error_file"] = None
    return record


def _check_out(out: Path) -> None:
    """The output folder must be creatable and writable: one clear error otherwise."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=".econ-probe-", dir=out)
        os.rmdir(probe)
    except OSError as err:
        raise ClaimError(f"cannot write results to {out}: {_os_reason(err)}") from None


def run_claims(ids=None, data=None, mapping=None, out="results", registry: Registry | None = None,
               progress: bool = True, update_expected: bool = False, expected_dir=None,
               stream=None, quiet: bool = False, options: dict | None = None, weights=None) -> list[dict]:
    """Run claims (all by default) into ``out/<id>/``; print a summary; return the records.

    ``data`` (a path or DataFrame) runs the causal claims on a user panel read with ``econ.read_panel`` and the
    column roles in ``mapping`` (see :mod:`econ.claims.schema`); without it every claim runs on bundled data.
    ``update_expected`` writes each successful record's fingerprint to ``replication/expected/<id>.json``.
    ``options`` maps a claim id to extra keyword arguments of its ``run`` (e.g. ``{"M2": {"replications": 20}}``
    for a quick test run); results run with options are not the registered ones, so they cannot update the
    expected files. ``weights`` (a path to an edge-list CSV, with ``data`` only) is passed to the claims whose
    ``run`` takes ``weights`` (K2: the user's own spatial weights).
    """
    from econ._progress import tqdm

    from econ.claims import schema

    registry = registry or load_registry()
    claims = registry.select(ids)
    roles, frame, user_data = None, None, None
    if data is not None:
        if update_expected:
            raise ClaimError("--update-expected records results on the bundled data; do not combine it with --data")

        if ids:
            other = [c.id for c in claims if c.kind != "causal"]
            if other:
                raise ClaimError(f"--data applies to the causal claims only; {', '.join(other)} run(s) on the "
                                 "bundled data (drop --data for them)")
        claims = [c for c in claims if c.kind == "causal"]
        roles = schema.user_roles(mapping)
        frame, user_data = schema.read_user_panel(data, roles)
    if weights is not None:
        if data is None:
            raise ClaimError("--weights applies together with --data (the bundled claims use the bundled contiguity)")
        takers = [c.id for c in claims if "weights" in inspect.signature(load_script(registry, c).run).parameters]
        if not takers:
            raise ClaimError(f"--weights is used by K2 only; none of {', '.join(c.id for c in claims)} takes it")
        options = {**(options or {})}
        for cid in takers:
            options[cid] = {**options.get(cid, {}), "weights": str(weights)}
    if update_expected and options:
        raise ClaimError("expected results are recorded with the registered settings only; drop the options")
    out = Path(out)
    _check_out(out)
    recover(out)
    options = options or {}
    records = []
    bar = tqdm(claims, desc="claims", unit="claim", disable=not progress, file=sys.stderr)
    with lock.run_lock(out):  # without flock, runs into one folder take turns (see econ.claims.lock)
        for claim in bar:
            bar.set_postfix_str(claim.id)
            try:
                rec = run_claim(claim, registry, out / claim.id, data=frame, roles=roles, user_data=user_data,
                                options=options.get(claim.id))
            except Exception as err:  # one failing claim must not hide the others' verdicts
                rec = _error_record(claim, err, out)
            else:
                error_path(out, claim.id).unlink(missing_ok=True)
            records.append(rec)
    bar.close()
    if update_expected:
        write_expected(records, expected_dir or registry.scripts_dir / "expected")
    if not quiet:
        stream = stream or sys.stdout
        print(summary_table(records), file=stream)
        print(f"\nresults written to {out.resolve()}", file=stream)
    return records


def write_expected(records: list[dict], expected_dir) -> list[Path]:
    expected_dir = Path(expected_dir)
    expected_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for rec in records:
        if rec.get("status") != "ok":
            continue
        path = expected_dir / f"{rec['id']}.json"
        output.dump_json(fingerprint(rec), path)
        written.append(path)
    return written


def summary_table(records: list[dict]) -> str:
    """One line per claim, then every error message in full."""
    rows, errors = [], []
    for rec in records:
        if rec.get("status") != "ok":
            rows.append((rec["id"], rec["kind"], "ERROR (see below)", ""))
            kept = " (the previous complete result was kept)" if rec.get("previous_result_kept") else ""
            errors.append(f"{rec['id']}: {rec.get('error', '')}{kept}")
            continue
        if rec.get("simulated"):
            pipe = rec["pipeline_checks"]
            tally = f"pipeline {sum(c['status'] == 'pass' for c in pipe)}/{len(pipe)} checks pass"
        else:
            checks = [c for c in rec["checks"] if c.get("role") != "reported"]  # shown, never counted
            n_untestable = sum(c["status"] == "untestable" for c in checks)
            tally = f"{sum(c['status'] == 'pass' for c in checks)}/{len(checks)} checks pass" + (
                f", {n_untestable} not testable" if n_untestable else "")
        rows.append((rec["id"], rec["kind"], rec["verdict"]["text"], tally))
    width = [max(len(r[i]) for r in rows + [("claim", "kind", "verdict", "")]) for i in range(4)]
    line = lambda r: "  ".join(str(v).ljust(w) for v, w in zip(r, width)).rstrip()  # noqa: E731
    text = "\n".join([line(("claim", "kind", "verdict", "")), line(tuple("-" * w for w in width))]
                     + [line(r) for r in rows])
    if errors:
        text += "\n\nerrors:\n" + "\n".join(f"  {e}" for e in errors)
    return text
