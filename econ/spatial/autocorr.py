"""Global spatial autocorrelation: Moran's I and join counts, with vectorised permutation inference.

Both statistics take a variable measured on the units of a :class:`~econ.spatial.Weights` object: a pandas Series
indexed by unit id (aligned to ``w.ids`` here; a unit mismatch raises ``WeightsError``) or an array already in
``w.ids`` order.

Moran's I (Cliff & Ord 1981, eq. 1.35)::

    I = (n / S0) * (z' W z) / (z' z),   z = y - mean(y),   S0 = sum_ij w_ij,

with analytic moments under normality and under randomisation (Cliff & Ord 1981, eqs. 2.33 and 2.34; the same
conventions as PySAL's ``esda.Moran``, including ``W`` row-standardised by default and islands kept with a zero
row). Join counts for a binary variable (1 = "black", 0 = "white") on *binary* weights (Cliff & Ord 1981, ch. 1)::

    BB = 1/2 sum_ij w_ij y_i y_j,   WW = 1/2 sum_ij w_ij (1-y_i)(1-y_j),   BW = 1/2 sum_ij w_ij (y_i - y_j)^2,

so ``BB + WW + BW = J = S0 / 2``, the number of joins.

Permutation inference (conditional randomisation): the observed values are shuffled over the units ``permutations``
times with ``numpy.random.default_rng(seed)``; all shuffles are evaluated at once as one sparse-dense product
(in chunks to bound memory). p-values count the observed statistic as one of the draws,
``p = (1 + #{draws at least as extreme}) / (1 + permutations)``:

* Moran ``p_sim``: one-sided in the direction of the observed statistic (the "folded" pseudo p-value that
  ``esda.Moran.p_sim`` reports);
* join counts: ``p_sim_bb`` = P(BB_perm >= BB) (more like-joins of designated units than chance: clustering) and
  ``p_sim_bw`` = P(BW_perm <= BW) (fewer unlike joins than chance: clustering). Note that ``esda.Join_Counts``
  reports the opposite tail for BW (``sim_bw >= bw``, dispersion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

from econ.errors import WeightsError
from econ.spatial.weights import Weights

__all__ = ["moran", "join_counts", "MoranResult", "JoinCountResult"]

_CHUNK_ELEMENTS = 2**22  # permuted values held at once (n_units x chunk), ~32 MB of float64


@dataclass(frozen=True)
class MoranResult:
    """Moran's I with analytic and permutation inference (two-sided analytic p-values)."""

    I: float  # noqa: E741 (the statistic's name)
    expected: float
    var_norm: float
    var_rand: float
    z_norm: float
    z_rand: float
    p_norm: float
    p_rand: float
    n: int
    transform: str
    permutations: int
    seed: object
    sim: np.ndarray

    @property
    def p_sim(self) -> float:
        """Folded one-sided permutation p-value (direction of the observed statistic)."""
        larger = int((self.sim >= self.I).sum())
        larger = min(larger, self.permutations - larger)
        return (larger + 1.0) / (self.permutations + 1.0)

    @property
    def z_sim(self) -> float:
        return float((self.I - self.sim.mean()) / self.sim.std())

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "statistic": "Moran's I", "value": self.I, "expected": self.expected, "z_norm": self.z_norm,
            "p_norm": self.p_norm, "z_rand": self.z_rand, "p_rand": self.p_rand, "perm_mean": self.sim.mean(),
            "perm_sd": self.sim.std(), "p_sim": self.p_sim, "permutations": self.permutations, "n": self.n,
        }])

    def summary(self) -> str:
        return (f"Moran's I = {self.I:.4f} (E[I] = {self.expected:.4f}, n = {self.n}, W transform {self.transform!r})\n"
                f"  randomisation: z = {self.z_rand:.3f}, two-sided p = {self.p_rand:.4g}\n"
                f"  permutation ({self.permutations} draws, seed {self.seed}): p_sim = {self.p_sim:.4g}")


