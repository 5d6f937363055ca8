"""The simulated designs: reproducible, and their stored truth is what they generate."""

import json

import numpy as np
import pandas as pd
import pytest

from econ import datasets, simulate
from econ.errors import EconError
from econ.spatial import Weights


def toy_units(n=60, cohorts=(2014, 2016), size=10, seed=0):
    g = np.zeros(n, dtype=int)
    g[:size], g[size:2 * size] = cohorts
    return pd.DataFrame({"unit": np.arange(n), "cohort": g})


PARAMS = simulate.DesignParams(peak_effect={2014: 0.1, 2016: 0.05}, spillover=0.0, sigma=0.01)


def test_same_seed_identical_frame_different_seed_differs():
    a = simulate.draw_panel(toy_units(), range(2010, 2020), params=PARAMS, seed=3)
    b = simulate.draw_panel(toy_units(), range(2010, 2020), params=PARAMS, seed=3)
    c = simulate.draw_panel(toy_units(), range(2010, 2020), params=PARAMS, seed=4)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert a.truth == b.truth
    assert not np.allclose(a.data.log_income_ratio, c.data.log_income_ratio)


def test_truth_matches_generated_effects():
    # With no noise and no spillover, the treated-minus-untreated change equals the stored ATT(g, t).
    params = simulate.DesignParams(peak_effect={2014: 0.1, 2016: 0.05}, spillover=0.0, sigma=0.0)
    sim = simulate.draw_panel(toy_units(), range(2010, 2020), params=params, seed=1)
    d = sim.data
    wide = d.pivot(index="unit", columns="year", values="log_income_ratio")
    g = d.groupby("unit").cohort.first()
    never = wide[g == 0]
    for row in sim.truth["att_gt"]:
        cohort, year = row["cohort"], row["year"]
        treated = wide[g == cohort]
        base = cohort - 1
        did = (treated[year] - treated[base]).mean() - (never[year] - never[base]).mean()
        # unit levels and year effects difference out exactly; only the stored effect remains
        assert did == pytest.approx(row["att"], abs=1e-12)
    assert sim.truth["simulated"] is True and sim.data["simulated"].all()


def test_spillover_uses_weights_in_their_unit_order():
    units = toy_units(n=4, cohorts=(2014, 2015), size=1)
    edges = pd.DataFrame({"a": [0, 1, 2], "b": [1, 2, 3]})
    w = Weights.from_edges(edges, "a", "b", ids=[3, 2, 1, 0])  # reversed order on purpose
    params = simulate.DesignParams(peak_effect={2014: 0.0, 2015: 0.0}, spillover=0.1, sigma=0.0)
    sim = simulate.draw_panel(units, range(2012, 2017), W=w, params=params, seed=0)
    d = sim.data.set_index(["unit", "year"]).log_income_ratio
    # unit 3's only neighbour is 2 (never treated): no spillover; unit 2's neighbours 1 (2015) and 3
    change3 = d[(3, 2016)] - d[(3, 2012)]
    change2 = d[(2, 2016)] - d[(2, 2012)]
    assert change2 - change3 == pytest.approx(sim.truth["spillover_log_ratio"] * 0.5, abs=1e-12)


def test_bad_cohorts_rejected():
    with pytest.raises(EconError, match=r"cohort\(s\) \[2030\] outside"):
        simulate.draw_panel(toy_units(cohorts=(2014, 2030)), range(2010, 2020), params=PARAMS)
    with pytest.raises(EconError, match="no peak_effect given"):
        simulate.draw_panel(toy_units(cohorts=(2014, 2015)), range(2010, 2020), params=PARAMS)
    with pytest.raises(EconError, match="shape must be one of"):
        simulate.effect_shape(np.arange(3), "cubic", 3)


def test_bundled_demo_is_what_the_generator_draws():
    stored = datasets.load("china_cities_demo")
    fresh = simulate.china_cities_demo()
    cols = list(fresh.data.columns)
    pd.testing.assert_frame_equal(stored[cols].reset_index(drop=True), fresh.data, check_dtype=False,
                                  rtol=1e-10)
    truth = datasets.truth("china_cities_demo")
    fresh_truth = json.loads(fresh.truth_json())
    for key in ("att_by_event_time", "cohort_sizes"):  # truth() gives integer event-time and cohort keys
        fresh_truth[key] = {int(k): v for k, v in fresh_truth[key].items()}
    assert truth == fresh_truth


def test_bundled_demo_uses_real_cohorts():
    demo = datasets.load("china_cities_demo")
    pref = datasets.load("china_prefectures")
    cohorts = demo.groupby("prefecture_code").cohort.first()
    real = pref.set_index("prefecture_code").bbc_cohort.fillna(0).astype(int)
    pd.testing.assert_series_equal(cohorts.sort_index(), real.sort_index(), check_names=False)
    assert sorted(demo.year.unique()) == list(range(2008, 2023))
    assert demo.simulated.all()


