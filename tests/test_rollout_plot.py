"""plot_rollout: the units x periods treatment map draws what the design says, and refuses bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from econ.did import plot_rollout  # noqa: E402
from econ.errors import SpecificationError, TreatmentError  # noqa: E402


@pytest.fixture
def panel():
    # 5 units x 4 periods: unit 1 never treated, 2 and 5 from 2002, 3 from 2003; unit 4 never (NaN); one cell missing
    df = pd.DataFrame({"id": np.repeat([1, 2, 3, 4, 5], 4), "t": np.tile([2000, 2001, 2002, 2003], 5)})
    df["g"] = df["id"].map({1: 0, 2: 2002, 3: 2003, 4: np.nan, 5: 2002})
    return df.drop(index=[19]).reset_index(drop=True)


def test_rollout_draws_the_design(panel):
    before = panel.copy()
    fig, ax = plot_rollout(panel, "id", "t", "g")
    pd.testing.assert_frame_equal(panel, before)
    (image,) = ax.images
    grid = np.ma.filled(image.get_array().astype(float), np.nan)
    # rows: cohort 2002 (units 2, 5), cohort 2003 (unit 3), never treated (1, 4) at the bottom
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2", "5", "3", "1", "4"]
    expected = np.array([[0, 0, 1, 1], [0, 0, 1, np.nan], [0, 0, 0, 2], [0, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(grid, expected)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "cohort 2002", "cohort 2003", "not (yet) treated", "not observed"]
    # not blank: the rendered canvas has more than the background colour
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 3
    plt.close(fig)


def test_rollout_large_panel_labels_cohort_blocks():
    from econ import datasets

    fig, ax = plot_rollout(datasets.load("mpdta"), "countyreal", "year", "first.treat", title="mpdta")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2004 (20)", "2006 (40)", "2007 (131)", "never (309)"]
    assert ax.get_title() == "mpdta" and ax.images[0].get_array().shape == (500, 5)
    plt.close(fig)


def test_rollout_bad_input(panel):
    with pytest.raises(SpecificationError, match="DataFrame"):
        plot_rollout(panel.to_dict(), "id", "t", "g")
    with pytest.raises(SpecificationError, match="cohort_x"):
        plot_rollout(panel, "id", "t", "cohort_x")
    bad = panel.assign(g=panel["g"].where(panel["id"] != 3, -1))
    with pytest.raises(TreatmentError):
        plot_rollout(bad, "id", "t", "g")
    with pytest.raises(TreatmentError, match="no unit is ever treated"):
        plot_rollout(panel.assign(g=0), "id", "t", "g")
