"""Spatial models (econ.spatial.fit): known-truth simulations, interface, bad input.

Reference agreement with R spatialreg is in tests/test_spatial_reference.py.
"""

import doctest

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import econ.spatial as sp
from econ.errors import EconError, SpecificationError, WeightsError


def ring_weights(n, k=2):
    """Units on a circle, each linked to its k neighbours on both sides (symmetric binary)."""
    rows, cols = [], []
    for i in range(n):
        for d in range(1, k + 1):
            for j in ((i + d) % n, (i - d) % n):
                rows.append(i)
                cols.append(j)
    m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return sp.Weights(tuple(f"u{i}" for i in range(n)), m, "b")


def simulate(model, n=400, rho=0.5, lam=0.4, beta=(1.0, 2.0, -1.0), theta=(0.8, 0.5), seed=0):
    W = ring_weights(n).row_standardize()
    Wd = W.to_dense()
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    xb = beta[0] + X @ np.array(beta[1:])
    if model in ("sdm", "sdem", "slx"):
        xb = xb + Wd @ X @ np.array(theta)
    e = rng.normal(size=n)
    if model in ("sem", "sdem", "sac"):
        e = np.linalg.solve(np.eye(n) - lam * Wd, e)
    y = xb + e
    if model in ("sar", "sdm", "sac"):
        y = np.linalg.solve(np.eye(n) - rho * Wd, y)
    df = pd.DataFrame({"id": W.ids, "y": y, "x1": X[:, 0], "x2": X[:, 1]})
    return df, W


@pytest.mark.parametrize("model", ["sar", "sem", "sdm", "sdem", "slx", "sac"])
def test_known_truth(model):
    df, W = simulate(model, n=300)
    res = sp.fit("y ~ x1 + x2", df, W, model=model, unit="id")
    truth = {"Intercept": 1.0, "x1": 2.0, "x2": -1.0, "rho": 0.5, "lambda": 0.4, "W.x1": 0.8, "W.x2": 0.5}
    for name, value in res.coef.items():
        z = (value - truth[name]) / res.se[name]
        assert abs(z) < 4, (model, name, value, res.se[name])
    assert res.model == model and np.isfinite(res.aic)
    assert isinstance(res, sp.SpatialResult)
    assert set(res.tidy().columns) >= {"term", "estimate", "std_error", "p_value"}


def test_sdm_impacts_known_truth():
    df, W = simulate("sdm", n=400, seed=3)
    res = sp.fit("y ~ x1 + x2", df, W, model="sdm", unit="id")
    imp = res.impacts(n_draws=300, seed=1).tidy().set_index(["variable", "effect"])
    # row-standardised W: total = (beta + theta) / (1 - rho)
    for v, b, t in (("x1", 2.0, 0.8), ("x2", -1.0, 0.5)):
        tot = imp.loc[(v, "total")]
        assert abs(tot.estimate - (b + t) / 0.5) < 4 * tot.std_error
        assert tot.conf_low < tot.estimate < tot.conf_high


def test_impacts_point_formula_and_draws_zero():
    df, W = simulate("sdm", n=200, seed=4)
    res = sp.fit("y ~ x1 + x2", df, W, model="sdm", unit="id")
    imp = res.impacts(n_draws=0).tidy().set_index(["variable", "effect"])
    assert imp["std_error"].isna().all()
    rho, b, t = res.coef["rho"], res.coef["x1"], res.coef["W.x1"]
    Wd = W.to_dense()
    S = np.linalg.inv(np.eye(W.n) - rho * Wd) @ (b * np.eye(W.n) + t * Wd)
    assert imp.loc[("x1", "direct"), "estimate"] == pytest.approx(np.trace(S) / W.n, rel=1e-10)
    assert imp.loc[("x1", "total"), "estimate"] == pytest.approx(S.sum() / W.n, rel=1e-10)


def test_order_of_rows_does_not_matter():
    df, W = simulate("sar", n=150)
    a = sp.fit("y ~ x1 + x2", df, W, model="sar", unit="id")
    b = sp.fit("y ~ x1 + x2", df.sample(frac=1, random_state=1), W, model="sar", unit="id")
    c = sp.fit("y ~ x1 + x2", df.set_index("id"), W, model="sar")
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9)
    np.testing.assert_allclose(a.coef, c.coef, rtol=1e-9)


