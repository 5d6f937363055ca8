"""Covariance estimators: agreement with pyfixest / linearmodels after the documented small-sample factors, and
Conley against a dense computation written here from the formula."""

import warnings

import numpy as np
import pandas as pd
import pytest

from econ.errors import SpecificationError
from econ.panel import feols
from econ.panel.vcov import EARTH_RADIUS_KM, SSC, make_ssc, parse_vcov

import pyfixest as pf

FORMULAS = ["y ~ x1 + x2", "y ~ x1 + x2 | unit", "y ~ x1 + x2 | unit + year", "y ~ x1 + x2 | unit + year + grp"]


def unbalanced_panel(seed=0, n_units=40, n_years=9):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_years)
    year = np.tile(np.arange(2005, 2005 + n_years), n_units)
    grp = rng.integers(0, 7, unit.size)
    a = rng.normal(size=n_units)[unit]
    x1 = rng.normal(size=unit.size) + a
    x2 = rng.normal(size=unit.size) + rng.normal(size=n_years)[year - 2005]
    e = rng.normal(size=unit.size) * (1 + np.abs(x1)) + rng.normal(size=n_units)[unit]
    df = pd.DataFrame({"unit": unit, "year": year, "grp": grp, "x1": x1, "x2": x2, "y": x1 - 0.5 * x2 + a + e,
                       "w": rng.uniform(0.5, 2.0, unit.size)})
    return df.sample(frac=0.85, random_state=seed).reset_index(drop=True)


