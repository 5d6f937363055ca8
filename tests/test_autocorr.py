"""Moran's I and join counts: exact agreement with esda on the real prefecture contiguity, permutation p-values
within Monte Carlo error of esda's, valid size on random data, and clear errors."""

import warnings

import esda  # reference peers: a missing peer fails the tests (no skip)
import libpysal
import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.errors import SpecificationError, WeightsError
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
    neighbours = {u: [] for u in w.ids}
    coo = w.matrix.tocoo()
    for i, j in zip(coo.row, coo.col):
        neighbours[w.ids[i]].append(w.ids[j])
    return libpysal.weights.W(neighbours, id_order=list(w.ids), silence_warnings=True)


def test_moran_matches_esda_on_real_contiguity(prefectures):
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


# ------------------------------------------------------------------- Geary, local Moran, panels, plots (issue 9/11)
import matplotlib  # noqa: E402

matplotlib.use("Agg")

from econ.errors import EconError  # noqa: E402
from econ.spatial import Weights, by_period, geary, local_moran  # noqa: E402


def _lw(w):
    return _libpysal_w(w)


def test_geary_matches_esda(prefectures):
    w, _, designated, latitude = prefectures
    for y in (designated, latitude):
        ours = geary(y, w, n_draws=999, seed=4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = esda.Geary(y.to_numpy(dtype=float), _lw(w), permutations=999)
        np.testing.assert_allclose(
            [ours.C, ours.var_norm, ours.var_rand, ours.z_norm, ours.z_rand, ours.p_norm, ours.p_rand],
            [ref.C, ref.VC_norm, ref.VC_rand, ref.z_norm, ref.z_rand, ref.p_norm, ref.p_rand], rtol=1e-10)
        assert abs(ours.sim.mean() - ref.EC_sim) < 5 * ref.seC_sim / np.sqrt(999) * np.sqrt(2)
        assert abs(ours.sim.std() / ref.seC_sim - 1) < 0.15
        se = np.sqrt(max(ref.p_sim, 0.01) * (1 - ref.p_sim) / 999)
        assert abs(ours.p_sim - ref.p_sim) < 5 * se + 0.003
    # binary transform too
    ref_b = esda.Geary(latitude.to_numpy(), _lw(w), transformation="b", permutations=0)
    assert geary(latitude, w, transform="b", n_draws=0).C == pytest.approx(ref_b.C, rel=1e-12)


def test_local_moran_matches_esda_statistics_and_moments(prefectures):
    """Statistics, quadrants and analytic moments exactly (esda without permutations: its numba kernels take
    ~90 s to compile in a fresh process; its p_sim is compared in distribution in benchmarks/bench_lisa.py)."""
    w, _, _, latitude = prefectures
    y = latitude + pd.Series(np.random.default_rng(0).normal(scale=3, size=len(latitude)), index=latitude.index)
    ours = local_moran(y, w, n_draws=999, seed=1)
    for transform in ("r", "b"):
        mine = local_moran(y, w, n_draws=0, transform=transform)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = esda.Moran_Local(y.to_numpy(), _lw(w), transformation=transform, permutations=0)
        for a in ("Is", "EI", "VI", "EIc", "VIc"):
            np.testing.assert_allclose(getattr(mine, a), getattr(ref, a), rtol=1e-10, atol=1e-13)
        np.testing.assert_array_equal(mine.quadrant, ref.q)
    np.testing.assert_array_equal(ours.Is, local_moran(y, w, n_draws=0).Is)
    ok = ~np.isnan(ours.p_sim)
    assert (~ok).sum() == len(w.islands) == 4  # islands: NaN here (esda reports a spurious 1/(n_draws+1))
    labels = ours.clusters()
    sig = ours.p_sim < 0.05
    assert (labels[sig].to_numpy() == np.array([{1: "HH", 2: "LH", 3: "LL", 4: "HL"}[q] for q in ours.quadrant[sig]])).all()
    assert set(labels[~sig & ok]) <= {"ns"} and set(labels[~ok]) == {"island"}
    tidy = ours.tidy()
    assert list(tidy["unit"]) == list(w.ids) and tidy["cluster"].equals(pd.Series(labels.to_numpy(), name="cluster"))


def test_local_moran_p_sim_agrees_with_a_direct_conditional_permutation(prefectures):
    """Independent reference: for sampled units, draw the neighbours' values from the other n - 1 units unit by
    unit (rng.choice without replacement) and compute esda's folded p_sim; agreement within Monte Carlo error."""
    w, _, _, latitude = prefectures
    y = latitude.loc[list(w.ids)].to_numpy()
    ours = local_moran(latitude, w, n_draws=999, seed=7)
    z = (y - y.mean()) / y.std()
    r = w.row_standardize().matrix.tocsr()
    rng = np.random.default_rng(11)
    n = len(z)
    for i in rng.choice(np.flatnonzero(np.diff(r.indptr) > 0), size=25, replace=False):
        nbw = r.data[r.indptr[i]:r.indptr[i + 1]]
        others = np.delete(np.arange(n), i)
        sims = np.array([(n - 1) * z[i] * nbw @ z[rng.choice(others, size=len(nbw), replace=False)] / n
                         for _ in range(999)])
        larger = (sims >= ours.Is[i]).sum()
        p_ref = (min(larger, 999 - larger) + 1) / 1000
        se = np.sqrt(2 * max(p_ref, 0.01) * (1 - p_ref) / 999)
        assert abs(ours.p_sim[i] - p_ref) < 5 * se + 0.003, (i, ours.p_sim[i], p_ref)


def test_local_moran_conditional_draws_have_the_exact_conditional_moments(prefectures):
    """Under conditional randomisation the mean and variance of I_i are EIc and VIc (Sokal et al. 1998, A7-A8):
    the permutation moments must agree within Monte Carlo error."""
    w, _, _, latitude = prefectures
    res = local_moran(latitude, w, n_draws=4999, seed=3, keep_draws=True)
    ok = ~np.isnan(res.EI_sim)
    z = (res.EI_sim[ok] - res.EIc[ok]) / np.sqrt(res.VIc[ok] / 4999)
    assert np.abs(z).max() < 4.5
    ratio = res.seI_sim[ok] ** 2 / res.VIc[ok]
    assert 0.97 < np.median(ratio) < 1.03 and ratio.min() > 0.85 and ratio.max() < 1.15
    np.testing.assert_allclose(res.sim[:, ok].mean(axis=0), res.EI_sim[ok])


def test_local_moran_detects_a_planted_cluster_and_is_seeded():
    ids = list(range(400))
    lat, lon = np.repeat(np.arange(20.0), 20), np.tile(np.arange(20.0), 20)
    w = Weights.from_points(lon, lat, ids, k=8)
    rng = np.random.default_rng(5)
    y = rng.normal(size=400)
    hot = (lat < 5) & (lon < 5)
    y[hot] += 3.0
    res = local_moran(y, w, n_draws=499, seed=2)
    labels = res.clusters()
    assert (labels[hot] == "HH").mean() > 0.8 and (labels[~hot] == "HH").mean() < 0.05
    again = local_moran(y, w, n_draws=499, seed=2)
    np.testing.assert_array_equal(res.p_sim, again.p_sim)


def test_draw_counts_and_bad_values(prefectures):
    w, _, designated, latitude = prefectures
    m0 = moran(latitude, w, n_draws=0)
    assert np.isnan(m0.p_sim) and m0.sim.size == 0 and m0.p_rand < 0.05
    assert "n_draws=0" in m0.summary()
    assert np.isnan(join_counts(designated, w, n_draws=0).p_sim_bb)
    assert np.isnan(local_moran(latitude, w, n_draws=0).p_sim).all()
    for fn in (moran, geary, join_counts, local_moran):
        with pytest.raises(EconError, match="permutations must be at least 0"):
            fn(designated, w, permutations=-5)
        with pytest.raises(EconError, match="n_draws must be at least 0"):
            fn(designated, w, n_draws=-1)
        with pytest.raises(EconError, match="give the number of draws once"):
            fn(designated, w, n_draws=9, permutations=9)
        with pytest.raises(EconError, match="seed"):
            fn(designated, w, seed=-1)
    assert moran(latitude, w, permutations=19).n_draws == 19
    bad = latitude.copy()
    bad.iloc[3] = np.inf
    for fn in (moran, geary, local_moran):
        with pytest.raises(WeightsError, match=r"missing or infinite value, first: \['" + bad.index[3]):
            fn(bad, w)


def test_by_period_matches_cross_sections_and_handles_unbalanced_panels(prefectures):
    w, _, _, _ = prefectures
    demo = datasets.load("china_cities_demo")
    res = by_period(demo, "log_income_ratio", "prefecture_code", "year", w, statistic="moran", n_draws=99)
    assert list(res.results) == sorted(demo["year"].unique())
    y2010 = demo[demo.year == 2010].set_index("prefecture_code")["log_income_ratio"]
    assert res.results[2010].I == pytest.approx(moran(y2010, w, n_draws=0).I, rel=1e-12)
    assert set(res.tidy().columns) >= {"time", "value", "p_sim"}
    lisa = by_period(demo[demo.year >= demo.year.max() - 1], "log_income_ratio", "prefecture_code", "year", w,
                     statistic="local_moran", n_draws=99)
    assert len(lisa.tidy()) == 2 * w.n
    unbalanced = demo.drop(demo.index[(demo.year == 2012) & (demo.prefecture_code == w.ids[0])])
    res_u = by_period(unbalanced, "log_income_ratio", "prefecture_code", "year", w, statistic="geary", n_draws=0)
    assert res_u.results[2012].n == w.n - 1 and any("2012" in n for n in res_u.notes)
    with pytest.raises(EconError, match="not in the data"):
        by_period(demo, "nope", "prefecture_code", "year", w)


def test_results_plot_and_save(prefectures, tmp_path):
    w, _, designated, latitude = prefectures
    objs = [moran(latitude, w, n_draws=99), moran(latitude, w, n_draws=0), geary(latitude, w, n_draws=99),
            join_counts(designated, w, n_draws=99), local_moran(latitude, w, n_draws=99),
            by_period(datasets.load("china_cities_demo").query("year >= 2018"), "log_income_ratio",
                      "prefecture_code", "year", w, n_draws=19)]
    import matplotlib.pyplot as plt

    for k, obj in enumerate(objs):
        path = tmp_path / f"fig{k}.png"
        fig, ax = obj.plot(path=path)
        assert path.stat().st_size > 1000 and ax.figure is fig
        assert repr(obj) == obj.summary()
        plt.close(fig)
    fig, ax = plt.subplots()
    assert objs[0].plot(ax=ax) == (fig, ax)
    plt.close("all")


def test_by_period_unknown_period_names_the_available_ones():
    w = Weights(list("abcd"), np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1))
    df = pd.DataFrame({"u": list("abcd") * 2, "t": [1] * 4 + [2] * 4, "x": [1, 2, 3, 4, 4, 1, 3, 2.0]})
    res = by_period(df, "x", "u", "t", w, n_draws=0)
    assert res.results[2].n == 4 and 3 not in res.results
    with pytest.raises(SpecificationError, match=r"no period \(t\) 3 .*available: \[1, 2\]"):
        res.results[3]


