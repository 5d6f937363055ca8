"""Sphinx configuration for the econ documentation (``make docs`` builds it into docs/build/html)."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path

# The tutorial kernels inherit this: figures made with pyplot are shown inline at the end of each cell.
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

project = "econ"
author = "econ developers"
copyright = "econ developers"
DIST = "econ-placebased"  # the distribution name on PyPI; the import name is `econ`


def _version() -> str:
    """The installed distribution's version (package metadata); a checkout that is not installed falls back to the
    single source, ``econ.__version__`` (pyproject reads its version from there too)."""
    from importlib import metadata

    try:
        return metadata.version(DIST)
    except metadata.PackageNotFoundError:
        return importlib.import_module("econ").__version__


release = version = _version()

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 shipped with the docs (_static/mathjax): formulas render offline
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".py": "myst-nb"}
# Tutorials are jupytext percent-format scripts: run as plain Python, open in Jupyter, executed here by myst-nb.
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "colon_fence"]

exclude_patterns = ["build", "conf.py", "_generated_api_src", "**/.ipynb_checkpoints", "tutorials/_*.py",
                    "tutorials/_notebooks"]
templates_path = []
# A wide theme (as pandas / statsmodels-style sites); _static/custom.css widens the page, wraps long code lines and
# lets wide tables scroll inside their own box.
html_theme = "pydata_sphinx_theme"
html_title = f"econ {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2,
                      "footer_start": ["copyright"], "footer_end": ["sphinx-version"]}
html_context = {"default_mode": "light"}

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "none"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
nitpicky = False
suppress_warnings = ["autosummary", "autodoc", "autodoc.import_object", "ref.python", "myst.header",
                     "toc.not_included", "mystnb.unknown_mime_type", "misc.highlighting_failure"]

# The public API, one section per module, generated from each module's ``__all__`` (so the reference can never
# miss a public name).
API_MODULES = ["econ", "econ.did", "econ.spatial", "econ.panel", "econ.montecarlo", "econ.datasets", "econ.plot",
               "econ.simulate", "econ.results", "econ.measures", "econ.index", "econ.survey"]

CONVENTION_MODULES = ["econ.panel.vcov", "econ.panel.wildboot", "econ.did.classic.event_study",
                      "econ.did.classic.placebo", "econ.spatial.autocorr"]


def _write_api_page() -> None:
    lines = ["API reference", "=============", "",
             "Generated from the ``__all__`` of each public module.", ""]
    for name in API_MODULES:
        mod = importlib.import_module(name)
        lines += [name, "-" * len(name), "", f".. automodule:: {name}", "   :no-members:", "",
                  f".. currentmodule:: {name}", "", ".. autosummary::", "   :toctree: generated", ""]
        for item in mod.__all__:
            obj = getattr(mod, item)
            if isinstance(obj, type(sys)):  # sub-modules are documented in their own section
                continue
            if not (callable(obj) or isinstance(obj, type)):
                continue  # constants (e.g. DEMO_SEED) are described in their module docstring
            lines.append(f"   {item}")
        lines.append("")
    lines += ["Modules that define conventions", "-" * 31, "",
              "Their module docstrings state the formulas and conventions (covariances and small-sample factors, "
              "placebo kinds and p-values, event-time binning, spatial permutation p-values).", ""]
    for name in CONVENTION_MODULES:
        lines += [f".. automodule:: {name}", "   :no-members:", "   :no-index:", ""]
    (HERE / "api.rst").write_text("\n".join(lines), encoding="utf-8")


_write_api_page()

# Every tutorial can be downloaded as a Jupyter notebook: the jupytext scripts are converted here (unexecuted) into
# tutorials/_notebooks/, and each tutorial page gets a download link under its title (see _add_download_link).
NOTEBOOKS = HERE / "tutorials" / "_notebooks"


def _write_notebooks() -> None:
    import jupytext

    NOTEBOOKS.mkdir(exist_ok=True)
    for path in sorted((HERE / "tutorials").glob("t*.py")):
        jupytext.write(jupytext.read(path, fmt="py:percent"), NOTEBOOKS / f"{path.stem}.ipynb", fmt="ipynb")


_write_notebooks()


def _add_download_link(app, docname, source):
    """Put a download link to the tutorial's notebook right under its title (in the jupytext source)."""
    if not docname.startswith("tutorials/t") or not (NOTEBOOKS / f"{docname.split('/')[-1]}.ipynb").exists():
        return
    lines = source[0].split("\n")
    for i, line in enumerate(lines):
        if line.startswith("# # "):
            link = (f"# {{download}}`Download this tutorial as a Jupyter notebook <_notebooks/"
                    f"{docname.split('/')[-1]}.ipynb>` (run it top to bottom; it needs only econ).")
            lines[i + 1:i + 1] = ["#", link]
            break
    source[0] = "\n".join(lines)

# Docstring formatting problems of the package modules (owned by the estimator authors) are collected in
# build/docstring_warnings.txt instead of failing the build; every warning from the hand-written pages and the
# tutorials still fails it (``-W``).
_DOCSTRING_LOG = HERE / "build" / "docstring_warnings.txt"


_SEEN: set[str] = set()


class _DocstringWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        location = str(getattr(record, "location", "") or "")
        text = record.getMessage()
        if ("docstring of econ" in location or "generated/" in location or "<autosummary>" in location
                or "<autosummary>" in text or text.startswith("duplicate object description of econ.")):
            entry = f"{location if location.startswith('/') else ''}: {text}".lstrip(": ")
            if entry not in _SEEN:
                _SEEN.add(entry)
                _DOCSTRING_LOG.parent.mkdir(parents=True, exist_ok=True)
                with _DOCSTRING_LOG.open("a", encoding="utf-8") as fh:
                    fh.write(entry + "\n")
            return False
        return True


def _install_filter(*_):
    # First in each handler's chain, so Sphinx's warning counter (a later filter) never sees these records.
    for handler in logging.getLogger("sphinx").handlers:
        if not any(isinstance(f, _DocstringWarnings) for f in handler.filters):
            handler.filters.insert(0, _DocstringWarnings())


def setup(app):
    if _DOCSTRING_LOG.exists():
        _DOCSTRING_LOG.unlink()
    app.connect("source-read", _add_download_link)
    _install_filter()
    app.connect("builder-inited", _install_filter)


# The paper: ``make paper`` builds paper/build/paper.html from results/; when it exists it is copied next to the
# site's pages as paper.html (the paper page links to it and says how to build it otherwise).
_PAPER = HERE.parent / "paper" / "build" / "paper.html"
_EXTRA = HERE / "build" / "_extra"
html_extra_path = []
if _PAPER.exists():
    _EXTRA.mkdir(parents=True, exist_ok=True)
    (_EXTRA / "paper.html").write_bytes(_PAPER.read_bytes())
    html_extra_path = [str(_EXTRA)]
