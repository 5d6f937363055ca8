"""cont_did(method="cck"): Chen, Christensen and Kankanala's data-driven number of spline segments, against
moderndid's port of R ``npiv`` (``npiv_choose_j``, ``npiv_est``) on moderndid's simulated two-period data, the
setting of R contdid's ``dose_est_method = "cck"``.

Where they agree: the segment counts searched, the Lepski statistic's critical value theta* (to 1e-6: moderndid fits
each dimension by two-stage least squares with a finer spline of the dose as instrument, which spans the same fit),
the chosen number of segments (same Gaussian multiplier stream for the same seed), ATT(d), ACRT(d) and the standard
error of ACRT(d). Where they differ: econ's ATT(d) standard error includes the sampling error of the comparison
mean ``E[dY | D = 0]`` (moderndid's ``npiv`` treats the centred outcome as data), so the honest adaptive bands (sup-t
over dimensions plus ``log log J * theta*``) are built from econ's influence functions and its multiplier law.
"""

import warnings

import numpy as np
import pytest

from econ.did import cont_did
from econ.did.intensity._dose_cck import select_segments
from econ.errors import SpecificationError
from econ.simulate import draw_dose_panel

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _md_data(md, seed):
    df = md.gen_cont_did_data(n=1000, num_time_periods=2, seed=seed).to_pandas()
    wide = df.pivot(index="id", columns="time_period", values="Y")
    unit = df.drop_duplicates("id").set_index("id")
    dose = np.where(unit["G"].to_numpy() > 0, unit["D"].to_numpy(), 0.0)
    dy = (wide[2] - wide[1]).to_numpy()
    pos = dose > 0
    return df, dy[pos] - dy[~pos].mean(), dose[pos]


@pytest.mark.parametrize("seed", [1])
def test_selection_matches_moderndid_npiv(seed):
    md = pytest.importorskip("moderndid")
    from moderndid.didcont.npiv.selection import npiv_choose_j

    _, y, d = _md_data(md, seed)
    grid = np.linspace(d.min(), d.max(), 50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = npiv_choose_j(y, d[:, None], d[:, None], x_grid=grid[:, None], j_x_degree=3, k_w_degree=3,
                            knots="quantiles", boot_num=49, seed=seed)
    got = select_segments(y, d, grid, degree=3, n_draws=49, seed=seed)
    assert ref["j_x_seg"] == 8  # a draw where the rule moves away from the cubic polynomial
    assert got["searched"] == list(ref["j_x_segments_set"])
    assert got["theta"] == pytest.approx(ref["theta_star"], rel=1e-6)
    assert got["segments"] == ref["j_x_seg"]


def test_cck_estimates_match_moderndid_at_the_chosen_dimension():
    md = pytest.importorskip("moderndid")
    from moderndid.didcont.npiv.estimators import npiv_est

    df, y, d = _md_data(md, 1)
    res = cont_did(df, "Y", "id", "time_period", "G", dose="D", method="cck", n_draws=99, seed=1)
    seg = int(res.notes[-1].split("cck: ")[1].split(" ")[0])
    assert seg == 8  # this draw needs knots: the Lepski rule moves away from the cubic polynomial
    grid = res.curve["dose"].to_numpy()
    ref = npiv_est(y, d[:, None], d[:, None], x_eval=grid[:, None], j_x_degree=3, j_x_segments=seg, k_w_degree=3,
                   k_w_segments=4 * seg, knots="quantiles")
    np.testing.assert_allclose(res.curve["att"], ref.h, atol=1e-8)
    np.testing.assert_allclose(res.curve["acrt"], ref.deriv, atol=1e-6)
    np.testing.assert_allclose(res.curve["acrt_se"], ref.deriv_asy_se, rtol=1e-6)
    assert np.all(res.curve["att_se"] > ref.asy_se)  # econ adds the comparison mean's sampling error
    spline = cont_did(df, "Y", "id", "time_period", "G", dose="D", num_knots=seg - 1, n_draws=0)
    np.testing.assert_allclose(res.curve["att"], spline.curve["att"], atol=1e-12)


def test_cck_known_truth_staggered():
    """Staggered design, quadratic truth: the chosen dimension's ATT(d) is within 4 standard errors everywhere on
    the grid and ATT^o / ACRT^o within 4 of the truth."""
    sim = draw_dose_panel(n_units=1500, n_periods=5, seed=4)
    res = cont_did(sim.data, "y", "unit", "time", "cohort", dose="dose", method="cck", n_draws=99)
    c = res.curve
    assert np.all(np.abs(c["att"] - sim.att(c["dose"])) < 4 * c["att_se"])
    assert abs(res.overall["ACRT^o"] - sim.acrt_o) < 4 * res.overall_se["ACRT^o"]
    assert any(n.startswith("cck: ") for n in res.notes) and res.method == "cck"


def test_cck_refuses_fixed_knots_and_covariates():
    df = draw_dose_panel(n_units=200, n_periods=4, x_trend=0.5, seed=1).data
    for kw in ({"num_knots": 2}, {"knots": [1.0]}, {"covariates": "x"}):
        with pytest.raises(SpecificationError, match="cck"):
            cont_did(df, "y", "unit", "time", "cohort", dose="dose", method="cck", n_draws=0, **kw)


def test_cck_bands_are_wider_than_the_fixed_dimension_bands():
    """The honest band's critical value is the joint sup-t over the dimensions searched (at least the fixed
    dimension's) plus ``log log J * theta*``."""
    sim = draw_dose_panel(n_units=800, n_periods=3, cohorts=(3,), seed=8)
    res = cont_did(sim.data, "y", "unit", "time", "cohort", dose="dose", method="cck", n_draws=199)
    seg = int(res.notes[-1].split("cck: ")[1].split(" ")[0])
    fixed = cont_did(sim.data, "y", "unit", "time", "cohort", dose="dose", num_knots=seg - 1, n_draws=199)
    theta = float(res.notes[-1].split("theta* = ")[1].split(",")[0])
    shift = max(0.0, np.log(np.log(3 + seg))) * theta
    for k in ("att_d", "acrt_d"):
        assert res.crit[k] >= fixed.crit[k] + shift - 1e-3  # theta* is printed to 4 decimals
    assert res.crit["es_att"] == pytest.approx(fixed.crit["es_att"])  # event-time bands are not the CCK ones
    d = res.tidy("dose")
    assert np.all(d["uniform_high"] - d["uniform_low"] > 2 * 1.96 * d["std_error"])