def test_true_att_is_what_callaway_santanna_aggregates_on_a_noiseless_design():
    # sigma = 0 and no spillover: every ATT(g, t) estimate is exact, so each aggregation equals true_att
    from econ.did import att_gt

    params = simulate.DesignParams(peak_effect={2014: 0.1, 2016: 0.05}, spillover=0.0, sigma=0.0)
    units = toy_units(n=60, cohorts=(2014, 2016), size=15)
    sim = simulate.draw_panel(units, range(2010, 2020), params=params, seed=2)
    res = att_gt(sim.data, "log_income_ratio", "unit", "year", "cohort")
    for kind, by in [("dynamic", "event_time"), ("group", "cohort"), ("calendar", "time")]:
        tid = res.aggregate(kind, n_draws=0).tidy().set_index(by)["estimate"]
        truth = sim.true_att(by)
        expected = truth.reindex(tid.index).fillna(0.0)  # event times before treatment: truth 0
        np.testing.assert_allclose(tid.to_numpy(), expected.to_numpy(), atol=1e-10, err_msg=kind)
    assert res.aggregate("simple", n_draws=0).overall_att == pytest.approx(sim.true_att("overall"), abs=1e-10)
    assert sim.true_att("event_time").to_dict() == sim.truth["att_by_event_time"]


def test_true_att_rejects_what_is_not_a_design():
    with pytest.raises(EconError, match="by must be one of"):
        simulate.true_att(datasets.truth("china_cities_demo"), "unit")
    with pytest.raises(EconError, match="truth must be a SimulatedPanel"):
        simulate.true_att({"att_overall": 1.0}, "overall")


@pytest.mark.parametrize("kwargs,match", [
    ({"shape": "cubic"}, "shape must be one of"),
    ({"rho": 1.0}, "rho must be < 1"),
    ({"sigma": -0.1}, "sigma must be >= 0"),
    ({"urban_share": 1.5}, "urban_share must be <= 1"),
    ({"ramp_years": 0}, "ramp_years must be at least 1"),
    ({"spillover": float("nan")}, "spillover must be finite"),
    ({"selection": "high"}, "selection must be a number"),
    ({"peak_effect": {"2014a": 0.1}}, "peak_effect cohort must be an integer"),
    ({"peak_effect": [0.1]}, "peak_effect must be a dict"),
    ({"mediator_effects": {"broadband": 1.0}}, r"unknown mediator\(s\) \['broadband'\]"),
])
def test_design_params_refuse_values_outside_their_range(kwargs, match):
    with pytest.raises(EconError, match=match):
        simulate.DesignParams(**kwargs)


def test_draw_panel_bad_units_named():
    units = toy_units()
    with pytest.raises(EconError, match="duplicate ids in column 'unit'"):
        simulate.draw_panel(pd.concat([units, units.head(2)]), range(2010, 2020), params=PARAMS)
    with pytest.raises(EconError, match="'cohort'"):
        simulate.draw_panel(units.drop(columns="cohort"), range(2010, 2020), params=PARAMS)
    with pytest.raises(EconError, match=r"'cohort' must hold integer periods.*: '2014a'"):
        simulate.draw_panel(units.assign(cohort=units.cohort.astype(object).where(units.cohort != 2014, "2014a")),
                            range(2010, 2020), params=PARAMS)
    with pytest.raises(EconError, match="years must be distinct"):
        simulate.draw_panel(units, [2010, 2010, 2011], params=PARAMS)
    with pytest.raises(EconError, match="seed"):
        simulate.draw_panel(units, range(2010, 2020), params=PARAMS, seed=-1)
    with pytest.raises(EconError, match="W must be an econ.spatial.Weights"):
        simulate.draw_panel(units, range(2010, 2020), params=PARAMS, W=np.eye(60))
    with pytest.raises(EconError, match="params must be a DesignParams"):
        simulate.draw_panel(units, range(2010, 2020), params={"sigma": 0})
    missing = units.assign(cohort=units.cohort.astype("float").where(units.cohort > 0))  # NaN = never treated
    a = simulate.draw_panel(missing, range(2010, 2020), params=PARAMS, seed=1)
    b = simulate.draw_panel(units, range(2010, 2020), params=PARAMS, seed=1)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert units.equals(toy_units())  # input untouched


