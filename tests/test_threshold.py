"""Hansen (1999) fixed-effects panel threshold regression (issue 25).

* pyxthreg 0.0.3 (PyPI), exact search, stored fixture (tests/fixtures/threshold/make_pyxthreg.py, so the floors
  run needs no pyxthreg): thresholds, SSRs, F statistics, slopes, standard errors and the SSR profiles behind the
  LR curves, on REAL data (a balanced 31-province x 2006-2012 sub-panel of the bundled ``china_province_income``,
  year effects as dummies and, for pyxthreg, by its two-way within transform; LR intervals too) and on the
  simulated panels pyxthreg ships (loaded from an installed pyxthreg; skipped without it);
* the fast search against brute force: every SSR of the search equals the SSR of ``feols`` on the regime-split
  regressors at that threshold (province panel);
* a known-truth simulation with two thresholds; bad input.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from econ.errors import PanelError, SpecificationError
from econ.panel import feols, threshold
from econ.panel.threshold import lr_critical_value

FIXDIR = Path(__file__).parent / "fixtures" / "threshold"
REF = json.loads((FIXDIR / "pyxthreg_reference.json").read_text())
_spec = importlib.util.spec_from_file_location("make_pyxthreg", FIXDIR / "make_pyxthreg.py")
make_pyxthreg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_pyxthreg)
YEARS = make_pyxthreg.YEARS
PROVINCE = dict(unit="unit", time="year", rx="rel_lag", qx="rel_lag", covariates=YEARS)


@pytest.fixture(scope="module")
def province():
    return make_pyxthreg.province_panel()


def test_lr_critical_value_formula():
    assert lr_critical_value(0.95) == pytest.approx(-2 * np.log(1 - np.sqrt(0.95)))
    assert round(lr_critical_value(0.95), 2) == 7.35 and round(lr_critical_value(0.99), 2) == 10.59


def _fit_case(c, data):
    x = YEARS if c["time_fe"] else c["x"]  # econ absorbs unit effects only: year effects as dummies
    qx = "rel_lag" if c["data"] == "province" else c["qx"]  # econ accepts a regressor as threshold variable
    return threshold(data, c["y"], c["unit"], c["time"], rx=c["rx"], qx=qx, covariates=x,
                     n_thresholds=c["n_thresholds"], grid=None, trim=REF["trim"], n_draws=0)


def _curve_ssr(res, stage, smin):
    """SSR profile behind econ's LR curve of ``stage`` (econ's LR uses Hansen's sigma^2 = S / (n (T - 1)))."""
    d = res.lr[stage]
    n_units, n_periods = res.info["n_units"], res.info["n_periods"]
    return pd.Series(d["lr"].to_numpy() * smin / (n_units * (n_periods - 1)) + smin, index=d["threshold"])


