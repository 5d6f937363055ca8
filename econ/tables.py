"""``econ.etable``: regression tables in the style of Stata's esttab and R's fixest::etable.

One column per model: coefficients with significance stars, standard errors in parentheses below, then rows for
the fixed effects (Yes/No), observations, R², within R² and the type of standard errors. Works with any
:class:`econ.results.Result`. Output: Markdown (pipe table), LaTeX (``booktabs`` tabular) or HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from econ._validate import check_int
from econ.errors import SpecificationError
from econ.results import Result, stars as star_marks

__all__ = ["etable"]


def etable(
    results,
    format: str = "markdown",
    keep: Sequence[str] | str | None = None,
    drop: Sequence[str] | str | None = None,
    labels: Mapping[str, str] | None = None,
    digits: int = 3,
    stars: Sequence[float] = (0.1, 0.05, 0.01),
    file: str | Path | None = None,
    model_names: Sequence[str] | None = None,
    notes: str | None = None,
) -> str:
    """Side-by-side table of estimation results.

    Parameters
    ----------
    results : Result or list of Result
    format : {"markdown", "latex", "html"}
    keep, drop : regular expression(s)
        Terms are kept when they match any ``keep`` pattern (``re.search``; all kept by default), then removed when
        they match any ``drop`` pattern. Exact names are patterns too (metacharacters are escaped when the string
        is a term name).
    labels : dict
        Display names for terms, dependent variables and fixed effects (``{"x1": "Broadband pilot"}``).
    digits : int
        Decimals for coefficients and standard errors.
    stars : three p-value thresholds
        ``*``, ``**``, ``***`` for p below the first, second, third (default 0.1, 0.05, 0.01).
    file : path, optional
        Also write the table there (UTF-8; the folder must exist).
    model_names : list of str, optional
        Column headers (default ``(1)``, ``(2)``, ...).
    notes : str, optional
        Extra footnote line.

    Returns
    -------
    str

    Raises
    ------
    SpecificationError
        No Result given, an unknown ``format``, ``digits`` not an integer in 0..12, thresholds outside (0, 1),
        ``model_names`` of the wrong length, or a ``file`` in a folder that does not exist (folders are not created:
        a mistyped path is an error, not a new folder).

    Examples
    --------
    >>> import econ
    >>> df = econ.datasets.load("mpdta")
    >>> fit = econ.feols("lemp ~ lpop", df)
    >>> table = econ.etable(fit, digits=2)
    >>> "lpop" in table
    True
    """
    if isinstance(results, Result):
        results = [results]
    if isinstance(results, (str, bytes)) or not hasattr(results, "__iter__"):
        raise SpecificationError(f"etable() needs one or more econ Result objects, got {type(results).__name__}")
    results = list(results)
    if not results or not all(isinstance(r, Result) for r in results):
        raise SpecificationError("etable() needs one or more econ Result objects")
    if format not in ("markdown", "latex", "html"):
        raise SpecificationError(f"format must be 'markdown', 'latex' or 'html', got {format!r}")
    digits = check_int(digits, "digits", minimum=0, maximum=12)
    if file is not None:
        file = _check_file(file)
    levels = sorted(stars)
    if len(levels) == 0 or any(not 0 < s < 1 for s in levels):
        raise SpecificationError(f"stars must be p-value thresholds in (0, 1), got {stars!r}")
    labels = dict(labels or {})
    terms = _select_terms(results, keep, drop)
    names = list(model_names) if model_names else [f"({i + 1})" for i in range(len(results))]
    if len(names) != len(results):
        raise SpecificationError(f"{len(names)} model_names for {len(results)} results")

    header = [""] + names
    depvars = ["Dependent variable"] + [labels.get(r.depvar, r.depvar) for r in results]
    body: list[list[str]] = []
    for term in terms:
        est, se = [labels.get(term, term)], [""]
        for r in results:
            if term in r.coef.index:
                b, s, p = r.coef[term], r.se[term], r.pvalue[term]
                est.append(_num(b, digits) + _STAR_TOKEN + star_marks(p, levels))
                se.append(f"({_num(s, digits)})")
            else:
                est.append("")
                se.append("")
        body += [est, se]
    fes = list(dict.fromkeys(name for r in results for name in r.fe_levels))
    fe_rows = [[f"{labels.get(fe, fe)} FE"] + ["Yes" if fe in r.fe_levels else "No" for r in results] for fe in fes]
    stats = [
        ["Observations"] + [f"{r.nobs:,}" for r in results],
        [_R2] + [_num(r.r2, digits) if np.isfinite(r.r2) else "" for r in results],
    ]
    if any(np.isfinite(r.r2_within) for r in results):
        stats.append([_R2W] + [_num(r.r2_within, digits) if np.isfinite(r.r2_within) else "" for r in results])
    stats.append(["Std. errors"] + [_se_label(r) for r in results])
    marks = [("*" * (len(levels) - i)) + f" p<{lv:g}" for i, lv in enumerate(levels)][::-1]
    foot = "Standard errors in parentheses. " + ", ".join(marks) + "."
    if notes:
        foot += " " + notes
    show_dep = any(r.depvar for r in results)
    sections = [body, fe_rows, stats]
    render = {"markdown": _markdown, "latex": _latex, "html": _html}[format]
    text = render(header, depvars if show_dep else None, sections, foot)
    if file is not None:
        file.write_text(text, encoding="utf-8")
    return text


def _check_file(file) -> Path:
    """Where the table goes: a path whose folder exists (it is not created: a mistyped folder would silently
    collect tables)."""
    if not isinstance(file, (str, Path)) or not str(file):
        raise SpecificationError(f"file must be a path (str or Path), got {file!r}")
    path = Path(file)
    if path.is_dir():
        raise SpecificationError(f"file {str(path)!r} is a folder; give a file name in it, e.g. "
                                 f"{str(path / 'table.md')!r}")
    if not path.parent.is_dir():
        raise SpecificationError(f"cannot write the table to {str(path)!r}: the folder {str(path.parent)!r} does not "
                                 "exist; create it first (e.g. Path(folder).mkdir(parents=True)) or fix the path")
    return path


_STAR_TOKEN = "\x00"  # separates a number from its stars until the output format decides how to print them
_R2, _R2W = "\x01R2", "\x01WR2"


def _num(x: float, digits: int) -> str:
    if x is None or not np.isfinite(x):
        return "NA"
    return f"{x:,.{digits}f}" if abs(x) >= 1e4 else f"{x:.{digits}f}"


def _se_label(r: Result) -> str:
    vt = (r.vcov_type or "").strip()
    low = vt.lower()
    if r.cluster and ("cluster" in low or not vt):
        return f"Clustered ({r.cluster})" if "two-way" not in low else f"Two-way ({r.cluster})"
    if low.startswith("iid"):
        return "IID"
    if low.startswith("heteroskedasticity") or low.startswith("hetero"):
        return "Heteroskedasticity-robust"
    return vt or ""


def _patterns(p) -> list[str]:
    return [p] if isinstance(p, str) else list(p or [])


def _matches(term: str, pats: list[str]) -> bool:
    for pat in pats:
        if pat == term:
            return True
        try:
            if re.search(pat, term):
                return True
        except re.error:
            continue
    return False


def _select_terms(results, keep, drop) -> list[str]:
    terms = list(dict.fromkeys(t for r in results for t in r.coef.index))
    keep_p, drop_p = _patterns(keep), _patterns(drop)
    for pat in keep_p + drop_p:
        if pat not in terms:  # a term name may be an invalid pattern (``I(x**2)``); it then matches only itself
            try:
                re.compile(pat)
            except re.error as err:
                raise SpecificationError(f"keep/drop pattern {pat!r} is neither a term name nor a valid regular "
                                         f"expression ({err})") from err
    if keep_p:
        terms = [t for t in terms if _matches(t, keep_p)]
    if drop_p:
        terms = [t for t in terms if not _matches(t, drop_p)]
    return terms


# ------------------------------------------------------------------------------------------------ renderers
def _cell_md(s: str) -> str:
    s = s.replace(_R2W, "Within R²").replace(_R2, "R²")
    num, _, st = s.partition(_STAR_TOKEN)
    return (num + st).replace("|", "\\|")


def _markdown(header, depvars, sections, foot) -> str:
    lines = ["| " + " | ".join(_cell_md(c) for c in header) + " |",
             "|:---" + "|---:" * (len(header) - 1) + "|"]
    if depvars:
        lines.append("| " + " | ".join(_cell_md(c) for c in depvars) + " |")
    for sec in sections:
        if not sec:
            continue
        if len(lines) > 2 + bool(depvars):
            lines.append("| " + " | ".join([""] * len(header)) + " |")
        lines += ["| " + " | ".join(_cell_md(c) for c in row) + " |" for row in sec]
    return "\n".join(lines) + "\n\n" + foot + "\n"


_LATEX_ESCAPE = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _cell_tex(s: str) -> str:
    if s == _R2:
        return "$R^2$"
    if s == _R2W:
        return "Within $R^2$"
    num, _, st = s.partition(_STAR_TOKEN)
    esc = "".join(_LATEX_ESCAPE.get(ch, ch) for ch in num)
    return esc + (f"$^{{{st}}}$" if st else "")


def _latex(header, depvars, sections, foot) -> str:
    ncol = len(header)
    out = [r"\begin{tabular}{l" + "c" * (ncol - 1) + "}", r"\toprule"]
    out.append(" & ".join(_cell_tex(c) for c in header) + r" \\")
    if depvars:
        out.append(" & ".join(_cell_tex(c) for c in depvars) + r" \\")
    for sec in sections:
        if not sec:
            continue
        out.append(r"\midrule")
        out += [" & ".join(_cell_tex(c) for c in row) + r" \\" for row in sec]
    out.append(r"\bottomrule")
    out.append(r"\multicolumn{" + str(ncol) + r"}{l}{\footnotesize " + _cell_tex(foot) + r"}\\")
    out.append(r"\end{tabular}")
    return "\n".join(out) + "\n"


def _cell_html(s: str) -> str:
    if s == _R2:
        return "R<sup>2</sup>"
    if s == _R2W:
        return "Within R<sup>2</sup>"
    num, _, st = s.partition(_STAR_TOKEN)
    return html.escape(num) + (f"<sup>{st}</sup>" if st else "")


def _html(header, depvars, sections, foot) -> str:
    out = ['<table class="etable">', "<thead>"]
    out.append("<tr>" + "".join(f"<th>{_cell_html(c)}</th>" for c in header) + "</tr>")
    if depvars:
        out.append("<tr>" + "".join(f"<td>{_cell_html(c)}</td>" for c in depvars) + "</tr>")
    out.append("</thead>")
    for sec in sections:
        if not sec:
            continue
        out.append("<tbody>")
        out += ["<tr>" + "".join(f"<td>{_cell_html(c)}</td>" for c in row) + "</tr>" for row in sec]
        out.append("</tbody>")
    out.append(f'<tfoot><tr><td colspan="{len(header)}">{html.escape(foot)}</td></tr></tfoot>')
    out.append("</table>")
    return "\n".join(out) + "\n"
