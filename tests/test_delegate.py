"""Random effects, panel IV and the Hausman test are delegated to linearmodels and wrapped in econ's Result."""

import numpy as np
import pandas as pd
import pytest
from linearmodels.panel import PanelOLS, RandomEffects

import econ
from econ.errors import PanelError, SpecificationError
from econ.panel.delegate import hausman, panel_iv, random_effects


def panel(correlated: bool, seed: int, n=150, t=6):
    rng = np.random.default_rng(seed)
    alpha = rng.normal(size=n)
    x = rng.normal(size=(n, t)) + (0.8 * alpha[:, None] if correlated else 0.0)
    y = 1.0 + 0.5 * x + alpha[:, None] + rng.normal(size=(n, t))
    return pd.DataFrame({"unit": np.repeat(np.arange(n), t), "year": np.tile(np.arange(2010, 2010 + t), n),
                         "x": x.ravel(), "y": y.ravel()})


def test_random_effects_is_linearmodels_wrapped(grunfeld):
    res = random_effects("invest ~ 1 + value + capital", grunfeld, "firm_id", "year", vcov={"CL1": "firm_id"})
    ref = RandomEffects.from_formula("invest ~ 1 + value + capital", grunfeld.set_index(["firm_id", "year"])) \
        .fit(debiased=True, cov_type="clustered", cluster_entity=True)
    np.testing.assert_allclose(res.coef.to_numpy(), ref.params.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.se.to_numpy(), ref.std_errors.to_numpy(), rtol=1e-12)
    assert res.nobs == 220 and "value" in res.tidy().term.tolist()
    assert "value" in econ.etable([res])


def test_hausman_matches_its_formula_and_detects_correlated_effects():
    data = panel(correlated=True, seed=1)
    test = hausman("y ~ 1 + x", data, "unit", "year")
    idx = data.set_index(["unit", "year"])
    fe = PanelOLS.from_formula("y ~ 1 + x + EntityEffects", idx).fit(debiased=True)
    re = RandomEffects.from_formula("y ~ 1 + x", idx).fit(debiased=True)
    d = fe.params["x"] - re.params["x"]
    assert test.statistic == pytest.approx(d**2 / (fe.cov.loc["x", "x"] - re.cov.loc["x", "x"]), rel=1e-10)
    assert test.df == 1 and test.terms == ("x",) and test.pvalue < 0.001
    # with effects uncorrelated with x, random effects is consistent: the test rejects at about its nominal size
    rejections = [hausman("y ~ 1 + x", panel(False, seed), "unit", "year").pvalue < 0.05 for seed in range(40)]
    assert np.mean(rejections) < 0.2


