"""Spatial regression models: ``econ.spatial.fit`` and :class:`SpatialResult`.

Models (``model=``), with ``A = I - rho W`` and ``B = I - lambda W``:

=========  =====================================================  ============================
``sar``    ``y = rho W y + X b + e``                               spatial lag
``sdm``    ``y = rho W y + X b + W X theta + e``                   spatial Durbin
``sem``    ``y = X b + u,  u = lambda W u + e``                    spatial error
``sdem``   ``y = X b + W X theta + u,  u = lambda W u + e``        spatial Durbin error
``slx``    ``y = X b + W X theta + e``                             OLS with lagged regressors
``sac``    ``y = rho W y + X b + u,  u = lambda W u + e``          SARAR / Kelejian-Prucha "SAC"
=========  =====================================================  ============================

Estimation: maximum likelihood with concentrated likelihoods (:mod:`econ.spatial.core`; log-determinants in
:mod:`econ.spatial.logdet`) or, for ``sar``/``sdm``, ``method="s2sls"``: Kelejian & Prucha (1998) spatial
two-stage least squares (:func:`econ.spatial.s2sls.s2sls`). Panels (``time=`` given) are fitted by
:func:`econ.spatial.panel.fit_panel`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from econ._validate import check_bool, check_choice
from econ.errors import SpecificationError, WeightsError
from econ.panel.demean import single_thread_blas
from econ.panel.feols import _outcome, _regressors
from econ._validate import require_columns
from econ.panel.formula import parse_formula
from econ.results import Result
from econ.spatial.core import SpatialOperator, ml_error, ml_lag, ml_sac, ols
from econ.spatial.impacts import ImpactsResult, ImpactTraces, compute_impacts
from econ.spatial.logdet import LOGDET_METHODS, LogDet
from econ.spatial.weights import Weights

__all__ = ["fit", "SpatialResult", "SpatialDesign", "SpatialWarning", "MODELS", "spatial_design"]

MODELS = ("sar", "sem", "sdm", "sac", "slx", "sdem")
_DURBIN = ("sdm", "slx", "sdem")
_HAS_RHO = ("sar", "sdm", "sac")
_HAS_LAMBDA = ("sem", "sdem", "sac")
_TITLES = {"sar": "Spatial lag model (SAR)", "sdm": "Spatial Durbin model (SDM)", "sem": "Spatial error model (SEM)",
           "sdem": "Spatial Durbin error model (SDEM)", "slx": "SLX model (OLS with WX)",
           "sac": "Spatial autoregressive combined model (SAC)"}


class SpatialWarning(UserWarning):
    """Something about W or the fit the reader must know (islands, approximate traces...).

    Issued with :func:`warnings.warn` by :func:`econ.spatial.fit` and the spatial diagnostics (nothing is returned).

    Issued by :func:`econ.spatial.fit` (and the panel fits) for units without neighbours, approximate
    log-determinants and similar; the same message is kept in the result's ``notes``. Filter it with
    ``warnings.filterwarnings("ignore", category=econ.spatial.SpatialWarning)``.

    Examples
    --------
    Hainan has no land border, so the province contiguity weights have an island:

    >>> import warnings
    >>> import numpy as np, pandas as pd
    >>> from econ import datasets, spatial
    >>> W = datasets.load_weights("china_province_contiguity").row_standardize()
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"y": rng.normal(size=W.n), "x": rng.normal(size=W.n)}, index=list(W.ids))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     res = spatial.fit("y ~ x", df, W, model="sar")
    >>> caught[0].category.__name__, W.islands
    ('SpatialWarning', ['460000'])
    """


class SpatialResult(Result):
    """:class:`econ.results.Result` of a spatial model (cross-section or panel).

    Coefficients: the regressors by name, their spatial lags ``W.x``, then ``rho`` (coefficient of ``W y``) and/or
    ``lambda`` (of ``W u``). Inference is asymptotic normal (``df_t = inf``).

    Extra parameters (keyword-only): ``loglik``, ``sigma2``, ``kind`` (one of :data:`MODELS`), ``W``
    (:class:`~econ.spatial.Weights`), ``lagged`` (regressor name -> name of its lag coefficient), ``method``
    (``"ml"`` or ``"s2sls"``), ``n_params`` (parameters counted by the AIC, ``sigma2`` included), ``interval``
    (admissible ``rho`` interval), ``logdet_method``.

    Attributes: ``loglik``, ``aic`` (``2 p - 2 loglik``), ``sigma2``, ``model`` (the kind), ``W``, ``method``.

    Returned by :func:`econ.spatial.fit`; :meth:`impacts` gives the direct, indirect and total effects.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from econ import datasets, spatial
    >>> W = datasets.load_weights("china_province_contiguity")
    >>> W = W.subset([u for u in W.ids if u not in W.islands]).row_standardize()  # Hainan has no land border
    >>> rng = np.random.default_rng(1); x = rng.normal(size=W.n)
    >>> y = np.linalg.solve(np.eye(W.n) - 0.5 * W.to_dense(), 1 + 2 * x + 0.5 * rng.normal(size=W.n))
    >>> df = pd.DataFrame({"y": y, "x": x}, index=list(W.ids))
    >>> res = spatial.fit("y ~ x", df, W, model="sar")
    >>> res.coef.round(2).to_dict()
    {'Intercept': 0.98, 'x': 1.91, 'rho': 0.5}
    """

    def __init__(self, coef, vcov, *, loglik: float, sigma2: float, kind: str, W: Weights, lagged=None,
                 method: str = "ml", n_params: int | None = None, interval=None, logdet_method: str = "",
                 **kwargs):
        kwargs.setdefault("df_t", np.inf)
        kwargs.setdefault("vcov_type", "analytic information matrix" if method == "ml" else "")
        super().__init__(coef, vcov, model=kind, **kwargs)
        self.loglik = float(loglik)
        self.sigma2 = float(sigma2)
        self.W = W
        self.lagged = dict(lagged or {})
        self.method = method
        self.n_params = int(n_params if n_params is not None else len(self._coef) + 1)
        self.aic = 2 * self.n_params - 2 * self.loglik if np.isfinite(self.loglik) else float("nan")
        self.interval = interval
        self.logdet_method = logdet_method

    @property
    def variables(self) -> list[str]:
        """Regressors that have effects (everything but the intercept, lags and spatial parameters)."""
        lags = set(self.lagged.values())
        return [c for c in self._coef.index if c not in lags and c not in ("rho", "lambda", "Intercept")]

    def impacts(self, n_draws: int = 1000, seed=0, level: float = 0.95) -> ImpactsResult:
        """Direct, indirect and total effects with simulated inference (see :mod:`econ.spatial.impacts`).

        Parameters
        ----------
        n_draws : int
            Parameter draws from the asymptotic normal; ``0`` gives point values only.
        seed : int
            Seed of ``numpy.random.default_rng``.
        level : float
            Level of the percentile intervals.

        Returns
        -------
        ImpactsResult
            ``tidy()`` has columns variable, effect (direct/indirect/total), estimate, std_error, p_value,
            conf_low, conf_high.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from scipy import sparse
        >>> import econ.spatial as sp
        >>> n = 100; W = sp.Weights(tuple(range(n)), sparse.diags([1, 1], [-1, 1], shape=(n, n)).tocsr())
        >>> W = W.row_standardize(); rng = np.random.default_rng(0); x = rng.normal(size=n)
        >>> y = np.linalg.solve(np.eye(n) - 0.4 * W.to_dense(), 2 * x + rng.normal(size=n))
        >>> imp = sp.fit("y ~ x", pd.DataFrame({"y": y, "x": x}), W, model="sdm").impacts(n_draws=100)
        >>> list(imp.tidy()["effect"])
        ['direct', 'indirect', 'total']
        """
        traces = self.extra.get("_impact_traces")
        if traces is None:
            traces = ImpactTraces(self.W.matrix, eigenvalues=self.extra.get("eigenvalues"))
            self.extra["_impact_traces"] = traces
        with single_thread_blas():
            return compute_impacts(self._coef, self._vcov, self.W.matrix, self.variables, self.lagged,
                               has_rho="rho" in self._coef.index, n_draws=n_draws, seed=seed, level=level,
                               interval=self.interval, traces=traces, title=_TITLES.get(self.model, self.model))

    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        head = _TITLES.get(self.model, self.model) + (" -- spatial 2SLS" if self.method == "s2sls" else "")
        text = super().summary(level, digits)
        first, rest = text.split("\n", 1)
        fit = (f"Log-likelihood: {self.loglik:.4f}   AIC: {self.aic:.4f}   sigma2: {self.sigma2:.6g}"
               if np.isfinite(self.loglik) else f"sigma2: {self.sigma2:.6g}")
        return "\n".join([first.replace(self.model, head, 1), f"Weights: {self.W!r}", fit, rest])


# ---------------------------------------------------------------------------------------------- design
class SpatialDesign:
    """``y``, ``X`` (with the requested ``WX`` columns) and names, for data rows in ``W``'s unit order."""

    def __init__(self, y, X, names, lagged, depvar, notes):
        self.y, self.X, self.names, self.lagged, self.depvar, self.notes = y, X, names, lagged, depvar, notes


