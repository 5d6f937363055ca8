"""Heterogeneity-robust staggered DiD: Goodman-Bacon, Sun-Abraham, imputation (BJS) against peers and truth."""

from functools import cache

import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.did import bacon, imputation, sun_abraham
from econ.errors import PanelError, SpecificationError, TreatmentError

DEMO = ("log_income_ratio", "prefecture_code", "year", "cohort")


@cache
def _mpdta() -> pd.DataFrame:
    from econ import datasets  # R did's mpdta, bundled (data/PROVENANCE.md)

    return datasets.load("mpdta").rename(columns={"first.treat": "first_treat"})


@pytest.fixture
def mpdta():
    return _mpdta().copy()


@pytest.fixture(scope="module")
def demo():
    return datasets.load("china_cities_demo")


@pytest.fixture(scope="module")
def truth():
    return datasets.truth("china_cities_demo")


# ---------------------------------------------------------------------------------------------- Bacon
def test_bacon_matches_diff_diff_on_mpdta(mpdta):
    from diff_diff import BaconDecomposition

    ours = bacon(mpdta, "lemp", "countyreal", "year", "first_treat")
    peer = BaconDecomposition().fit(mpdta, outcome="lemp", unit="countyreal", time="year", first_treat="first_treat")
    kinds = {"treated_vs_never": "treated vs never", "earlier_vs_later": "earlier vs later",
             "later_vs_earlier": "later vs earlier"}
    theirs = pd.DataFrame([{"type": kinds[c.comparison_type], "treated": int(c.treated_group),
                            "control": "never" if c.comparison_type == "treated_vs_never" else int(c.control_group),
                            "estimate_peer": c.estimate, "weight_peer": c.weight} for c in peer.comparisons])
    merged = ours.tidy().merge(theirs, on=["type", "treated", "control"], validate="one_to_one")
    assert len(merged) == len(theirs) == 9
    np.testing.assert_allclose(merged["estimate"], merged["estimate_peer"], atol=1e-10)
    np.testing.assert_allclose(merged["weight"], merged["weight_peer"], atol=1e-10)
    assert ours.twfe == pytest.approx(peer.twfe_estimate, abs=1e-10)


def test_bacon_identity_on_demo(demo):
    res = bacon(demo, *DEMO)
    tid = res.tidy()
    assert tid["weight"].sum() == pytest.approx(1.0, abs=1e-10)
    assert (tid["weight"] * tid["estimate"]).sum() == pytest.approx(res.twfe, abs=1e-10)
    assert set(tid["type"]) == {"treated vs never", "earlier vs later", "later vs earlier"}
    assert 0 < res.forbidden_share < 0.2
    assert "Goodman-Bacon" in res.summary()
    fig, ax = res.plot()
    assert len(ax.collections) == 3


def test_bacon_refuses_unbalanced(mpdta):
    with pytest.raises(PanelError, match="balanced"):
        bacon(mpdta.iloc[1:], "lemp", "countyreal", "year", "first_treat")


# ---------------------------------------------------------------------------------------------- Sun-Abraham
def test_sun_abraham_cohort_effects_match_pyfixest(mpdta):
    import pyfixest as pf

    res = sun_abraham(mpdta, "lemp", "countyreal", "year", "first_treat", share_uncertainty=False)
    data = mpdta.assign(rel=np.where(mpdta["first_treat"] > 0, mpdta["year"] - mpdta["first_treat"], -1))
    peer = pf.feols("lemp ~ i(rel, first_treat, ref=-1, ref2=0) | countyreal + year", data=data,
                    vcov={"CRV1": "countyreal"})
    b, se = peer.coef(), peer.se()
    for row in res.cohort_table.itertuples():
        name = f"rel::{row.event_time}:first_treat::{row.cohort}"
        assert row.estimate == pytest.approx(b[name], abs=1e-10)
        assert row.std_error == pytest.approx(se[name], rel=1e-8)
    assert len(res.cohort_table) == len(b)


def _pyfixest_saturated_aggregate(df, cluster):
    """pyfixest's saturated (Sun-Abraham) event study of ``lemp`` on ``df``, clustered by ``cluster``: its
    aggregated event-time table (it warns that the estimator is experimental)."""
    import pyfixest as pf

    with pytest.warns(UserWarning):
        peer = pf.event_study(df, "lemp", "countyreal", "year", "first_treat", estimator="saturated",
                              cluster=cluster)
    return peer.aggregate().astype(float)


