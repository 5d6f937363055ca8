"""econ.did.cont_did (Callaway, Goodman-Bacon and Sant'Anna 2024): reference tests against moderndid's cont_did and
diff-diff's ContinuousDiD, bad input, etable (known-truth Monte Carlo and covariates: test_cont_did_mc.py; the cck
dimension choice: test_cont_did_cck.py).

Where econ and moderndid 0.2.0 agree: every point estimate (ATT^o, ACRT^o, ATT(d), ACRT(d), event study) and, with
one cohort, the influence function of ACRT(d). Where they disagree (standard errors), the Monte Carlo below decides
for econ, which follows the paper's influence functions:

* ATT(d): moderndid's influence function has no comparison-group term (``comparison_mask`` in its
  ``_compute_dose_influence_functions`` is built from the ACRT influence, which is zero for comparison units), so
  the sampling error of the comparison mean ``E[dY | D = 0]`` is missing; econ includes it.
* ACRT^o: moderndid scales the treated units' influence by ``n / n_cell`` (treated + comparison units) instead of
  ``n / n_treated``, understating the standard error by about the treated share (0.5x on its own example).
* ATT^o: moderndid aggregates the ACRT influence functions for the ATT^o standard error.
* ATT^o by event time: see test_event_study_estimates_match_moderndid.
* econ adds the influence of the estimated cohort shares to every aggregate (as R ``did``'s aggregations do);
  moderndid leaves it out of the dose aggregation.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from econ.did import cont_did
from econ.errors import EconError, TreatmentError
from econ.simulate import draw_dose_panel

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def md():
    moderndid = pytest.importorskip("moderndid")
    import moderndid.didcont.estimation.process_panel as pp

    class _NP:  # moderndid 0.2.0 calls is_in(np.arange(...)) on a float column, which polars >= 2 refuses
        def __getattr__(self, k):
            return getattr(np, k)

        @staticmethod
        def arange(*a, **k):
            return np.arange(*a, **k).astype(float)

    old = pp.np
    pp.np = _NP()
    yield moderndid
    pp.np = old


def _both(md, T, control, **kw):
    data = md.gen_cont_did_data(n=500, num_time_periods=T, seed=42)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.cont_did(data=data, yname="Y", tname="time_period", idname="id", gname="G", dname="D", biters=50,
                        control_group={"never": "nevertreated", "notyet": "notyettreated"}[control],
                        random_state=1, **kw)
        r = cont_did(data.to_pandas(), "Y", "id", "time_period", "G", dose="D", control=control, n_draws=0,
                     **{k: v for k, v in kw.items() if k in ("degree", "num_knots")})
    return m, r


@pytest.mark.parametrize("control", ["never", "notyet"])
@pytest.mark.parametrize("degree", [1, 3])
def test_estimates_match_moderndid_staggered(md, control, degree):
    m, r = _both(md, 4, control, degree=degree)
    assert r.overall["ATT^o"] == pytest.approx(m.overall_att, abs=1e-10)
    assert r.overall["ACRT^o"] == pytest.approx(m.overall_acrt, abs=1e-10)
    np.testing.assert_allclose(r.curve["att"], m.att_d, atol=1e-10)
    np.testing.assert_allclose(r.curve["acrt"], m.acrt_d, atol=1e-10)
    np.testing.assert_allclose(r.curve["dose"], m.dose, atol=1e-12)


def test_one_cohort_acrt_influence_matches_moderndid(md):
    m, r = _both(md, 2, "never", degree=3)
    np.testing.assert_allclose(r.influence["acrt_d"], m.acrt_d_inf_func, atol=1e-8)
    # ATT(d): the treated units' influence agrees; econ adds the comparison mean's (moderndid's is zero there)
    treated = np.abs(m.acrt_d_inf_func).sum(axis=1) > 0
    np.testing.assert_allclose(r.influence["att_d"][treated], m.att_d_inf_func[treated], atol=1e-8)
    assert np.all(m.att_d_inf_func[~treated] == 0) and np.all(np.abs(r.influence["att_d"][~treated]) > 0)


def test_event_study_estimates_match_moderndid(md):
    """ACRT^o by event time agrees with moderndid. Its ATT by event time does not: moderndid's 2x2 subset keeps the
    continuous dose as the treatment indicator it passes to drdid_panel (``D`` is not binarised), so its level event
    study is not the paper's ATT^o(e); econ's is the difference of mean changes, checked by hand here."""
    data = md.gen_cont_did_data(n=500, num_time_periods=4, seed=7)
    df = data.to_pandas()
    r = cont_did(df, "Y", "id", "time_period", "G", dose="D", control="notyet", n_draws=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sl = md.cont_did(data=data, yname="Y", tname="time_period", idname="id", gname="G", dname="D", biters=50,
                         aggregation="eventstudy", target_parameter="slope", random_state=1)
    es = sl.event_study
    got = r.event_study.set_index("event_time")["acrt_o"].reindex(np.asarray(es.event_times))
    np.testing.assert_allclose(got, es.att_by_event, atol=1e-10)
    wide = df.pivot(index="id", columns="time_period", values="Y")
    g = df.drop_duplicates("id").set_index("id")["G"]
    dy = wide[4] - wide[1]  # e = 2: cohort 2 in period 4, base period 1, only never-treated units are not yet treated
    want = dy[g == 2].mean() - dy[g == 0].mean()
    assert r.event_study.set_index("event_time").loc[2, "att_o"] == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("control", ["never", "notyet"])
def test_matches_diff_diff_estimates_and_analytic_standard_errors(control):
    """diff-diff's ContinuousDiD (analytic SEs, n_bootstrap=0) agrees with econ on every estimate and, unlike
    moderndid, on the standard errors of ATT(d), ACRT(d) and ATT^o (within 0.5%: econ's differ by the estimated
    cohort-share term and n vs n - 1); ACRT^o within 3%."""
    dd = pytest.importorskip("diff_diff")
    df = draw_dose_panel(n_units=600, n_periods=5, seed=0).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = dd.ContinuousDiD(degree=3, n_bootstrap=0, control_group={"never": "never_treated",
                                                                      "notyet": "not_yet_treated"}[control]).fit(
            df, "y", "unit", "time", "cohort", "dose", aggregate="dose")
    r = cont_did(df, "y", "unit", "time", "cohort", dose="dose", degree=3, n_draws=0, control=control,
                 grid=m.dose_grid)
    assert r.overall["ATT^o"] == pytest.approx(m.overall_att, abs=1e-10)
    assert r.overall["ACRT^o"] == pytest.approx(m.overall_acrt, abs=1e-10)
    np.testing.assert_allclose(r.curve["att"], m.dose_response_att.effects, atol=1e-10)
    np.testing.assert_allclose(r.curve["acrt"], m.dose_response_acrt.effects, atol=1e-10)
    np.testing.assert_allclose(r.curve["att_se"], m.dose_response_att.se, rtol=5e-3)
    np.testing.assert_allclose(r.curve["acrt_se"], m.dose_response_acrt.se, rtol=5e-3)
    assert r.overall_se["ATT^o"] == pytest.approx(m.overall_att_se, rel=5e-3)
    assert r.overall_se["ACRT^o"] == pytest.approx(m.overall_acrt_se, rel=3e-2)


def test_lowest_dose_comparison_matches_diff_diff():
    """Remark 3.1 (no untreated units): the lowest dose is the comparison, estimand ATT(d) - ATT(d_L). Against
    diff-diff's control_group="lowest_dose" (single cohort): discrete ATT(d), ACRT(d) and ATT^o with their standard
    errors to 1e-8, ACRT^o to 1e-10 (its standard error within 2%); the spline fit's estimates to 1e-10."""
    dd = pytest.importorskip("diff_diff")
    df = draw_dose_panel(n_units=600, n_periods=4, cohorts=(3,), p_never=0.0, levels=(0.5, 1.0, 2.0, 3.0),
                         seed=2).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = dd.ContinuousDiD(control_group="lowest_dose", treatment_type="discrete").fit(
            df, "y", "unit", "time", "cohort", "dose", aggregate="dose")
        ms = dd.ContinuousDiD(control_group="lowest_dose", degree=2).fit(
            df, "y", "unit", "time", "cohort", "dose", aggregate="dose")
    r = cont_did(df, "y", "unit", "time", "cohort", dose="dose", control="lowest", method="discrete", n_draws=0)
    np.testing.assert_allclose(r.curve["dose"], m.dose_grid)
    for ours, theirs in (("att", m.dose_response_att), ("acrt", m.dose_response_acrt)):
        np.testing.assert_allclose(r.curve[ours], theirs.effects, atol=1e-10)
        np.testing.assert_allclose(r.curve[ours + "_se"], theirs.se, rtol=1e-8)
    assert r.overall["ATT^o"] == pytest.approx(m.overall_att, abs=1e-10)
    assert r.overall_se["ATT^o"] == pytest.approx(m.overall_att_se, rel=1e-8)
    assert r.overall["ACRT^o"] == pytest.approx(m.overall_acrt, abs=1e-10)
    assert r.overall_se["ACRT^o"] == pytest.approx(m.overall_acrt_se, rel=2e-2)
    rs = cont_did(df, "y", "unit", "time", "cohort", dose="dose", control="lowest", degree=2, n_draws=0,
                  grid=ms.dose_grid)
    np.testing.assert_allclose(rs.curve["att"], ms.dose_response_att.effects, atol=1e-10)
    assert rs.overall["ACRT^o"] == pytest.approx(ms.overall_acrt, abs=1e-10)


