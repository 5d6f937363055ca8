"""Figures for DiD results (matplotlib; safe under the Agg backend). Every function returns ``(fig, ax)``.

Defaults aim at a journal page: zero line and treatment-onset line in grey, point estimates with pointwise
intervals as error bars, the uniform (sup-t) band as a light ribbon, no top/right spines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["plot_event_study", "plot_event_studies", "plot_placebo", "plot_coefficients", "plot_rollout"]

_DOCS = {"demo_setup": """\
>>> import matplotlib; matplotlib.use("Agg")
>>> import econ
>>> demo = econ.datasets.load("china_cities_demo")"""}


from econ._docs import doc
from econ.errors import SpecificationError
from econ.results import figure
from econ.results import figure as _axes
from econ.results import finish_figure, overlay_truth


@doc(**_DOCS)
def plot_event_study(result, *, ax=None, level: float = 0.95, uniform: bool = True, color: str = "C0",
                     label: str | None = None, dodge: float = 0.0, title: str | None = None,
                     xlabel: str = "Periods relative to treatment", ylabel: str | None = None,
                     figsize=(6.4, 4.0), path=None, truth=None):
    """Event-study plot: coefficients with pointwise intervals and the uniform (sup-t) band.

    Reference period(s) are drawn as hollow markers at zero, the treatment onset as a dashed vertical line.

    Parameters
    ----------
    result : EventStudyResult
        From :func:`econ.did.event_study`.
    {ax}
    level : float, default 0.95
        Coverage of the pointwise intervals (error bars) and of the uniform band.
    uniform : bool, default True
        Draw the sup-t band as a ribbon (:meth:`EventStudyResult.sup_t_critical`).
    color, label : str, optional
        Colour and legend label of the estimates.
    dodge : float, default 0.0
        Horizontal shift of the estimates (to put several models side by side).
    title, xlabel, ylabel : str, optional
        Axis texts (the y label defaults to "Effect on <outcome>").
    {figsize}
    {path}
    truth : SimulatedPanel, dict, Series or float, optional
        True effects of a simulated design, drawn as a black dashed line with crosses (0 before treatment; see
        :func:`econ.results.overlay_truth`).

    {plot_returns}

    Raises
    ------
    SpecificationError
        ``result`` is not an event-study result, or ``truth`` is of no accepted form.

    Examples
    --------
    {demo_setup}
    >>> es = econ.did.event_study(demo, "log_income_ratio", "prefecture_code", "year", "cohort", window=(-3, 3))
    >>> fig, ax = econ.did.plot_event_study(es, title="Broadband China (simulated)",
    ...                                     truth=econ.datasets.truth("china_cities_demo"))
    >>> ax.get_title(), sorted(t.get_text() for t in ax.get_legend().get_texts())[-1]
    ('Broadband China (simulated)', 'truth')
    """
    if not hasattr(result, "table") or not hasattr(result, "sup_t_critical"):
        raise SpecificationError(f"plot_event_study needs an EventStudyResult, got {type(result).__name__}")
    fig, ax = _axes(ax, figsize)
    table = result.table(level)
    x = table.index.to_numpy(dtype=float) + dodge
    est = table["estimate"].to_numpy()
    ref = table["is_ref"].to_numpy(dtype=bool)
    if uniform:
        ax.fill_between(x, table["band_low"], table["band_high"], color=color, alpha=0.15, linewidth=0,
                        label=None if label else f"{level:.0%} uniform band")
    yerr = np.vstack([est - table["ci_low"], table["ci_high"] - est])
    ax.errorbar(x[~ref], est[~ref], yerr=yerr[:, ~ref], fmt="o", color=color, ms=4, capsize=2, lw=1,
                label=label or f"estimate, {level:.0%} pointwise CI")
    ax.plot(x[ref], est[ref], "o", mfc="white", mec=color, ms=4)
    if truth is not None:
        overlay_truth(ax, table.index.to_numpy(), truth)
    _reference_lines(ax, result)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or f"Effect on {getattr(result, 'depvar', '') or 'outcome'}")
    if title:
        ax.set_title(title)
    ax.set_xticks(table.index.to_numpy())
    ax.legend(frameon=False, fontsize="small", title=f"{level:.0%} pointwise CI" if label else None,
              title_fontsize="small")
    return finish_figure(fig, ax, path)


def _reference_lines(ax, result):
    ax.axhline(0, color="0.5", lw=0.8)
    ref = sorted(getattr(result, "ref", [-1]))
    onset = max(r for r in ref if r < 0) + 0.5 if any(r < 0 for r in ref) else -0.5
    ax.axvline(onset, color="0.5", lw=0.8, ls="--")


@doc(**_DOCS)
def plot_event_studies(results: Sequence, labels: Sequence[str] | None = None, *, ax=None, level: float = 0.95,
                       uniform: bool = False, dodge: float = 0.12, title: str | None = None,
                       figsize=(6.4, 4.0), path=None, truth=None):
    """Several event studies (estimators, samples, specifications) on one axis, dodged so intervals do not overlap.

    Parameters
    ----------
    results : sequence of EventStudyResult
        The event studies to draw, in colours C0, C1, ...
    labels : sequence of str, optional
        Legend label of each (default "model 1", "model 2", ...).
    {ax}
    level : float, default 0.95
        Coverage of the pointwise intervals.
    uniform : bool, default False
        Also draw each uniform band (off by default to keep the figure legible).
    dodge : float, default 0.12
        Horizontal distance between neighbouring models.
    {title}
    {figsize}
    {path}
    truth : SimulatedPanel, dict, Series or float, optional
        True effects of a simulated design, drawn once (see :func:`econ.results.overlay_truth`).

    {plot_returns}

    Raises
    ------
    SpecificationError
        No results, a result that is not an event study, or as many labels as results not given.

    Examples
    --------
    {demo_setup}
    >>> a = econ.did.event_study(demo, "log_income_ratio", "prefecture_code", "year", "cohort", window=(-3, 3))
    >>> b = econ.did.event_study(demo, "log_income_ratio", "prefecture_code", "year", "cohort", window=(-3, 3),
    ...                          bin_endpoints=False)
    >>> fig, ax = econ.did.plot_event_studies([a, b], labels=["binned", "trimmed"])
    >>> sorted(t.get_text() for t in ax.get_legend().get_texts())[:2]
    ['binned', 'trimmed']
    """
    results = list(results)
    if not results:
        raise SpecificationError("give at least one event-study result")
    bad = [i for i, r in enumerate(results) if not hasattr(r, "table")]
    if bad:
        raise SpecificationError(f"results {bad} are not event-study results (they have no table())")
    labels = list(labels) if labels is not None else [f"model {i + 1}" for i in range(len(results))]
    if len(labels) != len(results):
        raise SpecificationError(f"{len(labels)} labels for {len(results)} results")
    fig, ax = _axes(ax, figsize)
    offsets = (np.arange(len(results)) - (len(results) - 1) / 2) * dodge
    for i, (res, lab, off) in enumerate(zip(results, labels, offsets)):
        plot_event_study(res, ax=ax, level=level, uniform=uniform, color=f"C{i}", label=lab, dodge=off,
                         title=title)
    if truth is not None:
        times = sorted({int(e) for res in results for e in res.table(level).index})
        overlay_truth(ax, times, truth)
    ax.legend(frameon=False, fontsize="small", title=f"estimates, {level:.0%} pointwise CI"
              + (f" ({level:.0%} uniform bands)" if uniform else ""), title_fontsize="small")
    return finish_figure(fig, ax, path)


@doc(**_DOCS)
def plot_placebo(result, *, ax=None, bins: int | str = "auto", kde: bool = True, color: str = "0.6",
                 title: str | None = None, figsize=(6.4, 4.0), path=None):
    """The placebo (randomization) distribution and where the actual estimate falls in it.

    A density-scaled histogram of the placebo draws, a Gaussian kernel density, and the actual estimate as a red
    vertical line labelled with the two-sided permutation p-value.

    Parameters
    ----------
    result : PlaceboResult
        From :func:`econ.did.placebo`.
    {ax}
    bins : int or str, default "auto"
        Histogram bins (as :func:`numpy.histogram_bin_edges`).
    kde : bool, default True
        Overlay a Gaussian kernel density of the draws.
    color : str, default "0.6"
        Colour of the histogram.
    {title}
    {figsize}
    {path}

    {plot_returns}

    Raises
    ------
    SpecificationError
        ``result`` is not a placebo result.

    Examples
    --------
    {demo_setup}
    >>> pl = econ.did.placebo(demo, "log_income_ratio", "prefecture_code", "year", cohort="cohort", n_draws=49,
    ...                       progress=False)
    >>> fig, ax = econ.did.plot_placebo(pl)
    >>> ax.get_ylabel()
    'Density'
    """
    from scipy.stats import gaussian_kde

    if not hasattr(result, "draws") or not hasattr(result, "estimate"):
        raise SpecificationError(f"plot_placebo needs a PlaceboResult, got {type(result).__name__}")

    fig, ax = _axes(ax, figsize)
    draws = np.asarray(result.draws, dtype=float)
    draws = draws[np.isfinite(draws)]
    ax.hist(draws, bins=bins, density=True, color=color, alpha=0.6, edgecolor="white", label="placebo draws")
    if kde and draws.size > 1 and np.ptp(draws) > 0:
        grid = np.linspace(min(draws.min(), result.estimate), max(draws.max(), result.estimate), 256)
        ax.plot(grid, gaussian_kde(draws)(grid), color="0.2", lw=1.2, label="kernel density")
    ax.axvline(result.estimate, color="C3", lw=1.5,
               label=f"actual estimate {result.estimate:.3g} (p = {result.pvalue:.3f})")
    ax.set_xlabel(f"TWFE estimate under placebo assignment ({result.kind})")
    ax.set_ylabel("Density")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize="small")
    return finish_figure(fig, ax, path)


@doc()
def plot_coefficients(table: pd.DataFrame, *, ax=None, title: str | None = None, color: str = "C0",
                      figsize=(6.4, 4.0), level: float = 0.95, path=None, truth=None):
    """Horizontal coefficient plot of a table of estimates (subgroup effects, channels...), one row per label.

    Parameters
    ----------
    table : DataFrame
        Columns ``estimate``, ``ci_low``, ``ci_high``, indexed by label (drawn top to bottom).
    {ax}
    {title}
    color : str, default "C0"
        Colour of the estimates.
    {figsize}
    level : float, default 0.95
        Coverage of the intervals in the table (used for the axis label and the legend only).
    {path}
    truth : float or mapping, optional
        True value of every row (a number) or by label (a mapping), drawn as black crosses.

    {plot_returns}

    Raises
    ------
    SpecificationError
        A required column is missing, or ``truth`` is of no accepted form.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from econ.did import plot_coefficients
    >>> table = pd.DataFrame({"estimate": [0.2, 0.5], "ci_low": [0.0, 0.3], "ci_high": [0.4, 0.7]},
    ...                      index=["east", "west"])
    >>> fig, ax = plot_coefficients(table, truth={"east": 0.25, "west": 0.45})
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['east', 'west']
    """
    missing = [c for c in ("estimate", "ci_low", "ci_high") if c not in getattr(table, "columns", [])]
    if missing:
        raise SpecificationError(f"plot_coefficients needs a table with columns estimate, ci_low, ci_high; "
                                 f"missing {missing}")
    fig, ax = _axes(ax, figsize)
    pos = np.arange(len(table))[::-1]
    est = table["estimate"].to_numpy()
    xerr = np.vstack([est - table["ci_low"].to_numpy(), table["ci_high"].to_numpy() - est])
    ax.errorbar(est, pos, xerr=xerr, fmt="o", color=color, capsize=2, ms=4, lw=1, label=f"estimate, {level:.0%} CI")
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(pos)
    ax.set_yticklabels([str(i) for i in table.index])
    ax.set_xlabel(f"Estimate with {level:.0%} CI")
    if truth is not None:
        overlay_truth(ax, pos, truth, by=None, keys=list(table.index), horizontal=True)
    ax.legend(frameon=False, fontsize="small")
    if title:
        ax.set_title(title)
    return finish_figure(fig, ax, path)


@doc()
def plot_rollout(data: pd.DataFrame, unit: str, time: str, cohort: str, *, ax=None, title: str | None = None,
                 max_labels: int = 40, figsize=(6.4, 4.0), path=None):
    """Treatment roll-out (``panelview``-style): a units x periods map of treatment status, coloured by cohort.

    Units are rows, sorted by cohort (earliest adopters on top, never-treated units at the bottom), periods are
    columns. A cell is coloured by its unit's cohort from the cohort's first treated period on, light grey while the
    unit is not (yet) treated and white where the unit is not observed. The cohorts are read by
    :func:`econ.did.design.build_design` with the package's rules (0 / missing / infinite = never treated; a cohort
    after the last period counts as never treated, with an :class:`econ.EconWarning`); always-treated units are kept
    and drawn (they are treated in every period), although the estimators drop them.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per (unit, time); never modified.
    unit, time, cohort : str
        Unit id, integer time and first-treated-period columns.
    {ax}
    {title}
    max_labels : int, default 40
        Label every unit on the y axis when there are at most this many; otherwise label the cohort blocks.
    {figsize}
    path : str or pathlib.Path, optional
        Also save the figure there (format from the suffix; see :func:`econ.results.finish_figure`).

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        The axes holds one image (rows: units in the drawn order) and a legend with one entry per cohort.

    Raises
    ------
    SpecificationError
        ``data`` is not a DataFrame, or a named column is missing.
    TreatmentError
        Bad cohort cells (naming rows), a cohort that varies within a unit, or no treated unit.
    PanelError
        Duplicate (unit, time) keys or non-integer time.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import econ
    >>> df = econ.datasets.load("mpdta")
    >>> fig, ax = econ.did.plot_rollout(df, "countyreal", "year", "first.treat")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['cohort 2004', 'cohort 2006', 'cohort 2007', 'not (yet) treated']
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from econ.did.design import NEVER, build_design

    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"plot_rollout needs a DataFrame, got {type(data).__name__}")
    design = build_design(data, None, unit, time, cohort, always_treated="keep", comparison=False)
    cohorts = design.cohorts
    never = (cohorts == NEVER).to_numpy()
    order = np.lexsort((np.arange(len(cohorts)), np.where(never, np.iinfo("int64").max, cohorts.to_numpy())))
    units = cohorts.index[order]
    unit_cohort = cohorts.to_numpy()[order]
    periods = design.periods
    levels = design.treated_cohorts
    frame = design.frame
    rows = pd.Index(units).get_indexer(frame[unit])
    cols = np.searchsorted(periods, frame[time].to_numpy())
    grid = np.full((len(units), len(periods)), np.nan)
    row_cohort = unit_cohort[rows]
    treated = (row_cohort != NEVER) & (frame[time].to_numpy() >= row_cohort)
    grid[rows, cols] = np.where(treated, np.searchsorted(levels, row_cohort) + 1, 0)
    colours = ["0.88"] + [f"C{i % 10}" for i in range(len(levels))]
    cmap = ListedColormap(colours).with_extremes(bad="white")
    fig, ax = figure(ax, figsize)
    ax.imshow(np.ma.masked_invalid(grid), aspect="auto", interpolation="nearest", cmap=cmap, vmin=-0.5,
              vmax=len(levels) + 0.5, extent=(-0.5, len(periods) - 0.5, len(units) - 0.5, -0.5))
    ax.set_xticks(np.arange(len(periods)))
    ax.set_xticklabels([str(p) for p in periods], rotation=90 if len(periods) > 8 else 0)
    blocks = [(g, np.flatnonzero(unit_cohort == g)) for g in [*levels, NEVER] if (unit_cohort == g).any()]
    for _, idx in blocks[:-1]:
        ax.axhline(idx[-1] + 0.5, color="white", lw=1.0)
    if len(units) <= max_labels:
        ax.set_yticks(np.arange(len(units)))
        ax.set_yticklabels([str(u) for u in units], fontsize="small")
    else:
        ax.set_yticks([idx.mean() for _, idx in blocks])
        ax.set_yticklabels([f"{'never' if g == NEVER else int(g)} ({len(idx)})" for g, idx in blocks],
                           fontsize="small")
    ax.set_xlabel(time)
    ax.set_ylabel(f"{unit} (by cohort)" if len(units) <= max_labels else f"{unit} by cohort (number of units)")
    handles = [Patch(color=colours[i + 1], label=f"cohort {int(g)}") for i, g in enumerate(levels)]
    handles.append(Patch(color=colours[0], label="not (yet) treated"))
    if np.isnan(grid).any():
        handles.append(Patch(facecolor="white", edgecolor="0.6", label="not observed"))
    ax.legend(handles=handles, frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return finish_figure(fig, ax, path)
