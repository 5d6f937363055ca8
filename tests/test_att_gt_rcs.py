"""att_gt on repeated cross-sections (panel=False) and unbalanced panels (allow_unbalanced_panel=True).

References: moderndid 0.2 ``att_gt(panel=False)`` (ipw / reg: cells, analytic SEs, aggregations; dr: estimates)
and csdid 0.4 (validated against R did 2.5 / DRDID 1.3) for dr standard errors and unbalanced panels; a numerical
derivative of the doubly robust repeated-cross-section estimator checks its influence function, where moderndid's
``drdid_rc`` has the base-period regression terms with the wrong sign.
"""

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.did import att_gt
from econ.did.staggered import _drdid_rc
from econ.errors import PanelError, SpecificationError, WeightsError

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def mpdta():
    return datasets.load("mpdta")


@pytest.fixture(scope="module")
def rcs(mpdta):
    out = mpdta.sample(frac=0.5, random_state=3).reset_index(drop=True)  # half the rows: one respondent each
    return out.assign(rid=np.arange(len(out)))


@pytest.fixture(scope="module")
def unbalanced(mpdta):
    return mpdta.drop(np.random.default_rng(1).choice(len(mpdta), 400, replace=False)).reset_index(drop=True)


def _quiet(fn, *a, **k):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return fn(*a, **k)


@pytest.mark.parametrize("method", ["ipw", "reg", "dr"])
@pytest.mark.parametrize("control", ["never", "notyet"])
def test_rcs_matches_moderndid(rcs, method, control):
    md = pytest.importorskip("moderndid")
    ref = _quiet(md.att_gt, data=rcs, yname="lemp", tname="year", gname="first.treat", idname="rid", panel=False,
                 xformla="~lpop", est_method=method, boot=False,
                 control_group="nevertreated" if control == "never" else "notyettreated")
    res = att_gt(rcs, "lemp", "rid", "year", "first.treat", covariates="lpop", method=method, panel=False,
                 control=control)
    np.testing.assert_allclose(res.coef.to_numpy(), ref.att_gt, rtol=1e-9, atol=1e-11)
    if method == "dr":
        return  # moderndid's drdid_rc influence function has a sign error (see test_dr_rc_influence_function)
    np.testing.assert_allclose(res.se.to_numpy(), ref.se_gt, rtol=1e-8)
    for kind in ("dynamic", "group", "simple"):
        a, b = _quiet(md.aggte, ref, type=kind), res.aggregate(kind)
        assert b.overall_att == pytest.approx(a.overall_att, rel=1e-9, abs=1e-12)
        assert b.overall_se == pytest.approx(a.overall_se, rel=1e-8)


