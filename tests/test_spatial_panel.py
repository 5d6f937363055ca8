"""Spatial panel models (econ.spatial.panel): spreg agreement, the Lee-Yu transformation, known-truth simulations,
the demonstration panel's planted spillover, bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import econ
import econ.spatial as sp
from econ.errors import PanelError, SpecificationError, WeightsError
from econ.spatial import panel as P
from econ.spatial.logdet import LogDet

import libpysal  # test extras: a missing peer fails the module, never skips it
import spreg
from libpysal.examples import get_path

RTOL = 1e-6


# ------------------------------------------------------------------------------------------------ real data
def _stl():
    """St Louis homicide panel (libpysal's bundled stl_hom): 78 counties x 3 periods, queen contiguity."""
    db = libpysal.io.open(get_path("stl_hom.dbf"))
    w = libpysal.io.open(get_path("stl.gal")).read()
    w.transform = "r"
    ids = [int(i) for i in w.id_order]
    df = pd.DataFrame({h: db.by_col(h) for h in db.header}).set_index("POLY_ID_OG").loc[ids].reset_index()
    waves = [("HR7984", "RDAC80", "PE77"), ("HR8488", "RDAC85", "PE82"), ("HR8893", "RDAC90", "PE87")]
    panel = pd.concat([pd.DataFrame({"id": df.POLY_ID_OG, "t": t, "hr": df[h], "rd": df[r], "pe": df[p]})
                       for t, (h, r, p) in enumerate(waves)], ignore_index=True)
    y = np.concatenate([df[h] for h, _, _ in waves])[:, None]  # long, time-major (spreg's long format)
    x = np.column_stack([np.concatenate([df[r] for _, r, _ in waves]), np.concatenate([df[p] for _, _, p in waves])])
    return panel, y, x, w, ids, "hr ~ rd + pe"


def _us_income():
    """US state incomes 1929-2009 (libpysal's us_income): growth of log income on its lagged level, 48 states."""
    inc = pd.read_csv(get_path("usjoin.csv"))
    w = libpysal.io.open(get_path("states48.gal")).read()
    w.transform = "r"
    years = [str(y) for y in range(1929, 2010)]
    logy = np.log(inc[years].to_numpy(float))
    growth, level = np.diff(logy, axis=1), logy[:, :-1]
    ids = [int(i) for i in w.id_order]
    order = np.array(ids)
    growth, level = growth[order], level[order]
    T = growth.shape[1]
    panel = pd.DataFrame({"id": np.repeat(ids, T), "t": np.tile(np.arange(T), len(ids)),
                          "g": growth.ravel(), "lvl": level.ravel()})
    return panel, growth.T.ravel()[:, None], level.T.ravel()[:, None], w, ids, "g ~ lvl"


def _econ_weights(w, ids):
    return sp.Weights(tuple(ids), sparse.csr_matrix(w.sparse), "r")


CASES = {"stl": _stl, "us_income": _us_income}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    return CASES[request.param]()


def _fit(case_, model, **kw):
    panel, _, _, w, ids, formula = case_
    kw.setdefault("lee_yu", False)
    return sp.fit(formula, panel, _econ_weights(w, ids), model=model, unit="id", time="t", effects="unit", **kw)


@pytest.mark.parametrize("model, peer", [("sar", "Panel_FE_Lag"), ("sem", "Panel_FE_Error"),
                                         ("sar", "ML_LagFE"), ("sem", "ML_ErrorFE")])
def test_matches_spreg_panel_ml(case, model, peer):
    panel, y, x, w, ids, _ = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = getattr(spreg, peer)(y, x, w, epsilon=1e-12)
    res = _fit(case, model)
    # spreg's bounded Brent stops a few 1e-8 from the optimum of a flat likelihood (econ solves the score
    # equation), hence the absolute tolerance on top of the relative one
    np.testing.assert_allclose(res.coef.to_numpy(), ref.betas.ravel(), rtol=RTOL, atol=1e-7)
    np.testing.assert_allclose(res.se.to_numpy(), np.sqrt(np.diag(ref.vm)), rtol=RTOL)
    np.testing.assert_allclose(res.sigma2, float(np.squeeze(ref.sig2)), rtol=RTOL)
    nt = len(panel)
    offset = nt / 2 * np.log(nt) if peer.startswith("Panel_FE") else 0.0  # e'e instead of e'e/NT in the log
    np.testing.assert_allclose(res.loglik - offset, float(np.squeeze(ref.logll)), rtol=1e-9)


def test_lee_yu_unit_effects_rescale_sigma2_only(case):
    direct, ly = _fit(case, "sar"), _fit(case, "sar", lee_yu=True)
    T = case[0]["t"].nunique()
    np.testing.assert_allclose(ly.coef.to_numpy(), direct.coef.to_numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ly.sigma2, direct.sigma2 * T / (T - 1), rtol=1e-10)


# ------------------------------------------------------------------------------------------------ simulation
def _lattice(side: int) -> sparse.csr_matrix:
    """Rook contiguity on a side x side grid (no islands), binary."""
    n = side * side
    i, j = [], []
    for r in range(side):
        for c in range(side):
            k = r * side + c
            if c + 1 < side:
                i += [k, k + 1]
                j += [k + 1, k]
            if r + 1 < side:
                i += [k, k + side]
                j += [k + side, k]
    return sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))