def test_permutation_draws_are_the_generator_stream(monkeypatch):
    """Moran's draws are the rows of ``rng.permuted(tile(arange(n)), axis=1)`` for ``default_rng(seed)`` (the
    stream of earlier releases), whatever the block size."""
    from econ.spatial import Weights, moran

    n = 60
    rng = np.random.default_rng(3)
    A = (rng.uniform(size=(n, n)) < 0.08).astype(float)
    A = np.maximum(A, A.T)
    np.fill_diagonal(A, 0)
    A[np.arange(n), (np.arange(n) + 1) % n] = A[(np.arange(n) + 1) % n, np.arange(n)] = 1.0
    W = Weights(list(range(n)), A)
    y = rng.normal(size=n)
    res = moran(y, W, n_draws=250, seed=11)
    M = A / A.sum(axis=1, keepdims=True)
    z = y - y.mean()
    order = np.random.default_rng(11).permuted(np.tile(np.arange(n), (250, 1)), axis=1)
    X = z[order]
    ref = np.einsum("ij,ij->i", X, X @ M.T) * (n / M.sum() / (z @ z))
    np.testing.assert_allclose(res.sim, ref, rtol=0, atol=1e-12)
    import econ.spatial._permutation as perm

    monkeypatch.setattr(perm, "_GLOBAL_CHUNK", 7 * n)  # blocks of 7 draws
    np.testing.assert_array_equal(moran(y, W, n_draws=250, seed=11).sim, res.sim)
