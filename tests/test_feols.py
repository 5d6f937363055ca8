"""econ.feols: known coefficients recovered, fixest conventions, data handling and every bad-input error."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from econ.errors import SpecificationError
from econ.panel import feols
from econ.panel.feols import CollinearityWarning
from econ.results import Result


def panel(n_units=60, n_years=8, seed=0, beta=(1.5, -0.7)):
    """Balanced panel with unit and year effects correlated with the regressors; true slopes ``beta``."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_years)
    year = np.tile(np.arange(2010, 2010 + n_years), n_units)
    a = rng.normal(size=n_units)[unit]
    g = rng.normal(size=n_years)[year - 2010]
    x1 = rng.normal(size=unit.size) + a + g
    x2 = rng.normal(size=unit.size) - a
    y = beta[0] * x1 + beta[1] * x2 + 2 * a + g + rng.normal(scale=0.5, size=unit.size)
    prov = unit % 6
    return pd.DataFrame({"unit": unit, "year": year, "prov": prov, "x1": x1, "x2": x2, "y": y})


# ------------------------------------------------------------------------------------------ known truth
def test_recovers_true_slopes_with_two_way_effects():
    df = panel(n_units=300, n_years=10, seed=1)
    res = feols("y ~ x1 + x2 | unit + year", df, vcov={"CL1": "unit"})
    assert isinstance(res, Result)
    np.testing.assert_allclose(res.coef[["x1", "x2"]], [1.5, -0.7], atol=4 * res.se.max())
    assert res.nobs == len(df) and res.fe_levels == {"unit": 300, "year": 10}
    # pooled OLS is biased here (effects correlated with x): the fixed effects matter
    pooled = feols("y ~ x1 + x2", df)
    assert abs(pooled.coef["x1"] - 1.5) > 10 * res.se["x1"]


def test_matches_dummy_variable_ols_exactly():
    df = panel(seed=2)
    res = feols("y ~ x1 + x2 | unit + year", df)
    with pytest.warns(CollinearityWarning, match="unit::59, year::2017"):  # one level of each, as fixest
        lsdv = feols("y ~ x1 + x2 + i(unit) + i(year)", df)
    np.testing.assert_allclose(res.coef[["x1", "x2"]], lsdv.coef[["x1", "x2"]], rtol=1e-10)
    np.testing.assert_allclose(res.se[["x1", "x2"]], lsdv.se[["x1", "x2"]], rtol=1e-8)  # same K in the iid factor
    assert np.isclose(res.r2, lsdv.r2)


def test_matches_pyfixest_on_formula_features():
    import pyfixest as pf
    df = panel(seed=3)
    df["w"] = np.random.default_rng(3).uniform(0.5, 2, len(df))
    for fml in ["y ~ x1 + x2 | unit + year", "y ~ x1 + i(year, ref=2012) | unit", "y ~ x1 + x2 | prov^year + unit",
                "np.log(y + 20) ~ x1 + I(x2**2)", "y ~ x1:x2 + x1 | unit"]:
        ours = feols(fml, df, vcov="hetero", weights="w")
        theirs = pf.feols(fml, df, vcov="hetero", weights="w", fixef_tol=1e-12)
        assert set(ours.coef.index) == set(theirs.coef().index)  # pyfixest also names i() terms var::level
        np.testing.assert_allclose(ours.coef, theirs.coef().reindex(ours.coef.index), rtol=1e-8)
        np.testing.assert_allclose(ours.se, theirs.se().reindex(ours.coef.index), rtol=1e-7)


# ------------------------------------------------------------------------------------------ formula syntax
def test_i_terms_names_refs_and_interactions():
    df = panel(seed=4)
    df["treated"] = (df["unit"] < 30).astype(float)
    df["rel"] = df["year"] - 2014
    res = feols("y ~ x1 + i(rel, treated, ref=-1) | unit + year", df)
    names = [t for t in res.coef.index if t.startswith("rel::")]
    assert "rel::-1:treated" not in names and "rel::0:treated" in names and len(names) == 7
    res2 = feols("y ~ i(prov, ref=[0, 1])", df)
    assert list(res2.coef.index) == ["Intercept", "prov::2", "prov::3", "prov::4", "prov::5"]
    df["region"] = np.where(df["prov"] < 3, "east", "west")
    res3 = feols("y ~ x1 + i(region, ref='east') | year", df)
    assert "region::west" in res3.coef.index
    res4 = feols("y ~ x1 + i(year, keep=[2011, 2012])", df)
    assert {"year::2011", "year::2012"} <= set(res4.coef.index) and "year::2013" not in res4.coef.index


