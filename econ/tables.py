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
    rename: Mapping[str, str] | None = None,
    order: Sequence[str] | str | None = None,
) -> str:
    """Side-by-side table of estimation results.

    Parameters
    ----------
    results : result or list of results
        Any :class:`econ.results.Result`, and the staggered results: a Callaway-Sant'Anna aggregation, Sun-Abraham
        and imputation fits (their overall effect is the row ``ATT``), and :func:`econ.did.compare` results (one
        column per estimator compared). Event-time terms (``rel_m2``, ``rel_p0``...) are shown as ``e = -2``,
        ``e = 0`` and ordered by event time, so that paths of different estimators share rows. A
        :func:`econ.panel.mediation` result gives its three regressions (total, mediator, direct) as three
        columns. A :func:`econ.did.did_multiplegt` result gives its rows under their own names (``effect_1``...,
        ``placebo_1``...: periods since the first switch, not the ``e = k`` of absorbing designs) with the
        estimator "dCDH (switching)" and the control group "Not yet switched".
    format : {"markdown", "latex", "html"}
    keep, drop : regular expression(s)
        As fixest's ``etable``: terms are kept when they match any ``keep`` pattern (``re.search`` on the displayed
        name, after ``rename``; all kept by default), then removed when they match any ``drop`` pattern. A pattern
        starting with ``%`` matches the original name instead; one starting with ``!`` keeps (drops) the terms
        that do *not* match. Exact names are patterns too.
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
    rename : dict, optional
        Original term name -> displayed name (``{"treated": "ATT"}``); terms renamed to the same name share a row.
    order : regular expression(s), optional
        As fixest's ``etable``: terms matching the first pattern come first, then those matching the second, and so
        on; the rest keep their order after them. A pattern starting with ``!`` sends the terms that match it to
        the end.

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
    if isinstance(results, Result) or _is_compare(results) or _is_mediation(results) or _own_terms(results):
        results = [results]
    if isinstance(results, (str, bytes)) or not hasattr(results, "__iter__"):
        raise SpecificationError(f"etable() needs one or more econ Result objects, got {type(results).__name__}")
    results = [step for r in results for step in (r.steps() if _is_mediation(r) else [r])]
    if not results or not all(isinstance(r, Result) or _is_compare(r) or _own_terms(r) for r in results):
        raise SpecificationError("etable() needs one or more econ Result objects (or econ.did.compare, cont_did or "
                                 "did_multiplegt results)")
    if format not in ("markdown", "latex", "html"):
        raise SpecificationError(f"format must be 'markdown', 'latex' or 'html', got {format!r}")
    digits = check_int(digits, "digits", minimum=0, maximum=12)
    if file is not None:
        file = _check_file(file)
    levels = sorted(stars)
    if len(levels) == 0 or any(not 0 < s < 1 for s in levels):
        raise SpecificationError(f"stars must be p-value thresholds in (0, 1), got {stars!r}")
    labels = dict(labels or {})
    cols: list[_Column] = []
    default_names: list[str] = []
    for r in results:
        new = _columns(r, dict(rename or {}))
        cols += new
        default_names += [c.name for c in new]
    terms = _select_terms(cols, keep, drop, order)
    names = list(model_names) if model_names else [
        f"({i + 1})" + (f" {n}" if n else "") for i, n in enumerate(default_names)]
    if len(names) != len(cols):
        raise SpecificationError(f"{len(names)} model_names for {len(cols)} result columns")

    header = [""] + names
    depvars = ["Dependent variable"] + [labels.get(c.depvar, c.depvar) for c in cols]
    body: list[list[str]] = []
    for term in terms:
        est, se = [labels.get(term, term)], [""]
        for c in cols:
            if term in c.terms:
                b, s_, p = c.terms[term]
                est.append(_num(b, digits) + _STAR_TOKEN + star_marks(p, levels))
                se.append(f"({_num(s_, digits)})")
            else:
                est.append("")
                se.append("")
        body += [est, se]
    fes = list(dict.fromkeys(name for c in cols if c.fe is not None for name in c.fe))
    fe_rows = [[f"{labels.get(fe, fe)} FE"] + [_FE_NA if c.fe is None else ("Yes" if fe in c.fe else "No")
                                               for c in cols] for fe in fes]
    stats = [["Estimator"] + [c.estimator for c in cols]]
    if any(c.control for c in cols):
        stats.append(["Control group"] + [c.control for c in cols])
    stats.append(["Observations"] + [f"{c.nobs:,}" if c.nobs is not None else "" for c in cols])
    if any(c.n_units is not None for c in cols):
        stats.append(["Units"] + [f"{c.n_units:,}" if c.n_units is not None else "" for c in cols])
    if any(np.isfinite(c.r2) for c in cols):
        stats.append([_R2] + [_num(c.r2, digits) if np.isfinite(c.r2) else "" for c in cols])
    if any(np.isfinite(c.r2_within) for c in cols):
        stats.append([_R2W] + [_num(c.r2_within, digits) if np.isfinite(c.r2_within) else "" for c in cols])
    stats.append(["Std. errors"] + [c.se_label for c in cols])
    marks = [("*" * (len(levels) - i)) + f" p<{lv:g}" for i, lv in enumerate(levels)][::-1]
    foot = "Standard errors in parentheses. " + ", ".join(marks) + "."
    if any(c.fe is None for c in cols) and fes:
        foot += f" {_FE_NA}: no fixed-effects regression (differences within units and periods)."
    if notes:
        foot += " " + notes
    show_dep = any(getattr(r, "depvar", None) for r in results)
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


def _select_terms(cols, keep, drop, order) -> list[str]:
    shown = {}  # displayed name -> original names
    for c in cols:
        for t in c.terms:
            shown.setdefault(t, set()).update(c.original.get(t, {t}))
    terms = _event_sorted(list(shown))
    keep_p, drop_p, order_p = _patterns(keep), _patterns(drop), _patterns(order)
    for what, pats in (("keep/drop", keep_p + drop_p), ("order", order_p)):
        for pat in pats:
            raw = pat.lstrip("!%")
            if raw not in shown and not any(raw in o for o in shown.values()):
                try:  # a term name may be an invalid pattern (``I(x**2)``); it then matches only itself
                    re.compile(raw)
                except re.error as err:
                    raise SpecificationError(f"{what} pattern {pat!r} is neither a term name nor a valid regular "
                                             f"expression ({err})") from err
    hit = lambda t, pat: _hit(t, shown[t], pat)  # noqa: E731
    if keep_p:
        terms = [t for t in terms if any(hit(t, p) for p in keep_p)]
    if drop_p:
        terms = [t for t in terms if not any(hit(t, p) for p in drop_p)]
    if order_p:
        first, last, rest = [], [], list(terms)
        for pat in order_p:
            if pat.startswith("!"):
                last += [t for t in rest if hit(t, pat[1:])]
            else:
                first += [t for t in rest if hit(t, pat)]
            rest = [t for t in rest if t not in first and t not in last]
        terms = first + rest + last
    return terms


def _hit(term: str, originals, pat: str) -> bool:
    """fixest's pattern rules: ``!`` negates, ``%`` matches the original (un-renamed) names."""
    if pat.startswith("!"):
        return not _hit(term, originals, pat[1:])
    if pat.startswith("%"):
        return any(_matches(o, [pat[1:]]) for o in originals)
    return _matches(term, [pat])


