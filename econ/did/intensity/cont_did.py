"""Difference-in-differences with a continuous or multi-valued dose (Callaway, Goodman-Bacon and Sant'Anna 2024).

Timing is binary and staggered (``cohort``: first treated period, as every staggered estimator of the package, read
by :func:`econ.did.design.build_design`); each treated unit receives one dose ``D > 0`` fixed over time, untreated
units have ``D = 0``. For each cohort ``g`` and period ``t`` the change ``Y_t - Y_base`` of the cohort's units is
regressed on a basis of the dose (B-splines, or dose-level dummies for a discrete dose: the paper's nonparametric
estimator) and compared with the mean change of the comparison units (never treated, or not yet treated by ``t``);
:mod:`econ.did.intensity._dose` holds one cell's estimates and influence functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from econ import _validate
from econ.did import _mboot
from econ.did.intensity._cont_result import ContDiDResult
from econ.did._design import NEVER, _show, cluster_column
from econ.did.intensity._dose import DoseBasis, cell, quantile_knots
from econ.did.intensity._dose_cck import select_segments
from econ.did.intensity._dose_cov import cell_cov
from econ.did.staggered._drdid import CellFailure
from econ.did.design import build_design
from econ.errors import SpecificationError, TreatmentError, WeightsError

__all__ = ["cont_did", "ContDiDResult"]

METHODS = ("spline", "discrete", "cck")


def cont_did(data, y, unit, time, cohort, *, dose, covariates=None, control: str = "never", method: str = "spline",
             degree: int = 3, num_knots: int = 0, knots=None, grid=None, anticipation: int = 0,
             balance: str = "keep", vcov=None, cluster: str | None = None, level: float = 0.95, n_draws: int = 999,
             multiplier: str = "mammen", seed: int = 0, weights: str | None = None) -> ContDiDResult:
    """Dose-response DiD: ATT(d), ACRT(d), ATT^o and ACRT^o with group-time, event-study and overall aggregations.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per (unit, time); never modified. Unbalanced panels are used as they are: a (g, t)
        cell uses the units observed in both ``t`` and its base period.
    y, unit, time : str
        Outcome, unit id and integer time columns.
    cohort : str
        First treated period per unit (0 / missing = never treated).
    dose : str
        Dose column: non-negative, no missing values, fixed within unit; positive for every treated unit. The
        dose of never-treated units is ignored (they are untreated, ``D = 0``).
    covariates : str or list of str, optional
        Covariates for conditional parallel trends, estimated doubly robustly (see Notes); each (g, t) cell reads
        them in its base period. Not available with ``control="lowest"``.
    control : {"never", "notyet", "lowest"}
        Comparison units: never treated, or also those not yet treated by ``t`` (and by the base period), or
        (``"lowest"``, the paper's Remark 3.1 for designs without untreated units) the cohort's own units at the
        lowest dose ``d_L`` (at least two per cohort): the estimand is then ``ATT(d) - ATT(d_L)`` over doses above
        ``d_L``, never-treated units are not used, and for a discrete dose ``ACRT(d_1)`` is
        ``(ATT(d_1) - ATT(d_L)) / (d_1 - d_L)``.
    method : {"spline", "discrete", "cck"}
        ``"spline"``: B-splines of ``degree`` with ``num_knots`` interior knots at quantiles of the positive doses
        (or the given ``knots``); ``num_knots=0`` is a polynomial of ``degree``. ``"discrete"``: the paper's
        nonparametric estimator for a multi-valued dose, one mean per dose level. ``"cck"``: the paper's
        nonparametric estimator for a continuous dose (R contdid's ``dose_est_method="cck"``): B-splines of
        ``degree`` whose number of segments is chosen from the data by Chen, Christensen and Kankanala's Lepski
        rule (:mod:`econ.did.intensity._dose_cck`, 999 Gaussian multiplier draws from ``seed``), on each treated unit's
        post-treatment change net of the comparison mean; the chosen number is in the notes. Inference then is
        that of ``"spline"`` at the chosen dimension, except the uniform bands of ATT(d) and ACRT(d): CCK's honest
        adaptive bands (sup-t over the dose grid and the searched dimensions up to the larger of the chosen and
        the third largest, plus ``max(0, log log J) theta*``).
    degree, num_knots, knots
        The spline basis (``method="spline"``; ``degree`` also for ``"cck"``).
    grid : array-like, optional
        Doses at which ATT(d) and ACRT(d) are reported; default 50 equally spaced points between the smallest and
        largest positive dose (``"spline"``) or the dose levels (``"discrete"``).
    anticipation : int
        Periods of anticipation.
    balance : {"keep", "drop", "refuse"}
        Unbalanced panels (see :func:`econ.did.design.build_design`).
    vcov : None or {"CL1": column}, optional
        As in every estimator of the package: ``None`` (default) clusters by unit; ``{"CL1": col}`` clusters by a
        column constant within unit (standard errors and bootstrap draws then use its cluster sums).
    cluster : str, optional
        Alias of ``vcov={"CL1": cluster}``.
    level : float
        Confidence level of pointwise intervals and uniform bands.
    n_draws : int
        Multiplier-bootstrap draws for the uniform (sup-t) bands over the dose grid and event times; 0 skips them.
    multiplier : {"mammen", "rademacher"}
    seed : int
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise), constant within unit. Every cell's means and dose regression are
        weighted, cohort shares are weight totals and the influence functions carry each unit's weight, as
        :func:`econ.did.att_gt` (R ``did``'s ``weightsname``; with ``covariates`` the outcome regression, logit and
        level correction too); units with weight zero are dropped with a note. Not available with
        ``method="cck"``. ``None``: equal weights.

    Returns
    -------
    ContDiDResult

    Raises
    ------
    TreatmentError
        Missing or negative doses, a dose varying within unit (naming units), treated units with dose 0, a dose
        with a single positive value (a binary treatment: use :func:`econ.did.att_gt`), no comparison units.
    SpecificationError
        Bad options; ``weights`` with ``method="cck"``.
    WeightsError
        Missing, negative, infinite or non-numeric weights (naming the rows), weights varying within unit.

    Notes
    -----
    In cell (g, t) with base period ``g - 1 - anticipation`` (``t - 1`` before treatment), ``ATT(d|g,t) =
    B(d)'b - mean_c(dY)`` and ``ACRT(d|g,t) = B'(d)'b`` with ``b`` the least-squares fit of ``dY`` on ``B(D)``
    among the cohort's units; ``ATT^o = mean_g(dY) - mean_c(dY)``, ``ACRT^o = mean_g(B'(D)'b)``. Post-treatment
    cells are averaged with the weights of R ``did``'s group aggregation (cohort shares, then equally over the
    cohort's post periods), event-study rows with cohort shares within each event time; both include the
    influence of the estimated shares. Standard errors are ``sqrt(sum_c S_c^2) / n`` of the influence functions'
    cluster sums (each unit its own cluster by default); uniform bands use the sup-t critical value of the
    multiplier bootstrap (:mod:`econ.did._mboot`). For a discrete dose ``ACRT(d_j) = (ATT(d_j) - ATT(d_{j-1})) /
    (d_j - d_{j-1})`` with ``ATT(d_0 = 0) = 0``.

    With ``covariates`` (conditional parallel trends ``E[dY(0) | X, D = d] = E[dY(0) | X, D = 0]``) each cell
    replaces ``mean_c(dY)`` by a doubly robust counterfactual: ``dY~_i = dY_i - Z_i'gamma - eta`` with ``gamma`` the
    comparison units' outcome regression (``Z = [1, X]``) and ``eta`` the propensity-odds weighted mean of the
    comparison units' residuals (logit of cohort membership on ``Z`` within the cell; scores capped and trimmed as R
    ``DRDID``); ``dY~`` is then regressed on the dose basis. ``ATT^o`` is Sant'Anna and Zhao's ``drdid_panel``
    estimator (cohort against comparison units), doubly robust; ``ATT(d) - ATT^o`` and ``ACRT(d)`` rest on the
    outcome regression unless the dose is independent of ``X`` among the treated (diff-diff's
    ``estimation_method="dr"`` convention). The influence functions include the estimation of the outcome
    regression, the propensity score and ``eta`` (:mod:`econ.did.intensity._dose_cov`).

    References
    ----------
    Callaway, B., Goodman-Bacon, A. and Sant'Anna, P. H. C. (2024). Difference-in-differences with a continuous
    treatment. NBER Working Paper 32117 (arXiv:2107.02637).

    Chen, X., Christensen, T. M. and Kankanala, S. (2024). Adaptive estimation and uniform confidence bands for
    nonparametric structural functions and elasticities. Review of Economic Studies (arXiv:2107.11869).

    Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences estimators. Journal of
    Econometrics 219(1), 101-122.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from econ.did import cont_did
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> g = rng.choice([0, 3], n); d = np.where(g > 0, rng.uniform(0.5, 2, n), 0.0)
    >>> rows = [(i, t, g[i], d[i], 0.1 * t + (t >= 3) * (g[i] > 0) * d[i] ** 2 + rng.normal())
    ...         for i in range(n) for t in range(1, 5)]
    >>> df = pd.DataFrame(rows, columns=["id", "t", "g", "d", "y"])
    >>> res = cont_did(df, "y", "id", "t", "g", dose="d", degree=2, n_draws=99)
    >>> bool(abs(res.overall["ACRT^o"] - 2 * (d[g > 0] ** 1).mean()) < 0.5)
    True
    """
    control = _validate.check_choice(control, "control", ("never", "notyet", "lowest"))
    method = _validate.check_choice(method, "method", METHODS)
    multiplier = _validate.check_choice(multiplier, "multiplier", ("mammen", "rademacher"))
    seed = _validate.check_seed(seed)
    n_draws = _validate.check_n_draws(n_draws)
    if not (isinstance(degree, (int, np.integer)) and 0 <= degree <= 5):
        raise SpecificationError(f"degree must be an integer between 0 and 5, got {degree!r}")
    if not (isinstance(num_knots, (int, np.integer)) and num_knots >= 0):
        raise SpecificationError(f"num_knots must be a non-negative integer, got {num_knots!r}")
    if not 0 < level < 1:
        raise SpecificationError(f"level must be in (0, 1), got {level!r}")
    if not isinstance(dose, str):
        raise SpecificationError(f"dose must be a column name (str), got {dose!r}")
    cluster = cluster_column(vcov, cluster, unit, "cont_did")
    if method == "cck" and (covariates is not None or num_knots or knots is not None):
        raise SpecificationError("method='cck' chooses the number of knots from the data and does not take "
                                 "num_knots=, knots= or covariates=; use method='spline' for those")
    if covariates is not None and control == "lowest":
        raise SpecificationError("covariates are not available with control='lowest' (the conditional estimand "
                                 "against the lowest dose is not implemented); drop covariates= or use "
                                 "control='never'/'notyet'")
    if weights is not None and method == "cck":
        raise SpecificationError("cont_did: weights= is not implemented with method='cck' (the weighted Lepski "
                                 "selection is not written); use method='spline' or 'discrete', or drop weights=")
    design = build_design(data, y, unit, time, cohort, dose=dose, cluster=cluster, covariates=covariates,
                          control="never" if control == "lowest" else control, anticipation=anticipation,
                          balance=balance, comparison=control != "lowest", weights=weights)
    if weights is not None:
        _unit_weights(design)
    W = _wide(design, cluster)
    if control == "lowest":
        _lowest(W, design)
    if method == "cck":
        _, grid = _basis(W, "spline", degree, 0, None, grid)
        W["cck"] = _select(W, design, grid, degree, seed)
        num_knots = W["cck"]["segments"] - 1
    basis, grid = _basis(W, method, degree, num_knots, knots, grid)
    cells = _cells(W, design, basis, grid)
    return _assemble(W, design, cells, basis, grid, level, n_draws, multiplier, seed, method)


# ------------------------------------------------------------------------------------------------ arrays
def _unit_weights(design):
    """Sampling weights constant within unit (WeightsError naming units otherwise); zero-weight units leave."""
    from econ.did._design import require_unit_constant

    f, unit, wcol = design.frame, design.unit, design.weights
    require_unit_constant(f[wcol], f[unit], f"weights column {wcol!r}", error=WeightsError)
    zero = f[wcol].to_numpy(float) == 0
    if zero.any():
        gone = pd.unique(f.loc[zero, unit])
        design.frame = f.loc[~zero].reset_index(drop=True)
        design.cohorts = design.cohorts.drop(gone)
        design.notes = list(design.notes) + [f"{len(gone)} unit(s) with zero weight dropped"]


def _wide(design, cluster):
    f, unit = design.frame, design.unit
    codes, units = pd.factorize(f[unit], sort=False)
    n, periods = len(units), design.periods
    Y = np.full((n, len(periods)), np.nan)
    Y[codes, np.searchsorted(periods, f[design.time].to_numpy())] = f[design.y].to_numpy(float)
    g = design.cohorts.reindex(units).to_numpy(dtype="int64")
    D = np.zeros(n)
    D[codes] = f[design.dose].to_numpy(float)
    w = None
    if design.weights is not None:
        w = np.zeros(n)
        w[codes] = f[design.weights].to_numpy(float)
    treated = g != NEVER
    zero = treated & (D == 0)
    if zero.any():
        raise TreatmentError(f"{int(zero.sum())} treated {unit}(s) {_show(units[zero])} have dose 0: a dose DiD "
                             "compares positive doses with untreated units; code them never treated (cohort 0) or "
                             "give their dose")
    positive = np.unique(D[treated])
    if len(positive) < 2:
        raise TreatmentError(f"dose {design.dose!r} takes a single positive value ({positive.tolist()}) among the "
                             "treated units: this is a binary treatment; use econ.did.att_gt (or twfe, "
                             "sun_abraham, imputation)")
    notes = list(design.notes)
    ignored = (~treated) & (D > 0)
    if ignored.any():
        notes.append(f"{int(ignored.sum())} never-treated {unit}(s) have a positive dose, ignored (untreated units "
                     "have dose 0), e.g. " + _show(units[ignored], 3))
    D = np.where(treated, D, 0.0)
    cl = None
    if cluster is not None:
        from econ.did._design import require_unit_constant

        require_unit_constant(f[cluster], f[unit], f"cluster {cluster!r}")
        first = f.drop_duplicates(unit).set_index(unit)[cluster].reindex(units)
        cl = pd.factorize(first, sort=True)[0]
    Xcov = None
    if design.covariates:
        Xcov = np.full((n, len(periods), len(design.covariates)), np.nan)
        Xcov[codes, np.searchsorted(periods, f[design.time].to_numpy())] = f[design.covariates].to_numpy(float)
    return dict(units=np.asarray(units), periods=periods, Y=Y, g=g, D=D, cluster=cl, notes=notes, w=w,
                nobs=int(np.isfinite(Y).sum()), X=Xcov, index={int(p): s for s, p in enumerate(periods)})


def _lowest(W, design):
    """Remark 3.1: the lowest dose ``d_L`` becomes the comparison; it needs at least two units in every cohort."""
    g, D = W["g"], W["D"]
    treated = g != NEVER
    d_low = float(D[treated].min())
    for c in np.unique(g[treated]):
        k = int(((g == c) & (D == d_low)).sum())
        if k < 2:
            raise TreatmentError(f"control='lowest' compares each cohort with its units at the lowest dose "
                                 f"{d_low:g}; cohort {int(c)} has {k} such unit(s), at least 2 are needed (the "
                                 "lowest dose must be a mass point)")
    if (~treated).any():
        W["notes"].append(f"{int((~treated).sum())} never-treated unit(s) not used (control='lowest')")
    W["lowest"] = d_low


def _basis(W, method, degree, num_knots, knots, grid):
    pos = W["D"][W["g"] != NEVER]
    if "lowest" in W:
        pos = pos[pos > W["lowest"]]
    lo, hi = float(pos.min()), float(pos.max())
    if method == "discrete":
        levels = np.unique(pos)
        basis = DoseBasis("discrete", levels=levels, origin=W.get("lowest", 0.0))
        grid = levels if grid is None else np.asarray(grid, float)
        bad = ~np.isin(grid, levels)
        if bad.any():
            raise SpecificationError(f"with method='discrete' the grid must hold observed dose levels; "
                                     f"{grid[bad][:5].tolist()} are not among {levels[:10].tolist()}")
        return basis, grid
    if knots is None:
        knots = quantile_knots(pos, num_knots)
    else:
        knots = np.sort(np.atleast_1d(np.asarray(knots, float)))
        if np.any((knots <= lo) | (knots >= hi)):
            raise SpecificationError(f"knots must lie strictly inside the dose range ({lo}, {hi}), got "
                                     f"{knots.tolist()}")
    basis = DoseBasis("spline", degree=degree, knots=knots, lo=lo, hi=hi)
    grid = np.linspace(lo, hi, 50) if grid is None else np.asarray(grid, float)
    if grid.ndim != 1 or not len(grid) or not np.isfinite(grid).all() or (grid <= 0).any():
        raise SpecificationError("grid must be a non-empty 1-d array of positive doses")
    return basis, grid


# ------------------------------------------------------------------------------------------------ cells
def _cells(W, design, basis, grid):
    g, D, periods, index = W["g"], W["D"], W["periods"], W["index"]
    n, ant = len(g), design.anticipation
    out = []
    for gg in np.unique(g[g != NEVER]):
        for t in periods:
            t = int(t)
            post = t >= gg - ant
            base = int(gg - 1 - ant) if post else t - 1
            if base not in index or base == t:
                continue
            dy, ok, treated, comp = _masks(W, design, gg, t, base)
            if treated.sum() < 2 or not comp.any():
                W["notes"].append(f"cell (g={gg}, t={t}) skipped: {int(treated.sum())} treated and "
                                  f"{int(comp.sum())} comparison unit(s) observed in {t} and {base}")
                continue
            if len(np.unique(D[treated])) < min(basis.k, 2):
                W["notes"].append(f"cell (g={gg}, t={t}): fewer distinct doses than basis functions "
                                  f"({basis.k}); the fit is the minimum-norm least-squares one")
            if W["X"] is None:
                res = cell(np.where(ok, dy, 0.0), D, treated, comp, basis, grid, n, W["w"])
            else:
                Z = np.column_stack([np.ones(n), np.nan_to_num(W["X"][:, index[base], :])])
                try:
                    res = cell_cov(np.where(ok, dy, 0.0), D, treated, comp, basis, grid, n, Z, W["w"])
                except CellFailure as exc:
                    W["notes"].append(f"cell (g={gg}, t={t}) skipped: {exc}")
                    continue
            res.update(cohort=int(gg), period=t, event_time=t - int(gg), post=t >= gg)
            out.append(res)
    if not out:
        raise TreatmentError("no (cohort, period) cell has treated and comparison units observed in both periods"
                             + (": there is no never-treated unit (try control='notyet', or control='lowest' to "
                                "compare with the lowest dose when no unit is untreated)"
                                if design.control == "never" and not (g == NEVER).any() else ""))
    if not any(c["post"] for c in out):
        raise TreatmentError("no post-treatment cell has comparison units: with control='notyet' the last cohort's "
                             "post periods need never-treated units")
    return out


def _masks(W, design, gg, t, base):
    """Outcome change from ``base`` to ``t`` (NaN where unobserved) and the cell's treated and comparison masks."""
    Y, g, D, index = W["Y"], W["g"], W["D"], W["index"]
    dy = Y[:, index[t]] - Y[:, index[base]]
    ok = np.isfinite(dy)
    treated = ok & (g == gg)
    if "lowest" in W:
        comp = treated & (D == W["lowest"])
        treated = treated & (D > W["lowest"])
    elif design.control == "never":
        comp = ok & (g == NEVER)
    else:
        comp = ok & ((g == NEVER) | (g > max(t, base) + design.anticipation))
    return dy, ok, treated, comp


