"""Pre-trend Wald tests: generalized inverse when the covariance is singular (against statsmodels' ``wald_test``,
which uses the Moore-Penrose inverse and the rank as degrees of freedom), and the F form's denominator
(``df="resid"``, fixest; ``df="cluster"``, G - 1 as Stata), printed in every summary."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from econ import datasets
from econ.did import att_gt, event_study, imputation
from econ.errors import SpecificationError
from econ.results import wald


@pytest.fixture(scope="module")
def mpdta():
    return datasets.load("mpdta")


def _statsmodels_wald(b, v, R, use_f=False, df_resid=None):
    import statsmodels.api as sm
    from statsmodels.base.model import LikelihoodModelResults

    k = len(b)  # a model only to carry k parameter names; params and covariance are ours
    model = sm.OLS(np.zeros(k + 1), np.eye(k + 1, k))
    res = LikelihoodModelResults(model, np.asarray(b, float), normalized_cov_params=np.asarray(v, float), scale=1.0)
    if df_resid is not None:
        res.df_resid = df_resid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return res.wald_test(R, use_f=use_f, scalar=True)


def _one_unit_cohorts(mpdta):
    """mpdta with one county each in the 2006 and 2007 cohorts: their pre-period ATT(g,t) have the same
    influence functions at equal t (a one-unit cohort contributes no treated-side deviation), so the covariance of
    the five pre-period cells has rank 3 -- the failure R did reports as 'singular covariance matrix' (castle
    doctrine: 21 treated states in five cohorts, several of one or two states)."""
    ct = mpdta.groupby("countyreal")["first.treat"].first()
    keep = list(ct[ct.isin([0, 2004])].index) + [ct[ct == 2006].index[0], ct[ct == 2007].index[0]]
    return mpdta[mpdta["countyreal"].isin(keep)]


def test_att_gt_pretrend_generalized_inverse_matches_statsmodels(mpdta):
    from econ.did.staggered._cs_result import analytic_vcov

    res = att_gt(_one_unit_cohorts(mpdta), "lemp", "countyreal", "year", "first.treat")
    test = res.pretrend_test()
    pre = np.flatnonzero(~res.cells["post"].to_numpy())
    v = analytic_vcov(res.inf_func, None)
    R = np.eye(len(res.cells))[pre]
    assert np.linalg.matrix_rank(R @ v @ R.T) == 3 < len(pre) == 5
    ref = _statsmodels_wald(res.coef.to_numpy(), v, R)
    assert test.df == int(ref.df_denom) == 3
    assert test.chi2 == pytest.approx(float(ref.statistic), rel=1e-9)
    assert test.pvalue_chi2 == pytest.approx(float(ref.pvalue), rel=1e-9)
    assert "singular (rank 3)" in test.note and "Moore-Penrose" in test.summary()
    # a full-rank covariance keeps the ordinary inverse, no note (R did's statistic)
    full = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat").pretrend_test()
    assert full.note == "" and full.df == 5


def test_wald_singular_option(mpdta):
    b, v = np.array([1.0, 2.0, 3.0]), np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    with pytest.raises(SpecificationError, match="redundant"):
        wald(b, v, np.eye(3), np.inf, "all = 0")
    test = wald(b, v, np.eye(3), 50, "all = 0", singular="pinv")
    ref = _statsmodels_wald(b, v, np.eye(3), use_f=True, df_resid=50)
    assert test.df == 2 and test.F == pytest.approx(float(ref.fvalue), rel=1e-10)
    assert test.pvalue_F == pytest.approx(float(ref.pvalue), rel=1e-10)
    with pytest.raises(SpecificationError, match="zero variance"):
        wald(b, np.zeros((3, 3)), np.eye(3), np.inf, "all = 0", singular="pinv")


def test_att_gt_pretrend_df_cluster(mpdta):
    df = mpdta.assign(state=mpdta["countyreal"] // 1000)
    res = att_gt(df, "lemp", "countyreal", "year", "first.treat", cluster="state")
    chi = res.pretrend_test()
    f = res.pretrend_test(df="cluster")
    assert np.isinf(chi.df2) and "asymptotic" in chi.summary()
    assert f.df2 == 28 and "G - 1 = 28" in f.summary()
    assert f.pvalue_F == pytest.approx(stats.f.sf(f.chi2 / f.df, f.df, 28))
    with pytest.raises(SpecificationError, match="residual"):
        res.pretrend_test(df="resid")


def test_event_study_pretrend_df_choice(mpdta):
    es = event_study(mpdta, "lemp", "countyreal", "year", "first.treat", vcov={"CL1": "countyreal"})
    resid, cl = es.pretrend_test(), es.pretrend_test(df="cluster")
    assert resid.df2 == es.df_resid and "residual df (fixest)" in resid.summary()
    assert cl.df2 == 499 and "G - 1 = 499 clusters (Stata)" in cl.summary()
    assert cl.chi2 == resid.chi2
    assert cl.pvalue_F == pytest.approx(stats.f.sf(cl.F, cl.df, 499), rel=1e-12)
    assert "residual df (fixest)" in es.summary()  # the summary states the choice
    hetero = event_study(mpdta, "lemp", "countyreal", "year", "first.treat", vcov="hetero")
    with pytest.raises(SpecificationError, match="not clustered"):
        hetero.pretrend_test(df="cluster")
    with pytest.raises(SpecificationError, match="df must be"):
        es.pretrend_test(df="G-1")
    # Result.wald_test takes the same choice
    assert es.wald_test("rel_m2 = 0", df="cluster").df2 == 499


def test_imputation_pretrend_df_choice(mpdta):
    res = imputation(mpdta.rename(columns={"first.treat": "first_treat"}), "lemp", "countyreal", "year",
                     "first_treat", pretrends=2)
    r = res.pretrend_result
    assert res.pretrend_test().df2 == r.df_resid
    assert res.pretrend_test(df="cluster").df2 == r.df_t == r.n_clusters - 1  # the fit's G - 1
    assert "[df2: residual df (fixest)]" in res.summary()