def test_lowest_dose_needs_a_mass_point():
    df = draw_dose_panel(n_units=200, n_periods=4, cohorts=(3,), p_never=0.0, seed=2).data
    with pytest.raises(TreatmentError, match="lowest dose.*at least 2"):
        cont_did(df, "y", "unit", "time", "cohort", dose="dose", control="lowest", n_draws=0)


def test_discrete_dose_is_cell_means():
    sim = draw_dose_panel(n_units=400, n_periods=3, cohorts=(3,), levels=(1.0, 2.0, 3.0), seed=5)
    res = cont_did(sim.data, "y", "unit", "time", "cohort", dose="dose", method="discrete", n_draws=0)
    df = sim.data.pivot(index="unit", columns="time", values="y")
    unit = sim.data.drop_duplicates("unit").set_index("unit")
    dy = df[3] - df[2]
    base = dy[unit["cohort"] == 0].mean()
    want = [dy[(unit["cohort"] == 3) & (unit["dose"] == v)].mean() - base for v in (1.0, 2.0, 3.0)]
    np.testing.assert_allclose(res.curve["att"], want, atol=1e-12)
    np.testing.assert_allclose(res.curve["acrt"], [want[0], want[1] - want[0], want[2] - want[1]], atol=1e-12)
    # the saturated fit equals the spline fit of degree 2 on three levels
    spl = cont_did(sim.data, "y", "unit", "time", "cohort", dose="dose", degree=2, grid=[1.0, 2.0, 3.0], n_draws=0)
    np.testing.assert_allclose(spl.curve["att"], want, atol=1e-10)
    np.testing.assert_allclose(spl.curve["att_se"], res.curve["att_se"], rtol=1e-8)


