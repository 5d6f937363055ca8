"""Spatial autocorrelation: global Moran's I, Geary's C and join counts, local Moran (LISA), with vectorised
permutation inference.

Every statistic takes a variable measured on the units of a :class:`~econ.spatial.Weights` object: a pandas Series
indexed by unit id (aligned to ``W.ids`` here; a unit mismatch raises ``WeightsError``) or an array already in
``W.ids`` order. Missing or infinite values raise ``WeightsError`` naming the units.

Moran's I (Cliff & Ord 1981, p. 17)::

    I = (n / S0) * (z' W z) / (z' z),   z = y - mean(y),   S0 = sum_ij w_ij,

with analytic moments under normality and under randomisation (Cliff & Ord 1981, p. 21; the same
conventions as PySAL's ``esda.Moran``, including ``W`` row-standardised by default, islands kept with a zero row and
two-sided analytic p-values).

Geary's C (Geary 1954; Cliff & Ord 1981, p. 17)::

    C = (n - 1) sum_ij w_ij (y_i - y_j)^2 / (2 S0 sum_i z_i^2),   E[C] = 1,

with the variances under normality and randomisation of ``esda.Geary`` and its one-sided analytic p-values (in the
direction of ``C - 1``; ``C < 1`` is positive autocorrelation).

Join counts for a binary variable (1 = "black", 0 = "white") on *binary* weights (Cliff & Ord 1981)::

    BB = 1/2 sum_ij w_ij y_i y_j,   WW = 1/2 sum_ij w_ij (1-y_i)(1-y_j),   BW = 1/2 sum_ij w_ij (y_i - y_j)^2.

Local Moran as ``esda.Moran_Local`` computes it, with ``z = (y - mean) / sd`` (``sd`` with divisor n)::

    I_i = (n - 1) z_i (W z)_i / sum_j z_j^2,

which is ``(n - 1) / n`` times Anselin's (1995, eq. 12, p. 99) ``I_i = (d_i / m2) sum_j w_ij d_j`` (deviations
``d = y - mean``, ``m2 = sum_j d_j^2 / n``). The analytic moments are esda's: under total randomisation (Sokal,
Oden & Thomson 1998, eqs. A3-A4*, ``EI``/``VI``) and under conditional randomisation (eqs. A7-A8, ``EIc``/``VIc``).
They are the moments of Anselin's statistic, applied unchanged to the rescaled one (the moments of the reported
``I_i`` are ``(n - 1) / n`` and ``((n - 1) / n)^2`` times them); the permutation results (``EI_sim``, ``seI_sim``,
``z_sim``, ``p_sim``) are those of the reported ``I_i``. Quadrants 1 = HH (z > 0, lag > 0), 2 = LH, 3 = LL, 4 = HL.

Permutation inference (``n_draws`` random permutations with ``numpy.random.default_rng(seed)``):

* global statistics: the values are shuffled over all units; all shuffles are evaluated at once as one sparse-dense
  product (in chunks to bound memory);
* local Moran: *conditional* randomisation -- for unit ``i`` the value ``z_i`` is held fixed and its neighbours'
  values are drawn without replacement from the other ``n - 1`` units. As in esda, one set of draws (``n_draws`` x
  the largest number of neighbours) is shared by all units and shifted to skip unit ``i``; the draws use numpy's
  generator, so they differ from esda's numba draws for the same seed (statistics and analytic moments agree
  exactly, permutation p-values in distribution).

p-values count the observed statistic as one of the draws: ``p = (1 + #{draws at least as extreme}) / (1 +
n_draws)``, "folded" as esda's ``p_sim`` for Moran, Geary and local Moran (the tail of the draws on the observed
side: ``larger = #{sim >= obs}``, replaced by ``n_draws - larger`` when that is smaller). Join counts:
``p_sim_bb`` = P(BB_perm >= BB) and ``p_sim_bw`` = P(BW_perm <= BW) (fewer unlike joins than chance: clustering;
note that ``esda.Join_Counts`` reports the opposite tail for BW). ``n_draws=0`` gives analytic inference only and
NaN permutation p-values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

from econ._docs import doc
from econ._validate import check_choice, check_seed
from econ.errors import EconError, SpecificationError, WeightsError
from econ.results import KeyedResults, figure, finish_figure
from econ.spatial._permutation import _folded_p, _permuted, _prepare, _quadratic_form
from econ.spatial.lisa import CLUSTER_LABELS, LISA_COLOURS, LocalMoranResult, local_moran  # noqa: F401
from econ.spatial.weights import Weights
from econ._tidy import CrossSectionCounts, SummaryRepr, standard_columns

__all__ = ["moran", "geary", "join_counts", "local_moran", "by_period", "MoranResult", "GearyResult",
           "JoinCountResult", "LocalMoranResult", "PeriodResults", "CLUSTER_LABELS"]

_DOCS = {"province_trend": """\
>>> import numpy as np
>>> from econ import datasets, spatial
>>> W = datasets.load_weights("china_province_contiguity")
>>> y = np.arange(W.n, dtype=float)  # a trend along the province codes"""}




