"""Multiplier bootstrap of influence functions (R ``did``'s ``mboot``), vectorised: one matrix product per chunk.

For an influence-function matrix ``Psi`` (n units x m estimates, ``estimate - truth ~ mean(Psi)``) and multipliers
``v`` (mean 0, variance 1; Mammen's two-point law or Rademacher), one draw of the estimates' deviation is
``sum_c v_c S_c / n`` where ``S_c`` sums the rows of cluster ``c`` (each unit its own cluster by default). The
standard error of each column is the draws' interquartile range divided by that of the standard normal (robust to
heavy tails, as R ``did``); the uniform (sup-t) critical value is the ``level`` quantile (type 1, the inverse
empirical distribution) of ``max_j |draw_j / se_j|`` over the columns with a positive standard error.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

_IQR_NORM = stats.norm.ppf(0.75) - stats.norm.ppf(0.25)
_SQRT5 = np.sqrt(5.0)
_MAMMEN = ((1 - _SQRT5) / 2, (1 + _SQRT5) / 2)
_MAMMEN_P = (_SQRT5 + 1) / (2 * _SQRT5)  # probability of the negative value
TINY = np.sqrt(np.finfo(float).eps) * 10
CHUNK = 256


def cluster_sums(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Row sums of ``psi`` within clusters (``psi`` itself when every unit is its own cluster)."""
    if cluster is None:
        return psi
    out = np.zeros((int(cluster.max()) + 1, psi.shape[1]))
    np.add.at(out, cluster, psi)
    return out


def multipliers(rng: np.random.Generator, out: np.ndarray, law: str, mask: np.ndarray | None = None) -> np.ndarray:
    """Fill ``out`` with i.i.d. multipliers, in place: Rademacher (+-1) or Mammen's two-point law (the negative
    value ``(1 - sqrt 5) / 2`` with probability ``(sqrt 5 + 1) / (2 sqrt 5)``)."""
    mask = np.empty(out.shape, bool) if mask is None else mask
    rng.random(out=out)
    lo, hi = _MAMMEN if law == "mammen" else (-1.0, 1.0)
    np.less(out, _MAMMEN_P if law == "mammen" else 0.5, out=mask)
    np.multiply(mask, lo - hi, out=out)
    out += hi
    return out


def draws(sums: np.ndarray, n: int, n_draws: int, law: str, rng: np.random.Generator) -> np.ndarray:
    """``n_draws`` x m bootstrap draws of the estimates' deviation (``sums``: cluster-summed influence functions).

    Multipliers are generated chunk by chunk into one reused buffer (memory ``CHUNK x clusters``), each chunk
    applied with one matrix product on a single BLAS thread.
    """
    from econ.panel.demean import single_thread_blas

    out = np.empty((n_draws, sums.shape[1]))
    rows = min(CHUNK, n_draws)
    buf, mask = np.empty((rows, sums.shape[0])), np.empty((rows, sums.shape[0]), bool)
    with single_thread_blas():
        for start in range(0, n_draws, CHUNK):
            m = min(CHUNK, n_draws - start)
            out[start:start + m] = multipliers(rng, buf[:m], law, mask[:m]) @ sums
    return out / n


def iqr_se(boot: np.ndarray) -> np.ndarray:
    """Interquartile-range standard errors of each column (type-1 quantiles); NaN when degenerate."""
    nb = boot.shape[0]
    s = np.sort(boot, axis=0)
    q75 = s[int(np.ceil(0.75 * nb)) - 1]
    q25 = s[int(np.ceil(0.25 * nb)) - 1]
    se = (q75 - q25) / _IQR_NORM
    se[~np.isfinite(se) | (se <= 0)] = np.nan
    return se


def sup_t(boot: np.ndarray, se: np.ndarray, level: float) -> float:
    """Uniform critical value: the ``level`` type-1 quantile of ``max_j |boot_j| / se_j`` over valid columns."""
    ok = np.isfinite(se) & (se > 0)
    if not ok.any():
        return np.nan
    stat = np.max(np.abs(boot[:, ok]) / se[ok], axis=1)
    stat = np.sort(stat[np.isfinite(stat)])
    if len(stat) == 0:
        return np.nan
    return float(stat[int(np.ceil(level * len(stat))) - 1])