def test_bad_input():
    df, W = simulate("sar", n=100)
    with pytest.raises(WeightsError, match="u99"):
        sp.fit("y ~ x1", df.iloc[:99], W, unit="id")
    with pytest.raises(SpecificationError, match="model"):
        sp.fit("y ~ x1", df, W, unit="id", model="sarma")
    bad = df.copy()
    bad.loc[3, "x1"] = np.nan
    with pytest.raises(SpecificationError, match="missing"):
        sp.fit("y ~ x1", bad, W, unit="id")
    with pytest.raises(SpecificationError, match="collinear"):
        sp.fit("y ~ x1 + x3", df.assign(x3=2 * df.x1), W, unit="id")
    with pytest.raises(EconError):
        sp.fit("y ~ x1", df, W.matrix, unit="id")


def test_doctests():
    import econ.spatial.diagnostics
    import econ.spatial.logdet
    import econ.spatial.models

    for mod in (econ.spatial.models, econ.spatial.diagnostics, econ.spatial.logdet):
        assert doctest.testmod(mod).failed == 0


def test_logdet_methods_agree():
    W = ring_weights(300).row_standardize()
    exact = sp.LogDet(W.matrix, "eigen")
    lu = sp.LogDet(W.matrix, "sparse_lu")
    cheb = sp.LogDet(W.matrix, "chebyshev")
    assert exact.interval[1] == pytest.approx(1.0)
    assert lu.interval[0] == pytest.approx(exact.interval[0], rel=1e-6)
    for r in (-0.8, -0.3, 0.2, 0.6, 0.9):
        assert lu(r) == pytest.approx(exact(r), rel=1e-10, abs=1e-10)
        assert abs(cheb(r) - exact(r)) <= cheb.error_bound(r) + 1e-9 * W.n  # the documented bound (tiny here)
    assert cheb.error > 0 and exact.error == 0
    df, _ = simulate("sar", n=300)
    a = sp.fit("y ~ x1 + x2", df, W, model="sar", unit="id", logdet="eigen")
    b = sp.fit("y ~ x1 + x2", df, W, model="sar", unit="id", logdet="sparse_lu")
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-8)
    assert (a.logdet_method, b.logdet_method) == ("eigen", "sparse_lu")
    with pytest.raises(SpecificationError, match="logdet"):
        sp.fit("y ~ x1", df, W, unit="id", logdet="magic")


def test_large_n_paths(monkeypatch):
    """Hutchinson traces (information matrix) and the power-series impacts agree with the exact small-n paths."""
    import econ.spatial.traces as traces

    df, W = simulate("sdm", n=400, seed=5)
    exact = sp.fit("y ~ x1 + x2", df, W, model="sdm", unit="id")
    ie = exact.impacts(n_draws=0).tidy()["estimate"].to_numpy()
    monkeypatch.setattr(traces, "EIGEN_MAX_N", 10)  # effects by the power series, exact point traces
    mid = sp.fit("y ~ x1 + x2", df, W, model="sdm", unit="id", logdet="sparse_lu")
    ia = mid.impacts(n_draws=0)
    assert ia.method == "series" and ia.notes
    np.testing.assert_allclose(ia.tidy()["estimate"].to_numpy(), ie, rtol=1e-6)  # exact point traces (n <= EXACT_MAX_N)
    monkeypatch.setattr(traces, "EXACT_MAX_N", 10)  # every trace a Hutchinson estimate
    with pytest.warns(sp.SpatialWarning, match="Hutchinson"):
        approx = sp.fit("y ~ x1 + x2", df, W, model="sdm", unit="id", logdet="sparse_lu")
    np.testing.assert_allclose(approx.coef, exact.coef, rtol=1e-6)
    np.testing.assert_allclose(approx.se, exact.se, rtol=0.05)
    ib = approx.impacts(n_draws=0)
    np.testing.assert_allclose(ib.tidy()["estimate"].to_numpy(), ie, rtol=2e-2)