def test_repeated_terms_are_kept_once():
    df = panel(seed=19)
    res = feols("y ~ x1 + x1*x2 | unit", df)
    assert list(res.coef.index) == ["x1", "x2", "x1:x2"]


def test_intercept_rules():
    df = panel(seed=5)
    assert "Intercept" in feols("y ~ x1", df).coef.index
    assert "Intercept" not in feols("y ~ x1 - 1", df).coef.index
    assert "Intercept" not in feols("y ~ 0 + x1", df).coef.index
    assert "Intercept" not in feols("y ~ x1 | unit", df).coef.index


def test_interacted_fixed_effect_equals_combined_column():
    df = panel(seed=6)
    df["py"] = df["prov"].astype(str) + "_" + df["year"].astype(str)
    a = feols("y ~ x1 + x2 | unit + prov^year", df)
    b = feols("y ~ x1 + x2 | unit + py", df)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-10)
    assert a.fe_levels["prov^year"] == b.fe_levels["py"] == 6 * 8


# ------------------------------------------------------------------------------------------ data handling
def test_missing_values_dropped_and_counted():
    df = panel(seed=7)
    df.loc[[0, 1, 2], "x1"] = np.nan
    df.loc[[5], "y"] = np.nan
    df.loc[[9], "year"] = np.nan
    res = feols("y ~ x1 + x2 | unit + year", df)
    assert res.nobs == len(df) - 5
    note = res.notes[0]
    assert "5 observation(s) dropped" in note and "x1: 3" in note and "y: 1" in note and "year: 1" in note


def test_singletons_dropped_iteratively_and_counted():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": [1, 1, 1, 2, 2, 2, 3, 4, 4, 4], "b": [1, 2, 7, 1, 2, 3, 7, 1, 2, 3]})
    df["x"], df["y"] = rng.normal(size=10), rng.normal(size=10)
    # a=3 is a singleton; once it is gone, b=7 is one too (the row a=1, b=7): two rows dropped
    res = feols("y ~ x | a + b", df)
    assert res.nobs == 8 and res.fe_levels == {"a": 3, "b": 3}
    assert any("2 singleton observation(s) dropped" in n for n in res.notes)
    keep = feols("y ~ x | a + b", df, fixef_rm="none")
    assert keep.nobs == 10


def test_singleton_count_matches_pyfixest():
    import pyfixest as pf
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"f1": rng.integers(0, 150, 400), "f2": rng.integers(0, 60, 400), "x": rng.normal(size=400)})
    df["y"] = df["x"] + rng.normal(size=400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pf.feols("y ~ x | f1 + f2", df)
    ours = feols("y ~ x | f1 + f2", df)
    assert ours.nobs == theirs._N
    np.testing.assert_allclose(ours.coef["x"], theirs.coef()["x"], rtol=1e-8)


def test_collinear_regressors_dropped_with_note_and_warning():
    df = panel(seed=9)
    df["x3"] = 2 * df["x1"] - df["x2"]
    with pytest.warns(CollinearityWarning, match="x3"):
        res = feols("y ~ x1 + x2 + x3 | unit", df)
    assert list(res.coef.index) == ["x1", "x2"]
    assert any("x3" in n and "collinear" in n for n in res.notes)
    # i() dummies absorbed by the fixed effects are dropped (not an error), and named
    with pytest.warns(CollinearityWarning, match="year::2011"):
        res2 = feols("y ~ x1 + i(year) | year", df)
    assert list(res2.coef.index) == ["x1"]


def test_analytic_weights_equal_frequency_expansion_for_coefficients():
    df = panel(n_units=20, n_years=5, seed=10)
    w = np.random.default_rng(10).integers(1, 4, len(df))
    expanded = df.loc[df.index.repeat(w)].reset_index(drop=True)
    a = feols("y ~ x1 + x2 | unit + year", df, weights=w)
    b = feols("y ~ x1 + x2 | unit + year", expanded)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-10)


