"""Staggered triple differences (econ.did.ddd_gt) against moderndid ``ddd`` on its generated data, a known-truth
simulation, and bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest

from econ.did import ddd_gt
from econ.errors import TreatmentError

COVS = ["cov1", "cov2", "cov3", "cov4"]


@pytest.fixture(scope="module")
def gen():
    md = pytest.importorskip("moderndid")
    data = md.gen_ddd_mult_periods(n=500, dgp_type=1, random_state=42)["data"]
    return md, (data.to_pandas() if hasattr(data, "to_pandas") else data)


def _ref(md, data, method, control, base_period):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return md.ddd(data=data, yname="y", tname="time", idname="id", gname="group", pname="partition",
                      xformla="~" + "+".join(COVS), est_method=method, boot=False, base_period=base_period,
                      control_group="nevertreated" if control == "never" else "notyettreated")


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control", ["never", "notyet"])
def test_cells_match_moderndid(gen, method, control):
    md, data = gen
    ref = _ref(md, data, method, control, "varying")
    res = ddd_gt(data, "y", "id", "time", "group", "partition", covariates=COVS, method=method, control=control)
    # moderndid fits the score with statsmodels' IRLS (tolerance 1e-8): its estimates carry that error
    np.testing.assert_allclose(res.coef.to_numpy(), ref.att, rtol=1e-6, atol=1e-9)
    V = ref.inf_func_mat
    se_ref = np.sqrt(np.mean(V**2, axis=0) / V.shape[0])  # the influence-function SE (the GMM cells' too)
    np.testing.assert_allclose(res.se.to_numpy(), se_ref, rtol=1e-6)
    if control == "never":
        np.testing.assert_allclose(res.se.to_numpy(), ref.se, rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grp = md.agg_ddd(ref, type="group", boot=False, cband=False)
        simple = md.agg_ddd(ref, type="simple", boot=False, cband=False)
    g = res.aggregate("group")
    assert g.overall_att == pytest.approx(grp.overall_att, rel=1e-6)
    assert g.overall_se == pytest.approx(grp.overall_se, rel=1e-6)
    np.testing.assert_allclose(g.tidy()["estimate"], grp.att_egt, rtol=1e-6)
    s = res.aggregate("simple")
    assert s.overall_att == pytest.approx(simple.overall_att, rel=1e-6)
    # moderndid's simple/event-study/calendar SEs leave out the estimated cohort-weights term that R did (and
    # econ) add; without it our influence functions give its number
    post = res.cells["post"].to_numpy() & np.isfinite(res.coef.to_numpy())
    pg = np.array([np.mean(res._design.g == c) for c in res.cells["cohort"]])[post]
    psi = res.inf_func[:, post] @ (pg / pg.sum())
    assert np.sqrt(np.mean(psi**2) / len(psi)) == pytest.approx(simple.overall_se, rel=1e-6)
    assert s.overall_se > simple.overall_se


def test_universal_base_period(gen):
    md, data = gen
    ref = _ref(md, data, "dr", "never", "universal")
    res = ddd_gt(data, "y", "id", "time", "group", "partition", covariates=COVS, base_period="universal")
    np.testing.assert_allclose(res.coef.to_numpy(), ref.att, rtol=1e-6, atol=1e-9)


def _households(seed, n=1500, T=5, effect=2.0):
    rng = np.random.default_rng(seed)
    unit, t = np.repeat(np.arange(n), T), np.tile(np.arange(1, T + 1), n)
    g = np.repeat(rng.choice([0, 3, 4], n), T)
    rural = np.repeat(rng.integers(0, 2, n), T)
    x = np.repeat(rng.normal(size=n), T)
    # rural-specific and cohort-specific trends (a DiD would be biased), effect only on treated rural households
    y = (x + 0.5 * x * t + t + 0.7 * rural * t + 0.4 * (g > 0) * t + effect * rural * (g > 0) * (t >= g)
         + rng.normal(size=n * T))
    return pd.DataFrame(dict(hh=unit, year=t, g=g, rural=rural, x=x, income=y))


def test_known_truth_and_bootstrap():
    df = _households(3)
    res = ddd_gt(df, "income", "hh", "year", "g", "rural", covariates="x", control="notyet", n_draws=199)
    dyn = res.aggregate("dynamic")
    assert abs(dyn.overall_att - 2.0) < 4 * dyn.overall_se
    tid = dyn.tidy()
    pre = tid[tid["event_time"] < 0]
    assert (pre["band_low"] < 0).all() and (pre["band_high"] > 0).all()
    assert "band_low" in res.tidy()


def test_bad_input():
    df = _households(1, n=200, T=3)
    two = df.copy()
    two.loc[(two["hh"] == 5) & (two["year"] == 2), "rural"] = 1 - two.loc[(two["hh"] == 5) & (two["year"] == 1),
                                                                        "rural"].iloc[0]
    with pytest.raises(TreatmentError, match="observed in two groups"):
        ddd_gt(two, "income", "hh", "year", "g", "rural")
    with pytest.raises(TreatmentError, match="0/1"):
        ddd_gt(df.assign(rural=df["rural"] * 2), "income", "hh", "year", "g", "rural")
    with pytest.raises(TreatmentError, match="missing"):
        ddd_gt(df.assign(rural=df["rural"].where(df.index != 4)), "income", "hh", "year", "g", "rural")


def test_weights_checked():
    from econ.errors import WeightsError

    df = _households(2, n=200, T=3).assign(w=1.0)
    df.loc[7, "w"] = -1.0
    with pytest.raises(WeightsError, match="negative"):
        ddd_gt(df, "income", "hh", "year", "g", "rural", weights="w")


@pytest.mark.parametrize("method", ["ipw", "reg", "dr"])
@pytest.mark.parametrize("control", ["never", "notyet"])
def test_repeated_cross_sections_match_moderndid(gen, method, control):
    """moderndid ``ddd(panel=False)``: ipw/reg cells and influence-function SEs; dr estimates with never-treated
    comparisons (its drdid_rc influence function has the base-period regression terms with the wrong sign -- see
    tests/test_att_gt_rcs.py -- which also moves its GMM weights, so dr not-yet cells differ)."""
    md, data = gen
    rc = data.sample(frac=0.4, random_state=1).reset_index(drop=True).assign(rid=lambda d: np.arange(len(d)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = md.ddd(data=rc, yname="y", tname="time", idname="rid", gname="group", pname="partition",
                     xformla="~cov1+cov2", est_method=method, boot=False, base_period="varying", panel=False,
                     control_group="nevertreated" if control == "never" else "notyettreated")
    res = ddd_gt(rc, "y", "rid", "time", "group", "partition", covariates=["cov1", "cov2"], method=method,
                 control=control, panel=False)
    assert res.nobs == len(rc) and res.spec["panel"] == "rcs"
    if method == "dr" and control == "notyet":
        return
    np.testing.assert_allclose(res.coef.to_numpy(), ref.att, rtol=1e-6, atol=1e-8)
    if method != "dr":
        V = ref.inf_func_mat
        np.testing.assert_allclose(res.se.to_numpy(), np.sqrt(np.mean(V**2, axis=0) / V.shape[0]), rtol=1e-6)