def _row_std(B):
    return sparse.diags(1.0 / np.asarray(B.sum(axis=1)).ravel()) @ B


def _draw_sdm(rng, W, T, rho, beta, theta, sigma=1.0, effects="twoways"):
    """Time-major stacked SDM panel with unit and period effects correlated with x."""
    n = W.shape[0]
    A = np.eye(n) - rho * W.toarray()
    mu = rng.normal(size=n)
    alpha = rng.normal(size=T)
    x = rng.normal(size=(T, n)) + 0.5 * mu[None, :] + 0.5 * alpha[:, None]
    y = np.empty((T, n))
    for t in range(T):
        fe = (mu if effects in ("unit", "twoways") else 0) + (alpha[t] if effects in ("time", "twoways") else 0)
        y[t] = np.linalg.solve(A, beta * x[t] + theta * (W @ x[t]) + fe + sigma * rng.normal(size=n))
    X = np.column_stack([x.ravel(), np.concatenate([W @ x[t] for t in range(T)])])
    return y.ravel(), X


def _orthonormal_complement(m: int) -> np.ndarray:
    """m x (m-1) orthonormal columns orthogonal to the ones vector."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(m), np.eye(m)[:, : m - 1]]))
    return q[:, 1:]


@pytest.mark.parametrize("effects", ["unit", "time", "twoways"])
def test_lee_yu_equals_explicit_transformation(effects):
    """The concentrated fit equals ML on the explicitly transformed data (F_T' (x) F_n') y with W* = F_n' W F_n."""
    rng = np.random.default_rng(7)
    W = _row_std(_lattice(5))
    n, T = W.shape[0], 6
    y, X = _draw_sdm(rng, W, T, 0.4, 1.0, 0.5, effects=effects)
    dims = P.PanelDims(n, T, effects, lee_yu=True)
    fit = P.panel_lag(y, X, W, dims, LogDet(W))
    FT = _orthonormal_complement(T) if dims.unit_fe else np.eye(T)
    Fn = _orthonormal_complement(n) if dims.time_fe else np.eye(n)
    Wd = W.toarray()
    Ws = Fn.T @ Wd @ Fn

    def tr(v):  # (F_T' (x) F_n') v for a time-major stacked vector
        return FT.T @ v.reshape(T, n) @ Fn
    ys = tr(y).ravel()
    Xs = np.column_stack([tr(X[:, j]).ravel() for j in range(X.shape[1])])
    Ts, ns = FT.shape[1], Fn.shape[1]
    Wbig = np.kron(np.eye(Ts), Ws)

    def negll(rho):
        b, *_ = np.linalg.lstsq(Xs, ys - rho * Wbig @ ys, rcond=None)
        e = ys - rho * Wbig @ ys - Xs @ b
        s2 = e @ e / (ns * Ts)
        return ns * Ts / 2 * (np.log(2 * np.pi * s2) + 1) - Ts * np.linalg.slogdet(np.eye(ns) - rho * Ws)[1]

    from scipy.optimize import minimize_scalar
    rho = minimize_scalar(negll, bounds=(-0.9, 0.95), method="bounded", options={"xatol": 1e-12}).x
    assert fit.spatial["rho"] == pytest.approx(rho, abs=1e-7)
    assert fit.loglik == pytest.approx(-negll(fit.spatial["rho"]), rel=1e-10)
    b, *_ = np.linalg.lstsq(Xs, ys - rho * Wbig @ ys, rcond=None)
    np.testing.assert_allclose(fit.beta, b, rtol=1e-6)
    # information matrix of the transformed model, built directly from W*
    rho, beta, s2 = fit.spatial["rho"], fit.beta, fit.sigma2
    G = Ws @ np.linalg.inv(np.eye(ns) - rho * Ws)
    g = np.kron(np.eye(Ts), G) @ Xs @ beta
    k = len(beta)
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = Xs.T @ Xs / s2
    info[:k, k] = info[k, :k] = Xs.T @ g / s2
    info[k, k] = Ts * (np.trace(G @ G) + np.trace(G.T @ G)) + g @ g / s2
    info[k, k + 1] = info[k + 1, k] = Ts * np.trace(G) / s2
    info[k + 1, k + 1] = ns * Ts / (2 * s2**2)
    np.testing.assert_allclose(fit.vcov, np.linalg.inv(info)[: k + 1, : k + 1], rtol=1e-8)


