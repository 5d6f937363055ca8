"""montecarlo.spatial_staggered (issue 22, part 4): shocks follow the SAR process on W; Conley s.e. see them."""

import numpy as np
import pytest
from scipy import sparse

from econ import montecarlo as mc
from econ.errors import SpecificationError, WeightsError
from econ.spatial import Weights


def _moran(x, W):
    z = x - x.mean()
    m = W.row_standardize().matrix
    return float(z @ (m @ z) / (z @ z))


def test_shocks_follow_the_sar_process_on_w():
    kw = dict(n_units=100, n_years=6, rho_space=0.7, seed=4)
    base = mc.spatial_staggered(sigma_space=0.0, **kw).data
    sim = mc.spatial_staggered(sigma_space=0.05, **kw)
    u = (sim.data["log_income_ratio"] - base["log_income_ratio"]).to_numpy().reshape(100, 6)
    lat = sim.data.groupby("unit")["lat"].first()
    W = Weights.from_distance(lat, sim.data.groupby("unit")["lon"].first(), list(lat.index), cutoff_km=12.0)
    e = (sparse.identity(100) - 0.7 * W.row_standardize().matrix) @ u  # the innovations, recovered exactly
    assert e.std() == pytest.approx(0.05, rel=0.15)
    assert np.mean([_moran(u[:, t], W) for t in range(6)]) > 0.3       # shocks spatially correlated
    assert abs(np.mean([_moran(e[:, t], W) for t in range(6)])) < 0.1  # innovations are not
    assert sim.truth["rho_space"] == 0.7 and "att_overall" in sim.truth


def test_conley_standard_errors_exceed_unit_clustered_under_spatial_shocks():
    d = mc.design(mc.spatial_staggered, n_units=144, n_years=6, effect=0.0, rho_space=0.8, sigma_space=0.03,
                  sigma=0.005)
    spec = {"conley": {"lat": "lat", "lon": "lon", "cutoff_km": 60}}
    res = mc.run([d], {"unit": mc.estimators.att_gt(), "conley": mc.estimators.att_gt(vcov=spec)}, 15, seed=1,
                 n_workers=1, progress=False)
    m = res.metrics().set_index("estimator")
    # unit clustering understates the sampling s.d. much more than Conley does
    assert m.loc["unit", "mean_se"] < m.loc["conley", "mean_se"]
    assert m.loc["unit", "mean_se"] < 0.6 * m.loc["unit", "sd"]


def test_given_w_and_bad_input():
    W = Weights.from_edges(__import__("pandas").DataFrame({"s": list("abc"), "t": list("bcd")}), "s", "t")
    sim = mc.spatial_staggered(n_years=6, W=W, n_cohorts=1, seed=0)
    assert set(sim.data["unit"]) == set("abcd") and "lat" not in sim.data
    with pytest.raises(SpecificationError, match="rho_space"):
        mc.spatial_staggered(n_units=16, rho_space=1.0)
    with pytest.raises(SpecificationError, match="perfect square"):
        mc.spatial_staggered(n_units=10)
    with pytest.raises(WeightsError, match="Weights"):
        mc.spatial_staggered(W=np.eye(3))
