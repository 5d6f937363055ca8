"""Simulated staggered-adoption panels with known truth, for checking estimators and for teaching.

``DEMO_SEED`` (20140926, the date of the first Broadband China announcement) is the seed of the bundled
``china_cities_demo`` panel.

Everything here is SIMULATED. The generator draws a unit-by-year panel of urban and rural per-capita income
whose urban/rural ratio is moved by a staggered treatment with cohort-specific dynamic effects, a spatial
spillover of known size through a weights matrix, and selection of treated units on a pre-period covariate.

Model (for unit i, year t, first-treatment year g_i, event time e = t - g_i; ``D`` = 1 once treated)::

    log rural_it = a_i + 0.2 (x_i - xbar) + r_t + tau_r(g_i, e) D_it + s_r (W D_t)_i + k (x_i - xbar)(t - t0) + u_it
    log urban_it = b_i + 0.3 (x_i - xbar) + m_t + phi tau_r(g_i, e) D_it + phi s_r (W D_t)_i + v_it

so the outcome of interest, ``log_income_ratio = log urban - log rural``, has

* direct effect ``att(g, e) = -(1 - phi) * tau_r(g, e)`` with ``tau_r(g, e) = peak_g * shape(e)``;
* spillover ``-(1 - phi) * s_r`` per unit of the treated-neighbour share ``(W D_t)_i`` (W row-standardised);
* unit effects correlated with the pre-period covariate ``x_i``, which is higher for treated units
  (``selection``): the treated differ from the untreated in levels, which DiD absorbs;
* an optional differential trend in ``x_i`` (``covariate_trend`` = k, zero by default), under which only
  conditional parallel trends hold;
* AR(1) errors ``u, v`` with persistence ``rho`` and innovation s.d. ``sigma``.

Three mediators (channels) move with a static effect of D: ``new_firms_per_10k``, ``rural_nonfarm_share``,
``public_service_index``. Two controls unaffected by treatment: ``log_gdp_pc``, ``urbanization_rate``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from econ._dose_sim import DoseSimulation, draw_dose_panel  # noqa: F401  (re-exported: dose designs)
from econ._switch_sim import SwitchingSimulation, draw_switching_panel  # noqa: F401  (re-exported: switching design)
from econ._truth import design_truth, true_att  # noqa: F401  (re-exported: the truth of a design)
from econ.errors import SpecificationError

__all__ = ["DesignParams", "SimulatedPanel", "draw_panel", "true_att", "china_cities_demo", "DEMO_SEED",
           "effect_shape", "write_china_cities_demo", "twfe_bias_panel", "draw_dose_panel", "DoseSimulation",
           "draw_switching_panel", "SwitchingSimulation", "household_survey"]

DEMO_SEED = 20140926  # the date of the first Broadband China announcement (MIIT/NDRC No. 61, 2014-09-26)
GENERATOR_VERSION = 1


MEDIATORS = ("new_firms_per_10k", "rural_nonfarm_share", "public_service_index")
SHAPES = ("ramp", "constant", "linear")


@dataclass(frozen=True)
class DesignParams:
    """True parameters of a simulated design: every knob a student can turn, with its allowed values.

    Effects are on log rural income unless stated; the outcome ``log_income_ratio`` moves by ``-(1 - urban_share)``
    times them (see the module docstring for the model). Values are checked when the object is made.

    Attributes
    ----------
    peak_effect : dict of {int: float}, default {2014: 0.08, 2015: 0.06, 2016: 0.04}
        Cohort (first treated year) -> peak effect on log rural income. Any real value (negative widens the gap);
        every treated cohort of the units drawn needs an entry.
    shape : {"ramp", "constant", "linear"}, default "ramp"
        Effect path over event time e >= 0 (:func:`effect_shape`): ``"ramp"`` rises linearly to the peak in
        ``ramp_years`` years and stays there; ``"constant"`` is the peak from the first year; ``"linear"`` grows by
        ``peak / ramp_years`` a year without bound (the design under which static TWFE fails worst).
    ramp_years : int >= 1, default 3
        Years to reach the peak (``"ramp"``) or the slope denominator (``"linear"``); ignored by ``"constant"``.
    urban_share : float in [0, 1], default 0.25
        phi, the share of the rural effect (and of the spillover) that also reaches urban income; 1 leaves the
        ratio unchanged.
    spillover : float, default 0.04
        s_r, the effect on log rural income of a fully treated neighbourhood (``(W D_t)_i = 1``, W
        row-standardised). Only used when :func:`draw_panel` gets ``W``; 0 switches spillovers off.
    selection : float, default 0.5
        How much higher the pre-period covariate is for ever-treated units, in its standard deviations (selection
        on levels, which DiD absorbs). 0 for random assignment; negative values select the poorer units.
    covariate_trend : float, default 0.0
        k, a differential trend in the covariate: log rural income grows by ``k (x_i - xbar)`` a year. Non-zero
        values break unconditional parallel trends (only parallel trends conditional on ``x`` hold).
    rho : float in (-1, 1), default 0.5
        AR(1) persistence of the errors (stationary start).
    sigma : float >= 0, default 0.02
        Innovation standard deviation of the AR(1) errors; 0 gives a noiseless panel.
    rural_growth, urban_growth : float, default 0.095, 0.080
        Common yearly growth of log rural and log urban income.
    mediator_effects : dict of {str: float}
        Static effect of treatment on the mediators ``new_firms_per_10k`` (default 1.2), ``rural_nonfarm_share``
        (0.02) and ``public_service_index`` (0.15); a mediator left out has effect 0, any other key is an error.

    Raises
    ------
    SpecificationError
        A value outside its allowed range, an unknown ``shape`` or mediator, a non-integer cohort key.

    Examples
    --------
    >>> from econ.simulate import DesignParams
    >>> p = DesignParams(shape="constant", spillover=0.0)
    >>> p.shape, p.spillover, p.peak_effect[2014]
    ('constant', 0.0, 0.08)
    >>> DesignParams(rho=1.0)
    Traceback (most recent call last):
    ...
    econ.errors.SpecificationError: rho must be < 1, got 1
    """

    peak_effect: dict = field(default_factory=lambda: {2014: 0.08, 2015: 0.06, 2016: 0.04})
    shape: str = "ramp"
    ramp_years: int = 3
    urban_share: float = 0.25
    spillover: float = 0.04
    selection: float = 0.5
    covariate_trend: float = 0.0
    rho: float = 0.5
    sigma: float = 0.02
    rural_growth: float = 0.095
    urban_growth: float = 0.080
    mediator_effects: dict = field(default_factory=lambda: {
        "new_firms_per_10k": 1.2, "rural_nonfarm_share": 0.02, "public_service_index": 0.15})

    def __post_init__(self):
        from econ._validate import check_choice, check_int, check_real

        if not isinstance(self.peak_effect, Mapping):
            raise SpecificationError("peak_effect must be a dict cohort -> effect, got "
                                     f"{type(self.peak_effect).__name__}")
        peaks = {check_int(int(g) if isinstance(g, str) and g.lstrip("-").isdigit() else g, "peak_effect cohort"):
                 check_real(v, f"peak_effect[{g}]") for g, v in self.peak_effect.items()}
        if not isinstance(self.mediator_effects, Mapping):
            raise SpecificationError("mediator_effects must be a dict mediator -> effect")
        unknown = sorted(set(self.mediator_effects) - set(MEDIATORS))
        if unknown:
            raise SpecificationError(f"unknown mediator(s) {unknown} in mediator_effects; use {list(MEDIATORS)}")
        object.__setattr__(self, "peak_effect", peaks)
        object.__setattr__(self, "mediator_effects",
                           {k: check_real(v, f"mediator_effects[{k!r}]") for k, v in self.mediator_effects.items()})
        check_choice(self.shape, "shape", SHAPES)
        object.__setattr__(self, "ramp_years", check_int(self.ramp_years, "ramp_years", minimum=1))
        checks = {"urban_share": dict(low=0.0, high=1.0),
                  "rho": dict(low=-1.0, high=1.0, open_low=True, open_high=True),
                  "sigma": dict(low=0.0), "spillover": {}, "selection": {}, "covariate_trend": {},
                  "rural_growth": {}, "urban_growth": {}}
        for name, bounds in checks.items():
            object.__setattr__(self, name, check_real(getattr(self, name), name, **bounds))


@dataclass
class SimulatedPanel:
    """A simulated panel (``data``) and the truth it was drawn from (``truth``).

    Returned by :func:`draw_panel`, :func:`china_cities_demo` and :func:`twfe_bias_panel`.

    Attributes
    ----------
    data : pandas.DataFrame
        The unit-by-year panel.
    truth : dict
        True parameters: ``att_gt`` (records of cohort, year, event_time, att, n_units), ``att_by_event_time``
        and ``cohort_sizes`` (integer keys), ``att_overall``, ``spillover_log_ratio``, ``params``, ``seed``.
        ``truth_json()`` serialises it (keys become strings, as in the bundled ``*_truth.json`` files).

    Examples
    --------
    >>> import pandas as pd
    >>> from econ.simulate import draw_panel
    >>> units = pd.DataFrame({"unit": [1, 2, 3, 4], "cohort": [2014, 2015, 0, 0]})
    >>> sim = draw_panel(units, range(2012, 2017), seed=1)
    >>> len(sim.data), sorted(sim.truth["cohort_sizes"].items())
    (20, [(0, 2), (2014, 1), (2015, 1)])
    >>> sim.true_att("cohort").round(4).to_dict()
    {2014: -0.04, 2015: -0.0225}
    """

    data: pd.DataFrame
    truth: dict

    def truth_json(self) -> str:
        """The truth as JSON (object keys as strings, sorted as the bundled files are)."""
        return json.dumps(_str_keys(self.truth), indent=2, sort_keys=True)

    def true_att(self, by: str = "event_time") -> pd.Series | float:
        """The true ATT of this design aggregated ``by`` event time, cohort, calendar time or overall.

        See :func:`true_att`.
        """
        return true_att(self.truth, by)


def _str_keys(obj):
    if isinstance(obj, dict):
        return {str(k): _str_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_str_keys(v) for v in obj]
    return obj


def effect_shape(event_time: np.ndarray, shape: str, ramp_years: int) -> np.ndarray:
    """Multiplier of the peak effect at event time e >= 0 (zero before treatment).

    Parameters
    ----------
    event_time : array of int
        Years since treatment (e = year - cohort).
    shape : {"ramp", "constant", "linear"}
        ``ramp``: ``min(1, (e + 1) / ramp_years)``; ``constant``: 1; ``linear``: ``(e + 1) / ramp_years``.
    ramp_years : int
        Years to reach the peak (``ramp``) or the slope denominator (``linear``).

    Returns
    -------
    numpy.ndarray
        Multipliers, 0 for ``e < 0``.

    Raises
    ------
    SpecificationError
        Unknown ``shape``.

    Examples
    --------
    >>> from econ.simulate import effect_shape
    >>> effect_shape([-1, 0, 1, 2, 5], "ramp", 3).round(3).tolist()
    [0.0, 0.333, 0.667, 1.0, 1.0]
    """
    from econ._validate import check_choice, check_int

    check_choice(shape, "shape", SHAPES)
    ramp_years = check_int(ramp_years, "ramp_years", minimum=1)
    try:
        e = np.asarray(event_time, dtype=float)
    except (TypeError, ValueError):
        raise SpecificationError(f"event_time must be numbers (years since treatment), got {event_time!r}") from None
    if shape == "ramp":
        out = np.minimum(1.0, (e + 1) / ramp_years)
    elif shape == "constant":
        out = np.ones_like(e)
    else:  # "linear"
        out = (e + 1) / ramp_years
    return np.where(e >= 0, out, 0.0)


def draw_panel(units: pd.DataFrame, years, *, unit: str = "unit", cohort: str = "cohort", W=None,
               params: DesignParams = DesignParams(), seed: int = 0, always_treated: bool = False) -> SimulatedPanel:
    """Draw a simulated staggered-adoption panel with known truth on given units and first-treatment years.

    Parameters
    ----------
    units : DataFrame
        One row per unit with columns ``unit`` (id) and ``cohort`` (first-treatment year; 0 or missing = never
        treated). Other columns are carried into the panel. Never modified.
    years : iterable of int
        The simulated years (distinct integers; every cohort must lie inside them).
    unit, cohort : str, default "unit", "cohort"
        Names of the id and cohort columns of ``units``.
    W : econ.spatial.Weights, optional
        Contiguity among the units (any unit order; aligned here), row-standardised for the spillover. Without
        ``W`` there is no spillover and ``truth["spillover_log_ratio"]`` is 0.
    params : DesignParams
        The true parameters (effect sizes and path, spillover, selection, noise); see :class:`DesignParams`
        for every parameter and its allowed values.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same panel.
    always_treated : bool, default False
        Allow cohorts treated from the first simulated year. They are treated in every year, so no DiD
        estimator identifies their effects (Callaway-Sant'Anna and the imputation estimator drop them with a
        note); by default such a cohort is refused. With ``True`` it is simulated, its cells stay in
        ``truth["att_gt"]``, ``truth["always_treated_cohorts"]`` lists it, and the aggregated truth
        (``att_overall``, ``att_by_event_time``, :func:`true_att`) leaves it out.

    Returns
    -------
    SimulatedPanel
        ``data`` sorted by (unit, year), with columns ``unit``, ``year``, ``cohort``, ``treated``,
        ``urban_income``, ``rural_income``, ``income_ratio``, ``log_income_ratio``, the covariates, the three
        mediators and ``simulated`` (True); ``truth`` holds every parameter and the implied ATT(g, t) on
        ``log_income_ratio`` (aggregate it with :func:`true_att`).

    Raises
    ------
    SpecificationError
        Missing columns, duplicate unit ids, a non-integer or negative cohort, no years, a cohort outside
        ``years`` or without a ``peak_effect``, a cohort treated from the first year without
        ``always_treated=True``, ``W`` not covering the units, a bad seed.

    Notes
    -----
    The model is in the module docstring. The true effect on the outcome is
    ATT(g, t) = -(1 - phi) * peak_g * shape(t - g) for t >= g (0 before: no anticipation), the same for every unit
    of cohort g; the spillover adds -(1 - phi) * s_r * (W D_t)_i, the exposure mapping of Butts (2021) with a
    row-standardised W. ``truth["att_overall"]`` is the mean of the direct ATT over the treated unit-years of the
    cohorts adopting after the first year (the estimand of Callaway and Sant'Anna's simple aggregation, which
    cannot use an always-treated cohort).

    References
    ----------
    Butts, K. (2021). Difference-in-differences estimation with spatial spillovers. arXiv:2105.03737.

    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods.
    *Journal of Econometrics* 225(2), 200-230.

    Examples
    --------
    >>> import pandas as pd
    >>> from econ.simulate import DesignParams, draw_panel
    >>> units = pd.DataFrame({"unit": [1, 2, 3], "cohort": [2014, 0, 0]})
    >>> sim = draw_panel(units, range(2012, 2016), params=DesignParams(shape="constant"), seed=0)
    >>> sim.data.shape[0], round(sim.truth["att_overall"], 4)
    (12, -0.06)
    """
    from econ._validate import check_bool, check_int, check_seed, require_columns

    always_treated = check_bool(always_treated, "always_treated")
    if not isinstance(units, pd.DataFrame):
        raise SpecificationError(f"units must be a DataFrame with columns {unit!r} and {cohort!r}, "
                                 f"got {type(units).__name__}")
    if not isinstance(params, DesignParams):
        raise SpecificationError(f"params must be a DesignParams, got {type(params).__name__}")
    require_columns(units, [unit, cohort], "units column")
    seed = check_seed(seed)
    if units[unit].isna().any():
        raise SpecificationError(f"units column {unit!r} has missing ids in rows "
                                 f"{units.index[units[unit].isna()].tolist()[:5]}")
    dup = units[unit][units[unit].duplicated()].unique().tolist()
    if dup:
        raise SpecificationError(f"units has duplicate ids in column {unit!r}: {dup[:5]}")
    if isinstance(years, (str, bytes)) or not hasattr(years, "__iter__"):
        raise SpecificationError(f"years must be an iterable of integer years, got {years!r}")
    years = [check_int(y, "years") for y in years]
    if not years or len(set(years)) != len(years):
        raise SpecificationError(f"years must be distinct integers (at least one), got {years[:10]}")
    years = np.asarray(sorted(years), dtype=np.int64)
    ids = units[unit].tolist()
    g = _cohort_years(units, unit, cohort)
    _check_cohorts(g, years, params, always_treated)
    rng = np.random.default_rng(seed)
    n, t = len(ids), len(years)
    treated_ever = g > 0
    d = (g[:, None] > 0) & (years[None, :] >= g[:, None])  # (n, t) absorbing treatment
    event = years[None, :] - g[:, None]

    x = rng.normal(0.0, 1.0, n) + params.selection * treated_ever  # pre-period covariate, in s.d. units
    xc = x - x.mean()
    peak = np.array([params.peak_effect.get(int(c), 0.0) for c in g])
    tau_r = peak[:, None] * effect_shape(event, params.shape, params.ramp_years) * d
    share = _neighbour_share(W, ids, d)

    a = rng.normal(np.log(9000.0), 0.25, n)  # rural level, 2008 yuan
    b = a + np.log(2.9) + rng.normal(0.0, 0.10, n)  # urban level: ratio about 2.9 in 2008
    trend = np.arange(t)
    r_t = params.rural_growth * trend + rng.normal(0, 0.01, t)
    m_t = params.urban_growth * trend + rng.normal(0, 0.01, t)
    u, v = _ar1(rng, n, t, params.rho, params.sigma), _ar1(rng, n, t, params.rho, params.sigma)

    log_rural = (a + 0.2 * xc)[:, None] + r_t + tau_r + params.spillover * share \
        + params.covariate_trend * xc[:, None] * trend + u
    log_urban = (b + 0.3 * xc)[:, None] + m_t + params.urban_share * (tau_r + params.spillover * share) + v

    frame = pd.DataFrame({
        unit: np.repeat(ids, t),
        "year": np.tile(years, n),
        "cohort": np.repeat(g, t),
        "treated": d.ravel().astype(np.int64),
        "urban_income": np.exp(log_urban).ravel(),
        "rural_income": np.exp(log_rural).ravel(),
    })
    frame["income_ratio"] = frame["urban_income"] / frame["rural_income"]
    frame["log_income_ratio"] = (log_urban - log_rural).ravel()
    frame["pre_log_gdp_pc"] = np.repeat(10.3 + 0.45 * x, t)
    frame["log_gdp_pc"] = frame["pre_log_gdp_pc"] + 0.07 * (frame["year"] - years[0]) + rng.normal(0, 0.03, n * t)
    frame["urbanization_rate"] = np.clip(45 + 8 * np.repeat(xc, t) + 1.1 * (frame["year"] - years[0])
                                         + rng.normal(0, 1.5, n * t), 10, 95)
    frame = frame.join(_mediators(rng, d, xc, params))
    extra = units.drop(columns=[cohort]).set_index(unit)
    frame = frame.merge(extra, left_on=unit, right_index=True, how="left")
    frame["simulated"] = True
    frame = frame.sort_values([unit, "year"], kind="mergesort").reset_index(drop=True)
    return SimulatedPanel(frame, _truth(g, years, d, event, peak, params, seed, W is not None))


def _cohort_years(units: pd.DataFrame, unit: str, cohort: str) -> np.ndarray:
    """The cohort column as int64 years, 0 = never treated, read by the package's one cohort parser."""
    from econ.did.design import read_cohorts

    values = read_cohorts(units, unit, None, cohort)
    return np.where(np.isnan(values), 0, values).astype(np.int64)


