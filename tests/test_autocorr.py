"""Moran's I and join counts: exact agreement with esda on the real prefecture contiguity, permutation p-values
within Monte Carlo error of esda's, valid size on random data, and clear errors."""

import warnings

import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.errors import WeightsError
from econ.spatial import join_counts, moran


@pytest.fixture(scope="module")
def prefectures():
    pref = datasets.load("china_prefectures")
    edges = datasets.load("china_prefecture_contiguity")
    ids = pref["prefecture_code"].tolist()
    w = datasets.load_weights("china_prefecture_contiguity").align(ids)
    designated = pd.Series(pref["bbc_cohort"].notna().astype(int).to_numpy(), index=ids)
    latitude = pd.Series(pref["centroid_lat"].to_numpy(), index=ids)
    return w, edges, designated, latitude


def _libpysal_w(w):
    import libpysal
    neighbours = {u: [] for u in w.ids}
    coo = w.matrix.tocoo()
    for i, j in zip(coo.row, coo.col):
        neighbours[w.ids[i]].append(w.ids[j])
    return libpysal.weights.W(neighbours, id_order=list(w.ids), silence_warnings=True)


def test_moran_matches_esda_on_real_contiguity(prefectures):
    import esda
    w, _, designated, latitude = prefectures
    for y in (designated, latitude):
        ours = moran(y, w, permutations=999, seed=3)
        np.random.seed(3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = esda.Moran(y.to_numpy(dtype=float), _libpysal_w(w), permutations=999)
        np.testing.assert_allclose(
            [ours.I, ours.expected, ours.var_norm, ours.var_rand, ours.z_norm, ours.z_rand, ours.p_norm, ours.p_rand],
            [ref.I, ref.EI, ref.VI_norm, ref.VI_rand, ref.z_norm, ref.z_rand, ref.p_norm, ref.p_rand], rtol=1e-10)
        # different random draws: the permutation p-values agree within Monte Carlo error
        se = np.sqrt(max(ref.p_sim, 0.01) * (1 - ref.p_sim) / 999)
        assert abs(ours.p_sim - ref.p_sim) < 5 * se + 0.003
        assert abs(ours.sim.mean() - ref.EI_sim) < 5 * ref.seI_sim / np.sqrt(999)


def test_join_counts_match_esda(prefectures):
    import esda
    w, _, designated, _ = prefectures
    ours = join_counts(designated, w, permutations=999, seed=5)
    lw = _libpysal_w(w)
    lw.transform = "b"
    np.random.seed(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.Join_Counts(designated.to_numpy(), lw, permutations=999)
    assert (ours.bb, ours.bw, ours.ww, ours.joins) == (ref.bb, ref.bw, ref.ww, ref.J)
    se = np.sqrt(ref.p_sim_bb * (1 - ref.p_sim_bb) / 999)
    assert abs(ours.p_sim_bb - ref.p_sim_bb) < 5 * se
    assert abs(ours.sim_bb.mean() - ref.mean_bb) < 0.5
    assert abs(ours.sim_bw.mean() - ref.mean_bw) < 1.0
    # every permutation keeps the number of joins
    assert (ours.sim_bb + ours.sim_bw <= ours.joins).all()


def test_permutations_are_seeded_and_alignment_uses_ids(prefectures):
    w, _, designated, _ = prefectures
    a = moran(designated, w, permutations=200, seed=11)
    b = moran(designated.iloc[::-1], w, permutations=200, seed=11)  # same units, other order
    assert a.I == pytest.approx(b.I, rel=1e-12)
    np.testing.assert_array_equal(a.sim, b.sim)
    c = moran(designated, w, permutations=200, seed=12)
    assert not np.array_equal(a.sim, c.sim)


def test_clustered_pattern_detected_and_random_pattern_has_valid_size(prefectures):
    w, _, _, latitude = prefectures
    north = (latitude > latitude.median()).astype(int)
    assert moran(north, w, permutations=499, seed=1).p_sim < 0.01
    assert join_counts(north, w, permutations=499, seed=1).p_sim_bb < 0.01
    rng = np.random.default_rng(0)
    rejections = [join_counts(pd.Series(rng.permutation(north.to_numpy()), index=north.index), w,
                              permutations=99, seed=k).p_sim_bb <= 0.05 for k in range(200)]
    assert 0.01 <= np.mean(rejections) <= 0.11


def test_errors_name_the_problem(prefectures):
    w, _, designated, latitude = prefectures
    with pytest.raises(WeightsError, match="binary"):
        join_counts(latitude, w, permutations=9)
    with pytest.raises(WeightsError, match="every unit has the value"):
        join_counts(designated * 0, w, permutations=9)
    with pytest.raises(WeightsError, match="constant"):
        moran(designated * 0 + 1, w)
    with pytest.raises(WeightsError, match="not in W|in the data not in W"):
        moran(designated.rename(index={designated.index[0]: "999999"}), w)
    with pytest.raises(WeightsError, match="values but the weights"):
        moran(np.ones(5), w)
    with pytest.raises(WeightsError, match="transform"):
        moran(designated, w, transform="x")