def _lee_yu_fit_and_explicit_transformation(seed, rho, estimator):
    """A two-way Lee-Yu fit of ``estimator`` on a simulated 5 x 5 lattice panel (T = 5, one regressor), and the
    data transformed explicitly by the orthonormal complements: ``(fit, n, T, Ws, ys, xs)``."""
    rng = np.random.default_rng(seed)
    W = _row_std(_lattice(5))
    n, T = W.shape[0], 5
    y, X = _draw_sdm(rng, W, T, rho, 1.0, 0.0)
    dims = P.PanelDims(n, T, "twoways", lee_yu=True)
    fit = estimator(y, X[:, :1], W, dims, LogDet(W))
    Fn, FT = _orthonormal_complement(n), _orthonormal_complement(T)
    Ws = Fn.T @ W.toarray() @ Fn

    def tr(v):
        return (FT.T @ v.reshape(T, n) @ Fn).ravel()

    return fit, n, T, Ws, tr(y), tr(X[:, 0])


def test_lee_yu_error_model_equals_explicit_transformation():
    fit, n, T, Ws, ys, xs = _lee_yu_fit_and_explicit_transformation(3, 0.0, P.panel_error)
    Wbig = np.kron(np.eye(T - 1), Ws)

    def negll(lam):
        yl, xl = ys - lam * Wbig @ ys, xs - lam * Wbig @ xs
        e = yl - xl * (xl @ yl) / (xl @ xl)
        s2 = e @ e / ((n - 1) * (T - 1))
        return (n - 1) * (T - 1) / 2 * np.log(s2) - (T - 1) * np.linalg.slogdet(np.eye(n - 1) - lam * Ws)[1]

    from scipy.optimize import minimize_scalar
    lam = minimize_scalar(negll, bounds=(-0.9, 0.95), method="bounded", options={"xatol": 1e-12}).x
    assert fit.spatial["lambda"] == pytest.approx(lam, abs=1e-7)
    H = Ws @ np.linalg.inv(np.eye(n - 1) - fit.spatial["lambda"] * Ws)
    m = (n - 1) * (T - 1)
    info = np.array([[(T - 1) * (np.trace(H @ H) + np.trace(H.T @ H)), (T - 1) * np.trace(H) / fit.sigma2],
                     [(T - 1) * np.trace(H) / fit.sigma2, m / (2 * fit.sigma2**2)]])
    assert fit.vcov[-1, -1] == pytest.approx(np.linalg.inv(info)[0, 0], rel=1e-8)


