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
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from econ.errors import EconError

__all__ = ["DesignParams", "SimulatedPanel", "draw_panel", "china_cities_demo", "DEMO_SEED", "effect_shape",
           "write_china_cities_demo", "twfe_bias_panel"]

DEMO_SEED = 20140926  # the date of the first Broadband China announcement (MIIT/NDRC No. 61, 2014-09-26)
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class DesignParams:
    """True parameters of a simulated design (effects on log rural income unless stated).

    Attributes
    ----------
    peak_effect : dict
        Cohort -> peak effect on log rural income.
    shape : {"ramp", "constant", "linear"}
        Effect path over event time (see :func:`effect_shape`); ``ramp_years`` its length.
    urban_share, spillover : float
        Share of the rural effect reaching urban income (phi) and the spillover of a fully treated neighbourhood.
    (other fields)
        Noise, persistence, selection and mediator parameters, as listed in the module docstring.

    Examples
    --------
    >>> from econ.simulate import DesignParams
    >>> p = DesignParams(shape="constant", spillover=0.0)
    >>> p.shape, p.spillover, p.peak_effect[2014]
    ('constant', 0.0, 0.08)
    """

    peak_effect: dict = field(default_factory=lambda: {2014: 0.08, 2015: 0.06, 2016: 0.04})
    shape: str = "ramp"  # "ramp": reaches the peak after `ramp_years`; "constant"; "linear": grows without bound
    ramp_years: int = 3
    urban_share: float = 0.25  # phi: share of the rural effect that also reaches urban income
    spillover: float = 0.04  # s_r: effect on log rural income of a fully treated neighbourhood
    selection: float = 0.5  # how much higher the pre-period covariate is for treated units (in its s.d. units)
    covariate_trend: float = 0.0  # k: differential trend in the covariate (breaks unconditional parallel trends)
    rho: float = 0.5
    sigma: float = 0.02
    rural_growth: float = 0.095
    urban_growth: float = 0.080
    mediator_effects: dict = field(default_factory=lambda: {
        "new_firms_per_10k": 1.2, "rural_nonfarm_share": 0.02, "public_service_index": 0.15})


