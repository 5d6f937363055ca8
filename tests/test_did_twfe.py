"""econ.did.twfe: known effects on simulated staggered designs, agreement with pyfixest, and bad input."""

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from econ.did import twfe
from econ.errors import SpecificationError, TreatmentError


def staggered(n_units=120, years=range(2008, 2020), cohorts=(2012, 2014, 2016), share_never=0.4, effect=0.5,
              seed=0):
    """Balanced panel; cohorts assigned at random, constant effect (TWFE is unbiased), unit-level AR noise."""
    rng = np.random.default_rng(seed)
    years = np.asarray(list(years))
    n_never = int(share_never * n_units)
    cohort = np.r_[np.zeros(n_never, int), rng.choice(cohorts, n_units - n_never)]
    df = pd.DataFrame({"city": np.repeat(np.arange(n_units), len(years)), "year": np.tile(years, n_units)})
    df["cohort"] = cohort[df["city"]]
    df["treat"] = ((df["cohort"] > 0) & (df["year"] >= df["cohort"])).astype(int)
    df["x"] = rng.normal(size=len(df)) + 0.3 * df["treat"]
    alpha = rng.normal(size=n_units)[df["city"]]
    lam = 0.1 * (df["year"] - years[0]) + rng.normal(scale=0.3, size=len(years))[df["year"] - years[0]]
    df["y"] = effect * df["treat"] + 0.8 * df["x"] + alpha + lam + rng.normal(scale=0.7, size=len(df))
    return df


def test_recovers_known_constant_effect_within_ci():
    df = staggered(seed=1)
    res = twfe(df, "y", "city", "year", treat="treat", covariates=["x"])
    ci = res.confint(0.95).loc["treat"]
    assert ci.iloc[0] < 0.5 < ci.iloc[1]
    assert abs(res.coef["x"] - 0.8) < 4 * res.se["x"]
    assert res.cluster is not None and "city" in str(res.cluster)  # default: clustered by unit
    assert any("staggered" in n for n in res.notes)


def test_matches_pyfixest_clustered():
    df = staggered(seed=2)
    res = twfe(df, "y", "city", "year", treat="treat", covariates=["x"])
    ref = pf.feols("y ~ treat + x | city + year", data=df, vcov={"CRV1": "city"})
    np.testing.assert_allclose(res.coef[["treat", "x"]], ref.coef()[["treat", "x"]], rtol=1e-10)
    np.testing.assert_allclose(res.se[["treat", "x"]], ref.se()[["treat", "x"]], rtol=1e-8)


def test_continuous_intensity():
    rng = np.random.default_rng(3)
    df = staggered(seed=3)
    dose = rng.uniform(0.5, 2.0, size=df["city"].nunique())
    df["intensity"] = df["treat"] * dose[df["city"]]
    df["y"] = df["y"] - 0.5 * df["treat"] + 0.3 * df["intensity"]
    res = twfe(df, "y", "city", "year", treat="intensity", covariates=["x"])
    ci = res.confint().loc["intensity"]
    assert ci.iloc[0] < 0.3 < ci.iloc[1]
    assert any("continuous" in n for n in res.notes)


def test_input_not_mutated_and_custom_vcov():
    df = staggered(seed=4)
    before = df.copy()
    res = twfe(df, "y", "city", "year", treat="treat", vcov="hetero")
    pd.testing.assert_frame_equal(df, before)
    assert res.nobs == len(df)
    assert res.cluster is None and "HC1" in res.vcov_type  # the given vcov replaces the clustered default


def test_missing_values_dropped_and_noted():
    df = staggered(seed=9)
    df.loc[[3, 50, 700], "y"] = np.nan
    df.loc[10, "x"] = np.nan
    res = twfe(df, "y", "city", "year", treat="treat", covariates=["x"])
    complete = twfe(df.dropna(subset=["y", "x"]), "y", "city", "year", treat="treat", covariates=["x"])
    assert res.nobs == len(df) - 4
    assert "4 row(s) with missing values dropped" in res.notes
    np.testing.assert_allclose(res.coef.to_numpy(), complete.coef.to_numpy(), rtol=1e-12)


def test_treatment_switching_off_names_units():
    df = staggered(seed=5)
    treated_unit = df.loc[df["cohort"] == 2012, "city"].iloc[0]
    df.loc[(df["city"] == treated_unit) & (df["year"] == 2018), "treat"] = 0
    with pytest.raises(TreatmentError, match=rf"not absorbing.*{treated_unit}"):
        twfe(df, "y", "city", "year", treat="treat")


def test_no_untreated_observations():
    df = staggered(seed=6).assign(treat=1)
    with pytest.raises(TreatmentError, match="no untreated"):
        twfe(df, "y", "city", "year", treat="treat")


def test_constant_treatment():
    df = staggered(seed=6).assign(treat=0)
    with pytest.raises(TreatmentError, match="constant"):
        twfe(df, "y", "city", "year", treat="treat")


def test_unknown_column():
    df = staggered(seed=7)
    with pytest.raises(SpecificationError, match="nope"):
        twfe(df, "y", "city", "year", treat="treat", covariates=["nope"])


def test_any_column_name_works():
    """Non-ASCII and dotted names (common in Chinese city data) are mapped for the formula and back."""
    df = staggered(seed=8)
    ascii_ = twfe(df, "y", "city", "year", treat="treat", covariates=["x"])
    named = df.rename(columns={"y": "城乡收入差距", "city": "城市", "x": "x.1", "treat": "宽带中国"})
    res = twfe(named, "城乡收入差距", "城市", "year", treat="宽带中国", covariates=["x.1"])
    assert list(res.coef.index) == ["宽带中国", "x.1"]
    np.testing.assert_allclose(res.coef.to_numpy(), ascii_.coef.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.se.to_numpy(), ascii_.se.to_numpy(), rtol=1e-12)
    assert res.depvar == "城乡收入差距" and "城市" in res.summary() and "_econ_col" not in res.summary()


def test_no_never_treated_group_is_named_in_the_notes():
    import econ

    demo = econ.datasets.load("china_cities_demo")
    only_treated = demo[demo.cohort > 0]
    fit = econ.did.twfe(only_treated, "log_income_ratio", "prefecture_code", "year", treat="treated")
    es = econ.did.event_study(only_treated, "log_income_ratio", "prefecture_code", "year", "cohort", window=(-3, 3))
    for notes in (fit.notes, es.notes):
        assert any(n.startswith("no never-treated units") for n in notes)
    full = econ.did.twfe(demo, "log_income_ratio", "prefecture_code", "year", treat="treated")
    assert not any(n.startswith("no never-treated units") for n in full.notes)