def test_sun_abraham_aggregation_matches_pyfixest_shares(mpdta):
    fixed = sun_abraham(mpdta, "lemp", "countyreal", "year", "first_treat", share_uncertainty=False)
    agg = _pyfixest_saturated_aggregate(mpdta, "countyreal")
    tid = fixed.tidy().set_index("event_time")
    for e in (0, 1, 2, 3):
        assert tid.loc[e, "estimate"] == pytest.approx(agg.loc[e, "Estimate"], abs=1e-10)
        assert tid.loc[e, "std_error"] == pytest.approx(agg.loc[e, "Std. Error"], rel=1e-8)
    # the cohort-share term can only add variance
    full = sun_abraham(mpdta, "lemp", "countyreal", "year", "first_treat")
    assert (full.se >= fixed.se - 1e-15).all() and (full.se > fixed.se).any()
    assert full.coef.equals(fixed.coef)


def _assert_within_3se_of_truth(res, truth, slack):
    """Every event-time effect within 3 standard errors (+ ``slack``) of the simulated truth, and the overall ATT
    within 3 standard errors."""
    tid = res.tidy().set_index("event_time")
    for e, att in truth["att_by_event_time"].items():
        assert abs(tid.loc[int(e), "estimate"] - att) < 3 * tid.loc[int(e), "std_error"] + slack
    assert abs(res.overall_att - truth["att_overall"]) < 3 * res.overall_se


def test_sun_abraham_recovers_demo_truth(demo, truth):
    res = sun_abraham(demo, *DEMO)
    _assert_within_3se_of_truth(res, truth, slack=0.002)
    cohorts = res.cohort_table.merge(pd.DataFrame(truth["att_gt"]), on=["cohort", "event_time"])
    assert len(cohorts) == len(truth["att_gt"])
    z = (cohorts["estimate"] - cohorts["att"]) / cohorts["std_error"]
    assert (np.abs(z) < 3.5).mean() > 0.9
    assert list(res.tidy()["term"][:2]) == ["rel_m8", "rel_m7"]
    res.plot()


def test_sun_abraham_last_cohort_control_and_errors(mpdta):
    res = sun_abraham(mpdta, "lemp", "countyreal", "year", "first_treat", control="last")
    assert res.cohort_table["cohort"].max() < 2007 and res.cohort_table["event_time"].max() <= 2
    with pytest.raises(SpecificationError, match="control"):
        sun_abraham(mpdta, "lemp", "countyreal", "year", "first_treat", control="notyet")
    with pytest.raises(TreatmentError, match="never-treated"):
        sun_abraham(mpdta[mpdta["first_treat"] > 0], "lemp", "countyreal", "year", "first_treat")


# ---------------------------------------------------------------------------------------------- imputation
@pytest.mark.parametrize("covariate", [False, True])
def test_imputation_matches_diff_diff(mpdta, covariate):
    from diff_diff import ImputationDiD

    data = mpdta.assign(x=mpdta["lpop"] * (mpdta["year"] - 2000) / 10 + np.sin(mpdta["year"]))
    cov = ["x"] if covariate else None
    ours = imputation(data, "lemp", "countyreal", "year", "first_treat", covariates=cov)
    peer = ImputationDiD().fit(data, outcome="lemp", unit="countyreal", time="year", first_treat="first_treat",
                               covariates=cov)
    assert ours.overall_att == pytest.approx(peer.overall_att, abs=1e-9)
    assert ours.overall_se == pytest.approx(peer.overall_se, rel=1e-7)
    es = peer.aggregate("event_study").to_dataframe().set_index("event_time")
    tid = ours.tidy().set_index("event_time")
    for e in range(4):
        assert tid.loc[e, "estimate"] == pytest.approx(es.loc[e, "att"], abs=1e-9)
        assert tid.loc[e, "std_error"] == pytest.approx(es.loc[e, "se"], rel=1e-7)