def test_discrete_level_missing_from_a_cohort_is_nan_with_note():
    sim = draw_dose_panel(n_units=300, n_periods=5, cohorts=(3, 4), levels=(1.0, 2.0, 3.0), seed=1)
    df = sim.data[~((sim.data["cohort"] == 4) & (sim.data["dose"] == 3.0))]
    res = cont_did(df, "y", "unit", "time", "cohort", dose="dose", method="discrete", n_draws=49)
    assert res.curve["att"].isna().tolist() == [False, False, True]
    assert any("missing from some treated cohort" in n for n in res.notes)
    assert np.isfinite(res.crit["att_d"])


def test_unbalanced_panel_uses_observed_pairs():
    sim = draw_dose_panel(n_units=300, n_periods=4, seed=2)
    drop = sim.data.sample(frac=0.05, random_state=0).index
    res = cont_did(sim.data.drop(drop), "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=0)
    assert res.nobs == len(sim.data) - len(drop)
    assert abs(res.overall["ACRT^o"] - sim.acrt_o) < 4 * res.overall_se["ACRT^o"]


def test_input_not_mutated_and_protocol(tmp_path):
    sim = draw_dose_panel(n_units=120, n_periods=4, seed=4)
    before = sim.data.copy()
    res = cont_did(sim.data, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=49)
    pd.testing.assert_frame_equal(sim.data, before)
    tidy = res.tidy()
    assert list(tidy.columns[:6]) == ["term", "estimate", "std_error", "p_value", "conf_low", "conf_high"]
    d = res.tidy("dose")
    assert np.all(d["uniform_low"] <= d["conf_low"] + 1e-12)
    fig, ax = res.plot(path=tmp_path / "dose.png", truth=sim)
    assert (tmp_path / "dose.png").exists() and len(ax.collections) == 2
    assert "ACRT^o" in res.summary()


# ------------------------------------------------------------------------------------------------ bad input
@pytest.fixture
def panel():
    return draw_dose_panel(n_units=60, n_periods=4, seed=9).data


def _fit(df, **kw):
    return cont_did(df, "y", "unit", "time", "cohort", dose="dose", n_draws=0, **kw)


def test_negative_and_missing_doses_name_rows(panel):
    bad = panel.copy()
    bad.loc[5, "dose"] = -1.0
    with pytest.raises(TreatmentError, match=r"negative value.*rows \[5\]"):
        _fit(bad)
    bad = panel.copy()
    bad.loc[7, "dose"] = np.nan
    with pytest.raises(TreatmentError, match=r"missing value.*rows \[7\]"):
        _fit(bad)


def test_dose_varying_within_unit_names_units(panel):
    bad = panel.copy()
    unit = bad.loc[bad["cohort"] > 0, "unit"].iloc[0]
    bad.loc[(bad["unit"] == unit) & (bad["time"] == 4), "dose"] += 1.0
    with pytest.raises(TreatmentError, match=rf"fixed within unit.*\[{unit}\]"):
        _fit(bad)


def test_binary_dose_points_to_binary_estimators(panel):
    bad = panel.assign(dose=(panel["cohort"] > 0).astype(float))
    with pytest.raises(TreatmentError, match="binary treatment; use econ.did.att_gt"):
        _fit(bad)


def test_no_comparison_units(panel):
    treated = panel[panel["cohort"] > 0]
    with pytest.raises(TreatmentError, match="comparison|never-treated"):
        _fit(treated)
    with pytest.raises(EconError):
        _fit(treated[treated["cohort"] == 3])


def test_treated_unit_with_zero_dose(panel):
    bad = panel.copy()
    unit = bad.loc[bad["cohort"] > 0, "unit"].iloc[0]
    bad.loc[bad["unit"] == unit, "dose"] = 0.0
    with pytest.raises(TreatmentError, match=rf"dose 0.*\[{unit}\]|\[{unit}\].*dose 0"):
        _fit(bad)


def test_cluster_by_unit_equals_default_and_coarser_clusters_widen():
    df = draw_dose_panel(n_units=200, n_periods=4, seed=6).data
    df["same"] = df["unit"]
    df["block"] = df["unit"] // 10
    base = cont_did(df, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=0)
    same = cont_did(df, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=0, cluster="same")
    np.testing.assert_allclose(same.curve["att_se"], base.curve["att_se"], rtol=1e-12)
    block = cont_did(df, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=0, vcov={"CL1": "block"})
    np.testing.assert_allclose(block.curve["att"], base.curve["att"], rtol=1e-12)
    assert not np.allclose(block.curve["att_se"], base.curve["att_se"])


def test_etable_shows_att_o_and_acrt_o_rows():
    import re

    import econ
    from econ import datasets, did

    sim = draw_dose_panel(n_units=200, n_periods=4, seed=3)
    res = cont_did(sim.data, "y", "unit", "time", "cohort", dose="dose", degree=2, n_draws=0, control="notyet")
    d = datasets.load("mpdta")
    cs = did.att_gt(d, "lemp", "countyreal", "year", "first.treat", n_draws=0).aggregate("simple")
    text = econ.etable([res, cs], digits=4, rename={"ATT^o": "ATT"})
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in text.splitlines()
            if line.startswith("| ")}
    got = float(re.sub(r"\*+$", "", rows["ATT"][0]))
    assert got == pytest.approx(res.overall["ATT^o"], abs=5e-5)
    assert rows["ATT"][1]  # the binary estimator shares the row
    assert float(rows["ACRT^o"][0].rstrip("*")) == pytest.approx(res.overall["ACRT^o"], abs=5e-5)
    assert rows["ACRT^o"][1] == ""
    assert f"({res.overall_se['ATT^o']:.4f})" in text
    assert rows["Estimator"][0] == "Dose DiD (spline)" and rows["Control group"][0] == "Not yet treated"
    assert rows["Observations"][0] == f"{res.nobs:,}" and rows["Units"][0] == f"{res.n_units:,}"
    assert rows["Dependent variable"][0] == "y"
    assert r"ACRT$^{o}$" in econ.etable(res, format="latex")  # a superscript, not an escaped caret
    assert "ATT^o" in econ.etable(res, format="html")


def test_time_varying_dummy_points_to_binary_estimators(panel):
    bad = panel.assign(dose=((panel["cohort"] > 0) & (panel["time"] >= panel["cohort"])).astype(float))
    with pytest.raises(TreatmentError, match=r"0/1 treatment dummy.*use econ.did.att_gt"):
        _fit(bad)


def test_no_untreated_units_suggests_lowest_dose(panel):
    with pytest.raises(TreatmentError, match="no never-treated unit.*control='lowest'"):
        _fit(panel[panel["cohort"] > 0])
