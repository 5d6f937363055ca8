"""Every tutorial in docs/tutorials/ runs top to bottom (each asserts its own key numbers, with the tolerance
stated next to the assert), and the documentation pages link only tutorials that exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
TUTORIALS = sorted(p for p in (DOCS / "tutorials").glob("t*.py"))


def test_there_is_a_tutorial_per_method():
    assert len(TUTORIALS) >= 6, [p.name for p in TUTORIALS]


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"


def test_index_lists_every_tutorial():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for path in TUTORIALS:
        assert f"tutorials/{path.stem}" in index, path.name
    for line in index.splitlines():
        if line.startswith("tutorials/"):
            assert (DOCS / (line.strip() + ".py")).exists(), line
