"""Goodman-Bacon (2021) decomposition of the staggered two-way fixed-effects DiD coefficient into 2x2 comparisons.

With units grouped by first treated period ``k`` (never-treated units form group ``U``; units treated from the
first panel period are "always treated", treatment share 1) and a balanced panel, the TWFE coefficient of
``y_it = a_i + l_t + beta D_it + e_it`` is the weighted average (Goodman-Bacon 2021, Theorem 1)

    beta_TWFE = sum_k s_kU b_kU + sum_{k earlier than l} (s_kl^k b_kl^k + s_kl^l b_kl^l),   sum of weights = 1,

of three kinds of 2x2 DiDs:

* ``treated vs never``: cohort ``k`` against ``U`` over the whole panel, before vs from ``k`` (eq. 10a);
* ``earlier vs later``: earlier cohort ``k`` against the not-yet-treated later cohort ``l``, over periods before
  ``l`` (eq. 10b);
* ``later vs earlier``: later cohort ``l`` against the already-treated earlier cohort ``k``, over periods from
  ``k`` on (eq. 10c) -- the "forbidden" comparison that uses treated units as controls and is biased when effects
  change over time (against always-treated units it is labelled ``later vs always treated``).

The weights (eq. 11) are products of group sizes ``n`` and the variance of treatment within each 2x2,
``D(1 - D)`` with ``D`` the share of periods treated, divided by the variance of the two-way-demeaned treatment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ.did import _design
from econ.did.design import build_design
from econ.errors import EconError, PanelError, TreatmentError
from econ.results import figure, finish_figure
from econ._tidy import SummaryRepr, standard_columns

__all__ = ["bacon", "BaconResult"]

TYPES = ("treated vs never", "earlier vs later", "later vs earlier", "later vs always treated")


class BaconResult(SummaryRepr):
    """Result of :func:`bacon`: the 2x2 comparisons with their weights and the TWFE coefficient they average to.

    Attributes
    ----------
    comparisons : DataFrame
        One row per 2x2: ``type``, ``treated`` and ``control`` (cohort; ``"never"`` for the never-treated group),
        ``estimate``, ``weight``.
    twfe : float
        The TWFE coefficient (``sum(weight * estimate)``, checked against a direct fit).
    depvar : str
        The outcome column.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import bacon
    >>> res = bacon(datasets.load("china_cities_demo"), "log_income_ratio", "prefecture_code", "year", "cohort")
    >>> res.by_type().round(3)
                      weight  estimate
    type
    treated vs never   0.948    -0.044
    earlier vs later   0.024    -0.022
    later vs earlier   0.028     0.002
    >>> round(res.twfe, 4), round(res.forbidden_share, 3)
    (-0.0425, 0.028)
    """

    def __init__(self, comparisons: pd.DataFrame, twfe: float, depvar: str, *, nobs: int | None = None,
                 n_units: int | None = None):
        self.nobs = nobs  # rows of the balanced panel decomposed
        self.n_units = n_units
        self.comparisons = comparisons
        self.twfe = float(twfe)
        self.depvar = depvar

    def tidy(self) -> pd.DataFrame:
        """One row per 2x2 comparison: ``term`` (``"<type>: <treated> vs <control>"``), ``estimate`` (the 2x2 DiD;
        no standard error, p-value or interval: NaN), then type, treated, control, weight."""
        c = self.comparisons
        term = c["type"].astype(str) + ": " + c["treated"].astype(str) + " vs " + c["control"].astype(str)
        return standard_columns(c, term=term)

    def by_type(self) -> pd.DataFrame:
        """Total weight and weighted-average estimate of each comparison type."""
        c = self.comparisons
        g = c.assign(we=c["weight"] * c["estimate"]).groupby("type", sort=False)
        out = pd.DataFrame({"weight": g["weight"].sum(), "estimate": g["we"].sum() / g["weight"].sum()})
        return out.reindex([t for t in TYPES if t in out.index])

    @property
    def forbidden_share(self) -> float:
        """Total weight of comparisons that use already-treated units as controls (later vs earlier / always)."""
        c = self.comparisons
        return float(c.loc[c["type"].isin(TYPES[2:]), "weight"].sum())

    def summary(self, digits: int = 4) -> str:
        """The TWFE coefficient (the weighted sum of the 2x2 estimates), the weight on comparisons with
        already-treated controls (:attr:`forbidden_share`), :meth:`by_type` and every 2x2 comparison (type,
        treated, control, estimate, weight), rounded to ``digits``."""
        lines = [f"Goodman-Bacon decomposition of the TWFE DiD coefficient -- dependent variable: {self.depvar}",
                 f"TWFE coefficient: {self.twfe:.{digits}f} (= sum of weight x estimate over "
                 f"{len(self.comparisons)} 2x2 comparisons)",
                 f"Weight on comparisons with already-treated controls: {self.forbidden_share:.{digits}f}", "",
                 self.by_type().round(digits).to_string(), "", self.comparisons.round(digits).to_string(index=False)]
        return "\n".join(lines)

    def plot(self, ax=None, path=None):
        """Each 2x2 estimate against its weight, coloured by type, with the TWFE coefficient as a line."""
        fig, ax = figure(ax, (6, 4))
        for i, kind in enumerate(TYPES):
            part = self.comparisons[self.comparisons["type"] == kind]
            if len(part):
                ax.scatter(part["weight"], part["estimate"], color=f"C{i}", label=kind, s=30)
        ax.axhline(self.twfe, color="0.3", lw=1, ls="--", label=f"TWFE = {self.twfe:.3g}")
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_xlabel("weight")
        ax.set_ylabel(f"2x2 DiD estimate ({self.depvar})")
        ax.legend(frameon=False, fontsize="small")
        return finish_figure(fig, ax, path)


def bacon(data: pd.DataFrame, y: str, unit: str, time: str, cohort: str, *, weights=None) -> BaconResult:
    """Goodman-Bacon (2021) decomposition of the staggered TWFE DiD coefficient.

    Parameters
    ----------
    data : DataFrame
        Balanced long panel, one row per (unit, time); never modified.
    y, unit, time : str
        Outcome, unit id and integer time columns.
    cohort : str
        First treated period of each unit (0 or missing = never treated). The treatment is ``D_it = 1[t >= cohort]``.
    weights : None
        Not accepted (a SpecificationError saying why): the decomposition is an identity for the unweighted TWFE
        coefficient (its 2x2 weights are shares of unweighted treatment variance); R ``bacondecomp`` and Stata
        ``bacondecomp`` take no weights either.

    Returns
    -------
    BaconResult
        ``tidy()`` (one row per 2x2: type, treated, control, estimate, weight), ``by_type()``, ``forbidden_share``,
        ``twfe``, ``summary()`` and ``plot()`` (estimate against weight).

    Raises
    ------
    PanelError
        The panel is not balanced (the decomposition's identity holds for balanced panels only).
    TreatmentError
        Invalid cohorts, or no comparison (one cohort and no never-treated units).
    SpecificationError
        ``weights`` given.

    Notes
    -----
    Estimates and weights follow Goodman-Bacon (2021), eqs. (10a)-(10c) and (11). The function checks the theorem
    on the data: the weights sum to one and ``sum(weight * estimate)`` equals the coefficient of a direct TWFE fit
    (``y ~ D | unit + time``) to 1e-8 (relative); a failure raises an error rather than returning a wrong number.

    References
    ----------
    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing. Journal of
    Econometrics 225(2), 254-277.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import bacon
    >>> res = bacon(datasets.load("china_cities_demo"), "log_income_ratio", "prefecture_code", "year", "cohort")
    >>> round(float(res.comparisons["weight"].sum()), 10)
    1.0
    """
    _design.refuse_weights(weights, "bacon", "the Goodman-Bacon decomposition is an identity for the unweighted TWFE "
                           "coefficient on a balanced panel (its 2x2 weights are shares of unweighted treatment "
                           "variance); use econ.did.twfe(weights=) for the weighted TWFE and att_gt, imputation or "
                           "sun_abraham with weights= for heterogeneity-robust weighted estimates")
    design = build_design(data, y, unit, time, cohort, balance="refuse")
    frame, cohorts, periods = design.frame, design.cohorts, design.periods
    g = frame[unit].map(cohorts).to_numpy(dtype="int64")
    t = frame[time].to_numpy(dtype="int64")
    yv = _design.numeric(frame, y)
    groups = np.unique(g)
    # group-by-period mean outcomes and group shares
    gi = np.searchsorted(groups, g)
    ti = np.searchsorted(periods, t)
    sums = np.zeros((len(groups), len(periods)))
    np.add.at(sums, (gi, ti), yv)
    sizes = np.bincount(gi, minlength=len(groups)) / len(periods)
    ybar = sums / sizes[:, None]
    share = sizes / sizes.sum()
    treated_share = np.array([np.mean(periods >= k) if k != _design.NEVER else 0.0 for k in groups])

    d = (t >= g).astype(float)
    vd = _demeaned_variance(d, gi, ti, len(groups), len(periods))
    rows = []
    never = groups == _design.NEVER
    for a in range(len(groups)):
        for b in range(len(groups)):
            if never[a] or treated_share[a] <= treated_share[b] or (never[b] and a == b):
                continue
            rows += _pair(a, b, groups, periods, ybar, share, treated_share, never, vd)
    comp = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    comp = comp[comp["weight"] > 0]
    order = comp["type"].map({k: i for i, k in enumerate(TYPES)})
    comp = comp.assign(_o=order).sort_values(["_o", "treated", "control"], key=lambda c: c.astype(str))
    comp = comp.drop(columns="_o").reset_index(drop=True)
    twfe = float(_design.fit(frame.assign(_bacon_d=d), y, ["_bacon_d"], [unit, time], "iid").coef["_bacon_d"])
    _check_identity(comp, twfe)
    return BaconResult(comp, twfe, y, nobs=len(frame), n_units=int(frame[unit].nunique()))


def _demeaned_variance(d, gi, ti, n_groups, n_periods) -> float:
    """Variance of the two-way demeaned treatment (balanced panel: D - unit mean - period mean + grand mean)."""
    unit_key = gi  # D depends on the unit only through its group
    unit_mean = np.bincount(unit_key, d, n_groups) / np.bincount(unit_key, minlength=n_groups)
    time_mean = np.bincount(ti, d, n_periods) / np.bincount(ti, minlength=n_periods)
    resid = d - unit_mean[unit_key] - time_mean[ti] + d.mean()
    return float(np.mean(resid**2))


def _pair(a, b, groups, periods, ybar, share, dshare, never, vd) -> list:
    """The 2x2 comparison(s) of treated-earlier group ``a`` with group ``b`` (never, later or always treated)."""
    n_ab = share[a] / (share[a] + share[b])
    scale = (share[a] + share[b]) ** 2 * n_ab * (1 - n_ab) / vd
    k = groups[a]
    label = lambda j: "never" if never[j] else int(groups[j])  # noqa: E731
    if never[b]:
        pre, post = periods < k, periods >= k
        est = _did(ybar[a], ybar[b], pre, post)
        return [("treated vs never", label(a), label(b), est, scale * dshare[a] * (1 - dshare[a]))]
    l_ = groups[b]  # b is treated later than a (strictly smaller share of treated periods)
    da, db = dshare[a], dshare[b]
    out = []
    if da < 1:  # a earlier vs b not yet treated, periods before l
        pre, mid = periods < k, (periods >= k) & (periods < l_)
        w = scale * (1 - db) ** 2 * ((da - db) / (1 - db)) * ((1 - da) / (1 - db))
        out.append(("earlier vs later", label(a), label(b), _did(ybar[a], ybar[b], pre, mid), w))
    mid, post = (periods >= k) & (periods < l_), periods >= l_
    w = scale * da**2 * (db / da) * ((da - db) / da)
    kind = "later vs earlier" if da < 1 else "later vs always treated"
    out.append((kind, label(b), label(a), _did(ybar[b], ybar[a], mid, post), w))
    return out


def _did(treated, control, pre, post) -> float:
    if not pre.any() or not post.any():
        return float("nan")
    return float((treated[post].mean() - treated[pre].mean()) - (control[post].mean() - control[pre].mean()))


def _check_identity(comp: pd.DataFrame, twfe: float) -> None:
    total = float(comp["weight"].sum())
    recon = float((comp["weight"] * comp["estimate"]).sum())
    tol = 1e-8 * max(1.0, abs(twfe))
    if abs(total - 1) > 1e-8 or abs(recon - twfe) > tol:
        raise EconError(f"internal check failed: Bacon weights sum to {total:.12g} and reproduce {recon:.12g}, "
                        f"but the TWFE coefficient is {twfe:.12g}; please report this with the data")
    if comp["estimate"].isna().any():
        raise TreatmentError("a 2x2 comparison with positive weight has no pre or post period")