def _select(W, design, grid, degree, seed):
    """``method="cck"``: the data-driven number of spline segments (:mod:`econ.did.intensity._dose_cck`), chosen on each
    treated unit's post-treatment change net of its cell's comparison mean, averaged over its post-treatment cells
    (with one cohort and two periods: R contdid's ``dY - mean(dY | D = 0)``)."""
    g, n, ant = W["g"], len(W["g"]), design.anticipation
    total, count = np.zeros(n), np.zeros(n)
    for gg in np.unique(g[g != NEVER]):
        base = int(gg - 1 - ant)
        if base not in W["index"]:
            continue
        for t in W["periods"]:
            if int(t) < gg - ant:
                continue
            dy, ok, treated, comp = _masks(W, design, gg, int(t), base)
            if treated.sum() < 2 or not comp.any():
                continue
            total[treated] += dy[treated] - dy[comp].mean()
            count[treated] += 1
    use = count > 0
    if use.sum() < 10:
        raise TreatmentError(f"method='cck' needs at least 10 treated units with a post-treatment change, got "
                             f"{int(use.sum())}")
    return select_segments(total[use] / count[use], W["D"][use], grid, degree, n_draws=999, seed=seed)


def _cck_crit(W, design, grid, degree, level, n_draws, multiplier, seed):
    """CCK's honest adaptive uniform bands for ATT(d) and ACRT(d): the sup-t critical value taken jointly over the
    dose grid and the searched dimensions up to ``max(chosen, third largest searched)`` (one set of multipliers),
    plus ``max(0, log log J~) theta*`` (``J~ = degree + chosen segments``)."""
    c, n, cl = W["cck"], len(W["g"]), W["cluster"]
    segs = np.asarray(c["searched"])
    if len(segs) > 2:
        segs = segs[segs <= max(c["segments"], segs[-3])]
    notes, W["notes"] = W["notes"], []  # the refits' cell notes repeat the main fit's
    psi = {"att_d": [], "acrt_d": []}
    for s in segs:
        basis, _ = _basis(W, "spline", degree, int(s) - 1, None, grid)
        agg = _aggregate([x for x in _cells(W, design, basis, grid) if x["post"]], W["g"], n, tuple(psi))
        for k in psi:
            psi[k].append(agg[k][1])
    W["notes"] = notes
    blocks = [np.nan_to_num(np.column_stack(psi[k])) for k in psi]
    draws = _mboot.draws(_mboot.cluster_sums(np.column_stack(blocks), cl, "sum"), n, n_draws, multiplier,
                         np.random.default_rng(seed))
    shift = max(0.0, float(np.log(np.log(degree + c["segments"])))) * c["theta"]
    out, start = {}, 0
    for k, b in zip(psi, blocks):
        m = b.shape[1]
        out[k] = _mboot.sup_t(draws[:, start:start + m], _se(b, cl, n), level) + shift
        start += m
    c["band_dimensions"] = segs.tolist()
    return out


