"""Check the built documentation site as a reader would meet it (run by ``make docs`` after Sphinx).

* every ``<img>`` of every page points at a file that exists and decodes to a real picture (PNG via matplotlib,
  SVG as XML with a size), and every tutorial page shows at least one figure;
* every link to a local page or file resolves;
* no executed tutorial cell printed a traceback;
* nothing is loaded from the network: no ``<script src>`` or stylesheet ``<link href>`` points at an http(s) URL
  (MathJax is shipped with the site), so pages and formulas render offline;
* with a headless Chromium on the PATH (Debian package ``chromium``), every page is also rendered by the browser
  and its screenshot must not be blank; without one, that step is skipped with a message.

Exit status 1 with one line per problem; 0 and a one-line summary otherwise.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
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
    return problems, f"{len(pages)} pages rendered by {Path(exe).name}"


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
