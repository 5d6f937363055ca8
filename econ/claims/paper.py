"""Build the paper, ``paper/build/paper.html``, from ``paper/paper.html.in`` and ``results/``.

    python -m econ.claims.paper [--results results] [--template paper/paper.html.in] [--out paper/build/paper.html]

The template is HTML with placeholders; every number, table and figure comes from ``results/<id>/`` (written by
``econ replicate``) -- none is typed into the template. Figures are embedded as base64 PNG, so the output is one
self-contained file. Placeholders (``{{ ... }}``):

==========================================  =====================================================================
``{{ verdicts }}``                          table of every registered claim with its verdict and reason
``{{ card ID }}``                           a claim's statement, quotations, checks, verdict, notes, tables, figures
``{{ verdict ID }}``                        the verdict as a coloured label
``{{ num ID dotted.path | spec }}``         a number from result.json (``numbers.…`` / ``checks.NAME.value``),
                                            formatted with Python's format ``spec`` (e.g. ``,.0f``, ``.1%``)
``{{ table ID NAME }}``                     a table written by the claim (from its CSV)
``{{ figure ID NAME }}``                    a figure written by the claim (embedded PNG)
``{{ notes ID }}``                          the claim's notes (sentences with their numbers) as paragraphs
``{{ roles }}``                             the column roles of a user panel (econ.claims.schema)
``{{ versions }}``                          package versions of the run
==========================================  =====================================================================

A placeholder whose result is missing renders as a visible "[missing: …]" marker and is listed on stderr; the
command then exits with status 1. A stored result is used only when it passes ``econ verify``: its manifest verifies
(:func:`econ.claims.manifest.check_stored`: files unaltered, same claim, package version, registry entry, script and
data) *and* the claim, re-run from scratch (on the user's data recorded with it, with the options it was run with),
gives the same verdict, numbers, notes, captions, data description, tables and figures
(:func:`econ.claims.verify.verify`), and a result on the bundled data with the registered settings also matches
``replication/expected/<id>.json``. A result whose files were edited and re-hashed is therefore refused the same way;
the price is one fresh run of every stored claim while the paper is built. Every check's status and the verdict
shown are recomputed from the stored numbers with the current registry (:func:`econ.claims.runner.recompute`),
never taken from the stored "pass"; a stored verdict that does not follow from its numbers is refused too.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import sys
from pathlib import Path

import pandas as pd

from econ.claims import manifest, runner, schema
from econ.claims.registry import Registry
from econ.claims.registry import load as load_registry
from econ.claims.verdict import fmt

__all__ = ["build", "render", "main"]

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)([^}]*)\}\}")


class _Missing(Exception):
    pass


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class _Context:
    def __init__(self, registry: Registry, results: Path, progress: bool = False):
        self.registry, self.results, self.missing = registry, Path(results), []
        self._cache: dict[str, dict] = {}
        self._progress = progress
        self._fresh: dict[str, list[str]] | None = None

    def fresh_run_problems(self, cid: str) -> list[str]:
        """What ``econ verify`` finds wrong with the stored result of ``cid`` (every stored claim re-run once,
        except results this process computed itself or already compared, :func:`econ.claims.manifest.fresh_key`)."""
        if self._fresh is None:
            from econ.claims.verify import verify

            ids = [c for c in manifest.stored_ids(self.results) if c in self.registry.ids]
            todo = [c for c in ids if not manifest.is_fresh(self.results / c)]
            options = {}
            for c in todo:
                man = _read_json(self.results / c / manifest.MANIFEST)
                if isinstance(man, dict) and man.get("options"):
                    options[c] = man["options"]
            outcomes = verify(todo, registry=self.registry, results=self.results, options=options, quiet=True,
                              progress=self._progress) if todo else []
            self._fresh = {c: [] for c in ids if c not in todo}
            for o in outcomes:
                self._fresh[o.id] = [] if o.ok else (o.mismatches or [f"{o.id}: {o.verdict}"])
                if o.ok:
                    manifest.remember_fresh(self.results / o.id)
        return self._fresh.get(cid, [f"{cid}: not re-run"])

    def result(self, cid: str) -> dict:
        if cid not in self._cache:
            self._cache[cid] = self._load(cid)
        rec = self._cache[cid]
        if isinstance(rec, _Missing):
            raise rec
        return rec

    def _load(self, cid: str):
        """The stored record, verified and with checks and verdict recomputed; or the _Missing reason."""
        folder = self.results / cid
        path = folder / manifest.RESULT
        if not path.is_file():
            return _Missing(f"{cid}: no {path} (run: econ replicate {cid})")
        problems = manifest.check_stored(folder, self.registry)
        if problems:
            more = f" (+{len(problems) - 1} more; run econ verify)" if len(problems) > 1 else " (run econ verify)"
            return _Missing(f"{cid}: refused: the stored result does not verify: {problems[0]}{more}")
        rec = json.loads(path.read_text(encoding="utf-8"))
        if rec.get("status") != "ok":
            return _Missing(f"{cid}: the stored run failed: {rec.get('error', '?')}")
        fresh = runner.recompute(self.registry[cid], rec)
        differs = [c["name"] for c, f in zip(rec.get("checks", []) + rec.get("pipeline_checks", []),
                                              fresh["checks"] + fresh["pipeline_checks"])
                   if c.get("status") != f["status"]]
        if rec.get("verdict", {}).get("label") != fresh["verdict"]["label"] or differs or \
                len(rec.get("checks", [])) != len(fresh["checks"]):
            return _Missing(f"{cid}: refused: the stored verdict or check statuses ({differs or 'verdict'}) do not "
                            "follow from the stored numbers under the registry")
        problems = self.fresh_run_problems(cid)
        if problems:
            more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
            return _Missing(f"{cid}: refused: the stored result does not match a fresh run of the claim: "
                            + "; ".join(problems[:3]) + f"{more} (run econ verify {cid})")
        rec.update(fresh)
        err = _read_json(self.results / f"{cid}.error.json")
        if err:
            rec["notes"] = [f"The latest run failed ({err.get('error', '?')}); the previous complete result is "
                            "shown."] + list(rec.get("notes", []))
        return rec

    def mark_missing(self, err: _Missing, tag: str = "span") -> str:
        """Record a missing item and return the visible marker that takes its place."""
        self.missing.append(str(err))
        return f'<{tag} class="missing">[missing: {html.escape(str(err))}]</{tag}>'


# ------------------------------------------------------------------------------------------------ rendering
def render(template: str, registry: Registry, results, progress: bool = False) -> tuple[str, list[str]]:
    """Fill the placeholders of ``template``; return (html, list of missing items)."""
    ctx = _Context(registry, results, progress)

    def replace(match):
        name, args = match.group(1), match.group(2).strip()
        handler = _HANDLERS.get(name)
        if handler is None:
            raise ValueError(f"unknown placeholder {{{{ {name} }}}} in the paper template")
        try:
            return handler(ctx, args)
        except _Missing as err:
            return ctx.mark_missing(err)

    return _PLACEHOLDER.sub(replace, template), ctx.missing


def _lookup(record: dict, path: str):
    parts = path.split(".")
    if parts[0] == "checks" and len(parts) == 3:
        for c in record["checks"] + record.get("pipeline_checks", []):
            if c["name"] == parts[1]:
                return c[parts[2]]
        raise _Missing(f"{record['id']}: no check {parts[1]!r}")
    node = record
    for p in parts:
        if isinstance(node, dict) and p in node:
            node = node[p]
        else:
            raise _Missing(f"{record['id']}: no value at {path!r}")
    return node


def _num(ctx, args):
    spec = ""
    if "|" in args:
        args, spec = (s.strip() for s in args.split("|", 1))
    cid, path = args.split()
    rec = ctx.result(cid)
    if rec.get("user_data") and path.startswith("numbers.truth."):
        return "n/a (no known truth: run on the user's data)"
    value = _lookup(rec, path)
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return html.escape(value)
    return html.escape(format(value, spec) if spec else fmt(value))


def _verdict_label(rec: dict) -> str:
    label = rec["verdict"]["label"]
    css = label.split()[0].strip(";")
    on = rec["verdict"].get("on", "")
    text = f"{label} on {on}" if on else label
    qual = rec["verdict"].get("qualifier", "")
    extra = f' <span class="qualifier">— {html.escape(qual)}</span>' if qual else ""
    return f'<span class="verdict v-{css}">{html.escape(text)}</span>{extra}'


def _verdict(ctx, args):
    return _verdict_label(ctx.result(args.strip()))


def _verdicts(ctx, args):
    rows = []
    for claim in ctx.registry:
        try:
            rec = ctx.result(claim.id)
            cell, reason = _verdict_label(rec), html.escape(rec["verdict"]["reason"])
        except _Missing as err:
            cell, reason = ctx.mark_missing(err), ""
        rows.append(f"<tr><td><a href='#claim-{claim.id}'>{claim.id}</a></td><td>{html.escape(claim.title)}</td>"
                    f"<td>{claim.kind}</td><td>{cell}</td><td class='small'>{reason}</td></tr>")
    return ("<table class='verdicts'><thead><tr><th>claim</th><th>statement</th><th>kind</th><th>verdict</th>"
            "<th>numbers behind it</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _stored_artifact(ctx, args, kind: str):
    """``(claim id, name, metadata)`` of the stored table or figure named by a ``{{table ...}}`` /
    ``{{figure ...}}`` tag's arguments ``"<claim id> <name>"``; ``_Missing`` when the result has none."""
    cid, name = args.split()
    meta = ctx.result(cid).get(f"{kind}s", {}).get(name)
    if meta is None:
        raise _Missing(f"{cid}: no {kind} {name!r}")
    return cid, name, meta