def test_boundary_singular_islands_and_bad_options():
    from econ.spatial.core import _invert_information

    W = ring_weights(50).row_standardize()
    ld = sp.LogDet(W.matrix)
    with pytest.raises(SpecificationError, match="boundary"):
        ld.check_inside(ld.interval[1] - 1e-12, "rho")
    with pytest.raises(SpecificationError, match="singular"):
        _invert_information(np.ones((3, 3)), "test model")
    m = ring_weights(50).matrix.tolil()
    m[0, :] = 0
    m[:, 0] = 0
    Wi = sp.Weights(W.ids, m.tocsr(), "b").row_standardize()
    df, _ = simulate("sar", n=50)
    with pytest.warns(sp.SpatialWarning, match="u0"):
        res = sp.fit("y ~ x1", df, Wi, unit="id")
    assert any("island" in n for n in res.notes)
    with pytest.raises(SpecificationError, match="s2sls"):
        sp.fit("y ~ x1", df, W, unit="id", model="sem", method="s2sls")
    with pytest.raises(SpecificationError, match="vcov"):
        sp.fit("y ~ x1", df, W, unit="id", vcov="hetero")
    with pytest.raises(SpecificationError, match="wx"):
        sp.fit("y ~ x1", df, W, unit="id", wx=["x9"])
    with pytest.raises(SpecificationError, match="panel"):
        sp.fit("y ~ x1 | id", df, W, unit="id")


def test_panel_dispatch_without_panel_module(monkeypatch):
    import sys

    df, W = simulate("sar", n=30)
    monkeypatch.setitem(sys.modules, "econ.spatial.panel", None)  # import fails as if the module were absent
    with pytest.raises(SpecificationError, match="panel"):
        sp.fit("y ~ x1", df.assign(year=2000), W, unit="id", time="year", effects="unit")


def test_explicit_wx_and_results_interface(tmp_path):
    df, W = simulate("sdm", n=200, seed=7)
    res = sp.fit("y ~ x1 + x2", df, W, model="sar", unit="id", wx=["x1"])
    assert list(res.coef.index) == ["Intercept", "x1", "x2", "W.x1", "rho"]
    assert res.lagged == {"x1": "W.x1"}
    text = res.summary()
    assert "Spatial lag model" in text and "Log-likelihood" in text and "rho" in text
    imp = res.impacts(n_draws=50)
    assert set(imp.tidy().columns) == {"term", "variable", "effect", "estimate", "std_error", "p_value",
                                       "conf_low", "conf_high"}
    assert "direct" in imp.summary()
    fig, ax = imp.plot(path=tmp_path / "impacts.png")
    assert (tmp_path / "impacts.png").exists()
    sem = sp.fit("y ~ x1 + x2", df, W, model="sem", unit="id")
    assert sem.impacts(n_draws=0).tidy().query("effect == 'indirect'")["estimate"].abs().max() == 0
    with pytest.raises(SpecificationError, match="n_draws"):
        res.impacts(n_draws=-1)
    tests = sp.lm_tests("y ~ x1 + x2", df, W, unit="id")
    tests.plot()
    assert tests["LM_lag"].p_value < 0.05


def test_sdem_impacts_binary_weights():
    """No lag of y: direct = beta, total = beta + theta * mean row sum of W (exact for a binary W)."""
    m = ring_weights(80).matrix.tolil()
    m[0, 5] = 1.0  # one unit with an extra neighbour: row sums not all equal
    W = sp.Weights(ring_weights(80).ids, m.tocsr(), "b")
    df, _ = simulate("sdem", n=80, seed=8)
    res = sp.fit("y ~ x1 + x2", df, W, model="sdem", unit="id")
    imp = res.impacts(n_draws=20).tidy().set_index(["variable", "effect"])["estimate"]
    mean_rows = W.matrix.sum() / W.n
    for v in ("x1", "x2"):
        assert imp[(v, "direct")] == pytest.approx(res.coef[v], rel=1e-12)
        assert imp[(v, "total")] == pytest.approx(res.coef[v] + res.coef[f"W.{v}"] * mean_rows, rel=1e-12)


def test_spec_tests_unknown_test_names_the_available_ones():
    df, W = simulate("sar", n=100, seed=9)
    tests = sp.lm_tests("y ~ x1 + x2", df, W, unit="id")
    assert tests["SARMA"]["df"] == 2
    with pytest.raises(SpecificationError, match=r"no test 'LM_foo'.*'LM_error', 'LM_lag', 'RLM_error'"):
        tests["LM_foo"]
