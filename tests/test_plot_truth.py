"""``plot(truth=...)``: the true path of a simulated design drawn over every event-study and effect plot."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from econ import datasets, did, simulate  # noqa: E402
from econ.errors import SpecificationError  # noqa: E402
from econ.results import overlay_truth, truth_values  # noqa: E402


@pytest.fixture(scope="module")
def sim():
    return simulate.twfe_bias_panel(n_units=60, seed=2)


def _truth_line(ax, label="truth"):
    lines = [ln for ln in ax.lines if ln.get_label() == label]
    assert len(lines) == 1, [ln.get_label() for ln in ax.lines]
    return lines[0].get_xdata().astype(float), lines[0].get_ydata().astype(float)


def _expected(sim, by, keys):
    path = sim.true_att(by)
    return np.array([0.0 if by == "event_time" and k < 0 else path.get(int(k), np.nan) for k in keys])


def test_event_study_plots_draw_the_true_path(sim):
    d = sim.data
    results = {
        "event_study": did.event_study(d, "log_income_ratio", "unit", "year", "cohort", window=(-3, 4)),
        "sun_abraham": did.sun_abraham(d, "log_income_ratio", "unit", "year", "cohort"),
        "imputation": did.imputation(d, "log_income_ratio", "unit", "year", "cohort"),
        "compare": did.compare(d, "log_income_ratio", "unit", "year", "cohort", estimators=("twfe", "sa")),
    }
    for name, res in results.items():
        fig, ax = res.plot(truth=sim)
        x, y = _truth_line(ax)
        np.testing.assert_allclose(y, _expected(sim, "event_time", x), atol=1e-12, err_msg=name)
        assert (x < 0).any() or name == "imputation"  # pre-periods drawn at their true zero
        matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("kind,by", [("dynamic", "event_time"), ("group", "cohort"), ("calendar", "time")])
def test_cs_aggregations_draw_the_truth_aggregated_the_same_way(sim, kind, by):
    agg = did.att_gt(sim.data, "log_income_ratio", "unit", "year", "cohort").aggregate(kind, n_draws=0)
    fig, ax = agg.plot(truth=sim)
    x, y = _truth_line(ax)
    np.testing.assert_allclose(y, _expected(sim, by, x), atol=1e-12)
    np.testing.assert_array_equal(x, agg.tidy()[by].to_numpy(dtype=float))
    matplotlib.pyplot.close(fig)


def test_att_gt_draws_each_cohorts_true_path(sim):
    res = did.att_gt(sim.data, "log_income_ratio", "unit", "year", "cohort")
    fig, ax = res.plot(truth=sim)
    cells = pd.DataFrame(sim.truth["att_gt"])
    for g in (2010, 2013, 2016):
        _, y = _truth_line(ax, f"truth, cohort {g}")
        tid = res.tidy()
        e = tid.loc[tid["cohort"] == g, "event_time"].to_numpy()
        post = cells[cells["cohort"] == g].set_index("event_time")["att"]
        np.testing.assert_allclose(y, [0.0 if k < 0 else post[k] for k in e], atol=1e-12)
    matplotlib.pyplot.close(fig)


def test_coefficient_plots_take_numbers_or_mappings(sim):
    res = did.twfe(sim.data, "log_income_ratio", "unit", "year", treat="treated")
    fig, ax = res.plot(truth=sim.true_att("overall"))
    x, _ = _truth_line(ax)
    assert x[0] == pytest.approx(sim.true_att("overall"))
    with pytest.raises(SpecificationError, match="no single true value per coefficient"):
        res.plot(truth=sim)
    table = pd.DataFrame({"estimate": [0.1, 0.2], "ci_low": [0, 0.1], "ci_high": [0.2, 0.3]}, index=["a", "b"])
    fig, ax = did.plot_coefficients(table, truth={"b": 0.25})
    x, y = _truth_line(ax)
    assert np.isnan(x[0]) and x[1] == 0.25 and y[1] == 0  # "b" is drawn at the bottom row (position 0)
    matplotlib.pyplot.close("all")


def test_truth_forms_and_errors():
    demo = datasets.truth("china_cities_demo")
    np.testing.assert_allclose(truth_values(demo, [-2, 0, 8]), [0.0, demo["att_by_event_time"][0],
                                                                 demo["att_by_event_time"][8]])
    # a user path: string or float keys match integer positions; missing positions are not drawn
    np.testing.assert_allclose(truth_values({"0": -0.1, 1.0: -0.2}, [-1, 0, 1]), [np.nan, -0.1, -0.2])
    np.testing.assert_allclose(truth_values(-0.05, [-1, 0, 3]), [0.0, -0.05, -0.05])  # a constant effect
    np.testing.assert_allclose(truth_values(pd.Series({2014: 1.0}), [2014, 2015], by="cohort"), [1.0, np.nan])
    fig, ax = matplotlib.pyplot.subplots()
    for bad in ("big", [0.1, 0.2], True):
        with pytest.raises(SpecificationError, match="truth must be"):
            overlay_truth(ax, [0, 1], bad)
    with pytest.raises(SpecificationError, match="by must be one of"):
        overlay_truth(ax, [0, 1], demo, by="unit")
    assert not ax.lines  # nothing drawn by a refused call
    matplotlib.pyplot.close(fig)


def test_spatial_impacts_plot_marks_true_impacts():
    from econ import spatial

    W = datasets.load_weights("china_province_contiguity").subset(
        [i for i in datasets.load_weights("china_province_contiguity").ids if i != "460000"])
    W = W.row_standardize()
    ids = list(W.ids)
    rng = np.random.default_rng(0)
    x = rng.normal(size=len(ids))
    A = np.eye(len(ids)) - 0.3 * W.matrix.toarray()
    y = np.linalg.solve(A, 1 + x + rng.normal(scale=0.3, size=len(ids)))
    fit = spatial.fit("y ~ x", pd.DataFrame({"id": ids, "y": y, "x": x}), W, model="sar", unit="id")
    S = np.linalg.inv(A)
    direct, total = np.trace(S) / len(ids), S.sum() / len(ids)
    truth = {"direct": {"x": direct}, "indirect": {"x": total - direct}, "total": {"x": total}}
    fig, ax = fit.impacts(n_draws=0).plot(truth=truth)
    x_true, _ = _truth_line(ax)
    np.testing.assert_allclose(np.sort(x_true), np.sort([direct, total - direct, total]))
    matplotlib.pyplot.close(fig)
