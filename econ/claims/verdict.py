"""Verdicts decided by code: each registry check is applied to the number a script computed.

A check's status is ``pass``, ``fail`` or ``untestable`` (the script could not compute the quantity from the data
it has, and says why). A claim's verdict follows from its checks' statuses (see :func:`decide`):

* ``reproduced``: every primary check was computed *from data* (basis "bundled data" or "user data") and passes,
  and no testable supporting check fails;
* ``contradicted``: every testable primary check fails;
* ``not testable with bundled data``: no primary check can be computed;
* ``partly reproduced``: anything in between (some primary checks pass and some fail or cannot be computed, or
  the primary checks pass but a supporting check fails);
* ``internally consistent; not tested against data`` / ``internally inconsistent; not tested against data``: no
  data-based check could be computed, and the checks that were computed are arithmetic on the source's own figures
  (basis "source's own figures"): they show whether the source agrees with itself, not whether it is right.
  Consistent = every computed check passes and every primary one was computed.

On a user's panel (``econ replicate K1 --data ...``) the verdict speaks about that file only, never about the
claim's source (a statement about Broadband China is not "reproduced" or said to "hold" on unrelated data); it is
``<label> on <data> — <the primary estimates>``, with the label one of

* ``consistent with the claim's direction`` (or ``consistent with the claim`` when every primary check is a test,
  e.g. K3's equality test): every primary check passes;
* ``not consistent with the claim's direction``: a primary *direction* check (an estimate's sign) fails, i.e. the
  estimate on that file goes the other way;
* ``not established``: anything else, in particular a test that does not reject (a p-value check is one whose name
  contains ``pvalue``): low power is not evidence against the claim, so a non-rejection never reads "does not hold";
* ``treatment moves the channel``: for mechanism checks with ``scope = "first_link"`` (K4), which test only the
  effect of treatment on a channel variable; the label says only that, and the qualifier says the channel ->
  outcome link was not tested;
* ``not testable``: no primary check can be computed.

The qualifier states the primary quantities (direction, size and uncertainty, e.g. the heterogeneity-robust ATT and
its p-value) and lists supporting (comparison) checks that disagree.

Checks with role ``reported`` (e.g. a pre-trend test: not rejecting parallel pre-trends is no evidence that they
hold) get the status ``reported``: their value is shown in the reason and never counted as a pass or a fail.

A supporting check that cannot be computed is listed in the reason but does not lower the verdict.
Causal claims run on the bundled simulated panel get :func:`decide_simulated`: always "not testable with bundled
data", qualified by whether the estimation pipeline recovered the planted truth.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from econ.claims.registry import Check

__all__ = ["VERDICTS", "USER_VERDICTS", "REPRODUCED", "PARTLY", "CONTRADICTED", "NOT_TESTABLE", "INTERNAL_OK",
           "INTERNAL_BAD", "CONSISTENT", "CONSISTENT_TEST", "NOT_CONSISTENT", "NOT_ESTABLISHED", "MOVES_CHANNEL",
           "NOT_TESTABLE_ON", "REPORTED", "SOURCE_BASIS",
           "CheckResult", "Verdict", "evaluate", "decide", "decide_simulated", "fmt"]

REPRODUCED = "reproduced"
PARTLY = "partly reproduced"
CONTRADICTED = "contradicted"
NOT_TESTABLE = "not testable with bundled data"
INTERNAL_OK = "internally consistent; not tested against data"
INTERNAL_BAD = "internally inconsistent; not tested against data"
VERDICTS = (REPRODUCED, PARTLY, CONTRADICTED, NOT_TESTABLE, INTERNAL_OK, INTERNAL_BAD)
CONSISTENT = "consistent with the claim's direction"
CONSISTENT_TEST = "consistent with the claim"
NOT_CONSISTENT = "not consistent with the claim's direction"
NOT_ESTABLISHED = "not established"
MOVES_CHANNEL = "treatment moves the channel"
NOT_TESTABLE_ON = "not testable"
USER_VERDICTS = (CONSISTENT, CONSISTENT_TEST, NOT_CONSISTENT, NOT_ESTABLISHED, MOVES_CHANNEL, NOT_TESTABLE_ON)
REPORTED = "reported"
SOURCE_BASIS = "source's own figures"
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
    status: str  # "pass" | "fail" | "untestable" | "reported" (role "reported": shown, never counted)
    detail: str
    scope: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    label: str
    reason: str
    qualifier: str = ""
    on: str = ""  # the user's data the claim was tested on ("" = bundled data)

    def __str__(self) -> str:
        text = f"{self.label} on {self.on}" if self.on else self.label
        return f"{text} — {self.qualifier}" if self.qualifier else text

    def to_dict(self) -> dict:
        return {"label": self.label, "qualifier": self.qualifier, "reason": self.reason, "on": self.on,
                "text": str(self)}


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
    if check.role == REPORTED:
        why = f": {check.why_tolerance}" if check.why_tolerance else ""
        return _result(check, value, REPORTED, f"{detail} (reported, not counted in the verdict{why})")
    return _result(check, value, "pass" if ok else "fail", detail)


def _result(check: Check, value, status: str, detail: str) -> CheckResult:
    return CheckResult(check.name, check.quantity, check.role, check.basis, check.rule, check.expected,
                       check.tolerance, value, status, detail, check.scope)


def _from_data(r: CheckResult) -> bool:
    return r.basis != SOURCE_BASIS


def decide(results: list[CheckResult], on: str = "") -> Verdict:
    """The claim's verdict from its checks (rules in the module docstring); ``on`` names a user's data set."""
    reported = [r for r in results if r.role == REPORTED]
    results = [r for r in results if r.role != REPORTED]
    primary = [r for r in results if r.role == "primary"]
    supporting = [r for r in results if r.role != "primary"]
    testable = [r for r in primary if r.status != "untestable"]
    reason = _reason(primary, supporting, reported)
    if on:
        return _decide_on_user_data(primary, supporting, reason, on)
    computed = [r for r in results if r.status != "untestable"]
    if computed and not any(_from_data(r) for r in computed):
        consistent = all(r.status == "pass" for r in computed) and len(testable) == len(primary)
        note = ("; no check was computed from data: the source's figures were only checked against each other")
        return Verdict(INTERNAL_OK if consistent else INTERNAL_BAD, reason + note, on=on)
    if not testable:
        label = NOT_TESTABLE
    elif len(testable) == len(primary) and all(r.status == "pass" and _from_data(r) for r in testable) \
            and not any(r.status == "fail" for r in supporting):
        label = REPRODUCED
    elif all(r.status == "fail" for r in testable):
        label = CONTRADICTED
    else:
        label = PARTLY
    return Verdict(label, reason)


def _is_test(r: CheckResult) -> bool:
    """A check on a p-value (a test), as opposed to a direction check on an estimate's sign."""
    return "pvalue" in r.name


