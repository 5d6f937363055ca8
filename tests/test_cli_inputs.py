"""Every input format ``econ replicate --data`` supports, through the command line (issue 18, item 8): CSV, CSV in
GBK (with Chinese column names), CSV with a UTF-8 byte-order mark, Stata ``.dta`` and parquet; a spreadsheet is
refused naming the supported formats.

The panel is a small SIMULATED county panel drawn here with a fixed seed. The format tests stop after reading
(``run_claim`` replaced by a stub recording what the claim would receive), so they compare the frames read from
every format with each other; one test runs K4 end to end on the ``.dta`` file (the case that crashed).
"""

import json

import numpy as np
import pandas as pd
import pytest

from econ.claims import manifest, runner
from econ.cli import main

ROLES = {"unit": "县", "time": "年份", "cohort": "首次处理年", "outcome": "就业", "firms": "新企业"}
MAP = ",".join(f"{role}={col}" for role, col in ROLES.items())


def _panel(n=40, seed=5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = rng.choice([0, 2004, 2006], size=n, p=[0.5, 0.25, 0.25])
    rows = []
    for i in range(n):
        for yr in range(2003, 2008):
            d = first[i] > 0 and yr >= first[i]
            rows.append({"县": 1000 + i, "年份": yr, "首次处理年": int(first[i]),
                         "就业": 5.0 + 0.1 * i - 0.08 * d + rng.normal(0, 0.05),
                         "新企业": 2.0 + 0.3 * d + rng.normal(0, 0.1)})
    return pd.DataFrame(rows)


def _write(frame: pd.DataFrame, folder, fmt: str):
    path = folder / {"csv": "panel.csv", "gbk": "panel_gbk.csv", "bom": "panel_bom.csv", "dta": "panel.dta",
                     "parquet": "panel.parquet"}[fmt]
    if fmt == "csv":
        frame.to_csv(path, index=False, encoding="utf-8")
    elif fmt == "gbk":
        frame.to_csv(path, index=False, encoding="gbk")
    elif fmt == "bom":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "dta":  # Stata variable names are ASCII: the same panel with Latin names
        frame.rename(columns=dict(zip(ROLES.values(), ROLES))).to_stata(path, write_index=False, version=118)
    else:
        frame.to_parquet(path, index=False)
    return path


def _map_for(fmt: str) -> str:
    return ",".join(f"{r}={r}" for r in ROLES) if fmt == "dta" else MAP


@pytest.fixture
def captured(monkeypatch):
    """Replace the claim run by a stub that records the frame and user_data it would receive."""
    seen = {}

    def stub(claim, registry, out_dir, data=None, roles=None, user_data=None, options=None):
        seen.update(frame=data, roles=roles, user_data=user_data)
        return {"id": claim.id, "kind": claim.kind, "status": "ok", "verdict": {"text": "(stub)"}, "checks": [],
                "simulated": False}
    monkeypatch.setattr(runner, "run_claim", stub)
    return seen


@pytest.mark.parametrize("fmt", ["csv", "gbk", "bom", "dta", "parquet"])
def test_every_supported_format_reads_the_same_panel(fmt, captured, tmp_path, capsys):
    panel = _panel()
    path = _write(panel, tmp_path, fmt)
    code = main(["replicate", "K4", "--data", str(path), "--map", _map_for(fmt), "--out", str(tmp_path / "out"),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    frame, user = captured["frame"], captured["user_data"]
    if fmt == "dta":
        frame = frame.rename(columns=dict(zip(ROLES, ROLES.values())))
    got = frame[list(ROLES.values())].reset_index(drop=True)
    want = panel.sort_values(["县", "年份"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, atol=1e-12)
    assert user["file"] == path.name and user["rows"] == len(panel)
    assert user["sha256"] == manifest.sha256_file(path)


def test_k4_runs_end_to_end_on_a_stata_file(tmp_path, capsys):
    """``econ replicate K4 --data panel.dta --map ...`` crashed with TypeError: _read() missing 3 arguments."""
    path = _write(_panel(), tmp_path, "dta")
    out = tmp_path / "out"
    code = main(["replicate", "K4", "--data", str(path), "--map", _map_for("dta"), "--out", str(out),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    rec = json.loads((out / "K4" / "result.json").read_text(encoding="utf-8"))
    assert rec["user_data"]["file"] == "panel.dta" and rec["user_data"]["rows"] == 200
    assert rec["check_inputs"]["values"]  # the mapped channel was estimated on the file's data


@pytest.mark.parametrize("name", ["panel.xlsx", "panel.xls"])
def test_a_spreadsheet_names_the_supported_formats(name, tmp_path, capsys):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 a workbook")
    code = main(["replicate", "K4", "--data", str(path), "--map", MAP, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "no such file" not in err
    assert f"{path.suffix} spreadsheets are not a supported format" in err
    assert "CSV" in err and ".dta" in err and "parquet" in err and "read_excel" in err
