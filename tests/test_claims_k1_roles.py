"""K1's ``dose`` and ``group`` roles (issue 19 item 6, issue 20 item 6), through ``econ replicate``.

* ``--map group=rural`` on household microdata drawn by :func:`econ.simulate.household_survey` (known truth: rural
  households gain ``tau(e)``, so the urban-rural gap narrows by the true ATT): K1 runs the staggered triple
  difference, the verdict is about the gap, and the truth lies in the estimate's 95% interval (balanced panel and
  repeated cross-sections).
* ``--map dose=dose`` on a panel drawn by :func:`econ.simulate.draw_dose_panel` (known ATT^o and ACRT^o): K1 reports
  the dose-response next to the binary estimates, whose checks and verdict are unchanged.
* Bad input: a 0/1 or negative dose, a group varying within a unit or with more than two values, ... -> exit status
  2 and a message naming the column and the units.
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from econ.claims import runner, schema, verdict
from econ.cli import main
from econ.errors import SpecificationError

HH_MAP = ("unit=household,time=year,cohort=cohort,outcome=log_income,group=rural,cluster=prefecture,"
          "sampling_weight=weight")
Z = stats.norm.ppf(0.975)


def _household_csv(tmp_path, design, seed=0, size=(40, 20)):
    from econ.simulate import household_survey

    sim = household_survey(n_prefectures=size[0], households=size[1], design=design, seed=seed)
    path = tmp_path / f"households_{design}.csv"
    sim.data.to_csv(path, index=False)
    return sim, path


# repeated cross-sections draw new households every year, so prefecture and household effects do not difference
# out: the same precision needs a larger survey (80 x 40 households a year). ddd_gt itself is checked against
# moderndid in test_ddd_gt.py; on 40 x 20 surveys its 95% interval covered the truth in 36-38 of 40 draws.
SIZES = {"panel": ((40, 20), 0), "rcs": ((80, 40), 0)}


@pytest.mark.parametrize("design", list(SIZES))
def test_household_file_gets_the_triple_difference_and_a_verdict_on_the_gap(design, tmp_path, capsys):
    size, seed = SIZES[design]
    sim, path = _household_csv(tmp_path, design, seed=seed, size=size)
    out = tmp_path / "out"
    code = main(["replicate", "K1", "--data", str(path), "--map", HH_MAP, "--out", str(out), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    rec = json.loads((out / "K1" / "result.json").read_text(encoding="utf-8"))
    ddd = rec["numbers"]["ddd"]
    assert ddd["sample"] == design and ddd["cluster"] == "prefecture" and ddd["control"] == "never"
    assert ddd["sampling_weight"] == "weight"
    from econ.did import ddd_gt

    frame = pd.read_csv(path)
    ref = ddd_gt(frame, "log_income", "household", "year", "cohort", "rural", weights="weight",
                 vcov={"CL1": "prefecture"}, panel=design == "panel").aggregate("simple")
    assert ddd["gap_effect"] == pytest.approx(-ref.overall_att, rel=1e-10)
    assert ddd["se"] == pytest.approx(ref.overall_se, rel=1e-10)
    truth_gap = -sim.truth["att_overall"]  # designation raises rural income: the gap narrows by the ATT
    assert truth_gap < 0
    assert ddd["conf_low"] <= truth_gap <= ddd["conf_high"], (ddd, truth_gap)
    assert ddd["gap_effect"] == pytest.approx(-ddd["att_eligible"])
    assert ddd["conf_high"] - ddd["conf_low"] == pytest.approx(2 * Z * ddd["se"])
    checks = {c["name"]: c for c in rec["checks"]}
    assert checks["cs_effect"]["value"] == pytest.approx(ddd["gap_effect"])
    assert checks["cs_effect"]["status"] == "pass" and checks["cs_pvalue_less"]["status"] == "pass"
    assert checks["twfe_effect"]["status"] == "untestable" and "household design" in checks["twfe_effect"]["detail"]
    assert rec["verdict"]["label"] == verdict.CONSISTENT
    assert rec["verdict"]["text"].startswith(f"consistent with the claim's direction on {path.name}")
    assert {"ddd_overall", "ddd_event_study", "ddd_group_time"} <= set(rec["tables"])
    assert (out / "K1" / "ddd_event_study.png").is_file()
    assert any("urban-rural gap" in n for n in rec["notes"])


def test_household_panel_estimate_matches_ddd_gt_and_detects_the_design(tmp_path):
    """The claim's gap effect is minus ddd_gt's simple ATT on the same data; an unbalanced panel is read as
    repeated cross-sections clustered by household."""
    from econ.claims.household import sample_design
    from econ.did import ddd_gt

    sim, path = _household_csv(tmp_path, "unbalanced", seed=0)
    frame = pd.read_csv(path)
    assert sample_design(frame, "household", "year") == "unbalanced"
    mapping = schema.parse_map("unit=household,time=year,cohort=cohort,outcome=log_income,group=rural")
    rec = runner.run_claims(["K1"], data=path, mapping=mapping, out=tmp_path / "o", progress=False, quiet=True)[0]
    assert rec["status"] == "ok", rec.get("traceback")
    ddd = rec["numbers"]["ddd"]
    ref = ddd_gt(frame, "log_income", None, "year", "cohort", "rural", panel=False,
                 vcov={"CL1": "household"}).aggregate("simple")
    assert ddd["sample"] == "unbalanced" and ddd["cluster"] == "household"
    assert ddd["gap_effect"] == pytest.approx(-ref.overall_att, rel=1e-10)
    assert ddd["se"] == pytest.approx(ref.overall_se, rel=1e-10)
    assert ddd["conf_low"] <= -sim.truth["att_overall"] <= ddd["conf_high"]
    assert any("map the place as cluster=" in n for n in rec["notes"])


def test_dose_response_is_reported_next_to_the_binary_estimates(tmp_path):
    from econ.simulate import draw_dose_panel

    sim = draw_dose_panel(n_units=240, n_periods=5, slope=-0.5, curvature=-0.25, sigma=0.5, seed=0)
    path = tmp_path / "dose_panel.csv"
    sim.data.to_csv(path, index=False)
    base = "unit=unit,time=time,cohort=cohort,outcome=y"
    opts = {"K1": {"placebo_draws": 19, "dose_draws": 99}}
    rec = runner.run_claims(["K1"], data=path, mapping=schema.parse_map(base + ",dose=dose"), out=tmp_path / "o",
                            progress=False, quiet=True, options=opts)[0]
    assert rec["status"] == "ok", rec.get("traceback")
    dose = rec["numbers"]["dose"]
    assert dose["method"] == "spline" and dose["control"] == "never"
    from econ.did import cont_did

    ref = cont_did(pd.read_csv(path), "y", "unit", "time", "cohort", dose="dose", n_draws=0)
    for name, truth in (("ATT^o", sim.att_o), ("ACRT^o", sim.acrt_o)):
        est = dose["overall"][name]
        assert est["estimate"] == pytest.approx(ref.overall[name], rel=1e-10)
        assert est["se"] == pytest.approx(ref.overall_se[name], rel=1e-10)
        # three standard errors, as the claims' pipeline checks (with the house seed ATT^o is 2.1 s.e. off; in 40
        # draws of this design the 95% interval covered ATT^o 37 times and ACRT^o 36 times)
        assert abs(est["estimate"] - truth) <= 3 * est["se"], (name, est, truth)
    assert {"dose_overall", "dose_response"} <= set(rec["tables"])
    assert {"dose_att", "dose_acrt"} <= set(rec["figures"]) and (tmp_path / "o" / "K1" / "dose_att.png").is_file()
    curve = pd.read_csv(tmp_path / "o" / "K1" / "dose_response.csv")
    assert set(curve["target"]) == {"att", "acrt"}
    # the verdict is about the binary claim: same checks, and cs_effect is the binary CS ATT (negative here)
    checks = {c["name"]: c for c in rec["checks"]}
    assert checks["cs_effect"]["value"] == pytest.approx(rec["numbers"]["robust"]["overall"]["cs"]["estimate"])
    assert rec["verdict"]["label"] == verdict.CONSISTENT
    assert any(n.startswith("Dose-response") and "not counted in the verdict" in n for n in rec["notes"])


def test_help_lists_the_new_roles(capsys):
    with pytest.raises(SystemExit):
        main(["replicate", "--help"])
    text = capsys.readouterr().out
    for role in ("dose", "group", "cluster"):
        assert f"\n  {role} " in text
    assert "urban-rural gap" in text and "0/1 dummy" in text


def _panel(n=12, seed=0):
    rng = np.random.default_rng(seed)
    cohort = np.where(np.arange(n) < n // 3, 0, np.where(np.arange(n) % 2, 2003, 2004))
    rows = [{"id": i, "year": t, "g": int(cohort[i]), "y": rng.normal(), "d": 0.5 + i / n, "rural": i % 2,
             "pref": i // 4} for i in range(n) for t in range(2001, 2006)]
    return pd.DataFrame(rows)


CASES = {
    "dose_dummy": (lambda f: f.assign(d=(f["g"] > 0).astype(int)), "dose=d",
                   "dose column 'd' is a 0/1 dummy, not a dose"),
    "dose_negative": (lambda f: f.assign(d=np.where(f["id"] == 7, -1.0, f["d"])), "dose=d",
                      "dose column 'd' must not be negative; 5 row(s) are: id=7, year=2001"),
    "dose_varies": (lambda f: f.assign(d=f["d"] + (f["year"] == 2005) * (f["id"] == 9)), "dose=d",
                    "dose column 'd' must be fixed within id: it varies in 1 unit(s): 9"),
    "dose_single_level": (lambda f: f.assign(d=np.where(f["g"] > 0, 2.5, 0.0)), "dose=d",
                          "takes a single positive value (2.5) among treated units"),
    "dose_zero_treated": (lambda f: f.assign(d=np.where(f["id"] == 10, 0.0, f["d"])), "dose=d",
                          "is 0 for treated units"),
    "group_varies": (lambda f: f.assign(rural=np.where((f["id"].isin([3, 8])) & (f["year"] > 2002), 1 - f["rural"],
                                                       f["rural"])), "group=rural",
                     "group column 'rural' must be fixed within id: it varies in 2 unit(s): 3, 8"),
    "group_three": (lambda f: f.assign(rural=f["id"] % 3), "group=rural",
                    "group column 'rural' has 3 values (0, 1, 2); it must have two"),
    "group_labels": (lambda f: f.assign(rural=np.where(f["rural"] == 1, "rural", "urban")), "group=rural",
                     "has values 'rural', 'urban'; it must be 0/1"),
    "group_one_value": (lambda f: f.assign(rural=1), "group=rural", "is 1 in every row"),
    "dose_and_group": (lambda f: f, "dose=d,group=rural", "cannot be combined"),
    "cluster_alone": (lambda f: f, "cluster=pref", "cluster=pref applies to K1's household design only"),
    "weight_alone": (lambda f: f.assign(w=1.0), "sampling_weight=w",
                     "sampling_weight=w applies to K1's household design only"),
    "weight_negative": (lambda f: f.assign(w=np.where(f["id"] == 4, -2.0, 1.0)), "group=rural,sampling_weight=w",
                        "sampling_weight column 'w' is negative or infinite in 5 row(s): id=4, year=2001"),
    "weight_varies": (lambda f: f.assign(w=1.0 + (f["id"] == 5) * (f["year"] == 2003)),
                      "group=rural,sampling_weight=w", "sampling_weight column 'w' must be fixed within id: it "
                                                       "varies in 1 unit(s): 5"),
    "cluster_varies": (lambda f: f.assign(pref=f["pref"] + (f["year"] == 2005) * (f["id"] == 2)),
                       "group=rural,cluster=pref", "cluster column 'pref' must be fixed within id: it varies in 1 "
                                                   "unit(s): 2"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_dose_and_group_columns_are_refused_naming_them(case, tmp_path, capsys):
    change, extra, message = CASES[case]
    path = tmp_path / "p.csv"
    change(_panel()).to_csv(path, index=False)
    code = main(["replicate", "K1", "--data", str(path), "--map", f"unit=id,time=year,cohort=g,outcome=y,{extra}",
                 "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err


def test_other_claims_refuse_the_k1_roles(tmp_path):
    path = tmp_path / "p.csv"
    _panel().to_csv(path, index=False)
    mapping = schema.parse_map("unit=id,time=year,cohort=g,outcome=y,firms=y,dose=d")
    rec = runner.run_claims(["K4"], data=path, mapping=mapping, out=tmp_path / "o", progress=False, quiet=True)[0]
    assert rec["status"] != "ok" and "dose=d: these roles are used by K1 only" in rec["error"]
    with pytest.raises(SpecificationError, match="unknown role"):
        schema.parse_map("dosage=d")
