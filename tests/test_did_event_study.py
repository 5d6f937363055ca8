"""econ.did.event_study: known dynamic effects, agreement with pyfixest, sup-t bands, pre-trend test size/power."""

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from scipy import stats

from econ.did import event_study
from econ.did.classic.event_study import EventStudyResult
from econ.errors import SpecificationError, TreatmentError
from econ.results import Result

YEARS = np.arange(2006, 2020)


def dynamic_panel(n_units=200, cohorts=(2011, 2013, 2015), share_never=0.4, pretrend=0.0, sigma=0.5, seed=0,
                  years=YEARS):
    """Effect by relative time k: 0 before treatment, 0.2 (k + 1) for k = 0..3, flat 1.0 from k >= 4 (so binned end
    points are exact); optional linear pre-trend ``pretrend * k`` for treated units before treatment."""
    rng = np.random.default_rng(seed)
    n_never = int(share_never * n_units)
    cohort = np.r_[np.zeros(n_never, int), rng.choice(cohorts, n_units - n_never)]
    df = pd.DataFrame({"city": np.repeat(np.arange(n_units), len(years)), "year": np.tile(years, n_units)})
    df["cohort"] = cohort[df["city"]]
    treated = df["cohort"] > 0
    rel = np.where(treated, df["year"] - df["cohort"], -99)
    effect = np.where(rel >= 0, np.minimum(0.2 * (rel + 1), 1.0), 0.0)
    trend = np.where(treated & (rel < 0), pretrend * rel, 0.0)
    df["y"] = (effect + trend + rng.normal(size=n_units)[df["city"]] + 0.05 * (df["year"] - years[0])
               + rng.normal(scale=sigma, size=len(df)))
    df["x"] = rng.normal(size=len(df))
    df["y"] += 0.5 * df["x"]
    return df


def truth(k):
    return 0.0 if k < 0 else min(0.2 * (k + 1), 1.0)


def manual_dummies(df, window, ref):
    """Independent construction of binned relative-time dummies (for the pyfixest reference fit)."""
    lo, hi = window
    out = df.copy()
    rel = (out["year"] - out["cohort"]).where(out["cohort"] > 0)
    names = []
    for k in range(lo, hi + 1):
        if k == ref:
            continue
        if k == lo:
            d = rel <= lo
        elif k == hi:
            d = rel >= hi
        else:
            d = rel == k
        name = f"d{k + 100}"
        out[name] = d.fillna(False).astype(float)
        names.append(name)
    return out, names


def test_recovers_dynamic_effects():
    df = dynamic_panel(seed=1)
    res = event_study(df, "y", "city", "year", "cohort", window=(-4, 5), covariates=["x"])
    table = res.table()
    assert table.loc[-1, "is_ref"] and table.loc[-1, "estimate"] == 0.0
    est = table.loc[~table["is_ref"]]
    err = (est["estimate"] - [truth(k) for k in est.index]) / est["se"]
    assert np.all(np.abs(err) < 4), err
    # the uniform band covers every true value and is wider than the pointwise interval
    true = np.array([truth(k) for k in est.index])
    assert np.all((est["band_low"] <= true) & (true <= est["band_high"]))
    assert np.all(est["band_high"] - est["band_low"] > est["ci_high"] - est["ci_low"])
    assert isinstance(res, Result) and isinstance(res, EventStudyResult)


def test_matches_pyfixest_manual_dummies():
    df = dynamic_panel(seed=2, n_units=120)
    res = event_study(df, "y", "city", "year", "cohort", window=(-3, 4), ref=-1, covariates=["x"])
    data, names = manual_dummies(df, (-3, 4), -1)
    ref = pf.feols(f"y ~ {' + '.join(names)} + x | city + year", data=data, vcov={"CRV1": "city"})
    ks = [k for k in range(-3, 5) if k != -1]
    ours = res.table().loc[ks]
    np.testing.assert_allclose(ours["estimate"], ref.coef()[names], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours["se"], ref.se()[names], rtol=1e-7)


def test_unbinned_endpoints_drop_outside_rows():
    df = dynamic_panel(seed=3, n_units=100)
    res = event_study(df, "y", "city", "year", "cohort", window=(-3, 3), bin_endpoints=False)
    rel = df["year"] - df["cohort"]
    outside = ((df["cohort"] > 0) & ((rel < -3) | (rel > 3))).sum()
    assert res.nobs == len(df) - outside
    assert any("outside the window" in n for n in res.notes)


def test_sup_t_critical_value_independent_coefficients():
    """With independent coefficients P(max|Z_k| <= c) = (2 Phi(c) - 1)^m: a closed form to check the simulation."""
    m = 8
    terms = [f"rel_m{k}" for k in range(m, 0, -1)]
    res = EventStudyResult(pd.Series(np.zeros(m), index=terms), np.diag(np.linspace(0.5, 2.0, m)), nobs=1000,
                           df_resid=990, df_t=np.inf, event_times=list(range(-m, 0)), ref=0, window=(-m, 0), seed=7)
    expected = stats.norm.ppf((1 + 0.95 ** (1 / m)) / 2)
    assert res.sup_t_critical(0.95, n_sim=200_000) == pytest.approx(expected, abs=0.01)
    # perfectly correlated coefficients: the band collapses to the pointwise critical value
    res1 = EventStudyResult(pd.Series(np.zeros(m), index=terms), np.ones((m, m)), nobs=1000, df_resid=990,
                            df_t=np.inf, event_times=list(range(-m, 0)), ref=0, window=(-m, 0), seed=7)
    assert res1.sup_t_critical(0.95, n_sim=200_000) == pytest.approx(stats.norm.ppf(0.975), abs=0.01)


