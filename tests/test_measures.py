"""Income-gap measures (issue 25): hand computations, an independent implementation (PySAL ``inequality``), the
identity between the two-group Theil of the Chinese literature and Theil's T of the implied individual
distribution, bad input."""

import numpy as np
import pandas as pd
import pytest

from econ import measures
from econ.errors import PanelError, SpecificationError

# a small province-year table (income in yuan per person, population in 10,000 persons)
SMALL = pd.DataFrame({
    "prov": ["A", "A", "B", "B"],
    "year": [2010, 2011, 2010, 2011],
    "urban_income": [20000.0, 22000.0, 15000.0, 16000.0],
    "rural_income": [8000.0, 9000.0, 5000.0, 6000.0],
    "urban_pop": [600.0, 650.0, 300.0, 320.0],
    "rural_pop": [400.0, 380.0, 700.0, 690.0],
})


def _hand_theil(yu, yr, pu, pr):
    Iu, Ir = yu * pu, yr * pr
    I_, P = Iu + Ir, pu + pr
    return Iu / I_ * np.log((Iu / I_) / (pu / P)) + Ir / I_ * np.log((Ir / I_) / (pr / P))


def test_ratio_and_log_ratio_by_hand():
    r = measures.income_ratio(SMALL)
    assert r.tolist() == pytest.approx([2.5, 22000 / 9000, 3.0, 16000 / 6000], rel=1e-15)
    assert measures.income_ratio(SMALL, log=True).tolist() == pytest.approx(np.log(r).tolist(), rel=1e-15)
    assert r.index.equals(SMALL.index)


def test_theil_gap_by_hand_row_by_row():
    t = measures.theil_gap(SMALL)
    # row 0 written out: I_u = 1.2e7, I_r = 3.2e6, I = 1.52e7; P_u/P = 0.6, P_r/P = 0.4
    row0 = 12 / 15.2 * np.log((12 / 15.2) / 0.6) + 3.2 / 15.2 * np.log((3.2 / 15.2) / 0.4)
    assert t.iloc[0] == pytest.approx(row0, rel=1e-12)
    expect = _hand_theil(*(SMALL[c].to_numpy() for c in ["urban_income", "rural_income", "urban_pop", "rural_pop"]))
    np.testing.assert_allclose(t.to_numpy(), expect, rtol=1e-13)
    # no gap, no inequality; a wider gap raises the index
    eq = SMALL.assign(rural_income=SMALL.urban_income)
    np.testing.assert_allclose(measures.theil_gap(eq).to_numpy(), 0.0, atol=1e-15)
    wider = SMALL.assign(rural_income=SMALL.rural_income * 0.8)
    assert (measures.theil_gap(wider) > t).all()


def test_theil_gap_is_theil_T_of_the_individual_distribution_and_matches_pysal():
    # a unit with P_u people at y_u and P_r at y_r: Theil's T over the people equals the two-group formula
    inequality = pytest.importorskip("inequality")
    yu, yr, pu, pr = 200.0, 50.0, 100, 1000
    people = np.r_[np.full(pu, yu), np.full(pr, yr)]
    gap = measures.theil_gap(pd.DataFrame({"urban_income": [yu], "rural_income": [yr], "urban_pop": [pu],
                                           "rural_pop": [pr]})).iloc[0]
    direct = np.mean(people / people.mean() * np.log(people / people.mean()))
    assert gap == pytest.approx(direct, rel=1e-12)
    assert gap == pytest.approx(float(inequality.theil.Theil(people).T), rel=1e-10)
    assert gap == pytest.approx(0.154922, abs=5e-7)  # by hand: .2857 ln(.2857/.0909) + .7143 ln(.7143/.9091)


