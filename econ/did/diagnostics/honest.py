"""Rambachan and Roth (2023) sensitivity analysis: robust confidence sets when parallel trends may fail.

With event-study estimates ``beta = (beta_pre, beta_post)`` (reference period -1 left out) and covariance
``Sigma``, write ``beta = tau + delta`` with ``tau_pre = 0``; the target is ``theta = l' tau_post``. The violation
``delta`` is restricted to a set ``Delta`` indexed by one parameter:

* ``"relative_magnitudes"``, ``Delta^RM(Mbar)``: every post-period change ``|delta_{t+1} - delta_t|`` is at most
  ``Mbar`` times the largest pre-period change (Rambachan and Roth 2023). It is a union of polyhedra, one per
  location and sign of the largest pre-period change; the confidence set is the union of theirs (as Rambachan and
  Roth 2023 and HonestDiD do);
* ``"smoothness"``, ``Delta^SD(M)``: the slope of ``delta`` changes by at most ``M`` between consecutive periods
  (``|(delta_{t+1} - delta_t) - (delta_t - delta_{t-1})| <= M``, Rambachan and Roth 2023), ``M = 0`` being a
  linear trend.

For each polyhedron ``{A delta <= d}`` the robust set collects the ``theta`` on a grid that the Andrews, Roth and
Pakes (2023) conditional test does not reject (Rambachan and Roth 2023): the moments are ``Y = A beta - d``,
the test statistic is ``eta = max_g g'Y(theta)`` over the vertices ``g`` of
``{g >= 0, g'X = 0, g'sigma_Y = 1}`` (``X`` the nuisance directions of ``tau_post``), and it is compared with a
truncated-normal critical value given the optimal vertex; the hybrid ``"C-LF"`` (default, as HonestDiD's for
``Delta^RM``) first rejects when ``eta`` exceeds the least-favourable critical value at size ``kappa = alpha/10``,
and the hybrid ``"C-F"`` (``Delta^SD`` only) first rejects outside the size-``kappa`` FLCI, then conditions on
being inside it (both run the second stage at ``(alpha - kappa)/(1 - kappa)``).

Conventions are R HonestDiD's (docs/conventions.md): the default ``M`` grid is ``DeltaSD_upperBound_Mpre`` (the
reference period's zero included, both signs), ``Delta^RM`` takes every pre-period change (moderndid 0.2 skips
the first one; with its polyhedra and grid the sets here equal its ``didhonest`` exactly), and results without an
omitted reference period (imputation) are refused. On mpdta (dynamic, universal base, ``Mbar = 1``, event time 0)
the C-LF set is [-0.0735, 0.0383]; diff-diff 3.13 reports [-0.0676, 0.0277], the identified set widened by
``1.96 se``, which is not HonestDiD's confidence set.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats

from econ import _validate
from econ.did import _paths
from econ.errors import SpecificationError
from econ.results import figure, finish_figure
from econ._tidy import standard_columns

__all__ = ["honest", "HonestResult", "honest_ci"]

MAX_VERTEX_BASES = 400_000  # dual bases enumerated exactly; beyond this the target has too many post periods
LF_DRAWS = 1000  # draws behind the least-favourable critical value (HonestDiD's sims)


class HonestResult:
    """Result of :func:`honest`: robust confidence sets over a grid of the restriction parameter.

    Attributes
    ----------
    table : DataFrame
        One row per parameter value (``Mbar`` or ``M``): ``lb``, ``ub`` of the robust set; the first row is the
        original (parallel trends) interval.
    breakdown : float
        The largest parameter value for which the robust set still excludes zero (NaN when even the original
        interval covers zero); found by bisection to 1e-3 of the grid's upper end.
    method, ci_method, target, l_vec, level, event_times
        The options of :func:`honest` that produced the sets, the target's weights ``l`` and the event times used.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import event_study, honest
    >>> es = event_study(datasets.load("china_cities_demo"), "log_income_ratio", "prefecture_code", "year",
    ...                  "cohort", window=(-4, 3))
    >>> res = honest(es, Mbar=[0, 0.5, 1], grid_points=200)
    >>> res.tidy()[["term", "conf_low", "conf_high", "method"]].round(3)
             term  conf_low  conf_high    method
    0    original    -0.021     -0.010  original
    1    Mbar = 0    -0.021     -0.010      C-LF
    2  Mbar = 0.5    -0.024     -0.006      C-LF
    3    Mbar = 1    -0.028     -0.002      C-LF
    >>> bool(res.breakdown > 1)  # the robust set still excludes 0 when post-period violations exceed pre-period ones
    True
    """

    def __init__(self, table, breakdown, method, ci_method, target, l_vec, level, event_times, original):
        self.table = table
        self.breakdown = breakdown
        self.method = method
        self.ci_method = ci_method
        self.target = target
        self.l_vec = l_vec
        self.level = level
        self.event_times = event_times
        self.original = original
        self.nobs = self.n_units = None  # rows and units of the event study analysed (set by honest())

    @property
    def parameter(self) -> str:
        """Name of the restriction parameter, the column of :meth:`tidy`: ``"Mbar"`` for relative magnitudes
        (each post-period change of the trend violation is at most ``Mbar`` times the largest pre-period change),
        ``"M"`` for smoothness (the slope of the violation changes by at most ``M`` between periods)."""
        return "Mbar" if self.method == "relative_magnitudes" else "M"

    def tidy(self) -> pd.DataFrame:
        """parameter value, conf_low, conf_high, method (original interval first, parameter NaN)."""
        rows = [{self.parameter: np.nan, "conf_low": self.original[0], "conf_high": self.original[1],
                 "method": "original"}]
        rows += [{self.parameter: r[self.parameter], "conf_low": r["lb"], "conf_high": r["ub"],
                  "method": self.ci_method} for _, r in self.table.iterrows()]
        out = pd.DataFrame(rows)
        term = ["original"] + [f"{self.parameter} = {v:g}" for v in out[self.parameter].iloc[1:]]
        return standard_columns(out, term=term)  # a robust confidence set has no point estimate: NaN

    def summary(self, digits: int = 4) -> str:
        """The restriction (relative magnitudes or smoothness), the confidence-set method and level, the target
        parameter, the :meth:`tidy` table (original interval, then one robust set per parameter value) and the
        breakdown value, rounded to ``digits``."""
        restr = ("relative magnitudes (Delta^RM)" if self.method == "relative_magnitudes"
                 else "smoothness (Delta^SD)")
        lines = [f"Rambachan-Roth sensitivity: {restr}, {self.ci_method} confidence sets at {self.level:.0%}",
                 f"Target: {self.target}", self.tidy().round(digits).to_string(index=False),
                 f"Breakdown value of {self.parameter} (largest value whose set excludes 0): "
                 + ("none (the original interval covers 0)" if not np.isfinite(self.breakdown)
                    else f"{self.breakdown:.{digits}g}")]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def plot(self, ax=None, path=None):
        """Robust intervals against the restriction parameter, the original interval on the left."""
        fig, ax = figure(ax, (6, 4))
        tid = self.tidy()
        grid = tid[self.parameter].to_numpy(dtype=float)[1:]
        step = np.diff(grid).min() if len(grid) > 1 else 1.0
        x = np.concatenate([[grid[0] - step], grid])
        mid = (tid["conf_low"] + tid["conf_high"]) / 2
        err = np.vstack([mid - tid["conf_low"], tid["conf_high"] - mid])
        ax.errorbar(x[:1], mid[:1], yerr=err[:, :1], fmt="none", capsize=3, ecolor="0.4", label="original")
        ax.errorbar(x[1:], mid[1:], yerr=err[:, 1:], fmt="none", capsize=3, ecolor="C0", label=self.ci_method)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xticks(x, ["original"] + [f"{g:g}" for g in grid])
        ax.set_xlabel(self.parameter)
        ax.set_ylabel(f"{self.level:.0%} robust confidence set")
        ax.set_title(self.target, fontsize="small")
        ax.legend(frameon=False, fontsize="small")
        return finish_figure(fig, ax, path)


def honest(result, *, method: str = "relative_magnitudes", Mbar=None, M=None, target=None, level: float = 0.95,
           ci: str | None = None, grid_points: int = 1000, seed: int = 0) -> HonestResult:
    """Rambachan and Roth (2023) robust confidence sets for an event-study result.

    Parameters
    ----------
    result
        An event study with an omitted reference period -1: :func:`econ.did.event_study`,
        :func:`econ.did.sun_abraham` or a Callaway-Sant'Anna
        ``att_gt(..., base_period="universal").aggregate("dynamic")``. Its event-time estimates and full
        covariance are used; pre-periods are the event times ``< -1``, post-periods ``>= 0``, and the event times
        must be consecutive. Imputation (:func:`econ.did.imputation`) results are refused: their leads and
        effects have no common reference period (see Raises).
    method : {"relative_magnitudes", "smoothness"}
    Mbar : sequence of float, optional
        Grid for ``relative_magnitudes`` (default 10 values from 0 to 2, HonestDiD's ``Mbarvec``).
    M : sequence of float, optional
        Grid for ``smoothness``; default as R HonestDiD's ``createSensitivityResults``: 10 values from 0 to
        ``DeltaSD_upperBound_Mpre``, the largest one-sided 95% upper confidence bound ``+-D beta + 1.645 se`` of
        the second differences of the pre-period path *with the reference period's 0 appended* (both signs), so
        two pre-periods suffice; with one pre-period, 0 to its standard error. (moderndid 0.2 uses the
        pre-periods only and one sign, which gives a negative grid for a concave pre-trend.)
    target : None, int, "average" or sequence of float
        The parameter ``theta = l' tau_post``. Default: the effect in the first post-period (event time 0), which
        is HonestDiD's ``l_vec`` default. An int picks that event time; ``"average"`` the mean of all post-periods;
        a sequence gives ``l`` (one weight per post-period).
    level : float
        Confidence level (``alpha = 1 - level``).
    ci : {"C-LF", "conditional", "FLCI", "C-F"}, optional
        HonestDiD's defaults: ``"C-LF"`` for relative magnitudes (the ARP conditional test hybridised with the
        least-favourable test, first-stage size ``kappa = alpha/10``, ``seed`` for its 1000 draws) and ``"FLCI"``
        for smoothness (the fixed-length interval of the optimal affine estimator, Rambachan and Roth 2023; it is
        not valid for relative magnitudes; HonestDiD's ``createSensitivityResults`` uses "C-F" by default only
        with monotonicity or sign restrictions, which are not offered here). ``"conditional"`` is the pure ARP
        conditional test. ``"C-F"`` (smoothness only) is the conditional test hybridised with the FLCI, HonestDiD's
        ``computeConditionalCS_DeltaSD(hybrid_flag = "FLCI")``: ``theta`` outside the FLCI at size
        ``kappa = alpha/10`` is rejected, inside it the conditional test runs at ``(alpha - kappa)/(1 - kappa)``
        conditioning also on the FLCI event; its ``theta`` grid is that FLCI (as HonestDiD).
    grid_points : int
        Points of the ``theta`` grid (default 1000, as HonestDiD); the grid spans the interval HonestDiD uses.
    seed : int
        Seed of the least-favourable draws (default 0, HonestDiD's).

    Returns
    -------
    HonestResult
        ``tidy()`` (original interval, then one robust set per parameter value), ``breakdown``, ``summary()``,
        ``plot()``.

    Raises
    ------
    SpecificationError
        Unknown method or target, ``ci="FLCI"`` or ``"C-F"`` with relative magnitudes, non-consecutive event
        times, no pre-period, a negative parameter, more post periods than the exact dual-vertex enumeration
        handles, or an imputation result (its leads -K..-1 are
        relative to the periods before -K and its effects to the mean of all untreated periods: there is no
        omitted reference period where the violation is 0).

    Notes
    -----
    Every grid point is tested (no bisection over ``theta``): for a polyhedron the test statistic and the
    truncation bounds ``[v_lo, v_up]`` come in closed form from all vertices of the dual feasible set (for the
    optimal vertex ``g*`` with ``b = Sigma_Y g*/g*'Sigma_Y g*`` and ``S = Y - b g*'Y``, ``g*`` stays optimal for
    ``Y = S + b c`` exactly while ``g'S + (g'b) c <= c`` for every vertex ``g``), which is what HonestDiD's primal
    formulas and dual bisection compute. As in HonestDiD, with more than one post-period only the moments that
    involve post-periods enter the test, and the robust set is reported as ``[min, max]`` of the accepted grid
    points. The least-favourable draws are ``numpy.random.default_rng(seed).multivariate_normal`` with
    ``LF_DRAWS = 1000`` (HonestDiD draws with R's generator, so C-LF sets can differ from R in the third digit).
    ``Delta^RM`` uses every pre-period change, including the one between the first two pre-periods (as R
    HonestDiD; moderndid 0.2 skips it). The FLCI solves, for each bound ``h`` on the estimator's s.d., the convex
    minimum-bias problem with SLSQP and minimises the half-length over ``h`` (bounded Brent), also checking the
    minimum-variance and minimum-bias estimators. For ``"C-F"`` with FLCI weights ``w`` and half-length ``chi``
    (at size ``kappa``), ``r = w'beta - theta``: the first stage rejects when ``|r| > chi``; otherwise, along the
    optimal vertex's statistic ``t``, ``w'beta`` moves by ``v (t - eta)`` with ``v = w'Sigma A'g / g'Sigma_Y g``,
    so ``|r| <= chi`` bounds ``t`` by ``eta + (+-chi - r)/v`` and these bounds tighten ``[v_lo, v_up]`` (what
    HonestDiD's ``vbar``/``dbar`` truncation computes, ``A'vbar = w``).

    References
    ----------
    Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends. Review of Economic Studies
    90(5), 2555-2591. Andrews, I., Roth, J. and Pakes, A. (2023). Inference for linear conditional moment
    inequalities. Review of Economic Studies 90(6), 2763-2791.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import event_study, honest
    >>> df = datasets.load("china_cities_demo")
    >>> es = event_study(df, "log_income_ratio", "prefecture_code", "year", "cohort", window=(-4, 3))
    >>> res = honest(es, Mbar=[0, 1], grid_points=200)
    >>> list(res.tidy()["method"])
    ['original', 'C-LF', 'C-LF']
    """
    _validate.check_choice(method, "method", ["relative_magnitudes", "smoothness"])
    if ci is None:
        ci = "C-LF" if method == "relative_magnitudes" else "FLCI"
    _validate.check_choice(ci, "ci", ["C-LF", "C-F", "conditional", "FLCI"])
    if ci in ("FLCI", "C-F") and method == "relative_magnitudes":
        raise SpecificationError(f"ci={ci!r} is valid only for method='smoothness' (Delta^RM is not convex, so it "
                                 "has no FLCI); use 'C-LF' or 'conditional'")
    seed = _validate.check_seed(seed)
    grid_points = _validate.check_int(grid_points, "grid_points", minimum=10)
    if not 0 < level < 1:
        raise SpecificationError(f"level must be in (0, 1), got {level}")
    if hasattr(result, "pretrend_result"):
        raise SpecificationError(
            "honest() does not take an imputation (BJS) result: its leads -K..-1 come from a regression on untreated "
            "observations whose reference is the periods before -K, while its effects are relative to the average "
            "of every untreated period, so there is no omitted reference period at which the trend violation is "
            "0, which Rambachan-Roth sets need (inserting one between -1 and 0 would shift every restriction by a "
            "period). Use event_study, sun_abraham or att_gt(..., base_period='universal').aggregate('dynamic')")
    e, b, sigma = _paths.event_path(result)
    if -1 in e:
        raise SpecificationError(
            "the event study estimates event time -1, so its pre-period estimates are not relative to one reference "
            "period (Callaway-Sant'Anna with base_period='varying'?); Rambachan-Roth bounds need a common reference: "
            "use att_gt(..., base_period='universal')")
    n_pre, n_post = _split(e)
    l_vec, label = _target(target, e[n_pre:])
    alpha = 1 - level
    if method == "relative_magnitudes":
        if M is not None:
            raise SpecificationError("relative_magnitudes takes Mbar=, not M=")
        grid = _grid(Mbar, "Mbar", list(np.linspace(0, 2, 10)))
    else:
        if Mbar is not None:
            raise SpecificationError("smoothness takes M=, not Mbar=")
        grid = _grid(M, "M", None) if M is not None else _default_m(b, sigma, n_pre, alpha)
    run = lambda p: honest_ci(b, sigma, n_pre, n_post, method, p, l_vec, alpha, ci, grid_points, seed)  # noqa
    rows = [dict(zip(["Mbar" if method == "relative_magnitudes" else "M", "lb", "ub"], (p, *run(p))))
            for p in grid]
    table = pd.DataFrame(rows)
    sd = float(np.sqrt(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    q = stats.norm.ppf(1 - alpha / 2)
    est = float(l_vec @ b[n_pre:])
    original = (est - q * sd, est + q * sd)
    breakdown = _breakdown(run, original, float(max(grid)) if len(grid) else 1.0)
    out = HonestResult(table, breakdown, method, ci, label, l_vec, level, e, original)
    out.nobs, out.n_units = getattr(result, "nobs", None), getattr(result, "n_units", None)
    return out


def honest_ci(betahat, sigma, n_pre: int, n_post: int, method: str, parameter: float, l_vec, alpha: float = 0.05,
              ci: str = "C-LF", grid_points: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Robust confidence set ``(lb, ub)`` for ``l' tau_post`` at one value of ``Mbar`` (or ``M``).

    The numerical core of :func:`honest`, on a coefficient vector (pre-periods first, reference left out) and its
    covariance -- the same inputs as HonestDiD's ``createSensitivityResults*``. NaNs when no grid point is
    accepted.
    """
    betahat, sigma, l_vec = (np.asarray(a, dtype=float) for a in (betahat, sigma, l_vec))
    if ci in ("FLCI", "C-F") and method == "relative_magnitudes":
        raise SpecificationError(f"ci={ci!r} is valid only for method='smoothness'")
    sd_theta = float(np.sqrt(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    if method == "relative_magnitudes":
        pre = np.concatenate([betahat[:n_pre], [0.0]])
        max_pre = float(np.max(np.abs(np.diff(pre))))
        center = float(betahat[n_pre:] @ l_vec)
        half = parameter * float(np.arange(1, n_post + 1) @ np.abs(l_vec)) * max_pre + 20 * sd_theta
        theta = np.linspace(center - half, center + half, grid_points)
        accept = _rm_accepted(betahat, sigma, n_pre, n_post, parameter, l_vec, theta, alpha, ci, seed)
    elif ci == "FLCI":
        return _flci(betahat, sigma, n_pre, n_post, l_vec, float(parameter), alpha)
    else:
        A = _sd_constraints(n_pre, n_post)
        d = np.full(len(A), float(parameter))
        flci = None
        if ci == "C-F":  # HonestDiD's grid: the FLCI at level 1 - kappa, outside which the first stage rejects
            w, chi = _flci_parts(sigma, n_pre, n_post, l_vec, float(parameter), alpha / 10)
            flci = (w, chi)
            lo, hi = float(w @ betahat) - chi, float(w @ betahat) + chi
        else:
            lo, hi = _sd_identified_set(parameter, n_pre, n_post, l_vec)
            lo, hi = lo - 20 * sd_theta, hi + 20 * sd_theta
        theta = np.linspace(lo, hi, grid_points)
        accept = _accepted(A, d, betahat, sigma, n_pre, n_post, l_vec, theta, alpha, ci, seed, flci)
    if not accept.any():
        return float("nan"), float("nan")
    return float(theta[accept].min()), float(theta[accept].max())


def _rm_accepted(betahat, sigma, n_pre, n_post, mbar, l_vec, theta, alpha, ci, seed, changes=None):
    """Grid points accepted for the union Delta^RM(Mbar): one polyhedron per location ``s`` of the largest
    pre-period change (``changes``, default every one, ``-n_pre..-1``: the change from period ``s`` to ``s+1``
    counted from the reference) and per sign."""
    accept = np.zeros(len(theta), dtype=bool)
    for s in range(-n_pre, 0) if changes is None else changes:
        for positive in (True, False):
            A = _rm_constraints(n_pre, n_post, mbar, s, positive)
            accept |= _accepted(A, np.zeros(len(A)), betahat, sigma, n_pre, n_post, l_vec, theta, alpha, ci, seed)
    return accept


# ----------------------------------------------------------------------------------------------- inputs
def _split(e):
    pre, post = e[e < 0], e[e >= 0]
    if len(post) == 0:
        raise SpecificationError("the event study has no post-period (event time >= 0) estimate")
    if len(pre) == 0:
        raise SpecificationError("the event study has no pre-period estimate: Rambachan-Roth bounds need "
                                 "pre-trends (for imputation, fit it with pretrends=K)")
    if np.any(np.diff(post) != 1) or post[0] != 0 or np.any(np.diff(pre) != 1):
        raise SpecificationError(f"event times must be consecutive around the reference period; got {e.tolist()}")
    return len(pre), len(post)


def _target(target, post_times):
    n = len(post_times)
    if target is None:
        l_vec = np.eye(n)[0]
        return l_vec, "effect at event time 0 (first post-period; HonestDiD's default l_vec)"
    if isinstance(target, str):
        if target != "average":
            raise SpecificationError(f"target must be None, an event time, 'average' or weights; got {target!r}")
        return np.full(n, 1.0 / n), f"average effect over event times 0..{post_times[-1]}"
    if np.isscalar(target):
        k = _validate.check_int(target, "target")
        if k not in post_times:
            raise SpecificationError(f"target event time {k} is not a post-period; post-periods: "
                                     f"{post_times.tolist()}")
        return np.eye(n)[list(post_times).index(k)], f"effect at event time {k}"
    l_vec = np.asarray(target, dtype=float).reshape(-1)
    if l_vec.shape[0] != n or not np.all(np.isfinite(l_vec)) or not l_vec.any():
        raise SpecificationError(f"target weights must be {n} finite numbers (one per post-period), not all zero")
    return l_vec, f"l' tau_post with l = {np.round(l_vec, 4).tolist()}"


def _grid(values, name, default):
    vals = default if values is None else (list(values) if np.ndim(values) else [values])
    try:
        out = [float(v) for v in vals]
    except (TypeError, ValueError):
        raise SpecificationError(f"{name} must be non-negative numbers, got {values!r}") from None
    if not out or any(not np.isfinite(v) or v < 0 for v in out):
        raise SpecificationError(f"{name} must be non-negative numbers, got {values!r}")
    return sorted(out)


def _default_m(b, sigma, n_pre, alpha):
    """R HonestDiD's default ``Mvec``: ``seq(0, DeltaSD_upperBound_Mpre(...), length.out = 10)`` (alpha 0.05
    whatever the level, as R), or ``seq(0, sqrt(sigma[1, 1]))`` with one pre-period."""
    if n_pre == 1:
        return list(np.linspace(0, float(np.sqrt(sigma[0, 0])), 10))
    return list(np.linspace(0, upper_bound_m(b, sigma, n_pre), 10))


def upper_bound_m(betahat, sigma, n_pre: int, alpha: float = 0.05) -> float:
    """HonestDiD's ``DeltaSD_upperBound_Mpre``: the largest one-sided ``1 - alpha`` upper confidence bound of the
    pre-period second differences, both signs, the reference period's 0 included.

    The rows are those of HonestDiD's ``.create_A_SD(numPrePeriods, 0)``: second differences over the
    ``n_pre`` pre-periods followed by the reference period (its column dropped, ``delta_ref = 0``), stacked with
    their negatives; needs ``n_pre >= 2``.
    """
    A = _sd_constraints(n_pre, 0)
    b, S = np.asarray(betahat, float)[:n_pre], np.asarray(sigma, float)[:n_pre, :n_pre]
    se = np.sqrt(np.clip(np.diag(A @ S @ A.T), 0, None))
    return float(np.max(A @ b + stats.norm.ppf(1 - alpha) * se))


def _breakdown(run, original, top):
    """Largest parameter whose robust set excludes zero (bisection on [0, 4 x grid top])."""
    def excludes(p):
        lb, ub = run(p)
        return np.isfinite(lb) and (lb > 0 or ub < 0)

    if original[0] <= 0 <= original[1] or not excludes(0.0):
        return float("nan")
    hi = 4 * max(top, 1e-8)
    if excludes(hi):
        return float("inf")
    lo = 0.0
    while hi - lo > 1e-3 * top:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if excludes(mid) else (lo, mid)
    return lo


# ----------------------------------------------------------------------------------------------- restrictions
def _first_differences(n_pre, n_post):
    """Rows ``delta_{t+1} - delta_t`` over all n_pre + n_post + 1 periods (reference included, at n_pre)."""
    T = n_pre + n_post + 1
    return np.eye(T)[1:] - np.eye(T)[:-1]


def _second_differences(n):
    return np.eye(n)[2:] - 2 * np.eye(n)[1:-1] + np.eye(n)[:-2] if n >= 3 else np.zeros((0, n))


def _rm_constraints(n_pre, n_post, mbar, s, positive):
    """``A delta <= 0`` for Delta^RM with the largest pre-period change at ``(s, s+1)`` of sign ``positive``."""
    F = _first_differences(n_pre, n_post)
    ref = np.zeros(F.shape[1])
    ref[n_pre + s], ref[n_pre + s + 1] = -1.0, 1.0
    ref = ref if positive else -ref
    bound = np.vstack([np.tile(ref, (n_pre, 1)), np.tile(mbar * ref, (n_post, 1))])
    A = np.vstack([F - bound, -F - bound])
    A = A[~np.all(np.abs(A) < 1e-12, axis=1)]
    return np.delete(A, n_pre, axis=1)


def _sd_constraints(n_pre, n_post):
    """Second differences over all periods (reference included then dropped), both signs: ``A delta <= M``."""
    D = _second_differences(n_pre + n_post + 1)
    D = np.delete(D, n_pre, axis=1)
    return np.vstack([D, -D])


def _sd_identified_set(m, n_pre, n_post, l_vec):
    """Identified set of ``l' tau_post`` under Delta^SD(M) at beta = 0 (the grid's centre in HonestDiD)."""
    from scipy.optimize import linprog

    A = _sd_constraints(n_pre, n_post)
    n = n_pre + n_post
    c = np.concatenate([np.zeros(n_pre), l_vec])
    A_eq = np.hstack([np.eye(n_pre), np.zeros((n_pre, n_post))])
    out = []
    for sign in (1.0, -1.0):
        res = linprog(sign * c, A_ub=A, b_ub=np.full(len(A), m), A_eq=A_eq, b_eq=np.zeros(n_pre),
                      bounds=[(None, None)] * n, method="highs")
        out.append(sign * res.fun if res.success else np.nan)
    # theta = l'(beta_post - delta_post) with beta = 0: bounds are minus those of l'delta_post
    return -out[1], -out[0]


# ----------------------------------------------------------------------------------------------- FLCI
def _flci(betahat, sigma, n_pre, n_post, l_vec, m, alpha):
    """Fixed-length CI ``(lb, ub)`` under Delta^SD(M): the estimate ``w' beta`` +- the half-length of
    :func:`_flci_parts`."""
    w, chi = _flci_parts(sigma, n_pre, n_post, l_vec, m, alpha)
    est = float(w @ betahat)
    return est - chi, est + chi


def _flci_parts(sigma, n_pre, n_post, l_vec, m, alpha):
    """Weights ``w = (l_pre, l)`` of the optimal affine estimator and the half-length of its fixed-length CI.

    Fixed-length CI of Rambachan and Roth 2023 (Armstrong-Kolesar affine estimator) under Delta^SD(M).

    The estimator is ``l_pre' beta_pre + l' beta_post`` with ``l_pre`` the second differences of the cumulative
    pre-period weights ``u = (u_0 .. u_{n-2}, c)``, ``c = sum_s s l_s`` (so that linear trends are removed). Its
    worst-case bias over Delta^SD(M) is ``M (K + sum_{s<n-1} |u_s| + |c|)`` with ``K = sum_s |sum_{j<=s} j l_{T-s+j}|
    - c`` and its half-length ``sd * cv_alpha(bias / sd)``, ``cv_alpha(t)`` the ``1 - alpha`` quantile of
    ``|N(t, 1)|``. For each sd bound ``h`` the smallest bias is a convex problem (L1 norm on an ellipsoid); the half
    length is then minimised over ``h`` between the minimum-variance and the minimum-bias estimators.
    """
    from scipy.optimize import minimize, minimize_scalar

    T = n_post
    c = float(np.arange(1, T + 1) @ l_vec)
    K = sum(abs(float(np.arange(1, s + 1) @ l_vec[T - s:])) for s in range(1, T + 1)) - c
    D = np.eye(n_pre) - np.eye(n_pre, k=-1)
    G = D @ D
    A, a0 = G[:, :-1], G[:, -1] * c
    S_pp, S_pq, S_qq = sigma[:n_pre, :n_pre], sigma[:n_pre, n_pre:], sigma[n_pre:, n_pre:]
    Q = A.T @ S_pp @ A
    q = A.T @ (S_pp @ a0 + S_pq @ l_vec)
    r = float(a0 @ S_pp @ a0 + 2 * a0 @ S_pq @ l_vec + l_vec @ S_qq @ l_vec)
    var = lambda u: float(u @ Q @ u + 2 * q @ u + r)  # noqa: E731
    bias = lambda u: m * (K + float(np.abs(u).sum()) + abs(c))  # noqa: E731
    k = n_pre - 1
    if k == 0:
        u_best = np.zeros(0)
    else:
        u_minvar = -np.linalg.solve(Q, q)
        h_lo, h_hi = np.sqrt(max(var(u_minvar), 0.0)), np.sqrt(var(np.zeros(k)))

        def min_bias(h):
            """argmin sum |u| s.t. var(u) <= h^2 (u = p - n, p, n >= 0), warm-started on the segment to u_minvar."""
            t = 1.0 if h_hi <= h_lo else np.clip((h_hi - h) / (h_hi - h_lo), 0, 1)
            u0 = t * u_minvar
            x0 = np.concatenate([np.clip(u0, 0, None), np.clip(-u0, 0, None)])
            cons = {"type": "ineq", "fun": lambda x: (h * h - var(x[:k] - x[k:])) / (h_hi * h_hi),
                    "jac": lambda x: -np.concatenate([g := 2 * (Q @ (x[:k] - x[k:]) + q), -g]) / (h_hi * h_hi)}
            res = minimize(lambda x: x.sum(), x0, jac=lambda x: np.ones(2 * k), method="SLSQP",
                           bounds=[(0, None)] * (2 * k), constraints=[cons], options={"ftol": 1e-14, "maxiter": 500})
            return res.x[:k] - res.x[k:]

        def half_length(h):
            u = min_bias(h)
            sd = np.sqrt(max(var(u), 1e-300))
            return sd * _folded_normal_quantile(1 - alpha, bias(u) / sd)

        candidates = [np.zeros(k), u_minvar]  # the minimum-bias and minimum-variance ends
        if m > 0 and h_hi - h_lo > 1e-12 * h_hi:
            opt = minimize_scalar(half_length, bounds=(h_lo, h_hi), method="bounded",
                                  options={"xatol": 1e-10 * h_hi})
            candidates.append(min_bias(opt.x))
        chis = [np.sqrt(max(var(u), 1e-300)) * _folded_normal_quantile(1 - alpha, bias(u) / np.sqrt(max(var(u), 1e-300)))
                for u in candidates]
        u_best = candidates[int(np.argmin(chis))]
    l_pre = A @ u_best + a0
    sd = np.sqrt(max(var(u_best), 1e-300))
    chi = sd * _folded_normal_quantile(1 - alpha, bias(u_best) / sd)
    return np.concatenate([l_pre, l_vec]), float(chi)


def _folded_normal_quantile(p, t):
    """``p`` quantile of ``|N(t, 1)|``."""
    from scipy.optimize import brentq

    t = abs(float(t))
    if t == 0:
        return float(stats.norm.ppf(0.5 + p / 2))
    f = lambda x: stats.norm.cdf(x - t) - stats.norm.cdf(-x - t) - p  # noqa: E731
    return float(brentq(f, 0, t + 10, xtol=1e-14))


# ----------------------------------------------------------------------------------------------- ARP test
def _accepted(A, d, betahat, sigma, n_pre, n_post, l_vec, theta, alpha, ci, seed, flci=None):
    """Which ``theta`` the (hybrid) conditional test accepts for ``{A delta <= d}`` (vector over the grid).

    ``flci = (w, chi)`` (``ci="C-F"``): weights and half-length of the size-``kappa`` FLCI; with
    ``r = w'beta - theta`` the first stage rejects when ``|r| > chi``, and the second stage conditions also on
    ``|r| <= chi``: along the direction ``t`` of the optimal vertex's statistic, ``w'beta`` moves by
    ``v (t - eta)`` with ``v = w' Sigma A'g / g'Sigma_Y g``, which bounds ``t - eta`` by ``(+-chi - r) / v``
    (HonestDiD's ``.FLCI_computeVloVup`` with ``vbar`` solving ``A'vbar = w``).
    """
    y = A @ betahat - d
    sigma_y = A @ sigma @ A.T
    # reparametrise tau_post = Gamma^{-1} (theta, xi): first column moves with theta, the rest are nuisances
    gamma = _gamma(l_vec)
    AG = A[:, n_pre:] @ np.linalg.inv(gamma)
    rows = np.arange(len(A))
    if n_post > 1:
        rows = np.flatnonzero(np.any(A[:, n_pre:] != 0, axis=1))
    y, sigma_y, a1, X = y[rows], sigma_y[np.ix_(rows, rows)], AG[rows, 0], AG[rows, 1:]
    sd = np.sqrt(np.diag(sigma_y))
    V = _vertices(np.column_stack([sd, X]))
    kappa = alpha / 10
    lf_cv = _lf_critical_value(V, sigma_y, kappa, seed) if ci == "C-LF" else np.inf
    size = (alpha - kappa) / (1 - kappa) if ci in ("C-LF", "C-F") else alpha
    Y = y[:, None] - a1[:, None] * theta[None, :]  # moments at each theta (columns)
    values = V @ Y  # vertex x grid
    best = np.argmax(values, axis=0)
    eta = values[best, np.arange(len(theta))]
    G = V[best]  # optimal vertex per grid point
    sg = G @ sigma_y  # (grid, m): (Sigma g)'
    var = np.einsum("ij,ij->i", sg, G)
    bvec = sg / var[:, None]  # b = Sigma g / g'Sigma g
    S = Y.T - bvec * eta[:, None]
    a = bvec @ V.T  # (grid, vertices): g'b
    s = S @ V.T  # g'S
    denom = 1.0 - a
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = s / denom
    vlo = np.where(denom > 1e-10, ratio, -np.inf).max(axis=1)
    vup = np.where(denom < -1e-10, ratio, np.inf).min(axis=1)
    sigma_b = np.sqrt(var)
    vup = np.minimum(vup, lf_cv)
    first_stage = eta > lf_cv
    if flci is not None:
        w, chi = flci
        r = float(w @ betahat) - theta
        with np.errstate(divide="ignore", invalid="ignore"):  # var = 0: no truncation from the FLCI (v is NaN)
            v = (G @ A[rows]) @ (sigma @ w) / var  # w' Sigma A'g / g'Sigma_Y g, per grid point
            big = np.abs(v) > 1e-12 * np.sqrt(float(w @ sigma @ w) / var)
            to_up, to_lo = (chi - r) / v, (-chi - r) / v  # t - eta where w'beta - theta reaches +chi / -chi
        vlo = np.maximum(vlo, np.where(big, eta + np.minimum(to_up, to_lo), -np.inf))
        vup = np.minimum(vup, np.where(big, eta + np.maximum(to_up, to_lo), np.inf))
        first_stage = np.abs(r) > chi * (1 + 1e-10)  # the grid's ends are the FLCI's: keep them (as HonestDiD)
    zlo, zup, stat = vlo / sigma_b, vup / sigma_b, eta / sigma_b
    inside = (zlo <= stat + 1e-12) & (stat <= zup + 1e-12)
    cval = np.maximum(0.0, _truncnorm_quantile(1 - size, zlo, zup))
    reject = first_stage | (inside & (stat > cval))
    return ~reject


def _gamma(l_vec):
    """Invertible matrix with ``l'`` as first row, completed by unit rows (dropping l's largest entry's)."""
    n = len(l_vec)
    drop = int(np.argmax(np.abs(l_vec)))
    rows = [l_vec] + [np.eye(n)[i] for i in range(n) if i != drop]
    return np.vstack(rows)


def _vertices(W):
    """Vertices of ``{g >= 0, W'g = e_1}``: every basis of rank(W) rows with a non-negative solution."""
    m, r = W.shape
    n_bases = math.comb(m, r)
    if n_bases > MAX_VERTEX_BASES:
        raise SpecificationError(
            f"too many post-periods for the exact robust test ({n_bases:,} dual bases); narrow the event window "
            "or restrict the target to fewer post-periods")
    combos = np.array(list(itertools.combinations(range(m), r)))
    Wb = W[combos]  # (n, r, r)
    det = np.linalg.det(Wb)
    ok = np.abs(det) > 1e-12 * np.max(np.abs(W)) ** r
    combos, Wb = combos[ok], Wb[ok]
    e1 = np.zeros(r)
    e1[0] = 1.0
    g = np.linalg.solve(np.transpose(Wb, (0, 2, 1)), np.broadcast_to(e1, (len(Wb), r))[..., None])[..., 0]
    feasible = np.all(g >= -1e-10, axis=1)
    V = np.zeros((int(feasible.sum()), m))
    np.put_along_axis(V, combos[feasible], np.clip(g[feasible], 0, None), axis=1)
    return np.unique(np.round(V, 12), axis=0)


def _lf_critical_value(V, sigma_y, kappa, seed):
    """``1 - kappa`` quantile of ``max_g g'xi``, ``xi ~ N(0, Sigma_Y)`` (least-favourable null, mean zero)."""
    rng = np.random.default_rng(seed)
    xi = rng.multivariate_normal(np.zeros(len(sigma_y)), sigma_y, size=LF_DRAWS)
    return float(np.quantile((xi @ V.T).max(axis=1), 1 - kappa))


def _truncnorm_quantile(p, lo, hi):
    """Quantile ``p`` of the standard normal truncated to ``[lo, hi]`` (vectorised, stable in both tails)."""
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    out = np.full(lo.shape, np.nan)
    ok = lo < hi
    with np.errstate(invalid="ignore", over="ignore"):
        out[ok] = stats.truncnorm.ppf(p, lo[ok], hi[ok])
    out[~ok] = lo[~ok]
    return out
