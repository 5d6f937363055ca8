"""One meaning of ``weights=`` (sampling weights) across the DiD estimators: the same bad-input rule, invariance
to rescaling, and integer weights equal to replicating units (point estimates); references for the weighted
imputation estimator (statsmodels WLS), placebo draws (weighted TWFE), subgroups/channels (twfe with weights), the
survey design through imputation and sun_abraham, and the estimators that refuse weights."""

import warnings

import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.did import att_gt, bacon, channels, compare, ddd_gt, event_study, imputation, placebo, sdid, \
    subgroups, sun_abraham, synth, twfe
from econ.errors import SpecificationError, WeightsError

pytestmark = pytest.mark.filterwarnings("ignore")
MP = ("lemp", "countyreal", "year", "first.treat")

ESTIMATORS = {
    "twfe": lambda d, **k: twfe(d, *MP, **k).coef,
    "event_study": lambda d, **k: event_study(d, *MP, **k).coef,
    "sun_abraham": lambda d, **k: sun_abraham(d, *MP, **k).coef,
    "att_gt": lambda d, **k: att_gt(d, *MP, **k).coef,
    "ddd_gt": lambda d, **k: ddd_gt(d, *MP, "rural", **k).coef,
    "imputation": lambda d, **k: imputation(d, *MP, **k).coef,
    "compare": lambda d, **k: compare(d, *MP, estimators=("twfe", "sa", "imputation"), **k).overall()["estimate"],
    "placebo": lambda d, **k: pd.Series([placebo(d, *MP[:3], cohort=MP[3], n_draws=1, progress=False, **k).estimate]),
    "subgroups": lambda d, **k: subgroups(d, *MP[:3], "D", by="rural", **k).table["estimate"],
    "channels": lambda d, **k: channels(d, *MP[:3], "D", mediators=["lpop_t"], **k).table["estimate"],
}


@pytest.fixture(scope="module")
def mpdta():
    df = datasets.load("mpdta")
    units = df["countyreal"].unique()
    w = pd.Series(np.random.default_rng(0).integers(1, 3, len(units)), index=units)  # 1 or 2 per county
    g = df["first.treat"]
    return df.assign(rural=(df["countyreal"] % 3 == 0).astype(int), w=df["countyreal"].map(w).astype(float),
                     D=((g > 0) & (df["year"] >= g)).astype(int),
                     lpop_t=df["lpop"] + 0.1 * np.sin(df["countyreal"] + df["year"]))


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_bad_weights_are_one_error(mpdta, name):
    for value, what in ((np.nan, "missing"), (-1.0, "negative")):
        bad = mpdta.copy()
        bad.loc[10, "w"] = value
        with pytest.raises(WeightsError, match=what):
            ESTIMATORS[name](bad, weights="w")


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_rescaling_and_replication(mpdta, name):
    fit = ESTIMATORS[name]
    a = fit(mpdta, weights="w")
    b = fit(mpdta.assign(w=mpdta["w"] * 7.5), weights="w")
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    twice = mpdta[mpdta["w"] == 2].assign(countyreal=lambda d: d["countyreal"] + 100_000)
    replicated = pd.concat([mpdta, twice], ignore_index=True).drop(columns="w")
    np.testing.assert_allclose(a, fit(replicated).reindex(a.index), rtol=1e-7, atol=1e-10)


@pytest.fixture(scope="module")
def small(mpdta):
    """100 counties with weights that vary within county (imputation weights rows)."""
    units = mpdta["countyreal"].unique()[::5]
    d = mpdta[mpdta["countyreal"].isin(units)].reset_index(drop=True)
    return d.assign(w=d["w"] * np.random.default_rng(1).uniform(0.5, 1.5, len(d)))


