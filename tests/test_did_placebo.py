"""econ.did.placebo: the one-matrix FWL draws equal a loop of econ.feols fits; draw kinds; p-value formulas."""

import numpy as np
import pandas as pd
import pytest

from econ.did import placebo, twfe
from econ.did.classic.placebo import PlaceboResult
from econ.errors import SpecificationError, TreatmentError
from econ.panel import feols


def panel(n_units=90, years=range(2008, 2020), sizes=(15, 15, 15), cohorts=(2013, 2014, 2015), effect=0.3, seed=0):
    """Balanced panel with exact cohort sizes (like Broadband China's 39 cities per cohort, scaled down)."""
    rng = np.random.default_rng(seed)
    years = np.asarray(list(years))
    cohort = np.r_[np.repeat(cohorts, sizes), np.zeros(n_units - sum(sizes), int)]
    cohort = rng.permutation(cohort)
    df = pd.DataFrame({"city": np.repeat(np.arange(n_units), len(years)), "year": np.tile(years, n_units)})
    df["cohort"] = cohort[df["city"]]
    df["treat"] = ((df["cohort"] > 0) & (df["year"] >= df["cohort"])).astype(int)
    df["x1"] = rng.normal(size=len(df))
    df["x2"] = rng.normal(size=len(df)) + 0.2 * df["treat"]
    df["y"] = (effect * df["treat"] + 0.5 * df["x1"] - 0.3 * df["x2"] + rng.normal(size=n_units)[df["city"]]
               + 0.05 * (df["year"] - years[0]) + rng.normal(size=len(df)))
    return df


def loop_of_fits(df, res, covariates, draws):
    """Refit the TWFE regression with econ.feols for the given draws' placebo assignments."""
    out = []
    rhs = " + ".join(["dp", *covariates])
    for b in draws:
        cohort = pd.Series(res.assignments[b], index=res.units)
        d = df.assign(dp=(df["year"] >= df["city"].map(cohort).fillna(np.inf)).astype(float))
        out.append(feols(f"y ~ {rhs} | city + year", d).coef["dp"])
    return np.array(out)


def test_draws_equal_loop_of_fits_balanced():
    df = panel(seed=1)
    res = placebo(df, "y", "city", "year", treat="treat", n_draws=200, seed=11, covariates=["x1", "x2"], progress=False)
    draws = np.arange(0, 200, 10)  # 20 draws
    np.testing.assert_allclose(res.draws[draws], loop_of_fits(df, res, ["x1", "x2"], draws), rtol=1e-10)
    actual = twfe(df, "y", "city", "year", treat="treat", covariates=["x1", "x2"]).coef["treat"]
    assert res.estimate == pytest.approx(actual, rel=1e-10)


def test_draws_equal_loop_of_fits_unbalanced():
    df = panel(seed=2)
    df = df.drop(index=np.random.default_rng(0).choice(len(df), 120, replace=False))
    res = placebo(df, "y", "city", "year", cohort="cohort", n_draws=40, seed=5, covariates=["x1"], progress=False)
    draws = np.arange(20)
    np.testing.assert_allclose(res.draws[draws], loop_of_fits(df, res, ["x1"], draws), rtol=1e-9)


def window_fit(df, res, covariates, shift):
    """The fake-timing regression refitted with econ.feols on the common window year < earliest cohort."""
    first = df.loc[df["cohort"] > 0, "cohort"].min()
    pre = df.loc[df["year"] < first]
    fake = (pre["cohort"] - shift).where(pre["cohort"] > 0, np.inf)
    pre = pre.assign(dp=(pre["year"] >= fake).astype(float))
    rhs = " + ".join(["dp", *covariates])
    return pre, feols(f"y ~ {rhs} | city + year", pre).coef["dp"]


@pytest.mark.parametrize("unbalanced", [False, True])
def test_fake_timing_equals_fit_on_common_window(unbalanced):
    """The estimate and the draws are the TWFE fits on the common pre-treatment window year < min(cohort) (the same
    rows for every unit), with fake cohort = cohort - shift; both the closed-form and the demeaning path."""
    df = panel(seed=3)
    if unbalanced:
        df = df.drop(index=np.random.default_rng(3).choice(len(df), 60, replace=False))
    res = placebo(df, "y", "city", "year", cohort="cohort", kind="fake_timing", shift=2, n_draws=20, seed=1,
                  covariates=["x1"], progress=False)
    pre, fit = window_fit(df, res, ["x1"], 2)
    assert set(pre["year"]) == set(range(2008, 2013)) and res.nobs == len(pre)
    assert res.estimate == pytest.approx(fit, rel=1e-10)
    np.testing.assert_allclose(res.draws[:10], loop_of_fits(pre, res, ["x1"], range(10)), rtol=1e-9)
    # the cohort 2015 (fake date 2013) is untreated in the window: a control, named in a note
    assert any("[2015]" in n and "untreated" in n for n in res.notes)
    fake = np.sort(np.unique(res.assignments[~np.isnan(res.assignments)]))
    np.testing.assert_array_equal(fake, [2011, 2012, 2013])


