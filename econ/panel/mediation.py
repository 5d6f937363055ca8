"""Three-step mediation on the panel engine: :func:`mediation` and :class:`MediationResult`.

    from econ.panel import mediation
    res = mediation(df, outcome="gap", treatment="broadband", mediator="digital_index",
                    controls=["gdp_pc"], fe=["city", "year"], cluster="city", n_draws=999)
    res.summary()   # a, b, total, direct, indirect (Sobel; bootstrap percentile and bias-corrected) + the caveat

The three regressions are :func:`econ.panel.feols` fits with the same fixed effects and controls; the bootstrap
resamples whole clusters (units) and re-absorbs the fixed effects in every draw
(:class:`econ.panel.demean.Absorber`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from econ import _validate as v
from econ.errors import SpecificationError
from econ.panel.demean import Absorber, factorize, single_thread_blas

__all__ = ["mediation", "MediationResult", "IDENTIFICATION_CAVEAT"]

IDENTIFICATION_CAVEAT = (
    "Identification: randomisation (or parallel trends) of the treatment identifies the effects of the treatment "
    "on the mediator (a) and on the outcome (total c), not the mediator -> outcome link (b): the mediator is not "
    "randomised, so b, the direct effect and the indirect effect a*b assume no unobserved mediator-outcome "
    "confounding (sequential ignorability). Read a as the tested channel and argue b from theory or a separate "
    "design (Jiang 2022; Imai, Keele and Tingley 2010).")


class MediationResult:
    """Result of :func:`mediation`.

    Attributes
    ----------
    a, b, total, direct : econ.panel.FeolsResult
        ``a``: mediator on treatment; ``total``: outcome on treatment; ``direct``: outcome on treatment and
        mediator (``b`` is that fit too, read at the mediator).
    indirect : float
        ``a * b``.
    sobel_se : float
        Delta-method (Sobel) standard error of ``a * b``.
    draws : numpy.ndarray
        Bootstrap draws of ``a * b`` (empty when ``n_draws=0``).
    notes : list of str

    Examples
    --------
    See :func:`mediation`.
    """

    def __init__(self, *, fits, names, level, draws, notes, info):
        self.a, self.total, self.direct = fits["a"], fits["total"], fits["direct"]
        self.b = self.direct
        self._names = names
        self.level = level
        self.draws = draws
        self.notes = list(notes)
        self.info = info
        t, m = names["treatment"], names["mediator"]
        self.a_hat, self.a_se = float(self.a.coef[t]), float(self.a.se[t])
        self.b_hat, self.b_se = float(self.direct.coef[m]), float(self.direct.se[m])
        self.indirect = self.a_hat * self.b_hat
        self.sobel_se = float(np.sqrt(self.b_hat ** 2 * self.a_se ** 2 + self.a_hat ** 2 * self.b_se ** 2))

    def _boot_intervals(self):
        d = self.draws
        alpha = 1 - self.level
        if d.size == 0:
            return (np.nan, np.nan), (np.nan, np.nan)
        pct = tuple(np.quantile(d, [alpha / 2, 1 - alpha / 2]))
        prop = np.mean(d < self.indirect)
        if 0 < prop < 1:
            z0 = stats.norm.ppf(prop)
            lo, hi = stats.norm.cdf(2 * z0 + stats.norm.ppf([alpha / 2, 1 - alpha / 2]))
            bc = tuple(np.quantile(d, [lo, hi]))
        else:
            bc = (np.nan, np.nan)
        return pct, bc

    def tidy(self) -> pd.DataFrame:
        """``term, estimate, std_error, p_value, conf_low, conf_high`` for a, b, total, direct and the indirect
        effect (Sobel; bootstrap percentile; bootstrap bias-corrected)."""
        t, m = self._names["treatment"], self._names["mediator"]
        rows = []
        for term, fit, var in (("a: treatment -> mediator", self.a, t),
                               ("b: mediator -> outcome (given treatment)", self.direct, m),
                               ("total effect (c)", self.total, t), ("direct effect (c')", self.direct, t)):
            tt = fit.tidy(level=self.level).set_index("term").loc[var]
            rows.append({"term": term, "estimate": tt["estimate"], "std_error": tt["std_error"],
                         "p_value": tt["p_value"], "conf_low": tt["conf_low"], "conf_high": tt["conf_high"]})
        z = stats.norm.ppf(0.5 + self.level / 2)
        p_sobel = float(2 * stats.norm.sf(abs(self.indirect / self.sobel_se))) if self.sobel_se > 0 else np.nan
        rows.append({"term": "indirect a*b (Sobel)", "estimate": self.indirect, "std_error": self.sobel_se,
                     "p_value": p_sobel, "conf_low": self.indirect - z * self.sobel_se,
                     "conf_high": self.indirect + z * self.sobel_se})
        pct, bc = self._boot_intervals()
        sd = float(np.std(self.draws, ddof=1)) if self.draws.size > 1 else np.nan
        if self.draws.size:
            # two-sided bootstrap p-value: twice the smaller share of draws on either side of zero
            p_boot = float(min(1.0, 2 * min(np.mean(self.draws <= 0), np.mean(self.draws >= 0))))
        else:
            p_boot = np.nan
        rows.append({"term": "indirect a*b (bootstrap percentile)", "estimate": self.indirect, "std_error": sd,
                     "p_value": p_boot, "conf_low": pct[0], "conf_high": pct[1]})
        rows.append({"term": "indirect a*b (bootstrap bias-corrected)", "estimate": self.indirect,
                     "std_error": sd, "p_value": p_boot, "conf_low": bc[0], "conf_high": bc[1]})
        return pd.DataFrame(rows)

    def summary(self, digits: int = 4) -> str:
        """The mediation table, the sample and bootstrap facts, and the identification caveat."""
        info = self.info
        lines = [f"Mediation (three-step): {info['treatment']} -> {info['mediator']} -> {info['outcome']}",
                 f"fixed effects: {', '.join(info['fe']) or 'none'}; controls: {', '.join(info['controls']) or 'none'}"
                 f"; n = {info['nobs']}; vcov {info['vcov']}; bootstrap {info['n_draws']} draws resampling "
                 f"{info['cluster'] or 'rows'}", ""]
        t = self.tidy()
        lines.append(f"{'':<42}{'estimate':>10}{'std.err':>10}{'p':>8}   {self.level:.0%} interval")
        for _, r in t.iterrows():
            lines.append(f"{r['term']:<42}{r['estimate']:>10.{digits}f}{r['std_error']:>10.{digits}f}"
                         f"{r['p_value']:>8.3f}   [{r['conf_low']:.{digits}f}, {r['conf_high']:.{digits}f}]")
        share = self.indirect / float(self.total.coef[info["treatment"]]) if self.total.coef[info["treatment"]] \
            else np.nan
        lines += ["", f"indirect / total = {share:.3f}", "", IDENTIFICATION_CAVEAT]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def plot(self, ax=None, path=None):
        """Histogram of the bootstrap draws of ``a * b`` with the estimate and both bootstrap intervals.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
        path : str or Path, optional

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)
        """
        from econ.results import figure, finish_figure

        if self.draws.size == 0:
            raise SpecificationError("no bootstrap draws to plot: refit with n_draws > 0")
        fig, ax = figure(ax)
        ax.hist(self.draws, bins=40, color="0.75")
        ax.axvline(self.indirect, color="k", lw=1.2, label="a*b")
        pct, bc = self._boot_intervals()
        for (lo, hi), style, lab in ((pct, "--", "percentile"), (bc, ":", "bias-corrected")):
            ax.axvline(lo, color="k", ls=style, lw=0.8, label=f"{self.level:.0%} {lab}")
            ax.axvline(hi, color="k", ls=style, lw=0.8)
        ax.axvline(0, color="0.4", lw=0.6)
        ax.set_xlabel("indirect effect a*b (bootstrap draws)")
        ax.legend(frameon=False)
        return finish_figure(fig, ax, path)


def _names_list(x, what):
    if x is None:
        return []
    out = [x] if isinstance(x, str) else list(x)
    for c in out:
        v.check_column_name(c, what)
    return out


def mediation(data: pd.DataFrame, *, outcome: str, treatment: str, mediator: str, controls=(), fe=(),
              vcov="iid", cluster: str | None = None, n_draws: int = 999, seed=0,
              level: float = 0.95) -> MediationResult:
    """Three-step mediation (Baron-Kenny) with Sobel and cluster-bootstrap tests of the indirect effect.

    Parameters
    ----------
    data : pandas.DataFrame
        Never modified. Rows with a missing value in any used column are dropped (counted in ``notes``).
    outcome, treatment, mediator : str
        Columns ``Y``, ``D`` and ``M``.
    controls : str or list of str, optional
        Control variables in all three regressions.
    fe : str or list of str, optional
        Fixed effects absorbed in all three regressions (e.g. ``["city", "year"]``).
    vcov : str or dict, default "iid"
        Covariance of the three fits (any :func:`econ.panel.feols` spec, e.g. ``{"CL1": "city"}``); used by the
        per-step tests and the Sobel standard error.
    cluster : str, optional
        Resampling unit of the bootstrap (whole clusters drawn with replacement; each copy of a unit is a new
        unit for the fixed effects). Default: rows.
    n_draws : int, default 999
        Bootstrap draws (0: Sobel only).
    seed : int, default 0
    level : float, default 0.95

    Returns
    -------
    MediationResult
        ``tidy()`` / ``summary()`` (with the identification caveat) / ``plot()``.

    Raises
    ------
    SpecificationError
        Unknown or non-numeric columns, the same column in two roles, a treatment or mediator absorbed by the fixed
        effects, bad ``n_draws``/``level``/``seed``.

    Notes
    -----
    With the same controls ``X`` and fixed effects in each step: (1) ``Y = c D + X g1 + FE``; (2)
    ``M = a D + X g2 + FE``; (3) ``Y = c' D + b M + X g3 + FE``. Then ``c = c' + a b`` exactly (same sample, OLS),
    the indirect effect is ``a b`` and its Sobel standard error ``sqrt(b^2 se_a^2 + a^2 se_b^2)`` (normal
    p-value). Bootstrap: ``B`` resamples of clusters; percentile interval ``[q_{alpha/2}, q_{1-alpha/2}]`` of the
    draws of ``a b``; bias-corrected interval (Efron 1987 without acceleration) the quantiles at
    ``Phi(2 z0 + z_{alpha/2})`` and ``Phi(2 z0 + z_{1-alpha/2})`` with ``z0 = Phi^-1(#{ab_b < ab} / B)``; the
    bootstrap p-value is twice the smaller share of draws on either side of 0. Only ``a`` (and ``c``) inherit the
    treatment's identification; ``b`` needs the mediator to be as good as random given ``D``, ``X`` and the fixed
    effects (see :data:`IDENTIFICATION_CAVEAT`).

    References
    ----------
    Baron, R. M. and Kenny, D. A. (1986). The moderator-mediator variable distinction in social psychological
    research. *Journal of Personality and Social Psychology* 51(6), 1173-1182.
    Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural equation models.
    *Sociological Methodology* 13, 290-312.
    Imai, K., Keele, L. and Tingley, D. (2010). A general approach to causal mediation analysis. *Psychological
    Methods* 15(4), 309-334.
    Jiang, T. (2022). 因果推断经验研究中的中介效应与调节效应 (Mediating and moderating effects in empirical studies
    of causal inference). *中国工业经济 (China Industrial Economics)* 2022(5), 100-120.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> df = pd.DataFrame({"d": rng.normal(size=n)})
    >>> df["m"] = 0.5 * df.d + rng.normal(size=n)
    >>> df["y"] = 0.3 * df.d + 0.8 * df.m + rng.normal(size=n)
    >>> res = mediation(df, outcome="y", treatment="d", mediator="m", n_draws=199)
    >>> bool(abs(res.indirect - 0.4) < 0.1), bool(abs(res.total.coef["d"] - res.direct.coef["d"] - res.indirect)
    ...                                                < 1e-10)
    (True, True)
    """
    from econ.panel.feols import feols

    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    for name, val in (("outcome", outcome), ("treatment", treatment), ("mediator", mediator)):
        v.check_column_name(val, name)
    controls, fe = _names_list(controls, "controls"), _names_list(fe, "fe")
    roles = [outcome, treatment, mediator] + controls
    if len(set(roles)) != len(roles):
        raise SpecificationError(f"outcome, treatment, mediator and controls must be distinct columns, got {roles}")
    n_draws = v.check_int(n_draws, "n_draws", minimum=0)
    level = v.check_real(level, "level", low=0.0, high=1.0)
    if not 0 < level < 1:
        raise SpecificationError(f"level must be strictly between 0 and 1, got {level}")
    v.check_seed(seed)
    if cluster is not None:
        v.check_column_name(cluster, "cluster")
    vcols = []
    if isinstance(vcov, dict):
        for val in vcov.values():
            vcols += [val] if isinstance(val, str) else [c for c in (val if isinstance(val, (list, tuple)) else [])
                                                         if isinstance(c, str)]
    used = list(dict.fromkeys(roles + fe + ([cluster] if cluster else []) + [c for c in vcols if c in data]))
    v.require_columns(data, used, "mediation")
    for c in roles:
        if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]):
            raise SpecificationError(f"column {c!r} must be numeric, got dtype {data[c].dtype}")
    df = data[used].dropna()
    notes = []
    if len(df) < len(data):
        notes.append(f"{len(data) - len(df)} rows with missing values dropped (all three steps use the same "
                     f"{len(df)} rows)")
    rhs_c = "".join(f" + `{c}`" for c in controls)
    fe_part = (" | " + " + ".join(f"`{f}`" for f in fe)) if fe else ""
    fits = {
        "total": feols(f"`{outcome}` ~ `{treatment}`{rhs_c}{fe_part}", df, vcov=vcov, fixef_rm="none"),
        "a": feols(f"`{mediator}` ~ `{treatment}`{rhs_c}{fe_part}", df, vcov=vcov, fixef_rm="none"),
        "direct": feols(f"`{outcome}` ~ `{treatment}` + `{mediator}`{rhs_c}{fe_part}", df, vcov=vcov,
                        fixef_rm="none"),
    }
    for key, var in (("total", treatment), ("a", treatment), ("direct", treatment), ("direct", mediator)):
        if var not in fits[key].coef.index:
            raise SpecificationError(f"{var!r} was dropped from the {key} regression (absorbed by the fixed effects "
                                     "or collinear); mediation is not defined")
    with single_thread_blas():
        draws = _bootstrap(df, outcome, treatment, mediator, controls, fe, cluster, n_draws, seed) if n_draws \
            else np.empty(0)
    info = {"outcome": outcome, "treatment": treatment, "mediator": mediator, "controls": controls, "fe": fe,
            "nobs": len(df), "vcov": vcov if isinstance(vcov, str) else str(vcov), "n_draws": n_draws,
            "cluster": cluster}
    return MediationResult(fits=fits, names={"treatment": treatment, "mediator": mediator}, level=level,
                           draws=draws, notes=notes, info=info)


def _bootstrap(df, outcome, treatment, mediator, controls, fe, cluster, n_draws, seed):
    """Draws of ``a * b``: clusters resampled with replacement, each copy a new level of every fixed effect
    nested in the cluster (the cluster's own codes get a copy index), fixed effects re-absorbed per draw."""
    rng = np.random.default_rng(seed)
    V = df[[outcome, mediator, treatment] + controls].to_numpy(float)
    cl = factorize([df[cluster]])[:, 0] if cluster else np.arange(len(df))
    G = int(cl.max()) + 1
    members = [np.flatnonzero(cl == g) for g in range(G)] if cluster else None
    fe_codes = factorize([df[f] for f in fe]) if fe else None
    nested = [bool(cluster) and df.groupby(f)[cluster].nunique().max() == 1 for f in fe]
    out = np.empty(n_draws)
    for b in range(n_draws):
        pick = rng.integers(0, G, size=G)
        if cluster:
            rows = np.concatenate([members[g] for g in pick])
            copy = np.repeat(np.arange(G), [len(members[g]) for g in pick])
        else:
            rows, copy = pick, np.arange(G)
        X = V[rows]
        if fe:
            codes = fe_codes[rows].copy()
            for j, is_nested in enumerate(nested):
                if is_nested:  # an effect inside the resampled cluster: each copy gets its own levels
                    codes[:, j] = factorize([codes[:, j] * G + copy])[:, 0]
            X = Absorber(codes).demean(X)
        else:
            X = X - X.mean(axis=0)
        y, m, rest = X[:, 0], X[:, 1], X[:, 2:]
        a = np.linalg.lstsq(rest, m, rcond=None)[0][0]
        b_ = np.linalg.lstsq(np.column_stack([rest, m]), y, rcond=None)[0][-1]
        out[b] = a * b_
    return out
