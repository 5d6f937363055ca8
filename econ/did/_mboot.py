"""Multiplier bootstrap of influence functions (R ``did``'s ``mboot``), vectorised: one matrix product per chunk.

For an influence-function matrix ``Psi`` (n units x m estimates, ``estimate - truth ~ mean(Psi)``) and multipliers
``v`` (mean 0, variance 1; Mammen's two-point law or Rademacher), one draw of the estimates' deviation is
``sum_c v_c S_c / n`` where ``S_c`` sums the rows of cluster ``c`` (each unit its own cluster by default). With
clusters coarser than units there are two conventions (:func:`cluster_sums`): R ``did``'s ``mboot`` (also csdid and
moderndid) averages the influence function within each cluster and draws ``sqrt(G) * mean_c(v_c psibar_c)``, i.e.
a deviation ``sum_c v_c psibar_c / G`` with ``psibar_c = S_c / n_c`` (``form="mean"``, the default of
:func:`econ.did.att_gt`); the cluster-sum form ``sum_c v_c S_c / n`` (``form="sum"``) has the variance of the
usual cluster-robust estimator ``sum_c S_c S_c' / n^2``. They agree when clusters have equal sizes and differ by
the factor ``n / (G n_c)`` per cluster otherwise (up to 2x on mpdta clustered by state, 3 to 46 counties). The
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
_CUT_HIGH, _CUT_LOW = divmod(round(_MAMMEN_P * 2**32), 65536)  # U < p * 2^32 on a 32-bit U = high * 2^16 + low
TINY = np.sqrt(np.finfo(float).eps) * 10
CHUNK = 256


FORMS = ("mean", "sum")


def cluster_sums(psi: np.ndarray, cluster: np.ndarray | None, form: str = "sum") -> np.ndarray:
    """Row sums of ``psi`` within clusters (``psi`` itself when every unit is its own cluster).

    ``cluster`` holds codes ``0..G-1``. ``form="sum"`` returns the sums ``S_c``; ``form="mean"`` returns
    ``S_c * n / (G n_c)``, so that ``sum_c v_c (.) / n`` is R ``did``'s ``sum_c v_c psibar_c / G`` with the
    within-cluster mean ``psibar_c = S_c / n_c`` (see the module docstring). Codes with no unit are dropped.
    """
    if cluster is None:
        return psi
    out = np.zeros((int(cluster.max()) + 1, psi.shape[1]))
    np.add.at(out, cluster, psi)
    sizes = np.bincount(cluster, minlength=out.shape[0])
    out = out[sizes > 0]
    if form == "mean":
        sizes = sizes[sizes > 0]
        out = out * (psi.shape[0] / (len(sizes) * sizes))[:, None]
    return out


def multipliers(rng: np.random.Generator, out: np.ndarray, law: str, mask: np.ndarray | None = None) -> np.ndarray:
    """Fill ``out`` with i.i.d. multipliers, in place.

    Rademacher: +-1 from one random bit each. Mammen: ``(1 - sqrt 5) / 2`` with probability
    ``p = (sqrt 5 + 1) / (2 sqrt 5)``, else ``(1 + sqrt 5) / 2``; the event ``U < p`` is decided on a 32-bit uniform
    integer ``U`` drawn as two 16-bit halves, the low half only where the high half ties the threshold (1 entry in
    65,536), which is exact to ``2**-32`` and an order of magnitude cheaper than a float64 uniform per entry.
    """
    mask = np.empty(out.shape, bool) if mask is None else mask
    if law == "rademacher":
        count = out.size
        bytes_ = rng.integers(0, 256, size=(count + 7) // 8, dtype=np.uint8)
        mask.reshape(-1)[:] = np.unpackbits(bytes_, count=count).view(bool)
        lo, hi = -1.0, 1.0
    else:
        high = rng.integers(0, 65536, size=out.shape, dtype=np.uint16)
        np.less(high, _CUT_HIGH, out=mask)
        ties = np.flatnonzero(high == _CUT_HIGH)
        if len(ties):
            mask.reshape(-1)[ties] = rng.integers(0, 65536, size=len(ties), dtype=np.uint16) < _CUT_LOW
        lo, hi = _MAMMEN
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
