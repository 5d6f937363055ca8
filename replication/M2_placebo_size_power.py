"""M2: the permutation (placebo) test of the TWFE DiD estimate has the right size and useful power.

A seeded Monte Carlo on small simulated staggered designs (``econ.simulate.draw_panel``): ``n_units`` units, half
never treated and the rest split evenly over cohorts 2014/2015/2016, observed for ``n_years`` years from 2010;
AR(1) errors; no spillover. Under the null every cohort's effect is zero; under the alternative each cohort's peak
effect on log rural income is ``alternative_peak_effect`` (ramping up over three years). In every replication
``econ.did.placebo`` (kind ``permute_units``, ``placebo_draws`` draws) gives the two-sided permutation p-value;
the test rejects when p <= alpha. The cluster-robust t-test of the same TWFE coefficient is recorded alongside.

Under the null, treatment assignment is exchangeable across units given the unit effects, so the permutation test
is exact: its rejection rate should be alpha up to Monte Carlo error (s.e. sqrt(alpha (1 - alpha) / R)).
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from econ import did  # noqa: E402
from econ.simulate import DesignParams, draw_panel  # noqa: E402

COHORTS = (2014, 2015, 2016)
FIRST_YEAR = 2010
SEED = 2


def run(data=None, out_dir=None, inputs=None, replications=None):
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
    return {
        "values": {"size": rate["null"], "power": rate["alternative"]},
        "numbers": numbers,
        "tables": {"size_power": (table, f"Rejection rates at {alpha:.0%} over {reps} simulated panels "
                                         f"({len(units)} units x {len(years)} years, {draws} placebo draws each)")},
        "figures": {"null_pvalues": (_figure(results["null"]["p_perm"], alpha),
                                     "Permutation p-values under the null (uniform if the test is exact)")},
        "notes": [f"Under the null the permutation test rejected in {100 * rate['null']:.1f}% of {reps} samples "
                  f"(Monte Carlo s.e. {100 * mc_se['null']:.1f} points; the cluster-robust t-test "
                  f"{100 * rate_t['null']:.1f}%); with a peak effect of {true_effect:.4f} on the log ratio it "
                  f"rejected in {100 * rate['alternative']:.1f}%."],
        "seed": SEED,
        "simulated": True,  # every number comes from simulated panels: tables and figures say so
    }


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
    fit = did.twfe(sim.data, "log_income_ratio", "unit", "year", "treated")
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
