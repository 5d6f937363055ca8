"""Panel fixed-effects engine: ``feols`` (fixest syntax), demeaning, covariances, wild cluster bootstrap.

    from econ.panel import feols
    res = feols("y ~ x1 + x2 | unit + year", df, vcov={"CL1": "unit"})
    res.summary(); res.tidy(); res.wildboot("x1", n_draws=9999, multiplier="webb").tidy()

Modules

* :mod:`econ.panel.formula` -- the formula grammar (``i()`` terms named ``var::level`` as in fixest);
* :mod:`econ.panel.demean` -- ``demean(x, fe)``, :class:`Absorber` (precompute once, demean many columns),
  ``factorize`` and ``interact`` for fixed-effect codes; import the function as
  ``from econ.panel.demean import demean`` (``econ.panel.demean`` is the module);
* :mod:`econ.panel.vcov` -- iid, HC1, one- and two-way clustered, Driscoll-Kraay and Conley covariances with
  fixest's small-sample corrections (every factor is stated there);
* :mod:`econ.panel.collinear` -- the one collinearity rule (absorbed / collinear regressors, scale- and
  location-invariant), used by ``feols`` and ``econ.did.placebo``;
* :mod:`econ.panel.feols` -- the estimator and :class:`FeolsResult`;
* :mod:`econ.panel.wildboot` -- the wild cluster restricted bootstrap;
* :mod:`econ.panel.threshold` -- Hansen's (1999) fixed-effects panel threshold regression (``threshold``);
* :mod:`econ.panel.mediation` -- three-step mediation with Sobel and cluster-bootstrap tests (``mediation``).

Other panel estimators are delegated to packages that already do them well. :mod:`econ.panel.delegate` wraps
the common ones (``random_effects``, ``panel_iv``, ``hausman``: validated panel in, econ ``Result`` out, the
linearmodels fit kept in ``result.extra["linearmodels"]``); for the rest use the packages directly:

* random effects, between and first-difference estimators, and ``PanelOLS`` with entity/time effects:
  ``linearmodels.panel`` (``RandomEffects``, ``BetweenOLS``, ``FirstDifferenceOLS``, ``PanelOLS``) on a frame
  indexed by ``(unit, time)``; ``ssc="linearmodels"`` makes econ's clustered/robust standard errors match
  ``PanelOLS(..., debiased=True)`` (see :mod:`econ.panel.vcov`);
* instrumental variables: ``linearmodels.iv.IV2SLS`` / ``IVGMM`` (fixed effects as ``C(unit)`` dummies, or
  demean every variable first with :class:`Absorber` and fit on the demeaned data -- then correct the degrees
  of freedom for the absorbed effects yourself);
* the Hausman test between fixed and random effects: fit ``linearmodels.panel.PanelOLS(entity_effects=True)``
  and ``RandomEffects`` and compare ``(b_FE - b_RE)' [V_FE - V_RE]^{-1} (b_FE - b_RE)`` (chi-square with as
  many degrees of freedom as time-varying regressors); ``statsmodels`` provides ``scipy``-style distributions
  and OLS diagnostics for the pooled model (``statsmodels.api.OLS``).
"""

from econ.panel.delegate import hausman, panel_iv, random_effects
from econ.panel.demean import Absorber, factorize, interact
from econ.panel.feols import FeolsDesign, FeolsResult, feols
from econ.panel.mediation import MediationResult, mediation
from econ.panel.threshold import ThresholdResult, threshold

__all__ = ["feols", "FeolsResult", "FeolsDesign", "Absorber", "factorize", "interact", "random_effects",
           "panel_iv", "hausman", "threshold", "ThresholdResult", "mediation", "MediationResult"]
