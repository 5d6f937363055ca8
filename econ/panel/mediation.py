"""Three-step mediation on the panel engine: :func:`mediation` and :class:`MediationResult`.

    from econ.panel import mediation
    res = mediation(df, "gap", "broadband", "digital_index", covariates=["gdp_pc"], fe=["city", "year"],
                    vcov={"CL1": "city"}, n_draws=999)
    res.summary()   # a, b, total, direct, indirect (Sobel; bootstrap percentile and bias-corrected) + the caveat
    econ.etable(res)   # the three regressions side by side: (1) y on treat, (2) mediator on treat, (3) y on both

The three regressions are :func:`econ.panel.feols` fits with the same fixed effects and covariates; the bootstrap
resamples the clusters of ``vcov={"CL1": col}`` (rows otherwise) and re-absorbs the fixed effects in every draw
(:class:`econ.panel.demean.Absorber`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from econ import _validate as v
from econ._docs import doc
from econ._tidy import SummaryRepr, standard_columns
from econ.errors import SpecificationError
from econ.panel.demean import Absorber, factorize, single_thread_blas
from econ.panel.vcov import IID, Cluster, Hetero, parse_vcov

__all__ = ["mediation", "MediationResult", "IDENTIFICATION_CAVEAT"]

IDENTIFICATION_CAVEAT = (
    "Identification: randomisation (or parallel trends) of the treatment identifies the effects of the treatment "
    "on the mediator (a) and on the outcome (total c), not the mediator -> outcome link (b): the mediator is not "
    "randomised, so b, the direct effect and the indirect effect a*b assume no unobserved mediator-outcome "
    "confounding (sequential ignorability). Read a as the tested channel and argue b from theory or a separate "
    "design (Jiang 2022; Imai, Keele and Tingley 2010).")


class MediationResult(SummaryRepr):
    """Result of :func:`mediation`.

    Attributes
    ----------
    a, b, total, direct : econ.panel.FeolsResult
        ``a``: mediator on treatment; ``total``: outcome on treatment; ``direct``: outcome on treatment and
        mediator (``b`` is that fit too, read at the mediator). :meth:`steps` lists them in table order and
        ``econ.etable(result)`` prints them side by side.
    indirect : float
        ``a * b``.
    sobel_se : float
        Delta-method (Sobel) standard error of ``a * b``.
    draws : numpy.ndarray
        Bootstrap draws of ``a * b`` (empty when ``n_draws=0``).
    nobs : int
        Rows used (the same in all three regressions).
    n_units : int or None
        Units, counted as :func:`econ.panel.feols` counts them: the levels of the first fixed effect (the unit in
        ``fe=[unit, time]``); ``None`` without fixed effects.
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
        self.nobs = int(info["nobs"])
        self.n_units = self.total.n_units
        t, m = names["treat"], names["mediator"]
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

    def steps(self) -> list:
        """The three regressions in the order of a mediation table: total (outcome on treatment), a (mediator on
        treatment), direct (outcome on treatment and mediator).

        Returns
        -------
        list of econ.panel.FeolsResult
            ``[total, a, direct]``; ``econ.etable(result)`` prints these three columns.

        Examples
        --------
        See :func:`mediation`.
        """
        return [self.total, self.a, self.direct]

    def tidy(self) -> pd.DataFrame:
        """``term, estimate, std_error, p_value, conf_low, conf_high`` for a, b, total, direct and the indirect
        effect (Sobel; bootstrap percentile; bootstrap bias-corrected).

        Returns
        -------
        pandas.DataFrame
            Seven rows; the intervals have the ``level`` of the fit.

        Examples
        --------
        See :func:`mediation`.
        """
        t, m = self._names["treat"], self._names["mediator"]
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
        return standard_columns(pd.DataFrame(rows))

    def summary(self, digits: int = 4) -> str:
        """The mediation table, the sample and bootstrap facts, and the identification caveat.

        Parameters
        ----------
        digits : int, default 4

        Returns
        -------
        str
        """
        info = self.info
        units = f" ({self.n_units} units)" if self.n_units is not None else ""
        lines = [f"Mediation (three-step): {info['treat']} -> {info['mediator']} -> {info['y']}",
                 f"fixed effects: {', '.join(info['fe']) or 'none'}; covariates: "
                 f"{', '.join(info['covariates']) or 'none'}; n = {info['nobs']}{units}; vcov {info['vcov']}; "
                 f"bootstrap {info['n_draws']} draws resampling {info['cluster'] or 'rows'}", ""]
        t = self.tidy()
        lines.append(f"{'':<42}{'estimate':>10}{'std.err':>10}{'p':>8}   {self.level:.0%} interval")
        for _, r in t.iterrows():
            lines.append(f"{r['term']:<42}{r['estimate']:>10.{digits}f}{r['std_error']:>10.{digits}f}"
                         f"{r['p_value']:>8.3f}   [{r['conf_low']:.{digits}f}, {r['conf_high']:.{digits}f}]")
        share = self.indirect / float(self.total.coef[info["treat"]]) if self.total.coef[info["treat"]] else np.nan
        lines += ["", f"indirect / total = {share:.3f}", "", IDENTIFICATION_CAVEAT]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    @doc()
    def plot(self, ax=None, path=None, *, bins: int = 40):
        """Histogram of the bootstrap draws of ``a * b`` with the estimate and both bootstrap intervals (without
        draws: the Sobel normal approximation and its interval).

        Parameters
        ----------
        {ax}
        {path}
        bins : int, default 40
            Histogram bins.

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)
        """
        from econ.results import figure, finish_figure

        bins = v.check_int(bins, "bins", minimum=1)
        fig, ax = figure(ax)
        z = stats.norm.ppf(0.5 + self.level / 2)
        if self.draws.size:
            ax.hist(self.draws, bins=bins, color="0.75")
            pct, bc = self._boot_intervals()
            bands = ((pct, "--", "percentile"), (bc, ":", "bias-corrected"))
            ax.set_xlabel("indirect effect a*b (bootstrap draws)")
        else:
            se = self.sobel_se if self.sobel_se > 0 else 1.0
            grid = self.indirect + np.linspace(-4, 4, 201) * se
            ax.plot(grid, stats.norm.pdf(grid, self.indirect, se), color="0.5")
            bands = (((self.indirect - z * self.sobel_se, self.indirect + z * self.sobel_se), "--", "Sobel"),)
            ax.set_xlabel("indirect effect a*b (Sobel normal approximation; no bootstrap draws)")
        ax.axvline(self.indirect, color="k", lw=1.2, label="a*b")
        for (lo, hi), style, lab in bands:
            ax.axvline(lo, color="k", ls=style, lw=0.8, label=f"{self.level:.0%} {lab}")
            ax.axvline(hi, color="k", ls=style, lw=0.8)
        ax.axvline(0, color="0.4", lw=0.6)
        ax.legend(frameon=False)
        return finish_figure(fig, ax, path)


