"""Verification that cannot be forged by editing stored files, and runs that cannot destroy each other (issue 18,
item 7).

Each forgery edits a stored result the way a careful forger would (the manifest's hashes recomputed afterwards);
``econ verify`` must exit non-zero naming the claim and the field, and ``econ paper`` must refuse to render it. The
concurrency test runs ``econ replicate`` in subprocesses into one results folder, paused at the moments where the
old recovery destroyed the other run's work. Only the cheap descriptive claims (D1, D3) run here.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from econ.claims import manifest, paper
from econ.cli import main

from _stored_results import rehash as _rehash
from _stored_results import rewrite_json as _edit_json
from _stored_results import run_stored

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def stored(registry, tmp_path_factory):
    """D1 and D3 as econ replicate writes them (``registry`` and ``results`` are in conftest.py)."""
    return run_stored(["D1", "D3"], tmp_path_factory.mktemp("forgery") / "results", registry)


def _verify_cli(capsys, results, cid):
    code = main(["verify", cid, "--results", str(results), "--no-progress"])
    return code, capsys.readouterr().out


def _paper(results, registry, tmp_path):
    """The built page without its "[missing: ...]" markers (which quote the refused values), and the missing list."""
    path, missing = paper.build(results, out=tmp_path / "paper.html", registry=registry)
    page = re.sub(r'<(span|p) class="missing">.*?</\1>', "", path.read_text(encoding="utf-8"), flags=re.S)
    return page, missing


def _refused(missing, cid) -> list[str]:
    return [m for m in missing if m.startswith(f"{cid}: refused")]


def test_forged_numbers_with_a_recomputed_manifest(results, registry, tmp_path, capsys):
    _edit_json(results / "D1" / "result.json", lambda r: r["numbers"].update(ratio_2022=3.1234))
    _rehash(results / "D1")
    assert manifest.check_stored(results / "D1", registry) == []  # the manifest alone is fooled
    code, out = _verify_cli(capsys, results, "D1")
    assert code == 1 and "FAIL  D1" in out
    assert "D1: result.json numbers.ratio_2022: stored 3.1234 vs recomputed 2.44" in out
    page, missing = _paper(results, registry, tmp_path)
    assert any("numbers.ratio_2022" in m for m in _refused(missing, "D1")), missing
    assert "3.1234" not in page


def test_forged_notes(results, registry, tmp_path, capsys):
    rec = json.loads((results / "D3" / "result.json").read_text(encoding="utf-8"))
    assert rec["notes"], "D3 must have notes for this test"
    _edit_json(results / "D3" / "result.json", lambda r: r.update(notes=["The gap closed completely by 2015."]))
    _rehash(results / "D3")
    code, out = _verify_cli(capsys, results, "D3")
    assert code == 1 and "D3: result.json notes" in out
    page, missing = _paper(results, registry, tmp_path)
    assert any("notes" in m for m in _refused(missing, "D3")), missing
    assert "closed completely" not in page


def test_a_number_inside_a_note_is_compared(results, registry, capsys):
    def change(r):
        note = r["notes"][0]
        digits = [c for c in note if c.isdigit()]
        assert digits
        r["notes"][0] = note.replace(digits[0], str((int(digits[0]) + 3) % 10), 1)
    _edit_json(results / "D3" / "result.json", change)
    _rehash(results / "D3")
    code, out = _verify_cli(capsys, results, "D3")
    assert code == 1 and "D3: result.json notes[0]" in out


def test_forged_captions_and_data_description(results, registry, capsys):
    def change(r):
        r["data"] = "official yearbook microdata"
        name = next(iter(r["figures"]))
        r["figures"][name]["caption"] = "a forged caption"
    _edit_json(results / "D3" / "result.json", change)
    _rehash(results / "D3")
    code, out = _verify_cli(capsys, results, "D3")
    assert code == 1
    assert "D3: result.json data: stored 'official yearbook microdata'" in out
    assert "caption: stored 'a forged caption'" in out


def test_flipped_png_with_forged_versions(results, registry, tmp_path, capsys):
    png = results / "D3" / "ratio_series.png"
    raw = bytearray(png.read_bytes())
    raw[-20] ^= 0xFF
    png.write_bytes(bytes(raw))
    _edit_json(results / "D3" / "result.json", lambda r: r["versions"].update(matplotlib="0.0.1", platform="forged-platform"))
    _rehash(results / "D3")
    code, out = _verify_cli(capsys, results, "D3")
    assert code == 1 and "D3: ratio_series.png: the stored image differs from the recomputed one" in out
    assert "versions" in out  # the message says the stored versions are not the ones of the fresh run
    page, missing = _paper(results, registry, tmp_path)
    assert any("ratio_series.png" in m for m in _refused(missing, "D3")), missing
    assert "id='claim-D3'" in page and "ratio_series.png</code>" not in page.split("id='claim-D3'")[1]
    assert "matplotlib 0.0.1" not in page and "forged-platform" not in page  # the versions printed are the fresh run's


def test_forged_user_data_entry(results, registry, tmp_path, capsys):
    """A bundled result relabelled as a run on a user's file (which exists, with its true hash): the expected-file
    comparison must not be skipped for it, and the entry itself is refused."""
    panel = tmp_path / "panel.csv"
    panel.write_text("unit,year,y\n1,2020,1.0\n", encoding="utf-8")
    entry = {"file": panel.name, "path": str(panel), "sha256": manifest.sha256_file(panel), "rows": 1,
             "columns": {"unit": "unit", "time": "year", "outcome": "y"}}
    _edit_json(results / "D1" / "result.json", lambda r: (r["numbers"].update(ratio_2022=3.1234),
                                                          r.update(user_data=entry)))
    _rehash(results / "D1")
    _edit_json(results / "D1" / "manifest.json", lambda m: m.update(user_data=entry))
    code, out = _verify_cli(capsys, results, "D1")
    assert code == 1 and "D1: manifest.json field user_data" in out
    # re-run on the bundled data (not skipped as a "user data" run), so the forged number shows too
    assert "D1: result.json numbers.ratio_2022: stored 3.1234 vs recomputed 2.44" in out
    page, missing = _paper(results, registry, tmp_path)
    assert _refused(missing, "D1") and "3.1234" not in page


def test_user_data_in_the_manifest_only_is_refused(results, registry, tmp_path, capsys):
    panel = tmp_path / "panel.csv"
    panel.write_text("unit,year,y\n1,2020,1.0\n", encoding="utf-8")
    entry = {"file": panel.name, "path": str(panel), "sha256": manifest.sha256_file(panel), "rows": 1,
             "columns": {"unit": "unit", "time": "year", "outcome": "y"}}
    _edit_json(results / "D1" / "manifest.json", lambda m: m.update(user_data=entry))
    code, out = _verify_cli(capsys, results, "D1")
    assert code == 1 and "D1: manifest.json field user_data" in out
    page, missing = _paper(results, registry, tmp_path)
    assert any("user_data" in m for m in _refused(missing, "D1")), missing


def test_paper_renders_results_that_match_a_fresh_run(stored, registry, tmp_path, monkeypatch):
    monkeypatch.setattr(manifest, "_FRESH", set())  # forget that this process computed them: re-run for real
    page, missing = _paper(stored, registry, tmp_path)
    assert not [m for m in missing if m.split(":")[0] in ("D1", "D3")], missing
    assert "ratio_series.png</code>" in page


# ------------------------------------------------------------------------------------------------ concurrency
_HOOKED_RUN = """
import os, sys, time
from pathlib import Path
from econ.claims import output, runner
flags = Path({flags!r})
def wait(name):
    (flags / (name + '.reached')).touch()
    deadline = time.time() + 120
    while not (flags / (name + '.go')).exists():
        if time.time() > deadline:
            sys.exit('timed out waiting for ' + name)
        time.sleep(0.02)
