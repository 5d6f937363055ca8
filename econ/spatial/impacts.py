"""Direct, indirect and total effects of spatial models (LeSage & Pace 2009, pp. 33-42).

For regressor ``k`` with coefficient ``beta_k`` and (optional) lag coefficient ``theta_k`` the ``n x n`` matrix of
partial derivatives ``d y / d x_k'`` is

    S_k(W) = (I - rho W)^{-1} (beta_k I + theta_k W)        (SAR: theta_k = 0; SLX/SDEM/SEM: rho = 0),

and the reported scalars are averages over units (LeSage & Pace 2009, eq. 2.46, p. 38):

* direct   = tr(S_k) / n                       (the own-unit effect; includes ``theta_k tr(A^{-1} W)/n``, the
  feedback through neighbours -- spreg 1.9 leaves this ``theta`` term out of the direct effect of the SDM; R
  spatialreg, and econ, keep it);
* total    = 1' S_k 1 / n                      (the average row sum);
* indirect = total - direct                    (spillovers).

These are exact for any ``W`` (no row-standardisation assumed: the total uses ``1'(I - rho W)^{-1} 1`` and
``1'(I - rho W)^{-1} W 1``, which reduce to ``n / (1 - rho)`` only when every row sums to one).

How the traces are computed (cutoffs of the trace engine :mod:`econ.spatial.traces`): for ``n <= EIGEN_MAX_N``
(1,000, or whenever the fit computed them) from the eigenvalues ``l_i`` of ``W``
(exact, valid for any ``W``, diagonalisable or not): ``tr(A^{-1}) = sum 1/(1 - rho l_i)`` and
``tr(A^{-1} W) = sum l_i/(1 - rho l_i)``; the totals ``1'A^{-1}1`` and ``1'A^{-1}W1`` are ``1/(1 - rho c)`` and
``c/(1 - rho c)`` (times n) when every row of ``W`` sums to the same ``c``, and otherwise one sparse LU solve
``A'z = 1`` per draw. For larger ``n`` by the power series ``A^{-1} = sum_j rho^j W^j`` truncated at ``SERIES_ORDER`` terms (LeSage & Pace 2009, pp. 96-105),
with ``1'W^j 1`` exact (repeated sparse products) and ``tr(W^j)`` exact for ``j <= 2`` and Hutchinson
Monte-Carlo estimates (``PROBES`` = 100 Rademacher probes) beyond; for ``n <= EXACT_MAX_N`` (2,000) the
point effects use exact traces at the estimate (sparse LU solves) and the series, re-centred on them, serves only
the simulation draws; beyond, the estimated Monte-Carlo error is reported in the notes.

Inference by simulation (LeSage & Pace 2009; as spatialreg's ``impacts(..., R=)``): ``n_draws`` parameter
vectors are drawn from the estimated asymptotic normal ``N(coef, vcov)`` of ``(rho, beta, theta)``; each draw
gives the three effects. ``std_error`` is the standard deviation over draws, ``p_value`` the two-sided normal
p-value of ``estimate / std_error`` and ``conf_low``/``conf_high`` the percentile interval of the draws. The
``estimate`` is the point value at the estimates (not the mean of the draws). Draws with ``rho`` outside its
admissible interval are discarded (and counted in the notes).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse.linalg import splu

from econ._docs import doc
from econ._validate import check_n_draws, rng
from econ.errors import SpecificationError
from econ.results import figure, finish_figure, overlay_truth, stars
from econ.spatial import traces as _engine
from econ.spatial.logdet import eigenvalues as _eigenvalues
from econ._tidy import SummaryRepr, standard_columns

__all__ = ["ImpactsResult", "compute_impacts", "ImpactTraces"]

SERIES_ORDER = 120


class ImpactTraces:
    """The quantities of ``W`` the effects need, as functions of ``rho`` (vectorised over draws).

    ``direct(rho) -> (tr(A^{-1}) / n, tr(A^{-1}W) / n)`` and ``total(rho) -> (1'A^{-1}1 / n, 1'A^{-1}W1 / n)``.
    """

    def __init__(self, W, *, seed: int = 0, eigenvalues=None):
        W = sparse.csr_matrix(W, dtype=float)
        self.n = n = W.shape[0]
        self.error = 0.0
        self.note = None
        rows = np.asarray(W.sum(axis=1)).ravel()
        self._W = W
        self._row_sum = float(rows[0]) if np.allclose(rows, rows[0], rtol=1e-12, atol=1e-14) else None
        self._W1 = rows
        if n <= _engine.EIGEN_MAX_N or eigenvalues is not None:
            self._lam = _eigenvalues(W) if eigenvalues is None else np.asarray(eigenvalues)
            self.method = "eigen"
        else:
            self.method = "series"
            self._tr, self._se = _engine.power_traces(W, SERIES_ORDER + 1, seed=seed)
            mom = np.zeros(SERIES_ORDER + 2)
            v = np.ones(n)
            mom[0] = n
            for j in range(1, SERIES_ORDER + 2):
                v = W @ v
                mom[j] = v.sum()
            self._mom = mom

    def _series(self, rho, seq, shift: int):
        rho = np.atleast_1d(np.asarray(rho, float))
        j = np.arange(SERIES_ORDER + 1)
        return (rho[:, None] ** j[None, :]) @ seq[shift:shift + SERIES_ORDER + 1] / self.n

    def direct(self, rho):
        rho = np.atleast_1d(np.asarray(rho, float))
        if self.method == "eigen":
            d = 1.0 - rho[:, None] * self._lam[None, :]
            return (np.sum(1.0 / d, axis=1).real / self.n, np.sum(self._lam / d, axis=1).real / self.n)
        return self._series(rho, self._tr, 0), self._series(rho, self._tr, 1)

    def exact_direct(self, rho: float):
        """(tr(A^{-1}) / n, tr(A^{-1}W) / n) at one ``rho`` exactly: ``tr(A^{-1} W) = tr(G)`` from the trace engine
        (:func:`econ.spatial.traces.resolvent_traces`) and ``A^{-1} = I + rho G``."""
        tg = _engine.resolvent_traces(self._W, rho, exact=True)[0]
        return (self.n + rho * tg) / self.n, tg / self.n

    def direct_error(self, rho: float) -> float:
        """Monte-Carlo standard error of tr(A^{-1})/n in the series method (0 for eigen)."""
        if self.method == "eigen":
            return 0.0
        j = np.arange(SERIES_ORDER + 1)
        return float(np.sqrt(np.sum((np.abs(rho) ** j * self._se[:SERIES_ORDER + 1]) ** 2)) / self.n)

    def total(self, rho):
        rho = np.atleast_1d(np.asarray(rho, float))
        if self._row_sum is not None:  # W 1 = c 1: (I - rho W)^{-1} 1 = 1 / (1 - rho c)
            t0 = 1.0 / (1.0 - rho * self._row_sum)
            return t0, self._row_sum * t0
        if self.method == "eigen":  # exact: one sparse LU per distinct draw of rho, z = A^{-T} 1
            values, inverse = np.unique(rho, return_inverse=True)
            t0, t1 = np.empty(len(values)), np.empty(len(values))
            eye = sparse.identity(self.n, format="csc")
            one = np.ones(self.n)
            for i, r in enumerate(values):
                z = splu((eye - r * self._W).T.tocsc()).solve(one)
                t0[i], t1[i] = z.sum() / self.n, z @ self._W1 / self.n
            return t0[inverse], t1[inverse]
        return self._series(rho, self._mom, 0), self._series(rho, self._mom, 1)


def _effects(traces: ImpactTraces, rho, beta, theta, shift=(0.0, 0.0)):
    """(direct, indirect, total) arrays of shape (draws, k) for rho (draws,), beta/theta (draws, k)."""
    d0, d1 = traces.direct(rho)
    d0, d1 = d0 + shift[0], d1 + shift[1]
    t0, t1 = traces.total(rho)
    direct = d0[:, None] * beta + d1[:, None] * theta
    total = t0[:, None] * beta + t1[:, None] * theta
    return direct, total - direct, total


def compute_impacts(coef: pd.Series, vcov: pd.DataFrame, W, variables: list[str], lagged: dict,
                    *, has_rho: bool, n_draws: int = 1000, seed=0, level: float = 0.95,
                    interval=None, traces: ImpactTraces | None = None, title: str = "") -> "ImpactsResult":
    """Effects of ``variables`` (coefficient names; ``lagged[v]`` the name of its ``W.v`` coefficient, if any).

    ``has_rho``: whether the model has a spatial lag of ``y`` (coefficient ``rho``). Shared by cross-section and
    panel results (the effects depend only on ``W``, ``rho``, ``beta`` and ``theta``).
    """
    n_draws = check_n_draws(n_draws, minimum=0)
    if not 0 < level < 1:
        raise SpecificationError(f"level must be in (0, 1), got {level}")
    if not variables:
        raise SpecificationError("impacts: the model has no regressor besides the intercept")
    traces = traces if traces is not None else ImpactTraces(W, seed=0)
    names = (["rho"] if has_rho else []) + list(variables) + [lagged[v] for v in variables if v in lagged]
    mu = coef[names].to_numpy()
    k = len(variables)
    pos_theta = {v: i for i, v in enumerate(v for v in variables if v in lagged)}

    def split(draws):
        rho = draws[:, 0] if has_rho else np.zeros(len(draws))
        off = 1 if has_rho else 0
        beta = draws[:, off:off + k]
        theta = np.zeros_like(beta)
        for i, v in enumerate(variables):
            if v in pos_theta:
                theta[:, i] = draws[:, off + k + pos_theta[v]]
        return rho, beta, theta

    notes = []
    shift = (0.0, 0.0)
    if traces.method == "series":
        rho0 = float(mu[0]) if has_rho else 0.0
        if _engine.is_exact(traces.n):
            # exact traces at the estimate; the series (Monte-Carlo traces) only for the draws, re-centred on them
            series = traces.direct(rho0)
            exact = traces.exact_direct(rho0)
            shift = (exact[0] - float(series[0][0]), exact[1] - float(series[1][0]))
            notes.append(f"point effects exact; simulation draws use a power series of order {SERIES_ORDER} with "
                         f"Monte-Carlo traces ({_engine.PROBES} probes) re-centred on the exact traces")
        else:
            notes.append(f"traces of W^j by Monte-Carlo ({_engine.PROBES} probes) in a power series of order "
                         f"{SERIES_ORDER}; standard error of tr(A^-1)/n about {traces.direct_error(rho0):.1e}")
    point = _effects(traces, *split(mu[None, :]), shift=shift)
    rows = []
    effects = ("direct", "indirect", "total")
    if n_draws > 0:
        V = vcov.loc[names, names].to_numpy()
        draws = rng(seed).multivariate_normal(mu, (V + V.T) / 2, size=n_draws, method="eigh")
        if has_rho and interval is not None:
            ok = (draws[:, 0] > interval[0]) & (draws[:, 0] < interval[1])
            if not ok.all():
                notes.append(f"{int((~ok).sum())} of {n_draws} draws of rho outside its interval discarded")
            draws = draws[ok]
        sims = _effects(traces, *split(draws), shift=shift)
        alpha = 1 - level
    for e, name in enumerate(effects):
        for i, v in enumerate(variables):
            est = float(point[e][0, i])
            if n_draws > 0:
                s = sims[e][:, i]
                se = float(s.std(ddof=1))
                p = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan")
                lo, hi = np.quantile(s, [alpha / 2, 1 - alpha / 2])
            else:
                se = p = lo = hi = float("nan")
            rows.append({"variable": v, "effect": name, "estimate": est, "std_error": se, "p_value": p,
                         "conf_low": float(lo), "conf_high": float(hi)})
    table = pd.DataFrame(rows)
    return ImpactsResult(table, n_draws=n_draws, level=level, method=traces.method, notes=notes, title=title,
                         draws=None)


@doc()
class ImpactsResult(SummaryRepr):
    """Direct / indirect / total effects with simulated inference (see :mod:`econ.spatial.impacts`).

    Returned by :meth:`econ.spatial.SpatialResult.impacts`. ``tidy()`` has one row per (variable, effect) with
    ``estimate, std_error, p_value, conf_low, conf_high``; ``estimates()`` the point effects as a variable x
    effect table. Attributes: ``n_draws``, ``level``, ``method`` (``"eigen"`` or ``"series"``), ``notes``.

    Notes
    -----
    For regressor ``k`` the matrix of partial derivatives ``dy / dx_k'`` is
    ``S_k = (I - rho W)^{-1} (beta_k I + theta_k W)`` (``theta_k = 0`` without a lag of ``x_k``; ``rho = 0``
    without a lag of ``y``: SEM, SLX, SDEM). The scalar summaries are averages over the ``n`` units:

    * direct ``= tr(S_k) / n`` (own-unit effect, feedback through neighbours included; with the SDM this
      includes ``theta_k tr((I - rho W)^{-1} W) / n``, as R spatialreg -- spreg 1.9 leaves that term out);
    * total ``= 1' S_k 1 / n`` (average row sum; exact for any ``W``, not only row-standardised ones);
    * indirect ``= total - direct`` (spillovers).

    Traces are exact from the eigenvalues of ``W`` up to 1,000 units (or whenever the fit computed them);
    beyond, a power series in ``rho`` with Monte-Carlo traces of ``W^j``, with exact point effects up to 2,000
    units (both stated in ``notes``). Inference simulates ``n_draws`` parameter vectors from
    the estimated asymptotic normal ``N(coef, vcov)`` of ``(rho, beta, theta)``, discarding draws of ``rho``
    outside its admissible interval: ``std_error`` is the s.d. of the simulated effects (divisor ``n_draws -
    1``), ``p_value`` the two-sided normal p-value of ``estimate / std_error`` and ``conf_low``/``conf_high`` the
    percentile interval at ``level``. ``estimate`` is the effect at the point estimates, not the mean of the draws.

    References
    ----------
    LeSage, J. and Pace, R. K. (2009). *Introduction to Spatial Econometrics*. Boca Raton: CRC Press.

    Examples
    --------
    {spatial_example_data}
    >>> res = spatial.fit("y ~ x", df, W, model="sdm")
    >>> res.impacts(n_draws=200, seed=0).estimates().round(2)
    effect    direct  indirect  total
    variable
    x           2.05      1.49   3.54
    """

    def __init__(self, table: pd.DataFrame, *, n_draws: int, level: float, method: str, notes=None, title="",
                 draws=None):
        self._table = table
        self.nobs = self.n_units = None  # set by the fit that made it (rows and units of that fit)
        self.n_draws = n_draws
        self.level = level
        self.method = method
        self.notes = list(notes or [])
        self.title = title

    def tidy(self) -> pd.DataFrame:
        """One row per (variable, effect): term (``"<effect>: <variable>"``), estimate, std_error, p_value,
        conf_low, conf_high, then variable and effect."""
        t = self._table
        return standard_columns(t, term=(t["effect"].astype(str) + ": " + t["variable"].astype(str)).to_numpy())

    def estimates(self) -> pd.DataFrame:
        """Point effects as a variable x effect table."""
        return self._table.pivot(index="variable", columns="effect", values="estimate")[
            ["direct", "indirect", "total"]].loc[list(dict.fromkeys(self._table["variable"]))]

    def summary(self, digits: int = 4) -> str:
        """A table with one line per (variable, effect): the estimate, its simulation standard error and
        two-sided p-value with significance stars (``NA`` when ``n_draws=0``), ``digits`` decimals; the title,
        the number of draws and the notes around it."""
        lines = [f"Impacts (LeSage & Pace){' -- ' + self.title if self.title else ''}",
                 f"Inference: {self.n_draws} simulation draws" if self.n_draws else "Point values only (n_draws=0)"]
        header = f"{'variable':<20}{'effect':<10}{'estimate':>12}{'std.err':>12}{'p':>9}"
        lines += ["=" * len(header), header, "-" * len(header)]
        for r in self._table.itertuples(index=False):
            p = "NA" if not np.isfinite(r.p_value) else f"{r.p_value:.3f}"
            se = "NA" if not np.isfinite(r.std_error) else f"{r.std_error:.{digits}f}"
            lines.append(f"{str(r.variable):<20}{r.effect:<10}{r.estimate:>12.{digits}f}{se:>12}{p:>9}"
                         f" {stars(r.p_value)}")
        lines.append("=" * len(header))
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, path=None, *, truth=None):
        """Dot-and-whisker plot of the three effects per variable; returns ``(fig, ax)``.

        ``truth`` marks true impacts of a simulated design: ``{effect: {variable: value}}`` (effect ``"direct"``,
        ``"indirect"`` or ``"total"``) or ``{"<variable> (<effect>)": value}`` as the row labels read.
        """
        tid = self._table
        fig, ax = figure(ax, (6, 0.35 * len(tid) + 1.2))
        pos = np.arange(len(tid))[::-1]
        for j, eff in enumerate(("direct", "indirect", "total")):
            m = (tid["effect"] == eff).to_numpy()
            lo = tid["estimate"] - tid["conf_low"]
            hi = tid["conf_high"] - tid["estimate"]
            xerr = None if self.n_draws == 0 else [lo[m].fillna(0), hi[m].fillna(0)]
            ax.errorbar(tid["estimate"][m], pos[m], xerr=xerr, fmt="o", capsize=3, color=f"C{j}", label=eff)
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        labels = [f"{v} ({e})" for v, e in zip(tid["variable"], tid["effect"])]
        ax.set_yticks(pos, labels)
        if truth is not None:
            if isinstance(truth, Mapping) and all(isinstance(v, Mapping) for v in truth.values()):
                truth = {f"{var} ({eff})": val for eff, by_var in truth.items() for var, val in by_var.items()}
            overlay_truth(ax, pos, truth, by=None, keys=labels, horizontal=True)
        ax.legend(frameon=False)
        ax.set_xlabel(f"effect ({100 * self.level:g}% simulation interval)")
        return finish_figure(fig, ax, path)
