"""Wild cluster restricted bootstrap: exact agreement with wildboottest under full enumeration, Monte-Carlo
agreement otherwise, fixed effects handled exactly (= dummies), CI by test inversion."""

import warnings

import numpy as np
import pandas as pd
import pytest

from econ.errors import SpecificationError
from econ.panel import feols
from econ.panel.feols import CollinearityWarning
from econ.panel.wildboot import draw_weights


def clustered(G=10, n=300, seed=0, effect=0.15):
    rng = np.random.default_rng(seed)
    cl = rng.integers(0, G, n)
    df = pd.DataFrame({"cl": cl, "year": rng.integers(0, 5, n)})
    df["x"] = rng.normal(size=n) + 0.5 * rng.normal(size=G)[cl]
    df["z"] = rng.normal(size=n)
    df["y"] = effect * df["x"] + df["z"] + rng.normal(size=n) + rng.normal(size=G)[cl] + 0.3 * df["year"]
    df["w"] = rng.uniform(0.5, 2.0, n)
    return df


def pyfixest_boot(fml, df, B, seed, weights="rademacher"):
    """(p-value, t statistic, bootstrap t statistics) from pyfixest's wildboottest interface."""
    import pyfixest as pf
    import wildboottest  # noqa: F401  (a peer: fails, not skips, when missing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(fml, df, vcov={"CRV1": "cl"})
        out, tboot = fit.wildboottest(param="x", reps=B, seed=seed, weights_type=weights,
                                      return_bootstrapped_t_stats=True)
    return float(out["Pr(>|t|)"]), float(out["t value"]), np.asarray(tboot).ravel()


@pytest.mark.parametrize("fml", ["y ~ x + z", "y ~ x + z | cl", "y ~ x + z | year", "y ~ x + z | cl + year"])
def test_full_enumeration_equals_wildboottest(fml):
    """2^10 = 1024 <= B: both enumerate every sign vector, so the bootstrap distributions must be identical (as
    |t*| / |t|, which removes the small-sample factors: pyfixest passes the fixed effects to wildboottest as
    dummies and counts them in K). 'year' is not nested in the clusters: this exercises the exact fixed-effect
    correction."""
    df = clustered(seed=1)
    ours = feols(fml, df, vcov={"CL1": "cl"}).wildboot("x", n_draws=9999, seed=3)
    assert ours.enumerated and ours.n_draws == 1024
    p, t, tboot = pyfixest_boot(fml, df, B=9999, seed=3)
    assert len(tboot) == 1024
    np.testing.assert_allclose(np.sort(np.abs(ours.t_boot)) / abs(ours.t_stat), np.sort(np.abs(tboot)) / abs(t),
                               rtol=1e-7)
    # p-values agree up to the two tied draws v = +-1 (equal to |t| in exact arithmetic; wildboottest's rounding
    # decides whether they count, ours never counts them)
    assert 0 <= p - ours.p_value <= 2 / 1024 + 1e-12


@pytest.mark.parametrize("weights", ["rademacher", "webb"])
def test_monte_carlo_agreement_with_wildboottest(weights):
    df = clustered(G=30, n=450, seed=2, effect=0.12)
    fml = "y ~ x + z | year"
    B = 2999
    ours = feols(fml, df, vcov={"CL1": "cl"}).wildboot("x", n_draws=B, multiplier=weights, seed=11)
    theirs = pyfixest_boot(fml, df, B=B, seed=12, weights=weights)[0]
    assert not ours.enumerated and ours.n_draws == B
    p = (ours.p_value + theirs) / 2
    assert abs(ours.p_value - theirs) < 4 * np.sqrt(2 * p * (1 - p) / B) + 1e-3


def test_fixed_effects_equal_dummies_exactly():
    df = clustered(G=25, n=400, seed=4)
    a = feols("y ~ x + z | year", df, vcov={"CL1": "cl"}).wildboot("x", n_draws=999, seed=5)
    with pytest.warns(CollinearityWarning):
        b = feols("y ~ x + z + i(year)", df, vcov={"CL1": "cl"}).wildboot("x", n_draws=999, seed=5)
    assert a.p_value == b.p_value
    np.testing.assert_allclose(a.conf_int, b.conf_int, rtol=1e-6)
    np.testing.assert_allclose(np.abs(a.t_boot), np.abs(b.t_boot), rtol=1e-8)
    # weighted fits too
    c = feols("y ~ x + z | year", df, vcov={"CL1": "cl"}, weights="w").wildboot("x", n_draws=999, seed=5)
    with pytest.warns(CollinearityWarning):
        d = feols("y ~ x + z + i(year)", df, vcov={"CL1": "cl"}, weights="w").wildboot("x", n_draws=999, seed=5)
    assert c.p_value == d.p_value
    np.testing.assert_allclose(c.conf_int, d.conf_int, rtol=1e-6)