def test_weights_nan_and_zero_dropped_negative_rejected():
    df = panel(seed=11)
    df["w"] = 1.0
    df.loc[[0, 1], "w"] = np.nan
    df.loc[[2], "w"] = 0.0
    res = feols("y ~ x1 | unit", df, weights="w")
    assert res.nobs == len(df) - 3
    assert any("weights: 2" in n for n in res.notes) and any("zero weight" in n for n in res.notes)
    df.loc[[3], "w"] = -1.0
    with pytest.raises(SpecificationError, match="positive"):
        feols("y ~ x1 | unit", df, weights="w")
    with pytest.raises(SpecificationError, match="rows"):
        feols("y ~ x1", df, weights=np.ones(3))


def test_input_not_mutated():
    df = panel(seed=12)
    df.loc[0, "x1"] = np.nan
    before = df.copy()
    feols("y ~ x1 + i(year, ref=2010) | unit", df, vcov={"CL1": "unit"})
    pd.testing.assert_frame_equal(df, before)


def test_string_and_categorical_fixed_effects():
    df = panel(seed=13)
    df["unit_s"] = "u" + df["unit"].astype(str)
    df["year_c"] = df["year"].astype("category")
    a = feols("y ~ x1 | unit_s + year_c", df)
    b = feols("y ~ x1 | unit + year", df)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-10)


# ------------------------------------------------------------------------------------------ properties
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_row_order_does_not_change_results(seed):
    df = panel(n_units=15, n_years=5, seed=seed % 97)
    rng = np.random.default_rng(seed)
    df = df.iloc[rng.permutation(len(df))[: len(df) - 7]]  # unbalanced too
    shuffled = df.iloc[rng.permutation(len(df))]
    a = feols("y ~ x1 + x2 | unit + year", df, vcov={"CL1": "unit"})
    b = feols("y ~ x1 + x2 | unit + year", shuffled, vcov={"CL1": "unit"})
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-8)
    assert a.nobs == b.nobs


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), shift=st.floats(-1e3, 1e3, allow_nan=False))
def test_group_constant_shift_does_not_change_slopes(seed, shift):
    df = panel(n_units=12, n_years=5, seed=seed % 89)
    rng = np.random.default_rng(seed)
    bump = rng.normal(size=12) * shift
    df2 = df.assign(y=df["y"] + bump[df["unit"]] + shift * (df["year"] - 2010) ** 2)
    a = feols("y ~ x1 + x2 | unit + year", df)
    b = feols("y ~ x1 + x2 | unit + year", df2)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-7, atol=1e-9 * (1 + abs(shift)))


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "formula, message",
    [
        ("y ~ x1 + name | unit", "regressor 'name' is not numeric"),
        ("y ~ x1 + empty | unit", "regressor 'empty' has no non-missing values"),
        ("y ~ x1 + unit_level | unit", "'unit_level' is constant within unit"),
        ("y ~ x1 + nosuch | unit", "unknown regressor/outcome column.*'nosuch'"),
        ("y ~ x1 | unit + nosuchfe", "unknown fixed-effect column.*'nosuchfe'"),
        ("y ~ x1 | unit^nosuchfe", "unknown fixed-effect column.*'nosuchfe'"),
        ("name ~ x1", "dependent variable 'name' is not numeric"),
        ("y ~ i(year, ref=1999)", "1999 is not a level of 'year'"),
        ("y ~ x1 | unit | z ~ w", "IV formulas are not supported"),
        ("y x1", "formula must be a string like"),
    ],
)
def test_bad_input_errors_name_the_problem(formula, message):
    df = panel(seed=14)
    df["name"] = "city"
    df["empty"] = np.nan
    df["unit_level"] = df["unit"] * 0.5
    with pytest.raises(SpecificationError, match=message):
        feols(formula, df)


def test_empty_sample_after_dropping():
    df = panel(seed=15)
    df["y"] = np.nan
    df.loc[0, "y"] = 1.0
    with pytest.raises(SpecificationError, match="no observations left"):
        feols("y ~ x1 | unit", df)
    df2 = panel(seed=15)
    df2.loc[:, "x1"] = np.where(df2.index % 2 == 0, np.nan, df2["x1"])
    df2.loc[:, "x2"] = np.where(df2.index % 2 == 1, np.nan, df2["x2"])
    with pytest.raises(SpecificationError, match="no observations left"):
        feols("y ~ x1 + x2", df2)


