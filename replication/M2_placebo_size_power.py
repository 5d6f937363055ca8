"""M2: the permutation (placebo) test of the TWFE DiD estimate has the right size and useful power.

A seeded Monte Carlo on small simulated staggered designs (``econ.simulate.draw_panel``): ``n_units`` units, half
never treated and the rest split evenly over cohorts 2014/2015/2016, observed for ``n_years`` years from 2010;
AR(1) errors; no spillover. Under the null every cohort's effect is zero; under the alternative each cohort's peak
effect on log rural income is ``alternative_peak_effect`` (ramping up over three years). In every replication
``econ.did.placebo`` (kind ``permute_units``, ``placebo_draws`` draws) gives the two-sided permutation p-value;
the test rejects when p <= alpha. The cluster-robust t-test of the same TWFE coefficient is recorded alongside.

Under the null, treatment assignment is exchangeable across units given the unit effects, so the permutation test
is exact: its rejection rate should be alpha up to Monte Carlo error (s.e. sqrt(alpha (1 - alpha) / R)).

Power analysis (issue 13): with ``econ.montecarlo.power`` on the same design family (``econ.montecarlo.staggered``:
half the units never treated, the rest split evenly over the three cohorts, ``n_years`` years, the same AR(1)
errors), the placebo test's power over a grid of designs (``power_n_units``) and peak effects (``power_effects``),
``power_replications`` replications each, run on this machine's cores (``backend="local"``; replication seeds are
spawned from the root seed by position, so the numbers do not depend on the number of cores). Reported: the
smallest design in the grid whose power at ``alternative_peak_effect`` reaches ``target_power`` (its number of
units, cohort sizes and years), and every design's minimum detectable effect (the smallest peak effect whose power
reaches the target, interpolated linearly between grid points; None when no effect in the grid reaches it).
The number of years is held at ``n_years``: the grid searches over the number of units (cohort sizes).
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from econ import did  # noqa: E402
from econ import montecarlo as mc  # noqa: E402
from econ.simulate import DesignParams, draw_panel  # noqa: E402

COHORTS = (2014, 2015, 2016)
FIRST_YEAR = 2010
SEED = 2


def run(data=None, out_dir=None, inputs=None, replications=None, power_replications=None, progress=None):
    reps = int(replications or inputs["replications"])
    draws, alpha = int(inputs["placebo_draws"]), float(inputs["alpha"])
    units = _units(int(inputs["n_units"]))
    years = range(FIRST_YEAR, FIRST_YEAR + int(inputs["n_years"]))
    scenarios = {"null": 0.0, "alternative": float(inputs["alternative_peak_effect"])}
    results = {}
    for k, (name, peak) in enumerate(scenarios.items()):
        params = DesignParams(peak_effect={c: peak for c in COHORTS}, spillover=0.0)
        rows = [_replicate(units, years, params, seed=SEED * 1_000_000 + k * 100_000 + r, draws=draws)
                for r in tqdm(range(reps), desc=f"M2 {name}", leave=False, disable=None)]
        results[name] = pd.DataFrame(rows)
    rate = {name: float((res["p_perm"] <= alpha).mean()) for name, res in results.items()}
    rate_t = {name: float((res["p_cluster_t"] <= alpha).mean()) for name, res in results.items()}
    mc_se = {name: float(np.sqrt(r * (1 - r) / reps)) for name, r in rate.items()}
    true_effect = -(1 - DesignParams().urban_share) * scenarios["alternative"]
    numbers = {
        "replications": reps, "placebo_draws": draws, "alpha": alpha, "n_units": len(units),
        "n_years": len(years), "size": rate["null"], "power": rate["alternative"], "mc_se": mc_se,
        "size_cluster_t": rate_t["null"], "power_cluster_t": rate_t["alternative"],
        "peak_effect_on_log_ratio": true_effect,
        "mean_estimate": {name: float(res["estimate"].mean()) for name, res in results.items()},
    }
    table = pd.DataFrame([
        {"design": name, "true peak effect on log ratio": 0.0 if name == "null" else true_effect,
         "rejection rate (permutation)": rate[name], "Monte Carlo s.e.": mc_se[name],
         "rejection rate (cluster-robust t)": rate_t[name], "mean estimate": numbers["mean_estimate"][name],
         "replications": reps}
        for name in scenarios])
    study = _power_study(inputs, int(power_replications or inputs["power_replications"]), draws, alpha)
    numbers["power_study"] = study["numbers"]
    return {
        "values": {"size": rate["null"], "power": rate["alternative"]},
        "numbers": numbers,
        "tables": {"size_power": (table, f"Rejection rates at {alpha:.0%} over {reps} simulated panels "
                                         f"({len(units)} units x {len(years)} years, {draws} placebo draws each)"),
                   "power_designs": (study["table"], study["caption"])},
        "figures": {"null_pvalues": (_figure(results["null"]["p_perm"], alpha),
                                     "Permutation p-values under the null (uniform if the test is exact)"),
                    "power_curves": (study["figure"], "Power of the placebo test against the peak effect, by "
                                                      "number of units, with +/- 2 Monte Carlo s.e.")},
        "notes": [f"Under the null the permutation test rejected in {100 * rate['null']:.1f}% of {reps} samples "
                  f"(Monte Carlo s.e. {100 * mc_se['null']:.1f} points; the cluster-robust t-test "
                  f"{100 * rate_t['null']:.1f}%); with a peak effect of {true_effect:.4f} on the log ratio it "
                  f"rejected in {100 * rate['alternative']:.1f}%.", study["note"]],
        "seed": SEED,
        "simulated": True,  # every number comes from simulated panels: tables and figures say so
    }


def _power_study(inputs, reps, draws, alpha):
    """econ.montecarlo.power over the number of units and the peak effect; the smallest design reaching the target."""
    grid_units = sorted(int(n) for n in inputs["power_n_units"])
    effects = sorted(float(e) for e in inputs["power_effects"])
    alt, target, n_years = float(inputs["alternative_peak_effect"]), float(inputs["target_power"]), int(
        inputs["n_years"])
    if alt not in effects:
        raise ValueError(f"M2: power_effects {effects} must include alternative_peak_effect {alt}")
    pw = mc.power(mc.staggered, mc.estimators.placebo(n_draws=draws), effects, reps, alpha=alpha, target=target,
                  seed=SEED, backend="local", progress=False, n_units=grid_units, n_years=n_years)
    curve, mde = pw.tidy(), pw.mde().set_index("n_units")
    at_alt = curve[curve["effect"] == alt].set_index("n_units")
    reached = [n for n in grid_units if at_alt.at[n, "power"] >= target]
    best = reached[0] if reached else None
    designs = {str(n): {**_cohort_sizes(n, n_years), "power_at_alternative": float(at_alt.at[n, "power"]),
                        "mc_se": float(at_alt.at[n, "mc_se"]), "mde": _num(mde.at[n, "mde"])}
               for n in grid_units}
    numbers = {
        "replications": reps, "n_years": n_years, "target_power": target, "alternative_peak_effect": alt,
        "effects": effects, "n_units": grid_units, "seed": SEED, "backend": "local",
        "power": {str(n): {f"{e:g}": float(p) for e, p in zip(g["effect"], g["power"])}
                  for n, g in curve.groupby("n_units")},
        "designs": designs,
        "smallest_design_reaching_target": ({"n_units": best, **designs[str(best)]} if best is not None else None),
    }
    table = pd.DataFrame([{"units": n, "never treated": d["never_treated"],
                           "units per cohort (2014/2015/2016)": "/".join(str(v) for v in d["cohort_sizes"].values()),
                           "years": n_years, f"power at peak effect {alt:g}": d["power_at_alternative"],
                           "Monte Carlo s.e.": d["mc_se"], f"MDE (power {target:g})": d["mde"]}
                          for n, d in ((int(k), v) for k, v in designs.items())])
    if best is None:
        note = (f"No design in the grid ({grid_units} units, {n_years} years) reaches power {target:g} at a peak "
                f"effect of {alt:g}.")
    else:
        d = designs[str(best)]
        note = (f"The smallest design in the grid whose placebo test reaches power {target:g} at a peak effect of "
                f"{alt:g} has {best} units ({'/'.join(str(v) for v in d['cohort_sizes'].values())} per cohort, "
                f"{d['never_treated']} never treated) over {n_years} years: power {d['power_at_alternative']:.2f} "
                f"(Monte Carlo s.e. {d['mc_se']:.2f}, {reps} replications); its minimum detectable peak effect is "
                + (f"{d['mde']:.4f}." if d["mde"] is not None else "beyond the grid."))
    fig, _ = pw.plot()
    caption = (f"Simulated power of the placebo test at {alpha:.0%} by number of units ({n_years} years, {reps} "
               f"replications per design and effect, {draws} placebo draws each; econ.montecarlo.power)")
    return {"numbers": numbers, "table": table, "caption": caption, "figure": fig, "note": note}


def _cohort_sizes(n, n_years):
    cohorts = mc.staggered(n_units=n, n_years=n_years, seed=0).data.groupby("unit")["cohort"].first()
    counts = cohorts.value_counts()
    return {"never_treated": int(counts.get(0, 0)),
            "cohort_sizes": {str(c): int(counts.get(c, 0)) for c in COHORTS}}


def _num(x):
    return None if pd.isna(x) else float(x)


def _units(n):
    n_never = n // 2
    per = (n - n_never) // len(COHORTS)
    cohorts = [c for c in COHORTS for _ in range(per)]
    cohorts += [0] * (n - len(cohorts))
    return pd.DataFrame({"unit": np.arange(1, n + 1), "cohort": cohorts})


def _replicate(units, years, params, seed, draws):
    sim = draw_panel(units, years, unit="unit", params=params, seed=seed)
    pl = did.placebo(sim.data, "log_income_ratio", "unit", "year", cohort="cohort", n_draws=draws, seed=seed,
                     progress=False)
    fit = did.twfe(sim.data, "log_income_ratio", "unit", "year", treat="treated")
    return {"estimate": pl.estimate, "p_perm": pl.pvalue, "p_cluster_t": float(fit.pvalue["treated"])}


def _figure(pvalues, alpha):
    fig, ax = plt.subplots(figsize=(5.0, 3.0))
    ax.hist(pvalues, bins=np.linspace(0, 1, 21), color="0.6", edgecolor="white")
    ax.axhline(len(pvalues) / 20, color="crimson", lw=1, ls="--", label="uniform")
    ax.axvline(alpha, color="black", lw=0.8)
    ax.set_xlabel("permutation p-value under the null")
    ax.set_ylabel("replications")
    ax.legend(fontsize=8)
    ax.set_title("Placebo-test p-values when there is no effect", fontsize=9)
    return fig
