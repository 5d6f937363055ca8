"""Survey designs (strata, PSUs, finite-population correction) in feols, att_gt and ddd_gt (issue 20, item 4).

References: R ``survey`` 4.1-1 (``svyglm``, ``svymean``) on its public ``api`` data (California Academic
Performance Index; fixtures and the R script in tests/fixtures/survey), statsmodels WLS with cluster-robust
covariance, and a known-truth simulation (econ.simulate.household_survey with prefecture-year shocks).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import econ
from econ.did import att_gt, ddd_gt
from econ.errors import EconError, SpecificationError, WeightsError
from econ.simulate import household_survey
from econ.survey import SurveyDesign, stratified_meat

FIX = Path(__file__).parent / "fixtures" / "survey"
REF = json.loads((FIX / "survey_reference.json").read_text())
STRAT = pd.read_csv(FIX / "api_strat.csv")
CLUS1 = pd.read_csv(FIX / "api_clus1.csv").rename(columns={"avg.ed": "avg_ed"})
F = "api00 ~ ell + meals + mobility"
TOL = 1e-8

FEOLS_CASES = {
    "strat_fpc": (F, STRAT, {"strata": "stype", "fpc": "fpc"}),
    "strat_nofpc": (F, STRAT, {"strata": "stype"}),
    "strat_fe": (F + " | stype", STRAT, {"strata": "stype", "fpc": "fpc"}),
    "clus1_fpc": (F, CLUS1, {"psu": "dnum", "fpc": "fpc"}),
    "clus1_nofpc": (F, CLUS1, {"psu": "dnum"}),
    "clus1_missing": ("api00 ~ ell + avg_ed", CLUS1, {"psu": "dnum", "fpc": "fpc"}),
    "strat_clus_nest": (F, STRAT, {"strata": "stype", "psu": "dnum", "nest": True}),
    **{f"lonely_{rule}": (F, STRAT, {"strata": "cname", "psu": "dnum", "nest": True, "lonely_psu": rule})
       for rule in ("remove", "certainty", "adjust", "average")},
}


def _r_names(names):
    return ["Intercept" if k == "(Intercept)" else k.replace("avg.ed", "avg_ed") for k in names]


@pytest.mark.parametrize("key", sorted(FEOLS_CASES))
def test_feols_matches_r_svyglm(key):
    formula, data, design = FEOLS_CASES[key]
    ref = REF[key]
    names = [k for k in ref["names"] if not k.startswith("factor(")]  # the stype dummies are absorbed
    if "|" in formula:
        names.remove("(Intercept)")
    fit = econ.feols(formula, data, weights="pw", vcov={"survey": design})
    mine = _r_names(names)
    idx = [ref["names"].index(k) for k in names]
    np.testing.assert_allclose(fit.coef[mine], [ref["coef"][k] for k in names], rtol=TOL)
    np.testing.assert_allclose(fit.vcov.loc[mine, mine], np.asarray(ref["vcov"])[np.ix_(idx, idx)], rtol=TOL,
                               atol=1e-12)
    assert fit.df_t == ref["degf"]  # design degrees of freedom: PSUs - strata
    # the point estimates are the weighted least-squares ones, whatever the design
    plain = econ.feols(formula, data, weights="pw")
    np.testing.assert_allclose(fit.coef, plain.coef, rtol=1e-12)


@pytest.mark.parametrize("key", ["strat_fpc", "clus1_fpc", "lonely_adjust", "lonely_average", "lonely_remove"])
def test_weighted_mean_matches_r_svymean(key):
    _, data, design = FEOLS_CASES[key]
    fit = econ.feols("api00 ~ 1", data, weights="pw", vcov=SurveyDesign(**design))
    ref = REF[key]["svymean"]
    assert fit.coef["Intercept"] == pytest.approx(ref["mean"], rel=TOL)
    assert fit.se["Intercept"] == pytest.approx(np.ravel(ref["se"])[0], rel=TOL)


def test_with_vcov_and_spec_object_agree():
    fit = econ.feols(F, STRAT, weights="pw")
    a = fit.with_vcov({"survey": {"strata": "stype", "psu": "dnum", "nest": True}})
    b = econ.feols(F, STRAT, weights="pw", vcov=SurveyDesign(strata="stype", psu="dnum", nest=True))
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-12)
    np.testing.assert_allclose(a.se, [REF["strat_clus_nest"]["se"][k] for k in REF["strat_clus_nest"]["names"]],
                               rtol=TOL)


def test_fpc_fraction_equals_population_count():
    frac = STRAT.assign(frac=STRAT.groupby("stype")["pw"].transform("size") / STRAT["fpc"])
    a = econ.feols(F, STRAT, weights="pw", vcov={"survey": {"strata": "stype", "fpc": "fpc"}})
    b = econ.feols(F, frac, weights="pw", vcov={"survey": {"strata": "stype", "fpc": "frac"}})
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-12)


def test_statsmodels_wls_cluster():
    """No strata, PSU = cluster, no fpc: the survey meat is statsmodels' cluster meat (the scores sum to zero, so
    centring the PSU totals changes nothing) times ``G/(G-1)``; statsmodels' ``use_correction=True`` multiplies by
    ``G/(G-1) * (n-1)/(n-K)``, so the two differ by exactly ``(n-1)/(n-K)``."""
    sm = pytest.importorskip("statsmodels.api")
    X = sm.add_constant(CLUS1[["ell", "meals", "mobility"]])
    wls = sm.WLS(CLUS1["api00"], X, weights=CLUS1["pw"]).fit(cov_type="cluster",
                                                              cov_kwds={"groups": CLUS1["dnum"]})
    fit = econ.feols(F, CLUS1, weights="pw", vcov={"survey": {"psu": "dnum"}})
    np.testing.assert_allclose(fit.coef.to_numpy(), wls.params.to_numpy(), rtol=1e-10)
    n, k = len(CLUS1), X.shape[1]
    np.testing.assert_allclose(fit.vcov.to_numpy(), wls.cov_params().to_numpy() * (n - k) / (n - 1), rtol=1e-9)
    g = CLUS1["dnum"].nunique()
    raw = sm.WLS(CLUS1["api00"], X, weights=CLUS1["pw"]).fit(
        cov_type="cluster", cov_kwds={"groups": CLUS1["dnum"], "use_correction": False})
    np.testing.assert_allclose(fit.vcov.to_numpy(), raw.cov_params().to_numpy() * g / (g - 1), rtol=1e-9)


# ------------------------------------------------------------------------------------------ staggered estimators
def _api_panel():
    long = pd.concat([STRAT.assign(year=1999, api=STRAT["api99"]), STRAT.assign(year=2000, api=STRAT["api00"])],
                     ignore_index=True)
    return long.assign(g=np.where(long["yr.rnd"].eq("Yes"), 2000, 0))


NEST = {"survey": {"strata": "stype", "psu": "dnum", "nest": True}}


@pytest.mark.parametrize("how", ["panel", "unbalanced", "rcs_rows", "rcs_ids"])
def test_att_gt_matches_r_svyglm(how):
    """A 2-period DiD of year-round schools on the stratified cluster design: ATT(2000, 2000) is the svyglm slope of
    the 1999-2000 change (panel) or the interaction of the stacked rows (repeated cross-sections); R gives the same
    SE both ways because the two rows of a school share its PSU."""
    long = _api_panel()
    kw = dict(weights="pw", vcov=NEST)
    if how == "panel":
        res = att_gt(long, "api", "cds", "year", "g", **kw)
    elif how == "unbalanced":
        res = att_gt(long, "api", "cds", "year", "g", allow_unbalanced_panel=True, **kw)
    elif how == "rcs_rows":
        res = att_gt(long, "api", None, "year", "g", panel=False, **kw)
    else:
        res = att_gt(long.assign(row=np.arange(len(long))), "api", "row", "year", "g", panel=False, **kw)
    ref = REF["did_nest" if how in ("panel", "unbalanced") else "did_rcs_nest"]
    b, se = list(ref["coef"].values())[-1], list(ref["se"].values())[-1]
    tid = res.tidy()
    assert tid["estimate"].iloc[0] == pytest.approx(b, rel=TOL)
    assert tid["std_error"].iloc[0] == pytest.approx(se, rel=TOL)
    simple = res.aggregate("simple")
    assert simple.overall_att == pytest.approx(b, rel=TOL) and simple.overall_se == pytest.approx(se, rel=TOL)
    assert "survey" in res.vcov_type and any("PSUs counted" in n for n in res.notes)


def test_att_gt_survey_psu_unit_equals_unit_cluster_with_small_sample_factor():
    """No strata, every unit its own PSU: the survey variance of the influence functions is the unit-clustered
    one times n/(n-1) (they sum to zero, so centring is moot), in every cell and every aggregation."""
    sim = household_survey(n_prefectures=12, households=6, years=range(2010, 2015), cohorts=(2012, 2013), seed=3)
    d = sim.data
    a = att_gt(d, "log_income", "household", "year", "cohort", weights="weight", covariates="x")
    b = att_gt(d, "log_income", "household", "year", "cohort", weights="weight", covariates="x",
               vcov={"survey": {}})
    n = d["household"].nunique()
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-12)
    np.testing.assert_allclose(b.se, a.se * np.sqrt(n / (n - 1)), rtol=1e-10)
    for kind in ("dynamic", "group", "calendar"):
        np.testing.assert_allclose(b.aggregate(kind).se, a.aggregate(kind).se * np.sqrt(n / (n - 1)), rtol=1e-10)
    pa, pb = a.pretrend_test(), b.pretrend_test()
    assert pb.chi2 == pytest.approx(pa.chi2 * (n - 1) / n, rel=1e-9)
    assert b.pretrend_test(df="cluster").df2 == n - 1  # n PSUs, one stratum


def test_ddd_gt_takes_the_survey_design():
    sim = household_survey(n_prefectures=12, households=6, years=range(2010, 2015), cohorts=(2012, 2013), seed=4)
    d = sim.data.assign(stratum=sim.data["prefecture"] % 3)
    a = ddd_gt(d, "log_income", "household", "year", "cohort", "rural", weights="weight",
               vcov={"CL1": "prefecture"})
    b = ddd_gt(d, "log_income", "household", "year", "cohort", "rural", weights="weight",
               vcov={"survey": {"psu": "prefecture"}})
    c = ddd_gt(d, "log_income", "household", "year", "cohort", "rural", weights="weight",
               vcov={"survey": {"psu": "prefecture", "strata": "stratum"}})
    g = d["prefecture"].nunique()
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-12)
    np.testing.assert_allclose(b.se, a.se * np.sqrt(g / (g - 1)), rtol=1e-10)
    assert not np.allclose(c.se, b.se)  # the strata change the centring


# ------------------------------------------------------------------------------------------ the variance core
def test_stratified_meat_by_hand():
    z = np.array([1.0, 3.0, 2.0, 6.0, 4.0])
    strata, n_h = np.array([0, 0, 1, 1, 2]), np.array([2, 2, 1])
    f = np.array([0.5, 0.0, 0.0])
    # stratum 0: (1-.5) 2/1 (1 + 1) = 2; stratum 1: 2/1 (4 + 4) = 16; stratum 2: single PSU
    assert stratified_meat(z, strata, n_h, f, "remove")[0, 0] == pytest.approx(18.0)
    assert stratified_meat(z, strata, n_h, f, "adjust")[0, 0] == pytest.approx(18.0 + 16.0)
    assert stratified_meat(z, strata, n_h, f, "average")[0, 0] == pytest.approx(18.0 * 3 / 2)
    with pytest.raises(SpecificationError, match="single PSU"):
        stratified_meat(z, strata, n_h, f, "fail")
    assert stratified_meat(z, strata, n_h, np.array([1.0, 1.0, 1.0]), "fail")[0, 0] == 0.0  # census


# ------------------------------------------------------------------------------------------ bad input
def _raises(exc, match, **design):
    with pytest.raises(exc, match=match):
        econ.feols(F, STRAT, weights="pw", vcov={"survey": design})


def test_psu_in_two_strata_names_them():
    with pytest.raises(SpecificationError, match=r"dnum=401 in stype \['E', 'H', 'M'\].*nest=True"):
        econ.feols(F, STRAT, weights="pw", vcov={"survey": {"strata": "stype", "psu": "dnum"}})


def test_single_psu_strata_fail_by_default_naming_them():
    _raises(SpecificationError, r"16 stratum\(s\) have a single sampled PSU.*'Amador'.*lonely_psu", strata="cname",
            psu="dnum", nest=True)


def test_missing_design_values_name_rows():
    bad = STRAT.copy()
    bad.loc[[3, 7], "stype"] = np.nan
    with pytest.raises(SpecificationError, match=r"'stype' has 2 missing value\(s\), first rows \[3, 7\]"):
        econ.feols(F, bad, weights="pw", vcov={"survey": {"strata": "stype"}})
    bad = STRAT.assign(dnum=STRAT["dnum"].where(STRAT.index != 11))
    with pytest.raises(SpecificationError, match=r"'dnum' has 1 missing.*\[11\]"):
        econ.feols(F, bad, weights="pw", vcov={"survey": {"psu": "dnum"}})


def test_bad_weights():
    with pytest.raises(WeightsError, match=r"missing value\(s\) \(first rows \[5\]\)"):
        econ.feols(F, STRAT.assign(pw=STRAT["pw"].where(STRAT.index != 5)), weights="pw",
                   vcov={"survey": {"strata": "stype"}})
    fit = econ.feols(F, STRAT.assign(pw=STRAT["pw"].where(STRAT.index != 5)), weights="pw")  # row 5 dropped
    with pytest.raises(WeightsError, match=r"first rows \[5\]"):
        fit.with_vcov({"survey": {"strata": "stype"}})
    with pytest.raises(EconError, match=r"negative at rows \[2\]"):
        econ.feols(F, STRAT.assign(pw=np.where(STRAT.index == 2, -1.0, STRAT["pw"])), weights="pw",
                   vcov={"survey": {"strata": "stype"}})
    long = _api_panel()
    with pytest.raises(WeightsError, match="missing"):
        att_gt(long.assign(pw=long["pw"].where(long.index != 9)), "api", "cds", "year", "g", weights="pw", vcov=NEST)
    with pytest.raises(SpecificationError, match="weights="):
        econ.feols(F, STRAT, weights="pw", vcov={"survey": {"strata": "stype", "weights": "pw"}})


def test_bad_fpc():
    _raises(SpecificationError, r"smaller than the number of sampled PSUs.*'E': fpc 10 < 100", strata="stype",
            fpc=10)
    _raises(SpecificationError, r"constant within stratum.*\['E', 'H', 'M'\]", strata="stype",
            fpc="mobility")
    mixed = STRAT.assign(f=np.where(STRAT["stype"] == "E", 0.1, STRAT["fpc"]))
    with pytest.raises(SpecificationError, match="mixes sampling fractions"):
        econ.feols(F, mixed, weights="pw", vcov={"survey": {"strata": "stype", "fpc": "f"}})
    with pytest.raises(SpecificationError, match="positive number"):
        SurveyDesign(fpc=-3)
    with pytest.raises(SpecificationError, match="lonely_psu"):
        SurveyDesign(lonely_psu="drop")
    with pytest.raises(SpecificationError, match="unknown survey option"):
        econ.feols(F, STRAT, vcov={"survey": {"stratum": "stype"}})


def test_att_gt_design_checks():
    long = _api_panel()
    bad = long.copy()
    bad.loc[5, "dnum"] = 99999
    with pytest.raises(SpecificationError, match="'dnum' must be constant within cds"):
        att_gt(bad, "api", "cds", "year", "g", weights="pw", vcov=NEST)
    with pytest.raises(SpecificationError, match="analytic"):
        att_gt(long, "api", "cds", "year", "g", weights="pw", vcov=NEST, n_draws=99)
    with pytest.raises(SpecificationError, match="not both"):
        att_gt(long, "api", "cds", "year", "g", weights="pw", vcov=NEST, cluster="dnum")
    before = long.copy()
    att_gt(long, "api", "cds", "year", "g", weights="pw", vcov=NEST)
    pd.testing.assert_frame_equal(long, before)  # never mutated


# ------------------------------------------------------------------------------------------ known truth
def test_known_truth_coverage():
    """150 household surveys (30 prefectures = PSUs in 3 strata, 8 sampled households each, rural households
    over-sampled 2x, prefecture-by-year shocks s.d. 0.1, one cohort designated in 2012); the effect 0.2 reaches
    rural households only, so the population ATT(2012, 2012) is 0.2 x 0.5 (the rural population share) = 0.1.

    Monte Carlo errors (R = 150): bias s.e. = sd / sqrt(R) ~ 0.0045; coverage s.e. sqrt(.95 .05 / R) = 0.0178, so
    a 3-s.e. window is [0.897, 1]. Checked: the weighted estimate is unbiased (the unweighted one targets
    0.2 x 2/3, off by 0.033: test_unweighted_is_biased); the survey standard error matches the sampling sd within
    15% (its MC error ~6%) and covers at the nominal rate, while the unit-clustered one, ignoring the PSUs,
    covers ~0.7.
    """
    R, truth, z = 150, 0.1, 1.959963984540054
    est, se, se_unit = np.empty(R), np.empty(R), np.empty(R)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(R):
            d = household_survey(n_prefectures=30, households=8, years=range(2010, 2013), cohorts=(2012,),
                                 never_share=0.5, cohort_trend=0.0, effect=0.2, growth=0.0, sigma=0.1,
                                 year_shock=0.1, seed=r).data
            d["stratum"] = d["prefecture"] % 3
            res = att_gt(d, "log_income", "household", "year", "cohort", weights="weight",
                         vcov={"survey": {"strata": "stratum", "psu": "prefecture"}})
            est[r], se[r] = res.coef["g2012_t2012"], res.se["g2012_t2012"]
            psi = res.inf_func[:, list(res.coef.index).index("g2012_t2012")]
            se_unit[r] = np.sqrt(psi @ psi) / len(psi)
    mc = est.std(ddof=1) / np.sqrt(R)
    assert abs(est.mean() - truth) < 3 * mc
    assert se.mean() / est.std(ddof=1) == pytest.approx(1.0, abs=0.15)
    cover = np.mean(np.abs(est - truth) <= z * se)
    assert abs(cover - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / R)
    assert np.mean(np.abs(est - truth) <= z * se_unit) < 0.87


def test_unweighted_is_biased():
    """One large survey (600 prefectures, no prefecture-year shocks): the weighted ATT is within 3 s.e. of the
    population's 0.1, the unweighted one within 3 s.e. of the sample's 0.133 (rural households are over-sampled 2x)
    and more than 3 s.e. away from 0.1."""
    d = household_survey(n_prefectures=600, households=8, years=range(2010, 2013), cohorts=(2012,), never_share=0.5,
                         cohort_trend=0.0, effect=0.2, growth=0.0, sigma=0.1, seed=7).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = att_gt(d, "log_income", "household", "year", "cohort", weights="weight",
                   vcov={"survey": {"psu": "prefecture"}})
        u = att_gt(d, "log_income", "household", "year", "cohort", vcov={"CL1": "prefecture"})
    assert abs(w.coef["g2012_t2012"] - 0.1) < 3 * w.se["g2012_t2012"]
    assert abs(u.coef["g2012_t2012"] - 0.2 * 2 / 3) < 3 * u.se["g2012_t2012"]
    assert u.coef["g2012_t2012"] - 0.1 > 3 * u.se["g2012_t2012"]