def _compare_with_pyxthreg(res, c, full_profiles=False):
    n_units, n_periods, m = c["N"], c["T"], c["n_thresholds"]
    st = res.stages.set_index("stage")["threshold"]
    ssr_test = res.tests["ssr"].to_numpy()
    ssr_final = float(np.sum(np.asarray(res.regression.resid) ** 2))
    # thresholds are observed values of q: identical floats
    np.testing.assert_allclose(np.sort(res.thresholds["threshold"]), c["thresholds"], rtol=1e-13, atol=0)
    # S1(g1); the SSR of the final model (pyxthreg's last rss is the SSR after refinement)
    assert ssr_test[0] == pytest.approx(c["rss"][0], rel=1e-9)
    assert ssr_final == pytest.approx(c["rss"][-1], rel=1e-9)
    # F: pyxthreg divides by S / (nT - T [- (T - 1) with time effects]), econ by Hansen's S / (n (T - 1))
    scale = n_units * (n_periods - 1) / c["F_df"]
    assert res.tests["F"].iloc[0] == pytest.approx(c["F"][0] * scale, rel=1e-9)
    moved = m >= 2 and st["Th-1"] != st["Th-21"]  # refinement moved g1: pyxthreg then tests from g1r
    if not moved:
        np.testing.assert_allclose(res.tests["F"].to_numpy(), np.asarray(c["F"]) * scale, rtol=1e-9)
        np.testing.assert_allclose(ssr_test, c["rss"], rtol=1e-9)
    # slopes and iid standard errors (same df: nT - n - K); pyxthreg's two-way fit reports the regime slopes only
    k = len(c["beta"])
    np.testing.assert_allclose(res.coef.to_numpy()[-k:], c["beta"], rtol=1e-9)
    # pyxthreg's two-way fit estimates sigma^2 with nT - n - K, not counting the T - 1 time effects it absorbed
    n_obs = n_units * n_periods
    se_scale = np.sqrt((n_obs - n_units - k) / (n_obs - n_units - k - (n_periods - 1))) if c["time_fe"] else 1.0
    np.testing.assert_allclose(res.se.to_numpy()[-k:], np.asarray(c["se"]) * se_scale, rtol=1e-9)
    # SSR profiles behind the LR curves, on the candidates both packages search (their trimming rules differ by
    # at most one candidate at each end: ceil vs floor of trim n)
    order = np.argsort(c["thresholds"]).tolist()  # pyxthreg's profiles are in ascending threshold order
    if m == 1:
        pairs = [("Th-1", st["Th-1"], ssr_test[0])]
    elif m == 2:
        pairs = [("Th-21", st["Th-21"], ssr_final)] + ([] if moved else [("Th-22", st["Th-22"], ssr_test[1])])
    else:
        pairs = [("Th-3", st["Th-3"], ssr_final)]  # pyxthreg re-refines every threshold at stage 3
    for stage, value, smin in pairs:
        j = order[int(np.flatnonzero(np.isclose(c["thresholds"], value, rtol=1e-13, atol=0))[0])]
        prof = pd.Series(c["profiles"][j]["ssr"], index=c["profiles"][j]["threshold"])
        ours = _curve_ssr(res, stage, smin)
        common = prof.index.intersection(ours.index)
        assert len(common) >= len(prof) - 2, (stage, len(common), len(prof))
        np.testing.assert_allclose(ours[common].to_numpy(), prof[common].to_numpy(), rtol=1e-9)
        if full_profiles:
            # pyxthreg's LR interval uses sigma^2 = S / (nT - n - K): rebuilt on its candidates from econ's profile
            # (pyxthreg's own value only at the at most two edge candidates econ's trimming excludes)
            both = prof.copy()
            both[common] = ours[common]
            lr_pyx = (both - ssr_final) / (ssr_final / c["lr_df"])
            inside = lr_pyx.index[lr_pyx.to_numpy() <= lr_critical_value(0.95)]
            assert [inside.min(), inside.max()] == pytest.approx(c["ci"][j], rel=1e-13)
    return moved


@pytest.mark.parametrize("case", ["province_dummies_1", "province_dummies_2", "province_twoway_2"])
def test_real_province_panel_matches_pyxthreg(province, case):
    c = REF["cases"][case]
    res = _fit_case(c, province)
    moved = _compare_with_pyxthreg(res, c, full_profiles=True)
    if c["n_thresholds"] == 2:
        # on this panel the refinement moves g1 (-0.0722 -> -0.0636): econ's test of 1 vs 2 thresholds uses
        # Hansen's S(g1, g2) (larger than pyxthreg's refined SSR), pyxthreg's its refined S(g1r, g2)
        assert moved and res.tests["ssr"].iloc[1] > c["rss"][1] * (1 + 1e-6)
    # Hansen's LR interval (sigma^2 = S / (n (T - 1))) from the curve
    lr1 = res.lr["Th-21" if c["n_thresholds"] == 2 else "Th-1"]
    inside = lr1.loc[lr1["lr"] <= lr_critical_value(0.95), "threshold"]
    row = res.stages.set_index("stage").loc["Th-21" if c["n_thresholds"] == 2 else "Th-1"]
    assert (row["conf_low"], row["conf_high"]) == (inside.min(), inside.max())


@pytest.mark.parametrize("case", sorted(make_pyxthreg.PYX_PANELS))
def test_pyxthreg_simulated_panels(case):
    pyxthreg = pytest.importorskip(
        "pyxthreg", reason="pyxthreg not installed (test extra): the simulated panels compared here ship with it")
    c = REF["cases"][case]
    data = pyxthreg.load_dataset(f"{c['data']}.dta")
    c = {**c, "rx": make_pyxthreg.columns(data, None, None)[0], "x": make_pyxthreg.columns(data, None, None)[1]}
    assert c["rx"] == REF["cases"][case]["rx"] and c["x"] == REF["cases"][case]["x"]
    res = _fit_case(c, data)
    assert not _compare_with_pyxthreg(res, c)