@dataclass
class SimulatedPanel:
    """A simulated panel (``data``) and the truth it was drawn from (``truth``, JSON-serialisable).

    Attributes
    ----------
    data : pandas.DataFrame
        The unit-by-year panel.
    truth : dict
        True parameters (ATT by event time, cohort sizes, spillover, seed...); ``truth_json()`` serialises it.

    Examples
    --------
    >>> import pandas as pd
    >>> from econ.simulate import draw_panel
    >>> units = pd.DataFrame({"unit": [1, 2, 3, 4], "cohort": [2014, 2015, 0, 0]})
    >>> sim = draw_panel(units, range(2012, 2017), seed=1)
    >>> len(sim.data), sorted(sim.truth["cohort_sizes"].items())
    (20, [('0', 2), ('2014', 1), ('2015', 1)])
    """

    data: pd.DataFrame
    truth: dict

    def truth_json(self) -> str:
        return json.dumps(self.truth, indent=2, sort_keys=True)


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
    EconError
        Unknown ``shape``.

    Examples
    --------
    >>> from econ.simulate import effect_shape
    >>> effect_shape([-1, 0, 1, 2, 5], "ramp", 3).round(3).tolist()
    [0.0, 0.333, 0.667, 1.0, 1.0]
    """
    e = np.asarray(event_time, dtype=float)
    if shape == "ramp":
        out = np.minimum(1.0, (e + 1) / ramp_years)
    elif shape == "constant":
        out = np.ones_like(e)
    elif shape == "linear":
        out = (e + 1) / ramp_years
    else:
        raise EconError(f"unknown effect shape {shape!r}; use 'ramp', 'constant' or 'linear'")
    return np.where(e >= 0, out, 0.0)


def draw_panel(units: pd.DataFrame, years, unit: str = "unit", cohort: str = "cohort", weights=None,
               params: DesignParams = DesignParams(), seed: int = 0) -> SimulatedPanel:
    """Draw a simulated panel on given units with given first-treatment years.

    Parameters
    ----------
    units : DataFrame
        One row per unit with columns ``unit`` (id) and ``cohort`` (first-treatment year; 0 = never treated).
        Other columns are carried into the panel.
    years : iterable of int
    weights : econ.spatial.Weights, optional
        Contiguity among the units (any unit order; aligned here). Row-standardised for the spillover.
        Without weights there is no spillover.
    params : DesignParams
    seed : int

    Returns
    -------
    SimulatedPanel with ``data`` sorted by (unit, year) and ``truth`` holding every parameter and the implied
    ATT(g, t) on ``log_income_ratio``.

    Examples
    --------
    >>> import pandas as pd
    >>> from econ.simulate import draw_panel
    >>> units = pd.DataFrame({"unit": [1, 2, 3], "cohort": [2014, 0, 0]})
    >>> sim = draw_panel(units, range(2012, 2016), seed=0)
    >>> sim.data.shape[0]
    12
    """
    years = np.asarray(sorted(years), dtype=np.int64)
    ids = units[unit].tolist()
    g = units[cohort].fillna(0).to_numpy(dtype=np.int64)
    _check_cohorts(g, years, params)
    rng = np.random.default_rng(seed)
    n, t = len(ids), len(years)
    treated_ever = g > 0
    d = (g[:, None] > 0) & (years[None, :] >= g[:, None])  # (n, t) absorbing treatment
    event = years[None, :] - g[:, None]

    x = rng.normal(0.0, 1.0, n) + params.selection * treated_ever  # pre-period covariate, in s.d. units
    xc = x - x.mean()
    peak = np.array([params.peak_effect.get(int(c), 0.0) for c in g])
    tau_r = peak[:, None] * effect_shape(event, params.shape, params.ramp_years) * d
    share = _neighbour_share(weights, ids, d)

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
    return SimulatedPanel(frame, _truth(g, years, d, event, peak, params, seed, weights is not None))


def _check_cohorts(g, years, params) -> None:
    cohorts = sorted(set(g[g > 0].tolist()))
    outside = [c for c in cohorts if c < years[0] or c > years[-1]]
    if outside:
        raise EconError(f"cohort(s) {outside} outside the simulated years {years[0]}-{years[-1]}")
    missing = [c for c in cohorts if c not in params.peak_effect]
    if missing:
        raise EconError(f"no peak_effect given for cohort(s) {missing}; params.peak_effect has "
                        f"{sorted(params.peak_effect)}")


def _neighbour_share(weights, ids, d) -> np.ndarray:
    """(W D_t)_i with W row-standardised, in the order of ``ids``."""
    if weights is None:
        return np.zeros(d.shape)
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
    rows = []
    for c in sorted(set(g[g > 0].tolist())):
        for j, yr in enumerate(years):
            if yr >= c:
                rows.append({"cohort": int(c), "year": int(yr), "event_time": int(yr - c),
                             "att": float(att[g == c, j][0]), "n_units": int((g == c).sum())})
    att_gt = pd.DataFrame(rows)
    weighted = att_gt.assign(att_x_n=att_gt["att"] * att_gt["n_units"]).groupby("event_time")
    by_event = weighted["att_x_n"].sum() / weighted["n_units"].sum()  # cohort-size weighted mean
    overall = float(att[d].mean()) if d.any() else 0.0
    return {
        "simulated": True,
        "generator": f"econ.simulate.draw_panel v{GENERATOR_VERSION}",
        "seed": int(seed),
        "outcome": "log_income_ratio",
        "params": {k: ({str(kk): vv for kk, vv in v.items()} if isinstance(v, dict) else v)
                   for k, v in asdict(params).items()},
        "cohort_sizes": {str(int(c)): int((g == c).sum()) for c in sorted(set(g.tolist()))},
        "att_gt": att_gt.to_dict(orient="records"),
        "att_by_event_time": {str(int(k)): float(v) for k, v in by_event.items()},
        "att_overall": overall,
        "att_overall_definition": "mean of the direct ATT(g, t) over all treated unit-years",
        "spillover_log_ratio": scale * params.spillover if has_weights else 0.0,
        "spillover_definition": "effect on log_income_ratio of going from no treated neighbour to all "
                                "neighbours treated (row-standardised contiguity W)",
        "mediator_effects": dict(params.mediator_effects),
    }


def china_cities_demo(seed: int = DEMO_SEED, params: DesignParams = DesignParams()) -> SimulatedPanel:
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
    return draw_panel(units, range(2008, 2023), unit="prefecture_code", weights=w, params=params, seed=seed)


def write_china_cities_demo(directory) -> None:
    """Regenerate ``china_cities_demo.csv`` and ``china_cities_demo_truth.json`` in ``directory`` (``data/``).

    Parameters
    ----------
    directory : str or pathlib.Path
        Target directory.

    Returns
    -------
    None
        Writes the two files.
    """
    from pathlib import Path

    sim = china_cities_demo()
    directory = Path(directory)
    sim.data.to_csv(directory / "china_cities_demo.csv", index=False, float_format="%.15g")
    (directory / "china_cities_demo_truth.json").write_text(sim.truth_json() + "\n", encoding="utf-8")



def twfe_bias_panel(n_units: int = 120, years=range(2008, 2020), cohorts=(2010, 2013, 2016),
                    slopes=(0.04, 0.02, 0.01), never_share: float = 0.1, sigma: float = 0.02,
                    seed: int = 0) -> SimulatedPanel:
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
    years : iterable of int
    cohorts : sequence of int
        Adoption years (inside ``years``, after its first year).
    slopes : sequence of float
        Per-year growth of each cohort's effect on log rural income, aligned with ``cohorts``.
    never_share : float
    sigma : float
        Innovation s.d. of the AR(1) errors.
    seed : int

    Returns
    -------
    SimulatedPanel
        ``data`` (columns ``unit``, ``year``, ``cohort``, ``treated``, ``log_income_ratio``...) and ``truth`` (as
        :func:`draw_panel`: ``att_gt``, ``att_by_event_time``, ``att_overall``).

    Examples
    --------
    >>> sim = twfe_bias_panel(n_units=60, seed=1)
    >>> sorted(sim.truth["cohort_sizes"])
    ['0', '2010', '2013', '2016']
    """
    from econ import _validate

    n_units = _validate.check_int(n_units, "n_units", minimum=len(cohorts) + 2)
    seed = _validate.check_int(seed, "seed", minimum=0)
    if len(slopes) != len(cohorts):
        raise EconError(f"slopes has {len(slopes)} values for {len(cohorts)} cohorts")
    if not 0 <= never_share < 1:
        raise EconError(f"never_share must be in [0, 1), got {never_share}")
    n_never = max(2, int(round(never_share * n_units)))
    per = np.array_split(np.arange(n_units - n_never), len(cohorts))
    g = np.zeros(n_units, dtype=np.int64)
    for c, idx in zip(cohorts, per):
        g[n_never + idx] = c
    units = pd.DataFrame({"unit": np.arange(1, n_units + 1), "cohort": g})
    params = DesignParams(peak_effect={int(c): float(s) for c, s in zip(cohorts, slopes)}, shape="linear",
                          ramp_years=1, spillover=0.0, selection=0.0, sigma=sigma, mediator_effects={})
    return draw_panel(units, years, unit="unit", params=params, seed=seed)