# ----------------------------------------------------------------------------------------------- global results
@dataclass(frozen=True, repr=False)
class _GlobalResult(CrossSectionCounts, SummaryRepr):
    """Shared behaviour of Moran's I and Geary's C results (subclasses name the statistic)."""

    expected: float
    var_norm: float
    var_rand: float
    z_norm: float
    z_rand: float
    p_norm: float
    p_rand: float
    n: int
    transform: str
    n_draws: int
    seed: object
    sim: np.ndarray

    _label = ""
    _stat = ""  # the field holding the statistic

    @property
    def value(self) -> float:
        """The statistic itself (same as ``I`` for Moran, ``C`` for Geary): one name for generic code."""
        return getattr(self, self._stat)

    @property
    def permutations(self) -> int:
        """Alias of ``n_draws`` (esda's name)."""
        return self.n_draws

    @property
    def p_sim(self) -> float:
        """Folded one-sided permutation p-value (direction of the observed statistic); NaN without draws."""
        return float(_folded_p(self.sim, self.value, self.n_draws))

    @property
    def z_sim(self) -> float:
        """``(value - mean(sim)) / sd(sim)``: the statistic standardised by its permutation draws (s.d. with divisor
        ``n_draws``, as esda); NaN without draws or when the draws do not vary."""
        if self.n_draws == 0 or self.sim.std() == 0:
            return float("nan")
        return float((self.value - self.sim.mean()) / self.sim.std())

    def tidy(self) -> pd.DataFrame:
        """One row: statistic, value, expected, z and p under normality and randomisation, permutation moments."""
        sim_mean = self.sim.mean() if self.n_draws else np.nan
        sim_sd = self.sim.std() if self.n_draws else np.nan
        out = pd.DataFrame([{
            "statistic": self._label, "value": self.value, "expected": self.expected, "z_norm": self.z_norm,
            "p_norm": self.p_norm, "z_rand": self.z_rand, "p_rand": self.p_rand, "perm_mean": sim_mean,
            "perm_sd": sim_sd, "p_sim": self.p_sim, "n_draws": self.n_draws, "n": self.n,
        }])
        # protocol columns first: p_value is the permutation p-value with draws, else the randomisation one
        return standard_columns(out, term="statistic", estimate="value",
                                p_value=self.p_sim if self.n_draws else self.p_rand)

    def summary(self) -> str:
        """Three lines: the statistic with its expectation under no autocorrelation, ``n`` and the ``W``
        transform; ``z`` and p-value under randomisation; the permutation p-value ``p_sim`` with the number of
        draws and the seed (or "none" when ``n_draws=0``). The p-value under normality is in :meth:`tidy`."""
        perm = (f"  permutation ({self.n_draws} draws, seed {self.seed}): p_sim = {self.p_sim:.4g}"
                if self.n_draws else "  permutation: none (n_draws=0)")
        return (f"{self._label} = {self.value:.4f} (E = {self.expected:.4f}, n = {self.n}, "
                f"W transform {self.transform!r})\n"
                f"  randomisation: z = {self.z_rand:.3f}, p = {self.p_rand:.4g}\n{perm}")

    def plot(self, ax=None, path=None, *, bins: int = 40):
        """Permutation distribution with the observed and expected values (the randomisation normal density
        without draws). Returns ``(fig, ax)``; ``path`` saves the figure."""
        fig, ax = figure(ax)
        if self.n_draws:
            ax.hist(self.sim, bins=bins, color="#9ecae1", edgecolor="white", density=True, label="permutations")
        else:
            sd = np.sqrt(self.var_rand)
            grid = np.linspace(self.expected - 4 * sd, self.expected + 4 * sd, 200)
            ax.plot(grid, stats.norm.pdf(grid, self.expected, sd), color="#4292c6", label="randomisation normal")
        ax.axvline(self.value, color="#cb181d", lw=2, label=f"observed {self.value:.3f}")
        ax.axvline(self.expected, color="#525252", ls="--", lw=1, label=f"expected {self.expected:.3f}")
        ax.set_xlabel(self._label)
        ax.set_ylabel("density")
        ax.legend(frameon=False, fontsize=8)
        return finish_figure(fig, ax, path)


