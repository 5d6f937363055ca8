"""What :func:`econ.did.sdid` and :func:`econ.did.synth` results share: the declared extra fields, the ``ATT``
estimate, the in-time placebo sample, and the donor-weight figures (bars and map)."""

from __future__ import annotations

import pandas as pd

from econ.errors import SpecificationError
from econ.results import Result, figure, finish_figure


class FewTreatedResult(Result):
    """A :class:`~econ.results.Result` with term ``ATT`` and the extra fields its subclass declares.

    ``FIELDS`` maps each extra keyword of the constructor to the attribute that stores it; the other keywords go to
    :class:`~econ.results.Result`.
    """

    FIELDS: dict[str, str] = {}

    def __init__(self, coef, vcov, **kwargs):
        missing = [k for k in self.FIELDS if k not in kwargs]
        if missing:
            raise TypeError(f"{type(self).__name__}() missing keyword arguments {missing}")
        fields = {attr: kwargs.pop(key) for key, attr in self.FIELDS.items()}
        super().__init__(coef, vcov, **kwargs)
        vars(self).update(fields)

    @property
    def estimate(self) -> float:
        """The ATT (the ``ATT`` term; under staggered adoption, the cohort estimates aggregated)."""
        return float(self.coef["ATT"])

    def _drop_each(self, weights: pd.Series, fit, row, *, tol: float = 0.0, columns=None, **options):
        """Re-fit with ``fit`` without each unit whose weight exceeds ``tol``, one at a time.

        ``row(unit, refit)`` gives the table's row for each dropped unit; ``options`` override the settings.
        """
        s = self._settings
        units = list(weights.index)
        rows = []
        for u in weights.index[weights > tol]:
            kw = dict(s["kwargs"], **options, donors=[c for c in units if c != u])
            rows.append(row(u, fit(s["data"], s["y"], s["unit"], s["time"], s["treat"], **kw)))
        return pd.DataFrame(rows, columns=columns)


def in_time_sample(settings: dict, treated, adoption, period, times) -> pd.DataFrame:
    """The data before the real ``adoption``, with ``treated`` units "treated" from ``period`` on (a copy)."""
    if not (len(times) > 2 and times[1] < period < adoption):
        raise SpecificationError(f"in_time: period must lie after the second period and before the real "
                                 f"adoption ({adoption}); got {period!r}")
    s = settings
    d = s["data"]
    d = d[d[s["time"]] < adoption].copy()
    d[s["treat"]] = (d[s["unit"]].isin(set(treated)) & (d[s["time"]] >= period)).astype(int)
    return d


def plot_bars(w: pd.Series, title: str, ax, path):
    """The positive weights as horizontal bars, smallest at the bottom."""
    w = w[w > 0].sort_values()
    fig, ax = figure(ax, figsize=(6, max(2.5, 0.25 * len(w) + 1)))
    ax.barh([str(u) for u in w.index], w.to_numpy(), color="C0")
    ax.set_xlabel("weight")
    ax.set_title(title)
    return finish_figure(fig, ax, path)


def plot_weight_map(w: pd.Series, title: str, level: str, ax, path):
    """The weights on the bundled Chinese outlines; the units must be 6-digit administrative codes."""
    from econ.plot import choropleth

    codes = [str(u) for u in w.index]
    if not all(len(c) == 6 and c.isdigit() for c in codes):
        raise SpecificationError("kind='map' needs units that are 6-digit administrative codes "
                                 f"(e.g. province_code); got {codes[:3]}")
    fig, ax = choropleth(pd.Series(w.to_numpy(), index=codes), level=level, title=title, colorbar_label="weight",
                         ax=ax)
    return finish_figure(fig, ax, path)
