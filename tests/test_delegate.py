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
