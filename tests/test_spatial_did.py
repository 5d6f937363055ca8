"""econ.did.spatial_did: planted spillovers recovered (demo panel and a small Monte Carlo), agreement with an
independent pyfixest fit of the same design, ring exposures by hand, clear errors."""

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from econ import datasets, simulate
from econ.did import spatial_did
from econ.errors import EconError, TreatmentError, WeightsError
from econ.spatial import Weights

matplotlib.use("Agg")
Y, UNIT, TIME = "log_income_ratio", "prefecture_code", "year"


@pytest.fixture(scope="module")
def demo():
    return datasets.load("china_cities_demo"), datasets.load_weights(), datasets.truth("china_cities_demo")


def test_demo_panel_recovers_planted_direct_effect_and_spillover(demo):
    data, W, truth = demo
    res = spatial_did(data, Y, UNIT, TIME, cohort="cohort", W=W)
    ci = res.confint()
    assert ci.loc["direct", ci.columns[0]] <= truth["att_overall"] <= ci.loc["direct", ci.columns[1]]
    assert ci.loc["spillover", ci.columns[0]] <= truth["spillover_log_ratio"] <= ci.loc["spillover", ci.columns[1]]
    assert res.coef["spillover"] < 0 and res.pvalue["spillover"] < 0.01
    # the same with the 0/1 treatment column and a Series-free cohort with <NA> (china_prefectures format)
    by_treat = spatial_did(data, Y, UNIT, TIME, treat="treated", W=W)
    np.testing.assert_allclose(by_treat.coef, res.coef, rtol=1e-10)
    na = data.assign(cohort=data["cohort"].astype("Int64").where(data["cohort"] > 0))
    np.testing.assert_allclose(spatial_did(na, Y, UNIT, TIME, cohort="cohort", W=W).coef, res.coef, rtol=1e-10)
    assert {"cohort", "time", "estimate", "std_error"} <= set(res.cells.columns)
    assert res.cells["n_obs"].sum() == int(data["treated"].sum())


def test_small_monte_carlo_is_unbiased_for_all_three_effects(demo):
    data, W, _ = demo
    units = data.groupby(UNIT, as_index=False)["cohort"].first()
    params = simulate.DesignParams(spillover=0.08)
    est, se = [], []
    for seed in range(6):
        sim = simulate.draw_panel(units, range(2008, 2023), unit=UNIT, cohort="cohort", W=W, params=params,
                                  seed=seed)
        res = spatial_did(sim.data, Y, UNIT, TIME, cohort="cohort", W=W)
        est.append(res.coef.to_numpy())
        se.append(res.se.to_numpy())
        truth = sim.truth
    est, se = np.array(est), np.array(se)
    target = np.array([truth["att_overall"], truth["spillover_log_ratio"], truth["spillover_log_ratio"]])
    assert target[1] == pytest.approx(-0.06)
    assert (np.abs(est.mean(axis=0) - target) < 3 * se.mean(axis=0) / np.sqrt(len(est)) + 0.002).all()
    assert ((se.mean(axis=0) > 0.5 * est.std(axis=0)) & (se.mean(axis=0) < 2.5 * est.std(axis=0))).all()


