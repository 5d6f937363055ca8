"""Weights carry their unit order; mismatches are named."""

import numpy as np
import pandas as pd
import pytest

from econ.errors import WeightsError
from econ.spatial import Weights, haversine_km

EDGES = pd.DataFrame({"a": ["A", "B", "C"], "b": ["B", "C", "A"]})


def test_from_edges_symmetric_binary_and_islands():
    w = Weights.from_edges(EDGES, "a", "b", ids=["A", "B", "C", "D"])
    dense = w.to_dense()
    assert (dense == dense.T).all() and dense.sum() == 6
    assert w.islands == ["D"]
    r = w.row_standardize()
    np.testing.assert_allclose(r.to_dense().sum(axis=1), [1, 1, 1, 0])


def test_align_reorders_and_lag_follows_units():
    w = Weights.from_edges(pd.DataFrame({"a": ["A"], "b": ["B"]}), "a", "b", ids=["A", "B", "C"])
    x = pd.Series({"A": 1.0, "B": 10.0, "C": 100.0})
    order = ["C", "B", "A"]
    aligned = w.align(order)
    np.testing.assert_allclose(aligned.lag(x[order].to_numpy()), [0.0, 1.0, 10.0])


def test_mismatched_units_named():
    w = Weights.from_edges(EDGES, "a", "b")
    with pytest.raises(WeightsError, match=r"1 unit\(s\) in the data not in W \(first: \['Z'\]\), 1 unit\(s\) in W not in"):
        w.align(["A", "B", "Z"])
    with pytest.raises(WeightsError, match="edge endpoint"):
        Weights.from_edges(EDGES, "a", "b", ids=["A", "B"])
    with pytest.raises(WeightsError, match="rows but W has 3"):
        w.lag(np.ones(4))


def test_panel_lag_matches_manual():
    w = Weights.from_edges(EDGES, "a", "b").row_standardize()
    panel = pd.DataFrame({"u": ["C", "A", "B"] * 2, "t": [1, 1, 1, 2, 2, 2], "d": [1, 0, 0, 1, 1, 0]})
    lag = w.panel_lag(panel, "d", "u", "t")
    # t=1: A's neighbours B,C -> (0+1)/2; B's A,C -> .5; C's A,B -> 0
    np.testing.assert_allclose(lag.to_numpy(), [0.0, 0.5, 0.5, 0.5, 0.5, 1.0])
    with pytest.raises(WeightsError):
        w.panel_lag(panel.iloc[:5], "d", "u", "t")


def test_haversine_known_distance():
    # Beijing - Shanghai city points: about 1,067 km great-circle
    d = haversine_km(39.9042, 116.4074, 31.2304, 121.4737)
    assert 1050 < d < 1080


def test_distance_weights_knn():
    w = Weights.from_distance([0, 0, 0], [0, 1, 3], ids=["a", "b", "c"], k=1)
    np.testing.assert_array_equal(w.to_dense(), [[0, 1, 0], [1, 0, 0], [0, 1, 0]])