@doc(**_DOCS)
@dataclass(frozen=True, repr=False)
class MoranResult(_GlobalResult):
    """Global Moran's I with analytic and permutation inference (two-sided analytic p-values, as esda).

    Returned by :func:`econ.spatial.moran`; ``I`` is the statistic, with its analytic and permutation p-values.

    Examples
    --------
    {province_trend}
    >>> res = spatial.moran(y, W, n_draws=99)
    >>> round(res.I, 4)
    0.7539
    """

    I: float = float("nan")  # noqa: E741 (the statistic's name)
    _label = "Moran's I"
    _stat = "I"


@doc(**_DOCS)
@dataclass(frozen=True, repr=False)
class GearyResult(_GlobalResult):
    """Geary's C with analytic (one-sided, direction of ``C - 1``, as esda) and permutation inference.

    Returned by :func:`econ.spatial.geary`; ``C`` is the statistic (below 1: positive autocorrelation).

    Examples
    --------
    {province_trend}
    >>> res = spatial.geary(y, W, n_draws=99)
    >>> round(res.C, 4)
    0.2466
    """

    C: float = float("nan")
    _label = "Geary's C"
    _stat = "C"


@doc(**_DOCS)
@dataclass(frozen=True, repr=False)
class JoinCountResult(CrossSectionCounts, SummaryRepr):
    """Join counts of a binary variable on binary weights, with permutation distributions of BB and BW.

    Returned by :func:`econ.spatial.join_counts`; ``bb`` counts joins between two units coded 1.

    Examples
    --------
    {province_trend}
    >>> res = spatial.join_counts((y > 15).astype(int), W, n_draws=99)
    >>> res.bb
    29.0
    """

    bb: float
    bw: float
    ww: float
    joins: float
    n: int
    n_black: int
    n_draws: int
    seed: object
    sim_bb: np.ndarray
    sim_bw: np.ndarray

    @property
    def permutations(self) -> int:
        """Alias of ``n_draws`` (esda's name)."""
        return self.n_draws

    @property
    def p_sim_bb(self) -> float:
        """P(BB under permutation >= observed BB): evidence that designated units cluster; NaN without draws."""
        if self.n_draws == 0:
            return float("nan")
        return (1.0 + (self.sim_bb >= self.bb).sum()) / (self.n_draws + 1.0)

    @property
    def p_sim_bw(self) -> float:
        """P(BW under permutation <= observed BW): evidence of clustering (fewer mixed joins than chance)."""
        if self.n_draws == 0:
            return float("nan")
        return (1.0 + (self.sim_bw <= self.bw).sum()) / (self.n_draws + 1.0)

    @property
    def z_sim_bb(self) -> float:
        """``(BB - mean(sim_bb)) / sd(sim_bb)``: the BB count standardised by its permutation draws (s.d. with
        divisor ``n_draws``); positive when the units coded 1 cluster. NaN without draws or when the draws do not
        vary."""
        if self.n_draws == 0 or self.sim_bb.std() == 0:
            return float("nan")
        return float((self.bb - self.sim_bb.mean()) / self.sim_bb.std())

    def _moments(self, sim):
        return (sim.mean(), sim.std()) if self.n_draws else (np.nan, np.nan)

    def tidy(self) -> pd.DataFrame:
        """Three rows (``BB joins``, ``BW joins``, ``WW joins``) with columns ``statistic``, ``value`` (the count),
        ``perm_mean`` and ``perm_sd`` (mean and s.d. of the permutation draws), ``p_sim`` and ``alternative``
        (the tail of ``p_sim``: ``"greater"`` for BB, ``"less"`` for BW). WW has no permutation inference (NaN);
        without draws every permutation column is NaN."""
        (bb_m, bb_s), (bw_m, bw_s) = self._moments(self.sim_bb), self._moments(self.sim_bw)
        return pd.DataFrame([
            {"statistic": "BB joins", "value": self.bb, "perm_mean": bb_m, "perm_sd": bb_s, "p_sim": self.p_sim_bb,
             "alternative": "greater"},
            {"statistic": "BW joins", "value": self.bw, "perm_mean": bw_m, "perm_sd": bw_s, "p_sim": self.p_sim_bw,
             "alternative": "less"},
            {"statistic": "WW joins", "value": self.ww, "perm_mean": np.nan, "perm_sd": np.nan,
             "p_sim": np.nan, "alternative": ""},
        ]).pipe(standard_columns, term="statistic", estimate="value", p_value="p_sim")

    def summary(self) -> str:
        """The number of units coded 1 out of ``n``, the number of joins, the draws and seed; then BB with its
        permutation mean and upper-tail ``p_sim``, BW with its permutation mean and lower-tail ``p_sim``, and WW."""
        (bb_m, _), (bw_m, _) = self._moments(self.sim_bb), self._moments(self.sim_bw)
        return (f"Join counts: {self.n_black} of {self.n} units coded 1, {self.joins:g} joins "
                f"({self.n_draws} permutations, seed {self.seed})\n"
                f"  BB = {self.bb:g} (permutation mean {bb_m:.2f}), p_sim (greater) = {self.p_sim_bb:.4g}\n"
                f"  BW = {self.bw:g} (permutation mean {bw_m:.2f}), p_sim (less) = {self.p_sim_bw:.4g}\n"
                f"  WW = {self.ww:g}")

    def plot(self, ax=None, path=None, *, bins: int = 30):
        """Permutation distributions of BB and BW with the observed counts. Returns ``(fig, ax)``."""
        fig, ax = figure(ax)
        if self.n_draws:
            for sim, obs, colour, name in ((self.sim_bb, self.bb, "#2171b5", "BB"),
                                           (self.sim_bw, self.bw, "#cb181d", "BW")):
                ax.hist(sim, bins=bins, color=colour, alpha=0.35, label=f"{name} permutations")
                ax.axvline(obs, color=colour, lw=2, label=f"{name} observed {obs:g}")
        else:
            for obs, colour, name in ((self.bb, "#2171b5", "BB"), (self.bw, "#cb181d", "BW")):
                ax.axvline(obs, color=colour, lw=2, label=f"{name} observed {obs:g}")
        ax.set_xlabel("number of joins")
        ax.legend(frameon=False, fontsize=8)
        return finish_figure(fig, ax, path)


