"""Claims as commands: registry validation, verdict rules, every claim script on the bundled data, user panels,
``econ verify`` catching a tampered expected file, and the paper carrying every verdict."""

import json
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from econ.claims import paper, runner, schema, verdict
from econ.claims.registry import Check, RegistryError, parse
from econ.claims.registry import load as load_registry
from econ.claims.verify import compare, verify
from econ.errors import EconError, SpecificationError

# reduced sizes so the whole file runs in seconds (registered sizes are used by `econ replicate` / verify)
QUICK = {"D6": {"permutations": 199}, "K1": {"placebo_draws": 99},
         "M2": {"replications": 16, "power_replications": 4}}


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def results(registry, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    records = runner.run_claims(out=out, registry=registry, progress=False, quiet=True, options=QUICK)
    return out, {r["id"]: r for r in records}


# ------------------------------------------------------------------------------------------------ registry
def test_registry_loads_with_a_script_per_claim(registry):
    assert registry.ids == ["D1", "D2", "D3", "D4", "D5", "D6", "K1", "K2", "K3", "K4", "M2"]
    for claim in registry:
        assert registry.script_path(claim).is_file()
        assert any(s.quote for s in claim.sources) or claim.quote_note
    # quotations are the exact sentences recorded in the shared sources file (shared/ sits beside the clone, as in
    # CI); a checkout without it skips only this part
    sources = Path(__file__).resolve().parents[2] / "shared" / "sources" / "claims-sources.md"
    if sources.is_file():
        text = sources.read_text(encoding="utf-8")
        for claim in registry:
            for s in claim.sources:
                if s.quote and s.paper != "BBC_LISTS":
                    assert s.quote.replace('\\"', '"') in text.replace("\\", ""), (claim.id, s.quote)


def _raw(registry):
    return tomllib.loads(registry.path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["claims"][0].pop("statement"), r"D1: missing field\(s\) \['statement'\]"),
    (lambda r: r["claims"][0]["checks"][0].update(rule="about"),
     r"D1: checks\[0\] \(urban_income_2022\): rule 'about'"),
    (lambda r: r["claims"][0]["checks"][0].update(tolerance=-1), r"tolerance must be >= 0"),
    (lambda r: r["claims"][0]["checks"][0].update(expected="49k"), r"expected must be a number"),
    (lambda r: r["claims"][4]["checks"][0].update(tolerance=1), r"D5: .*rule 'greater_than' takes no tolerance"),
    (lambda r: r["claims"][1].update(id="D1"), r"D1: duplicate claim id"),
    (lambda r: r["claims"][0]["sources"][0].update(paper="NOPE"), r"D1: sources\[0\]\.paper 'NOPE'"),
    (lambda r: r["claims"][6].pop("pipeline_checks"), r"K1: a causal claim needs"),
    (lambda r: r["claims"][0].update(kind="causal"), r"D1: a causal claim's id must start with 'K'"),
    (lambda r: [s.update(quote="") for s in r["claims"][0]["sources"]], r"D1: no source has a quote"),
    (lambda r: r["claims"][0]["checks"].append(dict(r["claims"][0]["checks"][0])), r"duplicate check name"),
    (lambda r: [c.update(role="supporting") for c in r["claims"][0]["checks"]], r"D1: at least one check .*primary"),
])
def test_registry_validation_errors_name_claim_and_field(registry, mutate, message):
    raw = _raw(registry)
    mutate(raw)
    with pytest.raises(RegistryError, match=message):
        parse(raw, registry.path)


