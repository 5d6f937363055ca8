"""Three-step mediation (issue 25): the c = c' + ab identity, statsmodels' Mediation on a model without fixed
effects, a manual cluster bootstrap with the same draws, known truth with fixed effects, bad input."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from econ.errors import SpecificationError
from econ.panel import mediation
from econ.panel.mediation import IDENTIFICATION_CAVEAT


def _panel(seed=0, N=60, T=6, a=0.5, b=0.8, c=0.3):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"id": np.repeat(np.arange(N), T), "t": np.tile(np.arange(T), N)})
    ai = rng.normal(size=N)[df.id]
    df["x"] = rng.normal(size=N * T)
    df["d"] = rng.normal(size=N * T) + ai
    df["m"] = a * df.d + 0.2 * df.x + ai + rng.normal(size=N * T)
    df["y"] = c * df.d + b * df.m - 0.1 * df.x + 2 * ai + 0.3 * df.t + rng.normal(size=N * T)
    return df


def test_identity_and_sobel_by_hand():
    df = _panel()
    res = mediation(df, "y", "d", "m", covariates="x", fe=["id", "t"],
                    vcov={"CL1": "id"}, n_draws=0)
    assert res.total.coef["d"] == pytest.approx(res.direct.coef["d"] + res.indirect, abs=1e-12)
    a, b = res.a.coef["d"], res.direct.coef["m"]
    sa, sb = res.a.se["d"], res.direct.se["m"]
    assert res.sobel_se == pytest.approx(np.sqrt(b ** 2 * sa ** 2 + a ** 2 * sb ** 2), rel=1e-14)
    t = res.tidy().set_index("term")
    z = res.indirect / res.sobel_se
    assert t.loc["indirect a*b (Sobel)", "p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-12)
    assert list(t.columns[:5]) == ["estimate", "std_error", "p_value", "conf_low", "conf_high"]
    assert IDENTIFICATION_CAVEAT in res.summary()


def test_against_statsmodels_mediation_without_fixed_effects():
    sm = pytest.importorskip("statsmodels.api")
    from statsmodels.stats.mediation import Mediation

    rng = np.random.default_rng(7)
    n = 500
    df = pd.DataFrame({"d": rng.normal(size=n), "x": rng.normal(size=n)})
    df["m"] = 0.6 * df.d + 0.3 * df.x + rng.normal(size=n)
    df["y"] = 0.2 * df.d + 0.7 * df.m + 0.1 * df.x + rng.normal(size=n)
    res = mediation(df, "y", "d", "m", covariates="x", n_draws=0)
    ones = np.ones(n)
    out_model = sm.OLS(df.y.to_numpy(), np.column_stack([ones, df.d, df.m, df.x]))
    med_model = sm.OLS(df.m.to_numpy(), np.column_stack([ones, df.d, df.x]))
    # linear models: statsmodels' ACME for a one-unit change in d is a*b; its parametric simulation averages
    # over draws of the coefficients, so it agrees up to simulation noise
    # statsmodels draws from numpy's global generator; seeded so the test is deterministic. Simulation error of
    # the ACME with 400 draws: about 0.8% here, so 3% is four of its standard errors
    np.random.seed(0)
    sm_res = Mediation(out_model, med_model, (1, 1), 2).fit(method="parametric", n_rep=400)
    acme = float(sm_res.summary().loc["ACME (average)", "Estimate"])
    assert res.indirect == pytest.approx(acme, rel=0.03)
    ade = float(sm_res.summary().loc["ADE (average)", "Estimate"])
    assert res.direct.coef["d"] == pytest.approx(ade, rel=0.05)


def test_bootstrap_equals_manual_cluster_bootstrap():
    df = _panel(1, N=20, T=4)
    res = mediation(df, "y", "d", "m", fe=["id", "t"], vcov={"CL1": "id"}, n_draws=99,
                    seed=11)
    rng = np.random.default_rng(11)
    N, T = 20, 4
    arr = {c: df[c].to_numpy().reshape(N, T) for c in ("d", "m", "y")}
    Dt = np.tile(np.eye(T)[:, 1:], (N, 1))  # year dummies (balanced, sorted by id then t)
    Di = np.kron(np.eye(N), np.ones((T, 1)))  # one dummy per drawn copy of a unit
    manual = []
    for _ in range(99):
        pick = rng.integers(0, N, size=N)
        d, m, y = (arr[c][pick].ravel() for c in ("d", "m", "y"))
        # two-way dummies, plain least squares (an independent route to the same fit)
        a = np.linalg.lstsq(np.column_stack([d, Di, Dt]), m, rcond=None)[0][0]
        b = np.linalg.lstsq(np.column_stack([d, m, Di, Dt]), y, rcond=None)[0][1]
        manual.append(a * b)
    np.testing.assert_allclose(res.draws, manual, rtol=1e-8)
    alpha = 0.05
    t = res.tidy().set_index("term")
    pct = np.quantile(manual, [alpha / 2, 1 - alpha / 2])
    assert [t.loc["indirect a*b (bootstrap percentile)", c] for c in ("conf_low", "conf_high")] == \
        pytest.approx(pct.tolist())
    z0 = stats.norm.ppf(np.mean(np.array(manual) < res.indirect))
    q = stats.norm.cdf(2 * z0 + stats.norm.ppf([alpha / 2, 1 - alpha / 2]))
    assert [t.loc["indirect a*b (bootstrap bias-corrected)", c] for c in ("conf_low", "conf_high")] == \
        pytest.approx(np.quantile(manual, q).tolist())


def test_known_truth_with_fixed_effects():
    df = _panel(3, N=200, T=6)
    res = mediation(df, "y", "d", "m", covariates="x", fe=["id", "t"], vcov={"CL1": "id"}, n_draws=199)
    t = res.tidy().set_index("term")
    assert res.a.coef["d"] == pytest.approx(0.5, abs=0.06)
    assert res.direct.coef["m"] == pytest.approx(0.8, abs=0.06)
    lo, hi = t.loc["indirect a*b (bootstrap percentile)", ["conf_low", "conf_high"]]
    assert lo < 0.4 < hi
    assert abs(t.loc["indirect a*b (bootstrap percentile)", "std_error"] / res.sobel_se - 1) < 0.3


def test_bad_input_and_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    df = _panel(4, N=20, T=4)
    with pytest.raises(SpecificationError, match="distinct"):
        mediation(df, "y", "d", "d")
    with pytest.raises(SpecificationError, match="nope"):
        mediation(df, "y", "d", "nope")
    with pytest.raises(SpecificationError, match="absorbed|dropped"):
        mediation(df.assign(d=df.id * 1.0), "y", "d", "m", fe=["id"], n_draws=0)
    with pytest.raises(SpecificationError, match="n_draws"):
        mediation(df, "y", "d", "m", n_draws=-1)
    with pytest.raises(SpecificationError, match="one-way clusters.*n_draws=0"):
        mediation(df, "y", "d", "m", vcov={"CL2": ("id", "t")}, n_draws=9)
    with pytest.raises(SpecificationError, match="nope"):
        mediation(df, "y", "d", "m", vcov={"CL1": "nope"}, n_draws=0)
    res = mediation(df, "y", "d", "m", n_draws=49)
    fig, ax = res.plot(path=tmp_path / "m.png")
    assert (tmp_path / "m.png").exists() and ax.figure is fig
    before = df.copy()
    mediation(df, "y", "d", "m", fe=["id"], n_draws=9)
    pd.testing.assert_frame_equal(df, before)


def test_k4_reports_the_channel_outcome_link_on_a_user_panel_and_says_what_was_tested():
    from econ.claims import runner, schema
    from econ.claims.registry import load
    from econ.simulate import china_cities_demo

    reg = load()
    module = runner.load_script(reg, reg["K4"])
    frame = china_cities_demo().data.rename(columns={"prefecture_code": "city", "cohort": "bbc_year",
                                                     "new_firms_per_10k": "firms"})
    frame = frame.drop(columns=["log_income_ratio", "treated"])
    roles = schema.user_roles(schema.parse_map(
        "unit=city,time=year,cohort=bbc_year,urban_income=urban_income,rural_income=rural_income,firms=firms"))
    raw = module.run(data=frame, roles=roles)
    link = raw["numbers"]["mediation"]["firms"]
    # the same numbers as econ.panel.mediation on that panel (K4 reports, never checks, them)
    assert set(raw["values"]) == {"new_firms_per_10k_pvalue_greater"}
    assert "mediation" in raw["tables"] and link["indirect_sobel_se"] > 0
    notes = " ".join(raw["notes"])
    assert "Not tested: channel -> outcome" in notes and "nonfarm: not mapped, neither link estimated" in notes
    assert "sequential ignorability" in notes


def test_vocabulary_protocol_and_etable(tmp_path):
    """Positional data, y, treat, mediator; clustering (and the bootstrap's resampling unit) from vcov; nobs and
    n_units; etable prints the three steps; plot without draws shows the Sobel approximation."""
    import matplotlib

    matplotlib.use("Agg")
    import econ

    df = _panel(5, N=20, T=4)
    df.loc[3, "m"] = np.nan
    res = mediation(df, "y", "d", "m", fe=["id", "t"], vcov={"CL1": "id"}, n_draws=19, seed=2)
    assert res.nobs == len(df) - 1 and res.n_units == 20 and res.info["cluster"] == "id"
    assert "19 draws resampling id" in res.summary() and "1 rows with missing values dropped" in res.summary()
    # without a cluster in vcov the bootstrap resamples rows
    rows = mediation(df, "y", "d", "m", fe=["id", "t"], vcov="hetero", n_draws=19, seed=2)
    assert rows.info["cluster"] is None and not np.allclose(rows.draws, res.draws)
    assert rows.a.vcov_type != res.a.vcov_type
    assert mediation(df, "y", "d", "m", n_draws=0).n_units is None  # no fixed effects: no unit to count
    table = econ.etable(res)
    assert [res.total.depvar, res.a.depvar, res.direct.depvar] == ["y", "m", "y"]
    assert "(3)" in table and "(4)" not in table
    fig, ax = mediation(df, "y", "d", "m", n_draws=0).plot(path=tmp_path / "sobel.png")
    assert (tmp_path / "sobel.png").exists() and "Sobel" in ax.get_xlabel()

