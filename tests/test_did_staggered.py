"""econ.did.att_gt and its aggregations against R did (through its Python ports moderndid and csdid, which
reproduce it), a known truth, and bad input.

Reference tolerances: 1e-8 for point estimates, 1e-6 for standard errors (analytic, influence-function based).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.did import AggregateResult, ATTgtResult, att_gt
from econ.errors import PanelError, SpecificationError, TreatmentError, WeightsError

KINDS = ["simple", "dynamic", "group", "calendar"]
CONTROL = {"never": "nevertreated", "notyet": "notyettreated"}


@pytest.fixture(scope="module")
def mpdta():
    return datasets.load("mpdta")


def _moderndid(df, y, unit, time, cohort, *, x=None, control="never", method="dr", base="varying", **kw):
    import moderndid

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return moderndid.att_gt(df, yname=y, tname=time, idname=unit, gname=cohort, xformla=x, est_method=method,
                                control_group=CONTROL[control], base_period=base, boot=False, cband=False, **kw)


def _aggte(mp, kind, **kw):
    import moderndid

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return moderndid.aggte(mp, type=kind, boot=False, cband=False, **kw)


def _assert_cells(res: ATTgtResult, mp):
    tid = res.tidy()
    np.testing.assert_array_equal(tid["cohort"], np.asarray(mp.groups))
    np.testing.assert_array_equal(tid["time"], np.asarray(mp.times))
    np.testing.assert_allclose(tid["estimate"], np.asarray(mp.att_gt, float), rtol=0, atol=1e-8)
    np.testing.assert_allclose(tid["std_error"], np.asarray(mp.se_gt, float), rtol=0, atol=1e-6, equal_nan=True)


def _assert_aggregate(agg: AggregateResult, ref):
    assert agg.overall_att == pytest.approx(ref.overall_att, abs=1e-8)
    assert agg.overall_se == pytest.approx(ref.overall_se, abs=1e-6)
    if agg.kind != "simple":
        tid = agg.tidy()
        np.testing.assert_array_equal(tid[agg.key], np.asarray(ref.event_times))
        np.testing.assert_allclose(tid["estimate"], np.asarray(ref.att_by_event, float), rtol=0, atol=1e-8)
        np.testing.assert_allclose(tid["std_error"], np.asarray(ref.se_by_event, float), rtol=0, atol=1e-6,
                                   equal_nan=True)


# ------------------------------------------------------------------------------------------------ R did on mpdta
@pytest.mark.parametrize("control", ["never", "notyet"])
@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("base", ["varying", "universal"])
@pytest.mark.parametrize("x", [None, "lpop"])
def test_mpdta_matches_r_did(mpdta, control, method, base, x):
    md = mpdta.rename(columns={"first.treat": "first_treat"})
    mp = _moderndid(md, "lemp", "countyreal", "year", "first_treat", x=f"~ {x}" if x else None, control=control,
                    method=method, base=base)
    res = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", covariates=x, control=control, method=method,
                 base_period=base)
    _assert_cells(res, mp)
    for kind in KINDS:
        _assert_aggregate(res.aggregate(kind), _aggte(mp, kind))


@pytest.mark.parametrize("base", ["varying", "universal"])
def test_pretrend_wald_matches_r_did(mpdta, base):
    md = mpdta.rename(columns={"first.treat": "first_treat"})
    mp = _moderndid(md, "lemp", "countyreal", "year", "first_treat", x="~ lpop", base=base)
    res = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", covariates="lpop", base_period=base)
    test = res.pretrend_test()
    assert test.chi2 == pytest.approx(mp.wald_stat, rel=1e-8)
    assert test.pvalue == pytest.approx(mp.wald_pvalue, abs=1e-5)  # R rounds the p-value to 5 digits


def test_mpdta_published_r_numbers(mpdta):
    """R did's documentation (mpdta, never-treated, DR, no covariates): ATT(2004,2004) = -0.0105, simple -0.0400,
    dynamic -0.0772, group -0.0310."""
    res = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat")
    assert res.coef["g2004_t2004"] == pytest.approx(-0.0105, abs=5e-5)
    assert res.aggregate("simple").overall_att == pytest.approx(-0.0400, abs=5e-5)
    assert res.aggregate("dynamic").overall_att == pytest.approx(-0.0772, abs=5e-5)
    assert res.aggregate("group").overall_att == pytest.approx(-0.0310, abs=5e-5)


def test_csdid_agrees_with_moderndid_and_econ(mpdta):
    """The two ports agree with each other (and so with R did's conventions) on mpdta with a covariate."""
    from csdid.att_gt import ATTgt

    md = mpdta.rename(columns={"first.treat": "first_treat"})
    for control in ("never", "notyet"):
        cs = ATTgt(yname="lemp", tname="year", idname="countyreal", gname="first_treat", data=md,
                   xformla="lemp ~ lpop", control_group=CONTROL[control]).fit(est_method="dr", bstrap=False)
        mp = _moderndid(md, "lemp", "countyreal", "year", "first_treat", x="~ lpop", control=control)
        res = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", covariates="lpop", control=control)
        np.testing.assert_allclose(np.asarray(cs.results["att"]), np.asarray(mp.att_gt), atol=1e-8)
        np.testing.assert_allclose(np.asarray(cs.results["att"]), res.coef.to_numpy(), atol=1e-8)


@pytest.mark.parametrize("opts", [dict(min_e=-2, max_e=2), dict(balance_e=1), dict(max_e=1)])
def test_aggregation_windows_match_r_did(mpdta, opts):
    md = mpdta.rename(columns={"first.treat": "first_treat"})
    mp = _moderndid(md, "lemp", "countyreal", "year", "first_treat", x="~ lpop")
    res = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", covariates="lpop")
    for kind in ("dynamic", "simple", "group"):
        if kind != "dynamic" and set(opts) != {"max_e"}:
            continue
        _assert_aggregate(res.aggregate(kind, **opts), _aggte(mp, kind, **opts))


def test_weights_match_r_did(mpdta):
    """Sampling weights: cells against moderndid; aggregations against csdid, which weights the cohort shares by
    the sampling weights as R did's aggte does (moderndid 0.2's aggte drops the weights from the shares)."""
    import contextlib
    import io

    from csdid.att_gt import ATTgt

    md = mpdta.rename(columns={"first.treat": "first_treat"}).assign(pop=lambda d: np.exp(d["lpop"]))
    mp = _moderndid(md, "lemp", "countyreal", "year", "first_treat", x="~ lpop", weightsname="pop",
                    control="notyet")
    res = att_gt(md, "lemp", "countyreal", "year", "first_treat", covariates="lpop", weights="pop",
                 control="notyet")
    _assert_cells(res, mp)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = ATTgt(yname="lemp", tname="year", idname="countyreal", gname="first_treat", data=md,
                   xformla="lemp ~ lpop", control_group="notyettreated", weights_name="pop").fit(bstrap=False)
        for kind in KINDS:
            cs.aggte(typec=kind, bstrap=False, cband=False)
            ref, agg = cs.atte, res.aggregate(kind)
            assert agg.overall_att == pytest.approx(ref["overall_att"], abs=1e-8)
            assert agg.overall_se == pytest.approx(ref["overall_se"], abs=1e-6)
            if kind != "simple":
                np.testing.assert_allclose(agg.coef, np.asarray(ref["att_egt"], float), atol=1e-8)
                np.testing.assert_allclose(agg.se, np.asarray(ref["se_egt"], float), atol=1e-6)


@pytest.mark.parametrize("base", ["varying", "universal"])
def test_anticipation_matches_r_did(mpdta, base):
    md = mpdta.rename(columns={"first.treat": "first_treat"})
    mp = _moderndid(md, "lemp", "countyreal", "year", "first_treat", x="~ lpop", anticipation=1, base=base,
                    control="notyet")
    res = att_gt(md, "lemp", "countyreal", "year", "first_treat", covariates="lpop", anticipation=1,
                 base_period=base, control="notyet")
    _assert_cells(res, mp)
    for kind in KINDS:
        _assert_aggregate(res.aggregate(kind), _aggte(mp, kind))


def test_cohorts_outside_the_panel_follow_r_did(mpdta):
    """Cohorts after the last period count as never treated; units treated before the first period are dropped."""
    md = mpdta.assign(g=mpdta["first.treat"].replace({2007: 2009, 2004: 2001}))
    mp = _moderndid(md, "lemp", "countyreal", "year", "g", control="notyet")
    res = att_gt(md, "lemp", "countyreal", "year", "g", control="notyet")
    _assert_cells(res, mp)
    _assert_aggregate(res.aggregate("dynamic"), _aggte(mp, "dynamic"))
    assert any("count as never treated" in n for n in res.notes)
    assert any("20 unit(s) treated by the first period 2003 dropped" in n for n in res.notes)


def test_gaps_between_periods_match_r_did(mpdta):
    """Periods two years apart with cohorts between them (2004, 2006): R did's index arithmetic (max_e counts
    positions in the sorted union of periods and cohorts)."""
    df = mpdta[mpdta["year"].isin([2003, 2005, 2007])]
    md = df.rename(columns={"first.treat": "first_treat"})
    for base in ("varying", "universal"):
        mp = _moderndid(md, "lemp", "countyreal", "year", "first_treat", x="~ lpop", control="notyet", base=base)
        res = att_gt(df, "lemp", "countyreal", "year", "first.treat", covariates="lpop", control="notyet",
                     base_period=base)
        _assert_cells(res, mp)
        for kind in KINDS:
            _assert_aggregate(res.aggregate(kind, max_e=1), _aggte(mp, kind, max_e=1))


def test_balance_true_drops_incomplete_units_as_r_did(mpdta):
    md = mpdta.rename(columns={"first.treat": "first_treat"})
    holes = md.drop(index=[0, 7, 12]).assign(lpop=lambda d: d["lpop"].where(d.index != 30))
    mp = _moderndid(holes, "lemp", "countyreal", "year", "first_treat", x="~ lpop")
    res = att_gt(holes, "lemp", "countyreal", "year", "first_treat", covariates="lpop", balance=True)
    _assert_cells(res, mp)
    assert any("4 unit(s) not observed in all 5 periods dropped" in n for n in res.notes)
    with pytest.raises(PanelError, match="balance=True"):
        att_gt(holes, "lemp", "countyreal", "year", "first_treat", covariates="lpop")


# ------------------------------------------------------------------ a time-varying covariate, other cohorts
def _time_varying_panel(n=400, T=7, seed=3):
    """Cohorts 2012/2014/2015 + never treated, covariate trending differently by cohort and entering the outcome."""
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2010 + T)
    g = rng.choice([0, 2012, 2014, 2015], size=n, p=[0.4, 0.2, 0.2, 0.2])
    x0 = rng.normal(size=n) + 0.5 * (g > 0)
    a = rng.normal(size=n)
    frames = []
    for s, t in enumerate(years):
        x = x0 + 0.3 * s + 0.5 * rng.normal(size=n) + 0.2 * (g == 2014) * s
        te = np.where((g > 0) & (t >= g), 0.5 + 0.1 * (t - g), 0.0)
        y = a + 0.2 * s + 0.7 * x + 0.3 * x * s / T + te + rng.normal(size=n)
        frames.append(pd.DataFrame({"id": np.arange(n), "year": t, "g": g, "x": x, "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("control", ["never", "notyet"])
@pytest.mark.parametrize("base", ["varying", "universal"])
def test_time_varying_covariate_matches_r_did(control, base):
    """Covariates at the earlier period of each 2x2 (R did), not at g-1 for every cell: moderndid follows R here
    (diff-diff does not: its universal-base pre-treatment cells differ by more than 0.01 on this panel)."""
    df = _time_varying_panel()
    mp = _moderndid(df, "y", "id", "year", "g", x="~ x", control=control, base=base)
    res = att_gt(df, "y", "id", "year", "g", covariates="x", control=control, base_period=base)
    _assert_cells(res, mp)
    for kind in KINDS:
        _assert_aggregate(res.aggregate(kind), _aggte(mp, kind))


def test_time_varying_covariate_with_anticipation_and_weights_matches_r_did():
    df = _time_varying_panel(n=300, T=8, seed=5)
    df["w"] = 1.0 + (df["id"] % 3)
    mp = _moderndid(df, "y", "id", "year", "g", x="~ x", control="notyet", base="universal", anticipation=1,
                    weightsname="w")
    res = att_gt(df, "y", "id", "year", "g", covariates="x", control="notyet", base_period="universal",
                 anticipation=1, weights="w")
    _assert_cells(res, mp)


# ------------------------------------------------------------------------------------------------ known truth
def test_recovers_planted_att_gt_in_simulation():
    from econ.simulate import DesignParams, draw_panel

    units = pd.DataFrame({"unit": np.arange(600), "cohort": np.repeat([2014, 2016, 0], 200)})
    params = DesignParams(selection=0.0, spillover=0.0)
    sim = draw_panel(units, range(2010, 2020), params=params, seed=4)
    res = att_gt(sim.data, "log_income_ratio", "unit", "year", "cohort", control="notyet")
    truth = pd.DataFrame(sim.truth["att_gt"]).rename(columns={"year": "time", "att": "true"})
    tid = res.tidy().merge(truth[["cohort", "time", "true"]], on=["cohort", "time"], how="left")
    tid["true"] = tid["true"].fillna(0.0)
    z = (tid["estimate"] - tid["true"]) / tid["std_error"]
    assert np.abs(z).max() < 4
    covered = ((tid["conf_low"] <= tid["true"]) & (tid["true"] <= tid["conf_high"])).mean()
    assert covered > 0.8
    post = tid[tid["event_time"] >= 0]
    assert np.abs(post["estimate"] - post["true"]).mean() < 0.01


def test_recovers_cohort_effects_on_demo_panel():
    panel = datasets.load("china_cities_demo")
    truth = datasets.truth("china_cities_demo")
    res = att_gt(panel, "log_income_ratio", "prefecture_code", "year", "cohort", covariates="pre_log_gdp_pc")
    by_cohort = res.aggregate("group").tidy().set_index("cohort")
    true = pd.DataFrame(truth["att_gt"]).groupby("cohort")["att"].mean()
    for g, t in true.items():
        est, se = by_cohort.loc[g, "estimate"], by_cohort.loc[g, "std_error"]
        assert abs(est - t) < 3 * se, (g, est, t, se)
    # the planted effects are negative and largest for the earliest cohort
    assert (by_cohort["estimate"] < 0).all() and by_cohort["estimate"].idxmin() == 2014


# ------------------------------------------------------------------------------------------------ bootstrap
def test_bootstrap_bands_and_reproducibility(mpdta):
    res = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", n_draws=499, seed=1)
    analytic = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat")
    tid = res.tidy()
    assert {"band_low", "band_high"} <= set(tid.columns)
    np.testing.assert_allclose(tid["std_error"], analytic.tidy()["std_error"], rtol=0.2)
    assert ((tid["band_high"] - tid["band_low"]) > (tid["conf_high"] - tid["conf_low"])).all()
    assert 2.0 < res.critical_value() < 4.0
    again = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", n_boot=499, seed=1)
    pd.testing.assert_frame_equal(again.tidy(), tid)
    dyn = res.aggregate("dynamic")
    assert dyn.overall_se == pytest.approx(analytic.aggregate("dynamic").overall_se, rel=0.2)
    assert "band_low" in dyn.tidy()
    assert res.aggregate("dynamic", n_draws=0).overall_se == analytic.aggregate("dynamic").overall_se
    assert res.aggregate("group", n_draws=99).boot.shape == (99, 3)


def test_cluster_at_a_coarser_level(mpdta):
    df = mpdta.assign(state=mpdta["countyreal"] // 1000)
    res = att_gt(df, "lemp", "countyreal", "year", "first.treat", cluster="state")
    psi = res.inf_func
    state = df.groupby("countyreal")["state"].first().to_numpy()
    sums = pd.DataFrame(psi).groupby(state).sum().to_numpy()
    expected = np.sqrt((sums**2).sum(axis=0)) / psi.shape[0]
    np.testing.assert_allclose(res.tidy()["std_error"], expected)
    unit = att_gt(df, "lemp", "countyreal", "year", "first.treat", cluster="countyreal")
    plain = att_gt(df, "lemp", "countyreal", "year", "first.treat")
    np.testing.assert_allclose(unit.tidy()["std_error"], plain.tidy()["std_error"])
    # the draws' standard deviation is the analytic one of each convention (3% at 20,000 draws; the two
    # conventions differ by up to 2.6x here, 3 to 46 counties per state)
    means = pd.DataFrame(psi).groupby(state).mean().to_numpy()
    expected_mean = np.sqrt((means**2).sum(axis=0)) / len(means)
    assert np.max(np.abs(expected_mean / expected - 1)) > 1
    for form, target in (("mean", expected_mean), ("sum", expected)):
        boot = att_gt(df, "lemp", "countyreal", "year", "first.treat", cluster="state", n_draws=20000,
                      cluster_bootstrap=form)
        np.testing.assert_allclose(boot.boot.std(axis=0), target, rtol=0.03)


def test_clustered_bootstrap_matches_moderndid(mpdta):
    """R did's clustered multiplier bootstrap (cluster means, sqrt(G)) through moderndid, 20,000 draws each: the
    IQR standard errors agree within 5% (bootstrap noise about 1% each) while the cluster-sum form is off by up
    to 2.6x."""
    import moderndid

    df = mpdta.assign(state=mpdta["countyreal"] // 1000)
    res = att_gt(df, "lemp", "countyreal", "year", "first.treat", cluster="state", n_draws=20000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = moderndid.att_gt(df, yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                               clustervars=["state"], boot=True, biters=20000, cband=True, random_state=1)
    np.testing.assert_allclose(res.tidy()["std_error"], np.asarray(ref.se_gt), rtol=0.05)
    summed = att_gt(df, "lemp", "countyreal", "year", "first.treat", cluster="state", n_draws=20000,
                    cluster_bootstrap="sum")
    assert np.max(np.abs(summed.tidy()["std_error"] / np.asarray(ref.se_gt) - 1)) > 0.3
    with pytest.raises(SpecificationError, match="cluster_bootstrap"):
        att_gt(df, "lemp", "countyreal", "year", "first.treat", cluster="state", cluster_bootstrap="median")


# ------------------------------------------------------------------------------------------------ conventions
def test_universal_reference_cell_is_zero_with_nan_se(mpdta):
    res = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", base_period="universal")
    ref = res.tidy().query("event_time == -1")
    assert (ref["estimate"] == 0).all() and ref["std_error"].isna().all()
    dyn = res.aggregate("dynamic").tidy().set_index("event_time")
    assert dyn.loc[-1, "estimate"] == 0 and np.isnan(dyn.loc[-1, "std_error"])


def test_result_interface(mpdta, tmp_path):
    res = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat")
    tid = res.tidy()
    assert list(tid.columns[:3]) == ["cohort", "time", "event_time"]
    assert {"estimate", "std_error", "conf_low", "conf_high"} <= set(tid.columns)
    assert res.inf_func.shape == (500, 12)
    assert "ATT(g,t)" in res.summary() and repr(res) == res.summary()
    fig, ax = res.plot(path=tmp_path / "attgt.png")
    assert (tmp_path / "attgt.png").exists() and ax.figure is fig
    dyn = res.aggregate("dynamic")
    assert list(dyn.tidy()["term"][:4]) == ["rel_m3", "rel_m2", "rel_m1", "rel_0"]
    assert "Overall ATT" in dyn.summary()
    fig, ax = dyn.plot()
    assert fig is ax.figure
    assert res.aggregate("group").tidy()["cohort"].tolist() == [2004, 2006, 2007]
    assert res.aggregate("calendar").tidy()["time"].tolist() == [2004, 2005, 2006, 2007]
    assert mpdta.equals(datasets.load("mpdta"))  # input untouched


# ------------------------------------------------------------------------------------------------ degenerate cells
def test_empty_comparison_group_gives_nan_with_note():
    """Not-yet-treated comparisons with no never-treated units: the last cohort is only a comparison group and
    periods from its adoption on are dropped (R did's rule); a cell whose comparison is empty is NaN + note."""
    df = _time_varying_panel(n=200, T=7, seed=1)
    df = df[df["g"] != 0]
    res = att_gt(df, "y", "id", "year", "g", control="notyet")
    assert res.tidy()["time"].max() == 2014  # periods from the last cohort (2015) on are dropped
    assert set(res.tidy()["cohort"]) == {2012, 2014}
    assert any("no never-treated units" in n for n in res.notes)
    # comparison units that carry no weight: every comparison is empty, each cell NaN with a note, no crash
    df = _time_varying_panel(n=200, T=6, seed=2).assign(w=lambda d: np.where(d["g"].isin([0, 2015]), 0.0, 1.0))
    for method in ("dr", "ipw", "reg"):
        res = att_gt(df, "y", "id", "year", "g", control="notyet", weights="w", method=method)
        tid = res.tidy().set_index(["cohort", "time"])
        assert np.isnan(tid.loc[(2014, 2014), "estimate"])  # its comparisons (never, 2015) all weigh zero
        assert np.isfinite(tid.loc[(2012, 2012), "estimate"])  # the 2014 cohort is a weighted comparison here
        assert any(n.startswith("ATT(2014,2014) is NaN") for n in res.notes)
        agg = res.aggregate("simple")
        assert np.isfinite(agg.overall_att) and any("left out of the aggregation" in n for n in agg.notes)


def test_single_unit_cohort_matches_r_did(mpdta):
    """A cohort of one unit with a covariate is estimated (no crash, no NaN), exactly as R did does."""
    keep = mpdta.loc[mpdta["first.treat"] == 2004, "countyreal"].unique()[0]
    df = mpdta[(mpdta["first.treat"] != 2004) | (mpdta["countyreal"] == keep)]
    md = df.rename(columns={"first.treat": "first_treat"})
    mp = _moderndid(md, "lemp", "countyreal", "year", "first_treat", x="~ lpop")
    res = att_gt(df, "lemp", "countyreal", "year", "first.treat", covariates="lpop")
    _assert_cells(res, mp)
    _assert_aggregate(res.aggregate("group"), _aggte(mp, "group"))


def test_singular_covariate_design_gives_nan_with_note(mpdta):
    df = mpdta.assign(lpop2=2 * mpdta["lpop"])
    res = att_gt(df, "lemp", "countyreal", "year", "first.treat", covariates=["lpop", "lpop2"], method="reg")
    assert res.tidy()["estimate"].isna().all()
    assert any("ATT(2004,2004) is NaN" in n and "singular" in n for n in res.notes)
    with pytest.raises(SpecificationError, match="no post-treatment"):
        res.aggregate("simple")
    for method in ("dr", "ipw"):
        res = att_gt(df, "lemp", "countyreal", "year", "first.treat", covariates=["lpop", "lpop2"], method=method)
        assert res.tidy()["estimate"].isna().all() and "singular" in res.notes[0]


# ------------------------------------------------------------------------------------------------ bad input
def test_bad_input_is_named(mpdta):
    args = ("lemp", "countyreal", "year", "first.treat")
    with pytest.raises(PanelError, match="balanced panel.*8001"):
        att_gt(mpdta.iloc[1:], *args)
    with pytest.raises(PanelError, match="missing"):
        att_gt(mpdta.assign(lemp=mpdta["lemp"].where(mpdta.index != 7)), *args)
    bad = mpdta.copy()
    bad.loc[0, "first.treat"] = 2004
    with pytest.raises(TreatmentError, match="constant within unit"):
        att_gt(bad, *args)
    with pytest.raises(SpecificationError, match="control"):
        att_gt(mpdta, *args, control="last")
    with pytest.raises(SpecificationError, match="method"):
        att_gt(mpdta, *args, method="twfe")
    with pytest.raises(SpecificationError, match="n_draws.*n_boot|once"):
        att_gt(mpdta, *args, n_draws=10, n_boot=10)
    with pytest.raises(SpecificationError, match="seed"):
        att_gt(mpdta, *args, seed=-1)
    with pytest.raises(SpecificationError, match="nope"):
        att_gt(mpdta, *args, covariates="nope")
    with pytest.raises(WeightsError, match="constant within unit"):
        att_gt(mpdta.assign(w=np.arange(len(mpdta), dtype=float)), *args, weights="w")
    with pytest.raises(WeightsError, match="non-negative"):
        att_gt(mpdta.assign(w=-1.0), *args, weights="w")
    with pytest.raises(TreatmentError, match="no unit is ever treated"):
        att_gt(mpdta.assign(g=0), "lemp", "countyreal", "year", "g")
    res = att_gt(mpdta, *args)
    with pytest.raises(SpecificationError, match="kind"):
        res.aggregate("event")
    with pytest.raises(SpecificationError, match="no event time"):
        res.aggregate("dynamic", min_e=10)


@pytest.mark.parametrize("control, method, base, weighted, anticipation", [
    ("never", "dr", "varying", False, 0), ("notyet", "ipw", "universal", True, 0),
    ("notyet", "reg", "varying", False, 1), ("never", "dr", "universal", True, 1)])
def test_intercept_only_cells_equal_the_per_cell_estimator(mpdta, monkeypatch, control, method, base, weighted,
                                                           anticipation):
    """Without covariates att_gt computes every cell at once; the per-cell 2x2 estimator gives the same numbers."""
    import econ.did.staggered.att_gt as st

    df = mpdta.assign(w=1.0 + (mpdta["countyreal"] % 3)) if weighted else mpdta
    kw = dict(control=control, method=method, base_period=base, anticipation=anticipation,
              weights="w" if weighted else None)
    fast = att_gt(df, "lemp", "countyreal", "year", "first.treat", **kw)
    monkeypatch.setattr(st, "_intercept_cells", lambda *args: set())
    slow = att_gt(df, "lemp", "countyreal", "year", "first.treat", **kw)
    np.testing.assert_allclose(fast.inf_func, slow.inf_func, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.coef, slow.coef, rtol=0, atol=1e-13)
    pd.testing.assert_frame_equal(fast.cells, slow.cells, rtol=0, atol=1e-13)
    assert fast.notes == slow.notes
    for kind in ("simple", "dynamic", "group", "calendar"):
        a, b = fast.aggregate(kind), slow.aggregate(kind)
        assert abs(a.overall_att - b.overall_att) < 1e-13 and abs(a.overall_se - b.overall_se) < 1e-13
        np.testing.assert_allclose(a.inf_func, b.inf_func, rtol=0, atol=1e-12)
