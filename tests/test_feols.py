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
    pf = pytest.importorskip("pyfixest")
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
    pf = pytest.importorskip("pyfixest")
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