def _row_sums_one(W: Weights) -> bool:
    rows = np.asarray(W.matrix.sum(axis=1)).ravel()
    return bool(np.allclose(rows, 1.0))


def spatial_design(formula: str, data: pd.DataFrame, W: Weights, lag_vars, lag_fn, *, n_units: int) -> SpatialDesign:
    """Build ``y`` and ``[X, WX]`` from a formula on ``data`` (rows already in the stacked W order).

    ``lag_vars``: ``"all"`` (every regressor except the intercept; ``W.Intercept`` is added when the rows of ``W``
    do not all sum to one, as spatialreg does) or a list of regressor names. ``lag_fn`` applies ``W`` to stacked
    columns. Missing values are an error naming the rows (a spatial model cannot drop units silently).
    """
    parsed = parse_formula(formula)
    require_columns(data, parsed.variable_columns(), "regressor/outcome")
    if parsed.fixef:
        raise SpecificationError(f"formula {formula!r}: fixed effects after '|' need a panel (give unit= and time= "
                                 "and effects=); a cross-section spatial model takes no '|' part")
    y, y_missing = _outcome(parsed, data)
    blocks, names, _, missing = _regressors(parsed, data)
    X = np.column_stack(blocks) if blocks else np.zeros((len(data), 0))
    bad = y_missing.copy()
    for m in missing.values():
        bad |= m
    if bad.any():
        labels = list(data.index[bad][:5])
        cols = [parsed.lhs] * bool(y_missing.any()) + [k for k, m in missing.items() if m.any()]
        raise SpecificationError(f"{int(bad.sum())} row(s) have missing values (first: {labels}; columns {cols}); a "
                                 "spatial model cannot drop units from W silently: impute them or subset W and the "
                                 "data together")
    if X.shape[1] == 0:
        raise SpecificationError(f"formula {formula!r} has no regressor")
    if lag_vars == "all":
        lag_vars = [c for c in names if c != "Intercept"]
        if "Intercept" in names and not _row_sums_one(W):
            lag_vars = ["Intercept"] + lag_vars
    else:
        unknown = [v for v in lag_vars if v not in names]
        if unknown:
            raise SpecificationError(f"wx: {unknown} are not regressors of the formula (regressors: {names})")
    lagged = {v: f"W.{v}" for v in lag_vars}
    if lag_vars:
        idx = [names.index(v) for v in lag_vars]
        X = np.column_stack([X, lag_fn(X[:, idx])])
        names = names + [lagged[v] for v in lag_vars]
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        raise SpecificationError(f"the regressors {names} are collinear (rank {rank} of {X.shape[1]} columns); with "
                                 "a row-standardised W, W.Intercept equals the intercept, and a variable that is "
                                 "constant within neighbourhoods equals its own lag")
    return SpatialDesign(y, X, names, lagged, parsed.lhs, [])