def test_fake_timing_ignores_post_treatment_rows():
    """Real effects (any size) and every outcome from the earliest cohort on never enter the fake-timing test."""
    a, b = panel(seed=12, effect=0.0), panel(seed=12, effect=5.0)
    b.loc[b["year"] >= 2013, "y"] += np.random.default_rng(0).normal(size=int((b["year"] >= 2013).sum())) * 10
    ra, rb = (placebo(d, "y", "city", "year", cohort="cohort", kind="fake_timing", shift=1, n_draws=50, seed=2,
                      progress=False) for d in (a, b))
    assert ra.estimate == pytest.approx(rb.estimate, rel=1e-12)
    np.testing.assert_allclose(ra.draws, rb.draws, rtol=1e-12)


def _null_design(seed, n=60, years=range(2006, 2030), cohorts=(2013, 2014, 2015), size=5):
    """No effect before treatment, a large growing effect after; i.i.d. errors; long post-period, few treated."""
    rng = np.random.default_rng(seed)
    years = np.asarray(list(years))
    g = np.r_[np.repeat(cohorts, size), np.zeros(n - size * len(cohorts), int)]
    treated = (g[:, None] > 0) & (years >= g[:, None])
    y = (rng.normal(size=(n, 1)) + 0.1 * (years - years[0]) + rng.normal(size=(n, len(years)))
         + treated * (1.0 + years - g[:, None]))
    return pd.DataFrame({"city": np.repeat(np.arange(n), len(years)), "year": np.tile(years, n),
                         "cohort": np.repeat(g, len(years)), "y": y.ravel()})


def test_fake_timing_size_under_the_null():
    """Monte Carlo size of the 5% fake-timing test on 150 designs with no anticipation and no pre-trend.

    With exchangeable units the permutation test is exact: the rejection rate is 0.05 up to Monte Carlo error
    (s.e. sqrt(0.05 * 0.95 / 150) = 0.018), so it must stay below 0.05 + 3 s.e. ~ 0.10. The per-unit pre-period sample
    (treated units t < cohort, never-treated units every row) rejected about 30% of these designs (400 seeds:
    0.300 +- 0.023): a never-treated unit that draws a fake cohort brings its whole post-period, a treated unit one
    pre-period row, so the draws are far tighter than the actual estimate.
    """
    p = np.array([placebo(_null_design(s), "y", "city", "year", cohort="cohort", kind="fake_timing", shift=1,
                          n_draws=99, seed=s, progress=False).pvalue for s in range(150)])
    rate = np.mean(p <= 0.05)
    assert rate < 0.10, rate
    # not degenerate: a test that never rejects would pass the first check trivially (0.5 expected, s.e. 0.04)
    assert np.mean(p <= 0.5) > 0.3


def test_fake_timing_bad_shift():
    df = panel(seed=3)  # years 2008-2019, earliest cohort 2013: window 2008..2012
    args = (df, "y", "city", "year")
    with pytest.raises(SpecificationError, match=r"shift=5 is larger than the pre-treatment period.*at most 4"):
        placebo(*args, cohort="cohort", kind="fake_timing", shift=5, progress=False)
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(SpecificationError, match="shift"):
            placebo(*args, cohort="cohort", kind="fake_timing", shift=bad, progress=False)
    with pytest.raises(SpecificationError, match="shift"):
        placebo(*args, cohort="cohort", kind="permute_units", shift=2, progress=False)
    assert placebo(*args, cohort="cohort", kind="fake_timing", shift=4, n_draws=5, progress=False).n_draws == 5
    late = df.loc[df["year"] >= 2012]  # one period before the earliest cohort: no shift fits
    with pytest.raises(SpecificationError, match="no shift fits"):
        placebo(late, "y", "city", "year", cohort="cohort", kind="fake_timing", shift=1, progress=False)