def test_confidence_interval_is_test_inversion():
    df = clustered(G=20, n=400, seed=6)
    res = feols("y ~ x + z | cl", df, vcov={"CL1": "cl"})
    wb = res.wildboot("x", n_draws=1999, seed=7, level=0.9)
    lo, hi = wb.conf_int
    assert lo < wb.estimate < hi
    width = hi - lo
    assert res.wildboot("x", n_draws=1999, seed=7, r=lo + 0.02 * width).p_value >= 0.1
    assert res.wildboot("x", n_draws=1999, seed=7, r=lo - 0.02 * width).p_value < 0.1
    assert res.wildboot("x", n_draws=1999, seed=7, r=hi + 0.02 * width).p_value < 0.1
    # t statistic and default cluster come from the fitted model, whatever its small-sample corrections
    assert np.isclose(wb.t_stat, res.tstat["x"]) and wb.cluster == "cl" and wb.n_clusters == 20
    for ssc in ("none", "linearmodels"):
        fit = feols("y ~ x + z | cl", df, vcov={"CL1": "cl"}, ssc=ssc)
        assert np.isclose(fit.wildboot("x", n_draws=99, seed=7).t_stat, fit.tstat["x"], rtol=1e-10)


def test_size_under_the_null_is_roughly_right():
    """Few clusters (8): rejection rate at 10% over seeded simulations with no effect stays near 10%."""
    rejections = 0
    reps = 40
    for s in range(reps):
        df = clustered(G=8, n=160, seed=100 + s, effect=0.0)
        wb = feols("y ~ x + z", df, vcov={"CL1": "cl"}).wildboot("x", n_draws=999, seed=s)
        rejections += wb.p_value < 0.1
    assert rejections / reps < 0.25


def test_reproducible_and_reports():
    df = clustered(G=15, n=300, seed=8)
    res = feols("y ~ x + z", df, vcov={"CL1": "cl"})
    a, b = res.wildboot("x", B=499, seed=1, multiplier="webb"), res.wildboot("x", n_draws=499, seed=1, multiplier="webb")
    assert a.p_value == b.p_value and a.conf_int == b.conf_int
    assert "WCR" in repr(a) and "webb" in repr(a)
    assert set(a.to_dict()) >= {"p_value", "conf_int", "n_draws", "multiplier", "cluster"}


def test_result_interface_tidy_summary_plot(tmp_path):
    df = clustered(G=15, n=300, seed=8)
    res = feols("y ~ x + z", df, vcov={"CL1": "cl"})
    wb = res.wildboot("x", n_draws=499, seed=1)
    row = wb.tidy().iloc[0]
    assert list(wb.tidy().columns[:7]) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low",
                                           "conf_high"]
    assert row.term == "x" and np.isclose(row.estimate, res.coef["x"], rtol=1e-12) and row.n_draws == 499
    assert np.isclose(row.std_error, res.se["x"], rtol=1e-10) and np.isclose(row.statistic, res.tstat["x"])
    assert row.conf_low < row.estimate < row.conf_high and row.p_value == wb.p_value
    assert wb.summary() == repr(wb) and "p-value" in wb.summary()
    fig, ax = wb.plot(path=tmp_path / "wb.png")
    assert (tmp_path / "wb.png").stat().st_size > 0 and len(ax.lines) == 2


def test_vocabulary_n_draws_multiplier():
    df = clustered(G=15, n=300, seed=8)
    res = feols("y ~ x + z", df, vcov={"CL1": "cl"})
    assert res.wildboot("x", B=199, seed=2).p_value == res.wildboot("x", n_draws=199, seed=2).p_value
    with pytest.raises(SpecificationError, match="multiplier="):
        res.wildboot("x", weights="webb")
    with pytest.raises(SpecificationError, match="once"):
        res.wildboot("x", n_draws=99, B=99)
    with pytest.raises(SpecificationError, match="seed"):
        res.wildboot("x", n_draws=99, seed=-1)
    with pytest.raises(SpecificationError, match="n_draws"):
        res.wildboot("x", n_draws=0)


