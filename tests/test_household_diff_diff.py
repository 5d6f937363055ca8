"""Household designs against diff-diff 3.13: ``att_gt(panel=False)`` vs ``CallawaySantAnna(panel=False)`` on mpdta
sampled as repeated cross-sections, ``att_gt(allow_unbalanced_panel=True)`` vs ``CallawaySantAnna(
allow_unbalanced_panel=True)``, and ``ddd_gt`` vs ``StaggeredTripleDifference`` on diff-diff's own generator.

Where the conventions agree the numbers agree to rounding. Where they disagree the test pins the difference and
says which side follows the paper / the authors' R packages:

* repeated cross-sections, ``method="reg"`` with covariates: diff-diff's ``_outcome_regression_rc`` scales the
  estimation effect of the two outcome regressions by an extra ``1/n`` (its bread is ``(X'WX)^{-1}`` but it keeps
  R's ``colMeans``), so its standard errors are ~2.5% smaller on this sample; econ follows R ``DRDID::reg_did_rc``
  (Sant'Anna & Zhao 2020, eq. 2.2's influence function; checked against csdid and moderndid in
  tests/test_att_gt_rcs.py). Point estimates agree.
* unbalanced panels, ``dr``: diff-diff's standard errors are ``sqrt(n / (n - 1))`` times econ's (a ``ddof=1``
  variance); econ's are R ``did``'s (csdid, tests/test_att_gt_rcs.py).
* staggered DDD, not-yet-treated comparisons with several comparison cohorts (the GMM cells): diff-diff reports
  ``sqrt(1 / (n 1' Omega^{-1} 1))`` with the ``n - 1`` sample covariance, as R ``triplediff`` and moderndid do,
  ``sqrt(n / (n - 1))`` times the cell's influence-function standard error that econ reports (documented in
  :func:`econ.did.ddd_gt`).
* staggered DDD aggregations: diff-diff weights cohorts by their *eligible* units, ``P(S = g, Q = 1)``, citing the
  paper's eq. 4.13; R ``triplediff`` (the paper's authors' package; ``compute_aggregations.R``: ``pg`` is the share
  of all units in cohort g), moderndid and econ weight by ``P(S = g)``. The two coincide when the eligible share is
  the same in every cohort (diff-diff's generator), where the point estimates agree and the standard errors differ
  only through the estimated-weights term, which the test rebuilds with diff-diff's weights to reproduce its number.
  With eligible shares that differ across cohorts the overall ATTs differ.
"""

from functools import cache

import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.did import att_gt, ddd_gt

dd = pytest.importorskip("diff_diff")
pytestmark = pytest.mark.filterwarnings("ignore")
CONTROLS = {"never": "never_treated", "notyet": "not_yet_treated"}


@cache
def _mpdta() -> pd.DataFrame:
    return datasets.load("mpdta").rename(columns={"first.treat": "first_treat"})


@cache
def _rcs() -> pd.DataFrame:
    """mpdta as repeated cross-sections: each county-year row kept with probability 1/2, new row ids."""
    df = _mpdta()
    keep = np.random.default_rng(7).random(len(df)) < 0.5
    return df[keep].reset_index(drop=True).assign(rid=lambda d: np.arange(len(d)))


def _cells(peer) -> pd.DataFrame:
    return pd.DataFrame([{"cohort": int(g), "time": int(t), "att": v["effect"], "se": v["se"]}
                         for (g, t), v in peer.group_time_effects.items()])


def _merge(ours, peer) -> pd.DataFrame:
    peer_cells = _cells(peer)
    merged = ours.tidy().merge(peer_cells, on=["cohort", "time"], validate="one_to_one")
    assert len(merged) == len(peer_cells) == len(ours.tidy())
    return merged


@pytest.mark.parametrize("control", ["never", "notyet"])
@pytest.mark.parametrize("method, covariates", [("dr", None), ("ipw", None), ("reg", None), ("dr", ["lpop"]),
                                                ("ipw", ["lpop"]), ("reg", ["lpop"])])
def test_repeated_cross_sections_match_diff_diff(method, covariates, control):
    rc = _rcs()
    peer = dd.CallawaySantAnna(estimation_method=method, control_group=CONTROLS[control], panel=False).fit(
        rc, outcome="lemp", unit="rid", time="year", first_treat="first_treat", covariates=covariates,
        aggregate="event_study")
    ours = att_gt(rc, "lemp", "rid", "year", "first_treat", covariates=covariates, method=method, control=control,
                  panel=False)
    m = _merge(ours, peer)
    np.testing.assert_allclose(m["estimate"], m["att"], rtol=0, atol=1e-12)
    simple = ours.aggregate("simple")
    assert simple.overall_att == pytest.approx(peer.overall_att, abs=1e-12)
    dyn = ours.aggregate("dynamic").tidy().set_index("event_time")
    es = pd.DataFrame(peer.event_study_effects).T
    np.testing.assert_allclose(dyn.loc[es.index.astype(int), "estimate"], es["effect"].astype(float), atol=1e-12)
    ratio = m["std_error"] / m["se"]
    if method == "reg" and covariates:  # diff-diff's reg_did_rc estimation-effect term (module docstring)
        assert 1.01 < ratio.max() < 1.05 and simple.overall_se > peer.overall_se * 1.005
        return
    np.testing.assert_allclose(ratio, 1.0, rtol=1e-9)
    assert simple.overall_se == pytest.approx(peer.overall_se, rel=1e-9)
    np.testing.assert_allclose(dyn.loc[es.index.astype(int), "std_error"], es["se"].astype(float), rtol=1e-9)


