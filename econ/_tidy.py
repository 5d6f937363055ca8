"""What every ``tidy()`` and printed table in econ shares: the standard columns (see
:class:`econ.results.ResultProtocol`), significance stars, interval labels and number formats. Re-exported by
:mod:`econ.results`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from econ.errors import SpecificationError

TIDY_COLUMNS = ("term", "estimate", "std_error", "p_value", "conf_low", "conf_high")


class SummaryRepr:
    """A mixin: the printed form of a result is its ``summary()`` (the class must have one)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return self.summary()


class CrossSectionCounts:
    """``nobs`` and ``n_units`` of a statistic on one cross-section of ``W``: both are ``n``, one row per unit.

    A mixin for the spatial statistics results (global and local Moran, Geary, join counts); the class must have
    an attribute ``n``.
    """

    __slots__ = ()

    @property
    def nobs(self) -> int:
        """Observations: one per unit of ``W``; ``n_units`` is the same number (a cross-section)."""
        return self.n

    n_units = nobs


class CountsOfFit:
    """``nobs`` and ``n_units`` of the regression a result is built on: the attribute named by ``_counts_from``
    (e.g. the pooled regression of a subgroup comparison, the fixed-effects fit of a Hausman test)."""

    __slots__ = ()
    _counts_from = ""

    @property
    def nobs(self) -> int:
        """Rows used by the underlying regression (the attribute named by ``_counts_from``)."""
        return getattr(self, self._counts_from).nobs

    @property
    def n_units(self) -> int | None:
        """Units of the underlying regression."""
        return getattr(self, self._counts_from).n_units


def standard_columns(frame: pd.DataFrame, **columns) -> pd.DataFrame:
    """``frame`` with the six standard columns first and its own columns after (a copy; nothing renamed).

    Each keyword names a standard column and gives its values: the name of a column of ``frame`` (copied), or
    values / a constant. A standard column neither in ``frame`` nor given is NaN (e.g. the standard error of a
    test statistic).
    """
    out = frame.copy()
    for name, src in columns.items():
        out[name] = out[src] if isinstance(src, str) and src in out else src
    for col in TIDY_COLUMNS:
        if col not in out:
            out[col] = np.nan
    return out[[*TIDY_COLUMNS, *[c for c in out.columns if c not in TIDY_COLUMNS]]]


def stars(p: float, levels: Sequence[float] = (0.1, 0.05, 0.01)) -> str:
    """``***``/``**``/``*`` for ``p`` below the third/second/first of ``levels`` (econ-journal convention).

    Parameters
    ----------
    p : float
        A p-value; ``None`` or non-finite gives no stars.
    levels : sequence of float, default (0.1, 0.05, 0.01)
        Significance levels; one star per level that ``p`` is below.

    Returns
    -------
    str
        ``""``, ``"*"``, ``"**"`` or ``"***"`` (with the default levels).

    Examples
    --------
    >>> from econ.results import stars
    >>> stars(0.003), stars(0.03), stars(0.07), stars(0.5)
    ('***', '**', '*', '')
    """
    if p is None or not np.isfinite(p):
        return ""
    marks = sorted(levels)
    for i, level in enumerate(marks):
        if p < level:
            return "*" * (len(marks) - i)
    return ""


def _ci_labels(level: float) -> tuple[str, str]:
    """Names of the interval bounds, as pyfixest: ``("2.5%", "97.5%")`` for ``level=0.95``."""
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, (int, float, np.integer, np.floating)) \
            or not 0 < level < 1:
        raise SpecificationError(f"level must be a number in (0, 1), got {level!r}")
    alpha = 1 - level
    return f"{100 * alpha / 2:g}%", f"{100 * (1 - alpha / 2):g}%"


def _fmt(x: float, digits: int) -> str:
    if x is None or not np.isfinite(x):
        return "NA" if x is None or math.isnan(x) else str(x)
    return f"{x:.{digits}f}"


def _fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "NA"
    return "<0.001" if p < 0.001 else f"{p:.3f}"