def test_imputation_pretrend_regression_is_feols_on_untreated(mpdta):
    import pyfixest as pf

    res = imputation(mpdta, "lemp", "countyreal", "year", "first_treat", pretrends=2)
    d = mpdta.assign(rel=mpdta["year"] - mpdta["first_treat"])
    d = d[(d["first_treat"] == 0) | (d["rel"] < 0)].copy()
    d["m1"] = ((d["first_treat"] > 0) & (d["rel"] == -1)).astype(float)
    d["m2"] = ((d["first_treat"] > 0) & (d["rel"] == -2)).astype(float)
    peer = pf.feols("lemp ~ m2 + m1 | countyreal + year", data=d, vcov={"CRV1": "countyreal"})
    pre = res.pretrend_result
    assert pre.coef["rel_m1"] == pytest.approx(peer.coef()["m1"], abs=1e-10)
    assert pre.se["rel_m2"] == pytest.approx(peer.se()["m2"], rel=1e-8)
    test = res.pretrend_test()
    assert test.df == 2 and 0 < test.pvalue < 1
    assert list(res.tidy()["event_time"][:2]) == [-2, -1]


def test_imputation_recovers_demo_truth(demo, truth):
    res = imputation(demo, *DEMO)
    _assert_within_3se_of_truth(res, truth, slack=0.004)
    eff = res.effects.merge(pd.DataFrame(truth["att_gt"]).rename(columns={"year": "year"}),
                            on=["cohort", "year"])
    by_cohort = eff.groupby("cohort")[["tau", "att"]].mean()
    np.testing.assert_allclose(by_cohort["tau"], by_cohort["att"], atol=0.01)
    assert "Overall ATT" in res.summary()


def test_imputation_bad_input(mpdta):
    with pytest.raises(TreatmentError, match="horizon"):
        imputation(mpdta, "lemp", "countyreal", "year", "first_treat", horizons=[9])
    with pytest.raises(SpecificationError, match="pretrends"):
        imputation(mpdta, "lemp", "countyreal", "year", "first_treat", pretrends=0)
    with pytest.raises(SpecificationError, match="pretrend"):
        imputation(mpdta, "lemp", "countyreal", "year", "first_treat").pretrend_test()


def test_sun_abraham_share_variance_clusters_as_vcov(mpdta):
    """vcov clustered by state (units nested in 29 states): the cohort-share term is clustered by state too.
    Checked against the closed form for a balanced panel, psi_i = (delta_{G_i,l} - nu_l) 1[i's cohort is observed
    at l] / mean_j(...), summed within state; share_uncertainty=False is fixest's sunab aggregate (delta method on
    the coefficients only), checked against pyfixest's saturated event study clustered by state."""
    df = mpdta.assign(state=mpdta["countyreal"] // 1000)
    full = sun_abraham(df, "lemp", "countyreal", "year", "first_treat", vcov={"CL1": "state"})
    fixed = sun_abraham(df, "lemp", "countyreal", "year", "first_treat", vcov={"CL1": "state"},
                        share_uncertainty=False)
    agg = _pyfixest_saturated_aggregate(df, "state")
    tid = fixed.tidy().set_index("event_time")
    for e in (0, 1, 2, 3):
        assert tid.loc[e, "std_error"] == pytest.approx(agg.loc[e, "Std. Error"], rel=1e-8)
    units = df.groupby("countyreal")[["first_treat", "state"]].first()
    cells = full.cohort_table
    unit_term = sun_abraham(df, "lemp", "countyreal", "year", "first_treat")
    unit_fixed = sun_abraham(df, "lemp", "countyreal", "year", "first_treat", share_uncertainty=False)
    for e in (0, 1, 2, 3):
        at = cells[cells["event_time"] == e].set_index("cohort")
        observed = units["first_treat"].isin(at.index).to_numpy(float)
        delta = units["first_treat"].map(at["estimate"]).fillna(0.0).to_numpy()
        psi = (delta - full.coef[f"rel_{e}" if e == 0 else f"rel_p{e}"]) * observed / observed.mean()
        by_state = pd.Series(psi).groupby(units["state"].to_numpy()).sum().to_numpy()
        term = f"rel_{e}" if e == 0 else f"rel_p{e}"
        expected = fixed.se[term] ** 2 + (by_state**2).sum() / len(units) ** 2
        assert full.se[term] ** 2 == pytest.approx(expected, rel=1e-10)
        unit_level = unit_term.se[term] ** 2 - unit_fixed.se[term] ** 2
        assert unit_level == pytest.approx((psi**2).sum() / len(units) ** 2, rel=1e-10)
    # the state-clustered share term differs from the unit-level one it replaced
    assert abs(full.overall_se**2 - fixed.overall_se**2) > 1.5 * (unit_term.overall_se**2 - unit_fixed.overall_se**2)
