"""econ.montecarlo: a 200-replication x 4-estimator study on the demonstration panel design, 1 vs 2 workers.

Design: ``econ.simulate.china_cities_demo`` (337 real prefectures x 15 years, the real Broadband China cohorts and
contiguity, planted dynamic effects and spillover), redrawn in every replication. Estimators: TWFE, the event-time-0
coefficient of the event study, the placebo test (199 draws) and Callaway-Sant'Anna's simple aggregation when
``econ.did.att_gt`` is available (else the event study's first post coefficient stands in).

Printed: wall time in this process (the baseline), on a Dask ``LocalCluster`` with 1 and with 2 single-threaded
workers, the speed-up of 2 workers over 1 (close to 2 on a 2-core machine when the tasks dominate) and the
scheduling overhead per replication, ``(dask 1-worker time - in-process time) / replications`` (cluster start-up
included, reported separately). Each run's table is checked to be identical to the in-process one.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from _timing import print_ratios  # noqa: E402


_UNITS: dict = {}


def demo_draw(seed: int = 0):
    """``econ.simulate.china_cities_demo(seed)``, with the real units and contiguity loaded once per process."""
    import pandas as pd

    from econ import datasets
    from econ.simulate import draw_panel

    if not _UNITS:
        pref = datasets.load("china_prefectures")
        _UNITS["units"] = pd.DataFrame({"prefecture_code": pref["prefecture_code"],
                                        "cohort": pref["bbc_cohort"].fillna(0).astype("int64")})
        _UNITS["W"] = datasets.load_weights("china_prefecture_contiguity")
    return draw_panel(_UNITS["units"], range(2008, 2023), unit="prefecture_code", W=_UNITS["W"], seed=seed)


def estimators():
    from econ import did
    from econ import montecarlo as mc

    cols = dict(y="log_income_ratio", unit="prefecture_code", time="year")
    ests = {"twfe": mc.estimators.twfe(treat="treated", **cols),
            "event_study_e0": mc.estimators.event_study(cohort="cohort", event_time=0, **cols),
            "placebo": mc.estimators.placebo(cohort="cohort", n_draws=199, **cols)}
    if hasattr(did, "att_gt"):
        ests["cs"] = mc.estimators.att_gt(cohort="cohort", **cols)
    else:
        ests["event_study_e1"] = mc.estimators.event_study(cohort="cohort", event_time=1, **cols)
    return ests


def main(quick: bool = False) -> None:
    import pandas as pd
    from dask.distributed import Client, LocalCluster

    from econ import montecarlo as mc

    reps = 20 if quick else 200
    design, ests = mc.design(demo_draw, name="china_cities_demo"), estimators()
    start = time.perf_counter()
    base = mc.run(design, ests, reps, seed=1, n_workers=1, progress=False)
    t_inproc = time.perf_counter() - start
    rows, timings = [], {}
    for workers in (1, 2):
        start = time.perf_counter()
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
        t_start = time.perf_counter() - start
        start = time.perf_counter()
        res = mc.run(design, ests, reps, seed=1, backend="dask", client=client, progress=False)
        timings[workers] = time.perf_counter() - start
        client.close()
        cluster.close()
        pd.testing.assert_frame_equal(base.tidy(), res.tidy())
        rows.append({"workload": f"{reps} reps x {len(ests)} estimators, dask {workers} worker(s)",
                     "econ_seconds": timings[workers], "peer": "in-process (same code)", "peer_seconds": t_inproc,
                     "note": f"cluster start {t_start:.1f} s; identical table"})
    print_ratios(rows, "Monte Carlo study on the demonstration panel design (peer/econ > 1: faster than in-process)")
    print(f"\nspeed-up of 2 workers over 1: {timings[1] / timings[2]:.2f}x")
    print(f"scheduling overhead per replication (dask 1 worker vs in-process): "
          f"{1000 * (timings[1] - t_inproc) / reps:.1f} ms")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