def _decide_on_user_data(primary, supporting, reason, on) -> Verdict:
    """The verdict on a user's file: what the estimates on that file show, never that the source's claim holds."""
    testable = [r for r in primary if r.status != "untestable"]
    if not testable:
        return Verdict(NOT_TESTABLE_ON, reason, on=on)
    shown = ", ".join(f"{r.name} = {fmt(r.value)}" for r in testable)
    disagree = [f"{r.name} ({r.detail})" for r in supporting if r.status == "fail"]
    if any(r.scope == "first_link" for r in testable):
        moved = [r.name for r in testable if r.status == "pass"]
        label = MOVES_CHANNEL if moved else NOT_ESTABLISHED
        qualifier = (f"{len(moved)} of {len(primary)} channel check(s) pass ({', '.join(moved) or 'none'}; {shown}); "
                     "only treatment -> channel was tested, not channel -> outcome, so this is no evidence that the "
                     "effect works through these channels")
        return Verdict(label, reason, qualifier, on=on)
    direction = [r for r in testable if not _is_test(r)]
    if len(testable) == len(primary) and all(r.status == "pass" for r in testable):
        label = CONSISTENT if direction else CONSISTENT_TEST
    elif direction and all(r.status == "fail" for r in direction):
        label = NOT_CONSISTENT
    else:
        label = NOT_ESTABLISHED
    qualifier = shown + (f"; comparison checks that disagree: {'; '.join(disagree)}" if disagree else "")
    return Verdict(label, reason, qualifier, on=on)


def decide_simulated(pipeline: list[CheckResult]) -> Verdict:
    """Verdict of a causal claim run on the bundled SIMULATED panel: never 'reproduced'."""
    ok = bool(pipeline) and all(r.status == "pass" for r in pipeline)
    n_pass = sum(r.status == "pass" for r in pipeline)
    reason = (f"the bundled panel's outcomes are simulated, so the claim itself cannot be tested; "
              f"{n_pass} of {len(pipeline)} pipeline checks recover the planted truth"
              + ("" if ok else ": " + "; ".join(f"{r.name}: {r.detail}" for r in pipeline if r.status != "pass")))
    return Verdict(NOT_TESTABLE, reason, PIPELINE_OK if ok else PIPELINE_FAILED)


def _reason(primary, supporting, reported=()) -> str:
    parts = []
    for label, group in (("primary", primary), ("supporting", supporting)):
        if not group:
            continue
        counts = {s: sum(r.status == s for r in group) for s in ("pass", "fail", "untestable")}
        summary = ", ".join(f"{n} {'not testable' if s == 'untestable' else s}" for s, n in counts.items() if n)
        notes = [f"{r.name}: {r.detail}" for r in group if r.status != "pass"]
        parts.append(f"{label} checks: {summary}" + (" (" + "; ".join(notes) + ")" if notes else ""))
    if reported:
        parts.append("reported, not counted: " + "; ".join(f"{r.name}: {r.detail}" for r in reported))
    return ". ".join(parts)