# ----------------------------------------------------------------------------------------------- public API
@doc(**_DOCS)
def moran(y, W: Weights, *, transform: str = "r", n_draws: int | None = None, seed=0,
          permutations: int | None = None) -> MoranResult:
    """Global Moran's I of ``y`` on weights ``W``.

    Parameters
    ----------
    y : Series indexed by unit id (aligned to ``W.ids``) or array-like in ``W.ids`` order
    W : Weights
    transform : {"r", "b"}
        ``"r"`` row-standardise (the default, as esda) or ``"b"`` use ``W`` as given.
    n_draws : int, optional
        Number of random permutations (default 999; 0 for analytic inference only). ``permutations`` is
        accepted as an alias (esda's name).
    seed : int
        Passed to ``numpy.random.default_rng``.

    Returns
    -------
    MoranResult

    Raises
    ------
    WeightsError
        Units not matching ``W``, missing or infinite values, a constant variable, weights without links, an
        unknown ``transform``.
    SpecificationError
        ``n_draws`` not a non-negative integer (or given twice, as ``n_draws`` and ``permutations``), or a bad
        ``seed``.

    Notes
    -----
    With ``z = y - mean(y)``, ``W`` after ``transform`` (zero rows of islands kept) and its Cliff-Ord sums
    ``S0 = sum_ij w_ij``, ``S1 = 1/2 sum_ij (w_ij + w_ji)^2``, ``S2 = sum_i (w_i. + w_.i)^2``::

        I = (n / S0) z'Wz / z'z,        E[I] = -1 / (n - 1),
        Var_norm[I] = (n^2 S1 - n S2 + 3 S0^2) / ((n - 1)(n + 1) S0^2) - E[I]^2,
        Var_rand[I] = [n((n^2 - 3n + 3) S1 - n S2 + 3 S0^2) - b2((n^2 - n) S1 - 2n S2 + 6 S0^2)]
                      / ((n - 1)(n - 2)(n - 3) S0^2) - E[I]^2,

    with the sample kurtosis ``b2 = n sum z^4 / (sum z^2)^2`` (divisor n). ``z_norm``/``z_rand`` are
    ``(I - E[I]) / sqrt(Var)`` and ``p_norm``/``p_rand`` their two-sided normal p-values. The permutation
    p-value ``p_sim = (1 + min(L, n_draws - L)) / (1 + n_draws)`` with ``L = #{I_perm >= I}`` (esda's folded
    pseudo p-value); ``z_sim`` standardises ``I`` by the mean and s.d. (divisor ``n_draws``) of the draws. The
    conventions are those of PySAL's ``esda.Moran``.

    References
    ----------
    Moran, P. A. P. (1950). Notes on continuous stochastic phenomena. *Biometrika* 37(1/2), 17-23.
    Cliff, A. D. and Ord, J. K. (1981). *Spatial Processes: Models and Applications*. London: Pion.

    Examples
    --------
    {path_abcd}
    >>> round(moran([1.0, 2.0, 3.0, 4.0], w, n_draws=0).I, 4)
    0.4
    """
    matrix, n_draws, seed, n, z, z2, kurt, (s0, s1, s2) = _global_inputs(y, W, transform, n_draws, permutations,
                                                                         seed, "Moran's I")
    stat = n / s0 * float(z @ (matrix @ z)) / z2
    expected = -1.0 / (n - 1)
    var_norm = (n * n * s1 - n * s2 + 3 * s0 * s0) / ((n - 1) * (n + 1) * s0 * s0) - expected**2
    a = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0)
    b = kurt * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
    var_rand = (a - b) / ((n - 1) * (n - 2) * (n - 3) * s0 * s0) - expected**2
    z_norm = (stat - expected) / np.sqrt(var_norm)
    z_rand = (stat - expected) / np.sqrt(var_rand)
    (sim,) = _permuted(z, n_draws, seed, _quadratic_form(matrix))
    sim = sim * (n / s0 / z2)
    return MoranResult(
        I=stat, expected=expected, var_norm=var_norm, var_rand=var_rand, z_norm=z_norm, z_rand=z_rand,
        p_norm=2 * stats.norm.sf(abs(z_norm)), p_rand=2 * stats.norm.sf(abs(z_rand)), n=n, transform=transform,
        n_draws=n_draws, seed=seed, sim=sim,
    )