def test_pretrend_test_forms():
    df = dynamic_panel(seed=4, n_units=100)
    res = event_study(df, "y", "city", "year", "cohort", window=(-4, 3))
    test = res.pretrend_test()
    leads = ["rel_m4", "rel_m3", "rel_m2"]
    b, v = res.coef[leads].to_numpy(), res.vcov.loc[leads, leads].to_numpy()
    w = b @ np.linalg.solve(v, b)
    assert test.df == 3 and test.chi2 == pytest.approx(w)
    assert test.F == pytest.approx(w / 3)
    assert test.df2 == res.df_resid  # residual df, as fixest's wald() (not G - 1 as Stata's test)
    assert test.pvalue_F == pytest.approx(stats.f.sf(w / 3, 3, res.df_resid))
    assert test.pvalue_chi2 == pytest.approx(stats.chi2.sf(w, 3))
    assert set(test.tidy()["form"]) == {"chi2", "F"}


def _small_panel(rng_seed, pretrend):
    return dynamic_panel(n_units=60, years=np.arange(2010, 2018), cohorts=(2014, 2015), share_never=0.5,
                         pretrend=pretrend, sigma=1.0, seed=rng_seed)


def test_pretrend_test_size_and_power():
    """200 seeded replications each. Size: the 5% F test rejects at a rate within 3 binomial SEs of 0.05.
    Power: a planted linear pre-trend of 0.5 per period (sd of noise 1) is rejected in most replications."""
    reps = 200
    rejections = {0.0: 0, 0.5: 0}
    for pretrend in rejections:
        for r in range(reps):
            res = event_study(_small_panel(1000 + r, pretrend), "y", "city", "year", "cohort", window=(-3, 2))
            rejections[pretrend] += res.pretrend_test().pvalue_F < 0.05
    size, power = rejections[0.0] / reps, rejections[0.5] / reps
    se = np.sqrt(0.05 * 0.95 / reps)
    assert abs(size - 0.05) <= 3 * se, size
    print(f"pre-trend test: size {size:.3f}, power {power:.3f}")
    assert power >= 0.8, power


def test_no_never_treated_uses_not_yet_treated():
    df = dynamic_panel(seed=5, share_never=0.0, n_units=120)
    res = event_study(df, "y", "city", "year", "cohort", window=(-3, 3))
    data, names = manual_dummies(df, (-3, 3), -1)
    ref = pf.feols(f"y ~ {' + '.join(names)} | city + year", data=data, vcov={"CRV1": "city"})
    ks = [k for k in range(-3, 4) if k != -1]
    np.testing.assert_allclose(res.table().loc[ks, "estimate"], ref.coef()[names], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.table().loc[ks, "se"], ref.se()[names], rtol=1e-7)


def test_cohort_after_the_last_period_counts_as_never_treated():
    """The package rule (econ.did.design): a cohort after the last period is recoded to never treated, warned."""
    from econ.errors import EconWarning

    df = dynamic_panel(seed=6, n_units=40)
    late, never = df.copy(), df.copy()
    late.loc[late["city"] == 39, "cohort"] = 2030
    never.loc[never["city"] == 39, "cohort"] = 0
    with pytest.warns(EconWarning, match=r"1 unit\(s\) first treated after the last period .* never treated.*39"):
        res = event_study(late, "y", "city", "year", "cohort")
    ref = event_study(never, "y", "city", "year", "cohort")
    np.testing.assert_allclose(res.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-12)
    assert any("count as never treated" in n for n in res.notes)


def test_window_larger_than_panel():
    df = dynamic_panel(seed=7, n_units=40)
    with pytest.raises(TreatmentError, match="larger than the panel"):
        event_study(df, "y", "city", "year", "cohort", window=(-20, 5))


def test_no_comparison_group():
    df = dynamic_panel(seed=8, n_units=40, share_never=0.0, cohorts=(2013,))
    with pytest.raises(TreatmentError, match="no never-treated and no not-yet-treated"):
        event_study(df, "y", "city", "year", "cohort")


def test_cohort_varying_within_unit():
    df = dynamic_panel(seed=9, n_units=40)
    unit = df.loc[df["cohort"] > 0, "city"].iloc[0]
    df.loc[(df["city"] == unit) & (df["year"] == 2010), "cohort"] = 2012
    with pytest.raises(TreatmentError, match=rf"constant within unit.*{unit}"):
        event_study(df, "y", "city", "year", "cohort")


def test_reference_outside_window():
    df = dynamic_panel(seed=10, n_units=40)
    with pytest.raises(SpecificationError, match="reference"):
        event_study(df, "y", "city", "year", "cohort", window=(-3, 3), ref=-5)
    with pytest.raises(SpecificationError, match="ref must be an integer"):
        event_study(df, "y", "city", "year", "cohort", window=(-3, 3), ref="-1")
    with pytest.raises(SpecificationError, match="ref must be an integer"):
        event_study(df, "y", "city", "year", "cohort", window=(-3, 3), ref=None)
