"""Group-time average treatment effects under staggered adoption (Callaway & Sant'Anna 2021).

:func:`att_gt` estimates ATT(g, t) for every cohort ``g`` and period ``t`` with doubly robust, inverse-probability
or outcome-regression 2x2 comparisons (:mod:`econ.did.staggered._drdid`), keeps the per-unit influence functions, and
:meth:`ATTgtResult.aggregate` turns them into event-time, cohort, calendar and overall effects. Conventions follow
R ``did`` (``att_gt`` / ``aggte``) so its numbers are reproduced; each is stated where it is made.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from econ import _validate
from econ.did import _conley, _mboot
from econ.did.staggered import _cs_design, _drdid, _rcs
from econ.did.staggered._cs_result import InfluenceResult, _bootstrap_basis, _check_level, influence_basis  # noqa: F401
from econ.did._design import NEVER, cluster_column
from econ.errors import SpecificationError
from econ.panel.demean import single_thread_blas
from econ.survey import SurveyVariance, survey_spec

__all__ = ["att_gt", "ATTgtResult"]

_CONTROLS = ("never", "notyet")
_METHODS = ("dr", "ipw", "reg")


def att_gt(data: pd.DataFrame, y: str, unit: str, time: str, cohort: str, *, covariates=None, control: str = "never",
           method: str = "dr", base_period: str = "varying", anticipation: int = 0, vcov=None,
           weights: str | None = None, n_draws: int | None = None, multiplier: str = "mammen", seed=0,
           level: float = 0.95, balance: bool = False, progress: bool = False,
           n_boot: int | None = None, cluster: str | None = None,
           cluster_bootstrap: str = "mean", panel: bool = True,
           allow_unbalanced_panel: bool = False) -> ATTgtResult:
    """Group-time average treatment effects ATT(g, t) of Callaway & Sant'Anna (2021) on a panel or repeated
    cross-sections.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per (unit, time); never modified.
    y, unit, time, cohort : str
        Outcome, unit id, integer period, and cohort (first treated period; 0 or missing = never treated).
    covariates : str or list of str, optional
        Conditioning covariates X. They enter each 2x2 comparison at the **base period**, as R ``did`` does: the
        two-period wide panel of cell (g, t) keeps the covariate values of the *earlier* of its two periods (the
        base period for every post-treatment cell and, under ``base_period="varying"``, for every cell; for a
        pre-treatment cell before ``g - 1`` under ``"universal"`` it is ``t``). Time-invariant covariates make
        this moot.
    control : {"never", "notyet"}
        Comparison units: never-treated units, or never-treated plus not-yet-treated units, i.e. units with cohort
        ``> max(t, base period) + anticipation`` other than cohort g (R ``did``'s ``notyettreated``).
    method : {"dr", "ipw", "reg"}
        2x2 estimator (Sant'Anna & Zhao 2020, as R's DRDID implements them for panel data): ``"dr"`` the locally
        efficient doubly robust ``drdid_panel`` that R ``did`` uses (logit score + linear outcome regression of the
        comparison units' change), ``"ipw"`` normalized IPW ``std_ipw_did_panel``, ``"reg"`` outcome regression
        ``reg_did_panel``. Without covariates all three equal the simple 2x2 difference in mean changes.
    base_period : {"varying", "universal"}
        ``"varying"``: pre-treatment cells compare t with t - 1 (short gaps, R's default); post-treatment cells use
        the last period before ``g - anticipation``. ``"universal"``: every cell of cohort g uses that same base
        period; the base cell itself is reported as 0 with a NaN standard error, as R does.
    anticipation : int
        Periods of anticipation: the base period of cohort g is the last period before ``g - anticipation``.
    vcov : None, {"CL1": column} or {"conley": {...}}, optional
        As in every estimator of the package: ``None`` (default) clusters by unit (the influence functions are
        per unit); ``{"CL1": col}`` (or just ``col``) clusters at a level coarser than the unit, with ``col``
        constant within unit: bootstrap multipliers are then drawn per cluster (see ``cluster_bootstrap``); analytic standard errors (``n_draws=0``) are the
        cluster-robust ``sqrt(sum_c S_c^2) / n`` of the influence functions' cluster sums ``S_c`` (R ``did`` has no
        analytic clustered standard error: it ignores clustering without the bootstrap). Other covariances
        (``"iid"``, ``"hetero"``, two-way) do not apply to influence-function inference and raise a
        SpecificationError. ``{"conley": {"lat": .., "lon": .., "cutoff_km": ..}}`` (or planar ``{"x": .., "y": ..,
        "cutoff": ..}``; ``kernel`` ``"uniform"``/``"bartlett"``), as :func:`econ.feols` spells it: Conley's spatial
        HAC ``sum_ij K(d_ij) psi_i psi_j' / n^2`` of the per-unit influence functions over units' coordinates
        (constant within unit), carried into every aggregation; analytic only (``n_draws`` must be 0). See
        :mod:`econ.did._conley`. ``{"survey": {"strata": .., "psu": .., "fpc": .., "nest": .., "lonely_psu": ..}}``
        (or an :class:`econ.survey.SurveyDesign`; design columns constant within unit): the Taylor-linearised
        variance ``sum_h (1 - f_h) n_h / (n_h - 1) sum_i (z_hi - zbar_h)^2 / n^2`` of the PSU totals ``z_hi`` of
        the influence functions, in every cell, aggregation and pre-trend test; PSUs are counted on all units of
        ``data`` (units the estimator drops keep their PSU with a zero influence function); analytic only. The
        sampling weights are ``weights``. See :mod:`econ.survey`.
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise), constant within unit (per row with ``panel=False``).
        The 2x2 cells, cohort shares and influence functions are weighted as R ``did``'s ``weightsname``. ``None``:
        equal weights.
    n_draws : int or None, default None
        Multiplier-bootstrap draws (``n_boot`` is accepted as an alias). None (the default) or 0 gives analytic
        standard errors only;
        with draws, standard errors are the bootstrap's interquartile-range estimates and a uniform (sup-t) band
        is added, as R ``did``'s ``bstrap = TRUE, cband = TRUE``.
    multiplier : {"mammen", "rademacher"}
        Law of the bootstrap multipliers (R ``did`` uses Mammen's).
    seed : int
        Seed of ``numpy.random.default_rng``.
    level : float
        Confidence level of intervals and bands.
    balance : bool, default False
        The estimator needs a balanced panel. By default an unbalanced panel, or rows with missing values, raise a
        PanelError naming the units; ``balance=True`` instead drops those rows and then every unit not observed in
        all periods, with a note (what R ``did`` does by default, ``allow_unbalanced_panel = FALSE``).
    progress : bool
        Show a tqdm progress bar over cohorts.
    cluster : str, optional
        Alias of ``vcov={"CL1": cluster}`` (the earlier spelling, kept).
    cluster_bootstrap : {"mean", "sum"}
        How clustered bootstrap draws are formed. ``"mean"`` (default, R ``did``'s ``mboot``, csdid and
        moderndid): the influence function is averaged within each cluster and a draw is
        ``sum_c v_c psibar_c / G`` (R: ``sqrt(G)`` times the mean, standard errors divided by ``sqrt(G)``), so
        clusters weigh equally whatever their size. ``"sum"``: ``sum_c v_c S_c / n`` with the cluster sums, whose
        variance is the cluster-robust estimator of the analytic standard errors. They coincide with equal
        cluster sizes; on mpdta clustered by state (3 to 46 counties) they differ by up to 2x.
    panel : bool, default True
        ``False``: the data are repeated cross-sections (R ``did``'s ``panel = FALSE``): every row is a different
        respondent, ``unit`` a row id that must not repeat (or ``None``); each cell uses Sant'Anna & Zhao's (2020)
        repeated-cross-section estimator of ``method`` on the rows of cohort g and the comparison group observed
        in t or the base period, covariates and weights per row; influence functions are per row.
    allow_unbalanced_panel : bool, default False
        An unbalanced panel is kept whole (R ``did``'s ``allow_unbalanced_panel = TRUE``): the cells use the
        repeated-cross-section estimators on the rows and each unit's row influences are summed, so inference is
        clustered by unit. On a balanced panel this is the panel estimator (with identical numbers).

    Returns
    -------
    ATTgtResult
        ``tidy()`` with columns cohort, time, event_time, term, estimate, std_error, statistic, p_value,
        conf_low, conf_high (+ band_low, band_high when bootstrapped); ``inf_func`` (n units x cells);
        ``aggregate(kind)``; ``plot()``.

    Raises
    ------
    PanelError
        Unbalanced panel or missing values without ``balance=True`` or ``allow_unbalanced_panel=True`` (names the
        units), duplicate keys, a repeated cross-section (``panel=False``) whose row ids repeat.
    TreatmentError
        Cohort not constant within unit or outside the panel, nobody treated, no comparison group.
    SpecificationError, WeightsError
        Bad arguments, unknown columns, weights or clusters varying within unit.

    Notes
    -----
    For cohort g and period t with base period b, on the units of cohort g and the comparison group C,

    .. math:: ATT(g,t) = E[Y_t - Y_b \\mid G=g] - E[\\,\\cdot\\mid C]\\ \\text{(adjusted for } X_b\\text{)},

    eq. (2.6)-(2.7) of Callaway & Sant'Anna (2021) with the doubly robust form of their eq. (2.9). The cell's
    influence function ``psi`` over its ``n1`` units is scaled by ``n / n1`` and set to 0 for the other units, so
    ``SE = sqrt(sum_i psi_i^2) / n`` (clustered: sums within cluster). Cells that cannot be estimated (no
    comparison unit, a singular covariate design, propensity scores reaching 0.999, a cohort of one unit with
    covariates) are NaN with a note naming the cell. Sample rules of R ``did``: units treated by the first period
    (plus anticipation) are dropped; with no never-treated unit the last cohort becomes the comparison group and
    later periods are dropped. Each note says when a rule applied.

    References
    ----------
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods. Journal of
    Econometrics 225(2), 200-230.
    Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences estimators. Journal of
    Econometrics 219(1), 101-122.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import att_gt
    >>> res = att_gt(datasets.load("mpdta"), "lemp", "countyreal", "year", "first.treat")
    >>> round(float(res.tidy().query("cohort == 2004 and time == 2004")["estimate"].iloc[0]), 4)
    -0.0105
    >>> round(res.aggregate("simple").overall_att, 4)
    -0.04
    """
    control = _validate.check_choice(control, "control", _CONTROLS)
    method = _validate.check_choice(method, "method", _METHODS)
    base_period = _validate.check_choice(base_period, "base_period", ("varying", "universal"))
    multiplier = _validate.check_choice(multiplier, "multiplier", ("mammen", "rademacher"))
    anticipation = _validate.check_int(anticipation, "anticipation", minimum=0)
    n_draws = 0 if n_draws is None and n_boot is None else _validate.check_n_draws(
        n_draws, aliases={"n_boot": n_boot})
    seed = _validate.check_seed(seed)
    progress = _validate.check_bool(progress, "progress")
    balance = _validate.check_bool(balance, "balance")
    level = _check_level(level)
    survey = survey_spec(vcov, "att_gt")
    conley = None if survey else _conley.conley_spec(vcov, "att_gt")
    if (conley or survey) and cluster is not None:
        raise SpecificationError(f"att_gt: give vcov={{'{'survey' if survey else 'conley'}': ...}} or "
                                 f"cluster={cluster!r}, not both")
    cluster = _cluster_of(None if conley or survey else vcov, cluster, unit)
    cluster_bootstrap = _validate.check_choice(cluster_bootstrap, "cluster_bootstrap", _mboot.FORMS)
    design = _rcs.build_for(data, y, unit, time, cohort, covariates, weights, cluster, control, anticipation,
                            balance, panel, allow_unbalanced_panel)  # None: a balanced panel
    if design is None:
        design = _cs_design.build(data, y, unit, time, cohort, covariates, weights, cluster, control, anticipation,
                                  balance)
    if conley:  # the kernel replaces the cluster codes of the influence-function covariance
        if not isinstance(design, _cs_design.Design):
            raise SpecificationError("att_gt: Conley standard errors need a balanced panel (not panel=False or an "
                                     "unbalanced panel): their kernel is between units observed in every period")
        design.cluster = _conley.UnitKernel.from_data(data, unit, design.units, conley, "att_gt")
        design.cluster.refuse_bootstrap("att_gt", n_draws)
        design.notes = list(design.notes) + _conley.influence_notes(conley, design.cluster)
    if survey:  # the stratified between-PSU variance replaces the cluster sums
        design.cluster = survey_kernel(survey, data, unit, design, n_draws, "att_gt")
    estimate_cells = _estimate_cells if isinstance(design, _cs_design.Design) else _rcs.estimate_cells
    with single_thread_blas():  # small dense algebra: BLAS threads only add wake-up costs
        cells, psi, notes = estimate_cells(design, control, method, base_period, anticipation, progress)
    boot_basis = _bootstrap_basis(design, psi, n_draws, multiplier, seed, cluster_bootstrap) if n_draws else None
    spec = dict(y=y, unit=unit, time=time, cohort=cohort, covariates=list(design.xnames[1:]), control=control,
                method=method, base_period=base_period, anticipation=anticipation, cluster=cluster, weights=weights,
                n_draws=n_draws, multiplier=multiplier, seed=seed, cluster_bootstrap=cluster_bootstrap,
                panel=getattr(design, "kind", "panel"))
    return ATTgtResult(cells, psi, design, boot_basis, level, design.notes + notes, spec)


def survey_kernel(survey, data, unit, design, n_draws, who: str) -> SurveyVariance:
    """The survey design over ``data``'s units (rows for ``unit=None``) bound to ``design.units``; adds a note."""
    sv = survey.for_units(data, unit, design.units, f"{who} survey design")
    sv.refuse_bootstrap(who, n_draws)
    design.notes = list(design.notes) + [
        f"standard errors: {sv.label}; {sv.n_psu} PSUs counted on the whole input (units the estimator drops keep "
        "their PSU with a zero influence function)" + (f"; {sv.n_singleton} single-PSU stratum(s) handled by "
                                                       f"lonely_psu={sv.lonely_psu!r}" if sv.n_singleton else "")]
    return sv


def _cluster_of(vcov, cluster, unit):
    """The cluster column of ``vcov=`` (None, a column, or {"CL1": column}) or its alias ``cluster=``."""
    return cluster_column(vcov, cluster, unit, "att_gt")


def _estimate_cells(d: _cs_design.Design, control, method, base_period, anticipation, progress):
    """Loop over cohorts and periods (R did's ``compute.att_gt``); returns the cell table, psi (n x k), notes.

    Without covariates every 2x2 cell reduces to a difference of (weighted) mean changes whose influence function
    is closed-form for all three methods; those cells are computed together on n x cells arrays
    (:func:`_intercept_cells`), the others one by one (:func:`_one_cell`), which also handles every cell the batch
    cannot (empty or zero-weight groups, overlap failures) with the same messages.
    """
    n, periods = d.n, d.periods
    never = d.g == NEVER
    rows, specs = [], []
    for g, cells in _cs_design.cell_plan(d.cohorts, periods, base_period, anticipation, progress):
        n_treated = int(np.count_nonzero(d.g == g))
        for s, b, post, threshold in cells:
            rows.append(dict(cohort=g, time=int(periods[s]), base=int(periods[b]), post=post, n_treated=n_treated))
            specs.append((g, s, b, threshold))
    psi = np.zeros((n, len(specs)))
    est = np.zeros(len(specs))
    n_control = np.zeros(len(specs), dtype=np.int64)
    todo = [k for k, (g, s, b, _) in enumerate(specs) if b != s]  # b == s: the universal base cell, fixed at 0
    done = _intercept_cells(d, control, method, specs, todo, psi, est, n_control) if len(d.xnames) == 1 else set()
    notes: list = []
    ps_cache: dict = {}
    for k in todo:
        if k in done:
            continue
        g, s, b, threshold = specs[k]
        treated = d.g == g
        comp = never if control == "never" else never | ((d.g > threshold) & ~treated)
        key = (g, None if control == "never" else threshold)
        att, psi[:, k], n_control[k], why = _one_cell(d, method, treated, comp, s, b, ps_cache, key)
        est[k] = att
        if why:
            notes.append(f"ATT({g},{periods[s]}) is NaN: {why}")
    if not rows:
        return pd.DataFrame(), psi, notes
    columns = {key: [r[key] for r in rows] for key in ("cohort", "time", "base", "post")}
    cells = pd.DataFrame({**columns, "estimate": est, "n_treated": [r["n_treated"] for r in rows],
                          "n_control": n_control})
    return cells, psi, notes


def _intercept_cells(d, control, method, specs, todo, psi, est, n_control) -> set:
    """The cells ``todo`` of a design without covariates, all at once; fills ``psi``/``est``/``n_control`` and
    returns the cells done (those that cannot fail; the rest go through :func:`_one_cell`).

    With only an intercept, the doubly robust, IPW and regression 2x2 estimators all equal ``mu1 - mu0``, the
    weighted mean changes of the cohort and of its comparison units, with influence function (scaled to all n
    units as :func:`_one_cell` does) ``n w_i [1{i in g} (dy_i - mu1) / W1 - 1{i in C} (dy_i - mu0) / W0]``,
    ``W1``/``W0`` the groups' weight sums: the propensity score is the constant ``W1 / (W1 + W0)``, whose
    estimation and the outcome regression's add terms that cancel exactly. The same numbers as the per-cell
    estimator up to rounding (about 1e-16 relative).
    """
    from econ.did.staggered._drdid import OVERLAP, TRIM

    if not todo:
        return set()
    todo = np.asarray(todo)
    G = np.array([specs[k][0] for k in todo])
    S = np.array([specs[k][1] for k in todo])
    B = np.array([specs[k][2] for k in todo])
    # units by group: the treated cohorts of the design (any other cohort, e.g. a comparison-only last cohort,
    # has its own group) and the never-treated units last; every treated and comparison set is a union of groups
    groups = np.unique(d.g)
    codes = np.searchsorted(groups, d.g)
    n_groups = len(groups)
    gidx = np.searchsorted(groups, G)
    member = np.zeros((n_groups, len(todo)), dtype=bool)  # the comparison groups of each cell
    if control == "never":
        member[-1, :] = groups[-1] == NEVER
    else:
        thr = np.array([specs[k][3] for k in todo])
        member[:] = (groups[:, None] > thr[None, :]) | (groups[:, None] == NEVER)
        member[gidx, np.arange(len(todo))] = False
    count = np.bincount(codes, minlength=n_groups)
    wsum = np.bincount(codes, weights=d.w, minlength=n_groups)
    n1, W1 = count[gidx], wsum[gidx]
    n0, W0 = count @ member, wsum @ member
    ok = (n0 > 0) & (W0 > 0) & (W1 > 0)
    if method != "reg":
        with np.errstate(all="ignore"):
            ok &= (n1 / (n1 + n0) < OVERLAP) & (W1 / (W1 + W0) < TRIM)
    if not ok.any():
        return set()
    todo, gidx, S, B, W0, W1, n0, member = todo[ok], gidx[ok], S[ok], B[ok], W0[ok], W1[ok], n0[ok], member[:, ok]
    cols = np.arange(len(todo))
    dY = d.Y[:, S] - d.Y[:, B]
    by_group = sparse.csr_matrix((d.w, (codes, np.arange(d.n))), shape=(n_groups, d.n)) @ dY  # sum of w dy
    mu1 = by_group[gidx, cols] / W1
    mu0 = (by_group * member).sum(axis=0) / W0
    coef = np.where(member, -d.n / W0, 0.0)  # per group and cell: n / W1 (cohort), -n / W0 (comparison), 0
    coef[gidx, cols] = d.n / W1
    centre = np.where(member, mu0, 0.0)
    centre[gidx, cols] = mu1
    out = dY - centre[codes]
    out *= coef[codes]
    out *= d.w[:, None]
    att = mu1 - mu0
    good = np.isfinite(att) & np.isfinite(out).all(axis=0)
    psi[:, todo[good]] = out[:, good]
    est[todo[good]] = att[good]
    n_control[todo[good]] = n0[good]
    return set(todo[good].tolist())


def _one_cell(d, method, treated, comp, s, b, ps_cache, key):
    """One 2x2 comparison: (att, psi over all n units, number of comparison units, failure reason or None)."""
    n = d.n
    nan = np.full(n, np.nan)
    n_c = int(comp.sum())
    if n_c == 0:
        return np.nan, nan, 0, "no comparison units (empty comparison group)"
    keep = treated | comp
    idx = np.flatnonzero(keep)
    dvec = treated[idx].astype(float)
    early = min(s, b)
    X = d.design(early)[idx]
    dy = d.Y[idx, s] - d.Y[idx, b]
    w_raw = d.w[idx]
    if not (w_raw[dvec == 0] > 0).any():
        return np.nan, nan, n_c, "every comparison unit has zero weight (empty comparison group)"
    if not (w_raw[dvec == 1] > 0).any():
        return np.nan, nan, n_c, "every unit of the cohort has zero weight"
    w = w_raw / w_raw.mean()
    weighted = not np.all(w_raw == w_raw[0])

    def fit():
        ps = None
        if method != "reg":
            ps_key = (key, early if d.X[early] is not None else 0)
            ps = ps_cache.get(ps_key)
            if ps is None:
                ps = _drdid.logit(X, dvec, w)
                ps_cache[ps_key] = ps
        _drdid.check_design(X, dvec, method, w_raw if weighted else None, ps)
        with np.errstate(all="ignore"):
            return _drdid.estimate(method, dy, dvec, X, w, ps)

    att, psi, why = _drdid.run_cell(fit)
    if why:
        return np.nan, nan, n_c, why
    out = np.zeros(n)
    out[idx] = psi * (n / len(idx))
    return att, out, n_c, None


class ATTgtResult(InfluenceResult):
    """Result of :func:`att_gt`: one estimate per (cohort, time) cell with its influence function.

    Attributes: ``cells`` (cohort, time, base period, post, n_treated, n_control per cell), ``inf_func`` (n x
    cells), ``units``, ``spec`` (the call's options), ``notes``; inherits ``coef/se/vcov/tidy/summary`` from
    :class:`econ.results.Result`. Terms are named ``g<cohort>_t<time>``.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import att_gt
    >>> res = att_gt(datasets.load("mpdta"), "lemp", "countyreal", "year", "first.treat", n_draws=99)
    >>> res.tidy().columns.tolist()[:6]
    ['cohort', 'time', 'event_time', 'term', 'estimate', 'std_error']
    >>> res.inf_func.shape
    (500, 12)
    """

    def __init__(self, cells, psi, design, boot_basis, level, notes, spec):
        k = len(cells)
        names = [f"g{g}_t{t}" for g, t in zip(cells["cohort"], cells["time"])]
        coef = pd.Series(cells["estimate"].to_numpy(dtype=float), index=names)
        keys = pd.DataFrame({"cohort": cells["cohort"], "time": cells["time"],  # not cells[[...]]: 3x the cost
                             "event_time": cells["time"] - cells["cohort"]})
        n_clusters = ((spec["cluster"], int(design.cluster.max()) + 1) if isinstance(design.cluster, np.ndarray)
                      else (design.cluster.psu_name or spec["unit"], design.cluster.n_psu)
                      if isinstance(design.cluster, SurveyVariance) else (spec["unit"], design.n))
        boot = None if boot_basis is None else boot_basis[:, :k]
        super().__init__(coef, keys, psi, units=design.units, cluster=design.cluster, boot=boot, level=level,
                         notes=notes, model=f"Callaway-Sant'Anna ATT(g,t) ({spec['method']}, {spec['control']} "
                         f"comparison, {spec['base_period']} base period)", depvar=spec["y"], n_clusters=n_clusters)
        self.nobs = int(np.size(design.Y))  # rows used: units x periods of the balanced panel (n_units: units)
        self.cells = cells
        self.spec = spec
        self._design = design
        self._boot_basis = boot_basis

    def pretrend_test(self, df: str | None = None):
        """Joint Wald test that every pre-treatment ATT(g, t) is zero (R ``did``'s pre-test of parallel trends).

        Uses the analytic influence-function covariance of the pre-treatment cells with a positive standard error
        (the universal base cells, fixed at 0, are left out): ``W = ATT_pre' V_pre^{-1} ATT_pre``, chi-square with
        as many degrees of freedom as cells (R ``did``). When ``V_pre`` is singular -- cells whose influence
        functions are linearly dependent, e.g. cohorts of one unit, whose pre-period cells share the comparison
        units' deviations, or more pre-period cells than units -- R ``did`` and moderndid return no statistic
        (with a warning); here the Moore-Penrose inverse replaces ``V_pre^{-1}``, the degrees of freedom are its
        rank and the test carries a note saying so.

        Parameters
        ----------
        df : {None, "cluster"}
            Denominator degrees of freedom of the F form: ``None`` (default) asymptotic, the chi-square law (R
            ``did``); ``"cluster"`` ``G - 1`` with ``G`` the clusters of ``cluster=`` (or the units), as Stata's
            ``test`` (with a survey design: PSUs minus strata). ``"resid"`` is refused: there is no regression.

        Returns
        -------
        econ.results.WaldTest

        Raises
        ------
        SpecificationError
            No pre-treatment cell with a finite, positive variance; ``df="resid"``.

        Examples
        --------
        >>> from econ import datasets
        >>> from econ.did import att_gt
        >>> res = att_gt(datasets.load("mpdta"), "lemp", "countyreal", "year", "first.treat")
        >>> round(res.pretrend_test().chi2, 2)
        7.79
        """
        from econ.did.staggered._cs_result import analytic_vcov
        from econ.errors import SpecificationError
        from econ.results import wald

        v = analytic_vcov(self.inf_func, self._design.cluster)
        var = np.diag(v)
        pre = np.flatnonzero(~self.cells["post"].to_numpy() & np.isfinite(var) & (var > _mboot.TINY**2))
        if len(pre) == 0:
            raise SpecificationError("pretrend_test: no pre-treatment ATT(g,t) with a positive variance")
        R = np.zeros((len(pre), len(self.cells)))
        R[np.arange(len(pre)), pre] = 1.0
        b = np.nan_to_num(self.coef.to_numpy())
        if df not in (None, "cluster"):
            raise SpecificationError(f"pretrend_test: df must be None (chi-square, R did) or 'cluster' (G - 1); "
                                     f"got {df!r} (ATT(g,t) have no residual degrees of freedom)")
        g = int(self.n_clusters) if self.n_clusters else self.inf_func.shape[0]  # kernels: one 'cluster' per unit
        df2, rule = (np.inf, "none (asymptotic chi-square, R did)") if df is None else (
            float(g - 1), f"G - 1 = {g - 1} clusters (Stata)")
        if df is not None and isinstance(self._design.cluster, SurveyVariance):
            degf = self._design.cluster.degf
            df2, rule = float(degf), f"design df = {degf} (PSUs - strata, Stata's svy)"
        return wald(b, np.nan_to_num(v), R, df2, f"all {len(pre)} pre-treatment ATT(g,t) = 0", singular="pinv",
                    df2_rule=rule)

    def aggregate(self, kind: str = "dynamic", *, min_e=None, max_e=None, balance_e=None, n_draws=None,
                  level: float | None = None):
        """Aggregate the ATT(g, t) into event-time, cohort, calendar or overall effects (R ``did``'s ``aggte``).

        Parameters
        ----------
        kind : {"dynamic", "simple", "group", "calendar"}
            ``dynamic``: one effect per event time ``e = t - g``; ``simple``: one overall effect; ``group``: one
            effect per cohort; ``calendar``: one effect per period (see Notes for the weights).
        min_e, max_e : int, optional
            Event-time window of ``dynamic``; ``max_e`` also caps the post-treatment periods used by ``simple`` and
            ``group`` (counted in positions of the sorted periods, as R). Ignored by ``calendar`` (with a note).
        balance_e : int, optional
            ``dynamic`` only: keep the cohorts observed at least ``balance_e`` periods after treatment and the
            event times ``balance_e - (T_last - T_first) <= e <= balance_e`` (a balanced-in-event-time panel).
        n_draws : int, optional
            Multiplier-bootstrap draws; default those of the :func:`~econ.did.att_gt` call (same multipliers and
            seed); 0 gives analytic influence-function standard errors.
        level : float, optional
            Confidence level; default that of the ``att_gt`` call.

        Returns
        -------
        econ.did.staggered._cs_aggregate.AggregateResult
            ``overall_att``, ``overall_se``, ``overall_conf``; ``tidy()`` with one row per key (column
            ``event_time``, ``cohort`` or ``time``; terms ``rel_m1``/``rel_0``..., ``g2004``, ``t2005``, or one
            row ``ATT`` for ``simple``); the aggregated influence functions ``inf_func``; ``summary()``, ``plot()``.

        Raises
        ------
        SpecificationError
            Unknown ``kind``; ``min_e``/``max_e`` not numbers; ``balance_e`` not a non-negative integer; a bad
            ``n_draws`` or ``level``; no post-treatment cell, cohort, period or event time left to aggregate.

        Notes
        -----
        With cohort shares ``pg = mean_i(w_i 1{G_i = g})`` (regression weights normalised to mean one):
        ``dynamic`` ``theta(e) = sum_g pg ATT(g, g + e) / sum_g pg`` over the cohorts observed at ``e``, overall
        the plain mean of ``theta(e)`` over ``e >= 0``; ``group`` ``theta(g)`` = the mean of the cohort's
        post-treatment ATT(g, t), overall ``sum_g pg theta(g) / sum_g pg``; ``calendar`` ``theta(t)`` =
        ``pg``-weighted mean over the cohorts treated by ``t``, overall the mean over periods; ``simple`` the
        ``pg``-weighted mean of all post-treatment ATT(g, t) (Callaway & Sant'Anna 2021). Because
        ``pg`` is estimated, each influence function adds R ``did``'s estimated-weights term ``wif``; standard
        errors are the influence-function ones, or with draws the bootstrap interquartile-range ones (the same
        draws give the sup-t band). NaN cells are left out with a note.

        References
        ----------
        Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods.
        *Journal of Econometrics* 225(2), 200-230.

        Examples
        --------
        The minimum-wage panel of R ``did`` (analytic standard errors):

        >>> from econ import datasets
        >>> from econ.did import att_gt
        >>> res = att_gt(datasets.load("mpdta"), "lemp", "countyreal", "year", "first.treat")
        >>> dyn = res.aggregate("dynamic")
        >>> round(dyn.overall_att, 4), round(dyn.overall_se, 4)
        (-0.0772, 0.02)
        >>> res.aggregate("group").tidy()[["cohort", "estimate"]].round(4)
           cohort  estimate
        0    2004   -0.0797
        1    2006   -0.0229
        2    2007   -0.0261
        >>> round(res.aggregate("simple").overall_att, 4)
        -0.04
        """
        from econ.did.staggered._cs_aggregate import aggregate

        return aggregate(self, kind, min_e=min_e, max_e=max_e, balance_e=balance_e, n_draws=n_draws, level=level)

    def plot(self, ax=None, path=None, *, level: float | None = None, truth=None):
        """ATT(g, t) against event time, one series per cohort, with bands (or pointwise intervals).

        ``truth`` (a simulated design, or true effects by event time) draws each cohort's true path in its colour
        (see :func:`econ.results.overlay_truth`). Returns ``(fig, ax)``; with ``path`` the figure is saved there.
        """
        from econ.results import figure, finish_figure, overlay_truth

        tid = self.tidy(level)
        lo, hi = ("band_low", "band_high") if "band_low" in tid else ("conf_low", "conf_high")
        fig, ax = figure(ax, (7, 4))
        cohorts = list(pd.unique(tid["cohort"]))
        width = 0.6 / max(len(cohorts), 1)
        for j, (g, part) in enumerate(tid.groupby("cohort", sort=True)):
            x = part["event_time"] + (j - (len(cohorts) - 1) / 2) * width
            est = part["estimate"]
            bars = ax.errorbar(x, est, yerr=[est - part[lo].fillna(est), part[hi].fillna(est) - est], fmt="o",
                               ms=4, capsize=2, label=f"cohort {g}")
            if truth is not None:
                e = part["event_time"].to_numpy()
                overlay_truth(ax, x, _cohort_truth(truth, g, e), keys=e, color=bars.lines[0].get_color(),
                              label=f"truth, cohort {g}")
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        ax.axvline(-0.5, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("event time (t - g)")
        ax.set_ylabel("ATT(g, t)")
        ax.set_title(self.depvar)
        ax.legend(frameon=False, fontsize=8)
        return finish_figure(fig, ax, path)


def _cohort_truth(truth, cohort, event_times):
    """Cohort ``cohort``'s true ATT at ``event_times`` when ``truth`` is a simulated design, else ``truth``."""
    from econ.simulate import design_truth

    table = design_truth(truth)
    if table is None:
        return truth
    post = {int(r["event_time"]): r["att"] for r in table["att_gt"] if int(r["cohort"]) == int(cohort)}
    return {int(e): post.get(int(e), 0.0 if e < 0 else np.nan) for e in event_times}  # 0 before treatment
