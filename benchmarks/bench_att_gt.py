"""econ.did.att_gt + all four aggregations with a 999-draw multiplier bootstrap vs csdid and diff-diff.

Workloads: balanced panels of 10,000 and 50,000 units x 10 periods (cohorts first treated in periods 4, 6 and 8,
40% never treated), doubly robust estimation with never-treated comparisons, unconditional and with one covariate.
Each package does the same job in the same process on the same data:

* econ: ``att_gt(..., n_draws=999)`` then ``aggregate`` simple / dynamic / group / calendar (bootstrap SEs and
  uniform bands from the same draws);
* csdid (Python port of R did): ``ATTgt(..., biters=999).fit(bstrap=True)`` then ``aggte`` for the four types
  (each with its own 999-draw bootstrap, as R did's ``aggte``);
* diff-diff: ``CallawaySantAnna(n_bootstrap=999).fit(..., aggregate="all")`` (simple, event study and group; it
  has no calendar aggregation).

Before timing, the numbers are checked: ATT(g, t) of econ equal csdid's to 1e-8 and diff-diff's to 1e-8 without
covariates (diff-diff's DR with covariates differs by about 1e-5: reported), and the overall simple ATT agrees.
Targets from the issue (printed, not asserted): at least as fast as the fastest peer and >= 5x faster than csdid.
Peers are timed once (they take tens of seconds at 50,000 units), econ as the best of three.

Analytic section (issue 23, :func:`analytic`): ``att_gt`` DR, never-treated comparisons, analytic standard errors,
plus the simple and dynamic aggregations, at 1,000 / 10,000 / 50,000 units x 10 periods against diff-diff's
``CallawaySantAnna(n_bootstrap=0).fit(..., aggregate="event_study")`` (its overall ATT is the simple aggregation).
ATT(g, t), the overall ATT and the event-study effects are checked to agree to 1e-8 first; then the two are timed
interleaved, median of the repeats.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from _timing import print_ratios, time_call, time_interleaved  # noqa: E402

N_PERIODS = 10
N_DRAWS = 999
KINDS = ("simple", "dynamic", "group", "calendar")


def simulate(n_units: int, seed: int = 0) -> pd.DataFrame:
    """Balanced panel with cohorts 2004/2006/2008 (+ never treated), a covariate shifting trends, effect 0.5."""
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2001 + N_PERIODS)
    g = rng.choice([0, 2004, 2006, 2008], size=n_units, p=[0.4, 0.2, 0.2, 0.2])
    x = rng.normal(size=n_units) + 0.3 * (g > 0)
    unit = np.repeat(np.arange(n_units), N_PERIODS)
    year = np.tile(years, n_units)
    gg, xx = g[unit], x[unit]
    y = (rng.normal(size=n_units)[unit] + 0.1 * (year - 2001) * (1 + 0.2 * xx)
         + np.where((gg > 0) & (year >= gg), 0.5, 0.0) + rng.normal(size=n_units * N_PERIODS))
    return pd.DataFrame({"unit": unit, "year": year, "g": gg, "x": xx, "y": y})


def run_econ(df, cov, n_draws):
    from econ.did import att_gt

    res = att_gt(df, "y", "unit", "year", "g", covariates="x" if cov else None, n_draws=n_draws)
    return res, [res.aggregate(k) for k in KINDS]


def run_csdid(df, cov, n_draws):
    from csdid.att_gt import ATTgt

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ATTgt(yname="y", tname="year", idname="unit", gname="g", data=df, xformla="y ~ x" if cov else None,
                    biters=n_draws).fit(est_method="dr", bstrap=True)
        overall = {}
        for kind in KINDS:
            fit.aggte(typec=kind, bstrap=True, biters=n_draws)
            overall[kind] = fit.atte["overall_att"]
    return np.asarray(fit.results["att"], float), overall


def run_diff_diff(df, cov, n_draws):
    import diff_diff

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = diff_diff.CallawaySantAnna(estimation_method="dr", n_bootstrap=n_draws, seed=0)
        return est.fit(df, "y", "unit", "year", "g", covariates=["x"] if cov else None, aggregate="all")


def check(res, aggs, cs, dd, cov) -> str:
    """Assert the peers' numbers equal econ's; return a note on the largest differences."""
    att = res.coef.to_numpy()
    cs_att, cs_overall = cs
    np.testing.assert_allclose(cs_att, att, rtol=0, atol=1e-8)
    for kind, agg in zip(KINDS, aggs):
        assert abs(cs_overall[kind] - agg.overall_att) < 1e-8, kind
    dd_att = np.array([dd.group_time_effects[(g, t)]["effect"] for g, t in zip(res.cells["cohort"],
                                                                                  res.cells["time"])])
    gap = float(np.max(np.abs(dd_att - att)))
    assert gap < (1e-3 if cov else 1e-8), gap
    assert abs(dd.overall_att - aggs[0].overall_att) < (1e-3 if cov else 1e-8)
    return f"ATT(g,t) = csdid (1e-8); diff-diff max gap {gap:.1e}"


def run_econ_analytic(df):
    from econ.did import att_gt

    res = att_gt(df, "y", "unit", "year", "g")
    return res, res.aggregate("simple"), res.aggregate("dynamic")


def run_diff_diff_analytic(df):
    import diff_diff

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return diff_diff.CallawaySantAnna(estimation_method="dr", n_bootstrap=0).fit(
            df, "y", "unit", "year", "g", aggregate="event_study")


def check_analytic(ours, dd) -> str:
    res, simple, dynamic = ours
    dd_att = np.array([dd.group_time_effects[(g, t)]["effect"] for g, t in zip(res.cells["cohort"],
                                                                                  res.cells["time"])])
    gap = float(np.max(np.abs(dd_att - res.coef.to_numpy())))
    assert gap < 1e-8, gap
    assert abs(dd.overall_att - simple.overall_att) < 1e-8
    es = {int(e): v["effect"] for e, v in dd.event_study_effects.items()}
    ours_es = dict(zip(dynamic.tidy()["event_time"].astype(int), dynamic.coef.to_numpy()))
    es_gap = max(abs(es[e] - ours_es[e]) for e in ours_es if e in es)
    assert es_gap < 1e-8, es_gap
    return f"ATT(g,t) max gap {gap:.1e}, event study {es_gap:.1e}"


def analytic(quick: bool = False) -> list[dict]:
    """att_gt DR + simple and dynamic aggregation, analytic SEs, vs diff-diff (interleaved medians)."""
    sizes = (1_000, 2_000) if quick else (1_000, 10_000, 50_000)
    rows = []
    for n_units in sizes:
        df = simulate(n_units)
        note = check_analytic(run_econ_analytic(df), run_diff_diff_analytic(df))
        repeat = 5 if quick else (15 if n_units <= 10_000 else 7)
        t = time_interleaved({"econ": lambda: run_econ_analytic(df), "dd": lambda: run_diff_diff_analytic(df)},
                             repeat=repeat)
        rows.append({"workload": f"att_gt DR never-treated, analytic SE + simple & dynamic, {n_units:,} units x "
                                 f"{N_PERIODS} periods", "econ_seconds": t["econ"], "peer": "diff-diff",
                     "peer_seconds": t["dd"], "note": f"{note}; median of {repeat}, interleaved"})
        print(rows[-1], flush=True)
    print_ratios(rows, title="Callaway-Sant'Anna att_gt, analytic standard errors (target: >= 1x diff-diff)")
    return rows


def main(quick: bool = False) -> None:
    analytic(quick)
    sizes = (2_000,) if quick else (10_000, 50_000)
    n_draws = 99 if quick else N_DRAWS
    rows = []
    for n_units in sizes:
        df = simulate(n_units)
        for cov in (False, True):
            label = f"{n_units:,} units x {N_PERIODS} periods, {'one covariate' if cov else 'unconditional'}, DR"
            res, aggs = run_econ(df, cov, n_draws)
            cs, dd = run_csdid(df, cov, n_draws), run_diff_diff(df, cov, n_draws)
            note = check(res, aggs, cs, dd, cov)
            econ_s = time_call(lambda: run_econ(df, cov, n_draws), repeat=3)
            cs_s = time_call(lambda: run_csdid(df, cov, n_draws), repeat=1)
            dd_s = time_call(lambda: run_diff_diff(df, cov, n_draws), repeat=1)
            workload = f"att_gt + 4 aggregations, {n_draws} draws, {label}"
            rows.append({"workload": workload, "econ_seconds": econ_s, "peer": "csdid", "peer_seconds": cs_s,
                         "note": note})
            rows.append({"workload": workload, "econ_seconds": econ_s, "peer": "diff-diff", "peer_seconds": dd_s,
                         "note": "no calendar aggregation in diff-diff"})
            print(f"{workload}: econ {econ_s:.2f}s, csdid {cs_s:.2f}s ({cs_s / econ_s:.1f}x), "
                  f"diff-diff {dd_s:.2f}s ({dd_s / econ_s:.1f}x)", flush=True)
    print_ratios(rows, title="Callaway-Sant'Anna att_gt + aggregations (targets: >= 1x the fastest peer, "
                             ">= 5x csdid)")


if __name__ == "__main__":
    analytic(quick="--quick" in sys.argv) if "--analytic" in sys.argv else main(quick="--quick" in sys.argv)
