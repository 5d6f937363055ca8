"""Difference-in-differences with spatial spillovers: the effect on treated units and on their untreated neighbours.

Model (Delgado and Florax 2015; Butts 2021), for unit ``i`` and period ``t`` with absorbing treatment ``D_it``::

    y_it = alpha_i + lambda_t + sum_{g,s} tau_{g,s} 1[G_i = g, t = s] D_it          (direct effects)
           + sum_r delta_r (1 - D_it) E^r_it + gamma D_it E_it + X_it' beta + e_it      (spillovers)

* ``estimator="etwfe"`` (default): the direct effect gets one coefficient per treated cohort ``g`` and period
  ``s >= g`` (the saturated "extended TWFE" of Wooldridge 2021), so staggered adoption with dynamic or
  heterogeneous effects does not contaminate the comparison (no forbidden comparisons of late with early
  adopters). The reported ``direct`` effect is the average of ``tau_{g,s}`` weighted by the number of treated
  observations in each cell (the ATT over treated unit-periods), with its standard error from the covariance of the
  cell coefficients. ``estimator="twfe"``: one static coefficient ``tau`` on ``D_it``.
* exposure ``E`` (``exposure=``):

  - ``"share"``: ``E_it = (W D_t)_i`` with ``W`` row-standardised -- the share of unit ``i``'s neighbours treated
    in period ``t``. ``spillover`` (``delta``) is the effect on an untreated unit of going from no treated
    neighbour to all neighbours treated; ``spillover_treated`` (``gamma``, with ``treated_exposure=True``) the
    same for a treated unit, so ``direct`` is the effect on a treated unit without treated neighbours.
  - ``"rings"``: mutually exclusive indicators ``E^r_it = 1[the nearest treated unit is in ring r]`` for untreated
    units. ``rings=K`` (an int) uses contiguity order on ``W`` (ring 1: neighbours of a treated unit, ring 2:
    their neighbours that are not in ring 1, ...); ``rings=[d_1, d_2, ...]`` uses great-circle distance in km
    from the unit-level coordinates ``coords=(lat, lon)`` (ring r: ``d_{r-1} < distance <= d_r``, ``d_0 = 0``).
    Untreated units beyond the last ring are the "clean" controls. Coefficients ``spillover_ring1``, ... Treated
    units carry no ring term.

Identification: parallel trends in the absence of any treatment *and* spillovers confined to the modelled exposure
(beyond the outermost ring or for zero share there is none) -- without the spillover terms, a spillover of the
same sign as the direct effect onto the control group biases the DiD towards zero (Butts 2021).

Inference: the :func:`econ.feols` covariance, clustered by unit by default; ``vcov`` accepts any feols spec
(e.g. ``{"conley": {...}}`` for spatially correlated errors or ``{"CL1": "province"}``).

References
----------
Butts, K. (2021). Difference-in-differences estimation with spatial spillovers. arXiv:2105.03737.
Delgado, M. S. and Florax, R. J. G. M. (2015). Difference-in-differences techniques for spatial data: local
autocorrelation and spatial interaction. *Economics Letters* 137, 123-126.
Wooldridge, J. M. (2021). Two-way fixed effects, the two-way Mundlak regression, and difference-in-differences
estimators. SSRN 3906345.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ._docs import doc
from econ._geo import km_of_chord, unit_sphere
from econ._validate import check_bool, check_choice
from econ.did import _conley, _design
from econ.did.design import build_design
from econ.errors import SpecificationError, TreatmentError, WeightsError
from econ.results import Result, figure, finish_figure
from econ.spatial.weights import Weights

__all__ = ["spatial_did", "SpatialDiDResult"]

_DOCS = {"spatial_did_example": """\
>>> from econ import datasets
>>> from econ.did import spatial_did
>>> demo = datasets.load("china_cities_demo")
>>> W = datasets.load_weights("china_prefecture_contiguity")
>>> res = spatial_did(demo, "log_income_ratio", "prefecture_code", "year", cohort="cohort", W=W)"""}

_PREFIX = "sdid_"


@doc(**_DOCS)
class SpatialDiDResult(Result):
    """:class:`econ.results.Result` of :func:`spatial_did`: ``direct``, ``spillover`` (or ``spillover_ring<r>``)
    and ``spillover_treated`` with their covariance; ``fit`` is the underlying feols result (every cohort-period
    cell), ``cells`` the direct effect by cohort and period, ``exposure`` the exposure of every row.

    Examples
    --------
    {spatial_did_example}
    >>> res.tidy()[["term", "estimate", "std_error"]].round(3)
                    term  estimate  std_error
    0             direct    -0.037      0.005
    1          spillover    -0.033      0.007
    2  spillover_treated    -0.049      0.010
    >>> res.cells.shape  # 24 cohort x period cells of the direct effect
    (24, 5)
    """

    def __init__(self, *args, fit=None, cells: pd.DataFrame | None = None, exposure: pd.DataFrame | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.fit = fit
        self.cells = cells if cells is not None else pd.DataFrame()
        self.exposure = exposure if exposure is not None else pd.DataFrame()

    def plot_cells(self, *, ax=None, path=None, level: float = 0.95):
        """Direct effect by cohort and period (ETWFE cells) with confidence intervals. Returns ``(fig, ax)``."""
        from scipy import stats

        fig, ax = figure(ax)
        if self.cells.empty:
            raise SpecificationError("no cohort-period cells: the model was fitted with estimator='twfe'")
        q = stats.t.ppf(0.5 + level / 2, self.df_t) if np.isfinite(self.df_t) else stats.norm.ppf(0.5 + level / 2)
        for g, block in self.cells.groupby("cohort"):
            ax.errorbar(block["time"], block["estimate"], yerr=q * block["std_error"], marker="o", capsize=2,
                        label=f"cohort {g}")
        ax.axhline(0, color="#969696", lw=0.8)
        ax.set_xlabel("period")
        ax.set_ylabel(f"direct effect ({100 * level:g}% CI)")
        ax.legend(frameon=False, fontsize=8)
        return finish_figure(fig, ax, path)


@doc(**_DOCS)
def spatial_did(data: pd.DataFrame, y: str, unit: str, time: str, *, treat: str | None = None,
                cohort: str | None = None, W: Weights | None = None, exposure: str = "share", rings=None,
                coords: tuple[str, str] | None = None, estimator: str = "etwfe", treated_exposure: bool = True,
                covariates=None, vcov=None, weights: str | None = None) -> SpatialDiDResult:
    """DiD with spillover exposure: effect on treated units and on untreated neighbours of treated units.

    Parameters
    ----------
    data : DataFrame
        Long panel (one row per unit and period; unbalanced allowed), never modified.
    y, unit, time : str
        Outcome, unit id and integer period columns.
    treat : str, optional
        Absorbing binary treatment column (0/1). Give exactly one of ``treat`` and ``cohort``.
    cohort : str, optional
        First treated period of each unit; 0, NaN, ``<NA>`` or inf = never treated (read by
        :func:`econ.did.design.build_design`, the package's one design rule). Without never-treated units
        ``estimator="etwfe"`` uses the last-treated cohort as control: its periods from adoption on leave the
        sample (noted and warned).
    W : Weights
        Spatial weights on the panel's units (required for ``exposure="share"`` and contiguity rings). Units of W
        that are not in the data are dropped from W (noted; their treatment is unknown); units of the data not in W
        are an error.
    exposure : {"share", "rings"}
        See the module docstring.
    rings : int or sequence of float, optional
        For ``exposure="rings"``: the number of contiguity rings on ``W`` (int) or increasing ring edges in km
        (with ``coords``).
    coords : (str, str), optional
        Latitude and longitude columns (degrees, constant within unit) for km rings.
    estimator : {"etwfe", "twfe"}
        Saturated cohort x period direct effects (default; robust to staggered heterogeneous effects) or one static
        coefficient.
    treated_exposure : bool
        With ``exposure="share"``, also estimate the spillover among treated units (``spillover_treated``);
        default True, so ``direct`` is the effect at zero treated-neighbour exposure.
    covariates : list of str, optional
        Time-varying controls.
    vcov : optional
        Any :func:`econ.feols` vcov spec; default clustered by unit. ``{"conley": {...}}`` is Conley's spatial
        HAC (coordinates checked complete, in range and constant within unit; see :mod:`econ.did._conley`).
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). The regression is weighted least squares. ``None``:
        equal weights.

    Returns
    -------
    SpatialDiDResult
        ``coef`` / ``se`` / ``tidy()`` / ``summary()`` / ``plot()`` for ``direct`` and the spillover terms;
        ``cells`` and ``plot_cells()`` for the ETWFE cohort-period effects; ``fit`` the feols result; ``notes``.

    Raises
    ------
    TreatmentError
        Neither or both of ``treat``/``cohort``, a treatment that is continuous or not absorbing, invalid cohorts,
        no treated or no comparison units, no estimable direct effect.
    WeightsError
        ``W`` missing when the exposure needs it, not an :class:`econ.spatial.Weights`, or missing units of the
        data.
    SpecificationError
        Unknown columns or options (``exposure``, ``estimator``), ``coords`` not a pair of columns or not constant
        within unit, ``rings`` missing or not an int >= 1 / increasing positive km edges, column names starting
        with ``sdid_``, non-numeric or infinite values.
    PanelError
        Duplicate (unit, time) keys, missing unit ids or times, non-integer time (:func:`econ.io.validate_panel`).

    Notes
    -----
    The regression (module docstring; Delgado and Florax 2015, Butts 2021) is

    ``y_it = alpha_i + lambda_t + sum_{g,s} tau_gs 1[G_i = g, t = s] D_it + sum_r delta_r (1 - D_it) E^r_it
    + gamma D_it E_it + X_it' beta + e_it``

    with ``estimator="etwfe"`` (one ``tau_gs`` per treated cohort ``g`` and period ``s >= g``, Wooldridge 2021) or
    a single ``tau`` on ``D_it`` (``"twfe"``). ``direct`` is the average of the ``tau_gs`` weighted by their
    numbers of treated observations (the ATT over treated unit-periods at zero treated-neighbour exposure when
    ``treated_exposure=True``), with its standard error from the cells' covariance. With ``exposure="share"``,
    ``E_it`` is the row-standardised ``W`` times the treatment vector of period ``t`` (the share of treated
    neighbours; units without neighbours have exposure 0, noted); ``spillover`` is ``delta``, the effect on an
    untreated unit of having all neighbours treated rather than none. With ``exposure="rings"``, ring indicators
    of the nearest treated unit replace ``E`` for untreated units, and untreated units beyond the last ring are the
    clean controls. Comparison units are never-treated and not-yet-treated units (through the fixed effects).

    Exposure is computed from every unit's treatment status in each period (known from its cohort even in a
    period where the unit's row is missing). With ``estimator="etwfe"`` and no never-treated units, the cells of
    periods at or after the last cohort's adoption are not identified and are left out (noted).

    Identification needs parallel trends in the absence of any treatment and spillovers confined to the modelled
    exposure. Inference: the :func:`econ.feols` covariance, by default clustered by unit (fixest small-sample
    factor, t with ``G - 1`` degrees of freedom); pass a Conley spec for spatially correlated errors.

    References
    ----------
    Butts, K. (2021). Difference-in-differences estimation with spatial spillovers. arXiv:2105.03737.

    Delgado, M. S. and Florax, R. J. G. M. (2015). Difference-in-differences techniques for spatial data: local
    autocorrelation and spatial interaction. Economics Letters 137, 123-126.

    Wooldridge, J. M. (2021). Two-way fixed effects, the two-way Mundlak regression, and difference-in-differences
    estimators. SSRN working paper 3906345.

    Examples
    --------
    {spatial_did_example}
    >>> list(res.coef.index)
    ['direct', 'spillover', 'spillover_treated']
    """
    _design.check_data(data)
    check_choice(exposure, "exposure", ("share", "rings"))
    check_choice(estimator, "estimator", ("etwfe", "twfe"))
    check_bool(treated_exposure, "treated_exposure")
    if (treat is None) == (cohort is None):
        raise TreatmentError("give exactly one of treat= (a 0/1 treatment column) or cohort= (first treated period)")
    covariates = _design.as_list(covariates)
    conley = _conley.conley_spec(vcov, "spatial_did")
    if conley:
        _conley.require_great_circle(conley, "spatial_did")
        _conley.check_coordinates(data, unit, conley, "spatial_did")
    coord_cols = list(coords) if coords is not None else []
    if coords is not None and len(coord_cols) != 2:
        raise SpecificationError("coords must be a pair of column names (lat, lon)")
    design = build_design(data, y, unit, time, cohort, treat=treat, covariates=covariates, weights=weights,
                          columns=coord_cols, vcov=vcov)
    last_control = estimator == "etwfe" and not design.n_never
    if last_control:
        design = design.last_cohort_as_control()
    frame, cohorts, notes = design.frame, design.cohorts, list(design.notes)
    taken = [c for c in frame.columns if str(c).startswith(_PREFIX)]
    if taken:
        raise SpecificationError(f"column names starting with {_PREFIX!r} are reserved by spatial_did: {taken}")
    units = list(cohorts.index)
    periods = np.sort(frame[time].unique())
    d_matrix = (cohorts.to_numpy()[:, None] <= periods[None, :])  # (units, periods), NEVER is int64 max
    W_units, w_notes = _weights_for(W, units, exposure, rings)
    notes += w_notes
    row_u = pd.Index(units).get_indexer(frame[unit])
    row_t = np.searchsorted(periods, frame[time].to_numpy())
    D = d_matrix[row_u, row_t].astype(float)
    frame[_PREFIX + "D"] = D

    spill_terms = []
    if exposure == "share":
        share = W_units.row_standardize().matrix @ d_matrix.astype(float)  # (units, periods)
        E = share[row_u, row_t]
        frame[_PREFIX + "spillover"] = (1 - D) * E
        spill_terms.append(("spillover", _PREFIX + "spillover"))
        if treated_exposure:
            frame[_PREFIX + "spillover_treated"] = D * E
            spill_terms.append(("spillover_treated", _PREFIX + "spillover_treated"))
        exposure_frame = pd.DataFrame({unit: frame[unit], time: frame[time], "treated": D, "exposure": E})
    else:
        ring = _ring_index(rings, W_units, d_matrix, frame, unit, coord_cols, units)[row_u, row_t]
        for r in range(1, _n_rings(rings) + 1):
            col = f"{_PREFIX}ring{r}"
            frame[col] = ((ring == r) & (D == 0)).astype(float)
            if frame[col].sum() == 0:
                notes.append(f"ring {r} holds no untreated unit-period: its spillover is not estimated")
                continue
            spill_terms.append((f"spillover_ring{r}", col))
        exposure_frame = pd.DataFrame({unit: frame[unit], time: frame[time], "treated": D, "ring": ring})

    direct_terms, cells = _direct_terms(frame, unit, time, cohorts, estimator, notes)
    fit = _design.fit(frame, y, [*direct_terms, *(c for _, c in spill_terms), *covariates], [unit, time],
                      _design.default_vcov(vcov, unit), weights)
    coef, vcov_mat, cell_table = _report(fit, direct_terms, spill_terms, cells, notes)
    notes.append(f"exposure={exposure!r}, estimator={estimator!r}: {int((cohorts != _design.NEVER).sum())} "
                 f"treated unit(s), {int((cohorts == _design.NEVER).sum())} "
                 f"{'in the last cohort as control' if last_control else 'never treated'}")
    return SpatialDiDResult(
        coef, vcov_mat, nobs=fit.nobs, df_resid=fit.df_resid, df_t=fit.df_t, r2=fit.r2, r2_within=fit.r2_within,
        fe_levels=fit.fe_levels, notes=[*fit.notes, *notes], model=f"spatial DiD ({estimator}, {exposure})",
        depvar=y, vcov_type=fit.vcov_type, cluster=fit.cluster, n_clusters=fit.n_clusters, fit=fit,
        cells=cell_table, exposure=exposure_frame, n_units=fit.n_units,
    )


# ---------------------------------------------------------------------------------------------- helpers
def _weights_for(W, units, exposure, rings):
    needs_w = exposure == "share" or (exposure == "rings" and isinstance(rings, (int, np.integer)))
    if not needs_w:
        return None, []
    if W is None:
        raise WeightsError("W (econ.spatial.Weights on the panel's units) is required for this exposure")
    if not isinstance(W, Weights):
        raise WeightsError(f"W must be econ.spatial.Weights, got {type(W).__name__}")
    absent = sorted(set(units) - set(W.ids), key=str)
    if absent:
        raise WeightsError(f"{len(absent)} unit(s) of the data are not in W: {absent[:5]}")
    notes = []
    if W.n > len(units):
        notes.append(f"{W.n - len(units)} unit(s) of W are not in the data and were dropped from W "
                     "(their treatment is unknown)")
    sub = W.align(units) if W.n == len(units) else W.subset(units)
    isl = sub.islands
    if isl:
        notes.append(f"{len(isl)} unit(s) without neighbours in W have zero exposure: {isl[:5]}")
    return sub, notes


def _n_rings(rings) -> int:
    return int(rings) if isinstance(rings, (int, np.integer)) else len(rings)


def _ring_index(rings, W, d_matrix, frame, unit, coord_cols, units) -> np.ndarray:
    """(units, periods) ring of the nearest treated unit (0 = treated itself or beyond the last ring)."""
    if rings is None:
        raise SpecificationError("exposure='rings' needs rings= (an int for contiguity rings on W, or km edges)")
    n, T = d_matrix.shape
    out = np.zeros((n, T), dtype=np.int64)
    if isinstance(rings, (int, np.integer)) and not isinstance(rings, bool):
        if rings < 1:
            raise SpecificationError(f"rings must be at least 1, got {rings}")
        adj = (W.matrix + W.matrix.T).tocsr()
        adj.data[:] = 1.0
        reached = d_matrix.copy()
        for r in range(1, int(rings) + 1):
            grown = reached | (adj @ reached.astype(float) > 0)
            out[grown & ~reached] = r
            reached = grown
        return out
    edges = np.asarray(rings, dtype=float)
    if edges.ndim != 1 or len(edges) == 0 or not np.all(np.isfinite(edges)) or edges[0] <= 0 \
            or np.any(np.diff(edges) <= 0):
        raise SpecificationError(f"rings must be an int or increasing positive km edges, got {rings!r}")
    if len(coord_cols) != 2:
        raise SpecificationError("km rings need coords=(lat_column, lon_column)")
    lat_lon = frame.groupby(unit, sort=False)[coord_cols].agg(["min", "max"])
    for c in coord_cols:
        if (lat_lon[(c, "min")] != lat_lon[(c, "max")]).any():
            raise SpecificationError(f"coordinate column {c!r} must be constant within unit")
    lat_lon = lat_lon.xs("min", axis=1, level=1).reindex(units)
    from scipy.spatial import cKDTree

    xyz = unit_sphere(lat_lon[coord_cols[0]].to_numpy(), lat_lon[coord_cols[1]].to_numpy())
    for t in range(T):
        treated = np.flatnonzero(d_matrix[:, t])
        if len(treated) == 0:
            continue
        chord, _ = cKDTree(xyz[treated]).query(xyz, k=1)
        dist = km_of_chord(chord)
        ring = np.searchsorted(edges, dist, side="left") + 1  # d <= edge_r -> ring r
        ring[ring > len(edges)] = 0
        ring[d_matrix[:, t]] = 0
        out[:, t] = ring
    return out


def _direct_terms(frame, unit, time, cohorts, estimator, notes):
    if estimator == "twfe":
        return [_PREFIX + "D"], None
    g = frame[unit].map(cohorts).to_numpy()
    t = frame[time].to_numpy()
    treated_rows = (g != _design.NEVER) & (t >= g)
    cells = (pd.DataFrame({"cohort": g[treated_rows], "time": t[treated_rows]})
             .value_counts().sort_index().rename("n_obs").reset_index())
    terms = []
    for k, (cg, ct) in enumerate(zip(cells["cohort"], cells["time"])):
        col = f"{_PREFIX}cell{k}"
        frame[col] = ((g == cg) & (t == ct)).astype(float)
        terms.append(col)
    cells["term"] = terms
    return terms, cells


def _report(fit, direct_terms, spill_terms, cells, notes):
    b, V = fit.coef, fit.vcov
    est = list(b.index)
    names, rows = [], []
    if cells is None:
        if direct_terms[0] not in est:
            raise TreatmentError("the treatment is collinear with the fixed effects: no direct effect")
        L = pd.Series(0.0, index=est)
        L[direct_terms[0]] = 1.0
        rows.append(L)
        names.append("direct")
        cell_table = pd.DataFrame()
    else:
        kept = cells[cells["term"].isin(est)]
        lost = len(cells) - len(kept)
        if lost:
            notes.append(f"{lost} cohort-period cell(s) not estimable (collinear) and left out of the direct effect")
        if kept.empty:
            raise TreatmentError("no cohort-period direct effect is estimable")
        L = pd.Series(0.0, index=est)
        L[kept["term"]] = kept["n_obs"].to_numpy() / kept["n_obs"].sum()
        rows.append(L)
        names.append("direct")
        se = np.sqrt(np.diag(V.loc[kept["term"], kept["term"]].to_numpy()))
        cell_table = pd.DataFrame({"cohort": kept["cohort"].to_numpy(), "time": kept["time"].to_numpy(),
                                   "n_obs": kept["n_obs"].to_numpy(), "estimate": b[kept["term"]].to_numpy(),
                                   "std_error": se})
    for name, col in spill_terms:
        if col not in est:
            notes.append(f"{name} is collinear with the fixed effects and direct effects: not estimated")
            continue
        L = pd.Series(0.0, index=est)
        L[col] = 1.0
        rows.append(L)
        names.append(name)
    Lm = np.vstack([r.to_numpy() for r in rows])
    coef = pd.Series(Lm @ b.to_numpy(), index=names)
    vcov = Lm @ V.to_numpy() @ Lm.T
    return coef, vcov, cell_table