def test_imputation_matches_statsmodels_wls_and_weighted_means(small):
    """BJS with weights: WLS of y on unit and year dummies on the untreated rows (statsmodels), imputed Y(0) for the
    treated rows, weighted means of y - Y(0) overall and by horizon."""
    import statsmodels.formula.api as smf

    d = small
    g = d["first.treat"].to_numpy()
    tr = (g > 0) & (d["year"].to_numpy() >= g)
    wls = smf.wls("lemp ~ C(countyreal) + C(year)", data=d[~tr], weights=d.loc[~tr, "w"]).fit()
    tau = d.loc[tr, "lemp"].to_numpy() - wls.predict(d[tr]).to_numpy()
    w1, h = d.loc[tr, "w"].to_numpy(), d.loc[tr, "year"].to_numpy() - g[tr]
    res = imputation(d, *MP, weights="w")
    assert res.overall_att == pytest.approx(np.sum(w1 * tau) / w1.sum(), abs=1e-10)
    for e in res.event_times:
        on = h == e
        assert res.coef[f"rel_{'p' if e else ''}{e}".replace("rel_p0", "rel_0")] == pytest.approx(
            np.sum(w1[on] * tau[on]) / w1[on].sum(), abs=1e-10)
    assert imputation(d, *MP).overall_att != pytest.approx(res.overall_att, abs=1e-4)  # the weights matter here
    # with a time-varying covariate in the untreated model
    wls = smf.wls("lemp ~ lpop_t + C(countyreal) + C(year)", data=d[~tr], weights=d.loc[~tr, "w"]).fit()
    tau = d.loc[tr, "lemp"].to_numpy() - wls.predict(d[tr]).to_numpy()
    res = imputation(d, *MP, weights="w", covariates=["lpop_t"])
    assert res.overall_att == pytest.approx(np.sum(w1 * tau) / w1.sum(), abs=1e-10)


def test_imputation_weighted_pretrends(small):
    """The lead coefficient is the WLS one (statsmodels, dummies); its joint-covariance entry is built from the
    weighted scores, so it relates to the lead regression's own clustered variance by the same small-sample factor
    as without weights."""
    import statsmodels.formula.api as smf

    d = small
    g = d["first.treat"].to_numpy()
    untreated = d[~((g > 0) & (d["year"].to_numpy() >= g))].assign(
        lead=lambda x: ((x["first.treat"] > 0) & (x["year"] == x["first.treat"] - 1)).astype(float))
    ref = smf.wls("lemp ~ lead + C(countyreal) + C(year)", data=untreated, weights=untreated["w"]).fit()
    ratio = {}
    for w in ("w", None):
        res = imputation(d, *MP, weights=w, pretrends=1)
        ratio[w] = res.vcov.loc["rel_m1", "rel_m1"] / res.pretrend_result.vcov.loc["rel_m1", "rel_m1"]
    assert imputation(d, *MP, weights="w", pretrends=1).coef["rel_m1"] == pytest.approx(ref.params["lead"],
                                                                                        abs=1e-10)
    assert ratio["w"] == pytest.approx(ratio[None], rel=1e-9)


def test_zero_weights_drop_rows(mpdta):
    d = mpdta.assign(w=np.where(mpdta["countyreal"] % 7 == 0, 0.0, mpdta["w"]))
    a = imputation(d, *MP, weights="w")
    b = imputation(d[d["w"] > 0], *MP, weights="w")
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-12)
    assert any("zero weight" in n for n in a.notes)
    pa = placebo(d, *MP[:3], cohort=MP[3], n_draws=3, progress=False, weights="w")
    pb = placebo(d[d["w"] > 0], *MP[:3], cohort=MP[3], n_draws=3, progress=False, weights="w")
    assert pa.estimate == pytest.approx(pb.estimate, abs=1e-12)


