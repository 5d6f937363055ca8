"""spatial_did_radius (issue 22, part 2): a known ring-spillover radius profile is recovered within its intervals."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from econ._geo import haversine_km  # noqa: E402
from econ.did import spatial_did, spatial_did_radius  # noqa: E402
from econ.errors import SpecificationError  # noqa: E402

TAU, DELTA, R_TRUE = 1.0, 0.8, 15.0
RADII = [5, 10, 15, 20, 25, 30]


def _ring_panel(n=1500, seed=0, sd=0.5):
    """Two periods, 3% of units treated in period 2; untreated units within R_TRUE km of a treated unit get
    spillover DELTA in period 2; direct effect TAU. Returns the panel and each untreated unit's distance."""
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(30, 32, n), rng.uniform(110, 112, n)
    treated = rng.random(n) < 0.03
    d = haversine_km(lat[~treated][:, None], lon[~treated][:, None], lat[treated][None, :], lon[treated][None, :])
    dist = np.full(n, np.nan)
    dist[~treated] = d.min(axis=1)
    spill = np.where(~treated & (dist <= R_TRUE), DELTA, 0.0)
    a = rng.normal(size=n)
    y1 = a + rng.normal(scale=sd, size=n)
    y2 = a + 0.3 + TAU * treated + spill + rng.normal(scale=sd, size=n)
    df = pd.DataFrame({"u": np.repeat(np.arange(n), 2), "t": np.tile([1, 2], n),
                       "g": np.repeat(np.where(treated, 2, 0), 2),
                       "lat": np.repeat(lat, 2), "lon": np.repeat(lon, 2), "y": np.column_stack([y1, y2]).ravel()})
    return df, treated, dist, spill


def _truth(treated, dist, spill):
    """The estimands given the locations: direct = TAU - mean spill of clean controls; spillover = mean spill in the
    ring - mean spill of clean controls (the two-period regression is a difference of mean changes)."""
    rows = []
    for r in RADII:
        ring, clean = ~treated & (dist <= r), ~treated & (dist > r)
        rows.append({"radius": float(r), "direct": TAU - spill[clean].mean(),
                     "spillover": spill[ring].mean() - spill[clean].mean()})
    return pd.DataFrame(rows)


def test_recovers_ring_spillover_radius_profile():
    df, treated, dist, spill = _ring_panel()
    res = spatial_did_radius(df, "y", "u", "t", cohort="g", coords=("lat", "lon"), radii=RADII, level=0.99)
    truth = _truth(treated, dist, spill)
    t = res.tidy()
    assert list(t.columns[:6]) == ["term", "estimate", "std_error", "p_value", "conf_low", "conf_high"]
    for effect in ("direct", "spillover"):
        est = t[t["effect"] == effect].set_index("radius")
        target = truth.set_index("radius")[effect]
        inside = (est["conf_low"] <= target) & (target <= est["conf_high"])
        assert inside.all(), (effect, est[["estimate", "conf_low", "conf_high"]], target)
    # the test can fail: the profile is not flat (dilution beyond R_TRUE, contaminated controls below it)
    spill_est = t[t["effect"] == "spillover"].set_index("radius")
    assert spill_est.loc[30.0, "conf_high"] < DELTA          # a constant DELTA profile is rejected at 30 km
    direct_est = t[t["effect"] == "direct"].set_index("radius")
    assert direct_est.loc[5.0, "conf_high"] < TAU             # contaminated controls bias the direct effect at 5 km
    assert direct_est.loc[20.0, "conf_low"] <= TAU <= direct_est.loc[20.0, "conf_high"]
    # each radius is exactly spatial_did with one ring
    one = spatial_did(df, "y", "u", "t", cohort="g", exposure="rings", rings=[20], coords=("lat", "lon"))
    assert one.coef["spillover_ring1"] == pytest.approx(spill_est.loc[20.0, "estimate"], abs=1e-12)


def test_plot_summary_and_errors(tmp_path):
    df, treated, dist, spill = _ring_panel(n=300, seed=1)
    res = spatial_did_radius(df, "y", "u", "t", cohort="g", coords=("lat", "lon"), radii=[30, 10, 20])
    assert res.radii == [10.0, 20.0, 30.0]
    assert res.nobs == len(df) and res.n_units == 300
    fig, ax = res.plot(path=tmp_path / "r.png", truth=_truth(treated, dist, spill).iloc[:0])
    assert (tmp_path / "r.png").stat().st_size > 0 and len(ax.lines) >= 2
    assert "radius" in res.summary()
    assert res.tidy(level=0.9)["conf_high"].iloc[0] < res.tidy()["conf_high"].iloc[0]
    for bad in ([], [0, 10], [10, 10], [np.nan], "ten"):
        with pytest.raises(SpecificationError, match="radii"):
            spatial_did_radius(df, "y", "u", "t", cohort="g", coords=("lat", "lon"), radii=bad)
    with pytest.raises(SpecificationError, match="coords"):
        spatial_did_radius(df, "y", "u", "t", cohort="g", coords="lat", radii=[10])
