"""Verdicts decided by code: each registry check is applied to the number a script computed.

A check's status is ``pass``, ``fail`` or ``untestable`` (the script could not compute the quantity from the data
it has, and says why). A claim's verdict follows from its checks' statuses (see :func:`decide`):

* ``reproduced``: every primary check is testable and passes, and no testable supporting check fails;
* ``contradicted``: every testable primary check fails;
* ``not testable with bundled data``: no primary check can be computed;
* ``partly reproduced``: anything in between (some primary checks pass and some fail or cannot be computed, or
  the primary checks pass but a supporting check fails).

A supporting check that cannot be computed is listed in the reason but does not lower the verdict.
Causal claims run on the bundled simulated panel get :func:`decide_simulated`: always "not testable with bundled
data", qualified by whether the estimation pipeline recovered the planted truth.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from econ.claims.registry import Check

__all__ = ["VERDICTS", "REPRODUCED", "PARTLY", "CONTRADICTED", "NOT_TESTABLE", "CheckResult", "Verdict",
           "evaluate", "decide", "decide_simulated", "fmt"]

REPRODUCED = "reproduced"
PARTLY = "partly reproduced"
CONTRADICTED = "contradicted"
NOT_TESTABLE = "not testable with bundled data"
VERDICTS = (REPRODUCED, PARTLY, CONTRADICTED, NOT_TESTABLE)
PIPELINE_OK = "pipeline verified on simulated data"
PIPELINE_FAILED = "pipeline check FAILED on simulated data"


@dataclass(frozen=True)
class CheckResult:
    """A check applied to a computed value; ``detail`` spells out the comparison with its numbers."""

    name: str
    quantity: str
    role: str
    basis: str
    rule: str
    expected: float
    tolerance: float
    value: float | None
    status: str  # "pass" | "fail" | "untestable"
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    label: str
    reason: str
    qualifier: str = ""

    def __str__(self) -> str:
        return f"{self.label} — {self.qualifier}" if self.qualifier else self.label

    def to_dict(self) -> dict:
        return {"label": self.label, "qualifier": self.qualifier, "reason": self.reason, "text": str(self)}


def fmt(x) -> str:
    """A number as a reader expects it: integers without decimals, others to 5 significant digits."""
    if x is None:
        return "n/a"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if x == round(x) and abs(x) < 1e15:
        return f"{int(round(x)):,}" if abs(x) >= 10000 else str(int(round(x)))
    if abs(x) >= 1000:
        return f"{x:,.1f}"
    return f"{x:.5g}"


def evaluate(check: Check, value, reason: str | None = None) -> CheckResult:
    """Apply ``check`` to ``value`` (None, or NaN, with a ``reason`` = not testable)."""
    if value is not None and not isinstance(value, bool):
        value = float(value)
        if math.isnan(value):
            reason = reason or "the computed value is NaN"
            value = None
    if value is None:
        return _result(check, None, "untestable", f"not testable: {reason or 'no value computed'}")
    exp, tol = check.expected, check.tolerance
    if check.rule == "within":
        diff = value - exp
        ok = abs(diff) <= tol + 1e-12 * max(1.0, abs(exp))  # guard a tie against binary rounding only
        detail = f"{fmt(value)} vs {fmt(exp)} ± {fmt(tol)}: difference {fmt(diff)}"
    elif check.rule == "greater_than":
        ok = value > exp
        detail = f"{fmt(value)} {'>' if ok else '<='} {fmt(exp)}"
    else:  # less_than (validated in the registry)
        ok = value < exp
        detail = f"{fmt(value)} {'<' if ok else '>='} {fmt(exp)}"
    return _result(check, value, "pass" if ok else "fail", detail)


def _result(check: Check, value, status: str, detail: str) -> CheckResult:
    return CheckResult(check.name, check.quantity, check.role, check.basis, check.rule, check.expected,
                       check.tolerance, value, status, detail)


def decide(results: list[CheckResult]) -> Verdict:
    """The claim's verdict from its checks (rules in the module docstring)."""
    primary = [r for r in results if r.role == "primary"]
    supporting = [r for r in results if r.role != "primary"]
    testable = [r for r in primary if r.status != "untestable"]
    reason = _reason(primary, supporting)
    if not testable:
        return Verdict(NOT_TESTABLE, reason)
    if len(testable) == len(primary) and all(r.status == "pass" for r in testable) \
            and not any(r.status == "fail" for r in supporting):
        return Verdict(REPRODUCED, reason)
    if all(r.status == "fail" for r in testable):
        return Verdict(CONTRADICTED, reason)
    return Verdict(PARTLY, reason)


def decide_simulated(pipeline: list[CheckResult]) -> Verdict:
    """Verdict of a causal claim run on the bundled SIMULATED panel: never 'reproduced'."""
    ok = bool(pipeline) and all(r.status == "pass" for r in pipeline)
    n_pass = sum(r.status == "pass" for r in pipeline)
    reason = (f"the bundled panel's outcomes are simulated, so the claim itself cannot be tested; "
              f"{n_pass} of {len(pipeline)} pipeline checks recover the planted truth"
              + ("" if ok else ": " + "; ".join(f"{r.name}: {r.detail}" for r in pipeline if r.status != "pass")))
    return Verdict(NOT_TESTABLE, reason, PIPELINE_OK if ok else PIPELINE_FAILED)


def _reason(primary, supporting) -> str:
    parts = []
    for label, group in (("primary", primary), ("supporting", supporting)):
        if not group:
            continue
        counts = {s: sum(r.status == s for r in group) for s in ("pass", "fail", "untestable")}
        summary = ", ".join(f"{n} {'not testable' if s == 'untestable' else s}" for s, n in counts.items() if n)
        notes = [f"{r.name}: {r.detail}" for r in group if r.status != "pass"]
        parts.append(f"{label} checks: {summary}" + (" (" + "; ".join(notes) + ")" if notes else ""))
    return ". ".join(parts)
