"""Heterogeneity-robust staggered DiD: econ against its peers on the same inputs (numbers checked before timing).

* ``honest`` (Rambachan-Roth relative magnitudes, C-LF, 4 values of Mbar) vs moderndid's HonestDiD port, on the
  Sun-Abraham event study of mpdta (3 pre-, 4 post-periods);
* ``imputation`` vs diff-diff's ``ImputationDiD`` and ``bacon`` vs diff-diff's ``BaconDecomposition`` on mpdta;
* the whole ``compare()`` on the demonstration city panel (target: under 2 s; no peer);
* ``sun_abraham`` (cohort x relative-period regression + event-time and overall aggregation) vs diff-diff's
  ``SunAbraham(n_bootstrap=0)`` at 50,000 units x 10 periods (issue 23; quick: 2,000), the panel of
  ``bench_att_gt.simulate``; event-time effects checked to 1e-8 first, then timed interleaved (median).
"""

from __future__ import annotations

import warnings

import numpy as np

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from _timing import print_ratios, ratio_table, time_call, time_interleaved  # noqa: E402


def sun_abraham_rows(quick: bool = False) -> list[dict]:
    """Sun-Abraham + aggregation at scale, econ vs diff-diff (interleaved medians)."""
    import diff_diff
    from bench_att_gt import simulate

    from econ.did import sun_abraham

    rows = []
    for n_units in ((2_000,) if quick else (50_000,)):
        df = simulate(n_units)

        def ours():
            return sun_abraham(df, "y", "unit", "year", "g")

        def peer():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return diff_diff.SunAbraham(n_bootstrap=0).fit(df, "y", "unit", "year", "g")

        r, p = ours(), peer()
        es = {int(e): v["effect"] for e, v in p.event_study_effects.items()}
        gap = max(abs(es[e] - b) for e, b in zip(r.event_times, r.coef.to_numpy()))
        assert gap < 1e-8 and abs(r.overall_att - p.overall_att) < 1e-8, gap
        repeat = 5
        t = time_interleaved({"econ": ours, "dd": peer}, repeat=repeat)
        rows.append({"workload": f"Sun-Abraham + aggregation, {n_units:,} units x 10 periods",
                     "econ_seconds": t["econ"], "peer": "diff-diff", "peer_seconds": t["dd"],
                     "note": f"event-time max gap {gap:.1e}; median of {repeat}, interleaved"})
        print(rows[-1], flush=True)
    print_ratios(rows, "Sun-Abraham at scale (target >= 1x diff-diff)")
    return rows


def main(quick: bool = False) -> None:
    warnings.filterwarnings("ignore")
    sun_abraham_rows(quick)
    from econ import datasets
    from econ.did import bacon, compare, imputation, sun_abraham
    from econ.did._paths import event_path
    from econ.did.diagnostics.honest import honest_ci

    df = datasets.load("mpdta").rename(columns={"first.treat": "first_treat"})
    rows = []
    e, b, V = event_path(sun_abraham(df, "lemp", "countyreal", "year", "first_treat"))
    mbars = [0.5, 1.0] if quick else [0.0, 0.5, 1.0, 2.0]
    l_vec = np.eye(4)[0]
    ours = lambda: [honest_ci(b, V, 3, 4, "relative_magnitudes", m, l_vec) for m in mbars]  # noqa: E731
    peer_s = None
    try:
        from moderndid.didhonest import create_sensitivity_results_rm

        peer = lambda: create_sensitivity_results_rm(b, V, 3, 4, method="C-LF", m_bar_vec=mbars)  # noqa: E731
        peer_s = time_call(peer, repeat=1)
    except ImportError:
        pass
    rows.append({"workload": f"honest RM C-LF, {len(mbars)} Mbar", "econ_seconds": time_call(ours),
                 "peer": "moderndid", "peer_seconds": peer_s})

    args = ("lemp", "countyreal", "year", "first_treat")
    try:
        from diff_diff import BaconDecomposition, ImputationDiD

        imp_peer = lambda: ImputationDiD().fit(df, outcome="lemp", unit="countyreal", time="year",  # noqa: E731
                                               first_treat="first_treat")
        assert abs(imp_peer().overall_att - imputation(df, *args).overall_att) < 1e-8
        rows.append({"workload": "imputation (mpdta)", "econ_seconds": time_call(lambda: imputation(df, *args)),
                     "peer": "diff-diff", "peer_seconds": time_call(imp_peer)})
        bac_peer = lambda: BaconDecomposition().fit(df, outcome="lemp", unit="countyreal", time="year",  # noqa
                                                    first_treat="first_treat")
        rows.append({"workload": "bacon (mpdta)", "econ_seconds": time_call(lambda: bacon(df, *args)),
                     "peer": "diff-diff", "peer_seconds": time_call(bac_peer)})
    except ImportError:
        pass
    demo = datasets.load("china_cities_demo")
    rows.append({"workload": "compare() on china_cities_demo", "econ_seconds": time_call(
        lambda: compare(demo, "log_income_ratio", "prefecture_code", "year", "cohort"), repeat=1 if quick else 3),
        "peer": "-", "peer_seconds": None, "note": "target < 2 s"})
    print(ratio_table(rows))


if __name__ == "__main__":
    sun_abraham_rows(quick="--quick" in sys.argv) if "--sa" in sys.argv else main(quick="--quick" in sys.argv)