def _check_cohorts(g, years, params, always_treated: bool = False) -> None:
    cohorts = sorted(set(g[g != 0].tolist()))  # negative cohorts are refused by read_cohorts
    outside = [c for c in cohorts if c < years[0] or c > years[-1]]
    if outside:
        raise SpecificationError(f"cohort(s) {outside} outside the simulated years {years[0]}-{years[-1]}")
    first = [c for c in cohorts if c == years[0]]
    if first and not always_treated:
        raise SpecificationError(
            f"cohort(s) {first} adopt in the first simulated year {years[0]}: always treated, so no DiD estimator "
            "identifies their effects; use cohorts after the first year, or pass always_treated=True to simulate "
            "them (the aggregated truth then leaves them out)")
    missing = [c for c in cohorts if c not in params.peak_effect]
    if missing:
        raise SpecificationError(f"no peak_effect given for cohort(s) {missing}; params.peak_effect has "
                                 f"{sorted(params.peak_effect)}")


def _neighbour_share(weights, ids, d) -> np.ndarray:
    """(W D_t)_i with W row-standardised, in the order of ``ids``."""
    if weights is None:
        return np.zeros(d.shape)
    if not hasattr(weights, "align"):
        raise SpecificationError(f"W must be an econ.spatial.Weights, got {type(weights).__name__}")
    w = weights.align(ids).row_standardize()
    return np.asarray(w.matrix @ d.astype(float))