def _align_cross_section(data: pd.DataFrame, W: Weights, unit: str | None) -> pd.DataFrame:
    """Rows of ``data`` re-ordered to ``W.ids`` (by the ``unit`` column, or by the index)."""
    if unit is not None:
        require_columns(data, [unit], "unit")
        ids = data[unit].tolist()
        where = f"column {unit!r}"
    else:
        ids = list(data.index)
        where = "the data index"
    if len(set(ids)) != len(ids):
        dup = pd.Index(ids)[pd.Index(ids).duplicated()]
        raise WeightsError(f"duplicate unit ids in {where}: {list(dup[:5])} (a cross-section has one row per unit)")
    if unit is None and set(ids) != set(W.ids) and isinstance(data.index, pd.RangeIndex) and len(ids) == W.n:
        raise WeightsError("the data rows cannot be matched to the units of W: give unit='<id column>' (or index "
                           "the data by the ids of W)")
    W.check_units(ids)
    pos = pd.Index(ids).get_indexer(list(W.ids))
    return data.iloc[pos]


def _check_islands(W: Weights, notes: list):
    isl = W.islands
    if isl:
        msg = (f"W has {len(isl)} unit(s) without neighbours (islands, first: {isl[:5]}); their spatial lags are "
               "zero" + (" and their rows of the row-standardised W do not sum to one" if W.transform == "r" else ""))
        warnings.warn(msg, SpatialWarning, stacklevel=4)
        notes.append(msg)