def _names_list(x, what):
    if x is None:
        return []
    out = [x] if isinstance(x, str) else list(x)
    for c in out:
        v.check_column_name(c, what)
    return out


def mediation(data: pd.DataFrame, y: str, treat: str, mediator: str, *, covariates=(), fe=(), vcov="iid",
              n_draws: int = 999, seed=0, level: float = 0.95) -> MediationResult:
    """Three-step mediation (Baron-Kenny) with Sobel and cluster-bootstrap tests of the indirect effect.

    Parameters
    ----------
    data : pandas.DataFrame
        Never modified. Rows with a missing value in any used column are dropped (counted in ``notes``).
    y : str
        Outcome column ``Y``.
    treat : str
        Treatment column ``D`` (a 0/1 dummy or a continuous intensity).
    mediator : str
        Mediator (channel) column ``M``.
    covariates : str or list of str, optional
        Control columns, in all three regressions.
    fe : str or list of str, optional
        Fixed effects absorbed in all three regressions (e.g. ``["city", "year"]``).
    vcov : str or dict, default "iid"
        Covariance of the three fits: ``"iid"``, ``"hetero"`` or ``{"CL1": col}`` (any :func:`econ.panel.feols`
        spec when ``n_draws=0``); used by the per-step tests and the Sobel standard error. With
        ``{"CL1": col}`` the bootstrap resamples whole clusters of ``col`` (each copy of a cluster is a new level
        of every fixed effect nested in it); otherwise it resamples rows.
    n_draws : int, default 999
        Bootstrap draws (0: Sobel only).
    seed : int, default 0
        Seed of the bootstrap (``numpy.random.default_rng``).
    level : float, default 0.95
        Confidence level of every interval.

    Returns
    -------
    MediationResult
        ``tidy()`` / ``summary()`` (with the identification caveat) / ``plot()``.

    Raises
    ------
    SpecificationError
        Unknown or non-numeric columns, the same column in two roles, a treatment or mediator absorbed by the fixed
        effects, bad ``n_draws``/``level``/``seed``/``vcov``; a bootstrap (``n_draws > 0``) with a two-way,
        Driscoll-Kraay or Conley ``vcov`` (no resampling scheme matches those: use ``n_draws=0``).

    Notes
    -----
    With the same covariates ``X`` and fixed effects in each step: (1) ``Y = c D + X g1 + FE``; (2)
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
    >>> res = mediation(df, "y", "d", "m", n_draws=199)
    >>> bool(abs(res.indirect - 0.4) < 0.1), bool(abs(res.total.coef["d"] - res.direct.coef["d"] - res.indirect)
    ...                                                < 1e-10)
    (True, True)
    """
    from econ.panel.feols import feols

    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    for name, val in (("y", y), ("treat", treat), ("mediator", mediator)):
        v.check_column_name(val, name)
    covariates, fe = _names_list(covariates, "covariates"), _names_list(fe, "fe")
    roles = [y, treat, mediator] + covariates
    if len(set(roles)) != len(roles):
        raise SpecificationError(f"y, treat, mediator and covariates must be distinct columns, got {roles}")
    n_draws = v.check_int(n_draws, "n_draws", minimum=0)
    level = v.check_real(level, "level", low=0.0, high=1.0)
    if not 0 < level < 1:
        raise SpecificationError(f"level must be strictly between 0 and 1, got {level}")
    v.check_seed(seed)
    spec = parse_vcov(vcov)
    if n_draws and not isinstance(spec, (IID, Hetero, Cluster)):
        raise SpecificationError(f"the bootstrap resamples rows or one-way clusters; vcov={vcov!r} has no matching "
                                 "resampling scheme: use vcov={'CL1': col} or n_draws=0 (Sobel only)")
    cluster = spec.col if isinstance(spec, Cluster) else None
    used = list(dict.fromkeys(roles + fe + spec.columns()))
    v.require_columns(data, used, "mediation")
    for c in roles:
        if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]):
            raise SpecificationError(f"column {c!r} must be numeric, got dtype {data[c].dtype}")
    df = data[used].dropna()
    notes = []
    if len(df) < len(data):
        notes.append(f"{len(data) - len(df)} rows with missing values dropped (all three steps use the same "
                     f"{len(df)} rows)")
    rhs_c = "".join(f" + `{c}`" for c in covariates)
    fe_part = (" | " + " + ".join(f"`{f}`" for f in fe)) if fe else ""
    fits = {
        "total": feols(f"`{y}` ~ `{treat}`{rhs_c}{fe_part}", df, vcov=vcov, fixef_rm="none"),
        "a": feols(f"`{mediator}` ~ `{treat}`{rhs_c}{fe_part}", df, vcov=vcov, fixef_rm="none"),
        "direct": feols(f"`{y}` ~ `{treat}` + `{mediator}`{rhs_c}{fe_part}", df, vcov=vcov, fixef_rm="none"),
    }
    for key, var in (("total", treat), ("a", treat), ("direct", treat), ("direct", mediator)):
        if var not in fits[key].coef.index:
            raise SpecificationError(f"{var!r} was dropped from the {key} regression (absorbed by the fixed effects "
                                     "or collinear); mediation is not defined")
    with single_thread_blas():
        draws = _bootstrap(df, y, treat, mediator, covariates, fe, cluster, n_draws, seed) if n_draws \
            else np.empty(0)
    info = {"y": y, "treat": treat, "mediator": mediator, "covariates": covariates, "fe": fe,
            "nobs": len(df), "vcov": vcov if isinstance(vcov, str) else str(vcov), "n_draws": n_draws,
            "cluster": cluster}
    return MediationResult(fits=fits, names={"treat": treat, "mediator": mediator}, level=level,
                           draws=draws, notes=notes, info=info)


def _bootstrap(df, y, treat, mediator, covariates, fe, cluster, n_draws, seed):
    """Draws of ``a * b``: clusters resampled with replacement, each copy a new level of every fixed effect
    nested in the cluster (the cluster's own codes get a copy index), fixed effects re-absorbed per draw."""
    rng = np.random.default_rng(seed)
    V = df[[y, mediator, treat] + covariates].to_numpy(float)
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
        yy, m, rest = X[:, 0], X[:, 1], X[:, 2:]
        a = np.linalg.lstsq(rest, m, rcond=None)[0][0]
        b_ = np.linalg.lstsq(np.column_stack([rest, m]), yy, rcond=None)[0][-1]
        out[b] = a * b_
    return out
