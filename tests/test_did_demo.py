"""Issue acceptance: on the bundled demonstration panel, TWFE and the event study recover the planted truth."""

import numpy as np
import pytest

import econ

Y, UNIT, TIME = "log_income_ratio", "prefecture_code", "year"


@pytest.fixture(scope="module")
def demo():
    return econ.datasets.load("china_cities_demo"), econ.datasets.truth("china_cities_demo")


def test_twfe_recovers_overall_att_within_ci(demo):
    panel, truth = demo
    fit = econ.did.twfe(panel, Y, UNIT, TIME, treat="treated")
    low, high = fit.confint(0.95).loc["treated"]
    assert low < truth["att_overall"] < high
    assert fit.coef["treated"] < 0  # the planted effect narrows the gap


def test_event_study_recovers_each_event_time_within_uniform_band(demo):
    panel, truth = demo
    es = econ.did.event_study(panel, Y, UNIT, TIME, "cohort", window=(-4, 4), seed=0)
    crit = es.sup_t_critical()
    for term, k in _terms(es):
        est, se = es.coef[term], es.se[term]
        true = 0.0 if k < 0 else truth["att_by_event_time"][k] if k < 4 else _binned(truth, k)
        assert abs(est - true) <= crit * se, (term, est, true, se)
    assert es.pretrend_test().pvalue_F > 0.05  # no pre-trend was planted


def test_placebo_rejects_planted_effect_and_keeps_cohort_sizes(demo):
    panel, _ = demo
    pl = econ.did.placebo(panel, Y, UNIT, TIME, cohort="cohort", n_draws=199, seed=3, progress=False)
    assert pl.pvalue == pytest.approx(1 / 200)
    sizes = panel.groupby(UNIT).cohort.first().value_counts().drop(0).sort_index()
    draw = np.asarray(pl.assignments)[0]
    drawn = np.unique(draw[~np.isnan(draw)], return_counts=True)
    assert list(drawn[1]) == list(sizes.to_numpy())


def _terms(es):
    """(term, event time) pairs: rel_m4 -> -4, rel_0 -> 0, rel_p2 -> 2."""
    for term in es.coef.index:
        code = term.removeprefix("rel_")
        yield term, -int(code[1:]) if code[0] == "m" else int(code.lstrip("p"))


def _binned(truth, k):
    # the last bin pools event times >= k; its estimand is the treated-observation-weighted mean ATT there
    rows = [r for r in truth["att_gt"] if r["event_time"] >= k]
    w = np.array([r["n_units"] for r in rows], float)
    return float(np.average([r["att"] for r in rows], weights=w))
