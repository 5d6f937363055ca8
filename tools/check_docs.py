"""Check the built documentation site as a reader would meet it (run by ``make docs`` after Sphinx).

* every ``<img>`` of every page points at a file that exists and decodes to a real picture (PNG via matplotlib,
  SVG as XML with a size), and every tutorial page shows at least one figure;
* every link to a local page or file resolves;
* no executed tutorial cell printed a traceback;
* nothing is loaded from the network: no ``<script src>`` or stylesheet ``<link href>`` points at an http(s) URL
  (MathJax is shipped with the site), so pages and formulas render offline;
* with a headless Chromium on the PATH (Debian package ``chromium``), every page is also rendered by the browser
  and its screenshot must not be blank; without one, that step is skipped with a message;
* with Chromium, every tutorial page is also laid out at a 1300 px wide window and no code block may be clipped
  (:func:`check_clipping`). The page is copied next to a small script (``CLIP_JS``) with a ``<base>`` pointing at
  the original, Chromium runs it (``--dump-dom``) and the script writes what it measured into the DOM. For every
  rendered ``<pre>`` inside a code cell, a cell output or a highlighted block, a block is *clipped* when (a) its
  content is wider than its box (``scrollWidth > clientWidth``) and the box cannot scroll horizontally
  (``overflow-x`` is not ``auto``/``scroll``), or (b) an ancestor that hides overflow (``overflow-x``
  ``hidden``/``clip``) is itself narrower than its content, or (c) the block's right edge lies beyond the window.
  Text cut inside a box is caught by (a) and (b) whatever the cause (a long line, a wide table in an output); a
  block that scrolls inside its own box is not clipped. The script also reports the number of blocks measured, so
  a page on which nothing was measured (a changed theme) fails instead of passing silently.

Exit status 1 with one line per problem; 0 and a one-line summary otherwise.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlparse

IMG = re.compile(r"<img\b[^>]*\bsrc=\"([^\"]+)\"", re.I)
HREF = re.compile(r"<a\b[^>]*\bhref=\"([^\"#?]+)[^\"]*\"", re.I)
REMOTE = re.compile(r"<(?:script\b[^>]*\bsrc|link\b[^>]*\bhref)=\"((?:https?:)?//[^\"]+)\"", re.I)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1200,1600"]


def _image_problem(path: Path) -> str | None:
    if not path.is_file() or path.stat().st_size == 0:
        return "missing or empty"
    if path.suffix.lower() == ".svg":
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
        return None if "<svg" in head else "not an SVG document"
    try:
        import matplotlib.image as mpimg

        pixels = mpimg.imread(path)
    except Exception as exc:  # any decoder failure is the finding
        return f"does not decode ({exc})"
    if pixels.shape[0] < 10 or pixels.shape[1] < 10:
        return f"only {pixels.shape[1]}x{pixels.shape[0]} pixels"
    if float(pixels.std()) == 0.0:
        return "blank (a single colour)"
    return None


def check_static(root: Path) -> tuple[list[str], int, int]:
    problems, n_pages, n_images = [], 0, 0
    for page in sorted(root.rglob("*.html")):
        n_pages += 1
        html = page.read_text(encoding="utf-8", errors="replace")
        rel = page.relative_to(root)
        images = IMG.findall(html)
        n_images += len(images)
        for src in images:
            if urlparse(src).scheme in ("http", "https", "data"):
                continue
            why = _image_problem((page.parent / unquote(src)).resolve())
            if why:
                problems.append(f"{rel}: image {src}: {why}")
        if rel.parts[0] == "tutorials" and not images:
            problems.append(f"{rel}: a tutorial page without a single figure")
        for href in HREF.findall(html):
            if urlparse(href).scheme or href.startswith("mailto:"):
                continue
            if not (page.parent / unquote(href)).resolve().exists():
                problems.append(f"{rel}: broken link {href}")
        for url in REMOTE.findall(html):
            problems.append(f"{rel}: loads {url} from the network (the site must work offline)")
        if rel.parts[0] == "tutorials" and "Traceback (most recent call last)" in html:
            problems.append(f"{rel}: an executed cell printed a traceback")
    return problems, n_pages, n_images


CLIP_WIDTH = 1300
CLIP_JS = """
<script>
window.addEventListener("load", function () {
  var out = [], n = 0, vw = document.documentElement.clientWidth;
  var blocks = document.querySelectorAll("div.highlight pre, div.cell_output pre, .output pre");
  blocks.forEach(function (pre, i) {
    if (!pre.getClientRects().length) { return; }   // display: none (no layout box): nothing to measure
    n += 1;
    var st = getComputedStyle(pre), why = null;
    var line = (pre.textContent.split("\\n").sort(function (a, b) { return b.length - a.length; })[0] || "");
    if (pre.scrollWidth > pre.clientWidth + 1 && ["auto", "scroll"].indexOf(st.overflowX) < 0) {
      why = "content " + pre.scrollWidth + " px wide in a " + pre.clientWidth + " px box that does not scroll";
    }
    for (var el = pre.parentElement; !why && el && el !== document.body; el = el.parentElement) {
      var es = getComputedStyle(el);
      if (["hidden", "clip"].indexOf(es.overflowX) >= 0 && el.scrollWidth > el.clientWidth + 1) {
        why = "cut by <" + el.tagName.toLowerCase() + " class='" + el.className + "'> (overflow-x " + es.overflowX
              + ", content " + el.scrollWidth + " px in " + el.clientWidth + " px)";
      }
    }
    if (!why && pre.getBoundingClientRect().right > vw + 1) {
      why = "right edge at " + Math.round(pre.getBoundingClientRect().right) + " px beyond the " + vw + " px window";
    }
    if (why) { out.push("block " + i + ": " + why + "; longest line: " + line.slice(0, 60).trim()); }
  });
  var res = document.createElement("pre");
  res.id = "econ-clip-result";
  res.textContent = JSON.stringify({measured: n, clipped: out});
  document.body.appendChild(res);
});
</script>
"""


def check_clipping(root: Path, exe: str) -> tuple[list[str], int]:
    """Lay out every tutorial page in Chromium at ``CLIP_WIDTH`` px and report clipped code blocks (see above)."""
    import json

    problems, measured = [], 0
    pages = sorted((root / "tutorials").glob("*.html"))
    with tempfile.TemporaryDirectory() as tmp:
        for page in pages:
            rel = page.relative_to(root)
            html = page.read_text(encoding="utf-8", errors="replace")
            base = f'<base href="{page.parent.resolve().as_uri()}/">'
            html = re.sub(r"<head([^>]*)>", lambda m: f"<head{m.group(1)}>{base}", html, count=1)
            html = html.replace("</body>", CLIP_JS + "</body>", 1)
            probe = Path(tmp) / page.name
            probe.write_text(html, encoding="utf-8")
            flags = [f for f in CHROMIUM_FLAGS if not f.startswith("--window-size")]
            cmd = [exe, *flags, f"--window-size={CLIP_WIDTH},1000", "--virtual-time-budget=10000",
                   f"--user-data-dir={tmp}/profile", "--dump-dom", probe.as_uri()]
            try:
                dom = subprocess.run(cmd, capture_output=True, timeout=120, check=False, text=True).stdout
            except subprocess.TimeoutExpired:
                problems.append(f"{rel}: Chromium timed out (clipping check)")
                continue
            found = re.search(r'<pre id="econ-clip-result"[^>]*>(.*?)</pre>', dom, re.S)
            if not found:
                problems.append(f"{rel}: clipping check did not run (no result in Chromium's DOM)")
                continue
            result = json.loads(unescape(found.group(1)))
            if not result["measured"]:
                problems.append(f"{rel}: clipping check found no code block to measure")
            measured += result["measured"]
            problems += [f"{rel}: at {CLIP_WIDTH} px, {c}" for c in result["clipped"]]
    return problems, measured


def check_browser(root: Path) -> tuple[list[str], str]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        return [], "no headless Chromium on PATH: browser rendering not checked"
    problems = []
    pages = sorted(root.glob("*.html")) + sorted((root / "tutorials").glob("*.html"))
    with tempfile.TemporaryDirectory() as tmp:
        for page in pages:
            shot = Path(tmp) / (page.stem + ".png")
            cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", f"--screenshot={shot}",
                   page.resolve().as_uri()]
            try:
                subprocess.run(cmd, capture_output=True, timeout=120, check=False)
            except subprocess.TimeoutExpired:
                problems.append(f"{page.relative_to(root)}: Chromium timed out")
                continue
            why = _image_problem(shot)
            if why:
                problems.append(f"{page.relative_to(root)}: browser screenshot {why}")
    clipped, measured = check_clipping(root, exe)
    return problems + clipped, (f"{len(pages)} pages rendered by {Path(exe).name}; {measured} code blocks on the "
                                f"tutorial pages measured at {CLIP_WIDTH} px, none clipped" if not clipped else "")


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "docs/build/html")
    if not (root / "index.html").is_file():
        print(f"check_docs: {root}/index.html not found: build the site first (make docs)")
        return 1
    problems, n_pages, n_images = check_static(root)
    more, browser = check_browser(root)
    problems += more
    for p in problems:
        print(f"check_docs: {p}")
    if problems:
        return 1
    print(f"check_docs: {n_pages} pages, {n_images} images, links resolve; {browser}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