# ------------------------------------------------------------------------------------------------ aggregation
def _aggregate(cells, g, n, keys, w=None):
    """Cohort-share weighted average of ``cells`` (with equal weight to each cohort's cells), plus the
    estimated-shares influence term. Returns {key: (estimate, influence)}; arrays keys may carry NaN masks.
    ``w``: sampling weights of the units (shares are weight totals)."""
    w = np.ones(n) if w is None else w
    cohorts = np.array([c["cohort"] for c in cells])
    uc = np.unique(cohorts)
    counts = np.array([w[g == c].sum() for c in uc], float)
    pi = counts / counts.sum()
    in_set = np.isin(g, uc)
    scale = n / w[in_set].sum() * w[in_set]
    out = {}
    for key in keys:
        theta_g = []
        psi_g = []
        for c in uc:
            mine = [x for x in cells if x["cohort"] == c]
            theta_g.append(np.mean([x[key] for x in mine], axis=0))
            psi_g.append(np.mean([x["if_" + key] for x in mine], axis=0))
        theta_g = np.array(theta_g)
        est = np.tensordot(pi, theta_g, axes=1)
        psi = np.tensordot(pi, np.array(psi_g), axes=1)
        pos = np.searchsorted(uc, g[in_set])
        shift = theta_g[pos] - est
        psi[in_set] = psi[in_set] + scale.reshape((-1,) + (1,) * (shift.ndim - 1)) * shift
        out[key] = (est, psi)
    return out


