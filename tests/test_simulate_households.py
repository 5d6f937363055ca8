"""The simulated household survey (econ.simulate.household_survey): its designs, and the known truth recovered by
the household triple difference (panel) and by att_gt on repeated cross-sections / unbalanced panels."""

import numpy as np
import pytest

from econ.did import att_gt, ddd_gt
from econ.errors import SpecificationError
from econ.simulate import household_survey

pytestmark = pytest.mark.filterwarnings("ignore")


def test_designs():
    panel = household_survey(n_prefectures=12, households=10, seed=1).data
    assert len(panel) == 12 * 10 * 8 and panel.groupby("household")["weight"].nunique().max() == 1
    unb = household_survey(n_prefectures=12, households=10, design="unbalanced", seed=1).data
    assert len(unb) < len(panel) and unb["household"].nunique() <= 120
    rcs = household_survey(n_prefectures=12, households=10, design="rcs", seed=1).data
    assert rcs["household"].is_unique and len(rcs) == len(panel)
    assert rcs["weight"][rcs["rural"] == 1].iloc[0] < rcs["weight"][rcs["rural"] == 0].iloc[0]  # over-sampled
    with pytest.raises(SpecificationError):
        household_survey(design="rotating")
    with pytest.raises(SpecificationError):
        household_survey(cohorts=(2009,))


def test_triple_difference_is_unbiased_and_rural_did_is_not():
    """Monte Carlo (10 draws): the DDD's mean event-study average is within 3 Monte Carlo standard errors of the
    truth; a DiD on rural households alone absorbs the designated prefectures' extra trend."""
    ests, ses, dids = [], [], []
    for seed in range(10):
        sim = household_survey(n_prefectures=30, households=20, seed=seed)
        res = ddd_gt(sim.data, "log_income", "household", "year", "cohort", "rural", covariates="x",
                     weights="weight")
        dyn = res.aggregate("dynamic")
        ests.append(dyn.overall_att)
        ses.append(dyn.overall_se)
        rural = sim.data[sim.data["rural"] == 1]
        dids.append(att_gt(rural, "log_income", "household", "year", "cohort", covariates="x",
                           weights="weight").aggregate("dynamic").overall_att)
    truth = float(sim.true_att("event_time")[lambda s: s.index >= 0].mean())
    mc_se = np.std(ests, ddof=1) / np.sqrt(len(ests))
    assert abs(np.mean(ests) - truth) < 3 * mc_se
    assert np.mean(ses) == pytest.approx(np.std(ests, ddof=1), rel=0.5)  # analytic SEs track the spread
    assert np.mean(dids) - truth > 5 * mc_se  # the DiD is biased by the cohort trend


@pytest.mark.parametrize("design, kw", [("rcs", dict(panel=False)), ("unbalanced", dict(allow_unbalanced_panel=True))])
def test_rcs_and_unbalanced_recover_truth(design, kw):
    sim = household_survey(design=design, cohort_trend=0.0, seed=4)
    rural = sim.data[sim.data["rural"] == 1]
    res = att_gt(rural, "log_income", "household", "year", "cohort", covariates="x", weights="weight", **kw)
    dyn = res.aggregate("dynamic")
    truth = float(sim.true_att("event_time")[lambda s: s.index >= 0].mean())
    assert abs(dyn.overall_att - truth) < 3.5 * dyn.overall_se
    assert any(design.replace("rcs", "repeated cross-sections").replace("unbalanced", "unbalanced panel") in n
               for n in res.notes)


def test_clustered_bootstrap_on_cross_sections_and_unbalanced_panels():
    sim = household_survey(n_prefectures=20, households=20, design="rcs", seed=1).data
    rural = sim[sim["rural"] == 1]
    res = att_gt(rural, "log_income", "household", "year", "cohort", panel=False, vcov={"CL1": "prefecture"},
                 n_draws=99)
    assert res.n_clusters == 20 and "band_low" in res.aggregate("dynamic").tidy()
    unb = household_survey(n_prefectures=20, households=20, design="unbalanced", seed=1).data
    res = att_gt(unb[unb["rural"] == 1], "log_income", "household", "year", "cohort", allow_unbalanced_panel=True,
                 vcov={"CL1": "prefecture"})
    assert res.n_clusters == 20 and np.isfinite(res.aggregate("group").overall_se)
