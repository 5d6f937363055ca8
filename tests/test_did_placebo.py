"""econ.did.placebo: the one-matrix FWL draws equal a loop of econ.feols fits; draw kinds; p-value formulas."""

import numpy as np
import pandas as pd
import pytest

from econ.did import placebo, twfe
from econ.did.placebo import PlaceboResult
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
    actual = twfe(df, "y", "city", "year", "treat", covariates=["x1", "x2"]).coef["treat"]
    assert res.estimate == pytest.approx(actual, rel=1e-10)


def test_draws_equal_loop_of_fits_unbalanced():
    df = panel(seed=2)
    df = df.drop(index=np.random.default_rng(0).choice(len(df), 120, replace=False))
    res = placebo(df, "y", "city", "year", cohort="cohort", n_draws=40, seed=5, covariates=["x1"], progress=False)
    draws = np.arange(20)
    np.testing.assert_allclose(res.draws[draws], loop_of_fits(df, res, ["x1"], draws), rtol=1e-9)


def test_fake_timing_equals_fit_on_pre_sample():
    df = panel(seed=3)
    res = placebo(df, "y", "city", "year", cohort="cohort", kind="fake_timing", shift=2, n_draws=20, seed=1,
                  covariates=["x1"], progress=False)
    c = df["cohort"].where(df["cohort"] > 0, np.inf)
    pre = df.loc[df["year"] < c].assign(dp=lambda d: (d["year"] >= c.loc[d.index] - 2).astype(float))
    assert res.nobs == len(pre)
    assert res.estimate == pytest.approx(feols("y ~ dp + x1 | city + year", pre).coef["dp"], rel=1e-10)
    np.testing.assert_allclose(res.draws[:10], loop_of_fits(pre, res, ["x1"], range(10)), rtol=1e-9)


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
