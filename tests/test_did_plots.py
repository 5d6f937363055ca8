"""DiD figures under the Agg backend: each returns (fig, ax) and draws what it claims."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from econ.did import event_study, placebo, plot_event_studies, subgroups  # noqa: E402


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(0)
    n, years = 80, np.arange(2008, 2018)
    cohort = np.where(rng.uniform(size=n) < 0.5, rng.choice([2012, 2014], n), 0)
    df = pd.DataFrame({"city": np.repeat(np.arange(n), len(years)), "year": np.tile(years, n)})
    df["cohort"] = cohort[df["city"]]
    df["treat"] = ((df["cohort"] > 0) & (df["year"] >= df["cohort"])).astype(int)
    df["region"] = np.where(df["city"] % 2 == 0, "east", "west")
    df["y"] = 0.5 * df["treat"] + rng.normal(size=n)[df["city"]] + rng.normal(size=len(df))
    return df


def test_event_study_plot(panel):
    res = event_study(panel, "y", "city", "year", "cohort", window=(-3, 3))
    fig, ax = res.plot()
    table = res.table()
    assert ax.figure is fig
    # the uniform band is a filled polygon spanning the window; the estimates sit at the estimated event times
    # and the reference period is a hollow marker at zero
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 0].min() == table.index.min() and band[:, 0].max() == table.index.max()
    filled = [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_markerfacecolor() != "white"]
    hollow = [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_markerfacecolor() == "white"]
    np.testing.assert_array_equal(filled[0].get_xdata(), res.event_times)
    np.testing.assert_allclose(filled[0].get_ydata(), table.loc[res.event_times, "estimate"])
    assert list(hollow[0].get_xdata()) == [-1] and list(hollow[0].get_ydata()) == [0.0]
    plt.close(fig)


def test_event_studies_overlay_dodged(panel):
    a = event_study(panel, "y", "city", "year", "cohort", window=(-3, 3))
    b = event_study(panel, "y", "city", "year", "cohort", window=(-3, 3), bin_endpoints=False)
    fig, ax = plot_event_studies([a, b], labels=["binned", "trimmed"], dodge=0.2)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "binned" in labels and "trimmed" in labels
    points = [line for line in ax.lines if line.get_marker() == "o" and line.get_markerfacecolor() != "white"]
    offsets = sorted({round(float(x) - round(float(x)), 3) for line in points for x in line.get_xdata()})
    assert offsets == [-0.1, 0.1]
    plt.close(fig)


def test_placebo_plot_marks_estimate(panel):
    res = placebo(panel, "y", "city", "year", treat="treat", n_draws=50, seed=1, progress=False)
    fig, ax = res.plot()
    vlines = [line for line in ax.lines if np.allclose(line.get_xdata(), res.estimate)]
    assert vlines, "the actual estimate is marked"
    assert len(ax.patches) > 0  # histogram bars
    plt.close(fig)


def test_subgroup_plot(panel):
    res = subgroups(panel, "y", "city", "year", "treat", by="region")
    fig, ax = res.plot()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["east", "west"]
    plt.close(fig)