def test_lee_yu_monte_carlo_removes_bias():
    """Lee & Yu (2010, Tables 1-2): with two-way effects and small T the direct ML sigma2 is biased by
    (n-1)(T-1)/(nT) and rho is biased; the transformation approach removes both (seeded, 150 replications)."""
    rng = np.random.default_rng(20100101)
    W = _row_std(_lattice(7))
    n, T, rho0, beta0, theta0 = W.shape[0], 4, 0.4, 1.0, 0.5
    ld = LogDet(W)
    est = {False: [], True: []}
    for _ in range(150):
        y, X = _draw_sdm(rng, W, T, rho0, beta0, theta0)
        for ly in (False, True):
            f = P.panel_lag(y, X, W, P.PanelDims(n, T, "twoways", lee_yu=ly), ld)
            est[ly].append([f.spatial["rho"], *f.beta, f.sigma2])
    direct, corrected = np.mean(est[False], axis=0), np.mean(est[True], axis=0)
    se = np.std(est[True], axis=0, ddof=1) / np.sqrt(150)
    truth = np.array([rho0, beta0, theta0, 1.0])
    # direct sigma2 is biased down by about (n-1)(T-1)/(nT) = 0.735; the correction removes it
    assert direct[3] < 0.8
    assert abs(corrected[3] - 1.0) < 3 * se[3] + 0.01
    # every corrected parameter within 3 Monte-Carlo standard errors of the truth; direct rho is biased down
    assert np.all(np.abs(corrected - truth) < 3 * se + 0.005)
    assert corrected[0] - direct[0] > 0.02  # direct rho about 0.36 (Lee & Yu: O(1/n) + O(1/T) bias)


# ------------------------------------------------------------------------------------------------ demo panel
def test_demo_panel_recovers_planted_spillover():
    """china_cities_demo: spillover -0.03 per unit of the treated-neighbour share (row-standardised contiguity).

    The own effect ramps up over three years with a cohort-specific peak (truth JSON), so it is specified as one
    ramp per cohort; ``treated`` then captures any remaining level shift (zero) and only it is lagged. (With a
    single static ``treated`` dummy the heterogeneous own effect loads onto W.treated.)"""

    d = econ.datasets.load("china_cities_demo")
    truth = econ.datasets.truth("china_cities_demo")
    W = econ.datasets.load_weights().row_standardize()
    e = np.where(d["cohort"] > 0, d["year"] - d["cohort"], -1)
    ramp = np.where(d["treated"] == 1, np.minimum(e + 1, truth["params"]["ramp_years"]) / truth["params"][
        "ramp_years"], 0.0)
    cohorts = sorted(int(c) for c in truth["params"]["peak_effect"])
    for g in cohorts:
        d[f"ramp{g}"] = ramp * (d["cohort"] == g)
    formula = "log_income_ratio ~ " + " + ".join(f"ramp{g}" for g in cohorts) + " + treated"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the island prefectures of Hainan are warned about
        res = sp.fit(formula, d, W, model="sdm", unit="prefecture_code", time="year", effects="twoways",
                     wx=["treated"])
    imp = res.impacts(n_draws=400, seed=1).tidy().set_index(["variable", "effect"])
    spill = truth["spillover_log_ratio"]
    lo, hi = imp.loc[("treated", "indirect"), ["conf_low", "conf_high"]]
    assert lo < spill < hi
    assert imp.loc[("treated", "indirect"), "estimate"] < 0
    share = 1 - truth["params"]["urban_share"]
    for g in cohorts:  # own (direct) effect at the peak: -(1 - urban_share) * peak
        lo, hi = imp.loc[(f"ramp{g}", "direct"), ["conf_low", "conf_high"]]
        assert lo < -share * truth["params"]["peak_effect"][str(g)] < hi
    lo, hi = imp.loc[("treated", "direct"), ["conf_low", "conf_high"]]
    assert lo < 0 < hi
    assert any("islands" in n for n in res.notes)


