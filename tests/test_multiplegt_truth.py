"""did_multiplegt against the known truth of econ.simulate.draw_switching_panel: a Monte Carlo study of bias and
coverage, the true path of SwitchingSimulation, and plot(truth=...).

Monte Carlo design: 300 draws of 300 groups over 6 periods; treatment switches on to 1 or 2 for 2-4 periods, then
off; contemporaneous effect 1 per unit. True effects (SwitchingSimulation.true_effects) 1.5, 1.5, 1.0 at lags 1-3,
placebos 0. Measured (seed 0..299): mean estimates 1.502, 1.507, 1.011, 0.003, -0.003 (Monte Carlo s.e. 0.004-0.007);
coverage of the 95% intervals 0.933, 0.953, 0.953, 0.947, 0.930. Checks: |bias| < 3 Monte Carlo s.e. for each
coefficient, and coverage in [0.91, 0.99] (the Monte Carlo s.e. of a 0.95 coverage over 300 draws is 0.0126: the
bounds are nominal - 3 s.e. and a ceiling that catches standard errors twice too large). About 5 s.
"""

import numpy as np
import pandas as pd
import pytest

from econ.did import did_multiplegt
from econ.errors import SpecificationError
from econ.simulate import SwitchingSimulation, draw_switching_panel

R = 300


@pytest.fixture(scope="module")
def study():
    est, se = [], []
    for r in range(R):
        sim = draw_switching_panel(n_units=300, n_periods=6, levels=(1.0, 2.0), seed=r)
        res = did_multiplegt(sim.data, "y", "unit", "time", "d", effects=3, placebo=2)
        est.append(res.table["estimate"].to_numpy())
        se.append(res.table["std_error"].to_numpy())
    truth = sim.true_effects(res.table["event_time"]).to_numpy()
    return np.array(est), np.array(se), truth


def test_monte_carlo_bias_is_within_its_error(study):
    est, _, truth = study
    np.testing.assert_allclose(truth, [1.5, 1.5, 1.0, 0.0, 0.0])
    mc_se = est.std(axis=0, ddof=1) / np.sqrt(R)
    assert np.all(mc_se < 0.01)  # the bias check below is tight
    assert np.all(np.abs(est.mean(axis=0) - truth) < 3 * mc_se)


def test_monte_carlo_coverage_is_nominal(study):
    est, se, truth = study
    cover = (np.abs(est - truth) < 1.96 * se).mean(axis=0)
    assert np.all((cover > 0.95 - 3 * 0.0126) & (cover < 0.99)), cover


def test_true_effects_of_the_design():
    sim = draw_switching_panel(n_units=20, levels=(1.0, -3.0), effect=0.5, seed=1)
    assert isinstance(sim, SwitchingSimulation) and isinstance(sim, pd.DataFrame)  # the panel itself
    assert list(sim.columns) == ["unit", "time", "d", "y"] and type(sim.copy()) is pd.DataFrame
    pd.testing.assert_frame_equal(sim.data, pd.DataFrame(sim))
    np.testing.assert_allclose(did_multiplegt(sim, "y", "unit", "time", "d").table["estimate"],
                               did_multiplegt(sim.data, "y", "unit", "time", "d").table["estimate"])
    np.testing.assert_allclose(sim.true_effects([-2, 1, 2, 3, 4, 5]), [0, 1, 1, 2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(sim.true_effects([1, 2, 3], normalized=True), [0.5, 0.25, 0.5 * (2 / 3) / (8 / 3)])
    with pytest.raises(SpecificationError, match="non-zero"):
        draw_switching_panel(levels=(0.0,))


def test_plot_draws_the_true_path(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    sim = draw_switching_panel(n_units=400, n_periods=7, seed=3)
    res = did_multiplegt(sim.data, "y", "unit", "time", "d", effects=3, placebo=1)
    fig, ax = res.plot(truth=sim, path=tmp_path / "truth.png")
    line = [ln for ln in ax.get_lines() if ln.get_label() == "truth"][0]
    np.testing.assert_allclose(line.get_xdata(), [-1, 0, 1, 2, 3])
    np.testing.assert_allclose(line.get_ydata(), [0, 0, 1, 1, 2 / 3])
    fig, ax = res.plot(truth=sim, normalized=True)
    line = [ln for ln in ax.get_lines() if ln.get_label() == "truth"][0]
    np.testing.assert_allclose(line.get_ydata()[2:], [1, 0.5, (2 / 3) / (8 / 3)])
    fig, ax = res.plot(truth={1: 1.0, 2: 1.0})  # true values by event time, as every plot(truth=...)
    assert (tmp_path / "truth.png").exists()
    with pytest.raises(SpecificationError, match="truth must be"):
        res.plot(truth="one")
