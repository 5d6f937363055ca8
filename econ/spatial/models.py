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
from econ.spatial.core import SpatialOperator, ml_error, ml_lag, ml_sac, ols
from econ.spatial.design import (  # noqa: F401  (moved down a layer; still importable from here)
    SpatialDesign,
    SpatialWarning,
    _align_cross_section,
    _check_islands,
    require_weights,
    spatial_design,
)
from econ.spatial.logdet import LOGDET_METHODS, LogDet
from econ.spatial.result import SpatialResult
from econ.spatial.weights import Weights

__all__ = ["fit", "SpatialResult", "SpatialDesign", "SpatialWarning", "MODELS", "spatial_design"]

MODELS = ("sar", "sem", "sdm", "sac", "slx", "sdem")
_DURBIN = ("sdm", "slx", "sdem")
_HAS_RHO = ("sar", "sdm", "sac")
_HAS_LAMBDA = ("sem", "sdem", "sac")


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
        Log-determinant method (:mod:`econ.spatial.logdet`); ``"auto"`` uses eigenvalues up to
        ``econ.spatial.traces.EIGEN_MAX_N`` (1,000) units and a sparse LU factorisation beyond.
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
    >>> W = sp.Weights(tuple(ids), sparse.diags([1.0, 1.0], [-1, 1], shape=(n, n)).tocsr()).row_standardize()
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
    require_weights(W)
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
            bound = max(ld.error_bound(v) for v in res.spatial.values())
            extra_notes.append(f"log-determinant by {ld.method} approximation, error bound about {bound:.2e} at "
                               "the estimate")
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