@pytest.mark.parametrize("method", ["dr", "ipw"])
def test_rcs_matches_csdid(rcs, method):
    cs = pytest.importorskip("csdid.att_gt")
    ref = _quiet(cs.ATTgt(yname="lemp", tname="year", gname="first.treat", idname="rid", data=rcs,
                          xformla="lemp~lpop", panel=False).fit, est_method=method, bstrap=False)
    res = att_gt(rcs, "lemp", "rid", "year", "first.treat", covariates="lpop", method=method, panel=False)
    np.testing.assert_allclose(res.coef.to_numpy(), np.asarray(ref.results["att"]), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(res.se.to_numpy(), np.asarray(ref.results["se"]), rtol=1e-7)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_unbalanced_matches_csdid(unbalanced, method):
    cs = pytest.importorskip("csdid.att_gt")
    fit = cs.ATTgt(yname="lemp", tname="year", gname="first.treat", idname="countyreal", data=unbalanced,
                   xformla="lemp~lpop", allow_unbalanced_panel=True)
    ref = _quiet(fit.fit, est_method=method, bstrap=False)
    res = att_gt(unbalanced, "lemp", "countyreal", "year", "first.treat", covariates="lpop", method=method,
                 allow_unbalanced_panel=True)
    np.testing.assert_allclose(res.coef.to_numpy(), np.asarray(ref.results["att"]), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(res.se.to_numpy(), np.asarray(ref.results["se"]), rtol=1e-7)
    assert res.n_units == unbalanced["countyreal"].nunique() and res.nobs == len(unbalanced)
    if method == "dr":
        for kind in ("dynamic", "group"):
            _quiet(ref.aggte, typec=kind, bstrap=False)
            b = res.aggregate(kind)
            assert b.overall_att == pytest.approx(ref.atte["overall_att"], rel=1e-9)
            assert b.overall_se == pytest.approx(ref.atte["overall_se"], rel=1e-7)
    assert any("unbalanced panel" in n for n in res.notes)


def test_dr_rc_influence_function():
    """psi_j / n is the derivative of the estimate in observation j's weight (checked numerically)."""
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    d = (rng.random(n) < 0.4).astype(float)
    post = (rng.random(n) < 0.5).astype(float)
    y = 1 + x + 2 * x * d + 3 * x * post + d + post + 0.5 * d * post + rng.normal(size=n)
    w = np.ones(n)
    att, psi = _drdid_rc.estimate("dr", y, post, d, X, w)
    h = 1e-6
    for j in range(0, n, 23):
        w2 = w.copy()
        w2[j] += h
        a1, _ = _drdid_rc.estimate("dr", y, post, d, X, w2 / w2.mean())
        assert (a1 - att) / h * n == pytest.approx(psi[j], rel=1e-4, abs=1e-5)


def test_balanced_panel_with_allow_unbalanced_is_the_panel_estimator(mpdta):
    a = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", covariates="lpop")
    b = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", covariates="lpop", allow_unbalanced_panel=True)
    np.testing.assert_allclose(a.coef, b.coef, rtol=0, atol=0)
    assert b.spec["panel"] == "panel"


def test_rcs_without_ids_and_known_truth():
    """unit=None numbers the rows; on a simulated cross-section with ATT = 1 from treatment the estimate is close."""
    rng = np.random.default_rng(5)
    n = 6000
    g = rng.choice([0, 3, 4], size=n)
    t = rng.integers(1, 6, size=n)
    x = rng.normal(size=n)
    y = 0.5 * x + 0.3 * t + 0.2 * (g > 0) + 1.0 * ((g > 0) & (t >= g)) + rng.normal(size=n)
    df = pd.DataFrame(dict(y=y, t=t, g=g, x=x))
    res = att_gt(df, "y", None, "t", "g", covariates="x", panel=False)
    simple = res.aggregate("simple")
    assert abs(simple.overall_att - 1.0) < 4 * simple.overall_se
    assert res.nobs == n and any("repeated cross-sections" in note for note in res.notes)


def test_bad_input(rcs, mpdta):
    with pytest.raises(PanelError, match="appear in several rows"):
        att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", panel=False)
    w = rcs.assign(w=1.0)
    w.loc[[3, 7], "w"] = [-1.0, np.nan]
    with pytest.raises(WeightsError, match="missing"):
        att_gt(w, "lemp", "rid", "year", "first.treat", weights="w", panel=False)
    with pytest.raises(WeightsError, match="negative"):
        att_gt(w.fillna({"w": 1.0}), "lemp", "rid", "year", "first.treat", weights="w", panel=False)
    with pytest.raises(SpecificationError, match="balance=True"):
        att_gt(rcs, "lemp", "rid", "year", "first.treat", panel=False, balance=True)
    with pytest.raises(SpecificationError, match="already treats"):
        att_gt(rcs, "lemp", "rid", "year", "first.treat", panel=False, allow_unbalanced_panel=True)


def test_weighted_rcs_and_unbalanced(rcs, unbalanced):
    """Sampling weights per row (cross-sections) and per unit (unbalanced panel) against csdid (R did's rules)."""
    cs = pytest.importorskip("csdid.att_gt")
    for data, idn, kw in ((rcs, "rid", dict(panel=False)), (unbalanced, "countyreal",
                                                           dict(allow_unbalanced_panel=True))):
        data = data.assign(w=np.exp(data["lpop"] / 4))
        ref = _quiet(cs.ATTgt(yname="lemp", tname="year", gname="first.treat", idname=idn, data=data,
                              xformla="lemp~lpop", weights_name="w", **kw).fit, est_method="dr", bstrap=False)
        res = att_gt(data, "lemp", idn, "year", "first.treat", covariates="lpop", weights="w", **kw)
        np.testing.assert_allclose(res.coef.to_numpy(), np.asarray(ref.results["att"]), rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(res.se.to_numpy(), np.asarray(ref.results["se"]), rtol=1e-7)
        _quiet(ref.aggte, typec="group", bstrap=False)
        agg = res.aggregate("group")
        assert agg.overall_att == pytest.approx(ref.atte["overall_att"], rel=1e-9)
        assert agg.overall_se == pytest.approx(ref.atte["overall_se"], rel=1e-7)


def test_missing_weights_are_an_error_on_the_panel_path(mpdta):
    w = mpdta.assign(w=1.0)
    w.loc[5, "w"] = np.nan
    with pytest.raises(WeightsError, match=r"1 missing value\(s\), first rows \[5\]"):
        att_gt(w, "lemp", "countyreal", "year", "first.treat", weights="w")
