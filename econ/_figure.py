"""The one place figures are made and saved: :func:`figure` (new or given axes) and :func:`finish_figure`.

Every ``plot()`` in econ draws on ``figure(ax)`` and returns ``finish_figure(fig, ax, path)``, so ``ax=`` always
means "draw on this axes" and ``path=`` always means "also write the figure there". Re-exported by
:mod:`econ.results`.
"""

from __future__ import annotations

from econ.errors import SpecificationError

__all__ = ["figure", "finish_figure"]

#: Default resolution (dots per inch) of raster files written by ``plot(path=...)``: sharp on a projector or a
#: printed page. Overridden by a numeric ``matplotlib.rcParams["savefig.dpi"]`` or by ``finish_figure(dpi=...)``.
DPI = 200

def figure(ax=None, figsize=(6, 4)):
    """The ``(fig, ax)`` every ``plot()`` draws on: a new constrained-layout figure, or the figure of ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Draw on this axes (and its figure); ``None`` makes a new figure.
    figsize : tuple of float, default (6, 4)
        Size in inches of a new figure.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        The figure and axes, with the top and right spines hidden.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from econ.results import figure
    >>> fig, ax = figure(figsize=(3, 2))
    >>> ax.figure is fig
    True
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.figure
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def finish_figure(fig, ax, path=None, dpi=None):
    """Save ``fig`` to ``path`` when given (the one place plots are written) and return ``(fig, ax)``.

    Slide- and print-ready by default: a ``.svg`` (or ``.pdf``/``.eps``) path writes a vector figure, any raster
    suffix (``.png``, ``.jpg``...) is written at ``dpi`` dots per inch.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
    path : str or pathlib.Path, optional
        File to write, format from the suffix (``.svg`` is vector, ``.png`` raster); ``None`` writes nothing.
    dpi : float, optional
        Resolution of a raster file. ``None`` uses matplotlib's ``rcParams["savefig.dpi"]`` when it has been set to a
        number, else ``econ._figure.DPI`` (200); set ``matplotlib.rcParams["savefig.dpi"] = 300`` to change it for every
        ``plot(path=...)``. Ignored for vector formats.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        ``fig`` and ``ax`` unchanged.

    Raises
    ------
    SpecificationError
        ``path`` is a directory or cannot be written, or ``dpi`` is not a positive number.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from econ.results import figure, finish_figure
    >>> fig, ax = figure()
    >>> finish_figure(fig, ax) == (fig, ax)
    True
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = finish_figure(fig, ax, pathlib.Path(tmp) / "slide.svg")
    ...     (pathlib.Path(tmp) / "slide.svg").read_text()[:200].count("<svg")
    1
    """
    if path is not None:
        from pathlib import Path

        target = Path(path)
        if target.is_dir():
            raise SpecificationError(f"plot(path=...): {str(target)!r} is a directory; give a file name such as "
                                     "'figure.png'")
        dpi = _dpi(dpi)
        try:
            fig.savefig(target, dpi=dpi)
        except (OSError, ValueError) as exc:
            raise SpecificationError(f"plot(path=...): cannot write {str(target)!r}: {exc}") from None
    return fig, ax


def _dpi(dpi):
    if dpi is None:
        import matplotlib

        rc = matplotlib.rcParams["savefig.dpi"]
        return DPI if rc == "figure" else float(rc)
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not dpi > 0:
        raise SpecificationError(f"dpi must be a positive number, got {dpi!r}")
    return float(dpi)