_EVENT = re.compile(r"^e = (-?\d+)$")


def _event_sorted(terms: list[str]) -> list[str]:
    """Event-time rows (``e = k``) sorted by k, in one block where the first of them stood; others in order."""
    events = sorted((t for t in terms if _EVENT.match(t)), key=lambda t: int(_EVENT.match(t).group(1)))
    if not events:
        return terms
    out, placed = [], False
    for t in terms:
        if _EVENT.match(t):
            if not placed:
                out += events
                placed = True
        else:
            out.append(t)
    return out


# ------------------------------------------------------------------------------------------------ columns
_FE_NA = "\u2014"  # an em dash: the estimator is not a fixed-effects regression


class _Column:
    """One table column: displayed term -> (estimate, std. error, p-value), and the rows below the terms."""

    def __init__(self, name, terms, original, *, nobs, n_units, fe, estimator, control, depvar, r2=np.nan,
                 r2_within=np.nan, se_label=""):
        self.name, self.terms, self.original = name, terms, original
        self.nobs, self.n_units, self.fe = nobs, n_units, fe
        self.estimator, self.control, self.depvar = estimator, control, depvar
        self.r2, self.r2_within, self.se_label = r2, r2_within, se_label


def _is_compare(obj) -> bool:
    return type(obj).__name__ == "ComparisonResult" and hasattr(obj, "overall")


