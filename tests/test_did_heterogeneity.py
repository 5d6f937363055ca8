"""econ.did.subgroups and econ.did.channels on simulated panels with known heterogeneous effects."""

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from econ.did import channels, subgroups
from econ.errors import SpecificationError, TreatmentError


def regional_panel(effects=None, n_units=150, seed=0):
    """Three regions with their own effects, time effects and covariate slopes; mediators m1 (moved by treatment,
    effect 0.6) and m2 (not moved)."""
    effects = effects or {"east": 0.8, "central": 0.4, "west": 0.1}
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2020)
    regions = np.array(list(effects))[rng.integers(0, len(effects), n_units)]
    cohort = np.where(rng.uniform(size=n_units) < 0.5, rng.choice([2014, 2015, 2016], n_units), 0)
    df = pd.DataFrame({"city": np.repeat(np.arange(n_units), len(years)), "year": np.tile(years, n_units)})
    df["region"] = regions[df["city"]]
    df["treat"] = ((cohort[df["city"]] > 0) & (df["year"] >= cohort[df["city"]])).astype(int)
    df["x"] = rng.normal(size=len(df))
    slope = df["region"].map({r: 0.2 + 0.2 * i for i, r in enumerate(effects)})
    region_trend = df["region"].map({r: 0.05 * i for i, r in enumerate(effects)}) * (df["year"] - 2010)
    df["y"] = (df["region"].map(effects) * df["treat"] + slope * df["x"] + region_trend
               + rng.normal(size=n_units)[df["city"]] + rng.normal(scale=0.5, size=len(df)))
    df["m1"] = 0.6 * df["treat"] + rng.normal(size=n_units)[df["city"]] + rng.normal(scale=0.5, size=len(df))
    df["m2"] = rng.normal(size=n_units)[df["city"]] + rng.normal(scale=0.5, size=len(df))
    return df


def test_subgroup_estimates_and_equality_test():
    df = regional_panel(seed=1)
    res = subgroups(df, "y", "city", "year", "treat", by="region", covariates=["x"])
    for region, effect in {"east": 0.8, "central": 0.4, "west": 0.1}.items():
        row = res.table.loc[region]
        assert row["ci_low"] < effect < row["ci_high"]
        separate = pf.feols("y ~ treat + x | city + year", data=df.loc[df["region"] == region],
                            vcov={"CRV1": "city"})  # independent reference, not econ's own twfe
        assert row["estimate"] == pytest.approx(separate.coef()["treat"], rel=1e-10)
        assert row["se"] == pytest.approx(separate.se()["treat"], rel=1e-8)
        # the fully interacted pooled model reproduces the separate point estimates
        assert res.pooled.coef[res.pooled_terms[region]] == pytest.approx(row["estimate"], rel=1e-8)
    test = res.equality_test
    assert test.df == 2 and test.pvalue_F < 0.01
    # with two groups the Wald statistic is the squared t statistic of the difference, by hand
    two = subgroups(df.loc[df["region"] != "central"], "y", "city", "year", "treat", by="region", covariates=["x"])
    terms = [two.pooled_terms["east"], two.pooled_terms["west"]]
    b, v = two.pooled.coef[terms].to_numpy(), two.pooled.vcov.loc[terms, terms].to_numpy()
    t2 = (b[0] - b[1]) ** 2 / (v[0, 0] + v[1, 1] - 2 * v[0, 1])
    assert two.equality_test.chi2 == pytest.approx(t2, rel=1e-10)
    assert two.equality_test.df == 1


def test_equal_effects_not_rejected_and_pyfixest_agrees():
    df = regional_panel({"north": 0.5, "south": 0.5}, seed=2)
    res = subgroups(df, "y", "city", "year", "treat", by="region")
    assert res.equality_test.pvalue_F > 0.05
    north = df.loc[df["region"] == "north"]
    ref = pf.feols("y ~ treat | city + year", data=north, vcov={"CRV1": "city"})
    assert res.table.loc["north", "estimate"] == pytest.approx(ref.coef()["treat"], rel=1e-10)
    assert res.table.loc["north", "se"] == pytest.approx(ref.se()["treat"], rel=1e-8)
    common = subgroups(df, "y", "city", "year", "treat", by="region", interact_fe=False)
    assert common.pooled.coef[common.pooled_terms["north"]] != pytest.approx(res.table.loc["north", "estimate"])