def test_registry_reports_all_problems_and_missing_scripts(registry, tmp_path):
    raw = _raw(registry)
    raw["claims"][0]["checks"][0]["rule"] = "about"
    raw["claims"][1]["kind"] = "opinion"
    with pytest.raises(RegistryError) as err:
        parse(raw, registry.path)
    assert "2 problem(s)" in str(err.value)
    (tmp_path / "claims.toml").write_text(registry.path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(RegistryError, match="script D1_income_levels_2022.py not found"):
        load_registry(tmp_path / "claims.toml")
    (tmp_path / "bad.toml").write_text("schema_version = [", encoding="utf-8")
    with pytest.raises(RegistryError, match="not valid TOML"):
        load_registry(tmp_path / "bad.toml")


# ------------------------------------------------------------------------------------------------ verdicts
def _check(name="x", rule="within", expected=1.0, tol=0.1, role="primary"):
    return Check(name, "q", expected, tol, rule, role, "bundled data")


def test_evaluate_rules_and_boundaries():
    assert verdict.evaluate(_check(), 1.1).status == "pass"  # on the boundary
    assert verdict.evaluate(_check(), 1.1001).status == "fail"
    assert verdict.evaluate(_check(rule="greater_than", expected=20, tol=0), 20).status == "fail"
    assert verdict.evaluate(_check(rule="less_than", expected=0, tol=0), -1e-9).status == "pass"
    res = verdict.evaluate(_check(), float("nan"))
    assert res.status == "untestable" and "NaN" in res.detail
    res = verdict.evaluate(_check(), None, "no 2012 figure")
    assert res.status == "untestable" and "no 2012 figure" in res.detail


def test_decide_rules():
    p = lambda v, role="primary", name="a": verdict.evaluate(_check(name, role=role), v)  # noqa: E731
    assert verdict.decide([p(1.0), p(1.05, name="b")]).label == verdict.REPRODUCED
    assert verdict.decide([p(3.0), p(4.0, name="b")]).label == verdict.CONTRADICTED
    assert verdict.decide([p(1.0), p(4.0, name="b")]).label == verdict.PARTLY
    assert verdict.decide([p(None), p(None, name="b")]).label == verdict.NOT_TESTABLE
    assert verdict.decide([p(1.0), p(None, name="b")]).label == verdict.PARTLY
    assert verdict.decide([p(1.0), p(9.0, "supporting", "s")]).label == verdict.PARTLY
    assert verdict.decide([p(1.0), p(None, "supporting", "s")]).label == verdict.REPRODUCED
    assert verdict.decide([p(4.0), p(None, "supporting", "s")]).label == verdict.CONTRADICTED
    ok = verdict.decide_simulated([p(1.0)])
    bad = verdict.decide_simulated([p(1.0), p(5.0, name="b")])
    assert ok.label == bad.label == verdict.NOT_TESTABLE
    assert ok.qualifier == verdict.PIPELINE_OK and bad.qualifier == verdict.PIPELINE_FAILED
    assert "b:" in bad.reason


# ------------------------------------------------------------------------------------------------ claims
def _checks(rec):
    return {c["name"]: c for c in rec["checks"] + rec["pipeline_checks"]}


def test_every_claim_runs_and_writes_outputs(results, registry):
    out, recs = results
    assert set(recs) == set(registry.ids)
    for cid, rec in recs.items():
        assert rec["status"] == "ok", rec.get("traceback")
        assert rec["verdict"]["label"] in verdict.VERDICTS
        saved = json.loads((out / cid / "result.json").read_text(encoding="utf-8"))
        assert saved["verdict"] == rec["verdict"] and "numpy" in saved["versions"]
        for meta in rec["tables"].values():
            assert {"md", "tex"} <= set(meta)
            for kind in set(meta) - {"caption"}:
                assert (out / cid / meta[kind]).stat().st_size > 0
        for meta in rec["figures"].values():
            assert (out / cid / meta["png"]).read_bytes()[:4] == b"\x89PNG"


def test_descriptive_verdicts_and_numbers(results):
    _, recs = results
    d1 = _checks(recs["D1"])
    assert recs["D1"]["verdict"]["label"] == verdict.REPRODUCED
    assert d1["urban_income_2022"]["value"] == 49283 and d1["rural_income_2022"]["value"] == 20133
    assert d1["ratio_2022"]["value"] == pytest.approx(49283 / 20133)
    assert recs["D2"]["verdict"]["label"] == verdict.REPRODUCED
    assert _checks(recs["D2"])["rural_growth_pct_2022"]["value"] == pytest.approx(100 * (20133 / 18931 - 1))
    d3 = recs["D3"]
    assert d3["verdict"]["label"] == verdict.NOT_TESTABLE
    assert "2012 national rural per-capita DISPOSABLE income" in d3["checks"][0]["detail"]
    assert d3["numbers"]["implied_ratio_2012"] == pytest.approx(49283 / 20133 + 0.43)
    d4 = _checks(recs["D4"])
    assert recs["D4"]["verdict"]["label"] == verdict.INTERNAL_BAD  # source figures only; one does not add up
    assert d4["ratio_read_as_stated"]["value"] == pytest.approx(136617 / 61811)
    assert d4["ratio_read_as_stated"]["status"] == "fail" and d4["excess_over_lishui"]["status"] == "pass"
    d5 = _checks(recs["D5"])
    assert recs["D5"]["verdict"]["label"] == verdict.INTERNAL_BAD  # the two pairs disagree; no data check ran
    assert d5["gap_pp_first_pair"]["value"] == pytest.approx(21.2) and d5["gap_pp_second_pair"]["status"] == "pass"
    assert d5["rural_difference_between_pairs"]["value"] == pytest.approx(3.1)
    d6 = recs["D6"]
    assert d6["verdict"]["label"] == verdict.REPRODUCED
    assert d6["numbers"]["entities_by_cohort"] == {"2014": 39, "2015": 39, "2016": 39}
    assert d6["numbers"]["prefectures_designated_whole"] == 112
    assert sum(d6["numbers"]["region_designated"].values()) == 112


def test_causal_claims_on_demo_are_not_testable_but_pipeline_verified(results):
    _, recs = results
    for cid in ("K1", "K2", "K3", "K4"):
        rec = recs[cid]
        assert rec["simulated"] and rec["verdict"]["label"] == verdict.NOT_TESTABLE
        assert rec["verdict"]["qualifier"] == verdict.PIPELINE_OK, rec["verdict"]["reason"]
        assert all(c["status"] == "untestable" for c in rec["checks"])
    assert recs["K2"]["numbers"]["truth"]["spillover"] < 0
    robust = recs["K1"]["numbers"]["robust"]
    assert set(robust["overall"]) == {"twfe", "cs", "sa", "imputation"} and robust["control_group"] == "never-treated"
    assert 0 < robust["bacon"]["forbidden_share"] < 1
    assert robust["bacon"]["twfe"] == pytest.approx(robust["overall"]["twfe"]["estimate"], rel=1e-8)
    assert "comparison" in recs["K1"]["figures"]


def test_method_claim_reduced_run(results):
    _, recs = results
    num = recs["M2"]["numbers"]
    assert num["replications"] == QUICK["M2"]["replications"]
    # the permutation test is exact: the null rejection rate stays within 3 binomial s.e. of alpha, and the
    # alternative (a real effect) is rejected more often than the null
    alpha, reps = num["alpha"], num["replications"]
    assert num["size"] <= alpha + 3 * (alpha * (1 - alpha) / reps) ** 0.5
    assert num["power"] > num["size"] + 0.2
    study = num["power_study"]
    assert study["replications"] == QUICK["M2"]["power_replications"]
    assert set(study["designs"]) == {str(n) for n in study["n_units"]} and study["alternative_peak_effect"] == 0.03
    best = study["smallest_design_reaching_target"]
    powers = {int(n): d["power_at_alternative"] for n, d in study["designs"].items()}
    if best is None:
        assert max(powers.values()) < study["target_power"]
    else:  # the smallest grid design whose power reaches the target, not assumed
        assert best["n_units"] == min(n for n, p in powers.items() if p >= study["target_power"])


@pytest.fixture(scope="module")
def user_panel(tmp_path_factory):
    from econ.simulate import china_cities_demo

    frame = china_cities_demo().data.rename(columns={
        "prefecture_code": "city_code", "cohort": "bbc_year", "urban_income": "urb", "rural_income": "rur",
        "region": "area", "new_firms_per_10k": "firms"}).drop(columns=["log_income_ratio", "treated"])
    frame["city_code"] = frame["city_code"].astype(int)
    path = tmp_path_factory.mktemp("user") / "mycities.csv"
    frame.to_csv(path, index=False)
    return path


MAP = "unit=city_code,time=year,cohort=bbc_year,urban_income=urb,rural_income=rur,region=area,firms=firms"


def test_causal_claims_on_a_user_panel_get_real_verdicts(registry, user_panel, tmp_path):
    records = runner.run_claims(["K1", "K2", "K4"], data=user_panel, mapping=schema.parse_map(MAP),
                                out=tmp_path, registry=registry, progress=False, quiet=True, options=QUICK)
    recs = {r["id"]: r for r in records}
    for rec in recs.values():
        assert rec["status"] == "ok", rec.get("traceback")
        assert not rec["simulated"] and rec["pipeline_checks"] == []
    # on a user's panel the verdict speaks about that file: never "reproduced" or "holds"
    assert recs["K1"]["verdict"]["label"] == verdict.CONSISTENT  # the planted effect is large and negative
    assert recs["K1"]["verdict"]["text"].startswith("consistent with the claim's direction on mycities.csv (SHA-256 ")
    assert recs["K2"]["verdict"]["label"] == verdict.CONSISTENT
    assert _checks(recs["K1"])["psm_effect"]["status"] == "untestable"  # psm_covariates not mapped
    assert "psm_covariates" in _checks(recs["K1"])["psm_effect"]["detail"]
    assert _checks(recs["K4"])["new_firms_per_10k_pvalue_greater"]["status"] == "pass"


def test_user_panel_errors(registry, user_panel, tmp_path):
    with pytest.raises(EconError, match="--data applies to the causal claims only; D1"):
        runner.run_claims(["D1", "K1"], data=user_panel, out=tmp_path, registry=registry, progress=False, quiet=True)
    with pytest.raises(SpecificationError, match="unknown role 'bogus'"):
        schema.parse_map("unit=city_code,bogus=x")
    with pytest.raises(SpecificationError, match="not role=column"):
        schema.parse_map("unit")
    assert schema.parse_map("controls=a+b,unit=c") == {"controls": ["a", "b"], "unit": "c"}
    with pytest.raises(SpecificationError, match=r"missing: time, outcome \(or urban_income \+ rural_income\)"):
        runner.run_claims(["K1"], data=user_panel, mapping={"unit": "city_code", "cohort": "bbc_year"},
                          out=tmp_path, registry=registry, progress=False, quiet=True)


def _edges(path, extra=()):
    """The bundled contiguity among the user panel's units, as an edge list of the user's (integer) ids."""
    import pandas as pd

    from econ import datasets

    frame = pd.read_csv(path)
    codes = sorted(frame["city_code"].astype(str).str.zfill(6).unique())
    m = datasets.load_weights("china_prefecture_contiguity").subset(codes)
    coo = m.matrix.tocoo()
    keep = coo.row < coo.col
    edges = pd.DataFrame({"source": [int(m.ids[i]) for i in coo.row[keep]],
                          "target": [int(m.ids[j]) for j in coo.col[keep]]})
    return pd.concat([edges, pd.DataFrame(list(extra), columns=["source", "target"])], ignore_index=True)


def test_k2_takes_the_users_own_weights(registry, user_panel, tmp_path):
    edges = tmp_path / "edges.csv"
    _edges(user_panel).to_csv(edges, index=False)
    kw = dict(data=user_panel, mapping=schema.parse_map(MAP), registry=registry, progress=False, quiet=True)
    own = runner.run_claims(["K2"], out=tmp_path / "own", weights=edges, **kw)[0]
    bundled = runner.run_claims(["K2"], out=tmp_path / "bundled", **kw)[0]
    assert own["status"] == "ok", own.get("traceback")
    # the same links given as a file give the same numbers as the bundled contiguity
    assert own["numbers"]["spillover"] == pytest.approx(bundled["numbers"]["spillover"], rel=1e-10)
    assert own["numbers"]["weights"]["sha256"] and own["numbers"]["weights"]["edges"] == len(_edges(user_panel))
    assert own["verdict"]["label"] == verdict.CONSISTENT

    bad = tmp_path / "bad.csv"
    _edges(user_panel, extra=[(999999, 110000)]).to_csv(bad, index=False)
    rec = runner.run_claims(["K2"], out=tmp_path / "bad", weights=bad, **kw)[0]
    assert rec["status"] != "ok" and "999999" in rec["error"] and "not units of the panel" in rec["error"]
    (tmp_path / "three.csv").write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    rec = runner.run_claims(["K2"], out=tmp_path / "bad", weights=tmp_path / "three.csv", **kw)[0]
    assert "needs columns 'source' and 'target'" in rec["error"]
    with pytest.raises(EconError, match="--weights applies together with --data"):
        runner.run_claims(["K2"], out=tmp_path / "x", weights=edges, registry=registry, progress=False, quiet=True)
    with pytest.raises(EconError, match="--weights is used by K2 only"):
        runner.run_claims(["K1"], out=tmp_path / "x", weights=edges, **kw)


# ------------------------------------------------------------------------------------------------ verify
def test_verify_passes_then_catches_tampering(registry, tmp_path, capsys):
    expected = tmp_path / "expected"
    records = runner.run_claims(["D1", "D4"], out=tmp_path / "r", registry=registry, progress=False, quiet=True)
    runner.write_expected(records, expected)
    assert all(o.ok for o in verify(["D1", "D4"], expected_dir=expected, registry=registry, progress=False,
                                    results=tmp_path / "r"))

    tampered = tmp_path / "tampered"
    shutil.copytree(expected, tampered)
    data = json.loads((tampered / "D1.json").read_text(encoding="utf-8"))
    data["numbers"]["ratio_2022"] += 1e-3
    (tampered / "D1.json").write_text(json.dumps(data), encoding="utf-8")
    outcome = {o.id: o for o in verify(["D1", "D4"], expected_dir=tampered, registry=registry, progress=False,
                                       results=tmp_path / "r")}
    assert not outcome["D1"].ok and outcome["D4"].ok
    assert any("ratio_2022" in m for m in outcome["D1"].mismatches)
    assert "FAIL  D1" in capsys.readouterr().out


def test_compare_flags_verdict_status_and_missing_numbers():
    base = {"verdict": "reproduced", "qualifier": "", "checks": {"a": {"status": "pass", "value": 1.0}},
            "numbers": {"x": 1.0, "s": "text"}}
    assert compare(base, json.loads(json.dumps(base)), 1e-6, 1e-9) == []
    other = json.loads(json.dumps(base))
    other["verdict"] = "contradicted"
    other["checks"]["a"]["status"] = "fail"
    other["numbers"]["y"] = 2.0
    other["numbers"]["s"] = "other"
    diffs = compare(base, other, 1e-6, 1e-9)
    assert len(diffs) == 4
    assert compare(base, {**base, "numbers": {"x": 1.0 + 1e-8, "s": "text"}}, 1e-6, 1e-9) == []


def test_cli_replicate_and_verify_exit_codes(tmp_path):
    from econ.cli import main

    assert main(["replicate", "D2", "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    assert (tmp_path / "r" / "D2" / "result.json").is_file()
    empty = tmp_path / "none"
    empty.mkdir()
    assert main(["verify", "D2", "--expected", str(empty), "--no-progress"]) == 1
    assert main(["replicate", "ZZ9", "--out", str(tmp_path / "r")]) == 2  # unknown claim: clear error


def test_committed_expected_files_cover_the_registry(registry):
    expected = registry.scripts_dir / "expected"
    for claim in registry:
        data = json.loads((expected / f"{claim.id}.json").read_text(encoding="utf-8"))
        assert data["id"] == claim.id and data["verdict"] in verdict.VERDICTS
        assert {c.name for c in claim.checks + claim.pipeline_checks} == set(data["checks"])


# ------------------------------------------------------------------------------------------------ paper
def test_paper_contains_every_verdict_and_no_missing_item(results, registry, tmp_path):
    out, recs = results
    path, missing = paper.build(out, out=tmp_path / "paper.html", registry=registry)
    assert missing == []
    page = path.read_text(encoding="utf-8")
    for claim in registry:
        assert f"id='claim-{claim.id}'" in page
        label = recs[claim.id]["verdict"]["label"]
        card = page.split(f"id='claim-{claim.id}'")[1].split("</section>")[0]
        assert label in card
    assert page.count("data:image/png;base64,") >= 5
    assert "{{" not in page


def test_paper_marks_missing_results(registry, results, tmp_path):
    out, _ = results
    partial = tmp_path / "partial"
    shutil.copytree(out, partial)
    shutil.rmtree(partial / "K2")
    path, missing = paper.build(partial, out=tmp_path / "p.html", registry=registry)
    assert missing and all("K2" in m for m in missing)
    assert "[missing: K2" in path.read_text(encoding="utf-8")


def test_tables_escape_for_markdown_and_latex():
    import pandas as pd

    from econ.claims.output import to_latex, to_markdown

    frame = pd.DataFrame({"name": ["a|b", "x_y & 5%"], "value": [1.5, np.nan]})
    md = to_markdown(frame)
    assert r"a\|b" in md and "---:" in md
    tex = to_latex(frame, caption="t")
    assert r"x\_y \& 5\%" in tex and "\\begin{table}" in tex