def _assemble(W, design, cells, basis, grid, level, n_draws, multiplier, seed, method):
    g, n, cl = W["g"], len(W["g"]), W["cluster"]
    post = [c for c in cells if c["post"]]
    # dose-specific curves: a discrete level absent from some cohort's post-treatment cells is not identified for the
    # aggregate (the cohorts' weights would change with the dose): reported as NaN with a note
    has_att = np.all([c["has_att"] for c in post], axis=0)
    has_acrt = np.all([c["has_acrt"] for c in post], axis=0)
    if not has_att.all():
        W["notes"].append(f"dose level(s) {grid[~has_att].tolist()} are missing from some treated cohort: ATT(d) "
                          "and ACRT(d) there are not reported (NaN)")
    agg = _aggregate(post, g, n, ("att_o", "acrt_o", "att_d", "acrt_d"), W["w"])
    att_d, if_att_d = agg["att_d"]
    acrt_d, if_acrt_d = agg["acrt_d"]
    att_d = np.where(has_att, att_d, np.nan)
    acrt_d = np.where(has_acrt, acrt_d, np.nan)
    es_rows, es_if = [], []
    for e in sorted({c["event_time"] for c in cells}):
        mine = [c for c in cells if c["event_time"] == e]
        a = _aggregate(mine, g, n, ("att_o", "acrt_o"), W["w"])
        es_rows.append((e, float(a["att_o"][0]), float(a["acrt_o"][0]), len(mine)))
        es_if.append(np.column_stack([a["att_o"][1], a["acrt_o"][1]]))
    es_if = np.stack(es_if, axis=2) if es_if else np.zeros((n, 2, 0))  # n x 2 x E
    overall_if = np.column_stack([agg["att_o"][1], agg["acrt_o"][1]])
    gt_if = np.column_stack([c["if_att_o"] for c in cells] + [c["if_acrt_o"] for c in cells])
    blocks = {"overall": overall_if, "att_d": if_att_d, "acrt_d": if_acrt_d, "es_att": es_if[:, 0, :],
              "es_acrt": es_if[:, 1, :], "gt": gt_if}
    se = {k: _se(v, cl, n) for k, v in blocks.items()}
    crit = {}
    z = stats.norm.ppf(0.5 + level / 2)
    if n_draws:
        rng = np.random.default_rng(seed)
        fam = ("att_d", "acrt_d", "es_att", "es_acrt")
        allpsi = np.column_stack([np.nan_to_num(blocks[k]) for k in fam])
        draws = _mboot.draws(_mboot.cluster_sums(allpsi, cl, "sum"), n, n_draws, multiplier, rng)
        start = 0
        for k in fam:
            m = blocks[k].shape[1]
            crit[k] = _mboot.sup_t(draws[:, start:start + m], se[k], level) if m else np.nan
            start += m
        if "cck" in W:
            crit.update(_cck_crit(W, design, grid, basis.degree, level, n_draws, multiplier, seed))
    gt = pd.DataFrame({"cohort": [c["cohort"] for c in cells], "period": [c["period"] for c in cells],
                       "event_time": [c["event_time"] for c in cells], "post": [c["post"] for c in cells],
                       "att_o": [c["att_o"] for c in cells], "att_o_se": se["gt"][:len(cells)],
                       "acrt_o": [c["acrt_o"] for c in cells], "acrt_o_se": se["gt"][len(cells):],
                       "n_treated": [c["n_treated"] for c in cells],
                       "n_comparison": [c["n_comparison"] for c in cells]})
    es = pd.DataFrame(es_rows, columns=["event_time", "att_o", "acrt_o", "n_cells"])
    es["att_o_se"], es["acrt_o_se"] = se["es_att"], se["es_acrt"]
    curve = pd.DataFrame({"dose": grid, "att": att_d, "att_se": np.where(has_att, se["att_d"], np.nan),
                          "acrt": acrt_d, "acrt_se": np.where(has_acrt, se["acrt_d"], np.nan)})
    overall = {"ATT^o": float(agg["att_o"][0]), "ACRT^o": float(agg["acrt_o"][0])}
    overall_se = {"ATT^o": float(se["overall"][0]), "ACRT^o": float(se["overall"][1])}
    who = f"units at the lowest dose {W['lowest']:g} (estimand ATT(d) - ATT(d_L))" if "lowest" in W else \
        f"{design.control}-treated units"
    notes = W["notes"] + [f"comparison group: {who}; {method} dose-response"
                          + (f" (B-splines of degree {basis.degree}, interior knots "
                             f"{np.round(basis.knots, 4).tolist()})" if method != "discrete" else
                             f" ({len(basis.levels)} dose levels)")]
    if "cck" in W:
        c = W["cck"]
        notes.append(f"cck: {c['segments']} spline segment(s) chosen by Chen, Christensen and Kankanala's Lepski "
                     f"rule among {c['searched']} (theta* = {c['theta']:.4f}, alpha = {c['alpha']:.3f})")
    if W["X"] is not None:
        notes.append(f"conditional parallel trends on {design.covariates} (base-period values), doubly robust: "
                     "outcome regression on the comparison units, logit propensity score")
    return ContDiDResult(curve=curve, event_study=es, group_time=gt, overall=overall, overall_se=overall_se,
                         crit=crit, z=z, level=level, n_draws=n_draws, notes=notes, nobs=W["nobs"], n_units=n,
                         method=method, control=design.control if "lowest" not in W else "lowest", depvar=design.y,
                         cluster=design.cluster, influence={"att_d": if_att_d, "acrt_d": if_acrt_d,
                                                   "overall": overall_if})


def _se(psi, cl, n):
    psi = np.nan_to_num(psi)
    sums = _mboot.cluster_sums(psi, cl, "sum")
    return np.sqrt((sums ** 2).sum(axis=0)) / n