def test_unbalanced_panel_matches_diff_diff_up_to_its_ddof():
    df = _mpdta()
    holes = df.drop(index=np.random.default_rng(20).choice(len(df), size=len(df) // 10, replace=False))
    holes = holes.reset_index(drop=True)
    peer = dd.CallawaySantAnna(estimation_method="dr", allow_unbalanced_panel=True).fit(
        holes, outcome="lemp", unit="countyreal", time="year", first_treat="first_treat", covariates=["lpop"])
    ours = att_gt(holes, "lemp", "countyreal", "year", "first_treat", covariates="lpop",
                  allow_unbalanced_panel=True)
    m = _merge(ours, peer)
    n = ours.n_units
    np.testing.assert_allclose(m["estimate"], m["att"], atol=1e-12)
    np.testing.assert_allclose(m["std_error"] * np.sqrt(n / (n - 1)), m["se"], rtol=1e-9)
    assert ours.aggregate("simple").overall_att == pytest.approx(peer.overall_att, abs=1e-12)


# ---------------------------------------------------------------------------------------- staggered DDD
@cache
def _ddd_data() -> pd.DataFrame:
    return dd.generate_staggered_ddd_data(n_units=400, seed=3, add_covariates=True)


def _ddd(data, method, control, covariates=None, aggregate=None):
    peer = dd.StaggeredTripleDifference(estimation_method=method, control_group=control + "treated").fit(
        data, outcome="outcome", unit="unit", time="period", first_treat="first_treat", eligibility="eligibility",
        covariates=covariates, aggregate=aggregate)
    ours = ddd_gt(data, "outcome", "unit", "period", "first_treat", "eligibility", covariates=covariates,
                  method=method, control=control)
    return ours, peer


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control, covariates", [("never", None), ("never", ["x1", "x2"]), ("notyet", None)])
def test_ddd_cells_match_diff_diff(method, control, covariates):
    data = _ddd_data()
    ours, peer = _ddd(data, method, control, covariates)
    m = _merge(ours, peer)
    np.testing.assert_allclose(m["estimate"], m["att"], atol=1e-12)
    n = data["unit"].nunique()
    ratio = m["se"] / m["std_error"]
    if control == "never":
        np.testing.assert_allclose(ratio, 1.0, rtol=1e-9)
    else:  # GMM cells (several comparison cohorts) carry diff-diff's n - 1 covariance; the others agree
        gmm = np.abs(ratio - 1) > 1e-9
        assert gmm.sum() == 6
        np.testing.assert_allclose(ratio[gmm], np.sqrt(n / (n - 1)), rtol=1e-9)


def _eligible_weights_se(res, eligible: np.ndarray) -> float:
    """The simple aggregate's standard error with R did's estimated-weights term built on ``P(S = g, Q = 1)``
    (diff-diff's cohort weights): econ's cell influence functions, diff-diff's weights."""
    cells = res.cells
    keep = np.flatnonzero(cells["post"].to_numpy() & np.isfinite(res.coef.to_numpy()))
    G = np.where(eligible, res._design.g, 0)
    groups = cells["cohort"].to_numpy()[keep]
    pg = np.array([np.mean(G == g) for g in groups])
    ind = np.column_stack([(G == g).astype(float) - p for g, p in zip(groups, pg)])
    wif = ind / pg.sum() - np.outer(ind.sum(axis=1), pg / pg.sum() ** 2)
    psi = res.inf_func[:, keep] @ (pg / pg.sum()) + wif @ res.coef.to_numpy()[keep]
    return float(np.sqrt(np.mean(psi**2) / len(psi)))


def test_ddd_aggregations_follow_triplediff_and_differ_from_diff_diff_only_in_the_cohort_weights():
    data = _ddd_data()
    ours, peer = _ddd(data, "dr", "never", ["x1", "x2"], aggregate="all")
    eligible = data.groupby("unit")["eligibility"].first().reindex(ours._design.units).to_numpy() == 1
    simple = ours.aggregate("simple")
    assert simple.overall_att == pytest.approx(peer.overall_att, abs=1e-12)  # equal eligible shares here
    assert abs(simple.overall_se / peer.overall_se - 1) > 1e-3  # different estimated-weights terms ...
    assert _eligible_weights_se(ours, eligible) == pytest.approx(peer.overall_se, rel=1e-9)  # ... and only that
    group = ours.aggregate("group").tidy()
    peer_group = pd.DataFrame(peer.group_effects).T
    np.testing.assert_allclose(group["estimate"], peer_group["effect"].astype(float), atol=1e-12)
    np.testing.assert_allclose(group["std_error"], peer_group["se"].astype(float), rtol=1e-9)
    # eligible shares that differ across cohorts: the cohort weights, hence the overall ATTs, differ
    drop = data.query("first_treat == 4 and eligibility == 1")["unit"].unique()[:30]
    uneven = data[~data["unit"].isin(drop)].reset_index(drop=True)
    ours, peer = _ddd(uneven, "reg", "never")
    post = ours.cells["post"].to_numpy()
    cells, att = ours.cells[post], ours.coef.to_numpy()[post]
    by_unit = uneven.groupby("unit")[["first_treat", "eligibility"]].first()
    eligible_counts = by_unit.query("eligibility == 1")["first_treat"].value_counts()
    for share in (by_unit["first_treat"].value_counts(), eligible_counts):
        w = cells["cohort"].map(share).to_numpy(dtype=float)
        est = float(w @ att / w.sum())
        if share.sum() == len(by_unit):
            assert ours.aggregate("simple").overall_att == pytest.approx(est, abs=1e-12)  # P(S = g): triplediff
        else:
            assert peer.overall_att == pytest.approx(est, abs=1e-12)  # P(S = g, Q = 1): diff-diff
    assert abs(ours.aggregate("simple").overall_att - peer.overall_att) > 0.01