# ------------------------------------------------------------------------------------------------ interface
def _small_panel(n_side=4, T=4, seed=0):
    rng = np.random.default_rng(seed)
    B = _lattice(n_side)
    W = _row_std(B)
    y, X = _draw_sdm(rng, W, T, 0.3, 1.0, 0.2, effects="unit")
    n = W.shape[0]
    df = pd.DataFrame({"id": np.tile([f"u{i}" for i in range(n)], T), "year": np.repeat(2000 + np.arange(T), n),
                       "y": y, "x": X[:, 0]})
    return df, sp.Weights(tuple(f"u{i}" for i in range(n)), sparse.csr_matrix(W), "r")


@pytest.mark.parametrize("model, spatial", [("sar", "rho"), ("sdm", "rho"), ("sem", "lambda"), ("sdem", "lambda"),
                                            ("slx", None)])
def test_result_interface(model, spatial):
    df, W = _small_panel()
    res = sp.fit("y ~ x", df.sample(frac=1, random_state=1), W, model=model, unit="id", time="year",
                 effects="twoways")
    names = ["x"] + (["W.x"] if model in ("sdm", "sdem", "slx") else []) + ([spatial] if spatial else [])
    assert list(res.coef.index) == names
    assert list(res.tidy().columns) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low",
                                        "conf_high"]
    assert np.isfinite(res.loglik) and res.aic == pytest.approx(2 * (len(names) + 1) - 2 * res.loglik)
    assert res.nobs == len(df) and res.extra["effects"] == "twoways"
    assert "Log-likelihood" in res.summary()
    if model in ("sar", "sdm", "sdem"):
        imp = res.impacts(n_draws=50)
        assert set(imp.tidy()["effect"]) == {"direct", "indirect", "total"}


def test_formula_fixed_effects_and_input_not_mutated():
    df, W = _small_panel()
    before = df.copy()
    a = sp.fit("y ~ x | id + year", df, W, model="sar", unit="id", time="year")
    b = sp.fit("y ~ x", df, W, model="sar", unit="id", time="year", effects="twoways")
    pd.testing.assert_series_equal(a.coef, b.coef)
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(SpecificationError, match="effects"):
        sp.fit("y ~ x | id", df, W, model="sar", unit="id", time="year", effects="time")


def test_pooled_panel_has_intercept():
    df, W = _small_panel()
    res = sp.fit("y ~ x", df, W, model="sar", unit="id", time="year")
    assert list(res.coef.index) == ["Intercept", "x", "rho"]


def test_sdm_impacts_point_values():
    """Panel SDM impacts use the n x n W: direct = tr(S)/n, total = (b + t)/(1 - rho) for row-standardised W."""
    df, W = _small_panel(T=6)
    res = sp.fit("y ~ x", df, W, model="sdm", unit="id", time="year", effects="unit")
    imp = res.impacts(n_draws=0).tidy().set_index("effect")["estimate"]
    b, t, r = res.coef["x"], res.coef["W.x"], res.coef["rho"]
    Wd = W.to_dense()
    S = np.linalg.inv(np.eye(W.n) - r * Wd) @ (b * np.eye(W.n) + t * Wd)
    assert imp["direct"] == pytest.approx(np.trace(S) / W.n, rel=1e-9)
    assert imp["total"] == pytest.approx((b + t) / (1 - r), rel=1e-9)


# ------------------------------------------------------------------------------------------------ bad input
def test_unbalanced_panel_is_refused_with_names():
    df, W = _small_panel()
    with pytest.raises(PanelError, match=r"balanced.*\('u3', 2001\)"):
        sp.fit("y ~ x", df.drop(index=df.index[(df.id == "u3") & (df.year == 2001)]), W, model="sar", unit="id",
               time="year", effects="unit")


def test_weights_unit_mismatch_names_units():
    df, W = _small_panel()
    df = df.replace({"id": {"u0": "zz"}})
    with pytest.raises(WeightsError, match="zz"):
        sp.fit("y ~ x", df, W, model="sem", unit="id", time="year", effects="unit")