def _table(ctx, args):
    cid, name, meta = _stored_artifact(ctx, args, "table")
    caption = f"<caption>{html.escape(meta.get('caption', ''))}</caption>" if meta.get("caption") else ""
    if "html" in meta:  # a regression table rendered by econ.etable
        body = (ctx.results / cid / meta["html"]).read_text(encoding="utf-8")
        return f"<div class='regression'><p class='small'><i>{html.escape(meta.get('caption', ''))}</i></p>{body}</div>"
    frame = pd.read_csv(ctx.results / cid / meta["csv"], keep_default_na=False, na_values=[""])
    return _html_table(frame, caption)


def _html_table(frame: pd.DataFrame, caption: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for v in row:
            numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
            text = "" if (isinstance(v, float) and v != v) else (fmt(v) if numeric else str(v))
            cells.append(f"<td class='{'num' if numeric else ''}'>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(ctx, args):
    cid, name, meta = _stored_artifact(ctx, args, "figure")
    data = base64.b64encode((ctx.results / cid / meta["png"]).read_bytes()).decode("ascii")
    caption = html.escape(meta.get("caption") or name)
    return (f"<figure><img alt='{cid} {html.escape(name)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{caption} (claim {cid}, <code>results/{cid}/{html.escape(meta['png'])}</code>)"
            "</figcaption></figure>")


def _notes(ctx, args):
    rec = ctx.result(args.strip())
    return "".join(f"<p>{html.escape(n)}</p>" for n in rec.get("notes", []))


def _checks_table(checks: list[dict], title: str) -> str:
    if not checks:
        return ""
    rows = []
    for c in checks:
        rule = {"within": f"within ± {fmt(c['tolerance'])} of {fmt(c['expected'])}",
                "greater_than": f"&gt; {fmt(c['expected'])}", "less_than": f"&lt; {fmt(c['expected'])}"}[c["rule"]]
        rows.append(f"<tr><td>{html.escape(c['name'])}</td><td>{html.escape(c['quantity'])}</td>"
                    f"<td>{html.escape(c['basis'])}</td><td class='num'>{fmt(c['value'])}</td><td>{rule}</td>"
                    f"<td><span class='st-{c['status']}'>{c['status']}</span></td>"
                    f"<td class='small'>{html.escape(c['detail'])}</td></tr>")
    return (f"<table class='checks'><caption>{title}</caption><thead><tr><th>check</th><th>quantity</th>"
            "<th>basis</th><th>computed</th><th>rule</th><th>status</th><th>detail</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _card(ctx, args):
    cid = args.strip()
    claim = ctx.registry[cid]
    quotes = "".join(
        f"<blockquote><p lang='zh'>{html.escape(s.quote)}</p><footer>{html.escape(s.paper)}, "
        f"{html.escape(s.location)}</footer></blockquote>" for s in claim.sources if s.quote.strip())
    sources = "".join(f"<li><b>{html.escape(s.paper)}</b>: {html.escape(s.citation)}</li>"
                      for s in {s.paper: s for s in claim.sources}.values())
    parts = [f"<section class='card' id='claim-{cid}'><h3>{cid}. {html.escape(claim.title)}</h3>",
             f"<p class='statement'>{html.escape(claim.statement)}</p>", quotes]
    try:
        user = ctx.result(cid).get("user_data")
    except _Missing:
        user = None
    if user:  # on a user's panel the claim's statement is only the hypothesis tested there
        cols = ", ".join(f"{r}={'+'.join(c) if isinstance(c, list) else c}" for r, c in user["columns"].items())
        parts[1] = (f"<p class='hypothesis'><b>Hypothesis tested on {html.escape(user['file'])}</b> (SHA-256 "
                    f"<code>{html.escape(user['sha256'])}</code>; columns {html.escape(cols)}): "
                    f"{html.escape(claim.statement)}</p>")
    if claim.quote_note:
        parts.append(f"<p class='small'>{html.escape(claim.quote_note)}</p>")
    parts.append(f"<ul class='sources small'>{sources}</ul>")
    if claim.reading:
        parts.append(f"<p><b>How to read it.</b> {html.escape(claim.reading)}</p>")
    try:
        rec = ctx.result(cid)
    except _Missing as err:
        parts.append(ctx.mark_missing(err, "p") + "</section>")
        return "".join(parts)
    parts.append(f"<p><b>Verdict:</b> {_verdict_label(rec)}</p>"
                 f"<p class='small'>{html.escape(rec['verdict']['reason'])}</p>")
    parts.append(_checks_table(rec["checks"], "Checks of the claim"))
    parts.append(_checks_table(rec.get("pipeline_checks", []), "Pipeline checks against the simulated truth"))
    parts.append(_notes(ctx, cid))
    files = ", ".join(f"{f} ({h[:12]})" for f, h in (rec.get("data_files") or {}).items())
    parts.append(f"<p class='small'>Data: {html.escape(str(rec.get('data')))}"
                 f"{'; files read (SHA-256): ' + html.escape(files) if files else ''}; seed {rec.get('seed')}; "
                 f"run time {rec.get('elapsed_seconds')} s.</p></section>")
    return "".join(parts)


def _roles(ctx, args):
    frame = pd.DataFrame([{"role": r, "required?": schema.ROLE_HELP[r][0], "meaning": schema.ROLE_HELP[r][1],
                           "demonstration panel column": "+".join(v) if isinstance(v, list) else (v or "(none)")}
                          for r, v in schema.DEFAULT_ROLES.items()])
    return _html_table(frame)


def _versions(ctx, args):
    for claim in ctx.registry:
        try:
            rec = ctx.result(claim.id)
        except _Missing:
            continue
        # every result shown matched a fresh run made with the installed tools: those are the versions to print
        # (the stored "versions" field is a text anyone can edit)
        return html.escape(", ".join(f"{k} {v}" for k, v in runner.versions().items()))
    raise _Missing("no results at all")


_HANDLERS = {"verdicts": _verdicts, "card": _card, "verdict": _verdict, "num": _num, "table": _table,
             "figure": _figure, "notes": _notes, "roles": _roles, "versions": _versions}


# ------------------------------------------------------------------------------------------------ entry points
def _repo_root() -> Path:
    """The clone holding ``paper/`` (next to the ``econ`` package in an editable install), else the cwd."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "paper" / "paper.html.in").is_file() else Path.cwd()


def build(results="results", template=None, out=None, registry: Registry | None = None,
          progress: bool = False) -> tuple[Path, list[str]]:
    """Render the template with ``results`` and write the HTML; return (path, missing items).

    Every stored result is re-run once to check it (see the module docstring); ``progress`` shows a bar meanwhile.

    Every registered claim must appear in the template (as a card); otherwise ``ValueError``.
    """
    registry = registry or load_registry()
    template = Path(template) if template else _repo_root() / "paper" / "paper.html.in"
    out = Path(out) if out else _repo_root() / "paper" / "build" / "paper.html"
    text = template.read_text(encoding="utf-8")
    carded = set(re.findall(r"\{\{\s*card\s+(\w+)\s*\}\}", text))
    absent = [c.id for c in registry if c.id not in carded]
    if absent:
        raise ValueError(f"the paper template has no {{{{ card ID }}}} for claim(s) {absent}")
    page, missing = render(text, registry, results, progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out, missing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m econ.claims.paper", description=__doc__.split("\n")[0])
    parser.add_argument("--results", default="results")
    parser.add_argument("--template")
    parser.add_argument("--out")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    path, missing = build(args.results, args.template, args.out, progress=not args.no_progress)
    for m in dict.fromkeys(missing):  # one line per distinct problem (a claim may fill several placeholders)
        print(f"missing: {m}", file=sys.stderr)
    print(f"paper written to {path}" + (f" with {len(missing)} missing item(s)" if missing else ""))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
