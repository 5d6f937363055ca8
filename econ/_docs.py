"""Shared numpydoc fragments and the :func:`doc` decorator that writes them into docstrings.

Many public docstrings repeat the same sections word for word (the ``ax`` / ``path`` parameters and the
``(fig, ax)`` Returns of every ``plot``, the ``level`` parameter of every ``tidy``, the set-up lines of an
example). They are written once here. A docstring names a fragment on a line of its own, ``{name}``; :func:`doc`
replaces that line with the fragment, indented as the line was, when the module is imported, so ``__doc__``,
:func:`inspect.getdoc`, doctest, Sphinx autodoc/napoleon and ``tests/test_docstrings.py`` all see the final text
(the same idea as pandas' ``@doc`` and scipy's ``doccer``). Only whole lines of the form ``{name}`` are touched:
braces anywhere else in a docstring (dict literals, set-valued types) are left alone. An unknown name raises
``KeyError`` at import, so a typo cannot reach the documentation.
"""

from __future__ import annotations

import inspect
import re

__all__ = ["FRAGMENTS", "doc", "fill"]

FRAGMENTS: dict[str, str] = {
    # --- plots
    "ax": """\
ax : matplotlib.axes.Axes, optional
    Draw on this axes (default: a new figure).""",
    "path": """\
path : str or pathlib.Path, optional
    Also save the figure there (format from the suffix).""",
    "plot_returns": """\
Returns
-------
(matplotlib.figure.Figure, matplotlib.axes.Axes)
    The figure and the axes drawn on.""",
    "figsize": """\
figsize : (float, float), default (6.4, 4.0)
    Size of a new figure, in inches.""",
    "title": """\
title : str, optional
    Axes title.""",
    # --- tidy tables
    "level": """\
level : float in (0, 1), default 0.95
    Coverage of ``conf_low`` / ``conf_high``.""",
    "level_raises": """\
Raises
------
SpecificationError
    ``level`` outside (0, 1).""",
    # --- spatial examples: a SAR-type process on the mainland provinces (Hainan has no land border)
    "spatial_example_data": """\
>>> import numpy as np, pandas as pd
>>> from econ import datasets, spatial
>>> W = datasets.load_weights("china_province_contiguity")
>>> W = W.subset([u for u in W.ids if u not in W.islands]).row_standardize()  # Hainan has no land border
>>> rng = np.random.default_rng(1); x = rng.normal(size=W.n)
>>> y = np.linalg.solve(np.eye(W.n) - 0.5 * W.to_dense(), 1 + 2 * x + 0.5 * rng.normal(size=W.n))
>>> df = pd.DataFrame({"y": y, "x": x}, index=list(W.ids))""",
    # --- spatial examples: a chain of ``n`` units (each linked to its two neighbours); set ``n`` first
    "chain_weights": """\
>>> import numpy as np, pandas as pd
>>> from scipy import sparse
>>> import econ.spatial as sp
>>> W = sp.Weights(tuple(range(n)), sparse.diags([1.0, 1.0], [-1, 1], shape=(n, n)).tocsr())""",
    # --- spatial examples: four units on a path a-b-c-d
    "path_abcd": """\
>>> import numpy as np
>>> from econ.spatial import Weights
>>> w = Weights(list("abcd"), np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1))  # a path a-b-c-d""",
    # --- few-treated DiD examples: California's Proposition 99 (sdid, synth and their shared base)
    "sc_example": """\
>>> from econ import datasets
>>> from econ.did import sdid
>>> res = sdid(datasets.load("california_prop99"), "packs_per_capita", "state", "year", "treated",
...            estimator="sc", vcov="none")""",
    "sdid_example": """\
>>> from econ import datasets
>>> from econ.did import sdid
>>> res = sdid(datasets.load("california_prop99"), "packs_per_capita", "state", "year", "treated",
...            vcov="none")""",
    "synth_example": """\
>>> from econ import datasets
>>> from econ.did import synth
>>> res = synth(datasets.load("california_prop99"), "packs_per_capita", "state", "year", "treated",
...             placebo=False)""",
}

FRAGMENTS["level_parameters"] = "Parameters\n----------\n" + FRAGMENTS["level"]

_PLACEHOLDER = re.compile(r"^(\s*)\{(\w+)\}\s*$")


def fill(text: str, fragments: dict[str, str] | None = None) -> str:
    """Replace every line ``{name}`` of ``text`` with the fragment ``name``, indented as that line.

    Parameters
    ----------
    text : str
        A docstring (its common indentation is removed first, as :func:`inspect.cleandoc` does).
    fragments : dict of str to str, optional
        Extra fragments for this docstring only (they win over :data:`FRAGMENTS`).

    Returns
    -------
    str
        The docstring with the fragments in place.

    Raises
    ------
    KeyError
        A placeholder names no fragment.

    Examples
    --------
    >>> print(fill('''Plot.
    ...
    ...     Parameters
    ...     ----------
    ...     {ax}
    ...     '''))
    Plot.
    <BLANKLINE>
    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Draw on this axes (default: a new figure).
    """
    table = {**FRAGMENTS, **(fragments or {})}
    out = []
    for line in inspect.cleandoc(text).splitlines():
        m = _PLACEHOLDER.match(line)
        if m is None:
            out.append(line)
            continue
        indent, name = m.groups()
        if name not in table:
            raise KeyError(f"docstring fragment {{{name}}} is not defined; known: {sorted(table)}")
        out.extend((indent + part) if part else part for part in table[name].splitlines())
    return "\n".join(out)


def doc(**fragments: str):
    """Decorator: fill the ``{name}`` lines of a function's or class's docstring (see :func:`fill`).

    Parameters
    ----------
    **fragments : str
        Extra fragments for this docstring only.

    Returns
    -------
    callable
        The decorator; it returns the object it decorates (a function, class, classmethod or staticmethod), with
        ``__doc__`` filled (left alone under ``python -OO``, where there is no docstring).

    Raises
    ------
    KeyError
        A placeholder names no fragment (at import).

    Examples
    --------
    >>> @doc(what="x : int\\n    A number.")
    ... def f(x):
    ...     '''Identity.
    ...
    ...     Parameters
    ...     ----------
    ...     {what}
    ...     '''
    ...     return x
    >>> print(f.__doc__.splitlines()[-1])
        A number.
    """

    def decorate(obj):
        # a classmethod or staticmethod: fill its function's docstring (what inspect, doctest and Sphinx read)
        for target in (getattr(obj, "__func__", None), obj):
            if target is not None and target.__doc__:
                target.__doc__ = fill(target.__doc__, fragments)
        return obj

    return decorate
