"""Verdicts on a user's file speak about that file (issue 24): never "holds", labels from the user's columns, a
heterogeneity-robust primary check, a pre-trend non-rejection reported but not counted, a non-rejection "not
established", and a mechanism check that says only "treatment moves the channel" with Holm's correction."""

import importlib.util
import json

import numpy as np
import pytest

from econ import datasets
from econ.claims import runner, schema, verdict
from econ.claims.registry import Check
from econ.claims.registry import load as load_registry

MPDTA_MAP = "unit=countyreal,time=year,cohort=first.treat,outcome=lemp,psm_covariates=lpop"
ON = "f.csv (SHA-256 abc)"


def _r(name, value, role="primary", rule="less_than", expected=0.0, scope=""):
    return verdict.evaluate(Check(name, "q", expected, 0.0, rule, role, "user data", "why", scope), value)


def test_user_verdicts_never_say_holds():
    assert not any("hold" in label for label in verdict.USER_VERDICTS)
    ok = verdict.decide([_r("effect", -1.0), _r("effect_pvalue", 0.01, expected=0.05)], on=ON)
    assert ok.label == verdict.CONSISTENT and str(ok).startswith("consistent with the claim's direction on f.csv")
    assert "effect = -1" in ok.qualifier and "effect_pvalue = 0.01" in ok.qualifier
    # the right sign but no rejection: not established (low power is no evidence against the claim)
    weak = verdict.decide([_r("effect", -1.0), _r("effect_pvalue", 0.3, expected=0.05)], on=ON)
    assert weak.label == verdict.NOT_ESTABLISHED
    # the estimate goes the other way
    wrong = verdict.decide([_r("effect", 1.0), _r("effect_pvalue", 0.9, expected=0.05)], on=ON)
    assert wrong.label == verdict.NOT_CONSISTENT
    # a test alone (K3) that does not reject: "not established", never "does not hold"
    k3 = verdict.decide([_r("heterogeneity_pvalue", 0.1546, expected=0.05)], on=ON)
    assert k3.label == verdict.NOT_ESTABLISHED
    assert verdict.decide([_r("heterogeneity_pvalue", 0.01, expected=0.05)], on=ON).label == verdict.CONSISTENT_TEST
    assert verdict.decide([_r("effect", None)], on=ON).label == verdict.NOT_TESTABLE_ON


def test_reported_checks_are_shown_and_never_counted():
    pre = _r("pretrend_pvalue", 0.18, role="reported", rule="greater_than", expected=0.05)
    assert pre.status == verdict.REPORTED and "not counted" in pre.detail
    bad_pre = _r("pretrend_pvalue", 0.001, role="reported", rule="greater_than", expected=0.05)
    effect = [_r("effect", -1.0), _r("effect_pvalue", 0.01, expected=0.05)]
    assert verdict.decide(effect + [pre], on=ON).label == verdict.decide(effect + [bad_pre], on=ON).label
    assert "pretrend_pvalue" in verdict.decide(effect + [pre], on=ON).reason
    # on bundled data too: a reported check neither makes nor breaks "reproduced"
    within = verdict.evaluate(Check("a", "q", 1.0, 0.1, "within", "primary", "bundled data"), 1.0)
    assert verdict.decide([within, bad_pre]).label == verdict.REPRODUCED


def test_mechanism_checks_say_only_what_was_tested():
    first = [_r(f"c{i}_pvalue", p, expected=0.05, scope="first_link") for i, p in enumerate([0.01, 0.4, None])]
    v = verdict.decide(first, on=ON)
    assert v.label == verdict.MOVES_CHANNEL and "1 of 3 channel" in v.qualifier
    assert "channel -> outcome" in v.qualifier and "not" in v.qualifier
    none = verdict.decide([_r("c_pvalue", 0.4, expected=0.05, scope="first_link")], on=ON)
    assert none.label == verdict.NOT_ESTABLISHED


def test_holm_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    spec = importlib.util.spec_from_file_location("k4", runner_dir() / "K4_mechanisms.py")
    k4 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(k4)
    p = {"a": 0.012, "b": 0.04, "c": 0.03, "d": 0.5}
    ours = k4.holm(p)
    ref = multitest.multipletests(list(p.values()), method="holm")[1]
    np.testing.assert_allclose([ours[k] for k in p], ref, rtol=0, atol=1e-15)
    # three unadjusted 5% tests: the smallest must be below 0.05 / 3 to pass
    assert k4.holm({"a": 0.03, "b": 0.5, "c": 0.6})["a"] > 0.05


def runner_dir():
    from econ.claims.registry import replication_dir

    return replication_dir()


def test_k1_on_the_real_mpdta_file(tmp_path):
    path = tmp_path / "mpdta.csv"
    path.write_bytes(datasets.data_path("mpdta.csv").read_bytes())
    rec = runner.run_claims(["K1"], data=path, mapping=schema.parse_map(MPDTA_MAP), out=tmp_path / "out",
                            registry=load_registry(), progress=False, quiet=True,
                            options={"K1": {"placebo_draws": 19}})[0]
    assert rec["status"] == "ok", rec.get("traceback")
    text = json.dumps({k: rec[k] for k in ("verdict", "checks", "notes", "tables", "figures")})
    assert "hold" not in rec["verdict"]["text"] and "urban/rural" not in text
    checks = {c["name"]: c for c in rec["checks"]}
    primary = sorted(n for n, c in checks.items() if c["role"] == "primary")
    assert primary == ["cs_effect", "cs_pvalue_less"]  # heterogeneity-robust primary, TWFE a comparison
    assert checks["twfe_effect"]["role"] == "supporting"
    assert checks["pretrend_pvalue"]["status"] == verdict.REPORTED
    # R did 2.1.2, att_gt(lemp ~ 1, control_group = "nevertreated"), aggte(type = "simple"): -0.0400
    assert checks["cs_effect"]["value"] == pytest.approx(-0.0400, abs=5e-5)
    assert rec["verdict"]["label"] == verdict.CONSISTENT
    assert "cs_effect = -0.03995" in rec["verdict"]["text"]
    assert rec["notes"][0].startswith("Primary: Callaway-Sant'Anna overall ATT of treatment on lemp = -0.0400")
