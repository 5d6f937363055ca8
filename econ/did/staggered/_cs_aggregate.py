"""Aggregations of ATT(g, t) (R ``did``'s ``aggte``): overall, by event time, by cohort and by calendar period.

Every aggregated estimate is a linear combination of one *basis* of per-unit influence functions: the cells'
``psi`` (n x k), the weighted cohort indicators ``w_i 1{G_i = g}`` (n x cohorts) and a constant. The
estimated-weights term ``wif`` of R ``did`` (the cohort shares ``pg = mean(w 1{G = g})`` are estimated) is the part
on the indicators and the constant. So an aggregation is a coefficient vector on the basis: its influence function
is ``basis @ c`` and its bootstrap draws are ``draws(basis) @ c`` -- one matrix product, the same multipliers as
:func:`econ.did.att_gt`.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from econ import _validate
from econ.did.staggered import _cs_design, _rcs
from econ.did.staggered._cs_result import InfluenceResult, _bootstrap_basis, _check_level, standard_errors
from econ.did.classic.event_study import event_term
from econ.errors import SpecificationError
from econ.results import finish_figure
from econ.panel.demean import single_thread_blas

__all__ = ["aggregate", "AggregateResult"]

KINDS = ("simple", "dynamic", "group", "calendar")


def aggregate(res, kind: str = "dynamic", *, min_e=None, max_e=None, balance_e=None, n_draws=None, level=None):
    """Aggregate an :class:`~econ.did.ATTgtResult` (R ``did``'s ``aggte``).

    Parameters
    ----------
    res : ATTgtResult
    kind : {"simple", "dynamic", "group", "calendar"}
        ``simple``: average of post-treatment ATT(g, t) weighted by cohort size; ``dynamic``: by event time
        ``e = t - g`` (cohort-size weights within e; overall = mean over ``e >= 0``); ``group``: by cohort (mean over
        its post-treatment periods; overall weighted by cohort size); ``calendar``: by period (cohort-size weights
        among cohorts treated by t; overall = mean over periods).
    min_e, max_e : int, optional
        Event-time window of ``dynamic``; ``max_e`` also caps the post-treatment periods used by ``simple`` and
        ``group`` (counted in positions of the sorted periods, as R). Ignored by ``calendar``.
    balance_e : int, optional
        ``dynamic`` only: keep cohorts observed at least ``balance_e`` periods after treatment, and event times
        ``balance_e - (T_last - T_first) <= e <= balance_e``.
    n_draws : int, optional
        Bootstrap draws; default: those of the ``att_gt`` call (0 = analytic standard errors).
    level : float, optional
        Confidence level; default that of the ``att_gt`` call.

    Returns
    -------
    AggregateResult
        ``overall_att``, ``overall_se``, ``tidy()`` by ``event_time`` / ``cohort`` / ``time``, ``plot()``.

    Notes
    -----
    Cohort shares are ``pg = mean_i(w_i 1{G_i = g})`` over the estimation units. An aggregation
    ``theta = sum_k a_k ATT_k`` with ``a_k = pg_k / sum pg`` has influence function ``sum_k a_k psi_k + wif' ATT``
    where ``wif_k = (w 1{G = g_k} - pg_k) / S - pg_k sum_j (w 1{G = g_j} - pg_j) / S^2`` accounts for the
    estimated weights (Callaway & Sant'Anna 2021; R ``did``'s ``wif``). Within-cohort and
    overall averages over event times / periods use fixed weights. NaN cells are left out with a note.
    """
    if not (isinstance(res, InfluenceResult) and isinstance(getattr(res, "_design", None),
                                                           (_cs_design.Design, _rcs.RowDesign))):
        raise SpecificationError(f"aggregate needs an ATTgtResult from att_gt, got {type(res).__name__}")
    kind = _validate.check_choice(kind, "kind", KINDS)
    min_e = _window(min_e, "min_e", -np.inf)
    max_e = _window(max_e, "max_e", np.inf)
    if balance_e is not None:
        balance_e = _validate.check_int(balance_e, "balance_e", minimum=0)
    if level is not None:
        level = _check_level(level)
    level = res.level if level is None else level
    plan = _Plan(res)
    notes = list(res.notes) + plan.notes
    if kind == "calendar" and (np.isfinite(min_e) or np.isfinite(max_e) or balance_e is not None):
        notes.append("min_e, max_e and balance_e are ignored by the calendar aggregation")
    keys, C, overall, key_col = getattr(plan, kind)(min_e, max_e, balance_e)
    boot_basis = _draws(res, n_draws)
    with single_thread_blas():
        return AggregateResult(res, kind, keys, key_col, C, overall, plan, boot_basis, level, notes)


def _window(value, name, default):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecificationError(f"{name} must be an integer event time or None, got {value!r}")
    return float(value)


def _draws(res, n_draws):
    if n_draws is None or n_draws == res.spec["n_draws"]:
        return res._boot_basis
    n_draws = _validate.check_n_draws(n_draws)
    if n_draws == 0:
        return None
    return _bootstrap_basis(res._design, res.inf_func, n_draws, res.spec["multiplier"], res.spec["seed"],
                            res.spec.get("cluster_bootstrap", "mean"))


class _Plan:
    """The valid cells of an att_gt result in R ``aggte``'s index space, and the coefficient vectors on the basis."""

    def __init__(self, res):
        cells, d = res.cells, res._design
        att = res.coef.to_numpy()
        ok = np.isfinite(att) & np.isfinite(res.inf_func[:1]).all(axis=0)  # a NaN cell has an all-NaN column
        self.notes = []
        if not ok.all():
            bad = [f"ATT({g},{t})" for g, t in zip(cells["cohort"][~ok], cells["time"][~ok])]
            self.notes.append(f"{len(bad)} NaN cell(s) left out of the aggregation: {', '.join(bad[:8])}"
                              + (" ..." if len(bad) > 8 else ""))
        self.k = len(att)
        self.cols = np.flatnonzero(ok)
        self.att = att[ok]
        self.g_orig = cells["cohort"].to_numpy()[ok]
        self.t_orig = cells["time"].to_numpy()[ok]
        self.cohorts = d.cohorts
        self.n_basis = self.k + len(d.cohorts) + 1
        w = d.w / d.w.mean()  # R did normalises the weights to mean one
        pg_all = np.array([w[d.g == g].sum() for g in d.cohorts]) / d.n
        self.gidx = np.searchsorted(d.cohorts, self.g_orig)
        self.pg = pg_all[self.gidx]
        self.pg_cohort = pg_all
        glist = np.unique(self.g_orig)
        gt = np.unique(np.concatenate([d.periods, glist]))
        self.g = np.searchsorted(gt, self.g_orig) + 1
        self.t = np.searchsorted(gt, self.t_orig) + 1
        self.t_first, self.t_last = gt[0], self.t_orig.max() if len(self.t_orig) else gt[-1]

    # ----------------------------------------------------------------- coefficient vectors on the basis
    def _combo(self, which, weights, wif):
        """Basis coefficients of ``sum_j weights_j ATT_{which_j}`` (+ R's wif term for estimated weights)."""
        c = np.zeros(self.n_basis)
        np.add.at(c, self.cols[which], weights)
        if wif:
            pg, att, gcol = self.pg[which], self.att[which], self.k + self.gidx[which]
            S = pg.sum()
            A = np.dot(att, pg) / S**2
            np.add.at(c, gcol, att / S - A)
            c[-1] += -np.dot(att, pg) / S + A * pg.sum()
        return c

    def _cohort_combo(self, C_g, att_g, g_index):
        """Overall group effect: cohort-share weights over cohorts, with the estimated-weights term."""
        pgg = self.pg_cohort[g_index]
        S = pgg.sum()
        c = C_g @ (pgg / S)
        A = np.dot(att_g, pgg) / S**2
        np.add.at(c, self.k + g_index, att_g / S - A)
        c[-1] += -np.dot(att_g, pgg) / S + A * S
        return c, float(np.dot(att_g, pgg) / S)

    def _post(self, max_e):
        return (self.g <= self.t) & (self.t <= self.g + max_e)

    # ----------------------------------------------------------------- the four kinds
    def simple(self, min_e, max_e, balance_e):
        keep = np.flatnonzero(self._post(max_e))
        if len(keep) == 0:
            raise SpecificationError("no post-treatment ATT(g,t) to aggregate")
        pg = self.pg[keep]
        c = self._combo(keep, pg / pg.sum(), wif=True)
        est = float(np.dot(self.att[keep], pg) / pg.sum())
        return pd.DataFrame(index=[0]), c[:, None], (est, c), None

    def group(self, min_e, max_e, balance_e):
        post = self._post(max_e)
        glist = [g for g in np.unique(self.g_orig) if (post & (self.g_orig == g)).any()]
        if not glist:
            raise SpecificationError("no cohort has a post-treatment ATT(g,t) to aggregate")
        cols, att_g = [], []
        for g in glist:
            which = np.flatnonzero(post & (self.g_orig == g))
            cols.append(self._combo(which, np.full(len(which), 1 / len(which)), wif=False))
            att_g.append(self.att[which].mean())
        C = np.column_stack(cols)
        att_g = np.array(att_g)
        g_index = np.searchsorted(self.cohorts, glist)
        c, est = self._cohort_combo(C, att_g, g_index)
        return pd.DataFrame({"cohort": np.array(glist, dtype=np.int64)}), C, (est, c), "cohort"

    def dynamic(self, min_e, max_e, balance_e):
        e_all = self.t_orig - self.g_orig
        include = np.ones(len(e_all), bool)
        eseq = np.unique(e_all)
        if balance_e is not None:
            include = (self.t_last - self.g_orig) >= balance_e
            eseq = np.unique(e_all[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - self.t_last + self.t_first)]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        if len(eseq) == 0:
            raise SpecificationError(f"no event time within min_e={min_e}, max_e={max_e}, balance_e={balance_e}")
        cols, att_e = [], []
        for e in eseq:
            which = np.flatnonzero((e_all == e) & include)
            pge = self.pg[which] / self.pg[which].sum()
            cols.append(self._combo(which, pge, wif=True))
            att_e.append(float(np.dot(self.att[which], pge)))
        C = np.column_stack(cols)
        pos = eseq >= 0
        if pos.any():
            c = C[:, pos].mean(axis=1)
            est = float(np.mean(np.array(att_e)[pos]))
        else:
            c, est = np.full(self.n_basis, np.nan), np.nan
        return pd.DataFrame({"event_time": eseq.astype(np.int64)}), C, (est, c), "event_time"

    def calendar(self, min_e, max_e, balance_e):
        tlist = np.unique(self.t)
        tlist = [t for t in tlist if t >= self.g.min() and ((self.t == t) & (self.g <= self.t)).any()]
        if not tlist:
            raise SpecificationError("no period has a post-treatment ATT(g,t) to aggregate")
        cols, att_t, t_orig = [], [], []
        for t in tlist:
            which = np.flatnonzero((self.t == t) & (self.g <= self.t))
            pgt = self.pg[which] / self.pg[which].sum()
            cols.append(self._combo(which, pgt, wif=True))
            att_t.append(float(np.dot(self.att[which], pgt)))
            t_orig.append(int(self.t_orig[which[0]]))
        C = np.column_stack(cols)
        return (pd.DataFrame({"time": np.array(t_orig, dtype=np.int64)}), C,
                (float(np.mean(att_t)), C.mean(axis=1)), "time")


class AggregateResult(InfluenceResult):
    """An aggregation of ATT(g, t): ``overall_att``, ``overall_se`` (and ``overall_conf``), per-key estimates in
    ``tidy()`` (key column ``event_time``, ``cohort`` or ``time``; terms ``rel_m1``/``rel_0``..., ``g2004``,
    ``t2005``, or ``ATT`` for ``simple``), the aggregated influence functions ``inf_func`` (n x keys) and
    ``overall_inf_func`` (n), and ``plot()``.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import att_gt
    >>> dyn = att_gt(datasets.load("mpdta"), "lemp", "countyreal", "year", "first.treat").aggregate("dynamic")
    >>> dyn.tidy()["event_time"].tolist()
    [-3, -2, -1, 0, 1, 2, 3]
    >>> round(dyn.overall_att, 4), round(dyn.overall_se, 4)
    (-0.0772, 0.02)
    """

    def __init__(self, res, kind, keys, key_col, C, overall, plan, boot_basis, level, notes):
        d = res._design
        products = _basis_times(res, np.column_stack([C, overall[1]]))
        psi, overall_psi = products[:, :-1], products[:, -1]
        boot = None if boot_basis is None else boot_basis @ C
        est = np.array([overall[0]]) if kind == "simple" else _key_estimates(plan, kind, keys, C, res)
        names = (["ATT"] if kind == "simple" else
                 [event_term(int(e)) for e in keys["event_time"]] if kind == "dynamic" else
                 [f"g{g}" for g in keys["cohort"]] if kind == "group" else [f"t{t}" for t in keys["time"]])
        n_clusters = (res.cluster, res.n_clusters) if res.cluster else None
        super().__init__(pd.Series(est, index=names), keys, psi, units=res.units, cluster=d.cluster, boot=boot,
                         level=level, notes=notes, model=f"Callaway-Sant'Anna aggregation: {kind}",
                         depvar=res.depvar, n_clusters=n_clusters)
        self.nobs = res.nobs  # rows of the panel behind ATT(g, t), not units (n_units)
        self.spec = dict(getattr(res, "spec", {}))  # the att_gt call's options (control group, method...)
        self.kind = kind
        self.key = key_col
        self.overall_att = float(overall[0])
        c = overall[1]
        self.overall_inf_func = overall_psi
        ov = self.overall_inf_func[:, None]
        from econ.did.staggered._cs_result import analytic_vcov

        ov_boot = None if boot_basis is None else boot_basis @ c[:, None]
        self.overall_se = float(standard_errors(analytic_vcov(ov, d.cluster), ov_boot)[0]) \
            if np.all(np.isfinite(c)) else np.nan
        from scipy import stats

        z = stats.norm.ppf(1 - (1 - self.level) / 2)
        self.overall_conf = (self.overall_att - z * self.overall_se, self.overall_att + z * self.overall_se)

    def summary(self, level: float | None = None, digits: int = 4) -> str:
        head = (f"Overall ATT ({self.kind}): {self.overall_att:.{digits}f} (SE {self.overall_se:.{digits}f}, "
                f"{100 * self.level:g}% CI {self.overall_conf[0]:.{digits}f} to {self.overall_conf[1]:.{digits}f})")
        return head + "\n" + super().summary(level, digits)

    def plot(self, ax=None, path=None, *, level: float | None = None, truth=None):
        """Estimates by event time / cohort / period with bands (or pointwise intervals); returns ``(fig, ax)``.

        ``truth`` (a simulated design, or true values by the aggregation's key) is drawn over the estimates, the
        design aggregated as this result is (:func:`econ.simulate.true_att`).
        """
        tid = self.tidy(level)
        if self.key is None:
            tid = tid.assign(overall=0)
        x = self.key or "overall"
        fig, ax = self._plot_xy(tid, x, ax, f"{self.depvar}: {self.kind} aggregation", None,
                                vline=-0.5 if self.kind == "dynamic" else None)
        if truth is not None:
            from econ.results import overlay_truth

            overlay_truth(ax, tid[x].to_numpy(), truth, by=self.key or "overall")
            ax.legend(frameon=False)
        return finish_figure(fig, ax, path)


def _basis_times(res, C: np.ndarray) -> np.ndarray:
    """``influence_basis(design, res.inf_func) @ C`` without forming the basis (its three blocks, the cells' psi
    with NaN cells as 0, the weighted cohort indicators and the constant, are multiplied separately; the first two
    are kept on ``res`` for its next aggregation)."""
    parts = res.__dict__.get("_basis_blocks")
    if parts is None:
        d, psi = res._design, res.inf_func
        psi = psi if np.isfinite(psi).all() else np.nan_to_num(psi, nan=0.0)
        w = d.w / d.w.mean()  # as influence_basis
        parts = (psi, w[:, None] * (d.g[:, None] == d.cohorts[None, :]))
        res.__dict__["_basis_blocks"] = parts
    psi, indicators = parts
    k, n_g = psi.shape[1], indicators.shape[1]
    out = psi @ C[:k] if k else np.zeros((psi.shape[0], C.shape[1]))
    out += indicators @ C[k:k + n_g]
    out += C[k + n_g]
    return out


def _key_estimates(plan, kind, keys, C, res):
    """Point estimates of each key: the coefficient vectors applied to the cells' ATT (att_gt's ``coef``)."""
    att = np.zeros(plan.n_basis)
    att[plan.cols] = plan.att
    # the influence-function part of C on the basis is linear in psi; the estimate is the same weights on ATT
    return C[: plan.k].T @ att[: plan.k]