def _ar1(rng, n, t, rho, sigma) -> np.ndarray:
    eps = rng.normal(0.0, sigma, (n, t))
    out = np.empty((n, t))
    out[:, 0] = eps[:, 0] / np.sqrt(1 - rho**2)  # stationary start
    for s in range(1, t):
        out[:, s] = rho * out[:, s - 1] + eps[:, s]
    return out


def _mediators(rng, d, xc, params) -> pd.DataFrame:
    n, t = d.shape
    trend = np.arange(t)[None, :]
    eff = params.mediator_effects
    base = {
        "new_firms_per_10k": 8 + 2 * xc[:, None] + 0.3 * trend + rng.normal(0, 1.0, (n, 1)),
        "rural_nonfarm_share": 0.35 + 0.05 * xc[:, None] + 0.01 * trend + rng.normal(0, 0.05, (n, 1)),
        "public_service_index": 0.5 * xc[:, None] + 0.05 * trend + rng.normal(0, 0.5, (n, 1)),
    }
    noise_sd = {"new_firms_per_10k": 0.8, "rural_nonfarm_share": 0.02, "public_service_index": 0.2}
    return pd.DataFrame({
        name: (base[name] + eff.get(name, 0.0) * d + rng.normal(0, noise_sd[name], (n, t))).ravel()
        for name in base
    })


