"""The claims registry: ``replication/claims.toml`` loaded (tomllib) and validated into plain dataclasses.

>>> from econ.claims import registry
>>> reg = registry.load()            # the repository's replication/claims.toml
>>> reg["D1"].checks[0].expected
49000

Validation happens once, here: every problem found is reported in one ``RegistryError`` whose message names the
claim id and field, so a broken registry never produces a verdict.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from econ.errors import EconError

__all__ = ["RegistryError", "Registry", "Claim", "Check", "Source", "load", "replication_dir", "RULES", "KINDS"]

KINDS = ("descriptive", "causal", "method")
RULES = ("within", "greater_than", "less_than")
ROLES = ("primary", "supporting", "reported")  # "reported": computed and shown, never counted in a verdict
SCOPES = ("", "first_link")  # "first_link": a mechanism check that tests only treatment -> channel
_ID_RE = re.compile(r"^[A-Z][0-9]+$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_KIND_PREFIX = {"descriptive": "D", "causal": "K", "method": "M"}
VERIFY_RTOL, VERIFY_ATOL = 1e-6, 1e-9  # econ verify's tolerances when [verify] does not set them


class RegistryError(EconError):
    """The claims registry is malformed (message lists every problem, by claim id and field)."""


@dataclass(frozen=True)
class Check:
    """One comparison of a computed quantity with the value a source states."""

    name: str
    quantity: str
    expected: float
    tolerance: float
    rule: str
    role: str
    basis: str
    why_tolerance: str = ""
    scope: str = ""  # "first_link": the check tests treatment -> channel only (see econ.claims.verdict)


@dataclass(frozen=True)
class Source:
    paper: str
    citation: str
    location: str
    quote: str


@dataclass(frozen=True)
class Claim:
    id: str
    slug: str
    kind: str
    title: str
    statement: str
    data: tuple[str, ...]
    sources: tuple[Source, ...]
    checks: tuple[Check, ...]
    pipeline_checks: tuple[Check, ...] = ()
    inputs: dict = field(default_factory=dict, hash=False)
    reading: str = ""
    quote_note: str = ""
    verify_rtol: float = VERIFY_RTOL
    verify_atol: float = VERIFY_ATOL

    @property
    def script_name(self) -> str:
        return f"{self.id}_{self.slug}.py"


@dataclass(frozen=True)
class Registry:
    path: Path
    claims: tuple[Claim, ...]
    papers: dict

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.claims]

    @property
    def scripts_dir(self) -> Path:
        return self.path.parent

    def __getitem__(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise RegistryError(f"unknown claim {claim_id!r}; registered: {', '.join(self.ids)}")

    def __iter__(self):
        return iter(self.claims)

    def __len__(self) -> int:
        return len(self.claims)

    def select(self, ids=None) -> list[Claim]:
        """The claims with these ids (case-insensitive), in registry order; all claims when ``ids`` is empty."""
        if not ids:
            return list(self.claims)
        wanted = [i.upper() for i in ids]
        unknown = [i for i in wanted if i not in self.ids]
        if unknown:
            raise RegistryError(f"unknown claim id(s) {unknown}; registered: {', '.join(self.ids)}")
        return [c for c in self.claims if c.id in wanted]

    def script_path(self, claim: Claim) -> Path:
        return self.scripts_dir / claim.script_name


def replication_dir() -> Path:
    """Where ``claims.toml`` and the scripts live: ``$ECON_REPLICATION_DIR``, else the repository's ``replication/``
    next to the ``econ`` package (an editable install or a clone), else the copy an installed wheel carries
    (``econ/replication``), else ``./replication``."""
    env = os.environ.get("ECON_REPLICATION_DIR")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    candidates += [here.parents[2] / "replication", here.parents[1] / "replication", Path.cwd() / "replication"]
    for path in candidates:
        if (path / "claims.toml").is_file():
            return path
    raise RegistryError(
        "cannot find replication/claims.toml (looked in " + ", ".join(str(p) for p in candidates)
        + "); run from a clone of the repository or set ECON_REPLICATION_DIR"
    )


def load(path=None, check_scripts: bool = True) -> Registry:
    """Load and validate the registry (default: ``replication_dir() / "claims.toml"``).

    ``check_scripts`` also requires each claim's script ``<id>_<slug>.py`` to exist next to the registry.
    """
    path = Path(path) if path is not None else replication_dir() / "claims.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"no claims registry at {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise RegistryError(f"{path}: not valid TOML: {err}") from None
    return parse(raw, path, check_scripts=check_scripts)


def parse(raw: dict, path: Path, check_scripts: bool = False) -> Registry:
    """Validate a parsed TOML document and build the Registry (all problems reported together)."""
    problems: list[str] = []
    if raw.get("schema_version") != 1:
        problems.append(f"schema_version must be 1, got {raw.get('schema_version')!r}")
    papers = raw.get("papers", {})
    if not isinstance(papers, dict) or not papers:
        problems.append("[papers] must define at least one source paper")
        papers = {}
    for key, paper in papers.items():
        if not isinstance(paper, dict) or not str(paper.get("citation", "")).strip():
            problems.append(f"papers.{key}: missing 'citation'")
    verify = raw.get("verify", {})
    rtol, atol = verify.get("rtol", VERIFY_RTOL), verify.get("atol", VERIFY_ATOL)
    entries = raw.get("claims", [])
    if not isinstance(entries, list) or not entries:
        problems.append("no [[claims]] entries")
        entries = []
    claims, seen = [], set()
    for pos, entry in enumerate(entries):
        claim = _parse_claim(entry, pos, papers, rtol, atol, problems)
        if claim is None:
            continue
        if claim.id in seen:
            problems.append(f"{claim.id}: duplicate claim id")
        seen.add(claim.id)
        if check_scripts and not (path.parent / claim.script_name).is_file():
            problems.append(f"{claim.id}: script {claim.script_name} not found in {path.parent}")
        claims.append(claim)
    if problems:
        raise RegistryError(f"{path}: {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    return Registry(path=path, claims=tuple(claims), papers={k: dict(v) for k, v in papers.items()})


# --------------------------------------------------------------------------------------------------- helpers
_REQUIRED = ("id", "slug", "kind", "title", "statement", "data", "sources", "checks")


def _parse_claim(entry, pos, papers, rtol, atol, problems) -> Claim | None:
    if not isinstance(entry, dict):
        problems.append(f"claims[{pos}]: not a table")
        return None
    cid = str(entry.get("id", f"claims[{pos}]"))
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        problems.append(f"{cid}: missing field(s) {missing}")
        return None
    before = len(problems)
    if not _ID_RE.match(cid):
        problems.append(f"{cid}: id must be a capital letter and digits, e.g. 'D1'")
    if not _NAME_RE.match(str(entry["slug"])):
        problems.append(f"{cid}: slug {entry['slug']!r} must be lower_snake_case")
    kind = entry["kind"]
    if kind not in KINDS:
        problems.append(f"{cid}: kind {kind!r} not one of {KINDS}")
    elif not cid.startswith(_KIND_PREFIX[kind]):
        problems.append(f"{cid}: a {kind} claim's id must start with {_KIND_PREFIX[kind]!r}")
    for key in ("title", "statement"):
        if not str(entry[key]).strip():
            problems.append(f"{cid}: empty {key}")
    if not isinstance(entry["data"], list) or not entry["data"]:
        problems.append(f"{cid}: data must be a non-empty list")
    sources = _parse_sources(cid, entry, papers, problems)
    checks = _parse_checks(cid, entry.get("checks"), "checks", problems, pipeline=False)
    pipeline = _parse_checks(cid, entry.get("pipeline_checks", []), "pipeline_checks", problems, pipeline=True)
    if kind == "causal" and not pipeline:
        problems.append(f"{cid}: a causal claim needs [[claims.pipeline_checks]] (verified on simulated data)")
    if kind != "causal" and pipeline:
        problems.append(f"{cid}: only causal claims have pipeline_checks")
    names = [c.name for c in checks + pipeline]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        problems.append(f"{cid}: duplicate check name(s) {dup}")
    if checks and not any(c.role == "primary" for c in checks):
        problems.append(f"{cid}: at least one check must have role = 'primary'")
    inputs = entry.get("inputs", {})
    if not isinstance(inputs, dict):
        problems.append(f"{cid}: inputs must be a table")
        inputs = {}
    if len(problems) > before:
        return None
    return Claim(
        id=cid, slug=entry["slug"], kind=kind, title=entry["title"], statement=entry["statement"],
        data=tuple(entry["data"]), sources=sources, checks=checks, pipeline_checks=pipeline, inputs=dict(inputs),
        reading=entry.get("reading", ""), quote_note=entry.get("quote_note", ""),
        verify_rtol=float(entry.get("verify_rtol", rtol)), verify_atol=float(entry.get("verify_atol", atol)),
    )


def _parse_sources(cid, entry, papers, problems) -> tuple[Source, ...]:
    raw = entry["sources"]
    if not isinstance(raw, list) or not raw:
        problems.append(f"{cid}: sources must be a non-empty list of tables")
        return ()
    out = []
    for i, src in enumerate(raw):
        paper = src.get("paper") if isinstance(src, dict) else None
        if paper not in papers:
            problems.append(f"{cid}: sources[{i}].paper {paper!r} is not a key of [papers] ({sorted(papers)})")
            continue
        if "location" not in src or "quote" not in src:
            problems.append(f"{cid}: sources[{i}] needs 'location' and 'quote' (quote may be \"\" with a quote_note)")
            continue
        out.append(Source(paper, papers[paper].get("citation", ""), src["location"], src["quote"]))
    if out and not any(s.quote.strip() for s in out) and not str(entry.get("quote_note", "")).strip():
        problems.append(f"{cid}: no source has a quote; give the exact quotation or explain in quote_note")
    return tuple(out)


def _parse_checks(cid, raw, key, problems, pipeline: bool) -> tuple[Check, ...]:
    if not isinstance(raw, list) or (not raw and not pipeline):
        problems.append(f"{cid}: {key} must be a non-empty list of tables")
        return ()
    out = []
    for i, chk in enumerate(raw):
        where = f"{cid}: {key}[{i}]"
        if not isinstance(chk, dict):
            problems.append(f"{where}: not a table")
            continue
        missing = [k for k in ("name", "quantity", "expected", "tolerance", "rule", "basis") if k not in chk]
        if missing:
            problems.append(f"{where}: missing field(s) {missing}")
            continue
        name, rule = str(chk["name"]), chk["rule"]
        role = chk.get("role", "primary" if pipeline else None)
        bad = []
        if not _NAME_RE.match(name):
            bad.append(f"name {name!r} must be lower_snake_case")
        if rule not in RULES:
            bad.append(f"rule {rule!r} not one of {RULES}")
        if role not in ROLES:
            bad.append(f"role {role!r} not one of {ROLES}")
        if chk.get("scope", "") not in SCOPES:
            bad.append(f"scope {chk.get('scope')!r} not one of {SCOPES}")
        for num in ("expected", "tolerance"):
            if isinstance(chk[num], bool) or not isinstance(chk[num], (int, float)):
                bad.append(f"{num} must be a number, got {chk[num]!r}")
        if not bad:
            if chk["tolerance"] < 0:
                bad.append(f"tolerance must be >= 0, got {chk['tolerance']}")
            if rule != "within" and chk["tolerance"] != 0:
                bad.append(f"rule {rule!r} takes no tolerance (set tolerance = 0)")
        if bad:
            problems.append(f"{where} ({name}): " + "; ".join(bad))
            continue
        out.append(Check(name, chk["quantity"], float(chk["expected"]), float(chk["tolerance"]), rule, role,
                         chk["basis"], chk.get("why_tolerance", ""), chk.get("scope", "")))
    return tuple(out)