def pyfixest_fit(fml, df, vcov, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(fml, df, vcov=vcov, fixef_tol=1e-12, **kw)


@pytest.mark.parametrize("fml", FORMULAS)
@pytest.mark.parametrize(
    "ours, theirs",
    [("iid", "iid"), ("hetero", "hetero"), ({"CL1": "unit"}, {"CRV1": "unit"}), ({"CL1": "grp"}, {"CRV1": "grp"}),
     ({"CL2": ("unit", "year")}, {"CRV1": "unit+year"})],
    ids=["iid", "hetero", "CL1-nested", "CL1-not-nested", "CL2"],
)
def test_default_ssc_matches_pyfixest(fml, ours, theirs):
    df = unbalanced_panel(seed=1)
    a = feols(fml, df, vcov=ours)
    b = pyfixest_fit(fml, df, theirs)
    np.testing.assert_allclose(a.coef, b.coef().reindex(a.coef.index), rtol=1e-8)
    np.testing.assert_allclose(a.se, b.se().reindex(a.coef.index), rtol=1e-8)
    np.testing.assert_allclose(a.pvalue, b.pvalue().reindex(a.coef.index), rtol=1e-6, atol=1e-12)
    assert a.df_t == b._df_t


@pytest.mark.parametrize(
    "ssc, theirs",
    [({"adj": False}, dict(k_adj=False)), ({"cluster_adj": False}, dict(G_adj=False)),
     ({"fixef_k": "none"}, dict(k_fixef="none")), ({"fixef_k": "full"}, dict(k_fixef="full")),
     ({"cluster_df": "conventional"}, dict(G_df="conventional"))],
)
@pytest.mark.parametrize("vcov", ["iid", "hetero", "CL1", "CL2"])
def test_ssc_options_match_pyfixest(ssc, theirs, vcov):
    df = unbalanced_panel(seed=2)
    ours_v = {"CL1": {"CL1": "unit"}, "CL2": {"CL2": ("unit", "year")}}.get(vcov, vcov)
    their_v = {"CL1": {"CRV1": "unit"}, "CL2": {"CRV1": "unit+year"}}.get(vcov, vcov)
    a = feols("y ~ x1 + x2 | unit + year", df, vcov=ours_v, ssc=ssc)
    b = pyfixest_fit("y ~ x1 + x2 | unit + year", df, their_v, ssc=pf.ssc(**theirs))
    # fixest's hetero factor is [(n-1)/(n-K) if adj] * [n/(n-1) if cluster_adj]; pyfixest applies n/(n-K) when
    # k_adj and nothing otherwise, so the two differ by n/(n-1) when exactly one of the switches is off
    n = a.nobs
    ratio = {"adj": n / (n - 1), "cluster_adj": (n - 1) / n}.get(next(iter(ssc)), 1.0) if vcov == "hetero" else 1.0
    np.testing.assert_allclose(a.se**2, b.se().reindex(a.coef.index) ** 2 * ratio, rtol=1e-8)


def test_weighted_clustered_matches_pyfixest():
    df = unbalanced_panel(seed=3)
    a = feols("y ~ x1 + x2 | unit + year", df, vcov={"CL1": "unit"}, weights="w")
    b = pyfixest_fit("y ~ x1 + x2 | unit + year", df, {"CRV1": "unit"}, weights="w")
    np.testing.assert_allclose(a.coef, b.coef().reindex(a.coef.index), rtol=1e-8)
    np.testing.assert_allclose(a.se, b.se().reindex(a.coef.index), rtol=1e-8)


@pytest.mark.parametrize("lag", [0, 2, None])
@pytest.mark.parametrize("fml", FORMULAS[:2])
def test_driscoll_kraay_matches_pyfixest(lag, fml):
    df = unbalanced_panel(seed=4)
    a = feols(fml, df, vcov={"DK": lag, "time": "year"})
    kw = {"time_id": "year", "panel_id": "unit", **({"lag": lag} if lag is not None else {})}
    b = pf.feols(fml, df, vcov="DK", vcov_kwargs=kw)
    np.testing.assert_allclose(a.se, b.se().reindex(a.coef.index), rtol=1e-8)
    assert a.df_t == df["year"].nunique() - 1 == b._df_t
    assert feols(fml, df, vcov={"DK": lag}, time="year").se.equals(a.se)  # time from feols(time=...)


def test_linearmodels_preset_matches_panelols():
    import linearmodels as lm
    df = unbalanced_panel(seed=5)
    ix = df.set_index(["unit", "year"])
    mod = lm.PanelOLS(ix["y"], ix[["x1", "x2"]], entity_effects=True, time_effects=True)
    ours = {
        "clustered": feols("y ~ x1 + x2 | unit + year", df, vcov={"CL1": "unit"}, ssc="linearmodels"),
        "robust": feols("y ~ x1 + x2 | unit + year", df, vcov="hetero", ssc="linearmodels"),
        "unadjusted": feols("y ~ x1 + x2 | unit + year", df, vcov="iid", ssc="linearmodels"),
    }
    for cov_type, res in ours.items():
        kw = {"cluster_entity": True, "group_debias": True} if cov_type == "clustered" else {}
        theirs = mod.fit(cov_type=cov_type, debiased=True, **kw)
        np.testing.assert_allclose(res.coef, theirs.params[res.coef.index], rtol=1e-8)
        np.testing.assert_allclose(res.se, theirs.std_errors[res.coef.index], rtol=1e-8)
    two = mod.fit(cov_type="clustered", cluster_entity=True, cluster_time=True, debiased=True, group_debias=True)
    res2 = feols("y ~ x1 + x2 | unit + year", df, vcov={"CL2": ("unit", "year")}, ssc="linearmodels")
    np.testing.assert_allclose(res2.se, two.std_errors[res2.coef.index], rtol=1e-8)


def test_nested_fixed_effects_not_counted_for_clustered():
    """fixef_k='nested': unit FE nested in unit clusters adds 1 (not 40) to K; year FE adds T - 1."""
    df = unbalanced_panel(seed=6)
    res = feols("y ~ x1 + x2 | unit + year", df, vcov={"CL1": "unit"})
    n, G, T = res.nobs, df["unit"].nunique(), df["year"].nunique()
    K = 2 + 1 + (T - 1)
    assert res.extra["df_k"] == K
    assert np.isclose(res.extra["ssc_factor"], (n - 1) / (n - K) * G / (G - 1))
    full = feols("y ~ x1 + x2 | unit + year", df, vcov={"CL1": "unit"}, ssc={"fixef_k": "full"})
    assert full.extra["df_k"] == 2 + G + T - 1


# ------------------------------------------------------------------------------------------ Conley
def conley_dense(res, df, cutoff, lag, kernel, time="year", unit="unit"):
    """Textbook Conley/Hsiang sandwich with an explicit n x n kernel matrix (haversine distances)."""
    d = res.design
    X, u = d.X, res.extra["resid_demeaned"]
    n = len(u)
    s = X * u[:, None]
    sub = df.iloc[d.rows]
    lat, lon = np.radians(sub["lat"].to_numpy()), np.radians(sub["lon"].to_numpy())
    t, g = sub[time].to_numpy(), sub[unit].to_numpy()
    hav = (np.sin((lat[:, None] - lat[None]) / 2) ** 2
           + np.cos(lat[:, None]) * np.cos(lat[None]) * np.sin((lon[:, None] - lon[None]) / 2) ** 2)
    dist = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(hav))
    kern = (dist <= cutoff).astype(float) if kernel == "uniform" else np.clip(1 - dist / cutoff, 0, None)
    kern *= t[:, None] == t[None, :]
    if lag:
        gap = np.abs(t[:, None] - t[None, :])
        kern += ((g[:, None] == g[None, :]) & (gap > 0) & (gap <= lag)) * (1 - gap / (lag + 1))
    bread = np.linalg.inv(X.T @ X)
    v = bread @ (s.T @ kern @ s) @ bread * n / (n - res.extra["df_k"])
    return np.sqrt(np.diag(v))