# ---------------------------------------------------------------------------------------------- fit
def fit(formula: str, data: pd.DataFrame, W: Weights, *, model: str = "sar", unit: str | None = None,
        time: str | None = None, effects: str | None = None, method: str = "ml", lee_yu: bool = True, vcov=None,
        wx=None, logdet: str = "auto", w2x: bool = False) -> SpatialResult:
    """Fit a spatial regression model by maximum likelihood (or spatial 2SLS).

    Parameters
    ----------
    formula : str
        fixest-style ``"y ~ x1 + x2"`` (:mod:`econ.panel.formula`); the intercept is named ``Intercept``.
    data : pandas.DataFrame
        One row per unit (cross-section) or per unit-period (panel). Never modified.
    W : econ.spatial.Weights
        Spatial weights; their units must be exactly the data's units (a mismatch names the units).
    model : {"sar", "sem", "sdm", "sac", "slx", "sdem"}
        See :mod:`econ.spatial.models`. ``sdm``, ``slx`` and ``sdem`` lag every regressor but the intercept
        (``W.Intercept`` is added when the rows of ``W`` do not all sum to one, as spatialreg does).
    unit : str, optional
        Column of unit ids. Cross-section: matches rows to ``W`` (default: the data index must hold the ids).
    time : str, optional
        Period column; given -> a panel model, fitted by :func:`econ.spatial.panel.fit_panel`.
    effects : {None, "unit", "time", "twoways"}
        Panel fixed effects (panel only).
    method : {"ml", "s2sls"}
        Maximum likelihood, or Kelejian-Prucha spatial two-stage least squares (``sar``/``sdm`` only).
    lee_yu : bool
        Panel only: Lee & Yu (2010) bias correction of the fixed-effects ML estimates.
    vcov : None, "iid" or "hetero"
        ML: only ``None`` (inverse analytic information matrix). S2SLS: ``None``/``"iid"`` classical,
        ``"hetero"`` White (HC0) heteroskedasticity-robust, as spatialreg's ``stsls(robust=TRUE)``.
    wx : list of str, optional
        Regressors to lag explicitly (overrides the model's default set; allowed with every model).
    logdet : {"auto", "eigen", "sparse_lu", "chebyshev"}
        Log-determinant method (:mod:`econ.spatial.logdet`); ``"auto"`` uses eigenvalues up to 2,000 units and a
        sparse LU factorisation beyond.
    w2x : bool
        S2SLS: add ``W^2 X`` to the instruments ``[X, WX]``.

    Returns
    -------
    SpatialResult

    Raises
    ------
    WeightsError
        Units of ``W`` and of the data differ (named), duplicate units.
    SpecificationError
        Unknown model/method, missing values, collinear regressors, spatial parameter at the boundary of its
        interval, singular information matrix.

    Notes
    -----
    ML covariance: inverse of the analytic information matrix (Anselin 1988, ch. 6), R spatialreg's default for
    ``lagsarlm``/``errorsarlm`` with ``method="eigen"``: for the lag model it includes the ``rho``-``beta``
    covariance. ``sigma2 = e'e / N``. The SLX model is OLS with the classical covariance
    ``s^2 (X'X)^{-1}``, ``s^2 = e'e / (N - k)`` (as ``lm``, which spatialreg's ``lmSLX`` uses); its log-likelihood
    and AIC use the ML ``sigma2``. AIC counts ``sigma2`` as a parameter (as R's ``AIC``).

    References
    ----------
    Anselin, L. (1988). *Spatial Econometrics: Methods and Models*. Dordrecht: Kluwer Academic Publishers.
    LeSage, J. and Pace, R. K. (2009). *Introduction to Spatial Econometrics*. Boca Raton: Chapman & Hall/CRC
    Press.
    Kelejian, H. H. and Prucha, I. R. (1998). A generalized spatial two-stage least squares procedure for
    estimating a spatial autoregressive model with autoregressive disturbances. *Journal of Real Estate Finance
    and Economics* 17(1), 99-121.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scipy import sparse
    >>> import econ.spatial as sp
    >>> n = 100; ids = list(range(n))
    >>> W = sp.Weights(tuple(ids), sparse.diags([1, 1], [-1, 1], shape=(n, n)).tocsr()).row_standardize()
    >>> rng = np.random.default_rng(0); x = rng.normal(size=n)
    >>> y = np.linalg.solve(np.eye(n) - 0.5 * W.to_dense(), 1 + 2 * x + rng.normal(size=n))
    >>> res = sp.fit("y ~ x", pd.DataFrame({"y": y, "x": x}), W, model="sar")
    >>> list(res.coef.index)
    ['Intercept', 'x', 'rho']
    """
    check_choice(model, "model", MODELS)
    check_choice(method, "method", ("ml", "s2sls"))
    check_choice(logdet, "logdet", LOGDET_METHODS)
    check_bool(lee_yu, "lee_yu")
    check_bool(w2x, "w2x")
    if not isinstance(W, Weights):
        raise WeightsError(f"W must be an econ.spatial.Weights, got {type(W).__name__}")
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if wx is not None:
        wx = [wx] if isinstance(wx, str) else list(wx)
    with single_thread_blas():
        return _fit(formula, data, W, model, unit, time, effects, method, lee_yu, vcov, wx, logdet, w2x)


