"""Known-truth Monte Carlo for the household survey design (:func:`econ.simulate.household_survey`).

Three studies, each a fixed set of seeds (deterministic), every ATT(g, t) cell (pre-treatment cells have truth 0,
post-treatment cells ``tau(e) = 0.05 + 0.02 e``) pooled over replications:

* ``ddd_gt(panel=False)``, doubly robust with the covariate, on repeated cross-sections (fresh households every
  year) with a designated-prefecture trend (``cohort_trend=0.01``) that the triple difference removes;
* ``att_gt(panel=False)`` on the rural households of repeated cross-sections (no cohort trend);
* ``att_gt(allow_unbalanced_panel=True)`` on the rural households of the unbalanced-panel rotation (each
  household-year answered with probability 0.75).

Monte Carlo error: replications are independent, cells within a replication are not, so each statistic's Monte
Carlo standard error is the standard deviation of its per-replication value over sqrt(R): the bias (mean of
estimate - truth over a replication's cells) and the coverage (share of a replication's 95% intervals that cover
the truth). Each is asserted within 3 Monte Carlo standard errors of 0 (bias) and 0.95 (coverage), and the Monte
Carlo standard errors themselves are asserted below stated bounds (``mc_bias``, ``mc_coverage``: 0.005 and 0.015
for att_gt with 30 replications; 0.016 and 0.035 for the noisier triple difference on cross-sections, 20
replications) so that the checks bite: 20% too small standard errors take a 95% interval's coverage to about 0.89.
A longer run (80 replications, not in the suite) of the ddd_gt study gave bias -0.006 (MC s.e. 0.005), coverage
0.935 (0.009) and mean squared standardized error 1.07 (0.06). The three studies take about 13 s on one core.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from econ.did import att_gt, ddd_gt
from econ.simulate import household_survey

Z = 1.959963984540054


def _ddd_rcs(seed):
    sim = household_survey(n_prefectures=24, households=15, design="rcs", cohort_trend=0.01, seed=seed)
    return sim, ddd_gt(sim.data, "log_income", "household", "year", "cohort", "rural", covariates="x",
                       panel=False)


def _att_rcs(seed):
    sim = household_survey(n_prefectures=24, households=15, design="rcs", cohort_trend=0.0, seed=seed)
    rural = sim.data[sim.data["rural"] == 1]
    return sim, att_gt(rural, "log_income", "household", "year", "cohort", panel=False)


def _att_unbalanced(seed):
    sim = household_survey(n_prefectures=24, households=15, design="unbalanced", cohort_trend=0.0, seed=seed)
    rural = sim.data[sim.data["rural"] == 1]
    return sim, att_gt(rural, "log_income", "household", "year", "cohort", allow_unbalanced_panel=True)


def _study(fit, reps: int) -> pd.DataFrame:
    """Per-replication bias and coverage over every estimated ATT(g, t) cell."""
    rows = []
    for seed in range(reps):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sim, res = fit(1000 + seed)
        truth = pd.DataFrame(sim.truth["att_gt"]).rename(columns={"year": "time"})[["cohort", "time", "att"]]
        cells = res.tidy().merge(truth, on=["cohort", "time"], how="left").fillna({"att": 0.0})
        cells = cells[np.isfinite(cells["std_error"])]
        err = cells["estimate"] - cells["att"]
        rows.append({"bias": err.mean(), "coverage": (np.abs(err) <= Z * cells["std_error"]).mean(),
                     "n_cells": len(cells), "z_var": np.mean((err / cells["std_error"]) ** 2)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("fit, reps, mc_bias, mc_coverage", [(_ddd_rcs, 20, 0.016, 0.035),
                                                             (_att_rcs, 30, 0.005, 0.015),
                                                             (_att_unbalanced, 30, 0.005, 0.015)],
                         ids=["ddd_gt-rcs", "att_gt-rcs", "att_gt-unbalanced"])
def test_bias_near_zero_and_coverage_near_nominal(fit, reps, mc_bias, mc_coverage):
    out = _study(fit, reps)
    assert (out["n_cells"] == 21).all()  # 3 cohorts x 7 periods (varying base period)
    mc = out[["bias", "coverage", "z_var"]].std(ddof=1) / np.sqrt(reps)
    assert mc["bias"] < mc_bias and mc["coverage"] < mc_coverage  # the stated Monte Carlo error
    assert abs(out["bias"].mean()) < 3 * mc["bias"]
    assert abs(out["coverage"].mean() - 0.95) < 3 * mc["coverage"]
    # the standardized errors have variance ~1: the standard errors are neither too small nor too large
    assert abs(out["z_var"].mean() - 1) < max(3 * mc["z_var"], 0.15)