def test_placebo_draws_are_weighted_twfe(mpdta):
    res = placebo(mpdta, *MP[:3], cohort=MP[3], n_draws=3, progress=False, weights="w", covariates=["lpop_t"])
    assert res.estimate == pytest.approx(twfe(mpdta, *MP, weights="w", covariates=["lpop_t"]).coef.iloc[0],
                                         abs=1e-10)
    fake = pd.Series(np.nan_to_num(res.assignments[1]), index=res.units)
    d = mpdta.assign(fake=mpdta["countyreal"].map(fake))
    ref = twfe(d, *MP[:3], "fake", weights="w", covariates=["lpop_t"]).coef.iloc[0]
    assert res.draws[1] == pytest.approx(ref, abs=1e-10)


def test_subgroups_and_channels_rows_are_weighted_twfe(mpdta):
    sub = subgroups(mpdta, *MP[:3], "D", by="rural", weights="w")
    for grp, row in sub.table.iterrows():
        ref = twfe(mpdta[mpdta["rural"] == grp], *MP[:3], treat="D", weights="w")
        assert row["estimate"] == pytest.approx(ref.coef["D"], abs=1e-12)
        assert sub.pooled.coef[f"D_x_g{int(grp)}"] == pytest.approx(ref.coef["D"], abs=1e-9)
    ch = channels(mpdta, "lemp", *MP[1:3], "D", mediators=["lpop_t"], weights="w")
    assert ch.table.loc["lpop_t", "estimate"] == pytest.approx(
        twfe(mpdta, "lpop_t", *MP[1:3], treat="D", weights="w").coef["D"], abs=1e-12)


def test_compare_runs_each_estimator_weighted(mpdta):
    cmp = compare(mpdta, *MP, estimators=("cs", "imputation"), weights="w").overall().set_index("estimator")
    assert cmp.loc["imputation", "estimate"] == pytest.approx(imputation(mpdta, *MP, weights="w").overall_att)
    simple = att_gt(mpdta, *MP, weights="w").aggregate("simple").overall_att
    assert cmp.loc["cs", "estimate"] == pytest.approx(simple)


def test_imputation_survey_design_is_the_design_variance_of_the_unit_influences(mpdta):
    """Unweighted, the BJS influences sum to zero, so the survey variance with every unit its own PSU is G/(G-1)
    times BJS's sum of squares; a coarser PSU sums them first (the cluster-robust form)."""
    base = imputation(mpdta, *MP)
    sv = imputation(mpdta, *MP, vcov={"survey": {}})
    G = mpdta["countyreal"].nunique()
    np.testing.assert_allclose(sv.vcov.to_numpy(), base.vcov.to_numpy() * G / (G - 1), rtol=1e-10)
    assert sv.overall_se == pytest.approx(base.overall_se * np.sqrt(G / (G - 1)), rel=1e-10)
    assert "survey" in sv.vcov_type
    state = mpdta.assign(state=mpdta["countyreal"] // 1000)
    coarse = imputation(state, *MP, vcov={"survey": {"psu": "state"}})
    assert coarse.overall_se != pytest.approx(sv.overall_se, rel=1e-3)


def test_sun_abraham_survey_share_term_is_the_design_variance(mpdta):
    """The cohort-share influences sum to zero over units, so with every unit its own PSU the survey share term
    is N/(N-1) times the unit-clustered one."""
    kw = dict(vcov={"survey": {"psu": "countyreal"}})
    N = mpdta["countyreal"].nunique()
    share = {}
    for name, v in (("survey", kw), ("cluster", {})):
        a = sun_abraham(mpdta, *MP, weights="w", **v)
        b = sun_abraham(mpdta, *MP, weights="w", share_uncertainty=False, **v)
        share[name] = a.overall_se ** 2 - b.overall_se ** 2
    assert share["cluster"] > 0
    assert share["survey"] == pytest.approx(share["cluster"] * N / (N - 1), rel=1e-9)
    default = sun_abraham(mpdta, *MP, weights="w", vcov={"survey": {}})  # without psu each unit is a PSU
    assert default.overall_se == pytest.approx(sun_abraham(mpdta, *MP, weights="w", **kw).overall_se, rel=1e-12)


@pytest.mark.parametrize("name", ["bacon", "sdid", "synth"])
def test_estimators_without_a_weighted_version_refuse_weights(mpdta, name):
    prop99 = datasets.load("california_prop99")
    run = {"bacon": lambda: bacon(mpdta, *MP, weights="w"),
           "sdid": lambda: sdid(prop99, "packs_per_capita", "state", "year", "treated", weights="w"),
           "synth": lambda: synth(prop99, "packs_per_capita", "state", "year", "treated", weights="w")}[name]
    with pytest.raises(SpecificationError, match=f"{name} does not take weights="):
        run()


def _psm_panel():
    rng = np.random.default_rng(0)
    n, years = 120, np.arange(2010, 2014)
    x = rng.normal(size=n)
    d = (rng.uniform(size=n) < 1 / (1 + np.exp(-x))).astype(int)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 4), "year": np.tile(years, n)})
    df["d"], df["x"] = d[df["id"]], x[df["id"]] + rng.normal(scale=0.1, size=len(df))
    df["post"] = (df["year"] >= 2012).astype(int)
    df["y"] = (1.0 + x[df["id"]]) * df["d"] * df["post"] + rng.normal(scale=0.1, size=len(df))
    df["w"] = rng.integers(1, 4, n)[df["id"]].astype(float)
    return df