def test_subgroup_errors():
    df = regional_panel(seed=3)
    moving = df.copy()
    moving.loc[(moving["city"] == 0) & (moving["year"] == 2019), "region"] = "elsewhere"
    with pytest.raises(SpecificationError, match="constant within unit"):
        subgroups(moving, "y", "city", "year", "treat", by="region")
    untreated = df.loc[~((df["region"] == "west") & (df["treat"] == 1))]
    untreated = untreated.loc[~untreated["city"].isin(df.loc[(df["region"] == "west") & (df["treat"] == 1), "city"])]
    with pytest.raises(TreatmentError, match="west"):
        subgroups(untreated, "y", "city", "year", "treat", by="region")


def test_channels_side_by_side():
    df = regional_panel(seed=4)
    res = channels(df, "y", "city", "year", "treat", mediators=["m1", "m2"], covariates=["x"])
    assert list(res.table.index) == ["y", "m1", "m2"]
    assert list(res.table["role"]) == ["outcome", "mediator", "mediator"]
    m1 = pf.feols("m1 ~ treat + x | city + year", data=df, vcov={"CRV1": "city"})
    assert res.table.loc["m1", "estimate"] == pytest.approx(m1.coef()["treat"], rel=1e-10)
    assert res.table.loc["m1", "se"] == pytest.approx(m1.se()["treat"], rel=1e-8)
    assert res.table.loc["m1", "ci_low"] < 0.6 < res.table.loc["m1", "ci_high"]
    assert res.table.loc["m2", "ci_low"] < 0 < res.table.loc["m2", "ci_high"]
    assert "sequential ignorability" in res.summary()
    with pytest.raises(SpecificationError, match="mediator"):
        channels(df, "y", "city", "year", "treat", mediators=[])


def test_unknown_group_or_variable_names_the_available_ones():
    df = regional_panel(seed=5)
    res = subgroups(df, "y", "city", "year", "treat", by="region")
    assert res.results["east"].nobs > 0 and "north" not in res.results and res.results.get("north") is None
    for mapping in (res.results, res.pooled_terms):
        with pytest.raises(SpecificationError, match=r"no group \(region\) 'north'.*'central', 'east', 'west'"):
            mapping["north"]
    ch = channels(df, "y", "city", "year", "treat", mediators=["m1"])
    with pytest.raises(SpecificationError, match=r"no variable 'm9'.*\['y', 'm1'\]"):
        ch.results["m9"]


def test_equality_f_test_uses_the_cluster_df_rule_of_the_per_group_rows():
    """Clustered by province (31 clusters): the F form uses G - 1 = 30 denominator degrees of freedom, the rule of
    the per-group t tests (G_g - 1), not n - K (which gave p = 0.2121 instead of 0.2286)."""
    from scipy import stats

    import econ

    demo = econ.datasets.load("china_cities_demo")
    sub = econ.did.subgroups(demo, "log_income_ratio", "prefecture_code", "year", "treated", by="region",
                             vcov={"CL1": "province_code"})
    test, n_prov = sub.equality_test, demo["province_code"].nunique()
    assert n_prov == 31 and test.df2 == n_prov - 1 == sub.pooled.df_t
    assert test.F == pytest.approx(test.chi2 / 2, rel=1e-12)
    assert test.pvalue_F == pytest.approx(stats.f.sf(test.chi2 / 2, 2, 30), rel=1e-10)
    assert round(test.pvalue_F, 4) == 0.2286
    for g, res in sub.results.items():  # the per-group rows: t(G_g - 1) with G_g the provinces in the group
        g_g = demo.loc[demo["region"] == g, "province_code"].nunique()
        assert res.df_t == g_g - 1
    default = econ.did.subgroups(demo, "log_income_ratio", "prefecture_code", "year", "treated", by="region")
    assert default.equality_test.df2 == demo["prefecture_code"].nunique() - 1