def _fit(formula, data, W, model, unit, time, effects, method, lee_yu, vcov, wx, logdet, w2x):
    if time is not None or effects is not None:
        try:
            from econ.spatial.panel import fit_panel
        except ImportError:
            raise SpecificationError("spatial panel models (time=/effects=) are not available in this version of "
                                     "econ (econ.spatial.panel is missing)") from None
        return fit_panel(formula, data, W, model=model, unit=unit, time=time, effects=effects, method=method,
                         lee_yu=lee_yu, vcov=vcov, wx=wx, logdet=logdet, w2x=w2x)
    if method == "s2sls":
        from econ.spatial.s2sls import s2sls

        return s2sls(formula, data, W, model=model, unit=unit, vcov=vcov, wx=wx, w2x=w2x)
    if vcov is not None:
        raise SpecificationError(f"vcov={vcov!r}: ML fits report the inverse information matrix only (vcov=None)")
    data = _align_cross_section(data, W, unit)
    notes: list[str] = []
    _check_islands(W, notes)
    op = SpatialOperator(W.matrix)
    lag_vars = wx if wx is not None else ("all" if model in _DURBIN else [])
    design = spatial_design(formula, data, W, lag_vars, op.lag, n_units=W.n)
    return _fit_ml(design, W, model, op, logdet, notes, index=data.index)


def _fit_ml(design: SpatialDesign, W: Weights, model: str, op: SpatialOperator, logdet_method: str, notes,
            index=None) -> SpatialResult:
    y, X, names = design.y, design.X, design.names
    N, k = X.shape
    ld = None
    if model == "slx":
        beta, e = ols(y, X)
        ee = float(e @ e)
        V = ee / (N - k) * np.linalg.inv(X.T @ X)
        loglik = -N / 2 * (np.log(2 * np.pi) + 1) - N / 2 * np.log(ee / N)
        coef = pd.Series(beta, index=names)
        sigma2, fitted, resid, interval, extra_notes = ee / N, y - e, e, None, []
    else:
        ld = LogDet(W.matrix, logdet_method)
        core = {"sar": ml_lag, "sdm": ml_lag, "sem": ml_error, "sdem": ml_error, "sac": ml_sac}[model]
        res = core(y, X, op, ld)
        coef = pd.Series(np.concatenate([res.beta, list(res.spatial.values())]),
                         index=names + list(res.spatial))
        V, loglik, sigma2, fitted, resid = res.vcov, res.loglik, res.sigma2, res.fitted, res.resid
        interval, extra_notes = ld.interval, res.notes
        if ld.error:
            extra_notes.append(f"log-determinant by {ld.method} approximation, error bound about {ld.error:.2e}")
    for nt in extra_notes:
        warnings.warn(nt, SpatialWarning, stacklevel=3)
    r2 = 1 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum()) if model in ("slx",) else float("nan")
    return SpatialResult(
        coef, V, loglik=loglik, sigma2=sigma2, kind=model, W=W, lagged=design.lagged, method="ml",
        n_params=len(coef) + 1, interval=interval, logdet_method=ld.method if ld is not None else "",
        nobs=N, df_resid=N - len(coef), r2=r2, depvar=design.depvar,
        resid=pd.Series(resid, index=index), fitted=pd.Series(fitted, index=index), notes=notes + extra_notes,
        vcov_type="classical OLS" if model == "slx" else "analytic information matrix",
        df_t=N - k if model == "slx" else np.inf,
        extra={"eigenvalues": ld.eigenvalues if ld is not None else None},
    )


def lr_test(restricted: SpatialResult, unrestricted: SpatialResult) -> dict:
    """Likelihood-ratio test of nested ML fits: ``2 (l_u - l_r)``, chi-square with the difference in parameters."""
    stat = 2 * (unrestricted.loglik - restricted.loglik)
    df = unrestricted.n_params - restricted.n_params
    return {"statistic": stat, "df": df, "p_value": float(stats.chi2.sf(stat, df))}