def _is_multiplegt(obj) -> bool:
    return type(obj).__name__ == "MultiplegtResult" and hasattr(obj, "table")


def _is_cont(obj) -> bool:
    return type(obj).__name__ == "ContDiDResult" and hasattr(obj, "overall_se")


def _own_terms(obj) -> bool:
    """Results whose terms are shown under their own names (no event-time rows, no fixed effects)."""
    return _is_multiplegt(obj) or _is_cont(obj)


def _is_mediation(obj) -> bool:
    return type(obj).__name__ == "MediationResult" and hasattr(obj, "steps")


_ESTIMATORS = {"ATTgtResult": "Callaway-Sant'Anna", "AggregateResult": "Callaway-Sant'Anna",
               "SunAbrahamResult": "Sun-Abraham", "ImputationResult": "Imputation (BJS)",
               "EventStudyResult": "TWFE event study", "SpatialDiDResult": "Spatial DiD",
               "SpatialResult": "Spatial ML", "ThresholdResult": "Panel threshold"}
_COMPARE = {"twfe": "TWFE", "cs": "Callaway-Sant'Anna", "sa": "Sun-Abraham", "imputation": "Imputation (BJS)"}
_CONTROL = {"never": "Never treated", "notyet": "Not yet treated", "last": "Last treated",
            "untreated": "Untreated obs.", "lowest": "Lowest dose"}


def _estimator(r: Result) -> str:
    name = _ESTIMATORS.get(type(r).__name__)
    if name:
        return name
    if r.fe_levels:
        return "TWFE" if len(r.fe_levels) >= 2 else "OLS + FE"
    return (r.model or "OLS").split(" (")[0]


def _control(r) -> str:
    spec = getattr(r, "spec", None)
    control = spec.get("control") if isinstance(spec, Mapping) else getattr(r, "extra", {}).get("control")
    if control is None and type(r).__name__ == "ImputationResult":
        control = "untreated"
    return _CONTROL.get(control, control or "")


def _columns(r, rename: dict) -> list[_Column]:
    if _is_compare(r):
        return _compare_columns(r, rename)
    if _is_multiplegt(r):
        return [_own_terms_column(r, r.tidy(), rename, "dCDH (switching)", "Not yet switched",
                                  f"Clustered ({r.cluster or r.unit})" if (r.cluster or r.unit) else "")]
    if _is_cont(r):
        return [_own_terms_column(r, r.tidy("overall"), rename, f"Dose DiD ({r.method})",
                                  _CONTROL.get(r.control, r.control or ""),
                                  f"Clustered ({r.cluster})" if r.cluster else "Clustered (units)")]
    tid = r.tidy()
    event = tid.set_index("term")["event_time"] if "event_time" in tid else None
    terms, original = {}, {}
    for t in r.coef.index:
        shown = rename.get(t, t)
        if shown == t and event is not None and t in event.index and np.isfinite(event[t]):
            shown = f"e = {int(event[t])}"
        terms[shown] = (float(r.coef[t]), float(r.se[t]), float(r.pvalue[t]))
        original.setdefault(shown, set()).add(t)
    overall = getattr(r, "overall_att", None)
    if overall is not None and "ATT" not in terms and getattr(r, "kind", None) is None:
        se = float(getattr(r, "overall_se", np.nan))
        z = overall / se if se > 0 else np.nan
        p = float(2 * r._dist().sf(abs(z))) if np.isfinite(z) else np.nan
        terms = {"ATT": (float(overall), se, p), **terms}
        original["ATT"] = {"ATT"}
    # Callaway-Sant'Anna and imputation are no fixed-effects regressions of the outcome: no Yes/No FE cells
    fe = None if isinstance(r, _influence_types()) or type(r).__name__ == "ImputationResult" else r.fe_levels
    return [_Column("", terms, original, nobs=r.nobs, n_units=getattr(r, "n_units", None), fe=fe,
                    estimator=_estimator(r), control=_control(r), depvar=r.depvar, r2=r.r2, r2_within=r.r2_within,
                    se_label=_se_label(r))]


