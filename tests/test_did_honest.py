"""honest(): Rambachan-Roth robust confidence sets, against moderndid's HonestDiD port and the published example."""

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.did import event_study, honest, imputation, sun_abraham
from econ.did.honest import honest_ci
from econ.errors import SpecificationError

FIXTURE = Path(__file__).parent / "fixtures" / "honest_medicaid.json"
DEMO = ("log_income_ratio", "prefecture_code", "year", "cohort")


@cache
def _mpdta():
    from econ import datasets  # R did's mpdta, bundled (data/PROVENANCE.md)

    return datasets.load("mpdta").rename(columns={"first.treat": "first_treat"})


@cache
def _sa_path():
    from econ.did._paths import event_path

    return event_path(sun_abraham(_mpdta(), "lemp", "countyreal", "year", "first_treat"))


def _synthetic():
    """A path whose first pre-period change is tiny (see test_first_pre_period_change_counts)."""
    rng = np.random.default_rng(1)
    b = np.array([0.01, 0.0102, -0.005, 0.03, 0.05, 0.04])
    L = rng.normal(size=(6, 6))
    return b, (L @ L.T + 6 * np.eye(6)) * 2e-5


@pytest.mark.parametrize("ci,peer", [("conditional", "Conditional"), ("C-LF", "C-LF")])
@pytest.mark.parametrize("l_vec", [(1.0, 0.0, 0.0), (1 / 3, 1 / 3, 1 / 3)])
def test_relative_magnitudes_match_moderndid(ci, peer, l_vec):
    from moderndid.didhonest import create_sensitivity_results_rm

    b, S = _synthetic()
    l_vec = np.array(l_vec)
    theirs = create_sensitivity_results_rm(b, S, 3, 3, method=peer, m_bar_vec=[0.3, 1.0], l_vec=l_vec)
    ours = [honest_ci(b, S, 3, 3, "relative_magnitudes", m, l_vec, 0.05, ci) for m in (0.3, 1.0)]
    np.testing.assert_allclose(np.array(ours), theirs.select(["lb", "ub"]).to_numpy(), atol=1e-10)


@pytest.mark.parametrize("ci,peer", [("conditional", "Conditional"), ("C-LF", "C-LF")])
def test_smoothness_matches_moderndid_on_sun_abraham_mpdta(ci, peer):
    from moderndid.didhonest import create_sensitivity_results_sm

    e, b, V = _sa_path()
    n_pre, n_post = int((e < 0).sum()), int((e >= 0).sum())
    l_vec = np.eye(n_post)[0]
    theirs = create_sensitivity_results_sm(b, V, n_pre, n_post, method=peer, m_vec=[0.0, 0.01, 0.05])
    ours = [honest_ci(b, V, n_pre, n_post, "smoothness", m, l_vec, 0.05, ci) for m in (0.0, 0.01, 0.05)]
    np.testing.assert_allclose(np.array(ours), theirs.select(["lb", "ub"]).to_numpy(), atol=1e-10)


def test_first_pre_period_change_counts():
    """HonestDiD (R) lets the largest pre-period change be any of them, the first included; our sets contain
    those of moderndid 0.2, which skips the first one."""
    from moderndid.didhonest import create_sensitivity_results_rm

    e, b, V = _sa_path()  # mpdta: pre-period changes 0.022, -0.001, -0.024
    theirs = create_sensitivity_results_rm(b, V, 3, 4, method="Conditional", m_bar_vec=[1.0])
    lb, ub = honest_ci(b, V, 3, 4, "relative_magnitudes", 1.0, np.eye(4)[0], 0.05, "conditional")
    assert lb <= theirs["lb"][0] + 1e-12 and ub >= theirs["ub"][0] - 1e-12


def test_published_medicaid_example():
    """HonestDiD's README example: robust sets match the published table to its three decimals (C-LF draws differ
    from R's generator, so one bound may differ in the last digit)."""
    fx = json.loads(FIXTURE.read_text())
    b, V = np.array(fx["betahat"]), np.array(fx["sigma"])
    lv = np.array([1.0, 0.0])
    for mbar, (lb, ub) in fx["published_rm_clf"].items():
        ours = honest_ci(b, V, 5, 2, "relative_magnitudes", float(mbar), lv)
        assert abs(ours[0] - lb) <= 0.0015 and abs(ours[1] - ub) <= 0.0015, (mbar, ours)
    se = np.sqrt(V[5, 5])
    assert np.round([b[5] - 1.959964 * se, b[5] + 1.959964 * se], 3).tolist() == fx["published_original"]


