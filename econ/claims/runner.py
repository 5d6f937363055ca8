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

import importlib.util
import platform
import sys
import time
import traceback
from pathlib import Path

import pandas as pd

from econ.claims import output, verdict
from econ.claims.registry import Claim, Registry
from econ.claims.registry import load as load_registry
from econ.errors import EconError

__all__ = ["ClaimError", "run_claims", "run_claim", "fingerprint", "versions", "load_script", "summary_table"]


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


def run_claim(claim: Claim, registry: Registry, out_dir: Path, data: pd.DataFrame | None = None,
              roles: dict | None = None, data_label: str = "bundled", options: dict | None = None) -> dict:
    """Run one claim and write its outputs to ``out_dir``; return the result record (as in result.json)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if data is not None and claim.kind != "causal":
        raise ClaimError(f"{claim.id} is a {claim.kind} claim: it runs on the bundled data only (--data is for "
                         "the causal claims K1-K4)")
    module = load_script(registry, claim)
    kwargs = dict(options or {})
    if claim.inputs:
        kwargs["inputs"] = dict(claim.inputs)
    if claim.kind == "causal":
        kwargs.update(data=data, roles=roles)
    start = time.perf_counter()
    raw = module.run(out_dir=out_dir, **kwargs)
    elapsed = time.perf_counter() - start
    raw = _check_output(claim, raw)
    record = _decide(claim, raw, data_label)
    record["tables"] = {}
    for name, tab in raw.get("tables", {}).items():
        frame, caption = _with_caption(tab)
        record["tables"][name] = output.write_table(frame, out_dir, name, caption=caption)
    for name, (results, names, caption) in raw.get("regressions", {}).items():
        record["tables"][name] = output.write_regressions(results, out_dir, name, names, caption)
    record["figures"] = {}
    for name, fig in raw.get("figures", {}).items():
        figure, caption = _with_caption(fig)
        record["figures"][name] = {"png": output.write_figure(figure, out_dir, name), "caption": caption or ""}
    record.update(seed=raw.get("seed"), versions=versions(), elapsed_seconds=round(elapsed, 2), status="ok")
    output.dump_json(record, out_dir / "result.json")
    return record


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


def _decide(claim: Claim, raw: dict, data_label: str) -> dict:
    values, untestable = raw.get("values", {}), raw.get("untestable", {})
    simulated = claim.kind == "causal" and bool(raw.get("simulated"))
    if simulated:
        reason = "the outcomes are simulated (bundled demonstration panel); value on simulated data: {}"
        checks = [verdict.evaluate(c, None, reason.format(verdict.fmt(values.get(c.name)))) for c in claim.checks]
        pipeline = [verdict.evaluate(c, raw["pipeline_values"].get(c.name)) for c in claim.pipeline_checks]
        decision = verdict.decide_simulated(pipeline)
    else:
        checks = [verdict.evaluate(c, values.get(c.name), untestable.get(c.name)) for c in claim.checks]
        pipeline = []
        decision = verdict.decide(checks)
    return {
        "id": claim.id, "title": claim.title, "kind": claim.kind, "statement": claim.statement,
        "verdict": decision.to_dict(),
        "checks": [c.to_dict() for c in checks],
        "pipeline_checks": [c.to_dict() for c in pipeline],
        "computed_on_simulated_data": dict(values) if simulated else {},
        "numbers": raw.get("numbers", {}),
        "notes": list(raw.get("notes", [])),
        "data": data_label,
        "simulated": simulated,
    }


def fingerprint(record: dict) -> dict:
    """What ``econ verify`` compares: verdict, check statuses and values, and every number (flattened)."""
    data = output.jsonable(record)
    return {
        "id": data["id"],
        "verdict": data["verdict"]["label"],
        "qualifier": data["verdict"].get("qualifier", ""),
        "checks": {c["name"]: {"status": c["status"], "value": c["value"]}
                   for c in data["checks"] + data["pipeline_checks"]},
        "numbers": output.flatten(data.get("numbers", {})),
    }


def _error_record(claim: Claim, err: BaseException, out_dir: Path) -> dict:
    record = {"id": claim.id, "title": claim.title, "kind": claim.kind, "statement": claim.statement,
              "status": "error", "error": f"{type(err).__name__}: {err}",
              "traceback": traceback.format_exc(limit=8)}
    out_dir.mkdir(parents=True, exist_ok=True)
    output.dump_json(record, out_dir / "result.json")
    return record


def run_claims(ids=None, data=None, mapping=None, out="results", registry: Registry | None = None,
               progress: bool = True, update_expected: bool = False, expected_dir=None,
               stream=None, quiet: bool = False, options: dict | None = None) -> list[dict]:
    """Run claims (all by default) into ``out/<id>/``; print a summary; return the records.

    ``data`` (a path or DataFrame) runs the causal claims on a user panel read with ``econ.read_panel`` and the
    column roles in ``mapping`` (see :mod:`econ.claims.schema`); without it every claim runs on bundled data.
    ``update_expected`` writes each successful record's fingerprint to ``replication/expected/<id>.json``.
    ``options`` maps a claim id to extra keyword arguments of its ``run`` (e.g. ``{"M2": {"replications": 20}}``
    for a quick test run); results run with options are not the registered ones, so they cannot update the
    expected files.
    """
    from tqdm.auto import tqdm

    from econ.claims import schema

    registry = registry or load_registry()
    claims = registry.select(ids)
    roles, frame, label = None, None, "bundled"
    if data is not None:
        if update_expected:
            raise ClaimError("--update-expected records results on the bundled data; do not combine it with --data")

        if ids:
            other = [c.id for c in claims if c.kind != "causal"]
            if other:
                raise ClaimError(f"--data applies to the causal claims only; {', '.join(other)} run(s) on the "
                                 "bundled data (drop --data for them)")
        claims = [c for c in claims if c.kind == "causal"]
        roles = schema.resolve_roles(mapping)
        from econ.io import read_panel

        frame = read_panel(data, unit=roles["unit"], time=roles["time"])
        label = f"user panel {data if isinstance(data, (str, Path)) else 'DataFrame'} ({len(frame)} rows)"
    if update_expected and options:
        raise ClaimError("expected results are recorded with the registered settings only; drop the options")
    out = Path(out)
    options = options or {}
    records = []
    bar = tqdm(claims, desc="claims", unit="claim", disable=not progress, file=sys.stderr)
    for claim in bar:
        bar.set_postfix_str(claim.id)
        try:
            rec = run_claim(claim, registry, out / claim.id, data=frame, roles=roles, data_label=label,
                            options=options.get(claim.id))
        except Exception as err:  # one failing claim must not hide the others' verdicts
            rec = _error_record(claim, err, out / claim.id)
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
    rows = []
    for rec in records:
        if rec.get("status") != "ok":
            rows.append((rec["id"], rec["kind"], "ERROR: " + rec.get("error", "")[:90], ""))
            continue
        if rec.get("simulated"):
            pipe = rec["pipeline_checks"]
            tally = f"pipeline {sum(c['status'] == 'pass' for c in pipe)}/{len(pipe)} checks pass"
        else:
            checks = rec["checks"]
            n_untestable = sum(c["status"] == "untestable" for c in checks)
            tally = f"{sum(c['status'] == 'pass' for c in checks)}/{len(checks)} checks pass" + (
                f", {n_untestable} not testable" if n_untestable else "")
        rows.append((rec["id"], rec["kind"], rec["verdict"]["text"], tally))
    width = [max(len(r[i]) for r in rows + [("claim", "kind", "verdict", "")]) for i in range(4)]
    line = lambda r: "  ".join(str(v).ljust(w) for v, w in zip(r, width)).rstrip()  # noqa: E731
    return "\n".join([line(("claim", "kind", "verdict", "")), line(tuple("-" * w for w in width))]
                     + [line(r) for r in rows])