def _own_terms_column(r, tidy, rename: dict, estimator: str, control: str, se_label: str) -> _Column:
    """did_multiplegt (effects and placebos by periods since the first switch) and cont_did (ATT^o, ACRT^o): each
    term under its own name, with the p-value of the result's own ``tidy``."""
    terms, original = {}, {}
    for row in tidy.itertuples(index=False):
        shown = rename.get(row.term, row.term)
        terms[shown] = (float(row.estimate), float(row.std_error), float(row.p_value))
        original.setdefault(shown, set()).add(row.term)
    return _Column("", terms, original, nobs=r.nobs, n_units=r.n_units, fe=None, estimator=estimator,
                   control=control, depvar=r.depvar, se_label=se_label)


def _influence_types() -> tuple:
    from econ.did.staggered._cs_result import InfluenceResult

    return (InfluenceResult,)


def _compare_columns(cmp, rename: dict) -> list[_Column]:
    overall = cmp.overall().set_index("estimator")
    paths = cmp.tidy()
    out = []
    for name in dict.fromkeys(paths["estimator"]):
        terms, original = {}, {}
        if name in overall.index:
            row = overall.loc[name]
            shown = rename.get("ATT", "ATT")
            se = float(row["std_error"])
            p = float(2 * _norm_sf(abs(row["estimate"] / se))) if se > 0 else np.nan
            terms[shown] = (float(row["estimate"]), se, p)
            original[shown] = {"ATT"}
        for r in paths[paths["estimator"] == name].itertuples(index=False):
            terms[f"e = {int(r.event_time)}"] = (float(r.estimate), float(r.std_error), float(r.p_value))
            original[f"e = {int(r.event_time)}"] = {f"e = {int(r.event_time)}"}
        res = cmp.results.get(name)
        out.append(_Column(_COMPARE.get(name, name), terms, original, nobs=getattr(res, "nobs", None),
                           n_units=getattr(res, "n_units", None),
                           fe=getattr(res, "fe_levels", None) if name == "twfe" else None,
                           estimator=_COMPARE.get(name, name), control=_control(res) if res is not None else "",
                           depvar=cmp.depvar, se_label=_se_label(res) if isinstance(res, Result) else ""))
    return out


def _norm_sf(z: float) -> float:
    from scipy import stats

    return float(stats.norm.sf(z))


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


def _cell(s: str, r2_labels: dict, escape, stars) -> str:
    """One cell in a markup: an R² row label from ``r2_labels``, else the escaped number with its stars."""
    if s in r2_labels:
        return r2_labels[s]
    num, _, st = s.partition(_STAR_TOKEN)
    return escape(num) + (stars(st) if st else "")


def _tex_escape(num: str) -> str:
    head, caret, sup = num.partition("^")
    if caret and sup.isalnum():  # a superscripted label such as cont_did's ATT^o: ATT$^{o}$
        return _tex_escape(head) + f"$^{{{sup}}}$"
    return "".join(_LATEX_ESCAPE.get(ch, ch) for ch in num).replace(_FE_NA, "---")  # an em dash, ASCII input


def _cell_tex(s: str) -> str:
    return _cell(s, {_R2: "$R^2$", _R2W: "Within $R^2$"}, _tex_escape, lambda st: f"$^{{{st}}}$")


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
    return _cell(s, {_R2: "R<sup>2</sup>", _R2W: "Within R<sup>2</sup>"}, html.escape, lambda st: f"<sup>{st}</sup>")


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
