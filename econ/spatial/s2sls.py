"""Spatial two-stage least squares for the lag model (Kelejian & Prucha 1998), as R spatialreg's ``stsls``.

``y = rho W y + X b + e``: ``W y`` is endogenous; the instruments are ``H = [X, W X, (W^2 X)]`` (``W^2 X`` with
``w2x=True``; spatialreg's default is ``W2X=TRUE``, econ's ``w2x=False``). The lag of the intercept, ``W 1``, is an
instrument only when the rows of ``W`` do not all sum to the same value (as spatialreg does for a ``W`` that is
not row-standardised). With ``Z = [X, W y]`` and ``Z_hat = H (H'H)^{-1} H' Z``::

    delta = (Z_hat' Z_hat)^{-1} Z_hat' y,      e = y - Z delta,
    classical:  V = s2 (Z_hat' Z_hat)^{-1},   s2 = e'e / (n - p)     (p = columns of Z),
    "hetero":   V = (Z_hat'Z_hat)^{-1} Z_hat' diag(e^2) Z_hat (Z_hat'Z_hat)^{-1}   (White HC0).

For the spatial Durbin model (``model="sdm"``) ``X`` includes ``WX`` and its lags extend the instrument set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ._validate import check_choice
from econ.errors import SpecificationError

__all__ = ["s2sls"]


def s2sls(formula, data, W, *, model="sar", unit=None, vcov=None, wx=None, w2x=False):
    """Spatial 2SLS fit of a lag model; called by :func:`econ.spatial.fit` with ``method="s2sls"``.

    Returns a :class:`~econ.spatial.SpatialResult` (``loglik`` is NaN: not a likelihood estimator).
    """
    from econ.spatial.core import SpatialOperator
    from econ.spatial.design import _align_cross_section, _check_islands, spatial_design
    from econ.spatial.result import SpatialResult

    if model not in ("sar", "sdm"):
        raise SpecificationError(f"method='s2sls' estimates lag models (model='sar' or 'sdm'), got model={model!r}")
    vcov = "iid" if vcov is None else vcov
    check_choice(vcov, "vcov", ("iid", "hetero"))
    data = _align_cross_section(data, W, unit)
    notes: list[str] = []
    _check_islands(W, notes)
    op = SpatialOperator(W.matrix)
    lag_vars = wx if wx is not None else ("all" if model == "sdm" else [])
    d = spatial_design(formula, data, W, lag_vars, op.lag, n_units=W.n)
    y, X, names = d.y, d.X, d.names
    n = len(y)
    WX = op.lag(X)
    WX = WX[:, ~np.all(np.isclose(WX, WX[:1]), axis=0)]  # W 1 is constant when the rows of W sum to one
    H = [X, WX]
    if w2x:
        H.append(op.lag(WX))
    H = np.column_stack(H)
    Wy = op.lag(y)
    Z = np.column_stack([X, Wy])
    gamma, *_ = np.linalg.lstsq(H, Wy, rcond=None)
    Zh = np.column_stack([X, H @ gamma])
    ZZ = Zh.T @ Zh
    if np.linalg.matrix_rank(ZZ) < ZZ.shape[0]:
        raise SpecificationError("spatial 2SLS: the instruments do not identify rho (W X is collinear with X)")
    ZZi = np.linalg.inv(ZZ)
    delta = ZZi @ (Zh.T @ y)
    e = y - Z @ delta
    p = Z.shape[1]
    if vcov == "iid":
        V = ZZi * float(e @ e) / (n - p)
        label = "classical (s2 = e'e/(n-p))"
    else:
        meat = (Zh * (e**2)[:, None]).T @ Zh
        V = ZZi @ meat @ ZZi
        label = "heteroskedasticity-robust (HC0)"
    coef = pd.Series(delta, index=names + ["rho"])
    return SpatialResult(coef, V, loglik=float("nan"), sigma2=float(e @ e) / n, kind=model, W=W, lagged=d.lagged,
                         method="s2sls", nobs=n, df_resid=n - p, df_t=np.inf, depvar=d.depvar,
                         resid=pd.Series(e, index=data.index), fitted=pd.Series(y - e, index=data.index),
                         notes=notes, vcov_type=label, interval=None)