def _truth(g, years, d, event, peak, params, seed, has_weights) -> dict:
    """ATT(g, t) of the direct effect on log_income_ratio, and its usual aggregations."""
    scale = -(1.0 - params.urban_share)
    att = scale * peak[:, None] * effect_shape(event, params.shape, params.ramp_years)
    always = sorted(int(c) for c in set(g[g > 0].tolist()) if c <= years[0])  # treated in every simulated year
    rows = []
    for c in sorted(set(g[g > 0].tolist())):
        for j, yr in enumerate(years):
            if yr >= c:
                rows.append({"cohort": int(c), "year": int(yr), "event_time": int(yr - c),
                             "att": float(att[g == c, j][0]), "n_units": int((g == c).sum())})
    att_gt = pd.DataFrame(rows, columns=["cohort", "year", "event_time", "att", "n_units"])
    cells = att_gt[~att_gt["cohort"].isin(always)] if always else att_gt  # the cells an estimator identifies
    weighted = cells.assign(att_x_n=cells["att"] * cells["n_units"]).groupby("event_time")
    by_event = weighted["att_x_n"].sum() / weighted["n_units"].sum()  # cohort-size weighted mean
    used = d & ~np.isin(g, always)[:, None] if always else d
    overall = float(att[used].mean()) if used.any() else 0.0
    extra = {"always_treated_cohorts": always} if always else {}  # absent otherwise: bundled truth files unchanged
    return {
        "simulated": True,
        "generator": f"econ.simulate.draw_panel v{GENERATOR_VERSION}",
        "seed": int(seed),
        "outcome": "log_income_ratio",
        "params": {k: ({str(kk): vv for kk, vv in v.items()} if isinstance(v, dict) else v)
                   for k, v in asdict(params).items()},
        "cohort_sizes": {int(c): int((g == c).sum()) for c in sorted(set(g.tolist()))},
        "att_gt": att_gt.to_dict(orient="records"),
        "att_by_event_time": {int(k): float(v) for k, v in by_event.items()},
        "att_overall": overall,
        "att_overall_definition": ("mean of the direct ATT(g, t) over all treated unit-years" if not always else
                                   "mean of the direct ATT(g, t) over the treated unit-years of the cohorts "
                                   "adopting after the first simulated year"),
        **extra,
        "spillover_log_ratio": scale * params.spillover + 0.0 if has_weights else 0.0,
        "spillover_definition": "effect on log_income_ratio of going from no treated neighbour to all "
                                "neighbours treated (row-standardised contiguity W)",
        "mediator_effects": dict(params.mediator_effects),
    }


