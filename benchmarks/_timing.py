"""Tiny timing helpers shared by the benchmarks: best-of-N wall time and a Markdown ratio table.

Speed targets are reported, never asserted: a benchmark prints ratios against peer packages run in the same
process on the same data, so the numbers are comparable across machines.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterable


def time_call(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best (minimum) wall-clock seconds of ``repeat`` calls of ``fn()``.

    The minimum is the least noisy estimate of what the code costs; garbage collection is run before each call
    and disabled during it so a collection triggered by a previous run is not billed to this one.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        finally:
            if was_enabled:
                gc.enable()
    return best


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds:.3f}" if seconds >= 0.01 else f"{seconds:.2e}"


def ratio_table(rows: Iterable[dict]) -> str:
    """Markdown table of ``rows``; each row is a dict with keys ``workload`` (str), ``econ_seconds`` (float),
    ``peer`` (str), ``peer_seconds`` (float or None if the peer was skipped) and optionally ``note`` (str).
    The ratio column is peer seconds / econ seconds: above 1 means econ is faster."""
    rows = list(rows)
    with_notes = any(r.get("note") for r in rows)
    header = ["workload", "econ s", "peer", "peer s", "peer/econ"] + (["note"] if with_notes else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for r in rows:
        econ_s, peer_s = r["econ_seconds"], r.get("peer_seconds")
        ratio = f"{peer_s / econ_s:.2f}x" if peer_s is not None and econ_s > 0 else "n/a"
        cells = [str(r["workload"]), _fmt_seconds(econ_s), str(r["peer"]), _fmt_seconds(peer_s), ratio]
        if with_notes:
            cells.append(str(r.get("note", "")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def print_ratios(rows: Iterable[dict], title: str | None = None) -> str:
    """Print (and return) the Markdown ratio table of :func:`ratio_table`, under an optional ``### title``."""
    table = ratio_table(rows)
    print(f"\n### {title}\n" if title else "")
    print(table)
    return table


def time_interleaved(fns: dict[str, Callable[[], object]], repeat: int = 5) -> dict[str, float]:
    """Median wall-clock seconds of each of ``fns`` over ``repeat`` rounds, the calls interleaved (round ``r``
    calls every function once, in order, the order reversed every other round) so that a load change on a shared
    machine hits every package alike. Garbage collection is handled as in :func:`time_call`."""
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(repeat):
        for name in (names if r % 2 == 0 else names[::-1]):
            times[name].append(time_call(fns[name], repeat=1))
    return {name: float(statistics.median(t)) for name, t in times.items()}