@pytest.mark.parametrize("kw", [{}, {"method": "radius", "caliper": 0.05}])
def test_psm_did_integer_weights_equal_duplicated_units(kw):
    """Weighted logit, balance table and matched DiD equal those on a panel where each unit appears w times."""
    from econ.did import psm_did

    df = _psm_panel()
    reps = pd.concat([df.assign(id=df["id"] + 1000 * k) for k in range(3)])
    reps = reps[reps["id"] // 1000 < reps["w"]].drop(columns="w")
    a = psm_did(df, "y", "id", "year", "d", "post", ["x"], weights="w", **kw)
    b = psm_did(reps, "y", "id", "year", "d", "post", ["x"], **kw)
    assert a.coef[a.term] == pytest.approx(b.coef[b.term], abs=1e-10)
    np.testing.assert_allclose(a.pscore, b.pscore.loc[a.pscore.index], atol=1e-10)
    np.testing.assert_allclose(a.balance, b.balance, atol=1e-10)
    plain = psm_did(df, "y", "id", "year", "d", "post", ["x"], **kw)
    assert abs(plain.coef[plain.term] - a.coef[a.term]) > 1e-3  # heterogeneous effects: the weights matter


def test_psm_did_bad_weights():
    from econ.did import psm_did

    df = _psm_panel()
    for value, what in ((np.nan, "missing"), (-1.0, "negative")):
        with pytest.raises(WeightsError, match=what):
            psm_did(df.assign(w=df["w"].where(df.index != 5, value)), "y", "id", "year", "d", "post", ["x"],
                    weights="w")
    with pytest.raises(WeightsError, match="constant within"):
        psm_did(df.assign(w=df["w"] + (df["year"] == 2013)), "y", "id", "year", "d", "post", ["x"], weights="w")


@pytest.fixture(scope="module")
def dose_panel():
    from econ._dose_sim import draw_dose_panel

    df = draw_dose_panel(n_units=300, n_periods=4, seed=3, x_trend=0.5).data
    units = df["unit"].unique()
    w = pd.Series(np.random.default_rng(2).integers(1, 4, len(units)), index=units)
    return df.assign(w=df["unit"].map(w).astype(float))


def test_cont_did_binary_limit_is_weighted_att_gt(dose_panel):
    """ATT^o of every (g, t) cell is R did's weighted 2x2 (moderndid att_gt with weightsname); the overall ATT^o is
    R did's group aggregation with weighted cohort shares, and equals econ's att_gt group aggregate, standard error
    included (same influence functions)."""
    from econ.did import cont_did

    moderndid = pytest.importorskip("moderndid")
    df = dose_panel
    res = cont_did(df, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=0, weights="w")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mp = moderndid.att_gt(df, yname="y", tname="time", idname="unit", gname="cohort", est_method="reg",
                              boot=False, cband=False, weightsname="w")
    np.testing.assert_allclose(res.group_time["att_o"], np.asarray(mp.att_gt, float), atol=1e-10)
    units = df.groupby("unit").first()
    units = units[units["cohort"] > 0]
    pg = units.groupby("cohort")["w"].sum() / units["w"].sum()  # R did: mean(w * 1{G = g}), moderndid 0.2.0 unweighted
    gt = res.group_time[res.group_time["post"]]
    theta = gt.groupby("cohort")["att_o"].mean()
    assert res.overall["ATT^o"] == pytest.approx(float((pg * theta).sum()), abs=1e-12)
    agg = att_gt(df, "y", "unit", "time", "cohort", weights="w", n_draws=0).aggregate("group")
    assert res.overall["ATT^o"] == pytest.approx(agg.overall_att, abs=1e-12)
    assert res.overall_se["ATT^o"] == pytest.approx(agg.overall_se, rel=1e-10)


def test_cont_did_with_covariates_any_dose_cells_are_weighted_drdid(dose_panel):
    """With covariates each cell's ATT^o is Sant'Anna-Zhao's doubly robust 2x2: weighted, it equals att_gt's
    weighted "dr" cells (checked against R did through moderndid in test_did_staggered.py), standard errors and the
    group aggregate included."""
    from econ.did import cont_did

    df = dose_panel
    res = cont_did(df, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=0, covariates="x", weights="w")
    cs = att_gt(df, "y", "unit", "time", "cohort", covariates="x", weights="w", n_draws=0)
    np.testing.assert_allclose(res.group_time["att_o"], cs.tidy()["estimate"], atol=1e-10)
    np.testing.assert_allclose(res.group_time["att_o_se"], cs.tidy()["std_error"], rtol=1e-8)
    agg = cs.aggregate("group")
    assert res.overall["ATT^o"] == pytest.approx(agg.overall_att, abs=1e-10)
    assert res.overall_se["ATT^o"] == pytest.approx(agg.overall_se, rel=1e-8)


@pytest.mark.parametrize("method, covariates", [("spline", None), ("discrete", None), ("spline", "x")])
def test_cont_did_integer_weights_equal_duplicated_units(dose_panel, method, covariates):
    from econ.did import cont_did

    df = dose_panel
    if method == "discrete":
        df = df.assign(dose=np.ceil(df["dose"] * 2) / 2)
    reps = pd.concat([df.assign(unit=df["unit"] + 100_000 * k) for k in range(3)])
    reps = reps[reps["unit"] // 100_000 < reps["w"]].drop(columns="w")
    kw = dict(dose="dose", degree=2, n_draws=0, method=method, control="notyet", covariates=covariates)
    a = cont_did(df, "y", "unit", "time", "cohort", weights="w", **kw)
    b = cont_did(reps, "y", "unit", "time", "cohort", **kw)
    for key in ("ATT^o", "ACRT^o"):
        assert a.overall[key] == pytest.approx(b.overall[key], abs=1e-10)
    np.testing.assert_allclose(a.curve[["att", "acrt"]], b.curve[["att", "acrt"]], atol=1e-9)
    np.testing.assert_allclose(a.event_study[["att_o", "acrt_o"]], b.event_study[["att_o", "acrt_o"]], atol=1e-10)
    plain = cont_did(df, "y", "unit", "time", "cohort", **kw)
    assert abs(plain.overall["ACRT^o"] - a.overall["ACRT^o"]) > 1e-4


def test_cont_did_bad_weights(dose_panel):
    from econ.did import cont_did

    df = dose_panel
    kw = dict(dose="dose", degree=2, n_draws=0)
    for value, what in ((np.nan, "missing"), (-1.0, "negative")):
        with pytest.raises(WeightsError, match=what):
            cont_did(df.assign(w=df["w"].where(df.index != 7, value)), "y", "unit", "time", "cohort", weights="w",
                     **kw)
    with pytest.raises(WeightsError, match="constant within unit"):
        cont_did(df.assign(w=df["w"] + (df["time"] == 4)), "y", "unit", "time", "cohort", weights="w", **kw)
    with pytest.raises(SpecificationError, match="not implemented with method=.cck."):
        cont_did(df, "y", "unit", "time", "cohort", weights="w", method="cck", dose="dose")


@pytest.fixture(scope="module")
def favara_weighted():
    md = pytest.importorskip("moderndid")
    df = md.load_favara_imbs().to_pandas()
    units = df["county"].unique()
    df["w"] = df["county"].map(pd.Series(np.random.default_rng(0).integers(1, 4, len(units)), index=units))
    return md, df.astype({"w": float})


def test_did_multiplegt_weights_match_moderndid(favara_weighted):
    """did_multiplegt_dyn's weight option (moderndid weightsname) with county weights on favara_imbs: effects,
    placebos and normalized effects to 1e-10; standard errors within 15% (12% observed; 10% unweighted in
    test_multiplegt.py: no degrees-of-freedom corrections or singleton fallbacks here). The weighted influence
    functions are pinned exactly by the duplication test below."""
    import polars as pl

    from econ.did import did_multiplegt

    md, df = favara_weighted
    kw = dict(yname="Dl_vloans_b", idname="county", tname="year", dname="inter_bra", effects=3, placebo=2,
              cluster="state_n", weightsname="w")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.did_multiplegt(data=pl.from_pandas(df), **kw)
        mn = md.did_multiplegt(data=pl.from_pandas(df), normalized=True, **kw)
    r = did_multiplegt(df, "Dl_vloans_b", "county", "year", "inter_bra", effects=3, placebo=2,
                       vcov={"CL1": "state_n"}, weights="w")
    t = r.table
    np.testing.assert_allclose(t["estimate"][:3], m.effects.estimates, atol=1e-10)
    np.testing.assert_allclose(t["estimate"][3:], m.placebos.estimates, atol=1e-10)
    np.testing.assert_allclose(t["normalized"][:3], mn.effects.estimates, atol=1e-10)
    np.testing.assert_allclose(t["std_error"], np.r_[m.effects.std_errors, m.placebos.std_errors], rtol=0.15)
    plain = did_multiplegt(df, "Dl_vloans_b", "county", "year", "inter_bra", effects=3, placebo=2)
    assert np.abs(plain.table["estimate"] - t["estimate"]).max() > 1e-3


@pytest.mark.parametrize("covariates", [None, ["Dl_hpi"]])
def test_did_multiplegt_integer_weights_equal_duplicated_groups(favara_weighted, covariates):
    """Point estimates and (state-clustered) standard errors, also with a control (weighted first-difference
    regression and its influence term)."""
    from econ.did import did_multiplegt

    _, df = favara_weighted
    reps = pd.concat([df.assign(county=df["county"] + 100_000 * k) for k in range(3)])
    reps = reps[reps["county"] // 100_000 < reps["w"]].drop(columns="w")
    kw = dict(effects=3, placebo=2, vcov={"CL1": "state_n"}, covariates=covariates)
    a = did_multiplegt(df, "Dl_vloans_b", "county", "year", "inter_bra", weights="w", **kw).table
    b = did_multiplegt(reps, "Dl_vloans_b", "county", "year", "inter_bra", **kw).table
    np.testing.assert_allclose(a[["estimate", "normalized"]], b[["estimate", "normalized"]], atol=1e-12)
    np.testing.assert_allclose(a["std_error"], b["std_error"], rtol=1e-9)  # same state clusters
    if covariates:
        plain = did_multiplegt(df, "Dl_vloans_b", "county", "year", "inter_bra", **kw).table
        assert np.abs(plain["estimate"] - a["estimate"]).max() > 1e-3


def test_did_multiplegt_bad_weights():
    from econ.did import did_multiplegt

    from econ.did.intensity.multiplegt import _demo_panel

    df = _demo_panel()
    df = df.assign(w=1.0 + (df["unit"] % 2))
    for value, what in ((np.nan, "missing"), (-1.0, "negative")):
        with pytest.raises(WeightsError, match=what):
            did_multiplegt(df.assign(w=df["w"].where(df.index != 3, value)), "y", "unit", "time", "d", weights="w")
    with pytest.raises(WeightsError, match="constant within unit"):
        did_multiplegt(df.assign(w=df["w"] + (df["time"] == df["time"].max())), "y", "unit", "time", "d",
                       weights="w")
    zero = df.assign(w=np.where(df["unit"] % 5 == 0, 0.0, df["w"]))
    a = did_multiplegt(zero, "y", "unit", "time", "d", weights="w", effects=2).table
    b = did_multiplegt(zero[zero["w"] > 0], "y", "unit", "time", "d", weights="w", effects=2).table
    np.testing.assert_allclose(a["estimate"], b["estimate"], atol=1e-12)


def test_2x2_and_ddd_bad_weights_are_the_shared_error():
    from econ.did import ddd, did_2x2

    df = pd.DataFrame({"y": [1.0, 2.0, 1.5, 4.0, 1.1, 2.1, 1.4, 3.9], "g": [0, 0, 1, 1] * 2, "p": [0, 1, 0, 1] * 2,
                       "s": [0] * 4 + [1] * 4, "w": 1.0})
    for value, what in ((np.nan, "missing"), (-1.0, "negative")):
        bad = df.assign(w=df["w"].where(df.index != 1, value))
        with pytest.raises(WeightsError, match=what):
            did_2x2(bad, "y", "g", "p", weights="w")
        with pytest.raises(WeightsError, match=what):
            ddd(bad, "y", "g", "p", "s", weights="w")


def test_weighted_estimators_recover_the_population_att_from_an_oversampled_panel():
    """Known truth: the population is half type A (effect 1) and half type B (effect 3), so the population ATT is 2;
    the sample holds four A units for every B unit, with sampling weights 1/0.8 and 1/0.2. Weighted, every
    estimator recovers 2 (unweighted they give about 1.4)."""
    from econ.did import did_multiplegt

    rng = np.random.default_rng(7)
    n, T = 400, 6
    kind_b = np.arange(n) % 5 == 0  # 20% B in the sample, 50% in the population
    cohort = np.where(np.arange(n) % 2 == 0, 4, 0)
    effect = np.where(kind_b, 3.0, 1.0)
    rows = [(i, t, cohort[i], (5.0 if kind_b[i] else 1.25)) for i in range(n) for t in range(1, T + 1)]
    df = pd.DataFrame(rows, columns=["id", "t", "g", "w"])
    i, t = df["id"].to_numpy(), df["t"].to_numpy()
    d = (cohort[i] > 0) & (t >= cohort[i])
    df["y"] = 0.3 * t + rng.normal(size=n)[i] + d * effect[i] + 0.05 * rng.normal(size=len(df))
    df["D"] = d.astype(int)
    args = ("y", "id", "t", "g")
    weighted = {
        "twfe": twfe(df, *args, weights="w").coef.iloc[0],
        "imputation": imputation(df, *args, weights="w").overall_att,
        "sun_abraham": sun_abraham(df, *args, weights="w").overall_att,
        "att_gt": att_gt(df, *args, weights="w", n_draws=0).aggregate("simple").overall_att,
        "placebo": placebo(df, *args[:3], cohort="g", n_draws=1, progress=False, weights="w").estimate,
        "did_multiplegt": did_multiplegt(df, "y", "id", "t", "D", effects=3, weights="w").table["estimate"].mean(),
    }
    for name, value in weighted.items():
        assert value == pytest.approx(2.0, abs=0.02), name
    assert imputation(df, *args).overall_att == pytest.approx(1.4, abs=0.02)  # unweighted: the sample's mix