def china_cities_demo(*, seed: int = DEMO_SEED, params: DesignParams = DesignParams()) -> SimulatedPanel:
    """The bundled demonstration panel: SIMULATED outcomes on the real prefecture units, 2008-2022.

    Units are the 337 prefecture-level units of ``china_prefectures``; cohorts are the real Broadband China
    cohorts (first year the whole unit was designated: 2014/2015/2016; never designated = 0); spillovers run
    through the real queen contiguity (``china_prefecture_contiguity``). Outcomes are drawn by ``draw_panel``.

    Parameters
    ----------
    seed : int, default DEMO_SEED
        Seed of the draw (the bundled file uses ``DEMO_SEED``).
    params : DesignParams, optional
        True parameters of the design.

    Returns
    -------
    SimulatedPanel
        337 units x 15 years; ``truth`` as :func:`draw_panel`. With the defaults it is the bundled
        ``china_cities_demo`` dataset (a test checks they are identical).

    Raises
    ------
    SpecificationError
        A bad ``seed`` or ``params``.

    Examples
    --------
    >>> from econ.simulate import DesignParams, china_cities_demo
    >>> sim = china_cities_demo(params=DesignParams(spillover=0.0))
    >>> sim.data.shape[0], sim.data["prefecture_code"].nunique(), sim.truth["spillover_log_ratio"]
    (5055, 337, 0.0)
    """
    from econ import datasets

    pref = datasets.load("china_prefectures")
    units = pd.DataFrame({
        "prefecture_code": pref["prefecture_code"],
        "cohort": pref["bbc_cohort"].fillna(0).astype("int64"),
        "name_en": pref["name_en"],
        "province_code": pref["province_code"],
        "region": pref["region"],
    })
    w = datasets.load_weights("china_prefecture_contiguity")
    return draw_panel(units, range(2008, 2023), unit="prefecture_code", W=w, params=params, seed=seed)