@dataclass(frozen=True)
class JoinCountResult:
    """Join counts of a binary variable on binary weights, with permutation distributions of BB and BW."""

    bb: float
    bw: float
    ww: float
    joins: float
    n: int
    n_black: int
    permutations: int
    seed: object
    sim_bb: np.ndarray
    sim_bw: np.ndarray

    @property
    def p_sim_bb(self) -> float:
        """P(BB under permutation >= observed BB): evidence that designated units cluster."""
        return (1.0 + (self.sim_bb >= self.bb).sum()) / (self.permutations + 1.0)

    @property
    def p_sim_bw(self) -> float:
        """P(BW under permutation <= observed BW): evidence of clustering (fewer mixed joins than chance)."""
        return (1.0 + (self.sim_bw <= self.bw).sum()) / (self.permutations + 1.0)

    @property
    def z_sim_bb(self) -> float:
        return float((self.bb - self.sim_bb.mean()) / self.sim_bb.std())

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"statistic": "BB joins", "value": self.bb, "perm_mean": self.sim_bb.mean(),
             "perm_sd": self.sim_bb.std(), "p_sim": self.p_sim_bb, "alternative": "greater"},
            {"statistic": "BW joins", "value": self.bw, "perm_mean": self.sim_bw.mean(),
             "perm_sd": self.sim_bw.std(), "p_sim": self.p_sim_bw, "alternative": "less"},
            {"statistic": "WW joins", "value": self.ww, "perm_mean": np.nan, "perm_sd": np.nan,
             "p_sim": np.nan, "alternative": ""},
        ])

    def summary(self) -> str:
        return (f"Join counts: {self.n_black} of {self.n} units coded 1, {self.joins:g} joins\n"
                f"  BB = {self.bb:g} (permutation mean {self.sim_bb.mean():.2f}), "
                f"p_sim (greater) = {self.p_sim_bb:.4g}\n"
                f"  BW = {self.bw:g} (permutation mean {self.sim_bw.mean():.2f}), p_sim (less) = {self.p_sim_bw:.4g}\n"
                f"  WW = {self.ww:g}")


# ----------------------------------------------------------------------------------------------- public API
def moran(y, w: Weights, transform: str = "r", permutations: int = 999, seed=0) -> MoranResult:
    """Global Moran's I of ``y`` on weights ``w``.

    Parameters
    ----------
    y : Series indexed by unit id (aligned to ``w.ids``) or array-like in ``w.ids`` order
    w : Weights
    transform : "r" (row-standardise, the default, as esda) or "b" (use ``w`` as given)
    permutations : number of random permutations (0 for analytic inference only)
    seed : passed to ``numpy.random.default_rng``
    """
    values = _aligned(y, w)
    matrix = _transformed(w, transform)
    n = len(values)
    z = values - values.mean()
    z2 = float(z @ z)
    if z2 == 0:
        raise WeightsError("Moran's I is undefined: the variable is constant over all units")
    s0, s1, s2 = _s_moments(matrix)
    if s0 == 0:
        raise WeightsError("the weights have no links (S0 = 0): every unit is an island")
    stat = n / s0 * float(z @ (matrix @ z)) / z2
    expected = -1.0 / (n - 1)
    var_norm = (n * n * s1 - n * s2 + 3 * s0 * s0) / ((n - 1) * (n + 1) * s0 * s0) - expected**2
    kurt = (z**4).sum() / n / ((z**2).sum() / n) ** 2
    a = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0)
    b = kurt * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
    var_rand = (a - b) / ((n - 1) * (n - 2) * (n - 3) * s0 * s0) - expected**2
    z_norm = (stat - expected) / np.sqrt(var_norm)
    z_rand = (stat - expected) / np.sqrt(var_rand)
    (sim,) = _permuted(z, permutations, seed, _quadratic_form(matrix))
    sim = sim * (n / s0 / z2)
    return MoranResult(
        I=stat, expected=expected, var_norm=var_norm, var_rand=var_rand, z_norm=z_norm, z_rand=z_rand,
        p_norm=2 * stats.norm.sf(abs(z_norm)), p_rand=2 * stats.norm.sf(abs(z_rand)), n=n, transform=transform,
        permutations=permutations, seed=seed, sim=sim,
    )


