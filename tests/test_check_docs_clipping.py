"""tools/check_docs.py's Chromium clipping check finds a cut code block and passes wrapped or scrolling ones."""

import importlib.util
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
LONG = "x = '" + "a" * 120 + "'"


def _load():
    spec = importlib.util.spec_from_file_location("check_docs", Path(__file__).parents[1] / "tools" / "check_docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium on PATH (Debian package chromium)")
def test_clipping_check(tmp_path):
    (tmp_path / "tutorials").mkdir()
    page = tmp_path / "tutorials" / "t.html"
    blocks = (f'<div class="highlight"><pre style="white-space: pre-wrap">{LONG}</pre></div>'
              f'<div class="highlight" style="width: 300px"><pre style="overflow-x: auto">{LONG}</pre></div>')
    page.write_text(f"<html><head></head><body>{blocks}</body></html>")
    check = _load()
    assert check.check_clipping(tmp_path, CHROMIUM) == ([], 2)
    cut = f'<div class="highlight" style="width: 300px; overflow: hidden"><pre>{LONG}</pre></div>'
    page.write_text(f"<html><head></head><body>{blocks}{cut}</body></html>")
    problems, measured = check.check_clipping(tmp_path, CHROMIUM)
    assert measured == 3 and len(problems) == 1 and "block 2" in problems[0] and "aaaa" in problems[0]
    page.write_text("<html><head></head><body><p>no code</p></body></html>")
    assert check.check_clipping(tmp_path, CHROMIUM)[0] == [
        "tutorials/t.html: clipping check found no code block to measure"]