def test_theil_decomposition_matches_pysal_theild_on_expanded_data():
    inequality = pytest.importorskip("inequality")
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y": rng.lognormal(8, 0.5, 12), "pop": rng.integers(1, 6, 12).astype(float),
                       "region": np.repeat(["E", "C", "W"], 4)})
    res = measures.theil(df, "y", weights="pop", groups="region").iloc[0]
    rep = np.repeat(np.arange(12), df["pop"].astype(int))
    td = inequality.theil.TheilD(df["y"].to_numpy()[rep], df["region"].to_numpy()[rep])
    assert res["theil"] == pytest.approx(float(np.ravel(td.T)[0]), rel=1e-10)
    assert res["between"] == pytest.approx(float(np.ravel(td.bg)[0]), rel=1e-10)
    assert res["within"] == pytest.approx(float(np.ravel(td.wg)[0]), rel=1e-10)
    assert res["between"] + res["within"] == pytest.approx(res["theil"], rel=1e-12)


def test_theil_two_groups_equals_theil_gap_per_year():
    long = pd.concat([
        SMALL.assign(group="urban", income=SMALL.urban_income, pop=SMALL.urban_pop),
        SMALL.assign(group="rural", income=SMALL.rural_income, pop=SMALL.rural_pop)])
    by = measures.theil(long, "income", weights="pop", by=["prov", "year"], groups="group")
    gap = measures.theil_gap(SMALL)
    np.testing.assert_allclose(by["theil"].to_numpy(), gap.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(by["between"].to_numpy(), gap.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(by["within"].to_numpy(), 0.0, atol=1e-15)


def test_gini_by_hand_weighted_and_vs_pysal():
    inequality = pytest.importorskip("inequality")
    assert measures.gini(pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0]}), "y")["gini"].iloc[0] == pytest.approx(0.25)
    # weights = repetitions: mean absolute difference over all pairs of people / (2 mean)
    df = pd.DataFrame({"y": [10.0, 30.0, 60.0], "w": [3.0, 2.0, 1.0]})
    people = np.repeat(df.y.to_numpy(), df.w.astype(int))
    mad = np.abs(people[:, None] - people[None, :]).mean()
    assert measures.gini(df, "y", weights="w")["gini"].iloc[0] == pytest.approx(mad / (2 * people.mean()))
    rng = np.random.default_rng(0)
    y = rng.lognormal(size=200)
    ours = measures.gini(pd.DataFrame({"y": y}), "y")["gini"].iloc[0]
    assert ours == pytest.approx(float(inequality.gini.Gini(y).g), rel=1e-10)


def test_panel_by_year_keeps_years_and_refuses_missing_years():
    df = pd.DataFrame({"prov": list("ABCABC"), "year": [1] * 3 + [2] * 3, "y": [1.0, 2, 3, 2, 2, 5]})
    out = measures.gini(df, "y", by="year", unit="prov")
    assert out["year"].tolist() == [1, 2] and out["n"].tolist() == [3, 3]
    with pytest.raises(PanelError, match="missing \\['C'\\]"):
        measures.theil(df.iloc[:-1], "y", by="year", unit="prov")
    assert len(measures.theil(df.iloc[:-1], "y", by="year", unit="prov", balanced=False)) == 2


def test_bad_input_named():
    with pytest.raises(SpecificationError, match="negative values in rows \\[1\\]"):
        measures.theil_gap(SMALL.assign(urban_pop=[600.0, -1.0, 300.0, 320.0]))
    with pytest.raises(SpecificationError, match="rural income.*negative"):
        measures.income_ratio(SMALL.assign(rural_income=[-1.0, 9000, 5000, 6000]))
    with pytest.raises(SpecificationError, match="zero in rows \\[2\\]"):
        measures.income_ratio(SMALL.assign(rural_income=[8000.0, 9000, 0, 6000]))
    with pytest.raises(SpecificationError, match="zero total population"):
        measures.theil_gap(SMALL.assign(urban_pop=0.0, rural_pop=[400.0, 380, 0, 690]))
    with pytest.raises(SpecificationError, match="missing in rows"):
        measures.gini(pd.DataFrame({"y": [1.0, np.nan]}), "y")
    with pytest.raises(SpecificationError, match="not_there"):
        measures.theil_gap(SMALL, urban_pop="not_there")
    before = SMALL.copy()
    measures.theil_gap(SMALL)
    pd.testing.assert_frame_equal(SMALL, before)
    # missing inputs give NaN rows, not errors, in the row-wise measure
    assert np.isnan(measures.theil_gap(SMALL.assign(urban_pop=[np.nan, 650, 300, 320])).iloc[0])
