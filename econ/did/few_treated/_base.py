"""What :func:`econ.did.sdid` and :func:`econ.did.synth` results share: the declared extra fields, the ``ATT``
estimate, the in-time placebo sample, and the donor-weight figures (bars and map)."""

from __future__ import annotations

import pandas as pd

from econ._docs import doc
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

    # set by each subclass: the estimator that made it, which donors count, the extra leave-one-out columns
    _LOO_TOL = 0.0
    _LOO_COLUMNS = None
    _LOO_OPTIONS: dict = {}

    @staticmethod
    def _estimator(*args, **kwargs):
        raise NotImplementedError

    def _donor_weights(self) -> pd.Series:
        raise NotImplementedError

    def _loo_row(self, unit, refit) -> dict:
        raise NotImplementedError

    def _refit(self, data=None, **options):
        """The estimator again, on ``data`` (default: the fitted data) with the fit's settings and ``options``."""
        s = self._settings
        return self._estimator(s["data"] if data is None else data, s["y"], s["unit"], s["time"], s["treat"],
                               **dict(s["kwargs"], **options))

    @doc()
    def leave_one_out(self) -> pd.DataFrame:
        """Re-fit without each donor that has positive weight (SDID: in any cohort), one at a time.

        Returns
        -------
        pandas.DataFrame
            One row per dropped donor: ``dropped``, ``att`` (the re-fitted ATT), then for :func:`~econ.did.sdid`
            ``weight`` (its largest unit weight in the full fit), for :func:`~econ.did.synth` ``pre_rmspe`` and
            the gap path (``gap_<period>``).

        Examples
        --------
        {synth_example}
        >>> loo = res.leave_one_out()
        >>> bool((loo["att"] < 0).all())
        True
        """
        w = self._donor_weights()
        units = list(w.index)
        rows = []
        for u in w.index[w > self._LOO_TOL]:
            r = self._refit(**self._LOO_OPTIONS, donors=[c for c in units if c != u])
            rows.append({"dropped": u, "att": r.estimate, **self._loo_row(u, r)})
        return pd.DataFrame(rows, columns=self._LOO_COLUMNS)


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