def join_counts(y, w: Weights, permutations: int = 999, seed=0) -> JoinCountResult:
    """BB, BW and WW join counts of a 0/1 variable on ``w`` taken as binary (any positive weight is a join).

    ``y`` as in :func:`moran`; it must hold only 0 and 1 (booleans accepted) and both values must occur.
    """
    values = _aligned(y, w)
    if not np.isin(values, (0.0, 1.0)).all():
        raise WeightsError("join counts need a binary variable (0/1); got other values "
                           f"{sorted(set(values[~np.isin(values, (0.0, 1.0))].tolist()))[:5]}")
    if values.min() == values.max():
        raise WeightsError(f"join counts are undefined: every unit has the value {values[0]:g}")
    binary = w.matrix.copy().tocsr()
    binary.data = (binary.data != 0).astype(float)
    binary.eliminate_zeros()
    asym = abs(binary - binary.T)
    if asym.nnz:
        raise WeightsError("join counts need symmetric weights (each join counted from both ends)")
    joins = binary.sum() / 2.0
    degree = np.asarray(binary.sum(axis=1)).ravel()
    bb = float(values @ (binary @ values)) / 2.0
    # BW = 1/2 sum_ij w_ij (y_i - y_j)^2 = sum_i d_i y_i - y'Wy for 0/1 y (y_i^2 = y_i)
    bw = float(degree @ values) - 2.0 * bb
    ww = joins - bb - bw
    # one pass over the permutations gives x'Wx (= 2 BB) and d'x for every shuffle x
    sim_xwx, sim_dx = _permuted(values, permutations, seed, _quadratic_form(binary), lambda x: degree @ x)
    sim_bb = sim_xwx / 2.0
    sim_bw = sim_dx - 2.0 * sim_bb
    return JoinCountResult(bb=bb, bw=bw, ww=ww, joins=joins, n=len(values), n_black=int(values.sum()),
                           permutations=permutations, seed=seed, sim_bb=sim_bb, sim_bw=sim_bw)


# ----------------------------------------------------------------------------------------------- helpers
def _aligned(y, w: Weights) -> np.ndarray:
    if not isinstance(w, Weights):
        raise WeightsError(f"expected econ.spatial.Weights, got {type(w).__name__}")
    if isinstance(y, pd.Series):
        w.check_units(list(y.index))
        values = y.loc[list(w.ids)].to_numpy(dtype=float)
    else:
        values = np.asarray(y, dtype=float).ravel()
        if len(values) != w.n:
            raise WeightsError(f"y has {len(values)} values but the weights have {w.n} units")
    if np.isnan(values).any():
        bad = [u for u, v in zip(w.ids, values) if np.isnan(v)]
        raise WeightsError(f"{len(bad)} unit(s) with a missing value, first: {bad[:5]}")
    return values


def _transformed(w: Weights, transform: str) -> sparse.csr_matrix:
    if transform == "r":
        return w.row_standardize().matrix.tocsr()
    if transform == "b":
        return w.matrix.tocsr()
    raise WeightsError(f"unknown transform {transform!r}; use 'r' (row-standardised) or 'b' (as given)")


def _s_moments(m: sparse.csr_matrix) -> tuple[float, float, float]:
    """S0, S1, S2 of Cliff & Ord: total weight, 1/2 sum (w_ij + w_ji)^2, sum_i (row_i + col_i)^2."""
    s0 = float(m.sum())
    sym = m + m.T
    s1 = float(sym.multiply(sym).sum()) / 2.0
    rows = np.asarray(m.sum(axis=1)).ravel()
    cols = np.asarray(m.sum(axis=0)).ravel()
    s2 = float(((rows + cols) ** 2).sum())
    return s0, s1, s2


def _permutations(values: np.ndarray, permutations: int, seed):
    """Yield (n_units x chunk) blocks of permuted copies of ``values`` (same draws for the same seed)."""
    rng = np.random.default_rng(seed)
    n = len(values)
    chunk = max(1, _CHUNK_ELEMENTS // max(n, 1))
    done = 0
    while done < permutations:
        k = min(chunk, permutations - done)
        order = rng.permuted(np.tile(np.arange(n), (k, 1)), axis=1)  # each row an independent permutation
        yield values[order].T
        done += k


def _permuted(values, permutations, seed, *statistics) -> tuple[np.ndarray, ...]:
    """Each statistic (a function of an (n_units x chunk) block of shuffles, one value per column) evaluated on
    the same ``permutations`` shuffles of ``values``."""
    blocks = [[stat(block) for stat in statistics] for block in _permutations(values, permutations, seed)]
    return tuple(np.concatenate([b[k] for b in blocks]) if blocks else np.empty(0) for k in range(len(statistics)))


def _quadratic_form(matrix):
    """x' M x for every column x of a block."""
    return lambda block: np.einsum("ij,ij->j", block, matrix @ block)
