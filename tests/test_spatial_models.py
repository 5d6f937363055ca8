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
    import econ.spatial.models

    for mod in (econ.spatial.models, econ.spatial.diagnostics):
        assert doctest.testmod(mod).failed == 0
