"""Independent reference implementations for the DiD functions that had none: placebo (a pyfixest refit loop over
the same permutations), channels (pyfixest), psm_did's final DiD (statsmodels WLS on the matched sample), the
subgroups equality Wald test (pyfixest's wald_test on the same pooled model) and sup_t_critical (simulation).

Peers are test extras: imported, never skipped."""

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm
from scipy import stats

from econ.did import EventStudyResult, channels, placebo, psm_did, subgroups


def panel(n_units=60, years=range(2009, 2018), seed=0, unbalanced=False):
    rng = np.random.default_rng(seed)
    years = np.asarray(list(years))
    cohort = np.where(rng.uniform(size=n_units) < 0.6, rng.choice([2012, 2014, 2016], n_units), 0)
    df = pd.DataFrame({"city": np.repeat(np.arange(n_units), len(years)), "year": np.tile(years, n_units)})
    df["cohort"] = cohort[df["city"]]
    df["treat"] = ((df["cohort"] > 0) & (df["year"] >= df["cohort"])).astype(int)
    df["region"] = np.where(df["city"] % 3 == 0, "west", "east")
    df["x"] = rng.normal(size=len(df)) + 0.3 * df["treat"]
    df["y"] = (np.where(df["region"] == "east", 0.6, 0.1) * df["treat"] + 0.4 * df["x"]
               + rng.normal(size=n_units)[df["city"]] + 0.05 * (df["year"] - years[0]) + rng.normal(size=len(df)))
    df["m1"] = 0.5 * df["treat"] + rng.normal(size=n_units)[df["city"]] + rng.normal(scale=0.5, size=len(df))
    df["m2"] = rng.normal(size=len(df))
    if unbalanced:
        df = df.drop(index=rng.choice(len(df), len(df) // 10, replace=False)).reset_index(drop=True)
    return df


@pytest.mark.parametrize("unbalanced", [False, True])
def test_placebo_equals_pyfixest_refit_loop(unbalanced):
    df = panel(seed=1, unbalanced=unbalanced)
    res = placebo(df, "y", "city", "year", cohort="cohort", n_draws=30, seed=4, covariates=["x"], progress=False)
    actual = pf.feols("y ~ treat + x | city + year", data=df).coef()["treat"]
    assert res.estimate == pytest.approx(actual, rel=1e-9)
    refits = []
    for b in range(0, 30, 3):  # the same permutations, refitted one by one
        cohort = pd.Series(res.assignments[b], index=res.units)
        start = df["city"].map(cohort).fillna(np.inf)
        refits.append(pf.feols("y ~ dp + x | city + year", data=df.assign(dp=(df["year"] >= start) * 1.0)).coef()["dp"])
    np.testing.assert_allclose(res.draws[::3], refits, rtol=1e-8)
    expected = (1 + np.sum(np.abs(res.draws) >= abs(res.estimate) * (1 - 1e-10))) / (1 + 30)
    assert res.pvalue == pytest.approx(expected)


def test_channels_equal_pyfixest_per_variable():
    df = panel(seed=2)
    res = channels(df, "y", "city", "year", "treat", mediators=["m1", "m2"], covariates=["x"])
    for v in ("y", "m1", "m2"):
        ref = pf.feols(f"{v} ~ treat + x | city + year", data=df, vcov={"CRV1": "city"})
        assert res.table.loc[v, "estimate"] == pytest.approx(ref.coef()["treat"], rel=1e-10)
        assert res.table.loc[v, "se"] == pytest.approx(ref.se()["treat"], rel=1e-8)
        assert res.table.loc[v, "pvalue"] == pytest.approx(ref.pvalue()["treat"], rel=1e-6)
    assert res.table.loc["m1", "ci_low"] < 0.5 < res.table.loc["m1", "ci_high"]


@pytest.mark.parametrize("vcov, cov_type", [("iid", "nonrobust"), ("hetero", "HC1")])
def test_psm_did_final_regression_equals_statsmodels_wls(vcov, cov_type):
    rng = np.random.default_rng(3)
    n, years = 100, np.arange(2010, 2016)
    x1 = rng.normal(size=n)
    d = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x1 - 0.5)))).astype(int)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), len(years)), "year": np.tile(years, n)})
    df["d"], df["x1"] = d[df["id"]], x1[df["id"]] + rng.normal(scale=0.1, size=len(df))
    df["post"] = (df["year"] >= 2013).astype(int)
    df["y"] = df["d"] * df["post"] + 0.5 * x1[df["id"]] * df["post"] + rng.normal(size=len(df))
    res = psm_did(df, "y", "id", "year", "d", "post", ["x1"], k=2, vcov=vcov)
    # independent: statsmodels WLS with unit and year dummies on the matched units' rows, matching weights
    sample = df.loc[df["id"].isin(res.weights.index)].reset_index(drop=True)
    X = pd.get_dummies(sample[["id", "year"]].astype(str), drop_first=False).astype(float)
    X = X.drop(columns=[X.columns[-1]])  # one year dummy less: the unit dummies span the constant
    X.insert(0, "did", (sample["d"] * sample["post"]).astype(float))
    ref = sm.WLS(sample["y"], X, weights=sample["id"].map(res.weights)).fit(cov_type=cov_type)
    assert res.coef[res.term] == pytest.approx(ref.params["did"], rel=1e-8)
    assert res.se[res.term] == pytest.approx(ref.bse["did"], rel=1e-6)
    assert res.nobs == len(sample)