def test_duplicate_keys_missing_values_and_absorbed_regressors():
    df, W = _small_panel()
    with pytest.raises(PanelError, match="duplicate"):
        sp.fit("y ~ x", pd.concat([df, df.iloc[:1]]), W, model="sar", unit="id", time="year", effects="unit")
    bad = df.copy()
    bad.loc[3, "x"] = np.nan
    with pytest.raises(SpecificationError, match="missing"):
        sp.fit("y ~ x", bad, W, model="sar", unit="id", time="year", effects="unit")
    df["const_in_unit"] = df["id"].str[1:].astype(float)
    with pytest.raises(SpecificationError, match="const_in_unit"):
        sp.fit("y ~ x + const_in_unit", df, W, model="sar", unit="id", time="year", effects="unit")


def test_unsupported_options_are_errors():
    df, W = _small_panel()
    for kw, match in [({"model": "sarar"}, "model"), ({"method": "s2sls"}, "ML"), ({"vcov": "hetero"}, "vcov"),
                      ({"effects": "both"}, "effects"), ({"unit": None}, "unit")]:
        args = {"model": "sar", "unit": "id", "time": "year", "effects": "unit"} | kw
        with pytest.raises(SpecificationError, match=match):
            sp.fit("y ~ x", df, W, **args)


def test_rho_at_boundary_is_an_error():
    """Outcome equal to its own spatial lag: the likelihood increases up to the edge of the interval."""
    df, W = _small_panel()
    rng = np.random.default_rng(0)
    n, T = W.n, 4
    comp = np.tile(rng.normal(size=T)[:, None], (1, n)).ravel()  # constant across units within a period
    df = df.sort_values(["year", "id"], key=lambda s: s.map({u: i for i, u in enumerate(W.ids)}) if s.name == "id"
                        else s).reset_index(drop=True)
    df["y"] = comp + 1e-9 * rng.normal(size=n * T)
    with pytest.raises(SpecificationError, match="boundary"):
        sp.fit("y ~ x", df, W, model="sar", unit="id", time="year", effects="unit", lee_yu=False)


def test_islands_with_period_effects_and_lee_yu_warn():
    df, W = _small_panel()
    B = W.matrix.tolil()
    B[0, :] = 0
    B[:, 0] = 0
    Wi = sp.Weights(W.ids, sparse.csr_matrix(B), "r")
    with pytest.warns(sp.SpatialWarning, match="period effects"):
        res = sp.fit("y ~ x", df, Wi, model="sar", unit="id", time="year", effects="twoways")
    assert any("O(1/n)" in n for n in res.notes)


def test_series_traces_close_to_exact_and_noted(monkeypatch):
    """Beyond traces.EXACT_MAX_N units the information-matrix traces are Hutchinson (Monte-Carlo) estimates."""
    import econ.spatial.traces as traces

    W = _row_std(_lattice(20))
    for r in (-0.4, 0.3, 0.8):
        exact = np.array(traces.resolvent_traces(W, r, exact=True)[:3])
        *approx, rel = traces.resolvent_traces(W, r, exact=False)
        assert 0 < rel < 0.05
        assert np.all(np.abs(np.array(approx) - exact) <= 4 * rel * np.abs(exact).max())  # within its error
    df, Wt = _small_panel(n_side=6, T=5)
    exact = sp.fit("y ~ x", df, Wt, model="sar", unit="id", time="year", effects="unit")
    monkeypatch.setattr(traces, "EXACT_MAX_N", 10)
    with pytest.warns(sp.SpatialWarning, match="Monte-Carlo"):
        approx = sp.fit("y ~ x", df, Wt, model="sar", unit="id", time="year", effects="unit")
    pd.testing.assert_series_equal(approx.coef, exact.coef)
    np.testing.assert_allclose(approx.se, exact.se, rtol=0.02)


def test_sparse_lu_path_matches_eigen():
    """The sparse-LU path (Chebyshev bracket, then the root of the exact score with the complex-step derivative of
    the log-determinant) finds the same estimates, standard errors and likelihood as the eigenvalue path."""
    df, W = _small_panel(n_side=6, T=5)
    for model, effects in (("sar", "twoways"), ("sem", "unit"), ("sdm", "unit"), ("sem", "twoways")):
        a = sp.fit("y ~ x", df, W, model=model, unit="id", time="year", effects=effects, logdet="eigen")
        b = sp.fit("y ~ x", df, W, model=model, unit="id", time="year", effects=effects, logdet="sparse_lu")
        np.testing.assert_allclose(b.coef, a.coef, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b.se, a.se, rtol=1e-10)
        assert b.loglik == pytest.approx(a.loglik, rel=1e-12)


