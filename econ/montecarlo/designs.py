"""Designs: how one simulated panel is drawn, alone or as a grid of parameter values.

A :class:`Design` is a draw function plus the keyword arguments it is called with; every replication calls
``design.sample(seed)`` with a seed derived from the study's root seed (see :func:`replication_seeds`), so the
panel of replication ``r`` of design ``d`` is the same whatever runs it.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from econ._validate import check_int, check_seed
from econ.errors import SpecificationError

__all__ = ["Design", "design", "grid", "staggered", "replication_seeds"]


@dataclass(frozen=True)
class Design:
    """A simulated design: ``draw(**params, seed=...)`` returns one panel and its truth.

    Parameters
    ----------
    draw : callable
        Takes the keyword arguments ``params`` and ``seed`` (an int) and returns an
        :class:`econ.simulate.SimulatedPanel`, a ``(DataFrame, truth dict)`` pair, or a DataFrame (no truth).
    params : dict
        Keyword arguments for ``draw``; shown in the result tables (one column per parameter).
    name : str
        Label of the design in tables and plots; by default ``"key=value, ..."`` of ``params``.

    Examples
    --------
    >>> from econ.montecarlo import design, staggered
    >>> d = design(staggered, n_units=30, n_years=8, effect=0.0)
    >>> panel, truth = d.sample(seed=1)
    >>> panel.shape[0], truth["att_overall"]
    (240, 0.0)
    """

    draw: Callable
    params: Mapping = field(default_factory=dict)
    name: str = ""

    def __post_init__(self):
        if not callable(self.draw):
            raise SpecificationError(f"a design needs a callable draw function, got {self.draw!r}")
        if not self.name:
            object.__setattr__(self, "name", _label(self.params) or getattr(self.draw, "__name__", "design"))

    def sample(self, seed: int) -> tuple[pd.DataFrame, dict]:
        """Draw one panel with ``seed``; returns ``(data, truth)`` (truth ``{}`` when the draw gives none)."""
        out = self.draw(**dict(self.params), seed=int(seed))
        if hasattr(out, "data") and hasattr(out, "truth"):
            return out.data, dict(out.truth)
        if isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], pd.DataFrame):
            return out[0], dict(out[1] or {})
        if isinstance(out, pd.DataFrame):
            return out, {}
        raise SpecificationError(
            f"design {self.name!r}: the draw function returned {type(out).__name__}; return a SimulatedPanel, "
            "a (DataFrame, truth dict) pair or a DataFrame")


def design(draw: Callable, *, name: str = "", **params) -> Design:
    """One :class:`Design`: ``draw`` called with ``params`` (and ``seed``) in every replication.

    Parameters
    ----------
    draw : callable
        ``draw(seed=..., **params)`` returning a panel (e.g. :func:`staggered`).
    name : str, optional
        Label of the design; default built from ``params``.
    **params
        Fixed keyword arguments of ``draw``.

    Returns
    -------
    Design

    Raises
    ------
    SpecificationError
        ``draw`` does not accept one of ``params``.

    Examples
    --------
    >>> from econ.montecarlo import design, staggered
    >>> d = design(staggered, n_units=10)
    >>> d.name, d.params
    ('n_units=10', {'n_units': 10})
    """
    _check_accepts(draw, params)
    return Design(draw, dict(params), name)


def grid(draw: Callable, **params) -> list[Design]:
    """Every combination of the listed parameter values, as designs.

    A parameter given as a list or tuple varies over its values; any other value is held fixed. The designs come
    in ``itertools.product`` order of the varying parameters (the last one varies fastest).

    Parameters
    ----------
    draw : callable
        ``draw(seed=..., **params)`` returning a panel.
    **params
        Keyword arguments of ``draw``: a list or tuple varies, anything else is fixed.

    Returns
    -------
    list of Design

    Raises
    ------
    SpecificationError
        A parameter with an empty list of values, or one ``draw`` does not accept.

    Examples
    --------
    >>> from econ.montecarlo import grid, staggered
    >>> [d.name for d in grid(staggered, n_units=[40, 80], effect=[0.0, 0.05], n_years=8)]
    ['n_units=40, effect=0.0', 'n_units=40, effect=0.05', 'n_units=80, effect=0.0', 'n_units=80, effect=0.05']
    """
    varying = {k: list(v) for k, v in params.items() if isinstance(v, (list, tuple))}
    fixed = {k: v for k, v in params.items() if k not in varying}
    empty = [k for k, v in varying.items() if not v]
    if empty:
        raise SpecificationError(f"grid: no values given for {empty}")
    _check_accepts(draw, params)
    out = []
    for combo in itertools.product(*varying.values()):
        chosen = dict(zip(varying, combo))
        out.append(Design(draw, {**chosen, **fixed}, _label(chosen) or _label(fixed)))
    return out


def staggered(n_units: int = 60, n_years: int = 10, *, first_year: int = 2010, n_cohorts: int = 3,
              never_share: float = 0.5, effect: float = 0.03, shape: str = "ramp", ramp_years: int = 3,
              rho: float = 0.5, sigma: float = 0.02, seed: int = 0):
    """A small staggered-adoption design on ``econ.simulate.draw_panel`` (no spillover), for studies and teaching.

    ``n_units`` units observed for ``n_years`` years from ``first_year``; a share ``never_share`` is never treated
    and the rest is split evenly over ``n_cohorts`` cohorts adopting in consecutive years from ``first_year + 4``
    (2014, 2015, 2016 by default, the Broadband China waves). Every cohort's peak effect on log rural income is
    ``effect`` (the effect on the outcome ``log_income_ratio`` is ``-(1 - urban_share) * effect`` along ``shape``);
    ``rho`` and ``sigma`` are the AR(1) persistence and innovation s.d. of the errors.

    Parameters
    ----------
    n_units, n_years : int
        Panel size.
    first_year : int, default 2010
        First observed year.
    n_cohorts : int, default 3
        Number of adoption cohorts.
    never_share : float, default 0.5
        Share of never-treated units.
    effect : float, default 0.03
        Peak effect of every cohort on log rural income.
    shape : {"ramp", "constant", "linear"}
        Effect path (see :func:`econ.simulate.effect_shape`); ``ramp_years`` its length.
    rho, sigma : float
        AR(1) persistence and innovation s.d. of the errors.
    seed : int, default 0
        Seed of the draw.

    Returns
    -------
    econ.simulate.SimulatedPanel
        Columns ``unit``, ``year``, ``cohort``, ``treated``, ``log_income_ratio``, ...; ``truth["att_overall"]`` is
        the mean true effect over treated unit-years.

    Raises
    ------
    SpecificationError
        ``n_units``/``n_years`` not an integer >= 2, ``n_cohorts`` not a positive integer, ``never_share``
        outside [0, 1), cohorts that do not fit in the observed years, a bad ``seed``.
    EconError
        An unknown ``shape`` (raised by :mod:`econ.simulate`).

    Examples
    --------
    >>> from econ.montecarlo import staggered
    >>> sim = staggered(n_units=20, n_years=8, effect=0.05, seed=3)
    >>> sorted(sim.data["cohort"].unique().tolist())
    [0, 2014, 2015, 2016]
    """
    from econ.simulate import DesignParams, draw_panel

    n_units = check_int(n_units, "n_units", minimum=2)
    n_years = check_int(n_years, "n_years", minimum=2)
    n_cohorts = check_int(n_cohorts, "n_cohorts", minimum=1)
    if not 0 <= never_share < 1:
        raise SpecificationError(f"never_share must be in [0, 1), got {never_share!r}")
    cohorts = [first_year + 4 + k for k in range(n_cohorts)]
    if cohorts[-1] > first_year + n_years - 1:
        raise SpecificationError(f"{n_cohorts} cohort(s) from {cohorts[0]} do not fit in {n_years} years from "
                                 f"{first_year}; use more years or fewer cohorts")
    n_never = int(round(never_share * n_units))
    per, extra = divmod(n_units - n_never, n_cohorts)
    assigned = [c for k, c in enumerate(cohorts) for _ in range(per + (k < extra))]
    units = pd.DataFrame({"unit": np.arange(1, n_units + 1), "cohort": assigned + [0] * n_never})
    params = DesignParams(peak_effect={c: float(effect) for c in cohorts}, shape=shape, ramp_years=ramp_years,
                          spillover=0.0, rho=rho, sigma=sigma)
    return draw_panel(units, range(first_year, first_year + n_years), unit="unit", params=params,
                      seed=check_seed(seed))


def replication_seeds(seed, design_index: int, rep: int) -> tuple[int, int]:
    """Seeds of replication ``rep`` of design ``design_index``: (for drawing the panel, for the estimators).

    Both come from ``numpy.random.SeedSequence(seed, spawn_key=(design_index, rep, k))``, the key a
    ``SeedSequence(seed).spawn`` tree would give, so they depend on nothing but the root seed and the position:
    not on the backend, the number of workers, the batch size, or how many replications are run.

    Parameters
    ----------
    seed : int
        Root seed of the study (non-negative).
    design_index, rep : int
        Position of the design in the study and of the replication.

    Returns
    -------
    tuple of int
        ``(panel_seed, estimator_seed)``.

    Raises
    ------
    SpecificationError
        ``seed`` not a non-negative integer (a SeedSequence or Generator is refused too: the seeds must be
        reproducible from a number).

    Examples
    --------
    >>> from econ.montecarlo import replication_seeds
    >>> replication_seeds(0, 0, 0) == replication_seeds(0, 0, 0) != replication_seeds(0, 0, 1)
    True
    """
    root = check_seed(seed)
    if not isinstance(root, int):
        raise SpecificationError("a Monte Carlo study needs an integer root seed (for identical results across "
                                 f"backends), got {type(seed).__name__}")
    return tuple(int(np.random.SeedSequence(root, spawn_key=(design_index, rep, k)).generate_state(1, np.uint64)[0])
                 for k in (0, 1))


def _label(params: Mapping) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _check_accepts(draw: Callable, params: Mapping) -> None:
    if not callable(draw):
        raise SpecificationError(f"the design's draw function must be callable, got {draw!r}")
    try:
        sig = inspect.signature(draw)
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    unknown = [k for k in [*params, "seed"] if k not in sig.parameters]
    if unknown:
        raise SpecificationError(f"{getattr(draw, '__name__', 'the draw function')} does not take {unknown}; "
                                 f"it takes {list(sig.parameters)}")