def test_panel_iv_recovers_known_effect():
    rng = np.random.default_rng(0)
    n = 4000
    z, u = rng.normal(size=n), rng.normal(size=n)
    x = z + u  # endogenous: shares u with y
    y = 2.0 * x + 3.0 * u + rng.normal(size=n)
    data = pd.DataFrame({"unit": np.arange(n) // 4, "year": np.arange(n) % 4, "x": x, "z": z, "y": y})
    iv = panel_iv("y ~ 1 + [x ~ z]", data, "unit", "year", vcov={"CL1": "unit"})
    low, high = iv.confint().loc["x"]
    assert low < 2.0 < high and iv.cluster == "unit"
    ols = econ.feols("y ~ x", data)
    assert ols.coef["x"] > 2.5  # OLS is biased upward here; IV is not


def test_bad_input_named():
    data = panel(False, 0)
    with pytest.raises(SpecificationError, match="vcov"):
        random_effects("y ~ 1 + x", data, "unit", "year", vcov={"CL1": "year"})
    with pytest.raises(PanelError, match="duplicate"):
        random_effects("y ~ 1 + x", pd.concat([data, data.iloc[:1]]), "unit", "year")


# ------------------------------------------------------------------------------------------ whole tidy() vs linearmodels
def assert_tidy_matches(res, ref):
    """Every column of tidy(): estimate, SE, statistic, p-value and the 95% interval, as linearmodels reports."""
    tidy = res.tidy().set_index("term")
    ci = ref.conf_int()
    np.testing.assert_allclose(tidy.estimate, ref.params, rtol=1e-10)
    np.testing.assert_allclose(tidy.std_error, ref.std_errors, rtol=1e-10)
    np.testing.assert_allclose(tidy.statistic, ref.tstats, rtol=1e-10)
    # atol: older linearmodels (5.0) computes 2 * (1 - cdf), which rounds p-values below ~1e-16 to 0
    np.testing.assert_allclose(tidy.p_value, ref.pvalues, rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(tidy.conf_low, ci.iloc[:, 0], rtol=1e-10)
    np.testing.assert_allclose(tidy.conf_high, ci.iloc[:, 1], rtol=1e-10)


@pytest.mark.parametrize("vcov, args", [("iid", {"cov_type": "unadjusted"}), ("hetero", {"cov_type": "robust"}),
                                        ({"CL1": "nr"}, {"cov_type": "clustered", "cluster_entity": True})])
def test_random_effects_tidy_equals_linearmodels(wagepan, vcov, args):
    fml = "lwage ~ 1 + educ + black + hisp + exper + expersq + married + union"
    res = random_effects(fml, wagepan, "nr", "year", vcov=vcov)
    ref = RandomEffects.from_formula(fml, wagepan.set_index(["nr", "year"])).fit(debiased=True, **args)
    assert_tidy_matches(res, ref)
    assert res.df_t == ref.df_resid and "t(" in res.notes[0]


@pytest.mark.parametrize("vcov", ["iid", "hetero", {"CL1": "nr"}])
def test_panel_iv_tidy_equals_linearmodels(wagepan, vcov):
    from linearmodels.iv import IV2SLS

    fml = "lwage ~ 1 + educ + exper + expersq + [union ~ married + hours]"
    res = panel_iv(fml, wagepan, "nr", "year", vcov=vcov)
    args = ({"cov_type": "unadjusted"} if vcov == "iid" else {"cov_type": "robust"} if vcov == "hetero"
            else {"cov_type": "clustered", "clusters": wagepan["nr"].to_numpy()})
    ref = IV2SLS.from_formula(fml, wagepan.sort_values(["nr", "year"]).reset_index(drop=True)).fit(debiased=True,
                                                                                                     **args)
    assert_tidy_matches(res, ref)


def test_hausman_pvalue_and_interface_on_wagepan(wagepan, tmp_path):
    from scipy import stats

    fml = "lwage ~ 1 + expersq + married + union"
    test = hausman(fml, wagepan, "nr", "year")
    idx = wagepan.set_index(["nr", "year"])
    fe = PanelOLS.from_formula(fml + " + EntityEffects", idx).fit(debiased=True)
    re = RandomEffects.from_formula(fml, idx).fit(debiased=True)
    terms = ["expersq", "married", "union"]
    d = (fe.params[terms] - re.params[terms]).to_numpy()
    v = (fe.cov.loc[terms, terms] - re.cov.loc[terms, terms]).to_numpy()
    stat = float(d @ np.linalg.solve(v, d))
    assert test.statistic == pytest.approx(stat, rel=1e-8) and test.df == 3
    assert test.pvalue == pytest.approx(stats.chi2.sf(stat, 3), rel=1e-8)
    row = test.tidy().iloc[0]
    assert row.p_value == test.pvalue and row.df == 3 and row.terms == "expersq, married, union"
    assert repr(test) == test.summary() and "chi2(3)" in test.summary() and "married: FE" in test.summary()
    fig, ax = test.plot(path=tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 0 and [t.get_text() for t in ax.get_yticklabels()] == terms


def test_delegate_bad_arguments_are_econ_errors():
    data = panel(False, 0)
    with pytest.raises(SpecificationError, match="formula"):
        random_effects(None, data, "unit", "year")
    with pytest.raises(SpecificationError, match="nosuch"):
        random_effects("y ~ 1 + nosuch", data, "unit", "year")
    with pytest.raises(SpecificationError, match="could not fit"):
        panel_iv("y ~ 1 + [x ~ nosuch]", data, "unit", "year")


# ------------------------------------------------------------------------------- intercept, PSD check, IV clusters
def _manual_hausman(fml, data, unit, time):
    """Hausman from linearmodels fits, computed by hand: ``fml`` must carry its intercept (``1 +``)."""
    from scipy import stats

    idx = data.set_index([unit, time])
    fe = PanelOLS.from_formula(fml + " + EntityEffects", idx, drop_absorbed=True).fit(debiased=True)
    re = RandomEffects.from_formula(fml, idx).fit(debiased=True)
    terms = [t for t in fe.params.index if t in re.params.index and t != "Intercept"]
    d = (fe.params[terms] - re.params[terms]).to_numpy()
    v = (fe.cov.loc[terms, terms] - re.cov.loc[terms, terms]).to_numpy()
    stat = float(d @ np.linalg.pinv(v) @ d)
    return stat, len(terms), float(stats.chi2.sf(stat, len(terms)))


DUMMIES = " + ".join(f"d8{k}" for k in range(1, 8))


@pytest.mark.parametrize("rhs", [f"expersq + union + married + {DUMMIES}",
                                 f"1 + expersq + union + married + {DUMMIES}"])
def test_hausman_on_wagepan_with_and_without_intercept_term(wagepan, rhs):
    # the numbers: chi2(10) = 37.01, p = 5.6e-5 (without the intercept RE gave -4065.2 and p = 1)
    stat, df, p = _manual_hausman(f"lwage ~ 1 + expersq + union + married + {DUMMIES}", wagepan, "nr", "year")
    with pytest.warns(UserWarning, match="not positive semi-definite"):  # V_FE - V_RE has eigenvalue -5e-6
        test = hausman(f"lwage ~ {rhs}", wagepan, "nr", "year")
    assert test.statistic == pytest.approx(stat, rel=1e-9) and test.df == df == 10
    assert test.pvalue == pytest.approx(p, rel=1e-9)
    assert round(test.statistic, 2) == 37.01 and test.pvalue == pytest.approx(5.637e-5, rel=1e-3)
    assert any("not positive semi-definite" in n for n in test.notes) and "Note:" in test.summary()
    assert ("intercept added" in " ".join(test.notes)) == (not rhs.startswith("1 +"))


@pytest.mark.parametrize("rhs", ["value + capital", "1 + value + capital"])
def test_hausman_on_grunfeld_with_and_without_intercept_term(grunfeld, rhs):
    stat, df, p = _manual_hausman("invest ~ 1 + value + capital", grunfeld, "firm_id", "year")
    test = hausman(f"invest ~ {rhs}", grunfeld, "firm_id", "year")
    assert test.statistic == pytest.approx(stat, rel=1e-9) and test.pvalue == pytest.approx(p, rel=1e-9)
    assert round(test.statistic, 3) == 3.968 and round(test.pvalue, 4) == 0.1376 and test.df == df == 2
    assert not any("semi-definite" in n for n in test.notes)


def test_hausman_never_reports_a_negative_statistic(grunfeld):
    # '0 +' asks for random effects without an intercept: V_FE - V_RE is indefinite and H = -8.92
    with pytest.warns(UserWarning, match="not positive semi-definite"):
        test = hausman("invest ~ 0 + value + capital", grunfeld, "firm_id", "year")
    assert np.isnan(test.statistic) and np.isnan(test.pvalue)
    assert "negative and is not reported" in test.notes[0] and "-8.921" in test.notes[0]
    assert "negative" in test.tidy().notes.iloc[0]


def test_random_effects_adds_the_intercept_feols_adds(grunfeld):
    implicit = random_effects("invest ~ value + capital", grunfeld, "firm_id", "year")
    explicit = random_effects("invest ~ 1 + value + capital", grunfeld, "firm_id", "year")
    pd.testing.assert_series_equal(implicit.coef, explicit.coef, rtol=1e-12)
    assert list(implicit.coef.index) == ["Intercept", "value", "capital"]
    assert any("intercept added" in n for n in implicit.notes)
    assert not any("intercept added" in n for n in explicit.notes)
    none = random_effects("invest ~ 0 + value + capital", grunfeld, "firm_id", "year")
    assert "Intercept" not in none.coef.index
    assert random_effects("invest ~ value + capital - 1", grunfeld, "firm_id", "year").coef.index.tolist() == [
        "value", "capital"]


def test_panel_iv_clusters_on_the_rows_it_uses(wagepan):
    from linearmodels.iv import IV2SLS

    data = wagepan.copy()
    data.loc[data.index[::7], "hours"] = np.nan  # 623 rows the model cannot use
    before = data.copy()
    fml = "lwage ~ 1 + educ + exper + expersq + [union ~ married + hours]"
    res = panel_iv(fml, data, "nr", "year", vcov={"CL1": "nr"})
    pd.testing.assert_frame_equal(data, before)
    used = data.dropna(subset=["hours"]).sort_values(["nr", "year"]).reset_index(drop=True)
    ref = IV2SLS.from_formula(fml, used).fit(debiased=True, cov_type="clustered", clusters=used["nr"].to_numpy())
    assert_tidy_matches(res, ref)
    assert res.nobs == len(used) == len(data) - 623 and any("623 of 4360 rows" in n for n in res.notes)