def _feols_ssr(df, gammas, q="rel_lag", z="rel_lag"):
    qv = df[q].to_numpy()
    edges = [-np.inf] + sorted(gammas) + [np.inf]
    d = df.copy()
    terms = []
    for j in range(len(edges) - 1):
        d[f"regime{j}"] = d[z] * ((qv > edges[j]) & (qv <= edges[j + 1]))
        terms.append(f"regime{j}")
    r = feols("growth ~ " + " + ".join(YEARS + terms) + " | unit", d, fixef_rm="none")
    return float(np.sum(np.asarray(r.resid) ** 2))


def test_search_ssr_equals_brute_force_feols(province):
    sub = province  # the whole real panel (217 rows): brute force stays fast
    res = threshold(sub, "growth", **PROVINCE, n_thresholds=2, grid=60, trim=0.05, n_draws=0)
    st = res.stages.set_index("stage")["threshold"]
    assert res.tests["ssr"].iloc[0] == pytest.approx(_feols_ssr(sub, [st["Th-1"]]), rel=1e-10)
    assert res.tests["ssr"].iloc[1] == pytest.approx(_feols_ssr(sub, [st["Th-1"], st["Th-22"]]), rel=1e-10)
    final = float(np.sum(np.asarray(res.regression.resid) ** 2))
    assert final == pytest.approx(_feols_ssr(sub, [st["Th-21"], st["Th-22"]]), rel=1e-10)
    # the LR curve at arbitrary candidates, recomputed by brute force
    lr = res.lr["Th-1"]
    s_hat = res.tests["ssr"].iloc[0]
    sig2 = s_hat / (sub["unit"].nunique() * (sub["year"].nunique() - 1))
    for g in lr["threshold"].iloc[[0, 17, 40]]:
        expect = (_feols_ssr(sub, [g]) - s_hat) / sig2
        assert lr.set_index("threshold").loc[g, "lr"] == pytest.approx(expect, rel=1e-8, abs=1e-8)
    # the brute-force minimum over the same grid is the estimate
    ssr_all = [_feols_ssr(sub, [g]) for g in lr["threshold"]]
    assert lr["threshold"].iloc[int(np.argmin(ssr_all))] == st["Th-1"]


def _two_threshold_panel(seed, n=200, T=8, effect=(1.0, -1.0, 0.5)):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(T), n)})
    mu = rng.normal(size=n)[df["id"]]
    df["q"] = rng.uniform(size=n * T)
    df["z"] = rng.normal(size=n * T)
    df["x"] = rng.normal(size=n * T) + mu
    slope = np.select([df.q <= 0.3, df.q <= 0.7], effect[:2], effect[2])
    df["y"] = mu + 0.5 * df.x + slope * df.z + rng.normal(scale=0.5, size=n * T)
    return df


def test_known_truth_two_thresholds():
    df = _two_threshold_panel(1)
    res = threshold(df, "y", "id", "t", rx="z", qx="q", covariates="x", n_thresholds=2, grid=100,
                    n_draws=[99, 99], seed=1)
    thr = res.thresholds["threshold"].to_numpy()
    assert abs(thr[0] - 0.3) < 0.02 and abs(thr[1] - 0.7) < 0.02
    # LR intervals (sets of grid points) cover the truth up to the grid spacing (about 0.008 here)
    assert (res.thresholds["conf_low"] - 0.01 <= [0.3, 0.7]).all()
    assert (res.thresholds["conf_high"] + 0.01 >= [0.3, 0.7]).all()
    assert (res.tests["p_value"] < 0.05).all()
    np.testing.assert_allclose(res.coef.iloc[1:].to_numpy(), [1.0, -1.0, 0.5], atol=0.1)
    assert res.coef["x"] == pytest.approx(0.5, abs=0.05)