def write_china_cities_demo(directory) -> None:
    """Regenerate ``china_cities_demo.csv`` and ``china_cities_demo_truth.json`` in ``directory`` (``data/``).

    Parameters
    ----------
    directory : str or pathlib.Path
        Target directory.

    Returns
    -------
    None
        Writes the two files (after them, run ``python tools/hash_data.py`` to refresh ``data/checksums.json``).

    Raises
    ------
    SpecificationError
        ``directory`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from econ.simulate import write_china_cities_demo
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_china_cities_demo(tmp)
    ...     sorted(p.name for p in pathlib.Path(tmp).iterdir())
    ['china_cities_demo.csv', 'china_cities_demo_truth.json']
    """
    from pathlib import Path

    directory = Path(directory)
    if not directory.is_dir():
        raise SpecificationError(f"directory {str(directory)!r} does not exist")
    sim = china_cities_demo()
    sim.data.to_csv(directory / "china_cities_demo.csv", index=False, float_format="%.15g")
    (directory / "china_cities_demo_truth.json").write_text(sim.truth_json() + "\n", encoding="utf-8")


def twfe_bias_panel(*, n_units: int = 120, years=range(2008, 2020), cohorts=(2010, 2013, 2016),
                    slopes=(0.04, 0.02, 0.01), never_share: float = 0.1, sigma: float = 0.02,
                    seed: int = 0, always_treated: bool = False) -> SimulatedPanel:
    """A teaching design where static TWFE is badly biased: effects grow with time since adoption, faster for
    earlier cohorts, and most units are eventually treated.

    Cohort ``g`` has effect ``tau_r(g, e) = slopes_g * (e + 1)`` on log rural income at event time ``e >= 0``
    (``shape="linear"``, no plateau), so its ATT on ``log_income_ratio`` is ``-(1 - phi) slopes_g (e + 1)``. The
    "later vs earlier" 2x2 comparisons then subtract the earlier cohorts' still-growing effects and pull the
    TWFE coefficient towards zero or past it (Goodman-Bacon 2021; Sun and Abraham 2021), while Callaway-Sant'Anna,
    Sun-Abraham and the imputation estimator recover the truth. No spillover, no selection on levels.

    Parameters
    ----------
    n_units : int
        Number of units; a share ``never_share`` (at least 2 units) is never treated, the rest is split evenly
        across ``cohorts``.
    years : iterable of int, default 2008-2019
        The simulated years.
    cohorts : sequence of int, default (2010, 2013, 2016)
        Adoption years (inside ``years``, after its first year).
    slopes : sequence of float, default (0.04, 0.02, 0.01)
        Per-year growth of each cohort's effect on log rural income, aligned with ``cohorts``; any real values.
    never_share : float in [0, 1), default 0.1
        Share of never-treated units (at least 2 units are never treated).
    sigma : float >= 0, default 0.02
        Innovation s.d. of the AR(1) errors (persistence 0.5, as :class:`DesignParams`).
    seed : int, default 0
        Seed of the draw.
    always_treated : bool, default False
        Allow a cohort adopting in the first year of ``years`` (refused by default; see :func:`draw_panel`).

    Returns
    -------
    SimulatedPanel
        ``data`` (columns ``unit``, ``year``, ``cohort``, ``treated``, ``log_income_ratio``...) and ``truth`` (as
        :func:`draw_panel`: ``att_gt``, ``att_by_event_time``, ``att_overall``).

    Raises
    ------
    SpecificationError
        Too few units for the cohorts, ``slopes`` not aligned with ``cohorts``, ``never_share`` outside [0, 1), a
        cohort outside ``years`` or in its first year (without ``always_treated=True``), a bad ``sigma`` or seed.

    Notes
    -----
    Static TWFE estimates a weighted average of all 2x2 DiDs, and the "later vs earlier treated" ones use
    already-treated units as controls; with effects growing in event time their weights on the later cohorts'
    ATTs can be negative (Goodman-Bacon 2021, Theorem 1; de Chaisemartin and D'Haultfoeuille 2020). The truth
    (``true_att(sim, "overall")``) is the mean ATT over treated unit-years.

    References
    ----------
    de Chaisemartin, C. and D'Haultfoeuille, X. (2020). Two-way fixed effects estimators with heterogeneous
    treatment effects. *American Economic Review* 110(9), 2964-2996.

    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing. *Journal of
    Econometrics* 225(2), 254-277.

    Sun, L. and Abraham, S. (2021). Estimating dynamic treatment effects in event studies with heterogeneous
    treatment effects. *Journal of Econometrics* 225(2), 175-199.

    Examples
    --------
    >>> from econ import did
    >>> from econ.simulate import twfe_bias_panel
    >>> sim = twfe_bias_panel(seed=1)
    >>> sorted(sim.truth["cohort_sizes"])
    [0, 2010, 2013, 2016]
    >>> twfe = did.twfe(sim.data, "log_income_ratio", "unit", "year", treat="treated").coef["treated"]
    >>> round(sim.true_att("overall"), 3), round(float(twfe), 3)
    (-0.102, 0.011)
    """
    from econ import _validate

    cohorts = [_validate.check_int(c, "cohorts") for c in _sequence(cohorts, "cohorts")]
    slopes = [_validate.check_real(v, "slopes") for v in _sequence(slopes, "slopes")]
    if not cohorts or len(set(cohorts)) != len(cohorts):
        raise SpecificationError(f"cohorts must be distinct adoption years (at least one), got {cohorts}")
    n_units = _validate.check_int(n_units, "n_units", minimum=len(cohorts) + 2)
    seed = _validate.check_int(seed, "seed", minimum=0)
    never_share = _validate.check_real(never_share, "never_share")
    if len(slopes) != len(cohorts):
        raise SpecificationError(f"slopes has {len(slopes)} values for {len(cohorts)} cohorts")
    if not 0 <= never_share < 1:
        raise SpecificationError(f"never_share must be in [0, 1), got {never_share}")
    n_never = max(2, int(round(never_share * n_units)))
    per = np.array_split(np.arange(n_units - n_never), len(cohorts))
    g = np.zeros(n_units, dtype=np.int64)
    for c, idx in zip(cohorts, per):
        g[n_never + idx] = c
    units = pd.DataFrame({"unit": np.arange(1, n_units + 1), "cohort": g})
    params = DesignParams(peak_effect={int(c): float(s) for c, s in zip(cohorts, slopes)}, shape="linear",
                          ramp_years=1, spillover=0.0, selection=0.0, sigma=sigma, mediator_effects={})
    return draw_panel(units, years, unit="unit", params=params, seed=seed, always_treated=always_treated)


