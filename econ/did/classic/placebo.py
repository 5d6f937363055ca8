"""Randomization-inference (placebo) tests for the two-way fixed-effects DiD estimate.

The statistic is the TWFE coefficient on an absorbing dummy ``D_it = 1[t >= cohort_i]`` in

    y_it = beta * D_it + X_it' gamma + alpha_i + lambda_t + e_it,

the same regression :func:`econ.did.twfe` runs. Placebo assignments of cohorts to units are drawn, the statistic is
recomputed for every draw, and the actual estimate is compared with that distribution.

How the draws are computed (the point of this module)
------------------------------------------------------
Refitting the regression per draw repeats the expensive part -- absorbing the fixed effects -- ``n_draws`` times. By the
Frisch-Waugh-Lovell theorem, with ``M`` the (symmetric, idempotent) fixed-effects annihilator, ``y~ = M y``,
``X~ = M X`` and ``e = y~ - X~ (X~'X~)^{-1} X~'y~`` (outcome residualised on the demeaned controls, computed once):

    beta_b = D_b' e / (D_b' M D_b - (X~'D_b)' (X~'X~)^{-1} (X~'D_b)),

because ``(M D)' v = D' v`` for any ``v`` already in the range of ``M``. So the numerator and the cross-products
with the controls need no demeaning at all: ``D_b`` switches on at the unit's assigned cohort, so ``D_b' e`` is a sum
over units of ``Q[i, c] = sum over unit i's rows with t >= c of e_it`` -- an (units x cohorts) table built once and
*gathered* for all draws at once. Only ``D_b' M D_b`` depends on demeaning the draw:

* balanced panel with unit and time effects: closed form, the two-way ANOVA identity
  ``||M D||^2 = ||D||^2 - T sum_i Dbar_i^2 - N sum_t Dbar_t^2 + N T Dbar^2``;
* otherwise (unbalanced panel or other fixed effects): the draws are
  materialised as an (n_obs x chunk) matrix and demeaned together with one
  :class:`econ.panel.demean.Absorber`, chunk by chunk (a tqdm bar tracks the chunks).

Either way the estimates equal a loop of :func:`econ.feols` fits on the same assignments (the test suite checks
this to 1e-10 on a balanced panel).

Kinds of placebo
----------------
``permute_units``
    Reassign which units receive which real cohort: a uniform random permutation of the per-unit cohort vector
    (never-treated units included), so each placebo keeps the real cohort sizes exactly (e.g. 39 cities per cohort
    in Broadband China) and the real number of never-treated units.
``permute_cohorts``
    Keep the real treated set and shuffle the cohort years among the treated units (tests the timing, holding fixed
    who is treated). Needs at least two distinct cohorts.
``fake_timing``
    Pretend treatment happened ``shift`` periods earlier than it did, on the *common pre-treatment window*: the
    sample keeps the rows ``t < g_min`` of every unit, ``g_min`` the earliest real cohort, and the fake cohort of a
    treated unit is ``cohort_i - shift`` (``shift`` in the units of ``time``). A cohort whose fake date is at or
    after ``g_min`` is untreated throughout the window and serves as a comparison (a note names it). The reported
    estimate is the fake-timing TWFE coefficient on that window; its reference distribution permutes the fake
    cohorts across all units (as in ``permute_units``) on the same window.

    Null hypothesis and validity. No row of the window is treated, under the real assignment or under any
    permutation of it (``g_min`` is the same for every permutation), so the sample does not depend on which unit
    got which cohort and every draw follows exactly the procedure of the actual statistic. The test is therefore
    exact (its size is at most the nominal level in finite samples, Phipson and Smyth 2010) under random assignment
    of the cohorts to units for the sharp null that outcomes before ``g_min`` do not depend on the assignment: no
    anticipation and no differential pre-trend by cohort. Real post-treatment effects, of any size and timing, never
    enter. What it cannot see: the pre-treatment years ``g_min <= t < cohort_i`` of later cohorts (e.g. spillovers
    from earlier cohorts in those years).

    Two tempting alternatives are not valid for this null. (a) The per-unit pre-period sample (never-treated units
    keep every row, treated units ``t < cohort_i``; the sample of Stata's ``didplacebo`` in-time test, which judges
    the fake estimate by its conventional standard error) with draws permuting the fake cohorts on that fixed
    sample: which rows a unit has depends on its *real* cohort (a never-treated unit that draws a fake cohort
    brings its whole series, a treated unit only its pre-period), so units are not exchangeable and the draws are
    not distributed like the actual estimate, and its size depends on the error process. Monte Carlo at 5%
    (199 or 99 draws): on the Broadband China demo design without pre-trends 5.7% +- 0.6% (1,500 seeds; the
    window test 5.1% +- 0.6%), but on small panels with i.i.d. errors 11% +- 2% and, with a long post-period, 30%
    (the test suite), and with persistent errors (AR(1), rho = 0.9) or unit-specific trends about 1% (the window
    test: 4-7% in each). (b) Restricting each draw's sample to ``t <`` its *own* assigned cohort puts real treated
    units' post-treatment rows (carrying the real effect) into the draws, so it tests the sharp null of no effect at
    all, not the pre-trend null: on the demo design with ten times its effects the draws' s.d. doubles (0.0068
    against 0.0033 without effects), a conservative test with little power.

p-values
--------
With ``B`` draws ``b_1..b_B`` and the actual estimate ``a`` (ties counted with a relative tolerance of 1e-10 so
floating-point noise cannot break an exact tie):

* two-sided ``p = (1 + #{|b_j| >= |a|}) / (1 + B)``;
* one-sided ``p_greater = (1 + #{b_j >= a}) / (1 + B)`` and ``p_less = (1 + #{b_j <= a}) / (1 + B)``.

A draw in which the placebo dummy has no variation left after the fixed effects (possible only in tiny designs)
is NaN and is left out of ``B``.

Counting the actual assignment as one of the draws (the ``1 +``) makes the test exact-valid under the sharp null
for random draws (Phipson & Smyth 2010) and never reports ``p = 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from econ._progress import tqdm
from econ._tidy import SummaryRepr, standard_columns

from econ.did import _design
from econ.did.design import build_design
from econ._parallel import block_rng, block_sizes, map_blocks, root_entropy
from econ._validate import check_bool, check_choice, check_int, check_n_draws, check_seed
from econ.errors import SpecificationError, TreatmentError
from econ.panel.collinear import collinear_columns

__all__ = ["placebo", "PlaceboResult", "KINDS"]

KINDS = ("permute_units", "permute_cohorts", "fake_timing")
_TIE_RTOL = 1e-10
_CHUNK_ELEMENTS = 2**22  # ~32 MB of float64 per materialised chunk of draws


@dataclass(repr=False)
class PlaceboResult(SummaryRepr):
    """Randomization distribution of the TWFE DiD estimate (returned by :func:`placebo`).

    Attributes
    ----------
    estimate : float
        The actual TWFE estimate (for ``fake_timing``: the fake-timing estimate on the common pre-treatment window).
    draws : ndarray (B,)
        The estimate under each placebo assignment (NaN for a draw without identifying variation).
    assignments : ndarray (B, n_units)
        The placebo cohort of every unit in every draw (NaN = never treated); columns follow ``units``. The
        placebo dummy of draw ``b`` is ``1[t >= assignments[b, i]]``.
    units : Index
        Unit ids in the column order of ``assignments``.
    pvalue, pvalue_greater, pvalue_less : float
        Permutation p-values (formulas in :func:`placebo`) over the finite draws, whose number ``B`` is the
        property ``n_draws`` (``n`` is the same number).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from econ.did import PlaceboResult
    >>> res = PlaceboResult(estimate=2.0, draws=np.array([-3.0, -1.0, 0.0, 1.0, np.nan]),
    ...                     assignments=np.zeros((5, 1)), units=pd.Index([0]), kind="permute_units", seed=0,
    ...                     depvar="y", nobs=10)
    >>> res.n_draws, res.pvalue
    (4, 0.4)
    """

    estimate: float
    draws: np.ndarray
    assignments: np.ndarray
    units: pd.Index
    kind: str
    seed: object
    depvar: str
    nobs: int
    shift: int | None = None
    notes: list[str] = field(default_factory=list)
    n_units: int | None = None

    def __post_init__(self):
        self.draws = np.asarray(self.draws, dtype=float)
        if not np.isfinite(self.estimate):
            raise TreatmentError("PlaceboResult: the actual estimate is not finite")
        if not np.isfinite(self.draws).any():
            raise TreatmentError("PlaceboResult: no finite placebo draw; the randomization distribution is not "
                                 "defined")

    @property
    def n_draws(self) -> int:
        """Number of finite draws, the ``B`` of the p-values (draws without identifying variation are NaN and not
        counted)."""
        return int(np.isfinite(self.draws).sum())

    @property
    def n(self) -> int:
        """Same as :attr:`n_draws` (legacy name)."""
        return self.n_draws

    @property
    def pvalue(self) -> float:
        """Two-sided permutation p-value ``(1 + #{|b_j| >= |estimate|}) / (1 + B)`` over the ``B = n_draws``
        finite draws (the actual assignment counted as one draw; ties within a relative 1e-10 count)."""
        return _pvalues(self.estimate, self.draws)[0]

    @property
    def pvalue_greater(self) -> float:
        """One-sided permutation p-value against a positive effect: ``(1 + #{b_j >= estimate}) / (1 + B)``."""
        return _pvalues(self.estimate, self.draws)[1]

    @property
    def pvalue_less(self) -> float:
        """One-sided permutation p-value against a negative effect: ``(1 + #{b_j <= estimate}) / (1 + B)``."""
        return _pvalues(self.estimate, self.draws)[2]

    def tidy(self) -> pd.DataFrame:
        """One row: term, the estimate, the draws' mean, sd and 2.5/97.5% quantiles, the three p-values and the
        number of finite draws."""
        two, greater, less = _pvalues(self.estimate, self.draws)
        finite = self.draws[np.isfinite(self.draws)]
        lo, hi = np.quantile(finite, [0.025, 0.975])
        return pd.DataFrame(
            {
                "term": ["placebo_" + self.kind],
                "estimate": [self.estimate],
                "draws_mean": [finite.mean()],
                "draws_sd": [finite.std(ddof=1) if len(finite) > 1 else np.nan],
                "draws_q025": [lo],
                "draws_q975": [hi],
                "p_value": [two],
                "p_value_greater": [greater],
                "p_value_less": [less],
                "n_draws": [len(finite)],
            }
        ).pipe(standard_columns)  # no standard error or interval: randomisation inference (draws_* columns)

    def summary(self) -> str:
        """The placebo kind (and shift), outcome, observations, number of finite draws and seed; the estimate;
        the draws' mean, s.d. and 2.5-97.5% range; the two-sided and both one-sided p-values; the notes."""
        t = self.tidy().iloc[0]
        lines = [
            f"Randomization inference ({self.kind}{'' if self.shift is None else f', shift={self.shift}'}) "
            f"for the TWFE DiD estimate on {self.depvar!r}",
            f"  observations: {self.nobs}   draws: {self.n_draws}   seed: {self.seed}",
            f"  estimate: {t.estimate:.6g}",
            f"  placebo draws: mean {t.draws_mean:.4g}, sd {t.draws_sd:.4g}, "
            f"95% range [{t.draws_q025:.4g}, {t.draws_q975:.4g}]",
            f"  p-value two-sided (1+#|b|>=|est|)/(1+n): {t.p_value:.4f}",
            f"  p-value one-sided: greater {t.p_value_greater:.4f}, less {t.p_value_less:.4f}",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, path=None, **kwargs):
        """Histogram and kernel density of the draws with the actual estimate marked; returns ``(fig, ax)`` and
        saves to ``path`` when given. Options as :func:`econ.did.plot_placebo`."""
        from econ.did.plots import plot_placebo

        return plot_placebo(self, ax=ax, path=path, **kwargs)


def _pvalues(estimate: float, draws: np.ndarray) -> tuple[float, float, float]:
    draws = draws[np.isfinite(draws)]  # a draw without identifying variation (NaN) is not a draw
    tol = _TIE_RTOL * max(abs(estimate), 1e-300)
    n = len(draws)
    two = (1 + np.count_nonzero(np.abs(draws) >= abs(estimate) - tol)) / (1 + n)
    greater = (1 + np.count_nonzero(draws >= estimate - tol)) / (1 + n)
    less = (1 + np.count_nonzero(draws <= estimate + tol)) / (1 + n)
    return float(two), float(greater), float(less)


def placebo(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    treat: str | None = None,
    *,
    cohort: str | None = None,
    kind: str = "permute_units",
    n_draws: int | None = None,
    seed=0,
    covariates=None,
    shift: int | None = None,
    progress: bool = True,
    n: int | None = None,
    backend: str = "local",
    client=None,
    weights: str | None = None,
) -> PlaceboResult:
    """Randomization-inference distribution of the TWFE DiD estimate, all draws in one matrix computation.

    The statistic is the TWFE coefficient on ``D_it = 1[t >= cohort_i]`` with unit and time fixed effects (and
    optional covariates), the regression :func:`econ.did.twfe` runs; it is recomputed under ``n_draws`` placebo
    assignments of cohorts to units and the actual estimate is compared with that distribution.

    Kinds of placebo (``kind=``):

    ``"permute_units"`` (default)
        Reassign which units receive which real cohort: a uniform random permutation of the per-unit cohort vector
        (never-treated units included), so every draw keeps the real cohort sizes and the real number of
        never-treated units.
    ``"permute_cohorts"``
        Keep the real treated set and shuffle the cohort years among the treated units (tests the timing, holding
        fixed who is treated). Needs at least two distinct cohorts.
    ``"fake_timing"``
        Pretend treatment happened ``shift`` periods earlier, on the common pre-treatment window: every unit's rows
        ``t < g_min`` (``g_min`` = the earliest cohort), fake cohort ``cohort_i - shift`` (a cohort whose fake date
        is ``>= g_min`` stays untreated in the window). The reported estimate is that fake-timing TWFE coefficient;
        its reference distribution permutes the fake cohorts across all units on the same window. The window is the
        same for every unit and every permutation, so the test is exact under random assignment for the null of
        no anticipation and no differential pre-trends (real post-treatment effects never enter). The per-unit
        pre-period sample (treated units ``t < cohort_i``, never-treated units every row) is NOT used: it makes
        units non-exchangeable and the test over- or under-reject (module docstring, "Kinds of placebo").

    p-values (ties counted with a relative tolerance of 1e-10): two-sided ``(1 + #{|b_j| >= |a|}) / (1 + B)``,
    one-sided ``(1 + #{b_j >= a}) / (1 + B)`` and ``(1 + #{b_j <= a}) / (1 + B)`` for the actual estimate ``a``
    and the ``B`` draws (Phipson and Smyth 2010: the actual assignment counts as a draw, so p is never 0). A draw
    whose placebo dummy has no variation left after the fixed effects is NaN, left out of ``B`` and counted in a
    note.

    Parameters
    ----------
    data : DataFrame
        Long panel (not modified).
    y, unit, time : str
        Outcome, unit id and integer time columns. Fixed effects are unit and time.
    treat : str, optional
        Absorbing binary treatment column; the cohort of each unit is its first treated period.
    cohort : str, optional (keyword)
        Alternatively, the first-treatment period of each unit (0, NaN or ``<NA>`` = never treated). Give exactly
        one of ``treat`` and ``cohort``.
    kind : {"permute_units", "permute_cohorts", "fake_timing"}
        Which placebo assignments to draw (see above).
    n_draws : int or None, default None
        Number of placebo draws; None (the default) means 1000. ``n=`` is accepted as a legacy alias.
    seed : int or None
        Non-negative seed; the default 0 makes repeated calls identical (pass another integer for an independent
        set of draws, ``None`` for fresh entropy). Draws come in blocks of 4,096, block ``k`` drawn by
        ``numpy.random.default_rng`` from the ``k``-th child of ``SeedSequence(seed).spawn``.
    covariates : list of str, optional
        Time-varying controls, partialled out once (FWL). Covariates absorbed by the fixed effects are dropped
        with a note.
    shift : int
        Only for ``fake_timing``: how many periods (units of ``time``) earlier the fake treatment starts (required,
        >= 1, and small enough that the earliest cohort keeps a fake-pre period: ``shift <= g_min - t_first - 1``
        with ``t_first`` the first period of the data).
    progress : bool
        Show a tqdm bar over blocks of draws.
    backend : {"local", "dask"}
        Compute the blocks of draws in this process, or on ``dask.distributed`` workers (``client``, or a
        temporary ``LocalCluster``): the draws and the p-values are identical either way for the same seed.
    client : dask.distributed.Client or str, optional
        With ``backend="dask"``: the client (or scheduler address) to use.
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). The statistic (actual and every draw) is then the weighted TWFE
        coefficient, as :func:`econ.did.twfe` with ``weights``; rows with weight zero are dropped with a note.
        ``None``: equal weights.

    Returns
    -------
    PlaceboResult
        ``estimate``, ``draws``, ``assignments``, ``pvalue`` (two-sided), ``pvalue_greater``, ``pvalue_less``,
        ``n_draws`` (finite draws), ``tidy()``, ``summary()``, ``plot()``.

    Raises
    ------
    TreatmentError
        Non-absorbing or continuous treatment, cohort cells that are not periods, no comparison group, or a design
        in which no treated unit is observed before and after treatment (the TWFE estimate is not identified).
    SpecificationError
        Unknown columns or kinds, ``n_draws`` < 1, a negative seed, ``shift`` without ``kind="fake_timing"``,
        ``fake_timing`` without ``shift``, a ``shift`` below 1, or one that leaves the earliest cohort no fake-pre
        period in the pre-treatment window.
    WeightsError
        Missing, negative, infinite or non-numeric weights (naming the rows).

    Notes
    -----
    The draws are computed without refitting: by Frisch-Waugh-Lovell, with ``M`` the fixed-effects annihilator and
    ``e`` the outcome residualised on the demeaned controls, ``beta_b = D_b' e / (D_b' M D_b - ...)``; the
    numerator is gathered from a (units x cohorts) table of tail sums of ``e`` (module docstring). Draws equal a
    loop of TWFE refits to rounding error.

    References
    ----------
    Fisher (1935); Phipson and Smyth (2010), Statistical Applications in Genetics and Molecular Biology 9(1).

    Examples
    --------
    >>> import econ
    >>> demo = econ.datasets.load("china_cities_demo")
    >>> pl = econ.did.placebo(demo, "log_income_ratio", "prefecture_code", "year", cohort="cohort", n_draws=99,
    ...                       seed=1, progress=False)
    >>> pl.n_draws, round(pl.pvalue, 2)
    (99, 0.01)
    """
    _design.check_data(data)
    kind = check_choice(kind, "kind", KINDS)
    check_choice(backend, "backend", ("local", "dask"))
    if client is not None and backend != "dask":
        raise SpecificationError("client= is only used with backend='dask'")
    y = _design.check_name(y, "y")
    treat = _design.check_name(treat, "treat", optional=True)
    cohort = _design.check_name(cohort, "cohort", optional=True)
    if (treat is None) == (cohort is None):
        raise SpecificationError("give exactly one of treat= (absorbing 0/1 column) and cohort= (first treated period)")
    n_draws = 1000 if n_draws is None and n is None else check_n_draws(n_draws, minimum=1, aliases={"n": n})
    seed = check_seed(seed)
    progress = check_bool(progress, "progress")
    covariates = _design.check_names(covariates, "covariates")
    if kind != "fake_timing" and shift is not None:
        raise SpecificationError("shift= is only used with kind='fake_timing'")
    design = build_design(data, y, unit, time, cohort, treat=treat, covariates=covariates, weights=weights)
    frame, cohorts = design.frame, design.cohorts
    _design.check_identified(frame, unit, time, cohorts, "TWFE estimate")
    covariates, absorbed = _design.drop_absorbed(frame, covariates, [unit, time])
    notes = list(design.notes) + absorbed

    real = cohorts.to_numpy()
    if kind == "fake_timing":
        frame, real, notes_ft = _fake_timing_sample(frame, unit, time, cohorts, shift)
        notes += notes_ft

    if weights is not None and (frame[weights].to_numpy(dtype=float) == 0).any():
        zero = frame[weights].to_numpy(dtype=float) == 0
        frame = frame.loc[~zero].reset_index(drop=True)
        notes.append(f"{int(zero.sum())} observation(s) with zero weight dropped")
    core = _Core(frame, y, unit, time, covariates, cohorts.index, weights)
    notes += core.notes
    estimate = float(core.estimates(real[None, :])[0])
    if not np.isfinite(estimate):
        raise TreatmentError("the actual TWFE estimate is not identified: the treatment dummy has no variation left "
                             "after the unit and time effects")
    if kind == "permute_cohorts":
        _draw(np.random.default_rng(0), real, kind, 1)  # refuses a single treated cohort before any work
    entropy, n_blocks = root_entropy(seed), len(block_sizes(n_draws))
    if backend == "local":
        blocks = [_block_draws(k, core, real, kind, entropy, n_draws)
                  for k in tqdm(range(n_blocks), desc="placebo draws", unit="block", leave=False,
                                disable=not progress or n_blocks == 1)]
    else:
        blocks = map_blocks(_block_draws, n_blocks, core, real, kind, entropy, n_draws, backend=backend,
                            client=client)
    assignments = np.concatenate([a for a, _ in blocks])
    draws = np.concatenate([d for _, d in blocks])
    lost = int(np.isnan(draws).sum())
    if lost == len(draws):
        raise TreatmentError(f"none of the {len(draws)} placebo assignments leaves the placebo dummy any variation "
                             "after the unit and time effects: the randomization distribution is not defined")
    if lost:
        notes.append(f"{lost} of {len(draws)} placebo draw(s) have no identifying variation (NaN): left out of the "
                     "p-values and of n_draws")
    public = np.where(assignments == _design.NEVER, np.nan, assignments.astype(float))
    return PlaceboResult(
        estimate=estimate,
        draws=draws,
        assignments=public,
        units=cohorts.index,
        kind=kind,
        seed=seed,
        depvar=y,
        nobs=len(frame),
        shift=shift if kind == "fake_timing" else None,
        notes=notes,
        n_units=len(cohorts),
    )


def _block_draws(k: int, core, real: np.ndarray, kind: str, entropy: int, n_draws: int):
    """Assignments and estimates of block ``k`` of the draws, from the block's own seed stream."""
    assignments = _draw(block_rng(entropy, k), real, kind, block_sizes(n_draws)[k])
    return assignments, core.estimates(assignments)


def _draw(rng: np.random.Generator, real: np.ndarray, kind: str, n: int) -> np.ndarray:
    """(n, n_units) placebo cohorts; every row is a permutation of ``real`` (so cohort sizes are kept)."""
    if kind in ("permute_units", "fake_timing"):
        return rng.permuted(np.tile(real, (n, 1)), axis=1)
    treated = np.flatnonzero(real != _design.NEVER)
    if np.unique(real[treated]).size < 2:
        raise TreatmentError(
            "permute_cohorts shuffles cohort years among treated units, but all treated units share one cohort "
            f"({int(real[treated][0])}); use kind='permute_units'"
        )
    out = np.tile(real, (n, 1))
    out[:, treated] = rng.permuted(out[:, treated], axis=1)
    return out


def _fake_timing_sample(frame, unit, time, cohorts, shift):
    """Common pre-treatment window ``t < min(cohort)`` and the fake cohorts ``cohort - shift`` (module docstring).

    The window is the same for every unit and for every permutation of the cohorts (the earliest cohort is a
    function of the multiset of cohorts only), so the sample does not depend on which unit got which cohort.
    """
    if shift is None:
        raise SpecificationError("kind='fake_timing' needs shift= a positive integer number of periods")
    shift = check_int(shift, "shift", minimum=1)
    real = cohorts.to_numpy().copy()
    treated = real != _design.NEVER
    first_cohort = int(real[treated].min())
    t = frame[time].to_numpy()
    sample = frame.loc[t < first_cohort].reset_index(drop=True)
    window = np.sort(sample[time].unique())
    fake_first = first_cohort - shift
    if not len(window) or window[0] >= fake_first:
        have = f"{time} {window[0]}..{window[-1]}" if len(window) else "no observation"
        limit = f"shift must be at most {first_cohort - window[0] - 1}" if len(window) > 1 else "no shift fits"
        raise SpecificationError(
            f"shift={shift} is larger than the pre-treatment period: fake_timing keeps the periods before the earliest "
            f"cohort {first_cohort} ({have}), so the fake cohort {fake_first} leaves no fake-pre period; {limit}"
        )
    real[treated] = real[treated] - shift
    inside = treated & (real <= window[-1])  # fake cohorts at or after the window end leave the unit untreated
    notes = [
        f"fake_timing: sample restricted to the common pre-treatment window {time} < {first_cohort} (the earliest "
        f"cohort; {len(sample)} observations, the same rows for every unit whatever its cohort); fake cohort = "
        f"cohort - {shift}"
    ]
    late = np.unique(cohorts.to_numpy()[treated & ~inside])
    if len(late):
        notes.append(f"fake_timing: cohort(s) {late.tolist()} have their fake date (cohort - {shift}) after the "
                     f"window's last period {window[-1]}: their units are untreated throughout the window (controls)")
    lost = int(len(cohorts) - sample[unit].nunique())  # units without a row in the window
    if lost:
        notes.append(f"fake_timing: {lost} unit(s) have no observation before {first_cohort} and drop out")
    return sample, real, notes


class _Core:
    """Demean once, then evaluate the TWFE coefficient for many cohort assignments (see module docstring)."""

    def __init__(self, frame, y, unit, time, covariates, units, weights=None):
        from econ.panel.demean import Absorber

        w = None if weights is None else frame[weights].to_numpy(dtype=float)
        self.w = np.ones(len(frame)) if w is None else w

        self.notes: list[str] = []
        uid = pd.Index(units)
        self.u = uid.get_indexer(frame[unit])  # unit position of each row (-1 cannot occur: units from frame)
        times = np.sort(frame[time].unique())
        self.t = frame[time].to_numpy()
        self.tpos = np.searchsorted(times, self.t)
        self.times = times
        self.n_units = len(uid)
        fe = np.column_stack([self.u, self.tpos])
        self.absorber = Absorber(fe, weights=w)  # weighted least squares with weights (FWL: D'W e / D'W M D)
        ytil = self.absorber.demean(_design.numeric(frame, y))
        xtil = self._controls(frame, covariates)
        if xtil.shape[1]:
            self.xtx_inv = np.linalg.inv(xtil.T @ (self.w[:, None] * xtil))
            e = ytil - xtil @ (self.xtx_inv @ (xtil.T @ (self.w * ytil)))
        else:
            self.xtx_inv = np.zeros((0, 0))
            e = ytil
        # every unit observed in every period (units without rows, possible in fake_timing, make it unbalanced)
        self.balanced = w is None and bool((np.bincount(self.u, minlength=self.n_units) == len(times)).all())
        # Q[i, j] = sum over unit i's rows with t >= times[j] of v, for v = e and every column of X~:
        # a reverse cumulative sum over the time grid.
        self.q_e = self._tail_sums(self.w * e)
        self.q_x = [self._tail_sums(self.w * xtil[:, k]) for k in range(xtil.shape[1])]
        self.nobs = len(frame)

    def _controls(self, frame, covariates) -> np.ndarray:
        if not covariates:
            return np.zeros((len(frame), 0))
        x = np.column_stack([_design.numeric(frame, c) for c in covariates])
        xtil = self.absorber.demean(x)
        absorbed_mask, keep = collinear_columns(xtil, x)  # econ's one rule, as feols
        absorbed = [c for c, a in zip(covariates, absorbed_mask) if a]
        if absorbed:
            raise SpecificationError(
                f"covariate(s) {absorbed} have no within variation: they are absorbed by the unit and time effects"
            )
        dropped = [c for c, k in zip(covariates, keep) if not k]
        if dropped:
            self.notes.append(f"covariate(s) {dropped} collinear with the other covariates: dropped")
        return xtil[:, keep]

    def _tail_sums(self, v: np.ndarray) -> np.ndarray:
        grid = np.zeros((self.n_units, len(self.times) + 1))
        np.add.at(grid, (self.u, self.tpos), v)
        return np.cumsum(grid[:, ::-1], axis=1)[:, ::-1]  # column j: sum over t >= times[j]; last column 0

    def _cohort_pos(self, assign: np.ndarray) -> np.ndarray:
        """Column of the tail-sum tables for each assigned cohort (never treated / after the sample -> last)."""
        return np.searchsorted(self.times, assign, side="left")  # NEVER sorts after every period

    def estimates(self, assignments: np.ndarray, progress: bool = False) -> np.ndarray:
        n_draws = assignments.shape[0]
        per_chunk = max(1, min(n_draws, _CHUNK_ELEMENTS // max(self.nobs, 1)))
        out = np.empty(n_draws)
        starts = range(0, n_draws, per_chunk)
        bar = tqdm(starts, total=math.ceil(n_draws / per_chunk), desc="placebo draws", unit="chunk",
                   disable=not progress or n_draws == 1, leave=False)
        for s in bar:
            block = assignments[s : s + per_chunk]
            out[s : s + len(block)] = self._block(block)
        return out

    def _block(self, block: np.ndarray) -> np.ndarray:
        pos = self._cohort_pos(block)  # (b, n_units)
        rows = np.arange(self.n_units)
        num = self.q_e[rows, pos].sum(axis=1)
        xd = np.stack([q[rows, pos].sum(axis=1) for q in self.q_x], axis=1) if self.q_x else np.zeros((len(block), 0))
        den = self._dmd_balanced(pos) if self.balanced else self._dmd_general(pos)
        if xd.shape[1]:
            den = den - np.einsum("bk,kl,bl->b", xd, self.xtx_inv, xd)
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = num / den
        # a draw whose dummy is fully absorbed (e.g. every treated unit treated from its first period) has no
        # identifying variation: report NaN rather than noise
        beta[den <= 1e-10 * self.nobs] = np.nan
        return beta

    def _dmd_balanced(self, pos: np.ndarray) -> np.ndarray:
        """D'MD by the balanced two-way ANOVA identity; pos = index of the cohort on the time grid."""
        n_t = len(self.times)
        n_units = self.n_units
        treated_periods = n_t - pos  # periods with t >= cohort (0 for never treated)
        ss = treated_periods.sum(axis=1)
        unit_term = (treated_periods.astype(float) ** 2).sum(axis=1) / n_t
        # number of units treated at each time: cumulative count of cohort positions <= t
        counts = np.zeros((pos.shape[0], n_t + 1))
        np.add.at(counts, (np.repeat(np.arange(pos.shape[0]), n_units), pos.ravel()), 1.0)
        per_t = np.cumsum(counts[:, :n_t], axis=1)
        time_term = (per_t**2).sum(axis=1) / n_units
        grand = ss.astype(float) ** 2 / (n_units * n_t)
        return ss - unit_term - time_term + grand

    def _dmd_general(self, pos: np.ndarray) -> np.ndarray:
        """D'MD by demeaning the draws: an (n_obs x b) matrix through the precomputed Absorber."""
        cohort_time = np.append(self.times, _design.NEVER)[pos]  # (b, n_units); never treated -> NEVER
        d = (self.t[:, None] >= cohort_time[:, self.u].T).astype(float)  # (n_obs, b)
        return np.einsum("nb,nb->b", self.w[:, None] * d, self.absorber.demean(d))