def test_auto_uses_sparse_lu_for_knn_panels(monkeypatch):
    """Issue 23: beyond EIGEN_GENERAL_MAX_N a kNN W (complex eigenvalues) takes the sparse-LU route in the
    one-parameter panel fits, with the eigenvalue route's numbers; SAC (hundreds of evaluations) keeps eigenvalues."""
    df, _ = _small_panel(n_side=6, T=4)
    rng = np.random.default_rng(3)
    pts = rng.uniform(size=(36, 2))
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    idx = np.argsort(d, axis=1)[:, 1:5]
    M = sparse.csr_matrix((np.full(36 * 4, 0.25), (np.repeat(np.arange(36), 4), idx.ravel())), shape=(36, 36))
    W = sp.Weights(tuple(f"u{i}" for i in range(36)), M, "r")
    df = df.assign(y=df["y"] + 0.5 * np.tile(M @ rng.normal(size=36), 4))
    monkeypatch.setattr(econ.spatial.traces, "EIGEN_GENERAL_MAX_N", 20)
    calls = []
    pivots = LogDet._pivots
    monkeypatch.setattr(LogDet, "_pivots", lambda self, rho: calls.append(rho) or pivots(self, rho))
    for model in ("sem", "sar"):
        calls.clear()
        auto = sp.fit("y ~ x", df, W, model=model, unit="id", time="year", effects="unit")
        assert len(calls) <= 12  # factorisations per fit (Brent on the exact likelihood alone took ~15-20)
        eig = sp.fit("y ~ x", df, W, model=model, unit="id", time="year", effects="unit", logdet="eigen")
        assert auto.logdet_method == "sparse_lu"
        np.testing.assert_allclose(auto.coef, eig.coef, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(auto.se, eig.se, rtol=1e-10)
        assert auto.loglik == pytest.approx(eig.loglik, rel=1e-12)
    assert sp.fit("y ~ x", df, W, model="sac", unit="id", time="year", effects="unit").logdet_method == "eigen"


def test_sac_single_period_pooled_equals_cross_section():
    """A one-period pooled SAC panel is the cross-section SAC of econ.spatial.fit (checked there against R)."""
    panel, _, _, w, ids, formula = _stl()
    one = panel[panel["t"] == 2]
    W = _econ_weights(w, ids)
    a = sp.fit(formula, one, W, model="sac", unit="id", time="t")
    b = sp.fit(formula, one, W, model="sac", unit="id")
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-4)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-9)


def test_sac_lee_yu_equals_explicit_transformation():
    fit, n, T, Ws, ys, xs = _lee_yu_fit_and_explicit_transformation(11, 0.3, P.panel_sac)
    I1, It = np.eye(n - 1), np.eye(T - 1)
    m = (n - 1) * (T - 1)

    def negll(p):
        r, lam = p
        Bb = np.kron(It, I1 - lam * Ws)
        yl, xl = Bb @ np.kron(It, I1 - r * Ws) @ ys, Bb @ xs
        e = yl - xl * (xl @ yl) / (xl @ xl)
        return (m / 2 * (np.log(2 * np.pi * (e @ e) / m) + 1) - (T - 1) * (
            np.linalg.slogdet(I1 - r * Ws)[1] + np.linalg.slogdet(I1 - lam * Ws)[1]))

    from scipy.optimize import minimize
    ref = minimize(negll, [0.2, 0.1], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-13}).x
    np.testing.assert_allclose([fit.spatial["rho"], fit.spatial["lambda"]], ref, atol=2e-6)
    assert fit.loglik == pytest.approx(-negll([fit.spatial["rho"], fit.spatial["lambda"]]), rel=1e-10)
    # information matrix built directly from W* (traces of the (n-1) x (n-1) matrices)
    r, lam, s2, b = fit.spatial["rho"], fit.spatial["lambda"], fit.sigma2, fit.beta[0]
    WA = Ws @ np.linalg.inv(I1 - r * Ws)
    B = I1 - lam * Ws
    D = Ws @ np.linalg.inv(B)
    C = B @ WA @ np.linalg.inv(B)
    xB = np.kron(It, B) @ xs
    v = np.kron(It, B @ WA) @ xs * b
    info = np.array([
        [xB @ xB / s2, xB @ v / s2, 0, 0],
        [xB @ v / s2, (T - 1) * (np.trace(WA @ WA) + np.trace(C.T @ C)) + v @ v / s2,
         (T - 1) * (np.trace(C.T @ D) + np.trace(WA @ D)), (T - 1) * np.trace(WA) / s2],
        [0, (T - 1) * (np.trace(C.T @ D) + np.trace(WA @ D)), (T - 1) * (np.trace(D @ D) + np.trace(D.T @ D)),
         (T - 1) * np.trace(D) / s2],
        [0, (T - 1) * np.trace(WA) / s2, (T - 1) * np.trace(D) / s2, m / (2 * s2**2)]])
    np.testing.assert_allclose(fit.vcov, np.linalg.inv(info)[:3, :3], rtol=1e-6)