@pytest.mark.parametrize("call,match", [
    (lambda u: simulate.draw_panel([1, 2], range(2010, 2016)), "units must be a DataFrame"),
    (lambda u: simulate.draw_panel(u, None), "years must be an iterable"),
    (lambda u: simulate.draw_panel(u, "2010"), "years must be an iterable"),
    (lambda u: simulate.draw_panel(u, [2010.5, 2011]), "years must be an integer"),
    (lambda u: simulate.draw_panel(u.assign(unit=[1.0, np.nan, 3.0, 4.0]), range(2010, 2016)), "missing ids"),
    (lambda u: simulate.draw_panel(u.assign(cohort=[2014.5, 0, 0, 0]), range(2010, 2016)),
     r"'cohort' must hold integer periods.*unit=1: 2014.5"),
    (lambda u: simulate.draw_panel(u.assign(cohort=[-1, 0, 0, 0]), range(2010, 2016)),
     r"'cohort' must hold integer periods.*unit=1: -1"),
    (lambda u: simulate.twfe_bias_panel(cohorts=("a", "b", "c")), "cohorts must be an integer"),
    (lambda u: simulate.twfe_bias_panel(slopes=("a", 0.1, 0.1)), "slopes must be a number"),
    (lambda u: simulate.twfe_bias_panel(cohorts=(), slopes=()), "cohorts must be distinct adoption years"),
    (lambda u: simulate.twfe_bias_panel(cohorts=2010, slopes=0.1), "cohorts must be a sequence"),
    (lambda u: simulate.effect_shape([0, 1], "ramp", 0), "ramp_years must be at least 1"),
    (lambda u: simulate.effect_shape(["a"], "ramp", 3), "event_time must be numbers"),
])
def test_simulate_bad_inputs_named(call, match):
    units = pd.DataFrame({"unit": [1, 2, 3, 4], "cohort": [2014, 2015, 0, 0]})
    with pytest.raises(EconError, match=match):
        call(units)


def test_design_without_treated_units_has_empty_truth():
    sim = simulate.draw_panel(pd.DataFrame({"unit": [1, 2], "cohort": [0, 0]}), range(2010, 2014))
    assert sim.true_att().empty and sim.true_att("overall") == 0.0


def _always_treated_design():
    """Noiseless: 10 units adopt in 2008 (the first simulated year: always treated), 10 in 2013, 20 never."""
    units = pd.DataFrame({"unit": np.arange(1, 41), "cohort": [2008] * 10 + [2013] * 10 + [0] * 20})
    params = simulate.DesignParams(peak_effect={2008: 0.08, 2013: 0.05}, spillover=0.0, sigma=0.0)
    return units, params


def test_true_att_leaves_out_the_always_treated_cohort_as_the_estimators_do():
    import warnings

    from econ.did import att_gt, imputation

    units, params = _always_treated_design()
    sim = simulate.draw_panel(units, range(2008, 2019), params=params, seed=3, always_treated=True)
    assert sim.truth["always_treated_cohorts"] == [2008]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = att_gt(sim.data, "log_income_ratio", "unit", "year", "cohort").aggregate("simple", n_draws=0)
        imp = imputation(sim.data, "log_income_ratio", "unit", "year", "cohort")
    truth = simulate.true_att(sim, "overall")
    assert truth == pytest.approx(-0.03125, abs=1e-12)  # -(1 - 0.25) * 0.05 * mean(1/3, 2/3, 1, 1, 1, 1)
    assert cs.overall_att == pytest.approx(truth, abs=1e-12) and imp.overall_att == pytest.approx(truth, abs=1e-12)
    cells = pd.DataFrame(sim.truth["att_gt"])
    every_cell = (cells.att * cells.n_units).sum() / cells.n_units.sum()  # what true_att used to report
    assert every_cell < truth - 0.005
    assert sim.true_att("cohort").index.tolist() == [2013]
    assert sim.true_att("event_time").index.max() == 5 and sim.true_att("time").index.min() == 2013
    assert sim.truth["att_by_event_time"] == sim.true_att("event_time").to_dict()


def test_always_treated_cohorts_are_refused_unless_asked():
    units, params = _always_treated_design()
    with pytest.raises(EconError, match=r"cohort\(s\) \[2008\] adopt in the first simulated year.*always_treated"):
        simulate.draw_panel(units, range(2008, 2019), params=params)
    with pytest.raises(EconError, match=r"\[2008\] adopt in the first simulated year"):
        simulate.twfe_bias_panel(cohorts=(2008, 2013), slopes=(0.04, 0.02))
    sim = simulate.twfe_bias_panel(cohorts=(2008, 2013), slopes=(0.04, 0.02), always_treated=True)
    assert sim.truth["always_treated_cohorts"] == [2008] and sim.true_att("cohort").index.tolist() == [2013]
    assert "always_treated_cohorts" not in simulate.twfe_bias_panel().truth  # designs without one: unchanged
