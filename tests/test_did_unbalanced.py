"""Imputation (BJS) and Sun-Abraham on an unbalanced panel: mpdta with a deterministic random 10% of its rows
dropped, against diff-diff ``ImputationDiD`` / ``SunAbraham`` and pyfixest's saturated event study.

Conventions that agree (so the tolerances are tight): every observed row is used (no balancing); BJS's
conservative unit-clustered variance without small-sample factor; Sun-Abraham's cohort shares are observation
counts and, with ``share_uncertainty=False``, the aggregate's variance is the delta method on the cohort effects
(fixest's ``aggregate()``, here computed from pyfixest's ``feols`` cohort effects; diff-diff ``SunAbraham``).
pyfixest's ``event_study(estimator="saturated")`` is not used on this sample: on an unbalanced panel its cohort
effects differ from its own saturated ``feols`` (e.g. cohort 2007 at -4: 0.0030 vs 0.0139, which fixest's
``sunab``-equivalent regression, diff-diff and econ share), while on balanced mpdta they agree
(tests/test_did_robust.py).
"""

from functools import cache

import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.did import imputation, sun_abraham
from econ.errors import EconWarning, SpecificationError

ARGS = ("lemp", "countyreal", "year", "first_treat")


@cache
def _unbalanced() -> pd.DataFrame:
    df = datasets.load("mpdta").rename(columns={"first.treat": "first_treat"})
    rng = np.random.default_rng(20)
    return df.drop(index=rng.choice(len(df), size=len(df) // 10, replace=False)).reset_index(drop=True)


@pytest.fixture
def unbalanced():
    return _unbalanced().copy()


def test_imputation_unbalanced_matches_diff_diff(unbalanced):
    from diff_diff import ImputationDiD

    ours = imputation(unbalanced, *ARGS)
    peer = ImputationDiD().fit(unbalanced, outcome="lemp", unit="countyreal", time="year", first_treat="first_treat")
    assert ours.overall_att == pytest.approx(peer.overall_att, abs=1e-10)
    assert ours.overall_se == pytest.approx(peer.overall_se, rel=1e-8)
    es = peer.aggregate("event_study").to_dataframe().set_index("event_time")
    tid = ours.tidy().set_index("event_time")
    for e in range(4):
        assert tid.loc[e, "estimate"] == pytest.approx(es.loc[e, "att"], abs=1e-10)
        assert tid.loc[e, "std_error"] == pytest.approx(es.loc[e, "se"], rel=1e-8)
    # the sample used is reported: rows and units after the imputability rule (one treated unit is never untreated)
    assert ours.nobs == len(unbalanced) - 3 and ours.n_units == unbalanced["countyreal"].nunique() - 1
    note = next(n for n in ours.notes if n.startswith("unbalanced panel"))
    short = int((unbalanced.groupby("countyreal").size() < 5).sum()) - 1
    assert note.startswith(f"unbalanced panel: {ours.n_units} units, {ours.nobs} rows, {short} unit(s) observed in "
                           "fewer than 5 periods, all kept")


def test_sun_abraham_unbalanced_matches_pyfixest_and_diff_diff(unbalanced):
    import pyfixest as pf
    from diff_diff import SunAbraham

    ours = sun_abraham(unbalanced, *ARGS, share_uncertainty=False)
    rel = np.where(unbalanced["first_treat"] > 0, unbalanced["year"] - unbalanced["first_treat"], -1)
    sat = pf.feols("lemp ~ i(rel, first_treat, ref=-1, ref2=0) | countyreal + year", data=unbalanced.assign(rel=rel),
                   vcov={"CRV1": "countyreal"}, fixef_tol=1e-13)  # unbalanced: demeaning iterates to its tolerance
    b, se = sat.coef(), sat.se()
    assert len(ours.cohort_table) == len(b)
    for row in ours.cohort_table.itertuples():
        assert row.estimate == pytest.approx(b[f"rel::{row.event_time}:first_treat::{row.cohort}"], abs=1e-10)
        assert row.std_error == pytest.approx(se[f"rel::{row.event_time}:first_treat::{row.cohort}"], rel=1e-8)
    # the aggregate by hand from pyfixest's coefficients and covariance: observation-count shares, delta method
    tid = ours.tidy().set_index("event_time")
    cells = ours.cohort_table
    names = [f"rel::{r.event_time}:first_treat::{r.cohort}" for r in cells.itertuples()]
    V = sat.vcov.loc[names, names].to_numpy() if isinstance(sat.vcov, pd.DataFrame) else \
        pd.DataFrame(sat._vcov, index=sat._coefnames, columns=sat._coefnames).loc[names, names].to_numpy()
    for e in (-4, -3, -2, 0, 1, 2, 3):
        w = np.where(cells["event_time"] == e, cells["n_obs"], 0.0)
        w = w / w.sum()
        assert tid.loc[e, "estimate"] == pytest.approx(w @ b[names].to_numpy(), abs=1e-10)
        assert tid.loc[e, "std_error"] == pytest.approx(np.sqrt(w @ V @ w), rel=1e-8)
    peer = SunAbraham().fit(unbalanced, outcome="lemp", unit="countyreal", time="year", first_treat="first_treat")
    assert ours.overall_att == pytest.approx(peer.overall_att, abs=1e-10)
    assert ours.overall_se == pytest.approx(peer.overall_se, rel=1e-8)
    for e, eff in peer.event_study_effects.items():
        assert tid.loc[int(e), "estimate"] == pytest.approx(eff["effect"], abs=1e-10)
        assert tid.loc[int(e), "std_error"] == pytest.approx(eff["se"], rel=1e-8)
    assert ours.nobs == len(unbalanced) and ours.n_units == unbalanced["countyreal"].nunique()
    assert any(n.startswith(f"unbalanced panel: {ours.n_units} units, {ours.nobs} rows") for n in ours.notes)


@pytest.mark.parametrize("fn", [imputation, sun_abraham])
def test_balance_true_is_the_fit_on_the_complete_units(unbalanced, fn):
    complete = unbalanced.groupby("countyreal")["year"].transform("size") == 5
    with pytest.warns(EconWarning, match=r"unit\(s\) not observed in all 5 periods dropped to balance"):
        res = fn(unbalanced, *ARGS, balance=True)
    ref = fn(unbalanced[complete].reset_index(drop=True), *ARGS)
    np.testing.assert_allclose(res.coef, ref.coef, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.se, ref.se, rtol=1e-12)
    assert res.nobs == ref.nobs == int(complete.sum())
    assert not any(n.startswith("unbalanced panel") for n in res.notes + ref.notes)
    with pytest.raises(SpecificationError, match="balance must be True or False"):
        fn(unbalanced, *ARGS, balance="drop")
