"""econ.etable: content, formats, keep/drop/labels, stars, file output, generic Result objects."""

import numpy as np
import pandas as pd
import pytest

from econ.errors import SpecificationError
from econ.panel import feols
from econ.results import Result, stars
from econ.tables import etable


@pytest.fixture(scope="module")
def fits():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"unit": rng.integers(0, 40, n), "year": rng.integers(2000, 2008, n)})
    df["x1"], df["x_2"] = rng.normal(size=n), rng.normal(size=n)
    df["y"] = 0.5 * df["x1"] + rng.normal(size=n)
    return [
        feols("y ~ x1", df, vcov="hetero"),
        feols("y ~ x1 + x_2 | unit", df, vcov={"CL1": "unit"}),
        feols("y ~ x1 + x_2 | unit + year", df, vcov={"CL2": ("unit", "year")}),
    ]


def test_markdown_content(fits):
    text = etable(fits)
    lines = text.splitlines()
    assert lines[0] == "|  | (1) | (2) | (3) |"
    b, se, p = fits[1].coef["x1"], fits[1].se["x1"], fits[1].pvalue["x1"]
    row = next(line for line in lines if line.startswith("| x1 |"))
    assert f"{b:.3f}{stars(p)}" in row
    assert f"({se:.3f})" in lines[lines.index(row) + 1]
    assert "| unit FE | No | Yes | Yes |" in lines and "| year FE | No | No | Yes |" in lines
    assert "| Observations | 400 | 400 | 400 |" in lines
    assert any(line.startswith("| R² |") for line in lines) and any("Within R²" in line for line in lines)
    assert "Clustered (unit)" in text and "Heteroskedasticity-robust" in text and "Two-way (unit & year)" in text
    assert "* p<0.1, ** p<0.05, *** p<0.01" in text


def test_keep_drop_labels_digits(fits):
    text = etable(fits, keep=["x"], drop=r"_2$", labels={"x1": "Broadband pilot", "y": "Income gap"}, digits=4)
    assert "Broadband pilot" in text and "Income gap" in text
    assert "Intercept" not in text and "x_2" not in text
    assert f"{fits[0].coef['x1']:.4f}" in text


def test_stars_thresholds():
    coef = pd.Series([1.0, 1.0, 1.0, 1.0], index=["a", "b", "c", "d"])
    se = np.array([1 / 3.0, 1 / 2.2, 1 / 1.8, 1 / 1.0])  # z = 3, 2.2, 1.8, 1 -> p .003, .028, .072, .32
    r = Result(coef, np.diag(se**2), nobs=10_000, df_resid=9_000, df_t=np.inf)
    text = etable(r)
    assert "| a | 1.000*** |" in text and "| b | 1.000** |" in text and "| c | 1.000* |" in text
    assert "| d | 1.000 |" in text
    strict = etable(r, stars=(0.05, 0.01, 0.001))
    assert "| a | 1.000** |" in strict and "| c | 1.000 |" in strict


def test_latex_and_html(fits, tmp_path):
    tex = etable(fits, format="latex", file=tmp_path / "t.tex")
    assert tex.startswith(r"\begin{tabular}{lccc}") and r"\toprule" in tex and r"\bottomrule" in tex
    assert r"x\_2" in tex and "$^{***}$" in tex and "$R^2$" in tex
    assert (tmp_path / "t.tex").read_text() == tex
    page = etable(fits, format="html")
    assert page.startswith('<table class="etable">') and "<sup>***</sup>" in page and "unit &amp; year" in page


def test_generic_result_without_fixed_effects():
    r = Result(pd.Series({"att": 0.2}), [[0.01]], nobs=50, df_resid=48, model="DiD", depvar="gap",
               vcov_type="bootstrap")
    text = etable([r], model_names=["Callaway-Sant'Anna"])
    assert "Callaway-Sant'Anna" in text and "| att | 0.200* |" in text and "FE" not in text
    assert "bootstrap" in text


def test_bad_arguments(fits):
    with pytest.raises(SpecificationError, match="format"):
        etable(fits, format="docx")
    with pytest.raises(SpecificationError, match="Result"):
        etable([1, 2])
    with pytest.raises(SpecificationError, match="model_names"):
        etable(fits, model_names=["a"])


def test_invalid_pattern_is_an_error_unless_it_is_a_term_name():
    r = Result(pd.Series({"I(x**2)": 0.5, "x": 1.0}), np.eye(2) * 0.01, nobs=50, df_resid=48)
    text = etable(r, keep=["I(x**2)"])  # not a valid regex, but an exact term name
    assert "| I(x**2) |" in text and "| x |" not in text
    with pytest.raises(SpecificationError, match=r"keep/drop pattern 'x\[1'"):
        etable(r, drop=["x[1"])


def test_did_multiplegt_column():
    from econ.did import did_multiplegt, twfe
    from econ.did.intensity.multiplegt import _demo_panel

    df = _demo_panel(n=120).assign(region=lambda d: d["unit"] % 7)
    res = did_multiplegt(df, "y", "unit", "time", "d", effects=2, placebo=1, vcov={"CL1": "region"})
    text = etable([res, did_multiplegt(df, "y", "unit", "time", "d")], rename={"effect_1": "first effect"})
    lines = text.splitlines()
    t = res.tidy().set_index("term")
    row = next(line for line in lines if line.startswith("| first effect |"))
    assert f"{t.loc['effect_1', 'estimate']:.3f}{stars(t.loc['effect_1', 'p_value'])}" in row
    assert f"({t.loc['effect_1', 'std_error']:.3f})" in lines[lines.index(row) + 1]
    assert any(line.startswith("| placebo_1 |") for line in lines) and any("| effect_2 |" in ln for ln in lines)
    assert "| Estimator | dCDH (switching) | dCDH (switching) |" in lines
    assert "| Control group | Not yet switched | Not yet switched |" in lines
    assert f"| Observations | {res.nobs:,} |" in text and f"| Units | {res.n_units:,} |" in text
    assert "Clustered (region)" in text and "Clustered (unit)" in text
    assert "| Dependent variable | y | y |" in lines
    assert "placebo_1" not in etable(res, drop="placebo") and "\\\\" in etable(res, format="latex")
    # next to an absorbing-design fit: its own rows, not merged with the TWFE coefficient
    absorbing = df.assign(treated=(df.groupby("unit")["d"].cummax() > 0).astype(float))
    both = etable([res, twfe(absorbing, "y", "unit", "time", treat="treated")])
    assert "| treated |" in both and "| effect_1 |" in both
