"""Conley spatial HAC for the staggered DiD estimators (issue 22): reduction to feols' Conley on a 2x2 design,
a brute-force dense check, a Monte Carlo with spatially correlated shocks, and bad input."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree

from econ._geo import haversine_km
from econ.did import att_gt, imputation, spatial_did, sun_abraham
from econ.errors import EconError, PanelError, SpecificationError
from econ.panel import feols

NOADJ = {"adj": False, "cluster_adj": False}


def _two_by_two(n=300, seed=1):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(30, 32, n), rng.uniform(110, 112, n)
    g = np.where(rng.random(n) < 0.4, 2, 0)
    common = rng.normal(size=n)  # a spatially smooth-ish shock: correlated with latitude
    y1 = rng.normal(size=n) + 0.3 * lat
    y2 = y1 + (g == 2) * 1.0 + 0.5 * np.sin(lat * 3) + 0.2 * common + rng.normal(size=n)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "t": np.tile([1, 2], n), "g": np.repeat(g, 2),
                       "lat": np.repeat(lat, 2), "lon": np.repeat(lon, 2), "y": np.column_stack([y1, y2]).ravel()})
    fd = pd.DataFrame({"dy": y2 - y1, "D": (g == 2).astype(float), "lat": lat, "lon": lon})
    return df, fd


@pytest.mark.parametrize("kernel", ["uniform", "bartlett"])
def test_reduces_to_feols_conley_on_2x2(kernel):
    df, fd = _two_by_two()
    spec = {"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 60, "kernel": kernel}}
    ref = feols("dy ~ D", fd, vcov=spec, ssc=NOADJ)
    b, se = ref.coef["D"], ref.se["D"]
    r = att_gt(df, "y", "id", "t", "g", vcov=spec)
    assert r.tidy()["estimate"].iloc[0] == pytest.approx(b, abs=1e-10)
    assert r.tidy()["std_error"].iloc[0] == pytest.approx(se, rel=1e-8)
    assert "Conley" in r.vcov_type
    agg = r.aggregate("simple")
    assert agg.overall_se == pytest.approx(se, rel=1e-8)
    assert r.aggregate("dynamic").tidy()["std_error"].iloc[-1] == pytest.approx(se, rel=1e-8)
    imp = imputation(df, "y", "id", "t", "g", vcov=spec)
    assert imp.tidy()["std_error"].iloc[0] == pytest.approx(se, rel=1e-8)
    # unit clustering is the kernel K_ij = 1[i = j]: differs here, so the test can fail
    assert abs(att_gt(df, "y", "id", "t", "g").tidy()["std_error"].iloc[0] - se) > 0.01 * se


def test_sun_abraham_is_feols_conley_on_2x2():
    df, _ = _two_by_two()
    df["D"] = ((df["g"] == 2) & (df["t"] == 2)).astype(float)
    spec = {"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 60}}
    ref = feols("y ~ D | id + t", df, vcov=spec)
    sa = sun_abraham(df, "y", "id", "t", "g", vcov=spec).tidy()
    assert sa["estimate"].iloc[0] == pytest.approx(ref.coef["D"], abs=1e-10)
    assert sa["std_error"].iloc[0] == pytest.approx(ref.se["D"], rel=1e-8)


def test_matches_dense_kernel_brute_force_with_staggering():
    rng = np.random.default_rng(3)
    n, T = 120, 5
    lat, lon = rng.uniform(20, 25, n), rng.uniform(100, 105, n)
    g = rng.choice([0, 3, 4], n)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                       "g": np.repeat(g, T), "lat": np.repeat(lat, T), "lon": np.repeat(lon, T)})
    df["y"] = rng.normal(size=len(df)) + (df["t"] >= df["g"]) * (df["g"] > 0)
    for kernel in ("uniform", "bartlett"):
        r = att_gt(df, "y", "id", "t", "g",
                   vcov={"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 150, "kernel": kernel}})
        d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        K = (d <= 150).astype(float) if kernel == "uniform" else np.clip(1 - d / 150, 0, None)
        psi = np.nan_to_num(r.inf_func)
        V = psi.T @ K @ psi / n**2
        ok = np.isfinite(r.se.to_numpy())
        np.testing.assert_allclose(r.se.to_numpy()[ok], np.sqrt(np.diag(V))[ok], rtol=1e-10)
    # planar distances in the coordinates' own units
    r = att_gt(df, "y", "id", "t", "g", vcov={"conley": {"x": "lon", "y": "lat", "cutoff": 1.5}})
    d = np.hypot(lon[:, None] - lon[None, :], lat[:, None] - lat[None, :])
    psi = np.nan_to_num(r.inf_func)
    V = psi.T @ (d <= 1.5) @ psi / n**2
    np.testing.assert_allclose(r.se.to_numpy(), np.sqrt(np.diag(V)), rtol=1e-10)


def _mc_panel(seed, side=24, block=3, radius=1.5):
    """2x2 panel on a side x side grid: treatment assigned by 3x3 blocks, period shocks a spatial moving average
    of iid normals within ``radius`` (correlated up to distance 2 * radius = 3), true ATT 1."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    x, y = gx.ravel().astype(float), gy.ravel().astype(float)
    n = x.size
    b = (gx // block + (side // block) * (gy // block)).ravel()
    treat = (rng.random(b.max() + 1) < 0.5)[b]
    tree = cKDTree(np.column_stack([x, y]))
    P = tree.sparse_distance_matrix(tree, radius, output_type="coo_matrix")
    M = sp.csr_matrix((np.ones(P.nnz), (P.row, P.col)), shape=(n, n))
    u = M @ rng.normal(size=(n, 2)) + 0.5 * rng.normal(size=(n, 2))
    u[:, 1] += treat
    return pd.DataFrame({"id": np.repeat(np.arange(n), 2), "t": np.tile([1, 2], n),
                         "g": np.repeat(np.where(treat, 2, 0), 2), "x": np.repeat(x, 2), "yc": np.repeat(y, 2),
                         "y": u.ravel()})


def test_monte_carlo_conley_covers_unit_clustering_does_not():
    # R = 100 replications: MC standard error of a coverage near 0.95 is sqrt(.95 * .05 / 100) = 0.022.
    # Measured (R = 200, seeds 0..199): unit-clustered 0.645, Conley (cutoff 4 >= correlation range 3) 0.925.
    R, hit_unit, hit_conley = 100, 0, 0
    spec = {"conley": {"x": "x", "y": "yc", "cutoff": 4}}
    for s in range(R):
        r = att_gt(_mc_panel(s), "y", "id", "t", "g", vcov=spec)
        est, se_c = r.coef.iloc[0], r.se.iloc[0]
        se_u = np.sqrt(np.sum(r.inf_func[:, 0] ** 2)) / r.inf_func.shape[0]
        hit_conley += abs(est - 1) <= 1.959964 * se_c
        hit_unit += abs(est - 1) <= 1.959964 * se_u
    cov_u, cov_c = hit_unit / R, hit_conley / R
    assert cov_c >= 0.95 - 3 * 0.022, cov_c          # near nominal (within 3 MC s.e.)
    assert cov_u <= 0.80, cov_u                         # unit clustering under-covers badly
    assert cov_c - cov_u >= 0.15


# ------------------------------------------------------------------------------------------------ bad input
def _spec(**kw):
    return {"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 60, **kw}}


def test_missing_coordinates_name_the_units():
    df, _ = _two_by_two(60)
    df.loc[df["id"] == 7, "lat"] = np.nan
    for f in (att_gt, imputation, sun_abraham):
        with pytest.raises(PanelError, match=r"'lat'.*missing.*\[7\]"):
            f(df, "y", "id", "t", "g", vcov=_spec())


def test_out_of_range_coordinates():
    df, _ = _two_by_two(60)
    df.loc[df["id"] == 3, "lat"] = 95.0
    with pytest.raises(PanelError, match=r"'lat'.*outside \[-90, 90\].*\[3\]"):
        att_gt(df, "y", "id", "t", "g", vcov=_spec())
    df, _ = _two_by_two(60)
    df.loc[df["id"] == 4, "lon"] = -200.0
    with pytest.raises(PanelError, match=r"'lon'.*outside.*\[4\]"):
        imputation(df, "y", "id", "t", "g", vcov=_spec())


@pytest.mark.parametrize("cut", [0, -5, float("nan"), "50", True])
def test_cutoff_must_be_positive(cut):
    df, _ = _two_by_two(60)
    with pytest.raises(SpecificationError, match="cutoff_km must be a positive number"):
        att_gt(df, "y", "id", "t", "g", vcov={"conley": {"lat": "lat", "lon": "lon", "cutoff_km": cut}})


def test_coordinates_varying_within_unit():
    df, _ = _two_by_two(60)
    df.loc[(df["id"] == 11) & (df["t"] == 2), "lon"] += 0.5
    for f in (att_gt, imputation, sun_abraham):
        with pytest.raises(PanelError, match=r"constant within unit.*\[11\]"):
            f(df, "y", "id", "t", "g", vcov=_spec())
    with pytest.raises(PanelError, match=r"constant within unit.*\[11\]"):
        spatial_did(df, "y", "id", "t", cohort="g", W=None, exposure="rings", rings=[50], coords=("lat", "lon"),
                    vcov=_spec())


def test_spec_errors_and_bootstrap_refusal():
    df, _ = _two_by_two(60)
    with pytest.raises(SpecificationError, match="missing"):
        att_gt(df, "y", "id", "t", "g", vcov={"conley": {"lat": "lat", "cutoff_km": 5}})
    with pytest.raises(SpecificationError, match="unknown conley option"):
        att_gt(df, "y", "id", "t", "g", vcov=_spec(radius=3))
    with pytest.raises(SpecificationError, match="kernel"):
        imputation(df, "y", "id", "t", "g", vcov=_spec(kernel="gaussian"))
    with pytest.raises(SpecificationError, match="not in the data"):
        att_gt(df, "y", "id", "t", "g", vcov={"conley": {"lat": "LAT", "lon": "lon", "cutoff_km": 5}})
    with pytest.raises(SpecificationError, match="analytic only"):
        att_gt(df, "y", "id", "t", "g", vcov=_spec(), n_draws=99)
    r = att_gt(df, "y", "id", "t", "g", vcov=_spec())
    with pytest.raises(SpecificationError, match="analytic only"):
        r.aggregate("dynamic", n_draws=99)
    with pytest.raises(SpecificationError, match="planar conley"):
        sun_abraham(df, "y", "id", "t", "g", vcov={"conley": {"x": "lon", "y": "lat", "cutoff": 1}})
    with pytest.raises(EconError, match="vcov must be None"):
        imputation(df, "y", "id", "t", "g", vcov="hetero")


def test_notes_and_lag_is_moot_for_influence_functions():
    df, _ = _two_by_two(80)
    base = att_gt(df, "y", "id", "t", "g", vcov=_spec())
    lagged = att_gt(df, "y", "id", "t", "g", vcov=_spec(lag=2, time="t", unit="id"))
    assert lagged.se.iloc[0] == base.se.iloc[0]
    assert any("lag/time not used" in n for n in lagged.notes)
    assert any("Conley (60 km, uniform) kernel over 80 units" in n for n in base.notes)
    imp = imputation(df, "y", "id", "t", "g", vcov=_spec())
    assert any("kernel over 80 units" in n for n in imp.notes)


def test_spatial_did_with_conley_is_feols_conley():
    df, _ = _two_by_two(200)
    spec = _spec()
    res = spatial_did(df, "y", "id", "t", cohort="g", exposure="rings", rings=[15], coords=("lat", "lon"),
                      estimator="twfe", vcov=spec)
    work = df.assign(D=((df["g"] == 2) & (df["t"] == 2)).astype(float))
    work["R"] = res.exposure["ring"].eq(1).to_numpy() * (1 - work["D"])
    hand = feols("y ~ D + R | id + t", work, vcov=spec)
    assert "Conley" in res.vcov_type
    assert res.se["direct"] == pytest.approx(hand.se["D"], rel=1e-8)
    assert res.se["spillover_ring1"] == pytest.approx(hand.se["R"], rel=1e-8)
    unit = spatial_did(df, "y", "id", "t", cohort="g", exposure="rings", rings=[15], coords=("lat", "lon"),
                       estimator="twfe")
    assert unit.se["direct"] != pytest.approx(res.se["direct"], rel=1e-3)


def test_summary_names_the_kernel_not_unit_clusters():
    """A Conley kernel is not clustering: att_gt's and its aggregation's summaries name the kernel and no clusters;
    the pre-trend F test with df='cluster' keeps G - 1 with one 'cluster' per unit."""
    rng = np.random.default_rng(5)
    n, T = 80, 5
    lat, lon = rng.uniform(20, 25, n), rng.uniform(100, 105, n)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                       "g": np.repeat(rng.choice([0, 3, 4], n), T), "lat": np.repeat(lat, T),
                       "lon": np.repeat(lon, T)})
    df["y"] = rng.normal(size=len(df))
    r = att_gt(df, "y", "id", "t", "g", vcov={"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 150}})
    for text in (r.summary(), r.aggregate("simple").summary()):
        line = next(s for s in text.splitlines() if s.startswith("Standard errors:"))
        assert "Conley (150 km" in line and "clusters" not in line and " by id" not in line
    assert "G - 1 = 79" in r.pretrend_test(df="cluster").df2_rule