def _global_inputs(y, W, transform, n_draws, permutations, seed, statistic: str):
    """What Moran's I and Geary's C start from: the transformed matrix, the checked draws and seed, ``n``, the
    centred values ``z`` with ``z'z`` and their kurtosis ``b2`` (divisor n), and the Cliff-Ord sums S0, S1, S2."""
    values, matrix, n_draws, seed = _prepare(y, W, transform, n_draws, permutations, seed)
    n = len(values)
    z, z2 = _centred(values, statistic)
    kurt = (z**4).sum() / n / ((z**2).sum() / n) ** 2
    return matrix, n_draws, seed, n, z, z2, kurt, _s_moments(matrix)


def _centred(values: np.ndarray, statistic: str) -> tuple[np.ndarray, float]:
    """Deviations from the mean and their sum of squares; a constant variable makes ``statistic`` undefined."""
    z = values - values.mean()
    z2 = float(z @ z)
    if z2 == 0:
        raise WeightsError(f"{statistic} is undefined: the variable is constant over all units")
    return z, z2


@doc(**_DOCS)
def geary(y, W: Weights, *, transform: str = "r", n_draws: int | None = None, seed=0,
          permutations: int | None = None) -> GearyResult:
    """Geary's C of ``y`` on weights ``W`` (values below 1: positive spatial autocorrelation).

    Parameters
    ----------
    y, W, transform, n_draws, seed, permutations
        As in :func:`moran`.

    Returns
    -------
    GearyResult
        ``C``, ``expected`` (= 1), variances, z and one-sided p-values under normality and randomisation (esda's
        formulas and tails), permutation draws ``sim`` and folded ``p_sim``.

    Raises
    ------
    WeightsError
        As :func:`moran`.

    Notes
    -----
    ``C = (n - 1) sum_ij w_ij (y_i - y_j)^2 / (2 S0 sum_i z_i^2)``; the numerator of every permutation is
    ``sum_i (r_i + c_i) x_i^2 - 2 x' W x`` (``r``/``c`` row/column sums), evaluated for all draws at once.

    References
    ----------
    Geary, R. C. (1954). The contiguity ratio and statistical mapping. *The Incorporated Statistician* 5, 115-145.

    Examples
    --------
    {path_abcd}
    >>> round(geary([1.0, 2.0, 3.0, 4.0], w, n_draws=0).C, 4)
    0.3
    """
    matrix, n_draws, seed, n, z, z2, k, (s0, s1, s2) = _global_inputs(y, W, transform, n_draws, permutations, seed,
                                                                      "Geary's C")
    rc = np.asarray(matrix.sum(axis=1)).ravel() + np.asarray(matrix.sum(axis=0)).ravel()
    scale = (n - 1) / (2.0 * s0 * z2)
    stat = scale * (float(rc @ z**2) - 2.0 * float(z @ (matrix @ z)))
    n2 = n * n
    a = (n - 1) * s1 * (n2 - 3 * n + 3 - (n - 1) * k)
    b = 0.25 * ((n - 1) * s2 * (n2 + 3 * n - 6 - (n2 - n + 2) * k))
    c = s0 * s0 * (n2 - 3 - (n - 1) ** 2 * k)
    var_rand = (a - b + c) / (n * (n - 2) * (n - 3) * s0 * s0)
    var_norm = ((2 * s1 + s2) * (n - 1) - 4 * s0 * s0) / (2 * (n + 1) * s0 * s0)
    z_norm, z_rand = (stat - 1.0) / np.sqrt(var_norm), (stat - 1.0) / np.sqrt(var_rand)
    tail = stats.norm.sf if stat > 1.0 else stats.norm.cdf
    # z is centred, so permuting z permutes y - mean(y) and the numerator is location-free
    sim_q, sim_sq = _permuted(z, n_draws, seed, _quadratic_form(matrix), lambda x: rc @ (x * x))
    sim = scale * (sim_sq - 2.0 * sim_q)
    return GearyResult(
        C=stat, expected=1.0, var_norm=var_norm, var_rand=var_rand, z_norm=z_norm, z_rand=z_rand,
        p_norm=float(tail(z_norm)), p_rand=float(tail(z_rand)), n=n, transform=transform, n_draws=n_draws,
        seed=seed, sim=sim,
    )