def household_survey(*, n_prefectures: int = 60, households: int = 40, years=range(2010, 2018),
                     cohorts=(2012, 2014, 2016), never_share: float = 0.3, rural_share: float = 0.5,
                     rural_sampling: float = 2.0, effect: float = 0.05, growth: float = 0.02,
                     cohort_trend: float = 0.01, design: str = "panel", keep_share: float = 0.75, sigma: float = 0.1,
                     seed: int = 0, year_shock: float = 0.0) -> SimulatedPanel:
    """A household survey with known truth: households nested in prefectures, urban/rural status, staggered
    designation of prefectures, sampling weights, and rotation into a panel, an unbalanced panel or repeated
    cross-sections.

    Model for household i (rural ``r_i``) in prefecture p (designated in ``g_p``, 0 = never) in year t, event
    time ``e = t - g_p``::

        log_income = a_p + 0.4 (1 - r_i) + 0.2 x_i + 0.03 (t - t0) + 0.01 r_i (t - t0)
                     + cohort_trend 1{g_p > 0} (t - t0) + tau(e) r_i 1{e >= 0} + u_i + v_pt + eps_it,
        tau(e) = effect + growth * e,

    so designation raises rural households' income by ``tau(e)`` and narrows the urban-rural gap by as much;
    urban households are unaffected. Designated prefectures trend differently (``cohort_trend``), so a DiD on
    rural households alone is biased and the triple difference (:func:`econ.did.ddd_gt`, ``group="rural"``) is
    not. Rural households are over-sampled ``rural_sampling`` times; ``weight`` is the inverse of the inclusion
    rate (constant within household).

    Parameters
    ----------
    n_prefectures, households : int
        Prefectures and sampled households per prefecture (per year for cross-sections).
    years : iterable of int
        Survey years.
    cohorts : sequence of int
        Designation years (inside ``years``, after its first); prefectures not never-treated are split evenly.
    never_share : float in [0, 1)
        Share of never-designated prefectures.
    rural_share : float in (0, 1)
        Population share of rural households.
    rural_sampling : float > 0
        Over-sampling factor of rural households (1 = proportional sample).
    effect, growth : float
        ``tau(e) = effect + growth * e`` on rural log income.
    cohort_trend : float
        Extra yearly trend of designated prefectures (both urban and rural).
    design : {"panel", "unbalanced", "rcs"}
        ``"panel"``: every household in every year; ``"unbalanced"``: each household-year kept with probability
        ``keep_share``; ``"rcs"``: a fresh sample every year (ids never repeat).
    keep_share : float in (0, 1]
        Response rate of the unbalanced design.
    sigma : float >= 0
        Standard deviation of the idiosyncratic error (household effects have s.d. 0.3).
    seed : int
        Seed of the draw.
    year_shock : float >= 0, default 0.0
        Standard deviation of the prefecture-by-year shocks ``v_pt``, which make households of a prefecture (the
        primary sampling unit) correlated over and above their own effects, so inference must cluster by
        prefecture (a survey design's PSU). They are drawn from a stream of their own (``seed``, then 1): the
        other draws do not change with it, and 0 (the default) leaves the data as before.

    Returns
    -------
    SimulatedPanel
        ``data`` with ``household, prefecture, year, cohort, rural, x, weight, log_income`` and ``truth``:
        ``att_gt`` (the rural households' ATT(g, t), ``n_units`` their population weight), ``att_by_event_time``,
        ``att_overall`` (mean over treated rural household-years), ``gap_effect`` (= minus the ATT: the
        urban-minus-rural gap), ``params``, ``seed``.

    Raises
    ------
    SpecificationError
        Bad sizes, shares, design or cohorts.

    Examples
    --------
    >>> from econ.simulate import household_survey
    >>> sim = household_survey(n_prefectures=20, households=10, design="rcs", seed=1)
    >>> sim.data["household"].is_unique, sorted(sim.data["rural"].unique().tolist())
    (True, [0, 1])
    >>> round(float(sim.true_att("event_time").loc[2]), 3)
    0.09
    """
    from econ import _validate

    n_prefectures = _validate.check_int(n_prefectures, "n_prefectures", minimum=4)
    households = _validate.check_int(households, "households", minimum=2)
    seed = _validate.check_int(seed, "seed", minimum=0)
    years = [_validate.check_int(y, "years") for y in _sequence(years, "years")]
    cohorts = [_validate.check_int(c, "cohorts") for c in _sequence(cohorts, "cohorts")]
    design = _validate.check_choice(design, "design", ("panel", "unbalanced", "rcs"))
    for name, value, lo, hi in (("never_share", never_share, 0, 1), ("rural_share", rural_share, 0, 1),
                                ("keep_share", keep_share, 0, 1)):
        value = _validate.check_real(value, name)
        if not (lo <= value < hi or (name == "keep_share" and value == 1)) or (name == "rural_share" and value == 0):
            raise SpecificationError(f"{name} must be in [{lo}, {hi}), got {value}")
    if _validate.check_real(rural_sampling, "rural_sampling") <= 0 or _validate.check_real(sigma, "sigma") < 0 \
            or _validate.check_real(year_shock, "year_shock") < 0:
        raise SpecificationError("rural_sampling must be positive, sigma and year_shock non-negative")
    if len(years) < 2 or not cohorts or any(c <= min(years) or c > max(years) for c in cohorts):
        raise SpecificationError(f"cohorts {cohorts} must lie inside years {min(years)}-{max(years)}, after the "
                                 "first year")
    rng = np.random.default_rng(seed)
    n_never = max(1, int(round(never_share * n_prefectures)))
    g_pref = np.zeros(n_prefectures, dtype=np.int64)
    for c, idx in zip(cohorts, np.array_split(np.arange(n_never, n_prefectures), len(cohorts))):
        g_pref[idx] = c
    a_pref = rng.normal(0, 0.3, n_prefectures)
    p_rural = rural_share * rural_sampling / (rural_share * rural_sampling + 1 - rural_share)  # sample share
    weight_of = {1: rural_share / p_rural, 0: (1 - rural_share) / (1 - p_rural)}
    T = len(years)
    draws = T if design == "rcs" else 1
    n_h = n_prefectures * households * draws
    pref = np.tile(np.repeat(np.arange(n_prefectures), households), draws)
    wave = np.repeat(np.arange(draws), n_prefectures * households)
    rural = (rng.random(n_h) < p_rural).astype(int)
    x = rng.normal(size=n_h) + 0.3 * rural
    u = rng.normal(0, 0.3, n_h)
    if design == "rcs":
        hh, t_idx = np.arange(n_h), wave
    else:
        hh, t_idx = np.repeat(np.arange(n_h), T), np.tile(np.arange(T), n_h)
    take = np.arange(len(hh)) if design == "rcs" else hh
    year = np.asarray(years)[t_idx]
    g = g_pref[pref[take]]
    tt = year - min(years)
    event = year - g
    treated = (g > 0) & (event >= 0)
    tau = np.where(treated, effect + growth * np.where(treated, event, 0), 0.0)
    r = rural[take]
    y = (a_pref[pref[take]] + 0.4 * (1 - r) + 0.2 * x[take] + 0.03 * tt + 0.01 * r * tt
         + cohort_trend * (g > 0) * tt + tau * r + u[take] + rng.normal(0, sigma, len(take)))
    if year_shock > 0:  # prefecture-by-year shocks from their own stream: the draws above do not move
        shocks = np.random.default_rng([seed, 1]).normal(0, year_shock, (n_prefectures, T))
        y = y + shocks[pref[take], t_idx]
    data = pd.DataFrame({"household": hh + 1, "prefecture": pref[take] + 1, "year": year, "cohort": g,
                         "rural": r, "x": x[take], "weight": np.where(r == 1, weight_of[1], weight_of[0]),
                         "log_income": y})
    if design == "unbalanced":
        data = data[rng.random(len(data)) < keep_share].reset_index(drop=True)
    cells = []
    for c in sorted(set(cohorts)):
        n_c = float(data.loc[(data["cohort"] == c) & (data["rural"] == 1)].groupby("household")["weight"]
                    .first().sum())
        for yr in years:
            if yr >= c:
                cells.append({"cohort": int(c), "year": int(yr), "event_time": int(yr - c),
                              "att": float(effect + growth * (yr - c)), "n_units": n_c})
    tr = data[(data["rural"] == 1) & (data["cohort"] > 0) & (data["year"] >= data["cohort"])]
    overall = float(np.average(effect + growth * (tr["year"] - tr["cohort"]), weights=tr["weight"]))
    by_e = pd.DataFrame(cells).assign(w=lambda d: d["att"] * d["n_units"]).groupby("event_time")
    truth = {"att_gt": cells, "att_by_event_time": (by_e["w"].sum() / by_e["n_units"].sum()).to_dict(),
             "att_overall": overall, "gap_effect": -overall,
             "cohort_sizes": {int(k): int(v) for k, v in data.groupby("cohort")["household"].nunique().items()},
             "params": dict(n_prefectures=n_prefectures, households=households, years=years, cohorts=cohorts,
                            never_share=never_share, rural_share=rural_share, rural_sampling=rural_sampling,
                            effect=effect, growth=growth, cohort_trend=cohort_trend, design=design,
                            keep_share=keep_share, sigma=sigma, year_shock=year_shock), "seed": seed}
    return SimulatedPanel(data, truth)


def _sequence(value, name: str) -> list:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise SpecificationError(f"{name} must be a sequence, got {value!r}")
    return list(value)