def test_bad_options():
    df = panel(seed=16)
    with pytest.raises(SpecificationError, match="fixef_rm"):
        feols("y ~ x1 | unit", df, fixef_rm="all")
    with pytest.raises(SpecificationError, match="unknown vcov"):
        feols("y ~ x1", df, vcov="HC7")
    with pytest.raises(SpecificationError, match="unknown vcov column.*'nosuch'"):
        feols("y ~ x1", df, vcov={"CL1": "nosuch"})
    with pytest.raises(SpecificationError, match="DataFrame"):
        feols("y ~ x1", df.to_dict())


# ------------------------------------------------------------------------------------------ result object
def test_result_interface():
    df = panel(seed=17)
    res = feols("y ~ x1 + x2 | unit + year", df, vcov={"CL1": "unit"})
    tidy = res.tidy()
    assert list(tidy.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
    ci = res.confint(0.9)
    assert list(ci.columns) == ["5%", "95%"]
    assert res.df_t == 59  # clustered: G - 1
    from scipy import stats

    q = stats.t.ppf(0.95, 59)
    np.testing.assert_allclose(ci["95%"], res.coef + q * res.se)
    np.testing.assert_allclose(res.pvalue, 2 * stats.t.sf(np.abs(res.coef / res.se), 59))
    text = res.summary()
    for piece in ["dependent variable: y", "Observations: 480", "unit (60)", "clustered by unit (60 clusters)",
                  "Within R2", "x1", "***"]:
        assert piece in text, piece
    assert repr(res) == text
    assert len(res.resid) == res.nobs and np.allclose(res.fitted + res.resid, df["y"])
    assert res.design.X.shape == (480, 2) and res.design.absorber.n_levels == [60, 8]
    np.testing.assert_allclose(res.design.absorber.demean(df["x1"].to_numpy()), res.design.X[:, 0], atol=1e-10)


def test_with_vcov_reuses_the_fit():
    df = panel(seed=18)
    res = feols("y ~ x1 + x2 | unit + year", df)
    cl = res.with_vcov({"CL1": "unit"})
    direct = feols("y ~ x1 + x2 | unit + year", df, vcov={"CL1": "unit"})
    np.testing.assert_allclose(cl.se, direct.se, rtol=1e-12)
    assert cl.df_t == direct.df_t and cl.cluster == "unit"


def test_generic_result_inference():
    coef = pd.Series([1.0, 0.0], index=["a", "b"])
    r = Result(coef, np.diag([0.25, 1.0]), nobs=100, df_resid=98, df_t=np.inf)
    np.testing.assert_allclose(r.se, [0.5, 1.0])
    np.testing.assert_allclose(r.pvalue["a"], 2 * (1 - 0.9772498680518208), rtol=1e-9)  # normal: z = 2
    assert "a" in r.summary() and np.isnan(r.r2)


# ------------------------------------------------------------------------------------------ issue 11 regressions
def demo():
    from econ import datasets

    return datasets.load("china_cities_demo")


def test_offset_regressor_is_not_collinear_and_matches_statsmodels():
    """x = log_gdp_pc + 1e5 is an offset, not a collinear column: the slope of treated is -0.114 as in statsmodels
    (the old uncentred rule dropped x and reported -0.064)."""
    import statsmodels.formula.api as smf

    df = demo().assign(x=lambda d: d["log_gdp_pc"] + 1e5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollinearityWarning)
        res = feols("log_income_ratio ~ treated + x", df, vcov="hetero")
    ref = smf.ols("log_income_ratio ~ treated + x", df).fit(cov_type="HC1")
    assert list(res.coef.index) == ["Intercept", "treated", "x"]
    np.testing.assert_allclose(res.coef.to_numpy(), ref.params.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(res.se.to_numpy(), ref.bse.to_numpy(), rtol=1e-8)
    assert round(res.coef["treated"], 3) == -0.114
    # location and scale of a regressor change nothing but its own coefficient
    base = feols("log_income_ratio ~ treated + log_gdp_pc", df)
    for x in (df["log_gdp_pc"] * 1e-6, df["log_gdp_pc"] * 1e6 - 3e8):
        other = feols("log_income_ratio ~ treated + x", df.assign(x=x))
        np.testing.assert_allclose(other.coef["treated"], base.coef["treated"], rtol=1e-9)
        np.testing.assert_allclose(other.se["treated"], base.se["treated"], rtol=1e-7)


def test_collinearity_rule_is_scale_invariant_with_fixed_effects():
    df = panel(seed=31)
    df["small"] = 1e-8 * df["x2"] + 3.0
    df["dup"] = 1e6 * (2 * df["x1"] - df["x2"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollinearityWarning)
        res = feols("y ~ x1 + small | unit + year", df)
    np.testing.assert_allclose(res.coef["small"], -0.7e8, rtol=0.2)
    with pytest.warns(CollinearityWarning, match="dup"):
        res2 = feols("y ~ x1 + x2 + dup | unit", df)
    assert list(res2.coef.index) == ["x1", "x2"]
    # a constant column next to the intercept is collinear with it (dropped and named), whatever its level
    with pytest.warns(CollinearityWarning, match="const"):
        res3 = feols("y ~ x1 + const", df.assign(const=1e5))
    assert list(res3.coef.index) == ["Intercept", "x1"]


def test_placebo_uses_the_same_collinearity_rule():
    from econ.did import placebo
    from econ.panel.collinear import collinear_columns

    df = demo()
    sub = df[df.prefecture_code.isin(df.prefecture_code.unique()[:60])]
    kw = dict(treat="treated", n_draws=20, seed=1, progress=False) if "n_draws" in placebo.__code__.co_varnames \
        else dict(treat="treated", n=20, seed=1, progress=False)
    a = placebo(sub, "log_income_ratio", "prefecture_code", "year", covariates=["log_gdp_pc"], **kw)
    for g in (sub.log_gdp_pc * 1e-7, sub.log_gdp_pc + 1e5):  # scale and location change nothing
        b = placebo(sub.assign(g=g), "log_income_ratio", "prefecture_code", "year", covariates=["g"], **kw)
        assert np.isclose(a.estimate, b.estimate, rtol=1e-7)
    # a covariate within 1e-6 (relative) of another: feols and placebo both drop it (placebo's old rule kept it)
    near = sub.log_gdp_pc + 1e-7 * sub.log_gdp_pc.std() * np.random.default_rng(0).normal(size=len(sub))
    with pytest.warns(CollinearityWarning, match="near"):
        fit = feols("log_income_ratio ~ treated + log_gdp_pc + near | prefecture_code + year", sub.assign(near=near))
    assert "near" not in fit.coef.index
    c = placebo(sub.assign(near=near), "log_income_ratio", "prefecture_code", "year",
                covariates=["log_gdp_pc", "near"], **kw)
    assert any("near" in n and "collinear" in n for n in c.notes)
    assert np.isclose(c.estimate, a.estimate, rtol=1e-10)
    x = np.column_stack([sub.log_gdp_pc, 2 * sub.log_gdp_pc + 1.0])
    assert collinear_columns(x, center=True)[1].tolist() == [True, False]


def test_many_renamed_columns_keep_their_labels():
    """DiD fits rename columns the formula parser cannot read (_econ_col0, _econ_col1, ...); with 11+ of them the
    old str.replace turned '_econ_col10' into '<name of col1>0'."""
    from econ.did import _design

    rng = np.random.default_rng(0)
    n = 400
    names = [f"变量 {i}" for i in range(12)]
    df = pd.DataFrame({nm: rng.normal(size=n) for nm in names})
    df["结果 y"] = sum((i + 1) * df[nm] for i, nm in enumerate(names)) + rng.normal(scale=0.01, size=n)
    res = _design.fit(df, "结果 y", names, [], "iid")
    assert list(res.coef.index) == ["Intercept", *names]
    np.testing.assert_allclose(res.coef[names].to_numpy(), np.arange(1, 13), atol=0.01)


def test_backticked_and_chinese_names_in_formulas():
    df = panel(seed=32).rename(columns={"x1": "人均收入", "x2": "my x", "unit": "城市", "year": "年 份"})
    res = feols("y ~ 人均收入 + `my x` + i(`年 份`, ref=2010) | 城市", df, vcov={"CL1": "城市"})
    assert res.coef.index[:2].tolist() == ["人均收入", "my x"] and "年 份::2011" in res.coef.index
    res2 = feols("y ~ `人均收入` + `my x` | `城市` + `年 份`", df)
    ref = feols("y ~ x1 + x2 | unit + year", panel(seed=32))
    np.testing.assert_allclose(res2.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-12)
    assert res2.fixef == ["城市", "年 份"]


def test_huge_values_are_refused_not_inf():
    df = panel(seed=33)
    with pytest.raises(SpecificationError, match="'y'.*rescale"):
        feols("y ~ x1 | unit", df.assign(y=df.y * 1e300))
    with pytest.raises(SpecificationError, match="'x1'.*rescale"):
        feols("y ~ x1", df.assign(x1=df.x1 * 1e-300))
    res = feols("y ~ x1 | unit", df.assign(y=df.y * 1e80))  # large but representable: finite and exact
    np.testing.assert_allclose(res.se["x1"] / 1e80, feols("y ~ x1 | unit", df).se["x1"], rtol=1e-9)


def test_weights_inf_is_an_error_and_series_align_by_label():
    df = panel(seed=34)
    df["w"] = np.random.default_rng(34).uniform(0.5, 2, len(df))
    with pytest.raises(SpecificationError, match="infinite"):
        feols("y ~ x1 | unit", df.assign(w=df.w.where(df.index != 5, np.inf)), weights="w")
    shuffled = df["w"].sample(frac=1.0, random_state=1)  # same labels, other order
    a = feols("y ~ x1 | unit", df, weights=shuffled)
    b = feols("y ~ x1 | unit", df, weights="w")
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    with pytest.raises(SpecificationError, match="index label"):
        feols("y ~ x1 | unit", df, weights=df["w"].reset_index(drop=True).set_axis(df.index + 1000))
    with pytest.raises(SpecificationError, match="weights must"):
        feols("y ~ x1 | unit", df, weights={"a": 1})


def test_bad_arguments_are_econ_errors():
    df = panel(seed=35)
    res = feols("y ~ x1", df, vcov={"CL1": "unit"})
    with pytest.raises(SpecificationError, match="fixef_tol"):
        feols("y ~ x1 | unit", df, fixef_tol="a")
    with pytest.raises(SpecificationError, match="fixef_maxiter"):
        feols("y ~ x1 | unit", df, fixef_maxiter=2.5)
    with pytest.raises(SpecificationError, match="level"):
        res.tidy("a")
    with pytest.raises(SpecificationError, match="under the null"):
        res.wildboot("x1", r="a", n_draws=99)
    with pytest.raises(SpecificationError, match="seed"):
        res.wildboot("x1", seed=-1, n_draws=99)
    with pytest.raises(SpecificationError, match="unknown argument 'foo'"):
        feols("y ~ i(year, foo=None)", df)
    # ref=None is the same as no reference level (then the intercept takes one level, as collinear)
    with pytest.warns(CollinearityWarning):
        a = feols("y ~ x1 + i(year, ref=None)", df)
    with pytest.warns(CollinearityWarning):
        b = feols("y ~ x1 + i(year)", df)
    pd.testing.assert_series_equal(a.coef, b.coef)


def test_centred_fit_keeps_every_covariance_and_with_vcov():
    """The intercept-only (no fixed effects) fit is computed on centred columns and mapped back: every covariance,
    the intercept's included, equals statsmodels' on the raw columns, also through with_vcov."""
    import statsmodels.formula.api as smf

    df = panel(seed=36)
    df["x1"] = df["x1"] + 1e4
    ref = smf.ols("y ~ x1 + x2", df)
    res = feols("y ~ x1 + x2", df)
    np.testing.assert_allclose(res.vcov.to_numpy(), ref.fit().cov_params().to_numpy(), rtol=1e-8)
    hc = res.with_vcov("hetero")
    np.testing.assert_allclose(hc.vcov.to_numpy(), ref.fit(cov_type="HC1").cov_params().to_numpy(), rtol=1e-8)
    cl = res.with_vcov({"CL1": "unit"})
    direct = feols("y ~ x1 + x2", df, vcov={"CL1": "unit"})
    np.testing.assert_allclose(cl.vcov.to_numpy(), direct.vcov.to_numpy(), rtol=1e-12)
    sm = ref.fit(cov_type="cluster", cov_kwds={"groups": df["unit"]})
    np.testing.assert_allclose(direct.se.to_numpy(), sm.bse.to_numpy(), rtol=1e-6)  # statsmodels: raw columns
    plain = feols("y ~ x1 + x2", df.assign(x1=df.x1 - 1e4), vcov={"CL1": "unit"})  # no offset: exact slopes' SE
    np.testing.assert_allclose(direct.se[["x1", "x2"]], plain.se[["x1", "x2"]], rtol=1e-10)
    with pytest.raises(SpecificationError, match="intercept"):
        direct.wildboot("Intercept", n_draws=99)