@doc(**_DOCS)
def join_counts(y, W: Weights, *, n_draws: int | None = None, seed=0,
                permutations: int | None = None) -> JoinCountResult:
    """BB, BW and WW join counts of a 0/1 variable on ``W`` taken as binary (any positive weight is a join).

    Parameters
    ----------
    y : Series or array-like
        As in :func:`moran`; it must hold only 0 and 1 (booleans accepted) and both values must occur.
    W : Weights
        Symmetric weights (each join counted from both ends).
    n_draws, seed, permutations
        As in :func:`moran`.

    Returns
    -------
    JoinCountResult

    Raises
    ------
    WeightsError
        Non-binary or constant ``y``, asymmetric ``W``, units not matching ``W``, missing values, weights
        without links.
    SpecificationError
        ``n_draws`` not a non-negative integer (or given twice), or a bad ``seed``.

    Notes
    -----
    ``W`` is made binary (``b_ij = 1`` when ``w_ij != 0``); with the degrees ``d_i = sum_j b_ij`` and
    ``J = 1/2 sum_ij b_ij`` joins::

        BB = 1/2 y'By,     BW = sum_i d_i y_i - y'By,     WW = J - BB - BW.

    Inference is by permutation only (the number of 1s is held fixed: Moran's "fixed P" case): ``p_sim_bb = (1 + #{BB_perm >= BB}) / (1 + n_draws)`` and ``p_sim_bw = (1 +
    #{BW_perm <= BW}) / (1 + n_draws)``; both small mean that the 1s cluster. ``esda.Join_Counts`` reports the
    upper tail for BW instead.

    References
    ----------
    Moran, P. A. P. (1948). The interpretation of statistical maps. *Journal of the Royal Statistical Society,
    Series B* 10(2), 243-251.
    Cliff, A. D. and Ord, J. K. (1981). *Spatial Processes: Models and Applications*. London: Pion.

    Examples
    --------
    {path_abcd}
    >>> jc = join_counts([1, 1, 0, 0], w, n_draws=0)
    >>> (jc.bb, jc.bw, jc.ww)
    (1.0, 1.0, 1.0)
    """
    values, _, n_draws, seed = _prepare(y, W, "b", n_draws, permutations, seed)
    if not np.isin(values, (0.0, 1.0)).all():
        raise WeightsError("join counts need a binary variable (0/1); got other values "
                           f"{sorted(set(values[~np.isin(values, (0.0, 1.0))].tolist()))[:5]}")
    if values.min() == values.max():
        raise WeightsError(f"join counts are undefined: every unit has the value {values[0]:g}")
    binary = W.matrix.copy().tocsr()
    binary.data = (binary.data != 0).astype(float)
    binary.eliminate_zeros()
    if abs(binary - binary.T).nnz:
        raise WeightsError("join counts need symmetric weights (each join counted from both ends)")
    joins = float(binary.sum()) / 2.0
    degree = np.asarray(binary.sum(axis=1)).ravel()
    bb = float(values @ (binary @ values)) / 2.0
    # BW = 1/2 sum_ij w_ij (y_i - y_j)^2 = sum_i d_i y_i - y'Wy for 0/1 y (y_i^2 = y_i)
    bw = float(degree @ values) - 2.0 * bb
    ww = float(joins - bb - bw)
    sim_xwx, sim_dx = _permuted(values, n_draws, seed, _quadratic_form(binary), lambda x: degree @ x)
    sim_bb = sim_xwx / 2.0
    sim_bw = sim_dx - 2.0 * sim_bb
    return JoinCountResult(bb=bb, bw=bw, ww=ww, joins=joins, n=len(values), n_black=int(values.sum()),
                           n_draws=n_draws, seed=seed, sim_bb=sim_bb, sim_bw=sim_bw)