def test_static_twfe_share_design_matches_pyfixest(demo):
    data, W, _ = demo
    res = spatial_did(data, Y, UNIT, TIME, cohort="cohort", W=W, estimator="twfe")
    ids = sorted(data[UNIT].unique())
    A = W.align(ids).to_dense()
    R = A / np.where(A.sum(1, keepdims=True) > 0, A.sum(1, keepdims=True), 1)
    wide = data.pivot(index=UNIT, columns=TIME, values="treated").loc[ids]
    share = pd.DataFrame(R @ wide.to_numpy(), index=ids, columns=wide.columns).stack().rename("share")
    df = data.join(share, on=[UNIT, TIME])
    df["su"] = (1 - df["treated"]) * df["share"]
    df["st"] = df["treated"] * df["share"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols(f"{Y} ~ treated + su + st | {UNIT} + {TIME}", df, vcov={"CRV1": UNIT})
    np.testing.assert_allclose(res.coef.to_numpy(), ref.coef().to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(res.se.to_numpy(), ref.se().to_numpy(), rtol=1e-6)


def test_no_never_treated_units_last_cohort_is_control_and_truth_is_recovered(demo):
    """Every unit eventually treated: the last cohort's rows from its adoption on leave the sample (they used to be
    kept as untreated controls, which put the truth -0.038 outside the interval [-0.037, -0.021])."""
    from econ.errors import EconWarning

    data, W, _ = demo
    units = data.groupby(UNIT, as_index=False)["cohort"].first()
    units["cohort"] = units["cohort"].replace(0, 2020)
    params = simulate.DesignParams(peak_effect={2014: 0.08, 2015: 0.06, 2016: 0.04, 2020: 0.02}, spillover=0.04)
    sim = simulate.draw_panel(units, range(2008, 2023), unit=UNIT, cohort="cohort", W=W, params=params, seed=0)
    with pytest.warns(EconWarning, match=r"last-treated cohort \(2020\) is the control group"):
        res = spatial_did(sim.data, Y, UNIT, TIME, cohort="cohort", W=W)
    assert res.cells["time"].max() < 2020 and res.nobs == len(units) * (2020 - 2008)
    truth = pd.DataFrame(sim.truth["att_gt"]).rename(columns={"year": "time"})
    cells = res.cells.merge(truth, on=["cohort", "time"], validate="one_to_one")
    target = float((cells["n_obs"] * cells["att"]).sum() / cells["n_obs"].sum())
    low, high = res.confint().loc["direct"]
    assert low <= target <= high
    assert target == pytest.approx(-0.0383, abs=1e-4)


def test_ring_exposures_by_contiguity_order_and_km():
    ids = list("abcdef")
    path = pd.DataFrame({"s": ids[:-1], "t": ids[1:]})  # a - b - c - d - e - f
    W = Weights.from_edges(path, "s", "t", ids=ids)
    rng = np.random.default_rng(0)
    panel = pd.DataFrame({"u": np.repeat(ids, 6), "t": np.tile(np.arange(2000, 2006), 6)})
    panel["g"] = panel["u"].map({"a": 2003, "f": 2004}).fillna(0)
    panel["y"] = rng.normal(size=len(panel))
    res = spatial_did(panel, "y", "u", "t", cohort="g", W=W, exposure="rings", rings=2, estimator="twfe")
    ring = res.exposure.set_index(["u", "t"])["ring"]
    assert ring[("b", 2003)] == 1 and ring[("c", 2003)] == 2 and ring[("d", 2003)] == 0
    assert ring[("e", 2004)] == 1 and ring[("d", 2004)] == 2 and ring[("b", 2002)] == 0 and ring[("a", 2003)] == 0
    panel["lat"] = 0.0
    panel["lon"] = panel["u"].map(dict(zip(ids, [0.0, 0.5, 1.5, 2.0, 3.0, 4.0])))
    res_km = spatial_did(panel, "y", "u", "t", cohort="g", exposure="rings", rings=[60, 170], coords=("lat", "lon"),
                         estimator="twfe")
    ring = res_km.exposure.set_index(["u", "t"])["ring"]  # 0.5 deg ~ 55.6 km, 1.5 deg ~ 166.8 km
    assert ring[("b", 2003)] == 1 and ring[("c", 2003)] == 2 and ring[("d", 2003)] == 0
    assert ring[("e", 2004)] == 2 and ring[("d", 2004)] == 0  # d: 2 degrees (222 km) from both a and f


def test_bad_input_is_named(demo):
    data, W, _ = demo
    with pytest.raises(TreatmentError, match="exactly one of treat"):
        spatial_did(data, Y, UNIT, TIME, W=W)
    with pytest.raises(TreatmentError, match="exactly one of treat"):
        spatial_did(data, Y, UNIT, TIME, treat="treated", cohort="cohort", W=W)
    with pytest.raises(WeightsError, match="W .* is required"):
        spatial_did(data, Y, UNIT, TIME, cohort="cohort")
    with pytest.raises(WeightsError, match=r"1 unit\(s\) of the data are not in W"):
        spatial_did(data, Y, UNIT, TIME, cohort="cohort", W=W.subset(list(W.ids[1:])))
    with pytest.raises(EconError, match="exposure must be one of"):
        spatial_did(data, Y, UNIT, TIME, cohort="cohort", W=W, exposure="distance")
    with pytest.raises(EconError, match="rings"):
        spatial_did(data.assign(lat=30.0, lon=110.0), Y, UNIT, TIME, cohort="cohort", W=W, exposure="rings",
                    rings=[50, 20], coords=("lat", "lon"))
    with pytest.raises(EconError, match="not in the data"):
        spatial_did(data, "nope", UNIT, TIME, cohort="cohort", W=W)
    sub = data[data[UNIT].isin(W.ids[:300])]
    res = spatial_did(sub, Y, UNIT, TIME, cohort="cohort", W=W)  # extra W units dropped, with a note
    assert any("37 unit(s) of W are not in the data" in n for n in res.notes)


def test_result_interface(demo, tmp_path):
    data, W, _ = demo
    res = spatial_did(data, Y, UNIT, TIME, cohort="cohort", W=W)
    assert list(res.tidy().columns[:7]) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low",
                                            "conf_high"]
    assert "spillover" in res.summary() and repr(res) == res.summary()
    fig, ax = res.plot(path=tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 1000
    fig2, _ = res.plot_cells(path=tmp_path / "cells.png")
    assert (tmp_path / "cells.png").exists()
    w = res.wald_test("spillover = spillover_treated")
    assert 0 <= w.pvalue <= 1
    import matplotlib.pyplot as plt

    plt.close("all")