def test_subgroups_equality_wald_equals_pyfixest():
    df = panel(seed=5, n_units=90)
    res = subgroups(df, "y", "city", "year", "treat", by="region", covariates=["x"])
    # the same pooled model built by hand, fitted and tested by pyfixest
    data = df.assign(**{f"{c}_{g}": df[c] * (df["region"] == g) for c in ("treat", "x") for g in ("east", "west")})
    fit = pf.feols("y ~ treat_east + treat_west + x_east + x_west | city + year^region", data=data,
                   vcov={"CRV1": "city"})
    R = np.zeros((1, 4))
    R[0, :2] = [-1, 1]
    ref = fit.wald_test(R=R)
    assert res.equality_test.F == pytest.approx(float(ref["statistic"]), rel=1e-6)
    # the F p-value uses the pooled model's t degrees of freedom, G - 1 with clustered errors (the rule of the
    # per-group rows and of Stata's test); pyfixest switches this test to a chi-square law, so the df is G - 1 here
    G = df["city"].nunique()
    assert res.equality_test.df2 == G - 1
    assert res.equality_test.pvalue_F == pytest.approx(stats.f.sf(float(ref["statistic"]), 1, G - 1), rel=1e-6)
    for g in ("east", "west"):
        sep = pf.feols("y ~ treat + x | city + year", data=df.loc[df["region"] == g], vcov={"CRV1": "city"})
        assert res.table.loc[g, "estimate"] == pytest.approx(sep.coef()["treat"], rel=1e-10)
        assert res.table.loc[g, "se"] == pytest.approx(sep.se()["treat"], rel=1e-8)


@pytest.mark.parametrize("df_t", [np.inf, 12.0])
def test_sup_t_critical_value_has_its_coverage_in_an_independent_simulation(df_t):
    """Correlated (AR(1), rho = 0.7) event-time coefficients: the simultaneous coverage of +/- crit * se, checked
    with draws from scipy's multivariate normal / t (another generator, another seed), is the nominal level."""
    m, rho = 6, 0.7
    corr = rho ** np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
    sd = np.linspace(0.5, 1.5, m)
    terms = [f"rel_p{k}" for k in range(1, m + 1)]
    res = EventStudyResult(pd.Series(np.zeros(m), index=terms), corr * np.outer(sd, sd), nobs=500, df_resid=400,
                           df_t=df_t, event_times=list(range(1, m + 1)), ref=-1, seed=11)
    crit = res.sup_t_critical(0.95, n_sim=100_000)
    if np.isfinite(df_t):
        z = stats.multivariate_t(shape=corr, df=df_t, seed=2024).rvs(200_000)
    else:
        z = stats.multivariate_normal(cov=corr, seed=2024).rvs(200_000)
    coverage = np.mean(np.abs(z).max(axis=1) <= crit)
    assert coverage == pytest.approx(0.95, abs=4 * np.sqrt(0.95 * 0.05 / 200_000) + 0.002)
    pointwise = stats.norm.ppf(0.975) if not np.isfinite(df_t) else stats.t.ppf(0.975, df_t)
    bonferroni = stats.norm.ppf(1 - 0.025 / m) if not np.isfinite(df_t) else stats.t.ppf(1 - 0.025 / m, df_t)
    assert pointwise < crit < bonferroni
