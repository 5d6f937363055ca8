"""Local Moran's I (LISA) with conditional-randomisation inference: :func:`local_moran` and
:class:`LocalMoranResult` (re-exported by :mod:`econ.spatial.autocorr`, whose docstring gives the formulas and
the permutation conventions).

``CLUSTER_LABELS`` maps the quadrant codes to their names ``{1: "HH", 2: "LH", 3: "LL", 4: "HL"}``;
``LISA_COLOURS`` the colours of the cluster map (:func:`econ.plot.lisa_map`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, stats

from econ._docs import doc
from econ.errors import SpecificationError, WeightsError
from econ._tidy import CrossSectionCounts, SummaryRepr, standard_columns
from econ.results import figure, finish_figure
from econ.spatial._permutation import _CHUNK_ELEMENTS, _prepare
from econ.spatial.weights import Weights

__all__ = ["local_moran", "LocalMoranResult", "CLUSTER_LABELS", "LISA_COLOURS"]

CLUSTER_LABELS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}


@dataclass(frozen=True, repr=False)
class LocalMoranResult(CrossSectionCounts, SummaryRepr):
    """Local Moran's I_i (LISA) for every unit with conditional-permutation p-values and cluster labels.

    Arrays are in ``ids`` order. ``p_sim`` is esda's folded pseudo p-value; ``quadrant`` 1..4 = HH, LH, LL, HL
    (esda's ``q``). Units without neighbours get ``I = 0`` and NaN permutation results (esda would report a
    spurious ``p_sim = 1 / (n_draws + 1)`` for them).

    Returned by :func:`econ.spatial.local_moran`; ``Is`` holds one local statistic per unit.

    Examples
    --------
    >>> from econ import datasets, spatial
    >>> W = datasets.load_weights("china_province_contiguity")
    >>> res = spatial.local_moran(list(range(W.n)), W, n_draws=99)
    >>> len(res.Is) == W.n
    True
    """

    ids: tuple
    Is: np.ndarray
    z: np.ndarray
    lag: np.ndarray
    quadrant: np.ndarray
    EI: np.ndarray
    VI: np.ndarray
    EIc: np.ndarray
    VIc: np.ndarray
    EI_sim: np.ndarray
    seI_sim: np.ndarray
    p_sim: np.ndarray
    n_draws: int
    seed: object
    transform: str
    alpha: float = 0.05
    sim: np.ndarray | None = field(default=None)

    @property
    def n(self) -> int:
        """Number of units (the length of ``ids`` and of every per-unit array)."""
        return len(self.ids)

    @property
    def z_sim(self) -> np.ndarray:
        """Per unit, ``(Is - EI_sim) / seI_sim``: each local statistic standardised by the mean and s.d. of its
        conditional permutation draws (esda's ``z_sim``); NaN for units without neighbours and without draws."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.Is - self.EI_sim) / self.seI_sim

    @property
    def p_z_sim(self) -> np.ndarray:
        """One-sided normal p-value of ``z_sim`` (esda's ``p_z_sim``)."""
        return stats.norm.sf(np.abs(self.z_sim))

    @property
    def islands(self) -> list:
        """Ids of the units without neighbours (their permutation results are NaN and their cluster is
        ``"island"``); empty when ``n_draws=0``, since they are identified from the draws."""
        return [u for u, p, e in zip(self.ids, self.p_sim, self.seI_sim) if np.isnan(e) and self.n_draws]

    def clusters(self, alpha: float | None = None) -> pd.Series:
        """Cluster label of each unit: ``HH``/``LH``/``LL``/``HL`` when ``p_sim < alpha`` (default the result's
        ``alpha``), ``ns`` otherwise, ``island`` for units without neighbours."""
        alpha = self.alpha if alpha is None else alpha
        if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
            raise SpecificationError(f"alpha must be in (0, 1), got {alpha!r}")
        labels = np.array([CLUSTER_LABELS[q] for q in self.quadrant], dtype=object)
        with np.errstate(invalid="ignore"):
            labels[~(self.p_sim < alpha)] = "ns"
        labels[np.isnan(self.seI_sim) & (self.n_draws > 0)] = "island"
        return pd.Series(labels, index=list(self.ids), name="cluster")

    def tidy(self) -> pd.DataFrame:
        """One row per unit: I_i, z, lag, analytic moments, permutation moments, p_sim, quadrant, cluster."""
        return pd.DataFrame({
            "unit": list(self.ids), "I": self.Is, "z": self.z, "lag": self.lag, "expected": self.EI,
            "variance": self.VI, "expected_cond": self.EIc, "variance_cond": self.VIc, "perm_mean": self.EI_sim,
            "perm_sd": self.seI_sim, "z_sim": self.z_sim, "p_sim": self.p_sim,
            "quadrant": [CLUSTER_LABELS[q] for q in self.quadrant], "cluster": self.clusters().to_numpy(),
        }).pipe(standard_columns, term=[str(u) for u in self.ids], estimate="I", p_value="p_sim")

    def summary(self) -> str:
        """``n``, the ``W`` transform, the number of conditional permutations and the seed; the number of units
        in each cluster (HH, LL, HL, LH, ns and, when there are any, island) at ``p_sim < alpha``; and a reminder
        that the labels are not corrected for multiple testing."""
        counts = self.clusters().value_counts()
        parts = ", ".join(f"{k} {int(counts.get(k, 0))}" for k in ("HH", "LL", "HL", "LH", "ns", "island")
                          if counts.get(k, 0) or k != "island")
        return (f"Local Moran (LISA), n = {self.n}, W transform {self.transform!r}, {self.n_draws} conditional "
                f"permutations (seed {self.seed})\n  clusters at p_sim < {self.alpha:g}: {parts}\n"
                f"  (no multiple-testing correction: about {self.alpha:g} x n units are flagged under no "
                "autocorrelation)")

    def plot(self, ax=None, path=None):
        """Moran scatterplot: standardised value against its spatial lag, significant units coloured by cluster.
        Returns ``(fig, ax)``."""
        fig, ax = figure(ax)
        labels = self.clusters()
        for lab in ("ns", "island", "HH", "LL", "HL", "LH"):
            mask = (labels == lab).to_numpy()
            if mask.any():
                ax.scatter(self.z[mask], self.lag[mask], s=12, color=LISA_COLOURS[lab], label=lab,
                           edgecolors="none")
        ax.axhline(0, color="#969696", lw=0.8)
        ax.axvline(0, color="#969696", lw=0.8)
        ax.set_xlabel("standardised value z")
        ax.set_ylabel("spatial lag Wz")
        ax.legend(frameon=False, fontsize=8)
        return finish_figure(fig, ax, path)


LISA_COLOURS = {"HH": "#d7191c", "LL": "#2c7bb6", "HL": "#fdae61", "LH": "#abd9e9", "ns": "#d9d9d9",
                "island": "#ffffff"}


@doc()
def local_moran(y, W: Weights, *, transform: str = "r", n_draws: int | None = None, seed=0, alpha: float = 0.05,
                keep_draws: bool = False, permutations: int | None = None) -> LocalMoranResult:
    """Local Moran's I (LISA) of every unit with conditional permutation inference and HH/LL/HL/LH clusters.

    Parameters
    ----------
    y : Series indexed by unit id or array-like in ``W.ids`` order
    W : Weights
    transform : {"r", "b"}
        Row-standardise ``W`` (default, as esda) or use it as given.
    n_draws : int, optional
        Conditional permutations per unit (default 999; 0 for analytic moments only). Alias ``permutations``.
    seed : int
        Passed to ``numpy.random.default_rng``.
    alpha : float
        Significance level of the cluster labels (``p_sim < alpha``, as esda's ``get_cluster_labels``).
    keep_draws : bool
        Keep the (n_draws x n) matrix of simulated I_i in ``result.sim`` (memory: 8 n n_draws bytes).

    Returns
    -------
    LocalMoranResult
        ``Is``, ``quadrant``, analytic moments (``EI``, ``VI``; conditional ``EIc``, ``VIc``), ``EI_sim``,
        ``seI_sim``, ``z_sim``, ``p_sim``; ``clusters()``, ``tidy()``, ``summary()``, ``plot()`` (Moran
        scatterplot) and :func:`econ.plot.lisa_map` for the map.

    Raises
    ------
    WeightsError
        As :func:`moran`; also a constant variable (local Moran is undefined).
    SpecificationError
        ``alpha`` outside (0, 1).

    Notes
    -----
    Vectorised numpy (no JIT, so no first-call compilation): the shared draws (indices into ``0..n-2``) are
    mapped to each unit's ``n - 1`` other units by the bijection that sends the unit's own index to ``n - 1``, so
    the lags of all draws are one dense product plus a correction at the few draws that hit the unit itself.
    Cost O(n x n_draws x max neighbours) in BLAS, memory bounded by blocks of units. The
    labels are not corrected for multiple testing.

    References
    ----------
    Anselin, L. (1995). Local indicators of spatial association -- LISA. *Geographical Analysis* 27, 93-115.
    Sokal, R. R., Oden, N. L. and Thomson, B. A. (1998). Local spatial autocorrelation in a biological model.
    *Geographical Analysis* 30, 331-354.

    Examples
    --------
    {path_abcd}
    >>> res = local_moran([1.0, 2.0, 3.0, 4.0], w, n_draws=99, seed=1)
    >>> res.Is.round(3).tolist()
    [0.45, 0.15, 0.15, 0.45]
    >>> res.clusters(alpha=0.5).tolist()
    ['LL', 'LL', 'HH', 'HH']
    """
    values, matrix, n_draws, seed = _prepare(y, W, transform, n_draws, permutations, seed)
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise SpecificationError(f"alpha must be in (0, 1), got {alpha!r}")
    n = len(values)
    sd = values.std()
    if sd == 0:
        raise WeightsError("local Moran is undefined: the variable is constant over all units")
    z = (values - values.mean()) / sd
    den = float(z @ z)
    lag = matrix @ z
    Is = (n - 1) * z * lag / den
    quadrant = np.where(z > 0, np.where(lag > 0, 1, 4), np.where(lag > 0, 2, 3))
    EI, VI, EIc, VIc = _local_moments(matrix, z)
    cards = np.diff(matrix.indptr)
    EI_sim = np.full(n, np.nan)
    seI_sim = np.full(n, np.nan)
    p_sim = np.full(n, np.nan)
    sim = np.full((n_draws, n), np.nan) if keep_draws and n_draws else None
    if n_draws:
        factor = (n - 1) * z / den  # I_i = factor_i * lag_i, in every draw too
        for rows, lags in _conditional_draws(z, matrix, n_draws, seed):
            f = factor[rows]
            mean = lags.sum(axis=1) / n_draws
            var = np.maximum(np.einsum("ij,ij->i", lags, lags) / n_draws - mean**2, 0.0)
            EI_sim[rows] = f * mean
            seI_sim[rows] = np.abs(f) * np.sqrt(var)
            obs = lag[rows, None]
            larger = np.where(f > 0, (lags >= obs).sum(axis=1), np.where(f < 0, (lags <= obs).sum(axis=1), n_draws))
            p_sim[rows] = (np.minimum(larger, n_draws - larger) + 1.0) / (n_draws + 1.0)
            if sim is not None:
                sim[:, rows] = (f[:, None] * lags).T
        isl = cards == 0
        EI_sim[isl] = seI_sim[isl] = p_sim[isl] = np.nan
    return LocalMoranResult(ids=W.ids, Is=Is, z=z, lag=lag, quadrant=quadrant, EI=EI, VI=VI, EIc=EIc, VIc=VIc,
                            EI_sim=EI_sim, seI_sim=seI_sim, p_sim=p_sim, n_draws=n_draws, seed=seed,
                            transform=transform, alpha=float(alpha), sim=sim)


def _local_moments(m: sparse.csr_matrix, z: np.ndarray):
    """esda.Moran_Local's analytic moments: total (Sokal et al. 1998 A3-A4*) and conditional (A7-A8)."""
    n = len(z)
    m2 = (z * z).sum() / n
    wi = np.asarray(m.sum(axis=1)).ravel()
    wi2 = np.asarray(m.multiply(m).sum(axis=1)).ravel()
    EIc = -(z**2 * wi) / ((n - 1) * m2)
    VIc = (z / m2) ** 2 * (n / (n - 2)) * (wi2 - wi**2 / (n - 1)) * (m2 - z**2 / (n - 1))
    b2 = ((z**4).sum() / n) / m2**2
    EI = -wi / (n - 1)
    VI = wi2 * (n - b2) / (n - 1) + (wi**2 - wi2) * (2 * b2 - n) / ((n - 1) * (n - 2)) - (wi / (n - 1)) ** 2
    return EI, VI, EIc, VIc


def _conditional_draws(z: np.ndarray, m: sparse.csr_matrix, n_draws: int, seed):
    """Yield (rows, lags): lags[u, d] = spatial lag of unit i = rows[u] in conditional draw d.

    Each draw takes ``kmax`` (largest number of neighbours) distinct indices from ``0..n-2``, shared by all units
    (as esda); unit ``i`` uses the first ``card_i`` of them, mapped to its ``n - 1`` *other* units by the
    bijection ``j -> j`` for ``j != i`` and ``i -> n - 1``. The lag is therefore one dense product
    ``pad @ z[draws]'`` plus a correction wherever a draw hits the unit itself (at most ``n_draws x kmax`` entries).
    """
    n = len(z)
    cards = np.diff(m.indptr)
    kmax = int(cards.max())
    rng = np.random.default_rng(seed)
    draws = np.empty((n_draws, kmax), dtype=np.int64)
    for d in range(n_draws):
        draws[d] = rng.choice(n - 1, size=kmax, replace=False)
    pad = np.zeros((n, kmax))  # row weights, padded: slot k of unit i uses draw column k
    rows_of = np.repeat(np.arange(n), cards)
    pad[rows_of, np.arange(m.nnz) - np.repeat(m.indptr[:-1], cards)] = m.data
    zt = z[draws].T  # (kmax, n_draws)
    hit_d, hit_k = np.nonzero(np.ones_like(draws, dtype=bool))
    hit_i = draws[hit_d, hit_k]  # the unit that draw (d, k) would wrongly pick as its own neighbour
    fix = pad[hit_i, hit_k] * (z[n - 1] - z[hit_i])
    chunk = max(1, _CHUNK_ELEMENTS // max(n_draws, 1))
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        lags = pad[start:stop] @ zt
        sel = (hit_i >= start) & (hit_i < stop) & (fix != 0)
        np.add.at(lags, (hit_i[sel] - start, hit_d[sel]), fix[sel])
        yield np.arange(start, stop), lags
