"""econ.panel.threshold (numpy, Gram-matrix search) vs pyxthreg 0.0.3 (numba, joblib), 300 bootstrap draws per test.

Workloads:

* a SIMULATED balanced panel of the size of Hansen's (1999) investment data: 565 units x 15 years, five
  regime-independent regressors, one regime-dependent regressor whose slope changes at two thresholds (the 30% and
  70% quantiles) of a continuous threshold variable; single- and double-threshold models, each package on its own
  300-point grid (econ: quantiles between trim and 1 - trim; pyxthreg: evenly spaced among the distinct values),
  trim 1%;
* the REAL balanced province panel of the tests (31 provinces x 2006-2012 from the bundled
  ``china_province_income``, tests/fixtures/threshold/make_pyxthreg.py), exact search, trim 5%, double threshold.

pyxthreg is timed after a warm-up call (numba compiled) with ``n_jobs=1`` (econ uses one core). Its bootstrap is a
wild bootstrap with normal multipliers, econ's Hansen's unit-block residual resampling, so the thresholds are
compared and the p-values only shown side by side. Target (issue 25): econ at least as fast.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT)]
from _timing import print_ratios, time_call  # noqa: E402

N_DRAWS = 300
X_COLS = [f"x{j}" for j in range(1, 6)]


def simulated_panel(n: int = 565, T: int = 15, seed: int = 0) -> pd.DataFrame:
    """SIMULATED two-threshold panel of Hansen's size (unit effects correlated with the regressors)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "year": np.tile(np.arange(T), n)})
    mu = rng.normal(size=n)[df["id"]]
    X = rng.normal(size=(n * T, 5)) + 0.5 * mu[:, None]
    for j, c in enumerate(X_COLS):
        df[c] = X[:, j]
    df["q"] = rng.normal(size=n * T) + 0.3 * mu
    df["z"] = rng.normal(size=n * T)
    lo, hi = np.quantile(df["q"], [0.3, 0.7])
    slope = np.select([df["q"] <= lo, df["q"] <= hi], [0.6, 0.2], -0.3)
    df["y"] = mu + X @ np.array([0.5, -0.3, 0.2, 0.1, -0.1]) + slope * df["z"] + rng.normal(size=n * T)
    return df


def _province():
    spec = importlib.util.spec_from_file_location("make_pyxthreg",
                                                  ROOT / "tests" / "fixtures" / "threshold" / "make_pyxthreg.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.province_panel(), mod.YEARS


def main(quick: bool = False) -> None:
    from pyxthreg import ThresholdPanel

    from econ.panel import threshold

    n_draws = 50 if quick else N_DRAWS
    sim = simulated_panel()
    prov, years = _province()
    workloads = [
        (f"SIMULATED N=565 T=15, {{m}} threshold(s), grid 300, trim 1%, {n_draws} draws per test", sim,
         dict(y="y", rx="z", qx="q", x=X_COLS, unit="id", time="year"), (1, 2), 300, 0.01),
        (f"real province panel N=31 T=7, {{m}} thresholds, exact search, trim 5%, {n_draws} draws per test", prov,
         dict(y="growth", rx="rel_lag", qx="q", x=years, unit="unit", time="year"), (2,), None, 0.05),
    ]
    rows = []
    for label, d, s, ms, grid, trim in workloads:
        for m in ms:
            def econ_fit():
                return threshold(d, s["y"], s["unit"], s["time"], rx=s["rx"], qx=s["qx"], covariates=s["x"],
                                 n_thresholds=m, grid=grid, trim=trim, n_draws=n_draws)

            def pyx_fit():
                model = ThresholdPanel(data=d, dep=s["y"], indep=s["x"], rx=[s["rx"]], qx=s["qx"],
                                       entity_col=s["unit"], time_col=s["time"])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(thnum=m, trim=trim, grid=0 if grid is None else grid, bs=n_draws, nobslog=True,
                              n_jobs=1)
                return model.results

            ours, ref = econ_fit(), pyx_fit()  # warm-up (numba compile) and the numbers compared below
            econ_s = time_call(econ_fit, repeat=1 if quick else 2)
            pyx_s = time_call(pyx_fit, repeat=1)
            thr = ours.thresholds["threshold"].round(4).tolist()
            p_e = ours.tests["p_value"].round(3).tolist()
            p_p = [round(float(b["p_value"]), 3) for b in ref["boot_results"]]
            rows.append({"workload": label.format(m=m), "econ_seconds": econ_s,
                         "peer": "pyxthreg 0.0.3 (warm, n_jobs=1)", "peer_seconds": pyx_s,
                         "note": f"thresholds econ {thr}, pyxthreg {[round(float(x), 4) for x in ref['thresholds']]};"
                                 f" p econ {p_e}, pyxthreg {p_p}"})
    print_ratios(rows, f"Hansen (1999) panel threshold regression, {n_draws} bootstrap draws per test")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