# ----------------------------------------------------------------------------------------------- panels
_STATISTICS = {"moran": moran, "geary": geary, "local_moran": local_moran, "join_counts": join_counts}


@dataclass(frozen=True, repr=False)
class PeriodResults(SummaryRepr):
    """One autocorrelation result per period of a panel (``results``: period -> result) with notes.

    Returned by :func:`econ.spatial.by_period`. ``statistic`` names the statistic (``"moran"``, ``"geary"``,
    ``"local_moran"`` or ``"join_counts"``), ``results`` maps each period to its :class:`MoranResult` (...),
    ``notes`` records the periods whose weights were restricted to the units observed. ``tidy()`` stacks the
    per-period tables with a leading ``time`` column; ``plot()`` draws the statistic over time.

    Examples
    --------
    Moran's I of provincial urban income per capita, 2005-2012, on land-border contiguity:

    >>> from econ import datasets, spatial
    >>> W = datasets.load_weights("china_province_contiguity")
    >>> income = datasets.load("china_province_income")
    >>> panel = income[income["year"].between(2005, 2012)]
    >>> res = spatial.by_period(panel, "urban_income", "province_code", "year", W, n_draws=99)
    >>> [round(r.I, 2) for r in res.results.values()]
    [0.42, 0.44, 0.47, 0.48, 0.48, 0.49, 0.49, 0.48]
    """

    statistic: str
    results: dict
    notes: tuple = ()

    def tidy(self) -> pd.DataFrame:
        """The results' ``tidy()`` frames stacked with a leading ``time`` column."""
        frames = [r.tidy().assign(time=t) for t, r in self.results.items()]
        return standard_columns(pd.concat(frames, ignore_index=True))

    @property
    def nobs(self) -> int:
        """Observations over all periods (unit-periods used)."""
        return sum(r.nobs for r in self.results.values())

    @property
    def n_units(self) -> int:
        """Units: the most observed in any period."""
        return max(r.n_units for r in self.results.values())

    def summary(self) -> str:
        """A header with the statistic and the number of periods, each period's own ``summary()`` under a
        ``--- <period>`` line, then the notes (periods whose weights were restricted to the observed units)."""
        lines = [f"{self.statistic} by period ({len(self.results)} periods)"]
        for t, r in self.results.items():
            lines.append(f"--- {t}\n{r.summary()}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, path=None):
        """Global statistics over time (with permutation p-values marked), or LISA cluster counts over time."""
        fig, ax = figure(ax)
        times = list(self.results)
        if self.statistic == "local_moran":
            counts = pd.DataFrame({t: r.clusters().value_counts() for t, r in self.results.items()}).T.fillna(0)
            for lab in ("HH", "LL", "HL", "LH"):
                if lab in counts:
                    ax.plot(times, counts[lab], marker="o", color=LISA_COLOURS[lab], label=lab)
            ax.set_ylabel("units in significant clusters")
            ax.legend(frameon=False, fontsize=8)
        elif self.statistic == "join_counts":
            ax.plot(times, [r.bb for r in self.results.values()], marker="o", label="BB joins")
            ax.plot(times, [r.sim_bb.mean() if r.n_draws else np.nan for r in self.results.values()], ls="--",
                    label="BB under permutation")
            ax.legend(frameon=False, fontsize=8)
        else:
            vals = [r.value for r in self.results.values()]
            ax.plot(times, vals, marker="o", color="#08519c")
            ax.axhline(next(iter(self.results.values())).expected, color="#525252", ls="--", lw=1)
            for t, r in self.results.items():
                if r.n_draws and r.p_sim < 0.05:
                    ax.annotate("*", (t, r.value), ha="center", va="bottom")
            ax.set_ylabel(next(iter(self.results.values()))._label + " (* p_sim < 0.05)")
        ax.set_xlabel("period")
        return finish_figure(fig, ax, path)


@doc(**_DOCS)
def by_period(data: pd.DataFrame, y: str, unit: str, time: str, W: Weights, *, statistic: str = "moran",
              seed=0, **options) -> PeriodResults:
    """An autocorrelation statistic of ``y`` for each period of a long panel.

    Parameters
    ----------
    data : DataFrame
        Long panel (one row per unit and period); never modified.
    y, unit, time : str
        Column names.
    W : Weights
        Weights on (a superset of) the panel's units. A period observing fewer units (unbalanced panel, missing
        ``y``) uses ``W.subset`` of the units it has (re-standardised if ``W`` was), recorded in ``notes``.
    statistic : {"moran", "geary", "local_moran", "join_counts"}
    seed : int
        Each period draws from its own stream spawned from ``numpy.random.SeedSequence(seed)``.
    **options
        Passed to the statistic (``n_draws``, ``transform``, ``alpha``...).

    Returns
    -------
    PeriodResults

    Raises
    ------
    WeightsError / SpecificationError
        Unknown columns, duplicate unit-period rows, units not in ``W``.

    Examples
    --------
    {path_abcd}
    >>> import pandas as pd
    >>> df = pd.DataFrame({"u": list("abcd") * 2, "t": [1] * 4 + [2] * 4, "x": [1, 2, 3, 4, 4, 1, 3, 2.0]})
    >>> res = by_period(df, "x", "u", "t", w, n_draws=0)
    >>> res.tidy()["time"].tolist()
    [1, 2]
    """
    check_choice(statistic, "statistic", list(_STATISTICS))
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in (y, unit, time) if c not in data.columns]
    if missing:
        raise SpecificationError(f"column(s) {missing} not in the data; available: {list(data.columns)}")
    if not isinstance(W, Weights):
        raise WeightsError(f"W must be econ.spatial.Weights, got {type(W).__name__}")
    dup = data.duplicated([unit, time])
    if dup.any():
        raise SpecificationError(f"duplicate ({unit}, {time}) rows, first: {data.loc[dup, [unit, time]].head(3).values.tolist()}")
    absent = sorted(set(data[unit]) - set(W.ids), key=str)
    if absent:
        raise WeightsError(f"{len(absent)} unit(s) in the data are not in W: {absent[:5]}")
    periods = sorted(pd.unique(data[time]))
    seed = check_seed(seed)
    root = seed if isinstance(seed, (np.random.SeedSequence, np.random.Generator)) else np.random.SeedSequence(seed)
    streams = root.spawn(len(periods))
    results, notes = {}, []
    for t, stream in zip(periods, streams):
        block = data.loc[(data[time] == t) & data[y].notna(), [unit, y]]
        units = block[unit].tolist()
        w_t = W.align(units) if len(units) == W.n else W.subset(units)
        if len(units) < W.n:
            notes.append(f"{time}={t}: {W.n - len(units)} unit(s) of W not observed (or y missing); W restricted "
                         "to the observed units")
        try:
            results[t] = _STATISTICS[statistic](pd.Series(block[y].to_numpy(dtype=float), index=units), w_t,
                                                seed=stream, **options)
        except EconError as err:
            raise type(err)(f"{time}={t}: {err}") from None
    return PeriodResults(statistic=statistic, results=KeyedResults(results, what=f"period ({time})"),
                         notes=tuple(notes))


def _s_moments(m: sparse.csr_matrix) -> tuple[float, float, float]:
    """S0, S1, S2 of Cliff & Ord: total weight, 1/2 sum (w_ij + w_ji)^2, sum_i (row_i + col_i)^2."""
    s0 = float(m.sum())
    sym = m + m.T
    s1 = float(sym.multiply(sym).sum()) / 2.0
    rows = np.asarray(m.sum(axis=1)).ravel()
    cols = np.asarray(m.sum(axis=0)).ravel()
    s2 = float(((rows + cols) ** 2).sum())
    return s0, s1, s2