if {pause_writing!r}:
    write = output.write_table
    def slow_table(*args, **kwargs):
        wait('writing')
        return write(*args, **kwargs)
    output.write_table = slow_table
if {pause_swap!r}:
    rename = os.rename
    def paused_rename(src, dst, *a, **k):
        rename(src, dst, *a, **k)
        if '.old-' in str(dst):  # the previous result has just been moved aside
            wait('swap')
    os.rename = paused_rename
if {signal_recover!r}:
    recover = runner.recover
    def announced(out):
        (flags / 'recover.reached').touch()
        return recover(out)
    runner.recover = announced
from econ.cli import main
if {gate!r}:
    wait('start')  # imported and ready; run when the test says so
sys.exit(main(['replicate', {cid!r}, '--out', {out!r}, '--no-progress']))
"""


def _spawn(tmp_path, name, cid, out, **hooks):
    flags = tmp_path / f"flags-{name}"
    flags.mkdir()
    opts = {"pause_writing": False, "pause_swap": False, "signal_recover": False, "gate": False, **hooks}
    code = _HOOKED_RUN.format(flags=str(flags), cid=cid, out=str(out), **opts)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=tmp_path)
    return proc, flags


def _wait_for(path: Path, proc, timeout=120):
    deadline = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, f"never reached {path.name}"
        time.sleep(0.02)


def test_two_runs_into_one_folder_leave_one_complete_result(registry, tmp_path, capsys):
    """Run A (a subprocess, D1) is paused while writing, its temporary folder made to look hours old; run B (D1,
    here) runs to the end meanwhile. A then pauses between moving B's result aside and renaming its own into place,
    and run C (D1, here) starts. Before the lock, B deleted A's temporary folder and C restored the moved-aside
    result under A's feet; now all three succeed and one complete result is left."""
    out = tmp_path / "results"
    out.mkdir()
    a, fa = _spawn(tmp_path, "a", "D1", out, pause_writing=True, pause_swap=True)
    _wait_for(fa / "writing.reached", a)
    (partial,) = out.glob(".D1.partial-*")
    old = time.time() - 7200
    os.utime(partial, (old, old))
    replicate = ["replicate", "D1", "--out", str(out), "--no-progress"]
    assert main(replicate) == 0  # run B
    assert partial.is_dir(), "run B removed the temporary folder of run A, which is still running"
    (fa / "writing.go").touch()
    _wait_for(fa / "swap.reached", a)
    assert not (out / "D1").exists() and list(out.glob(".D1.old-*"))  # A is mid-swap
    # run C starts now; A is let go a second later: C must wait for A's swap, not restore the moved-aside result
    release = threading.Timer(1.0, (fa / "swap.go").touch)
    release.start()
    try:
        assert main(replicate) == 0  # run C
    finally:
        release.join()
    _, err = a.communicate(timeout=300)
    assert a.returncode == 0, f"run A: {err.decode()}"
    assert manifest.check_stored(out / "D1", registry) == []
    assert [p.name for p in out.iterdir()] == ["D1"]  # no temporary, moved-aside or error files left
