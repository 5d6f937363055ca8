"""The result of a spatial regression, cross-section or panel: :class:`SpatialResult`.

Built by :func:`econ.spatial.fit` (:mod:`econ.spatial.models`), :func:`econ.spatial.panel.fit_panel` and
:func:`econ.spatial.s2sls.s2sls`.
"""

from __future__ import annotations

import numpy as np

from econ._docs import doc
from econ.panel.demean import single_thread_blas
from econ.results import Result
from econ.spatial.impacts import ImpactsResult, ImpactTraces, compute_impacts
from econ.spatial.weights import Weights

__all__ = ["SpatialResult"]

_TITLES = {"sar": "Spatial lag model (SAR)", "sdm": "Spatial Durbin model (SDM)", "sem": "Spatial error model (SEM)",
           "sdem": "Spatial Durbin error model (SDEM)", "slx": "SLX model (OLS with WX)",
           "sac": "Spatial autoregressive combined model (SAC)"}


@doc()
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
    {spatial_example_data}
    >>> res = spatial.fit("y ~ x", df, W, model="sar")
    >>> res.coef.round(2).to_dict()
    {'Intercept': 0.98, 'x': 1.91, 'rho': 0.5}
    """

    def __init__(self, coef, vcov, *, loglik: float, sigma2: float, kind: str, W: Weights, lagged=None,
                 method: str = "ml", n_params: int | None = None, interval=None, logdet_method: str = "",
                 **kwargs):
        kwargs.setdefault("df_t", np.inf)
        kwargs.setdefault("vcov_type", "analytic information matrix" if method == "ml" else "")
        kwargs.setdefault("n_units", W.n)
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

    @doc()
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
        >>> n = 100
        {chain_weights}
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
            out = compute_impacts(self._coef, self._vcov, self.W.matrix, self.variables, self.lagged,
                                  has_rho="rho" in self._coef.index, n_draws=n_draws, seed=seed, level=level,
                                  interval=self.interval, traces=traces, title=_TITLES.get(self.model, self.model))
        out.nobs, out.n_units = self.nobs, self.n_units
        return out

    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        head = _TITLES.get(self.model, self.model) + (" -- spatial 2SLS" if self.method == "s2sls" else "")
        text = super().summary(level, digits)
        first, rest = text.split("\n", 1)
        fit = (f"Log-likelihood: {self.loglik:.4f}   AIC: {self.aic:.4f}   sigma2: {self.sigma2:.6g}"
               if np.isfinite(self.loglik) else f"sigma2: {self.sigma2:.6g}")
        return "\n".join([first.replace(self.model, head, 1), f"Weights: {self.W!r}", fit, rest])
