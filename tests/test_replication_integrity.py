"""Replication integrity (issue 10): stored results are verifiable, outputs are atomic, bundled data are checked,
verdicts say exactly what was shown, and the CLI never guesses.

Every tampering case must make ``econ verify`` fail with a message naming the claim, the file and the field; the
paper must refuse what does not verify. The user-panel tests run on a small SIMULATED minimum-wage-like panel shaped
like ``mpdta`` (Callaway and Sant'Anna's county panel: countyreal, year, lpop, lemp, first.treat, treat), drawn
here with a fixed seed, so no fixture file is needed.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from econ import datasets
from econ.claims import manifest, output, paper, runner, schema, verdict
from econ.claims.registry import parse
from econ.claims.verify import verify
from econ.cli import main
from econ.errors import EconError, TreatmentError

from _stored_results import rehash as _rehash
from _stored_results import rewrite_json as _rewrite_json
from _stored_results import run_stored

ROOT = Path(__file__).resolve().parents[1]
QUICK = {"K1": {"placebo_draws": 19}}


@pytest.fixture(scope="module")
def stored(registry, tmp_path_factory):
    """A results folder with D1 (numbers), D3 (a figure), D5 and K4 (simulated, tables) as econ replicate writes.

    ``registry`` and ``results`` (a private copy to tamper with) are in conftest.py."""
    return run_stored(["D1", "D3", "D5", "K4"], tmp_path_factory.mktemp("stored") / "results", registry)


def _verify(registry, results, ids=("D1",), **kw):
    outcomes = verify(list(ids), registry=registry, progress=False, quiet=True, results=results, **kw)
    return {o.id: o for o in outcomes}


# ------------------------------------------------------------------------------------------------ manifests
def test_manifest_records_version_spec_data_seed_and_every_file(stored, registry):
    man = json.loads((stored / "D1" / "manifest.json").read_text(encoding="utf-8"))
    assert man["claim"] == "D1" and man["econ_version"] and len(man["spec_sha256"]) == 64
    assert man["data"] == {"china_national_income.csv": datasets.checksums()["china_national_income.csv"]["sha256"]}
    assert "seed" in man
    files = {p.name for p in (stored / "D1").iterdir() if p.name != "manifest.json"}
    assert set(man["files"]) == files and "result.json" in files
    for cid in ("D1", "D3", "D5", "K4"):
        assert manifest.check_stored(stored / cid, registry) == []


def test_verify_passes_on_fresh_results_and_reports_data_hashes(stored, registry, capsys):
    outcomes = verify(["D1", "D5"], registry=registry, progress=False, results=stored)
    assert all(o.ok for o in outcomes), [o.mismatches for o in outcomes]
    out = capsys.readouterr().out
    digest = datasets.checksums()["china_national_income.csv"]["sha256"]
    assert f"{digest}  china_national_income.csv" in out


def test_tampered_number_fails_naming_file_and_field(results, registry):
    path = results / "D1" / "result.json"
    _rewrite_json(path, lambda r: r["numbers"].update(ratio_2022=3.1234))
    o = _verify(registry, results)["D1"]
    assert not o.ok
    assert any("D1: result.json: SHA-256" in m for m in o.mismatches)
    assert any("result.json numbers.ratio_2022: stored 3.1234 vs recomputed 2.44" in m for m in o.mismatches)
    _rehash(results / "D1")  # even with the manifest re-hashed, the re-run gives the number away
    o = _verify(registry, results)["D1"]
    assert not o.ok and all("SHA-256" not in m for m in o.mismatches)
    assert any("numbers.ratio_2022: stored 3.1234" in m for m in o.mismatches)


def test_tampered_verdict_and_check_status_fail(results, registry):
    def change(r):
        r["verdict"].update(label="contradicted", text="contradicted")
        r["checks"][0]["status"] = "fail"
    _rewrite_json(results / "D1" / "result.json", change)
    _rehash(results / "D1")
    o = _verify(registry, results)["D1"]
    assert any("result.json verdict: stored 'contradicted' vs recomputed 'reproduced'" in m for m in o.mismatches)
    assert any("checks.urban_income_2022.status: stored 'fail' vs recomputed 'pass'" in m for m in o.mismatches)


def test_tampered_table_file_fails(results, registry):
    csv = results / "D3" / next(m["csv"] for m in json.loads(
        (results / "D3" / "result.json").read_text(encoding="utf-8"))["tables"].values())
    frame = pd.read_csv(csv)
    col = frame.select_dtypes("number").columns[0]
    frame.loc[0, col] = frame.loc[0, col] + 1
    frame.to_csv(csv, index=False)
    o = _verify(registry, results, ids=("D3",))["D3"]
    assert any(f"D3: {csv.name}: SHA-256" in m for m in o.mismatches)
    _rehash(results / "D3")
    o = _verify(registry, results, ids=("D3",))["D3"]
    assert any(f"{csv.name} row 1 column {col!r}: stored" in m for m in o.mismatches), o.mismatches


def test_tampered_figure_fails_even_when_rehashed(results, registry):
    png = results / "D3" / "ratio_series.png"
    raw = bytearray(png.read_bytes())
    raw[-20] ^= 0xFF
    png.write_bytes(bytes(raw))
    o = _verify(registry, results, ids=("D3",))["D3"]
    assert any("D3: ratio_series.png: SHA-256" in m for m in o.mismatches)
    _rehash(results / "D3")
    o = _verify(registry, results, ids=("D3",))["D3"]
    assert o.mismatches == ["D3: ratio_series.png: the stored image differs from the recomputed one (same package "
                            "versions and platform)"]


def test_truncated_missing_and_extra_files_fail(results, registry):
    path = results / "D1" / "result.json"
    path.write_bytes(path.read_bytes()[:200])
    (results / "D5" / "result.json").unlink()
    (results / "D5" / "notes.txt").write_text("added by hand", encoding="utf-8")
    out = _verify(registry, results, ids=("D1", "D5"))
    assert any("D1: result.json: SHA-256" in m for m in out["D1"].mismatches)
    assert any("D1: result.json: not valid JSON" in m for m in out["D1"].mismatches)
    assert any("D5: result.json: listed in the manifest but missing" in m for m in out["D5"].mismatches)
    assert any("D5: notes.txt: not written by the run" in m for m in out["D5"].mismatches)


def test_foreign_and_stale_results_fail(results, registry):
    shutil.rmtree(results / "D1")
    shutil.copytree(results / "D5", results / "D1")  # D5's result filed as D1
    shutil.copytree(results / "D5", results / "Z9")
    problems = manifest.check_stored(results / "D1", registry)
    assert any("manifest.json field claim: 'D5'" in p and "foreign" in p for p in problems)
    assert any("result.json field id: 'D5'" in p for p in problems)
    assert any("not a registered claim" in p for p in manifest.check_stored(results / "Z9", registry))
    # stale: another package version, another registry entry, other data
    _rewrite_json(results / "D3" / "manifest.json", lambda m: m.update(econ_version="0.0.1"))
    assert any("econ_version: stored '0.0.1'" in p for p in manifest.check_stored(results / "D3", registry))
    raw = tomllib.loads(registry.path.read_text(encoding="utf-8"))
    raw["claims"][4]["checks"][2]["tolerance"] = 0.5  # D5's urban consistency tolerance
    edited = parse(raw, registry.path)
    assert any("spec_sha256" in p and "stale" in p for p in manifest.check_stored(results / "D5", edited))
    other = {"china_national_income.csv": "0" * 64}
    assert any("data.china_national_income.csv" in p and "stale" in p
               for p in manifest.check_stored(results / "D3", registry, current_data=other))


def test_missing_stored_result_fails_once_results_exist(results, registry, tmp_path):
    shutil.rmtree(results / "D1")
    assert not _verify(registry, results)["D1"].ok
    # no results folder at all: nothing stored to check; the re-run is still compared with expected
    o = _verify(registry, tmp_path / "nowhere")["D1"]
    assert o.ok, o.mismatches


# ------------------------------------------------------------------------------------------------ paper
def test_paper_refuses_unverified_results_and_recomputes_statuses(results, registry, tmp_path):
    _rewrite_json(results / "D1" / "result.json", lambda r: r["numbers"].update(ratio_2022=3.1234))
    # D5: a check status forged, with the manifest re-hashed so that it verifies
    _rewrite_json(results / "D5" / "result.json", lambda r: r["checks"][0].update(status="fail"))
    _rehash(results / "D5")
    path, missing = paper.build(results, out=tmp_path / "p.html", registry=registry)
    page = path.read_text(encoding="utf-8")
    assert any(m.startswith("D1: refused: the stored result does not verify: D1: result.json") for m in missing)
    assert any(m.startswith("D5: refused: the stored verdict or check statuses") for m in missing)
    assert "3.1234" not in page
    card = page.split("id='claim-D3'")[1].split("</section>")[0]
    assert verdict.NOT_TESTABLE in card  # D3 verifies and is shown
    assert main(["paper", "--results", str(results), "--out", str(tmp_path / "q.html")]) == 1


def test_paper_builds_from_verified_results(stored, registry, tmp_path):
    path, missing = paper.build(stored, out=tmp_path / "p.html", registry=registry)
    page = path.read_text(encoding="utf-8")
    assert not [m for m in missing if m.split(":")[0] in ("D1", "D3", "D5", "K4")]
    assert verdict.INTERNAL_BAD in page.split("id='claim-D5'")[1].split("</section>")[0]


# ------------------------------------------------------------------------------------------------ atomic outputs
def _leftovers(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_failure_while_writing_figures_keeps_the_previous_result(results, registry, monkeypatch):
    before = (results / "D3" / "manifest.json").read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full while saving the figure")
    monkeypatch.setattr(output, "write_figure", boom)
    rec = runner.run_claims(["D3"], out=results, registry=registry, progress=False, quiet=True)[0]
    assert rec["status"] == "error" and "disk full while saving the figure" in rec["error"]
    assert (results / "D3" / "manifest.json").read_bytes() == before
    assert manifest.check_stored(results / "D3", registry) == []
    err = json.loads((results / "D3.error.json").read_text(encoding="utf-8"))
    assert err["status"] == "error" and "disk full" in err["error"] and err["previous_result_kept"]
    assert _leftovers(results) == []
    # Ctrl-C at the same place: the exception propagates, nothing is left half-written
    monkeypatch.setattr(output, "write_figure", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        runner.run_claims(["D3"], out=results, registry=registry, progress=False, quiet=True)
    assert (results / "D3" / "manifest.json").read_bytes() == before and _leftovers(results) == []
    monkeypatch.undo()
    runner.run_claims(["D3"], out=results, registry=registry, progress=False, quiet=True)  # a good run clears it
    assert not (results / "D3.error.json").exists()


def test_a_claim_that_errors_without_previous_result_leaves_none(registry, tmp_path, monkeypatch):
    monkeypatch.setattr(output, "write_figure", lambda *a, **k: (_ for _ in ()).throw(ValueError("bad figure")))
    recs = {r["id"]: r for r in runner.run_claims(["D3", "D1"], out=tmp_path, registry=registry, progress=False,
                                                  quiet=True)}
    assert recs["D3"]["status"] == "error" and recs["D1"]["status"] == "ok"  # the other claim still ran
    assert not (tmp_path / "D3").exists() and (tmp_path / "D3.error.json").is_file()


def test_a_result_moved_aside_by_a_killed_swap_is_restored(results, registry):
    before = (results / "D1" / "manifest.json").read_bytes()
    os.rename(results / "D1", results / ".D1.old-deadbeef")  # killed between the two renames of the swap
    runner.run_claims(["D2"], out=results, registry=registry, progress=False, quiet=True)
    assert (results / "D1" / "manifest.json").read_bytes() == before and _leftovers(results) == []


def test_ctrl_c_during_the_swap_waits_until_the_result_is_in_place(results, registry, monkeypatch):
    swap = runner._swap

    def interrupted(tmp, target):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C between moving the old result aside and renaming the new one
        swap(tmp, target)
    monkeypatch.setattr(runner, "_swap", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.run_claims(["D1"], out=results, registry=registry, progress=False, quiet=True)
    assert manifest.check_stored(results / "D1", registry) == [] and _leftovers(results) == []


def test_real_sigint_in_a_subprocess_keeps_the_previous_result(stored, tmp_path):
    """Ctrl-C (a real SIGINT) while the claim writes its figure: the previous complete result stays."""
    out = tmp_path / "results"
    shutil.copytree(stored / "D3", out / "D3")
    before = (out / "D3" / "manifest.json").read_bytes()
    flag = tmp_path / "writing-figure"
    code = ("import sys, time\n"
            "from econ.claims import output\n"
            "write = output.write_figure\n"
            "def slow(*args, **kwargs):\n"
            f"    open({str(flag)!r}, 'w').close()\n"
            "    time.sleep(30)\n"
            "    return write(*args, **kwargs)\n"
            "output.write_figure = slow\n"
            "from econ.cli import main\n"
            f"sys.exit(main(['replicate', 'D3', '--out', {str(out)!r}, '--no-progress']))\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=tmp_path)
    deadline = time.time() + 120
    while not flag.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None and flag.exists(), "the run never reached its figure"
    assert list(out.glob(".D3.partial-*"))  # the new run is being written next to the old result
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err.decode() and "interrupted" in err.decode()
    assert (out / "D3" / "manifest.json").read_bytes() == before
    assert _leftovers(out) == []


def test_impossible_output_location_is_one_clear_error(registry, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(EconError, match="cannot write results to .*a_file/results: Not a directory"):
        runner.run_claims(["D1"], out=blocker / "results", registry=registry, progress=False, quiet=True)
    assert main(["replicate", "D1", "--out", str(blocker / "results"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Not a directory" in err and "Traceback" not in err
    # one claim's location impossible (a file where its folder goes): that claim errors, the others run
    out = tmp_path / "out"
    out.mkdir()
    (out / "D1").write_text("squatter", encoding="utf-8")
    recs = runner.run_claims(["D1", "D2"], out=out, registry=registry, progress=False, quiet=True)
    assert recs[0]["status"] == "error" and "exists and is not a folder" in recs[0]["error"]
    assert recs[1]["status"] == "ok" and (out / "D1").read_text(encoding="utf-8") == "squatter"


# ------------------------------------------------------------------------------------------------ bundled data
def test_every_bundled_data_file_has_a_recorded_checksum():
    """Fails when a file is added to or changed in data/ without `python tools/hash_data.py`."""
    recorded = datasets.read_checksums(ROOT / "data")
    current = datasets.compute_checksums(ROOT / "data")
    assert sorted(current) == sorted(recorded), "run: python tools/hash_data.py"
    stale = [f for f in current if current[f] != recorded[f]]
    assert not stale, f"stale checksums for {stale}; run: python tools/hash_data.py"
    assert datasets.check_files() == {}
    for ds in datasets.REGISTRY.values():
        assert ds.file in recorded, f"{ds.file} has no checksum; run: python tools/hash_data.py"


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy)
    monkeypatch.setattr(datasets, "_data_root", lambda: copy)
    return copy


def test_truncated_or_altered_bundled_csv_is_refused(data_copy):
    path = data_copy / "china_national_income.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-3]), encoding="utf-8")
    with pytest.raises(EconError, match=r"'china_national_income.csv' is truncated: 15 data rows where 18 are "
                                        r"recorded.*python tools/hash_data.py"):
        datasets.load("china_national_income")
    path.write_text("".join(lines).replace("49283", "49288"), encoding="utf-8")
    with pytest.raises(EconError, match="'china_national_income.csv' is altered"):
        datasets.load("china_national_income")
    assert "china_national_income.csv" in datasets.check_files()
    (data_copy / "extra.csv").write_text("a\n1\n", encoding="utf-8")
    assert "no recorded checksum" in datasets.check_files()["extra.csv"]


def test_hash_tool_registers_a_new_file(data_copy, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("hash_data", ROOT / "tools" / "hash_data.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--data", str(data_copy), "--check"]) == 0
    (data_copy / "new_panel.csv").write_text("year,countyreal\n2003,8001\n", encoding="utf-8")
    assert tool.main(["--data", str(data_copy), "--check"]) == 1
    assert "stale or missing checksum: new_panel.csv" in capsys.readouterr().out
    with pytest.raises(EconError, match="'new_panel.csv' has no recorded checksum.*python tools/hash_data.py"):
        datasets._read_text("new_panel.csv")
    assert tool.main(["--data", str(data_copy)]) == 0
    assert datasets.read_checksums(data_copy)["new_panel.csv"]["rows"] == 1
    assert datasets._read_text("new_panel.csv").startswith("year,countyreal")


def test_truth_is_a_dict_with_integer_event_time_keys():
    truth = datasets.truth("china_cities_demo")
    assert isinstance(truth, dict)
    assert all(isinstance(k, int) for k in truth["att_by_event_time"])
    assert truth["att_by_event_time"][0] < 0


# ------------------------------------------------------------------------------------------------ verdicts
def test_d5_is_internally_consistent_not_reproduced_when_its_pairs_agree(registry, tmp_path):
    raw = tomllib.loads(registry.path.read_text(encoding="utf-8"))
    raw["claims"][4]["inputs"].update(urban_pct_b=83.1, rural_pct_b=61.9)  # two consistent pairs
    edited = parse(raw, registry.path)
    rec = runner.run_claims(["D5"], out=tmp_path, registry=edited, progress=False, quiet=True)[0]
    assert rec["verdict"]["label"] == verdict.INTERNAL_OK == "internally consistent; not tested against data"
    assert rec["verdict"]["label"] != verdict.REPRODUCED
    real = runner.run_claims(["D5"], out=tmp_path / "real", registry=registry, progress=False, quiet=True)[0]
    assert real["verdict"]["label"] == verdict.INTERNAL_BAD


def test_reproduced_needs_every_primary_check_computed_from_data():
    from econ.claims.registry import Check

    def chk(name, basis, role="primary"):
        return verdict.evaluate(Check(name, "q", 1.0, 0.1, "within", role, basis), 1.0)
    assert verdict.decide([chk("a", "bundled data")]).label == verdict.REPRODUCED
    assert verdict.decide([chk("a", verdict.SOURCE_BASIS)]).label == verdict.INTERNAL_OK
    assert verdict.decide([chk("a", "bundled data"), chk("b", verdict.SOURCE_BASIS)]).label == verdict.PARTLY
    on = verdict.decide([chk("a", "user data")], on="mpdta.csv (SHA-256 abc)")
    assert on.label == verdict.CONSISTENT
    assert str(on) == "consistent with the claim's direction on mpdta.csv (SHA-256 abc) — a = 1"


def test_simulated_tables_and_figures_say_so(stored):
    for cid in ("K4",):
        rec = json.loads((stored / cid / "result.json").read_text(encoding="utf-8"))
        items = list(rec["tables"].values()) + list(rec["figures"].values())
        assert items and all("SIMULATED" in m["caption"] for m in items)
        for meta in rec["tables"].values():
            if "tex" in meta:
                assert "SIMULATED" in (stored / cid / meta["tex"]).read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------ user panels
def _mpdta_like(n=240, seed=11) -> pd.DataFrame:
    """A SIMULATED county panel shaped like mpdta (2003-2007, cohorts 2004/2006/2007, ~half never treated)."""
    rng = np.random.default_rng(seed)
    county = 8000 + 3 * np.arange(n)
    first = rng.choice([0, 2004, 2006, 2007], size=n, p=[0.45, 0.15, 0.2, 0.2])
    lpop = rng.normal(3.0, 1.4, n)
    years = np.arange(2003, 2008)
    fe = rng.normal(0, 0.6, n)
    rows = []
    for i in range(n):
        for t, yr in enumerate(years):
            d = first[i] > 0 and yr >= first[i]
            lemp = 5.5 + 0.6 * lpop[i] + fe[i] + 0.02 * t - 0.08 * d + rng.normal(0, 0.05)
            rows.append({"year": int(yr), "countyreal": int(county[i]), "lpop": lpop[i], "lemp": lemp,
                         "first.treat": int(first[i]), "treat": int(first[i] > 0)})
    return pd.DataFrame(rows)


MAP = "unit=countyreal,time=year,cohort=first.treat,outcome=lemp,psm_covariates=lpop"


@pytest.fixture(scope="module")
def mpdta(tmp_path_factory):
    path = tmp_path_factory.mktemp("user") / "mpdta.csv"
    _mpdta_like().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def k_on_mpdta(mpdta, registry, tmp_path_factory):
    out = tmp_path_factory.mktemp("k_user")
    recs = runner.run_claims(["K1", "K2", "K3", "K4"], data=mpdta, mapping=schema.parse_map(MAP), out=out,
                             registry=registry, progress=False, quiet=True, options=QUICK)
    return out, {r["id"]: r for r in recs}


def test_k1_on_a_minimum_wage_panel_names_the_users_data_and_is_neutral(k_on_mpdta, mpdta):
    out, recs = k_on_mpdta
    k1 = recs["K1"]
    assert k1["status"] == "ok", k1.get("traceback")
    assert k1["verdict"]["label"] in verdict.USER_VERDICTS and k1["verdict"]["label"] != verdict.REPRODUCED
    digest = manifest.sha256_file(mpdta)
    assert k1["verdict"]["text"].startswith(f"{k1['verdict']['label']} on mpdta.csv (SHA-256 {digest[:12]})")
    assert k1["hypothesis"] == k1["statement"]
    assert k1["user_data"]["sha256"] == digest and k1["user_data"]["columns"]["outcome"] == "lemp"
    for kind in ("tables", "figures"):
        for meta in k1[kind].values():
            assert "mpdta.csv" in meta["caption"] and "urban/rural" not in meta["caption"], meta["caption"]
    assert "lemp" in k1["tables"]["event_study"]["caption"]
    for p in out.joinpath("K1").iterdir():
        if p.suffix in (".md", ".tex", ".html", ".csv"):
            text = p.read_text(encoding="utf-8")
            assert "urban/rural" not in text and "log_income_ratio" not in text, p.name
    assert "lemp" in (out / "K1" / "regressions.md").read_text(encoding="utf-8")
    assert k1["checks"][0]["basis"] == "user data: mpdta.csv"


def test_k1_axes_use_the_users_outcome(mpdta, registry):
    module = runner.load_script(registry, registry["K1"])
    frame = pd.read_csv(mpdta)
    raw = module.run(data=frame, roles=schema.user_roles(schema.parse_map(MAP)), placebo_draws=9)
    ax = raw["figures"]["event_study"][0].axes[0]
    assert "lemp" in ax.get_ylabel() and "urban" not in ax.get_ylabel()
    assert "lemp" in raw["figures"]["placebo"][0].axes[0].get_xlabel()


def test_unmapped_roles_make_checks_not_testable_with_the_reason(k_on_mpdta):
    _, recs = k_on_mpdta
    k3, k4, k2 = recs["K3"], recs["K4"], recs["K2"]
    assert k3["status"] == k4["status"] == k2["status"] == "ok"
    assert "role 'region' is not mapped" in k3["checks"][0]["detail"]
    assert all("is not mapped" in c["detail"] for c in k4["checks"])
    assert k4["verdict"]["text"].startswith("not testable on mpdta.csv")
    assert "bundled" not in json.dumps({k: k4[k] for k in ("verdict", "checks", "notes", "data")})
    assert "not a 6-digit prefecture code" in k2["checks"][0]["detail"] or \
        "prefecture code" in k2["checks"][0]["detail"]


def test_internal_names_never_reach_a_table(k_on_mpdta, stored):
    import re

    out, _ = k_on_mpdta
    pattern = re.compile(r"(?<![\w\\])_[A-Za-z]")
    for folder in [*out.iterdir(), *stored.iterdir()]:
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if p.suffix in (".csv", ".md", ".html"):
                assert not pattern.search(p.read_text(encoding="utf-8")), (folder.name, p.name)


# ------------------------------------------------------------------------------------------------ CLI misuse
def _cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line(err: str) -> None:
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("econ: error: "), err


def test_cli_mapped_column_must_exist(mpdta, tmp_path, capsys):
    code, _, err = _cli(capsys, "replicate", "K1", "--data", str(mpdta), "--out", str(tmp_path), "--map",
                        "unit=countyreal,time=year,cohort=first.treat,outcome=gap22")
    assert code == 2
    _one_line(err)
    assert "outcome=gap22" in err and "['gap22'] not in mpdta.csv" in err and "lemp" in err


def test_cli_cohort_cells_that_are_not_years_are_named(mpdta, tmp_path, capsys):
    frame = pd.read_csv(mpdta).astype({"first.treat": str})
    frame.loc[7, "first.treat"] = "2015a"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    code, _, err = _cli(capsys, "replicate", "K1", "--data", str(bad), "--out", str(tmp_path / "r"), "--map", MAP)
    assert code == 2
    _one_line(err)
    assert "'first.treat'" in err and "'2015a'" in err and f"countyreal={frame.loc[7, 'countyreal']}" in err


def test_cli_treated_that_switches_off_or_disagrees_names_units(mpdta, tmp_path, capsys):
    frame = pd.read_csv(mpdta)
    frame["d"] = ((frame["first.treat"] > 0) & (frame["year"] >= frame["first.treat"])).astype(int)
    unit = int(frame.loc[frame["first.treat"] == 2004, "countyreal"].iloc[0])
    off = frame.copy()
    off.loc[(off.countyreal == unit) & (off.year == 2006), "d"] = 0
    off.to_csv(tmp_path / "off.csv", index=False)
    code, _, err = _cli(capsys, "replicate", "K1", "--data", str(tmp_path / "off.csv"), "--out",
                        str(tmp_path / "r"), "--map", "unit=countyreal,time=year,treated=d,outcome=lemp")
    assert code == 2
    _one_line(err)
    assert "not absorbing" in err and str(unit) in err and "'d'" in err
    # mpdta's own `treat` is the ever-treated group dummy, not the treatment: it disagrees with first.treat
    code, _, err = _cli(capsys, "replicate", "K1", "--data", str(mpdta), "--out", str(tmp_path / "r"), "--map",
                        "unit=countyreal,time=year,cohort=first.treat,treated=treat,outcome=lemp")
    assert code == 2
    _one_line(err)
    assert "'treat' disagrees with cohort column 'first.treat'" in err and "countyreal=" in err
    with pytest.raises(TreatmentError, match="disagrees"):
        schema.prepare_panel(pd.read_csv(mpdta), schema.user_roles(
            schema.parse_map("unit=countyreal,time=year,cohort=first.treat,treated=treat,outcome=lemp")))


def test_cli_os_errors_are_one_clean_line(mpdta, tmp_path, capsys):
    for data in (tmp_path, tmp_path / "missing.csv"):
        code, _, err = _cli(capsys, "replicate", "K1", "--data", str(data), "--out", str(tmp_path / "r"),
                            "--map", MAP)
        assert code == 2
        _one_line(err)
    code, _, err = _cli(capsys, "replicate", "K1", "--data", str(mpdta), "--map", MAP + ",outcome=lpop")
    assert code == 2 and "role 'outcome' is given twice ('lemp' and 'lpop')" in err
    code, _, err = _cli(capsys, "verify", "D1", "--results", str(mpdta))
    assert code == 2 and "is a file, not a folder" in err
    code, _, err = _cli(capsys, "replicate", "K1", "--map", MAP)
    assert code == 2 and "--map only applies together with --data" in err
    code, _, err = _cli(capsys, "replicate", "K1", "--data", str(mpdta), "--map", "unit=countyreal")
    assert code == 2
    _one_line(err)
    assert "missing: time, cohort (or treated), outcome" in err


def test_cli_errors_are_printed_in_full(registry, tmp_path, monkeypatch, capsys):
    long = "a deliberately long message " * 8 + "THE END"
    monkeypatch.setattr(output, "write_figure", lambda *a, **k: (_ for _ in ()).throw(EconError(long)))
    code, out, _ = _cli(capsys, "replicate", "D3", "--out", str(tmp_path), "--no-progress")
    assert code == 1 and long in out


def test_cli_help_lists_every_role_with_requirement(capsys):
    with pytest.raises(SystemExit):
        main(["replicate", "--help"])
    text = capsys.readouterr().out
    for role, (need, _) in schema.ROLE_HELP.items():
        assert f"  {role}" in text and need in text
    assert "required unless treated" in text


def test_make_replicate_runs_econ_paper():
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    block = make.split("\nreplicate:")[1].split("\n\n")[0]
    # the paper is built after the claims, in the same process (`--paper`) or by a separate `econ paper`
    assert "econ replicate" in block and ("econ paper" in block or "--paper" in block)


def test_verify_re_runs_a_user_data_result_on_its_recorded_file(k_on_mpdta, mpdta, registry, tmp_path):
    out, _ = k_on_mpdta
    results = tmp_path / "results"
    shutil.copytree(out / "K4", results / "K4")
    o = _verify(registry, results, ids=("K4",))["K4"]
    assert o.ok, o.mismatches
    assert o.data["mpdta.csv"] == manifest.sha256_file(mpdta)
    moved = tmp_path / "mpdta.csv"  # the data file changed after the run: the result cannot be re-computed
    moved.write_text(mpdta.read_text(encoding="utf-8").replace("2003,", "2003,1", 1), encoding="utf-8")
    _rewrite_json(results / "K4" / "result.json", lambda r: r["user_data"].update(path=str(moved)))
    _rehash(results / "K4")
    _rewrite_json(results / "K4" / "manifest.json", lambda m: m["user_data"].update(path=str(moved)))
    o = _verify(registry, results, ids=("K4",))["K4"]
    assert not o.ok and any("user_data" in m and "not available unchanged" in m for m in o.mismatches)


def test_paper_shows_the_statement_as_the_hypothesis_tested_on_user_data(k_on_mpdta, registry, tmp_path):
    out, recs = k_on_mpdta
    path, missing = paper.build(out, out=tmp_path / "p.html", registry=registry)
    card = path.read_text(encoding="utf-8").split("id='claim-K1'")[1].split("</section>")[0]
    assert "Hypothesis tested on mpdta.csv" in card and recs["K1"]["user_data"]["sha256"] in card
    import html

    assert f"{html.escape(recs['K1']['verdict']['label'])} on mpdta.csv" in card and "reproduced" not in card
    assert not [m for m in missing if m.startswith("K1")]
