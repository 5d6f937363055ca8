"""Composite indices (issue 25): entropy weights by hand and against pymcdm, PCA weights against a direct
eigendecomposition, year-by-year stability, bad input."""

import numpy as np
import pandas as pd
import pytest

from econ.errors import PanelError, SpecificationError
from econ.index import entropy_index, pca_index

SMALL = pd.DataFrame({"city": list("ABCDABCD"), "year": [1] * 4 + [2] * 4,
                      "broadband": [10.0, 20.0, 40.0, 30.0, 15.0, 25.0, 45.0, 50.0],
                      "mobile": [80.0, 90.0, 85.0, 95.0, 88.0, 92.0, 90.0, 99.0],
                      "cost": [5.0, 4.0, 3.0, 6.0, 4.5, 3.5, 2.5, 4.0]})


def _by_hand(M, negative, shift):
    lo, hi = M.min(axis=0), M.max(axis=0)
    Z = (M - lo) / (hi - lo)
    for j in negative:
        Z[:, j] = (hi[j] - M[:, j]) / (hi[j] - lo[j])
    n = M.shape[0]
    e = []
    for j in range(M.shape[1]):
        p = (Z[:, j] + shift) / (Z[:, j] + shift).sum()
        e.append(-sum(pi * np.log(pi) for pi in p if pi > 0) / np.log(n))
    d = 1 - np.array(e)
    return d / d.sum(), Z


def test_entropy_weights_by_hand_small_table():
    M = SMALL[["broadband", "mobile", "cost"]].to_numpy()
    res = entropy_index(SMALL, ["broadband", "mobile", "cost"], negative="cost", unit="city", time="year")
    w, Z = _by_hand(M, [2], 1e-4)
    np.testing.assert_allclose(res.weights["weight"], w, rtol=1e-12)
    assert res.weights["weight"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(res.index, Z @ w, rtol=1e-12)
    assert res.frame.columns.tolist() == ["city", "year", "index"] and res.index.index.equals(SMALL.index)
    assert res.weights["direction"].tolist() == ["+", "+", "-"]
    # the shift changes the weights a little, never the ranking of the rows here
    w0 = entropy_index(SMALL, ["broadband", "mobile", "cost"], negative="cost", shift=0).weights["weight"]
    np.testing.assert_allclose(w0, _by_hand(M, [2], 0.0)[0], rtol=1e-12)
    assert not np.allclose(w0, w, rtol=1e-6)


def test_entropy_weights_match_pymcdm_on_the_shifted_matrix():
    pymcdm = pytest.importorskip("pymcdm")
    rng = np.random.default_rng(5)
    df = pd.DataFrame(rng.lognormal(size=(40, 4)), columns=list("abcd"))
    res = entropy_index(df, list("abcd"), negative=["d"])
    M = df.to_numpy()
    lo, hi = M.min(axis=0), M.max(axis=0)
    Z = (M - lo) / (hi - lo)
    Z[:, 3] = (hi[3] - M[:, 3]) / (hi[3] - lo[3])
    np.testing.assert_allclose(res.weights["weight"], pymcdm.weights.entropy_weights(Z + 1e-4), rtol=1e-10)


def test_stability_over_years_reported():
    res = entropy_index(SMALL, ["broadband", "mobile", "cost"], negative="cost", time="year")
    assert res.stability.index.tolist() == [1, 2]
    y1 = SMALL[SMALL.year == 1][["broadband", "mobile", "cost"]].to_numpy()
    np.testing.assert_allclose(res.stability.loc[1].to_numpy(), _by_hand(y1, [2], 1e-4)[0], rtol=1e-12)
    st = res.stability_summary()
    assert set(st.columns) >= {"indicator", "weight", "mean", "sd", "min", "max", "cv"}
    t = res.tidy()
    assert t.columns[:6].tolist() == ["term", "estimate", "std_error", "p_value", "conf_low", "conf_high"]
    assert (t["min_over_years"] <= t["max_over_years"]).all()
    assert "entropy weights" in res.summary()
    # rows and units: units only when a unit column is given
    assert (res.nobs, res.n_units) == (len(SMALL), None)
    keyed = pca_index(SMALL, ["broadband", "mobile", "cost"], negative="cost", unit="city", time="year")
    assert (keyed.nobs, keyed.n_units) == (len(SMALL), SMALL["city"].nunique())


def test_pca_weights_against_direct_eigendecomposition():
    rng = np.random.default_rng(2)
    f = rng.normal(size=(100, 1))
    df = pd.DataFrame(f @ np.array([[1.0, 0.8, -0.6]]) + 0.5 * rng.normal(size=(100, 3)), columns=list("abc"))
    res = pca_index(df, list("abc"), negative="c")
    Z = (df.to_numpy() - df.mean().to_numpy()) / df.std().to_numpy() * np.array([1, 1, -1])
    lam, U = np.linalg.eigh(np.cov(Z, rowvar=False))
    u = U[:, -1] * np.sign(U[:, -1].sum())
    assert (lam > 1).sum() == 1
    np.testing.assert_allclose(res.weights["weight"], u / np.abs(u).sum(), rtol=1e-10)
    np.testing.assert_allclose(res.index, Z @ u, rtol=1e-10)
    assert res.index.corr(pd.Series(f[:, 0])) > 0.9


def test_bad_input():
    with pytest.raises(SpecificationError, match="'mobile'.*zero variance"):
        entropy_index(SMALL.assign(mobile=1.0), ["broadband", "mobile"])
    with pytest.raises(SpecificationError, match="zero variance in year 2"):
        entropy_index(SMALL.assign(mobile=np.where(SMALL.year == 2, 1.0, SMALL.mobile)), ["broadband", "mobile"],
                      time="year")
    allmiss = SMALL.astype({"broadband": float}).copy()
    allmiss.loc[allmiss.year == 2, ["broadband", "mobile"]] = np.nan
    with pytest.raises(PanelError, match="every indicator is missing in year \\[2\\]"):
        entropy_index(allmiss, ["broadband", "mobile"], time="year")
    with pytest.raises(SpecificationError, match="missing in 1 rows"):
        entropy_index(SMALL.assign(mobile=[np.nan] + [1.0] * 7), ["broadband", "mobile"])
    with pytest.raises(SpecificationError, match="not among indicators"):
        entropy_index(SMALL, ["broadband", "mobile"], negative="cost")
    with pytest.raises(SpecificationError, match="normalize"):
        entropy_index(SMALL, ["broadband", "mobile"], normalize="zscore")
    with pytest.raises(SpecificationError, match="at least 2 indicators"):
        entropy_index(SMALL, ["broadband"])
    before = SMALL.copy()
    entropy_index(SMALL, ["broadband", "mobile"])
    pd.testing.assert_frame_equal(SMALL, before)


def test_plot_returns_fig_ax(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    res = entropy_index(SMALL, ["broadband", "mobile", "cost"], negative="cost", time="year")
    fig, ax = res.plot(path=tmp_path / "w.png")
    assert (tmp_path / "w.png").exists() and ax.figure is fig
