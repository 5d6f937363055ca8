"""Slide-ready figures: plot(path=) writes SVG for .svg and raster at a configurable dpi (200 by default); interval
levels are named in the legends of coefficient and event-study plots."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from econ.did import plot_coefficients  # noqa: E402
from econ.errors import SpecificationError  # noqa: E402
from econ.results import Result, figure, finish_figure  # noqa: E402

TABLE = pd.DataFrame({"estimate": [0.2, 0.5], "ci_low": [0.0, 0.3], "ci_high": [0.4, 0.7]}, index=["east", "west"])


def _legend(ax):
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()], leg.get_title().get_text()


def test_svg_is_vector_and_png_follows_dpi(tmp_path):
    fig, ax = figure(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    finish_figure(fig, ax, tmp_path / "f.svg")
    text = (tmp_path / "f.svg").read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "<image" not in text
    finish_figure(fig, ax, tmp_path / "f.png")
    assert mpimg.imread(tmp_path / "f.png").shape[:2] == (400, 600)  # 3 x 2 inches at the default 200 dpi
    finish_figure(fig, ax, tmp_path / "g.png", dpi=50)
    assert mpimg.imread(tmp_path / "g.png").shape[:2] == (100, 150)
    with matplotlib.rc_context({"savefig.dpi": 100}):
        finish_figure(fig, ax, tmp_path / "h.png")
    assert mpimg.imread(tmp_path / "h.png").shape[:2] == (200, 300)
    for bad in (0, -5, "high", True):
        with pytest.raises(SpecificationError, match="dpi"):
            finish_figure(fig, ax, tmp_path / "x.png", dpi=bad)
    plt.close(fig)


def test_plot_path_svg_through_a_result(tmp_path):
    res = Result(pd.Series({"a": 1.0, "b": -0.2}), np.diag([0.25, 0.01]), nobs=50, df_resid=48)
    fig, _ = res.plot(path=tmp_path / "coef.svg")
    assert "<svg" in (tmp_path / "coef.svg").read_text()[:500]
    plt.close(fig)


@pytest.mark.parametrize("level, text", [(0.95, "95% CI"), (0.9, "90% CI")])
def test_coefficient_legends_name_the_level(level, text):
    res = Result(pd.Series({"a": 1.0, "b": -0.2}), np.diag([0.25, 0.01]), nobs=50, df_resid=48)
    fig, ax = res.plot(level=level)
    assert _legend(ax)[0] == [f"estimate, {text}"]
    plt.close(fig)
    fig, ax = plot_coefficients(TABLE, level=level, truth=0.3)
    assert sorted(_legend(ax)[0]) == [f"estimate, {text}", "truth"]
    plt.close(fig)


def test_event_study_legends_name_the_level():
    from econ import datasets
    from econ.did import event_study, plot_event_studies

    demo = datasets.load("china_cities_demo")
    es = event_study(demo, "log_income_ratio", "prefecture_code", "year", "cohort", window=(-2, 2))
    fig, ax = es.plot(level=0.9)
    assert _legend(ax)[0] == ["90% uniform band", "estimate, 90% pointwise CI"]
    plt.close(fig)
    fig, ax = plot_event_studies([es, es], labels=["a", "b"])
    labels, title = _legend(ax)
    assert labels == ["a", "b"] and title == "estimates, 95% pointwise CI"
    plt.close(fig)