@pytest.mark.parametrize("effects", ["unit", "time", "twoways"])
def test_within_equals_the_panel_engine_absorber(effects):
    from econ.panel.demean import Absorber

    n, T = 7, 4
    v = np.random.default_rng(0).normal(size=(n * T, 2))
    unit, time = np.tile(np.arange(n), T), np.repeat(np.arange(T), n)
    fe = {"unit": [unit], "time": [time], "twoways": [unit, time]}[effects]
    np.testing.assert_allclose(P.within(v, P.PanelDims(n, T, effects)), Absorber(fe).demean(v), atol=1e-12)


def test_singular_information_matrix_is_an_error():
    """Called on a design the public fit would refuse (a regressor absorbed by the effects), the core names the
    singular information matrix instead of returning numbers."""
    rng = np.random.default_rng(0)
    W = _row_std(_lattice(4))
    n, T = W.shape[0], 4
    y, X = _draw_sdm(rng, W, T, 0.2, 1.0, 0.0, effects="unit")
    X = np.column_stack([X[:, 0], np.tile(rng.normal(size=n), T)])  # constant over time: zero after demeaning
    dims = P.PanelDims(n, T, "unit")
    for core in (P.panel_error, P.panel_lag):
        with pytest.raises(SpecificationError, match="singular"):
            core(y, X, W, dims, LogDet(W))


@pytest.mark.parametrize("effects, dummies", [("time", "i(year, ref=2000)"), ("unit", "i(id, ref='u0')"),
                                             ("twoways", "i(id, ref='u0') + i(year, ref=2000)")])
@pytest.mark.parametrize("model", ["sar", "sem", "sac"])
def test_direct_approach_equals_dummy_variable_ml(effects, dummies, model):
    """lee_yu=False concentrates the effects out exactly: the same estimates as ML with the effect dummies as
    regressors, even for a W with an island (rows not summing to one): the lags are demeaned (not the data lagged)
    and, in error models, period effects are removed after the spatial filter (filtered_within)."""
    df, W = _small_panel(n_side=4, T=5)
    B = W.matrix.tolil()
    B[0, :] = 0
    B[:, 0] = 0
    Wi = sp.Weights(W.ids, sparse.csr_matrix(B), "custom")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fe = sp.fit("y ~ x", df, Wi, model=model, unit="id", time="year", effects=effects, lee_yu=False)
        lsdv = sp.fit(f"y ~ x + {dummies}", df, Wi, model=model, unit="id", time="year", lee_yu=False)
    keep = ["x"] + [c for c in ("rho", "lambda") if c in fe.coef.index]
    np.testing.assert_allclose(fe.coef[keep], lsdv.coef[keep], rtol=1e-5 if model == "sac" else 1e-7)
    assert fe.loglik == pytest.approx(lsdv.loglik, rel=1e-10)
