"""Household microdata: att_gt on repeated cross-sections and the staggered triple difference vs moderndid.

Workloads (simulated by :func:`econ.simulate.household_survey`, 8 survey years, designations in 2012/2014/2016):

* ``att_gt(panel=False)`` (doubly robust, one covariate, analytic SEs) on a repeated cross-section of 10,000 and
  100,000 household-years, against moderndid ``att_gt(panel=False)``;
* ``ddd_gt`` (doubly robust, one covariate, not-yet-treated comparisons with the GMM combination) on a panel of
  10,000 (and, not quick, 50,000) households, against moderndid ``ddd``.

Point estimates are checked first (ATT(g, t) equal to 1e-6). Targets from issue 20 (printed, not asserted): at
least as fast as moderndid. Peers are timed once, econ as the best of three.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from _timing import print_ratios, time_call  # noqa: E402


def _quiet(fn):
    def run():
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return fn()
    return run


def main(quick: bool = False) -> None:
    import moderndid as md

    from econ.did import att_gt, ddd_gt
    from econ.simulate import household_survey

    rows = []
    for n in ((10_000,) if quick else (10_000, 100_000)):
        df = household_survey(n_prefectures=100, households=n // 800, design="rcs", cohort_trend=0.0).data
        rural = df[df["rural"] == 1].copy()
        ours = _quiet(lambda: att_gt(rural, "log_income", "household", "year", "cohort", covariates="x",
                                     panel=False))
        peer = _quiet(lambda: md.att_gt(data=rural, yname="log_income", tname="year", gname="cohort",
                                        idname="household", panel=False, xformla="~x", est_method="dr",
                                        boot=False))
        np.testing.assert_allclose(ours().coef.to_numpy(), peer().att_gt, rtol=1e-6, atol=1e-9)
        e, p = time_call(ours, 3), time_call(peer, 1)
        rows.append({"workload": f"att_gt panel=False, {len(rural):,} rural household-years", "econ_seconds": e,
                     "peer": "moderndid", "peer_seconds": p})
    for n in ((10_000,) if quick else (10_000, 50_000)):
        df = household_survey(n_prefectures=100, households=n // 100).data
        ours = _quiet(lambda: ddd_gt(df, "log_income", "household", "year", "cohort", "rural", covariates="x",
                                     control="notyet"))
        peer = _quiet(lambda: md.ddd(data=df, yname="log_income", tname="year", idname="household",
                                     gname="cohort", pname="rural", xformla="~x", est_method="dr",
                                     control_group="notyettreated", base_period="varying", boot=False))
        np.testing.assert_allclose(ours().coef.to_numpy(), peer().att, rtol=1e-6, atol=1e-9)
        e, p = time_call(ours, 3), time_call(peer, 1)
        rows.append({"workload": f"ddd_gt notyet DR, {n:,} households x 8 years", "econ_seconds": e,
                     "peer": "moderndid", "peer_seconds": p})
    print_ratios(rows, title="Household microdata (target: >= 1x moderndid)")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
