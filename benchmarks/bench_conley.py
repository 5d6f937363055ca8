"""Conley spatial HAC for ``att_gt`` vs unit clustering: cost of the spatial kernel at 50,000 units x 10 periods.

Workload: the balanced staggered panel of ``bench_att_gt`` (cohorts in periods 4, 6, 8 and 40% never treated) with
units scattered uniformly over a 25 x 25 degree box (about the extent of eastern China); Conley with a 50 km uniform
kernel (about 55 neighbours per unit, ~1.4 million pairs found by a KD-tree: no n x n matrix is formed). Each job is
``att_gt`` (analytic standard errors) plus the dynamic aggregation; best of three.

Target from issue 22 (printed, not asserted): Conley time <= 5 x the unit-clustered time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from _timing import time_call  # noqa: E402

N_PERIODS = 10
CUTOFF_KM = 50.0


def simulate(n_units: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 4, 6, 8], size=n_units, p=[0.4, 0.2, 0.2, 0.2])
    lat, lon = rng.uniform(20, 45, n_units), rng.uniform(100, 125, n_units)
    unit = np.repeat(np.arange(n_units), N_PERIODS)
    t = np.tile(np.arange(1, N_PERIODS + 1), n_units)
    y = (rng.normal(size=n_units)[unit] + 0.1 * t + np.where((g[unit] > 0) & (t >= g[unit]), 0.5, 0.0)
         + rng.normal(size=unit.size))
    return pd.DataFrame({"unit": unit, "t": t, "g": g[unit], "lat": lat[unit], "lon": lon[unit], "y": y})


def run(df, vcov):
    from econ.did import att_gt

    res = att_gt(df, "y", "unit", "t", "g", vcov=vcov)
    return res, res.aggregate("dynamic")


def main(quick: bool = False) -> dict:
    from econ.did._conley import UnitKernel, conley_spec

    n = 5_000 if quick else 50_000
    df = simulate(n)
    spec = {"conley": {"lat": "lat", "lon": "lon", "cutoff_km": CUTOFF_KM}}
    kernel = UnitKernel.from_data(df, "unit", np.arange(n), conley_spec(spec, "bench"), "bench")
    t_unit = time_call(lambda: run(df, None))
    t_conley = time_call(lambda: run(df, spec))
    ratio = t_conley / t_unit
    print(f"att_gt + dynamic aggregation, {n:,} units x {N_PERIODS} periods, Conley {CUTOFF_KM:g} km "
          f"({kernel.n_pairs:,} pairs, {2 * kernel.n_pairs / n:.1f} neighbours per unit)")
    print(f"| vcov | seconds |\n|---|---|\n| unit-clustered | {t_unit:.3f} |\n| Conley | {t_conley:.3f} |")
    print(f"Conley / unit-clustered = {ratio:.2f}x (target <= 5x: {'met' if ratio <= 5 else 'NOT met'})")
    return {"n_units": n, "unit_seconds": t_unit, "conley_seconds": t_conley, "ratio": ratio,
            "n_pairs": kernel.n_pairs}


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
