"""Issue 11 for the DiD modules: missing cohort = never treated, vcov columns kept, degenerate designs refused,
exact label mapping, one result interface and vocabulary, and errors that name the argument."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import econ  # noqa: E402
from econ.did import _design, channels, ddd, did_2x2, event_study, placebo, psm_did, subgroups, twfe  # noqa: E402
from econ.did.classic.placebo import PlaceboResult  # noqa: E402
from econ.errors import EconError, SpecificationError, TreatmentError  # noqa: E402

Y, UNIT, TIME = "log_income_ratio", "prefecture_code", "year"


@pytest.fixture(scope="module")
def demo():
    return econ.datasets.load("china_cities_demo")


def small(n_units=40, years=range(2010, 2018), cohorts=(2013, 2015), seed=0):
    rng = np.random.default_rng(seed)
    years = np.asarray(list(years))
    cohort = np.where(np.arange(n_units) < n_units // 2, rng.choice(cohorts, n_units), 0)
    df = pd.DataFrame({"city": np.repeat(np.arange(n_units), len(years)), "year": np.tile(years, n_units)})
    df["cohort"] = cohort[df["city"]]
    df["treat"] = ((df["cohort"] > 0) & (df["year"] >= df["cohort"])).astype(int)
    df["province"] = df["city"] % 7
    df["x"] = rng.normal(size=len(df))
    df["y"] = 0.5 * df["treat"] + rng.normal(size=n_units)[df["city"]] + rng.normal(size=len(df))
    return df


# ------------------------------------------------------------------------------------------ missing cohorts
def na_cohort(df, col="cohort"):
    """Never-treated units coded as pandas <NA> in a nullable Int64 column (china_prefectures.bbc_cohort)."""
    return df.assign(**{col: pd.array(df[col].where(df[col] > 0), dtype="Int64")})


def test_missing_cohort_is_never_treated_in_event_study(demo):
    coded = event_study(demo, Y, UNIT, TIME, "cohort", window=(-3, 3))
    for missing in (na_cohort(demo), demo.assign(cohort=demo["cohort"].where(demo["cohort"] > 0))):
        res = event_study(missing, Y, UNIT, TIME, "cohort", window=(-3, 3))
        assert res.nobs == coded.nobs == len(demo)
        np.testing.assert_allclose(res.coef.to_numpy(), coded.coef.to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(res.se.to_numpy(), coded.se.to_numpy(), rtol=1e-10)


def test_missing_cohort_is_never_treated_in_placebo(demo):
    coded = placebo(demo, Y, UNIT, TIME, cohort="cohort", n_draws=49, seed=2, progress=False)
    res = placebo(na_cohort(demo), Y, UNIT, TIME, cohort="cohort", n_draws=49, seed=2, progress=False)
    assert res.nobs == coded.nobs == len(demo)
    assert res.estimate == pytest.approx(coded.estimate, rel=1e-12)
    np.testing.assert_allclose(res.draws, coded.draws, rtol=1e-10)
    assert res.pvalue == coded.pvalue


def test_twfe_cohort_argument_and_missing_cohort(demo):
    by_treat = twfe(demo, Y, UNIT, TIME, treat="treated")
    by_cohort = twfe(na_cohort(demo), Y, UNIT, TIME, cohort="cohort")
    assert by_cohort.nobs == len(demo)
    assert by_cohort.coef["treated"] == pytest.approx(by_treat.coef["treated"], rel=1e-12)
    assert by_cohort.se["treated"] == pytest.approx(by_treat.se["treated"], rel=1e-10)
    with pytest.raises(SpecificationError, match="exactly one"):
        twfe(demo, Y, UNIT, TIME)


@pytest.mark.parametrize("cell, shown", [("2015a", "'2015a'"), (2015.5, "2015.5"), (-1, "-1")])
def test_cohort_cells_that_are_not_periods_are_named(cell, shown):
    df = small().astype({"cohort": object})
    df.loc[(df["city"] == 3), "cohort"] = cell
    with pytest.raises(TreatmentError, match=rf"not.*city=3 year=2010: {shown}"):
        event_study(df, "y", "city", "year", "cohort", window=(-2, 2))
    with pytest.raises(TreatmentError, match="city=3"):
        placebo(df, "y", "city", "year", cohort="cohort", n_draws=9, progress=False)


def test_cohort_strings_and_empty_cells_parse():
    df = small()
    text = df.assign(cohort=df["cohort"].map(lambda c: str(c) if c else ""))
    a = event_study(df, "y", "city", "year", "cohort", window=(-2, 2))
    b = event_study(text, "y", "city", "year", "cohort", window=(-2, 2))
    np.testing.assert_allclose(a.coef.to_numpy(), b.coef.to_numpy(), rtol=1e-12)


def test_claims_cli_uses_the_same_cohort_parser(demo):
    from econ.claims.schema import prepare_panel, resolve_roles

    roles = resolve_roles({"unit": UNIT, "time": TIME, "cohort": "bbc"})
    prepared = prepare_panel(na_cohort(demo, "cohort").rename(columns={"cohort": "bbc"}), roles)
    frame = prepared.frame
    assert (frame.groupby(UNIT)[prepared.cohort].first() == demo.groupby(UNIT)["cohort"].first()).all()
    bad = demo.rename(columns={"cohort": "bbc"}).astype({"bbc": object})
    bad.loc[bad[UNIT] == bad[UNIT].iloc[0], "bbc"] = "2015a"  # was silently read as "never treated"
    with pytest.raises(EconError, match="2015a"):
        prepare_panel(bad, roles)


# ------------------------------------------------------------------------------------------ vcov columns
def test_cluster_on_a_column_outside_the_model():
    import pyfixest as pf

    df = small(seed=1)
    res = twfe(df, "y", "city", "year", treat="treat", vcov={"CL1": "province"})
    ref = pf.feols("y ~ treat | city + year", data=df, vcov={"CRV1": "province"})
    assert res.se["treat"] == pytest.approx(ref.se()["treat"], rel=1e-8)
    es = event_study(df, "y", "city", "year", "cohort", window=(-2, 2), vcov={"CL1": "province"})
    assert es.n_clusters == 7
    dk = twfe(df, "y", "city", "year", treat="treat", vcov={"DK": 1})  # Driscoll-Kraay reads the time column
    assert "Driscoll" in dk.vcov_type or "DK" in dk.vcov_type
    rng = np.random.default_rng(0)
    coords = pd.DataFrame({"city": np.arange(40), "lat": rng.uniform(25, 35, 40), "lon": rng.uniform(110, 120, 40)})
    geo = df.merge(coords, on="city")
    spec = {"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 300}}
    conley = twfe(geo, "y", "city", "year", treat="treat", vcov=spec)
    direct = econ.feols("y ~ treat | city + year", geo, vcov=spec, unit="city", time="year")
    assert conley.se["treat"] == pytest.approx(direct.se["treat"], rel=1e-12)


# ------------------------------------------------------------------------------------------ degenerate designs
def always_treated(df):
    """Every treated unit treated from its first period: no within-unit variation in the treatment."""
    return df.assign(cohort=np.where(df["cohort"] > 0, 2010, 0),
                     treat=np.where(df["cohort"] > 0, 1, 0))


def test_degenerate_designs_raise_the_twfe_error():
    df = always_treated(small(seed=2))
    for call in (lambda: twfe(df, "y", "city", "year", treat="treat"),
                 lambda: event_study(df, "y", "city", "year", "cohort"),
                 lambda: placebo(df, "y", "city", "year", treat="treat", n_draws=9, progress=False),
                 lambda: placebo(df, "y", "city", "year", cohort="cohort", n_draws=9, progress=False)):
        with pytest.raises(TreatmentError, match="not identified.*first observed period"):
            call()
    # without unit effects the cross-section identifies the effect: no error
    assert "treat" in twfe(df, "y", "city", "year", treat="treat", fe=["year"]).coef.index
    one = small(seed=2)
    one = one.loc[one["year"] == 2015]
    with pytest.raises(TreatmentError, match="single period"):
        placebo(one, "y", "city", "year", treat="treat", n_draws=9, progress=False)


def test_placebo_result_counts_only_finite_draws():
    res = PlaceboResult(estimate=1.0, draws=np.array([0.5, np.nan, -2.0, np.nan]), assignments=np.zeros((4, 1)),
                        units=pd.Index([0]), kind="permute_units", seed=0, depvar="y", nobs=10)
    assert res.n_draws == res.n == 2
    assert res.pvalue == pytest.approx(2 / 3)
    assert "draws: 2" in res.summary()
    with pytest.raises(TreatmentError, match="no finite"):
        PlaceboResult(estimate=1.0, draws=np.array([np.nan]), assignments=np.zeros((1, 1)), units=pd.Index([0]),
                      kind="permute_units", seed=0, depvar="y", nobs=10)


# ------------------------------------------------------------------------------------------ wrong numbers
def test_did_2x2_refuses_infinite_outcomes():
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0] * 3, "g": [0, 0, 1, 1] * 3, "p": [0, 1, 0, 1] * 3})
    df.loc[5, "y"] = -np.inf
    with pytest.raises(SpecificationError, match=r"'y' has 1 infinite.*\[5\]"):
        did_2x2(df, "y", "g", "p")


def test_psm_without_caliper_does_not_blame_a_caliper():
    rng = np.random.default_rng(0)
    n, years = 30, np.arange(2010, 2014)
    d = (np.arange(n) < 20).astype(int)  # 20 treated, 10 controls: without replacement 10 treated stay unmatched
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 4), "year": np.tile(years, n)})
    df["d"], df["x"] = d[df["id"]], rng.normal(size=n)[df["id"]] + rng.normal(scale=0.1, size=len(df))
    df["post"] = (df["year"] >= 2012).astype(int)
    df["y"] = df["d"] * df["post"] + rng.normal(size=len(df))
    res = psm_did(df, "y", "id", "year", "d", "post", ["x"], replace=False)
    note = next(n for n in res.notes if "without a match" in n)
    assert "10 of 20" in note and "caliper" not in note and "without replacement" in note


def test_eleven_renamed_columns_keep_their_labels():
    """Internal names _econ_col1 and _econ_col10 must not be confused when labels are mapped back."""
    rng = np.random.default_rng(3)
    df = small(seed=3)
    plain = [f"x{i}" for i in range(11)]
    for i, c in enumerate(plain):
        df[c] = rng.normal(size=len(df))
        df["y"] += 0.1 * (i + 1) * df[c]
    dotted = {c: f"x.{c[1:]}" for c in plain}
    ref = twfe(df, "y", "city", "year", treat="treat", covariates=plain)
    res = twfe(df.rename(columns={**dotted, "y": "收入"}), "收入", "city", "year", treat="treat",
               covariates=list(dotted.values()))
    assert list(res.coef.index) == ["treat", *dotted.values()]
    np.testing.assert_allclose(res.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-12)
    assert res.depvar == "收入" and "_econ_col" not in res.summary()


def test_time_invariant_covariates_dropped_with_a_note():
    df = small(seed=4)
    df["size"] = df["city"] * 0.1  # constant within unit
    fit = twfe(df, "y", "city", "year", treat="treat", covariates=["x", "size"])
    assert "size" not in fit.coef.index and any("size" in n for n in fit.notes)
    ref = twfe(df, "y", "city", "year", treat="treat", covariates=["x"])
    assert fit.coef["treat"] == pytest.approx(ref.coef["treat"], rel=1e-10)
    pl = placebo(df, "y", "city", "year", treat="treat", covariates=["x", "size"], n_draws=9, progress=False)
    assert pl.estimate == pytest.approx(ref.coef["treat"], rel=1e-10)
    assert any("size" in n and "dropped" in n for n in pl.notes)
    df["region"] = np.where(df["city"] % 2, "east", "west")
    sub = subgroups(df, "y", "city", "year", "treat", by="region", covariates=["x", "size"])
    assert any("size" in n and "dropped" in n for n in sub.notes)


# ------------------------------------------------------------------------------------------ vocabulary
def test_event_study_default_window_is_what_the_panel_supports():
    df = small(years=range(2012, 2016), cohorts=(2014,), seed=5)  # 4 years: (-5, 5) cannot fit
    res = event_study(df, "y", "city", "year", "cohort")
    assert res.window == (-2, 1)
    assert any("window not given: using (-2, 1)" in n for n in res.notes)


def test_staggered_notes_point_to_robust_estimators():
    df = small(seed=6)
    for res in (twfe(df, "y", "city", "year", treat="treat"), event_study(df, "y", "city", "year", "cohort")):
        note = next(n for n in res.notes if n.startswith("staggered adoption"))
        for name in ("econ.did.att_gt", "econ.did.sun_abraham", "econ.did.imputation", "econ.did.compare"):
            assert name in note
    single = small(cohorts=(2013,), seed=6)
    assert not any(n.startswith("staggered") for n in twfe(single, "y", "city", "year", treat="treat").notes)


def test_placebo_n_draws_and_legacy_alias():
    df = small(seed=7)
    a = placebo(df, "y", "city", "year", treat="treat", n_draws=20, seed=1, progress=False)
    b = placebo(df, "y", "city", "year", treat="treat", n=20, seed=1, progress=False)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert a.n_draws == 20
    with pytest.raises(SpecificationError, match="once"):
        placebo(df, "y", "city", "year", treat="treat", n=20, n_draws=20, progress=False)
    for bad in (0, -3, 2.5, "100"):
        with pytest.raises(SpecificationError, match="n_draws"):
            placebo(df, "y", "city", "year", treat="treat", n_draws=bad, progress=False)


def test_trailing_options_are_keyword_only():
    df = small(seed=8)
    with pytest.raises(TypeError):
        twfe(df, "y", "city", "year", "treat", ["x"])  # covariates must be named
    with pytest.raises(TypeError):
        event_study(df, "y", "city", "year", "cohort", (-2, 2))


# ------------------------------------------------------------------------------------------ one interface
def test_every_result_has_tidy_summary_plot_and_wald(tmp_path, demo):
    df = small(seed=9)
    df["region"] = np.where(df["city"] % 2, "east", "west")
    df["m"] = df["y"] + df["x"]
    es = event_study(df, "y", "city", "year", "cohort", window=(-2, 2))
    results = {
        "twfe": twfe(df, "y", "city", "year", treat="treat"),
        "event_study": es,
        "pretrend": es.pretrend_test(),
        "placebo": placebo(df, "y", "city", "year", treat="treat", n_draws=19, progress=False),
        "subgroups": subgroups(df, "y", "city", "year", "treat", by="region"),
        "channels": channels(df, "y", "city", "year", "treat", mediators=["m"]),
        "2x2": did_2x2(df.assign(post=(df["year"] >= 2013).astype(int), g=(df["cohort"] > 0).astype(int)),
                       "y", "g", "post"),
        "ddd": ddd(df.assign(post=(df["year"] >= 2013).astype(int), g=(df["cohort"] > 0).astype(int),
                             s=df["city"] % 2), "y", "g", "post", "s"),
        "psm": psm_did(df.assign(post=(df["year"] >= 2013).astype(int), g=(df["cohort"] > 0).astype(int)),
                       "y", "city", "year", "g", "post", ["x"]),
    }
    for name, res in results.items():
        assert isinstance(res.tidy(), pd.DataFrame) and len(res.tidy()) > 0, name
        assert isinstance(res.summary(), str) and repr(res) == res.summary(), name
        path = tmp_path / f"{name}.png"
        fig, ax = res.plot(path=path)
        assert path.stat().st_size > 0 and ax.figure is fig, name
        plt.close(fig)
        if isinstance(res, econ.results.Result):
            term = res.coef.index[0]
            assert res.wald_test(f"{term} = 0").df == 1, name
    for name in ("twfe", "event_study", "2x2", "ddd", "psm"):
        assert {"term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"} <= set(
            results[name].tidy().columns)
    for name in ("subgroups", "channels"):
        assert {"term", "estimate", "std_error", "p_value", "conf_low", "conf_high"} <= set(results[name].tidy())
    assert results["event_study"].tidy()["event_time"].tolist() == [-2, 0, 1, 2]
    assert not hasattr(_design, "promote")


# ------------------------------------------------------------------------------------------ errors
def bad_calls(df):
    yield lambda: twfe(df, ["y"], "city", "year", treat="treat"), "y must be a column name"
    yield lambda: twfe(df.to_dict(), "y", "city", "year", treat="treat"), "DataFrame"
    yield lambda: twfe(df, "y", "city", "year", treat="treat", covariates=["nope"]), "nope"
    yield lambda: twfe(df, "y", "city", "year", treat="treat", weights=np.ones(len(df))), "weights"
    yield lambda: event_study(df, "y", "city", "year", "cohort", ref=None), "ref"
    yield lambda: event_study(df, "y", "city", "year", "cohort", window="wide"), "window"
    yield lambda: event_study(df, "y", "city", "year", "cohort", seed=-1), "seed"
    yield lambda: event_study(df, "y", "city", "year", "cohort", bin_endpoints="yes"), "bin_endpoints"
    yield lambda: event_study(df, "y", "city", "year", "cohort", vcov={"CL1": "nope"}), "nope"
    yield lambda: placebo(df, "y", "city", "year", treat="treat", seed=-1), "seed"
    yield lambda: placebo(df, "y", "city", "year", treat="treat", kind=None), "kind"
    yield lambda: placebo(df, "y", "city", "year", treat="treat", kind="fake_timing", shift=0.5), "shift"
    yield lambda: placebo(df, "y", "city", "year", treat="treat", progress="no"), "progress"
    yield lambda: subgroups(df, "y", "city", "year", "treat", by="nope"), "nope"
    yield lambda: subgroups(df, "y", "city", "year", "treat", by=None), "by"
    yield lambda: channels(df, "y", "city", "year", "treat", mediators=None), "mediator"
    yield lambda: channels(df, "y", "city", "year", "treat", mediators=["nope"]), "nope"
    yield lambda: did_2x2(df, "y", "nope", "treat"), "nope"
    yield lambda: psm_did(df, "y", "city", "year", "g", "post", ["x"], caliper=-1), "caliper"
    yield lambda: psm_did(df, "y", "city", "year", "g", "post", ["x"], k=0), "k must be"
    yield lambda: psm_did(df, "y", "city", "year", "g", "post", ["x"], method="kernel"), "method"
    yield lambda: psm_did(df, "y", "city", "year", "g", "post", ["x"], replace="yes"), "replace"
    yield lambda: event_study(df, "y", "city", "year", "cohort", covariates=3), "covariates"
    yield lambda: did_2x2(df.assign(y=df["y"].astype(str)), "y", "g", "post"), "'y' is not numeric: dtype"
    yield lambda: econ.did.plot_event_study(3), "EventStudyResult"
    yield lambda: econ.did.plot_placebo("draws"), "PlaceboResult"
    yield lambda: es_result(df).sup_t_critical(level=95), "level"
    yield lambda: es_result(df).sup_t_critical(n_sim=0), "n_sim"


def es_result(df):
    return event_study(df, "y", "city", "year", "cohort", window=(-2, 2))


def test_errors_name_the_problem():
    df = small(seed=10).assign(g=lambda d: (d["cohort"] > 0).astype(int), post=lambda d: (d["year"] >= 2013) * 1)
    for i, (call, text) in enumerate(bad_calls(df)):
        with pytest.raises(EconError, match=text):
            call()


def test_subgroups_report_dropped_rows():
    df = small(seed=11)
    df["region"] = np.where(df["city"] % 2, "east", "west")
    df.loc[[0, 1], "y"] = np.nan
    res = subgroups(df, "y", "city", "year", "treat", by="region")
    assert "2 row(s) with missing values dropped" in res.notes


def test_real_bbc_cohort_with_missing_values(demo):
    """china_prefectures.bbc_cohort is Int64 with <NA> for the 225 never-designated prefectures: they stay in the
    sample as the never-treated group (before the fix they were dropped and p moved from 0.005 to ~0.09)."""
    pref = econ.datasets.load("china_prefectures")[[UNIT, "bbc_cohort"]]
    merged = demo.drop(columns="cohort").merge(pref, on=UNIT, how="left")
    assert str(merged["bbc_cohort"].dtype) == "Int64" and merged["bbc_cohort"].isna().any()
    pl = placebo(merged, Y, UNIT, TIME, cohort="bbc_cohort", n_draws=199, seed=1, progress=False)
    assert pl.nobs == len(merged)
    assert pl.pvalue == pytest.approx(1 / 200)
    es = event_study(merged, Y, UNIT, TIME, "bbc_cohort", window=(-3, 3))
    assert es.nobs == len(merged) and any("225 never treated" in n for n in es.notes)


@pytest.mark.parametrize("bad", [None, [1, 2], {"y": [1]}, "panel.csv"])
def test_spatial_did_and_etable_name_a_non_dataframe(bad):
    import econ

    W = econ.datasets.load_weights("china_prefecture_contiguity")
    with pytest.raises(econ.EconError, match="DataFrame"):
        econ.did.spatial_did(bad, "y", "u", "t", cohort="g", W=W)
    with pytest.raises(econ.EconError, match="Result"):
        econ.etable(bad)


def test_unit_constant_check_counts_a_missing_value_as_a_different_value():
    """A cluster (or group) that is 'a' in one period and missing in another varies within the unit."""
    from econ.did._design import require_unit_constant
    from econ.errors import SpecificationError

    units = pd.Series([1, 1, 2, 2])
    require_unit_constant(pd.Series(["a", "a", "b", "b"]), units, "cluster", SpecificationError)
    with pytest.raises(SpecificationError, match=r"varies for 1 unit\(s\)"):
        require_unit_constant(pd.Series(["a", None, "b", "b"]), units, "cluster", SpecificationError)