def test_permute_units_keeps_cohort_sizes():
    df = panel(seed=4)
    res = placebo(df, "y", "city", "year", cohort="cohort", n_draws=50, seed=2, progress=False)
    real = df.groupby("city")["cohort"].first().reindex(res.units).replace(0, np.nan).to_numpy()
    for row in res.assignments:
        np.testing.assert_array_equal(np.sort(np.nan_to_num(row)), np.sort(np.nan_to_num(real)))
    assert not np.all(np.nan_to_num(res.assignments) == np.nan_to_num(real))


def test_permute_cohorts_keeps_treated_set():
    df = panel(seed=5)
    res = placebo(df, "y", "city", "year", cohort="cohort", kind="permute_cohorts", n_draws=50, seed=2, progress=False)
    real = df.groupby("city")["cohort"].first().reindex(res.units).replace(0, np.nan).to_numpy()
    assert np.all(np.isnan(res.assignments) == np.isnan(real))
    treated = ~np.isnan(real)
    assert np.all(np.sort(res.assignments[:, treated], axis=1) == np.sort(real[treated]))
    assert np.any(res.assignments[:, treated] != real[treated])


def test_seed_reproducible():
    df = panel(seed=6)
    a = placebo(df, "y", "city", "year", treat="treat", n_draws=30, seed=9, progress=False)
    b = placebo(df, "y", "city", "year", treat="treat", n_draws=30, seed=9, progress=False)
    c = placebo(df, "y", "city", "year", treat="treat", n_draws=30, seed=10, progress=False)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, c.draws)


def test_pvalue_formulas():
    res = PlaceboResult(estimate=2.0, draws=np.array([-3.0, -1.0, 0.0, 1.0, 2.0, 3.0]), assignments=np.zeros((6, 1)),
                        units=pd.Index([0]), kind="permute_units", seed=0, depvar="y", nobs=10)
    assert res.pvalue == pytest.approx((1 + 3) / 7)  # |b| >= 2: -3, 2, 3 (the tie counts)
    assert res.pvalue_greater == pytest.approx((1 + 2) / 7)
    assert res.pvalue_less == pytest.approx((1 + 5) / 7)
    tidy = res.tidy()
    assert tidy.loc[0, "n_draws"] == 6 and tidy.loc[0, "p_value"] == pytest.approx(4 / 7)


def test_strong_effect_is_extreme():
    df = panel(seed=7, effect=2.0)
    res = placebo(df, "y", "city", "year", treat="treat", n_draws=99, seed=3, progress=False)
    assert res.pvalue == pytest.approx(1 / 100)
    assert abs(res.draws.mean()) < 0.2
    assert "p-value" in res.summary()


def test_bad_input():
    df = panel(seed=8)
    with pytest.raises(SpecificationError, match="exactly one"):
        placebo(df, "y", "city", "year", treat="treat", cohort="cohort", progress=False)
    with pytest.raises(SpecificationError, match="shift"):
        placebo(df, "y", "city", "year", treat="treat", kind="fake_timing", progress=False)
    with pytest.raises(SpecificationError, match="kind"):
        placebo(df, "y", "city", "year", treat="treat", kind="bogus", progress=False)
    one = panel(seed=8, sizes=(20,), cohorts=(2014,))
    with pytest.raises(TreatmentError, match="one cohort"):
        placebo(one, "y", "city", "year", treat="treat", kind="permute_cohorts", progress=False)
    off = df.copy()
    off.loc[(off["cohort"] > 0) & (off["year"] == 2019), "treat"] = 0
    with pytest.raises(TreatmentError, match="not absorbing"):
        placebo(off, "y", "city", "year", treat="treat", progress=False)


def test_draws_split_over_dask_workers_equal_the_single_process_run():
    """Issue 13: blocks of draws seeded by SeedSequence position give identical draws on any backend."""
    from dask.distributed import Client, LocalCluster

    import econ

    demo = econ.datasets.load("china_cities_demo")
    args = (demo, "log_income_ratio", "prefecture_code", "year")
    here = econ.did.placebo(*args, cohort="cohort", n_draws=5000, seed=4, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        there = econ.did.placebo(*args, cohort="cohort", n_draws=5000, seed=4, backend="dask", client=client)
    np.testing.assert_array_equal(here.draws, there.draws)
    assert here.pvalue == there.pvalue
    with pytest.raises(econ.SpecificationError, match="client"):
        econ.did.placebo(*args, cohort="cohort", n_draws=10, client=object())