def _demo_es():
    return event_study(datasets.load("china_cities_demo"), *DEMO, window=(-4, 3))


def test_honest_on_event_study_tidy_breakdown_and_plot(tmp_path):
    res = honest(_demo_es(), Mbar=[0, 0.5, 1], grid_points=300)
    tid = res.tidy()
    assert list(tid.columns) == ["term", "estimate", "std_error", "p_value", "conf_low", "conf_high", "Mbar",
                                 "method"]
    assert tid["term"].tolist() == ["original", "Mbar = 0", "Mbar = 0.5", "Mbar = 1"]
    assert tid["method"].tolist() == ["original", "C-LF", "C-LF", "C-LF"]
    widths = (tid["conf_high"] - tid["conf_low"]).to_numpy()[1:]
    assert np.all(np.diff(widths) >= -1e-12)  # larger Mbar, wider set
    assert res.breakdown > 0  # the demo effect is strong
    es = _demo_es()
    at = honest(es, Mbar=[res.breakdown], grid_points=300).table.iloc[0]
    above = honest(es, Mbar=[res.breakdown + 0.01], grid_points=300).table.iloc[0]
    assert at["ub"] < 0 and above["ub"] >= 0  # the set reaches zero just above the breakdown value
    assert "Breakdown" in res.summary() and "event time 0" in res.summary()
    res.plot(path=tmp_path / "honest.png")
    assert (tmp_path / "honest.png").exists()


def test_honest_accepts_every_event_study_kind():
    df = datasets.load("china_cities_demo")
    sa = sun_abraham(df, *DEMO)
    imp = imputation(df, *DEMO, horizons=[0, 1, 2], pretrends=3)
    for result in (sa, imp):
        res = honest(result, method="smoothness", M=[0, 0.005], grid_points=200, target="average")
        assert res.table.shape == (2, 3) and np.isfinite(res.table[["lb", "ub"]].to_numpy()).all()
    cs = pytest.importorskip("econ.did").__dict__.get("att_gt")
    if cs is not None:  # once Callaway-Sant'Anna is installed its dynamic aggregation works the same way
        agg = cs(df, *DEMO, base_period="universal").aggregate("dynamic")
        assert np.isfinite(honest(agg, Mbar=[1], grid_points=200).table["lb"]).all()
        with pytest.raises(SpecificationError, match="universal"):
            honest(cs(df, *DEMO).aggregate("dynamic"))


def test_target_and_bad_input():
    es = _demo_es()
    a = honest(es, Mbar=[0], target=1, grid_points=100)
    assert "event time 1" in a.target
    with pytest.raises(SpecificationError, match="target"):
        honest(es, target=7)
    with pytest.raises(SpecificationError, match="method"):
        honest(es, method="sd")
    with pytest.raises(SpecificationError, match="Mbar"):
        honest(es, Mbar=[-1])
    with pytest.raises(SpecificationError, match="M="):
        honest(es, M=[0.1])
    with pytest.raises(SpecificationError, match="pre-period"):
        honest(imputation(datasets.load("china_cities_demo"), *DEMO))
    with pytest.raises(SpecificationError, match="event study"):
        honest(pd.DataFrame())


def test_flci_matches_published_and_moderndid():
    from moderndid.didhonest import create_sensitivity_results_sm

    fx = json.loads(FIXTURE.read_text())
    b, V = np.array(fx["betahat"]), np.array(fx["sigma"])
    for m, (lb, ub) in list(fx["published_sd_flci"].items())[:4]:
        ours = honest_ci(b, V, 5, 2, "smoothness", float(m), np.array([1.0, 0.0]), 0.05, "FLCI")
        assert np.round(ours, 3).tolist() == [lb, ub], (m, ours)
    lv = np.array([0.5, 0.5])
    theirs = create_sensitivity_results_sm(b, V, 5, 2, method="FLCI", m_vec=[0.0, 0.01], l_vec=lv)
    ours = [honest_ci(b, V, 5, 2, "smoothness", m, lv, 0.05, "FLCI") for m in (0.0, 0.01)]
    # moderndid's conic solver stops within ~1e-5 of the optimum that the exact minimum-variance estimator hits
    np.testing.assert_allclose(np.array(ours), theirs.select(["lb", "ub"]).to_numpy(), atol=1e-5)


def test_smoothness_defaults_to_flci():
    res = honest(_demo_es(), method="smoothness", M=[0, 0.01])
    assert res.ci_method == "FLCI" and res.tidy()["method"].tolist() == ["original", "FLCI", "FLCI"]
    with pytest.raises(SpecificationError, match="FLCI"):
        honest(_demo_es(), ci="FLCI")