def spatial_panel(seed=7, n_units=35, n_years=5):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(22, 42, n_units), rng.uniform(102, 122, n_units)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_years), "year": np.tile(np.arange(n_years), n_units)})
    df["lat"], df["lon"] = lat[df["unit"]], lon[df["unit"]]
    common = rng.normal(size=(n_years,))[df["year"]] * (df["lat"] > 32)
    df["x"] = rng.normal(size=len(df)) + common
    df["y"] = df["x"] + rng.normal(size=len(df)) + common
    return df


@pytest.mark.parametrize("cutoff", [150, 800])
@pytest.mark.parametrize("lag", [0, 2])
@pytest.mark.parametrize("kernel", ["uniform", "bartlett"])
def test_conley_matches_dense_formula(cutoff, lag, kernel):
    df = spatial_panel()
    spec = {"conley": {"lat": "lat", "lon": "lon", "cutoff_km": cutoff, "lag": lag, "kernel": kernel,
                       "time": "year", "unit": "unit"}}
    res = feols("y ~ x | unit + year", df, vcov=spec)
    np.testing.assert_allclose(res.se.to_numpy(), conley_dense(res, df, cutoff, lag, kernel), rtol=1e-10)
    assert res.df_t == res.nobs - res.extra["df_k"]


def test_conley_limits():
    df = spatial_panel(seed=8)
    spec = {"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 1e-6}}
    tiny = feols("y ~ x | unit + year", df, vcov=spec, time="year")
    hetero = feols("y ~ x | unit + year", df, vcov="hetero")
    np.testing.assert_allclose(tiny.se, hetero.se, rtol=1e-12)  # nests HC1
    # no time column: all pairs correlated across periods; a location then correlates with itself over time, and
    # a near-zero cutoff equals clustering by location up to the small-sample factor
    everywhere = feols("y ~ x | unit + year", df, vcov={"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 1e-6}})
    cl = feols("y ~ x | unit + year", df, vcov={"CL1": "unit"}, ssc={"fixef_k": "full", "cluster_adj": False})
    n = everywhere.nobs
    np.testing.assert_allclose(everywhere.se ** 2 * (n - 1) / n, cl.se ** 2, rtol=1e-10)


def test_bad_vcov_specs():
    df = spatial_panel(seed=9)
    with pytest.raises(SpecificationError, match="needs the panel's 'time' and 'unit'"):
        feols("y ~ x", df, vcov={"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 100, "lag": 1}})
    with pytest.raises(SpecificationError, match="cutoff_km"):
        parse_vcov({"conley": {"lat": "lat", "lon": "lon", "cutoff_km": -1}})
    with pytest.raises(SpecificationError, match="kernel"):
        parse_vcov({"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 10, "kernel": "gauss"}})
    bad = df.assign(lat=df["lat"] + 100)
    with pytest.raises(SpecificationError, match="latitude"):
        feols("y ~ x", bad, vcov={"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 10}})
    with pytest.raises(SpecificationError, match="at least 2 clusters; 'one' has 1"):
        feols("y ~ x", df.assign(one=1), vcov={"CL1": "one"})
    with pytest.raises(SpecificationError, match="at least 2 clusters; 'one' has 1"):  # not a zero covariance
        feols("y ~ x", df.assign(one=1), vcov={"CL1": "one"}, ssc={"cluster_adj": False})
    with pytest.raises(SpecificationError, match="at least 2 clusters; 'one' has 1"):  # one period
        feols("y ~ x", df.assign(one=1), vcov={"DK": 1, "time": "one"})
    with pytest.raises(SpecificationError, match="unknown ssc"):
        make_ssc("reghdfe2")
    with pytest.raises(SpecificationError, match="fixef_k"):
        SSC(fixef_k="some")
    with pytest.raises(SpecificationError, match="lag"):
        parse_vcov({"DK": -1, "time": "year"})


def test_cluster_rows_with_missing_ids_are_dropped():
    df = unbalanced_panel(seed=10).astype({"grp": float})
    df.loc[:4, "grp"] = np.nan
    res = feols("y ~ x1 | unit", df, vcov={"CL1": "grp"})
    assert res.nobs == len(df) - 5 and "vcov column grp: 5" in res.notes[0]