def test_no_threshold_not_rejected_and_F_invariant_to_the_null_fit():
    df = _two_threshold_panel(2, effect=(0.7, 0.7, 0.7))
    kw = dict(unit="id", time="t", rx="z", qx="q", covariates="x", grid=80, n_draws=99, seed=3)
    res = threshold(df, "y", **kw)
    assert res.tests["p_value"].iloc[0] > 0.05
    shifted = df.assign(y=df.y + 3.0 * df.x - 2.0 * df.z + 10.0)
    res2 = threshold(shifted, "y", **kw)
    assert res2.tests["F"].iloc[0] == pytest.approx(res.tests["F"].iloc[0], rel=1e-8)
    # same draws: the statistic ignores x b and z d
    np.testing.assert_allclose(res2.boot_F[1], res.boot_F[1], rtol=1e-10)


def test_clustered_vcov_result_protocol_and_etable(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import econ
    from econ.results import Result

    df = _two_threshold_panel(4, n=80)
    df["region"] = df["id"] % 10  # a cluster coarser than the unit, not among the model's columns
    kw = dict(rx="z", qx="q", covariates="x", grid=40, n_draws=0)
    res = threshold(df, "y", "id", "t", **kw, vcov={"CL1": "region"})
    # the result is the final regression: same slopes and clustered covariance as feols on the regime split
    ref = feols("y ~ x + `z[q<=0.5]` + `z[q>0.5]` | id", df.assign(
        **{"z[q<=0.5]": df.z * (df.q <= res.thresholds["threshold"].iloc[0]),
           "z[q>0.5]": df.z * (df.q > res.thresholds["threshold"].iloc[0])}), vcov={"CL1": "region"},
        fixef_rm="none")
    assert isinstance(res, Result) and res.n_clusters == 10 and res.nobs == len(df) and res.n_units == 80
    np.testing.assert_allclose(res.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.se.to_numpy(), ref.se.to_numpy(), rtol=1e-10)
    tid = res.tidy()
    assert list(tid.columns[:6]) == ["term", "estimate", "std_error", "p_value", "conf_low", "conf_high"]
    assert tid["variable"].tolist() == ["x", "z", "z"] and tid["regime"].iloc[0] == "all"
    assert tid["regime"].iloc[1].startswith("q<=") and tid["regime"].iloc[2].startswith("q>")
    table = econ.etable([res, res.regression])
    assert "Panel threshold" in table and table.count("z[q<=") == 1
    fig, ax = res.plot(path=tmp_path / "lr.png", stage="Th-1")
    assert (tmp_path / "lr.png").exists() and ax.figure is fig
    with pytest.raises(SpecificationError, match="vcov"):
        threshold(df, "y", "id", "t", **kw, vcov={"CL1": "nope"})


def test_bad_input():
    df = _two_threshold_panel(5, n=40, T=5)
    kw = dict(unit="id", time="t", rx="z", qx="q", covariates="x", grid=30, n_draws=0)
    with pytest.raises(PanelError, match="balanced panel.*\\[3\\]"):
        threshold(df.drop(index=17), "y", **kw)
    with pytest.raises(PanelError, match="missing or infinite.*units \\[2\\]"):
        threshold(df.assign(q=np.where(df.index == 12, np.nan, df.q)), "y", **kw)
    with pytest.raises(SpecificationError, match="fewer than 2 distinct"):
        threshold(df.assign(q=1.0), "y", **kw)
    unitq = df.assign(q=df.groupby("id").q.transform("first"), z=1.0)  # q and z constant within units
    with pytest.raises(SpecificationError, match="not identified with unit fixed effects|collinear"):
        threshold(unitq, "y", **kw)
    with pytest.raises(SpecificationError, match="n_thresholds"):
        threshold(df, "y", **{**kw, "n_thresholds": 4})
    with pytest.raises(SpecificationError, match="trim needs one value per threshold"):
        threshold(df, "y", **{**kw, "n_thresholds": 2, "trim": [0.05]})
    with pytest.raises(SpecificationError, match="trim"):
        threshold(df, "y", **{**kw, "trim": 0.6})
    with pytest.raises(SpecificationError, match="nope"):
        threshold(df, "y", **{**kw, "rx": "nope"})
    before = df.copy()
    threshold(df, "y", **kw)
    pd.testing.assert_frame_equal(df, before)