def test_weight_draws():
    rng = np.random.default_rng(0)
    v, enum = draw_weights("rademacher", 100, 5, rng)
    assert enum and v.shape == (32, 5) and len({tuple(r) for r in v}) == 32
    v, enum = draw_weights("webb", 20_000, 3, rng)
    assert not enum and np.isclose(v.mean(), 0, atol=0.02) and np.isclose((v**2).mean(), 1, atol=0.02)
    assert len(np.unique(v)) == 6


def test_bad_input():
    df = clustered(seed=9)
    res = feols("y ~ x + z", df, vcov="hetero")
    with pytest.raises(SpecificationError, match="cluster variable"):
        res.wildboot("x")
    with pytest.raises(SpecificationError, match="not a coefficient"):
        res.wildboot("nope", cluster="cl")
    with pytest.raises(SpecificationError, match="multiplier"):
        res.wildboot("x", cluster="cl", multiplier="gamma")
    with pytest.raises(SpecificationError, match="at least 2 clusters"):
        feols("y ~ x", df.assign(one=1), vcov={"CL1": "cl"}).wildboot("x", cluster="one")


def test_draws_split_over_dask_workers_give_the_single_process_result():
    """Issue 13: the same seed gives the same draws, p-value and interval whether the draws run here or on 1 or 2
    Dask workers (draws come in fixed blocks seeded by SeedSequence(seed).spawn position)."""
    from dask.distributed import Client, LocalCluster

    from econ.panel import feols

    rng = np.random.default_rng(4)
    df = pd.DataFrame({"cl": np.repeat(np.arange(30), 12), "x": rng.normal(size=360)})
    df["y"] = 0.15 * df["x"] + rng.normal(size=360)
    fit = feols("y ~ x", df, vcov={"CL1": "cl"})
    here = fit.wildboot("x", n_draws=9000, seed=7)  # three blocks, the last one partial
    assert len(here.t_boot) == 9000
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            there = fit.wildboot("x", n_draws=9000, seed=7, backend="dask", client=client)
        np.testing.assert_array_equal(here.t_boot, there.t_boot)
        assert (here.p_value, here.conf_int) == (there.p_value, there.conf_int)
    other = fit.wildboot("x", n_draws=9000, seed=8)
    assert not np.array_equal(here.t_boot, other.t_boot)


def test_full_enumeration_floors_the_p_value_at_two_over_two_to_the_g(grunfeld):
    """Grunfeld, 6 firms as clusters: no sign vector gives |t*| > |t| (strict count 0), but with 2^6 = 64 sign
    vectors the exact p-value is never below 2/64: the result reports 0.03125 with a note, never 0.0000."""
    six = grunfeld[grunfeld["firm_id"] < 6]
    res = feols("invest ~ value + capital", six, vcov={"CL1": "firm_id"})
    wb = res.wildboot("value", n_draws=9999)
    assert wb.enumerated and wb.n_draws == 64 and wb.n_clusters == 6
    assert np.sum(np.abs(wb.t_boot) > abs(wb.t_stat) * (1 + 1e-9)) == 0  # the strict count the floor replaces
    assert wb.p_value == wb.p_floor == 2 / 64 and wb.tidy().p_value.iloc[0] == 2 / 64
    assert "0.0000" not in wb.summary() and "floor 2/2^6" in wb.summary() and wb.notes
    lo, hi = wb.conf_int
    assert np.isfinite(lo) and np.isfinite(hi) and lo < wb.estimate < hi
    # at 99% the floor (0.031) is above 1 - level: no 99% test can reject with 6 clusters, the interval is unbounded
    assert res.wildboot("value", n_draws=9999, level=0.99).conf_int == (-np.inf, np.inf)
    # drawn multipliers are not floored (the strict count, as wildboottest)
    drawn = res.wildboot("value", n_draws=999, multiplier="webb", seed=1)
    assert not drawn.enumerated and drawn.p_floor == 0 and not drawn.notes
