"""Composite indices from several indicators: the entropy-weight method and a principal-component alternative.

    from econ.index import entropy_index, pca_index
    res = entropy_index(df, ["broadband_users", "mobile_users", "telecom_revenue", "it_employment"],
                        unit="city", time="year")
    res.weights; res.stability; res.index; res.summary(); res.tidy(); res.plot()

Both return an :class:`IndexResult`: the index per row (units and years kept), the indicator weights, and - when a
``time`` column is given - the weights recomputed year by year with their spread (how stable the weighting is).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ import _validate as v
from econ._docs import doc
from econ._tidy import SummaryRepr, standard_columns
from econ.errors import PanelError, SpecificationError

__all__ = ["entropy_index", "pca_index", "IndexResult"]

_NORMALIZE = ("minmax", "max")


class IndexResult(SummaryRepr):
    """A composite index, its weights and their stability over years.

    Attributes
    ----------
    index : pandas.Series
        The composite index, aligned with the input rows (its index), named ``"index"``.
    frame : pandas.DataFrame
        ``unit``/``time`` columns (when given) plus ``index``.
    weights : pandas.DataFrame
        One row per indicator: ``indicator``, ``direction`` (``"+"``/``"-"``), ``weight`` and the method's
        intermediate quantities (entropy ``e`` and divergence ``d`` for the entropy method; loadings for PCA).
    stability : pandas.DataFrame or None
        Weights recomputed within each year (rows: years; columns: indicators); ``None`` without ``time``.
    method : str
    nobs : int
        Rows the index was built on.
    n_units : int or None
        Distinct values of the ``unit`` column; ``None`` when no ``unit`` was given.
    notes : list of str

    Examples
    --------
    See :func:`entropy_index`.
    """

    def __init__(self, *, index, frame, weights, stability, method, notes, unit=None):
        self.index = index
        self.nobs = int(len(index))
        self.n_units = int(frame[unit].nunique()) if unit is not None else None
        self.frame = frame
        self.weights = weights
        self.stability = stability
        self.method = method
        self.notes = list(notes)

    def stability_summary(self) -> pd.DataFrame:
        """Per indicator: the pooled weight and the mean, sd, min, max and coefficient of variation of its
        year-by-year weights (empty without ``time``)."""
        if self.stability is None:
            return pd.DataFrame(columns=["indicator", "weight", "mean", "sd", "min", "max", "cv"])
        s = self.stability
        out = pd.DataFrame({"indicator": s.columns, "weight": self.weights.set_index("indicator")
                            .loc[s.columns, "weight"].to_numpy(), "mean": s.mean().to_numpy(),
                            "sd": s.std(ddof=1).to_numpy(), "min": s.min().to_numpy(), "max": s.max().to_numpy()})
        out["cv"] = out["sd"] / out["mean"]
        return out

    def tidy(self) -> pd.DataFrame:
        """The weights as econ's tidy frame: ``term`` = indicator, ``estimate`` = weight; no sampling error is
        defined (``std_error``, ``p_value``, ``conf_low``, ``conf_high`` are NaN); the year-to-year spread is in
        ``sd_over_years``, ``min_over_years``, ``max_over_years``."""
        w = self.weights
        out = standard_columns(pd.DataFrame({"term": w["indicator"], "estimate": w["weight"],
                                             "direction": w["direction"]}))
        st = self.stability_summary().set_index("indicator")
        for col, src in (("sd_over_years", "sd"), ("min_over_years", "min"), ("max_over_years", "max")):
            out[col] = out["term"].map(st[src]) if len(st) else np.nan
        return out.reset_index(drop=True)

    def summary(self, digits: int = 4) -> str:
        """Method, weights (with their year-to-year range when available), index range, notes."""
        units = f" ({self.n_units} units)" if self.n_units is not None else ""
        lines = [f"Composite index ({self.method}), {self.nobs} rows{units}, {len(self.weights)} indicators", ""]
        t = self.tidy()
        lines.append(f"{'indicator':<28}{'dir':>4}{'weight':>10}{'min/yr':>10}{'max/yr':>10}")
        for _, r in t.iterrows():
            lines.append(f"{str(r['term'])[:27]:<28}{r['direction']:>4}{r['estimate']:>10.{digits}f}"
                         f"{r['min_over_years']:>10.{digits}f}{r['max_over_years']:>10.{digits}f}")
        ix = self.index
        lines += ["", f"index: min {ix.min():.{digits}f}, mean {ix.mean():.{digits}f}, max {ix.max():.{digits}f}"]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    @doc()
    def plot(self, ax=None, path=None):
        """Bar chart of the weights, with the range of the year-by-year weights as whiskers.

        Parameters
        ----------
        {ax}
        {path}

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)
        """
        from econ.results import figure, finish_figure

        fig, ax = figure(ax)
        t = self.tidy()
        x = np.arange(len(t))
        ax.bar(x, t["estimate"], color="0.6")
        if t["min_over_years"].notna().any():
            lo = (t["estimate"] - t["min_over_years"]).clip(lower=0)
            hi = (t["max_over_years"] - t["estimate"]).clip(lower=0)
            ax.errorbar(x, t["estimate"], yerr=[lo, hi], fmt="none", ecolor="k", capsize=3, lw=1)
        ax.set_xticks(x)
        ax.set_xticklabels([f"{a} ({d})" for a, d in zip(t["term"], t["direction"])], rotation=30, ha="right")
        ax.set_ylabel("weight")
        ax.set_title(f"{self.method} weights" + (" (whiskers: range over years)" if self.stability is not None
                                                 else ""))
        return finish_figure(fig, ax, path)


_DOCS = {"data_indicators": """\
data : pandas.DataFrame
    One row per unit (and year); never modified.
indicators : list of str
    Indicator columns (at least two)."""}


def _by_period(data, M, time, indicators, min_rows: int, weights_of):
    """The weights recomputed on each period's rows (``weights_of(rows, where)``), periods with fewer than
    ``min_rows`` rows skipped; None without ``time``."""
    if time is None:
        return None
    rows = {}
    for t, idx in data.groupby(time, sort=True).indices.items():
        if len(idx) >= min_rows:
            rows[t] = weights_of(M[idx], f" in {time} {t}")
    stability = pd.DataFrame.from_dict(rows, orient="index", columns=indicators)
    stability.index.name = time
    return stability


def _prepare(data, indicators, negative, unit, time):
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if isinstance(indicators, str):
        indicators = [indicators]
    indicators = list(indicators)
    if len(indicators) < 2:
        raise SpecificationError(f"a composite index needs at least 2 indicators, got {indicators}")
    negative = [negative] if isinstance(negative, str) else list(negative)
    unknown = [c for c in negative if c not in indicators]
    if unknown:
        raise SpecificationError(f"negative indicators {unknown} are not among indicators {indicators}")
    if len(set(indicators)) != len(indicators):
        raise SpecificationError(f"indicators repeat a column: {indicators}")
    keys = [c for c in (unit, time) if c is not None]
    v.require_columns(data, indicators, "indicator")
    v.require_columns(data, keys, "panel key", error=PanelError)
    X = data[indicators]
    for c in indicators:
        if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]):
            raise SpecificationError(f"indicator {c!r} must be numeric, got dtype {X[c].dtype}")
    M = X.to_numpy(dtype=float)
    if np.isinf(M).any():
        raise SpecificationError(f"indicators have infinite values in rows "
                                 f"{list(data.index[np.isinf(M).any(axis=1)][:8])}")
    if time is not None:
        allmiss = data.assign(_m=np.isnan(M).all(axis=1)).groupby(time)["_m"].all()
        if allmiss.any():
            raise PanelError(f"every indicator is missing in {time} {list(allmiss[allmiss].index)}; drop those "
                             "years before building the index")
    miss = np.isnan(M)
    if miss.any():
        bad = miss.any(axis=1)
        cols = [indicators[j] for j in np.where(miss.any(axis=0))[0]]
        raise SpecificationError(f"indicators {cols} are missing in {int(bad.sum())} rows "
                                 f"({list(data.index[bad][:8])}); impute or drop them first (nothing is imputed)")
    direction = np.array([-1 if c in negative else 1 for c in indicators])
    return indicators, M, direction, keys


def _normalize(M, direction, method, indicators, where=""):
    lo, hi = M.min(axis=0), M.max(axis=0)
    flat = hi - lo <= 1e-12 * np.maximum(np.abs(hi), 1.0)
    if flat.any():
        raise SpecificationError(f"indicators {[indicators[j] for j in np.where(flat)[0]]} have zero variance"
                                 f"{where}; they carry no information for the index: drop them")
    if method == "minmax":
        return np.where(direction > 0, (M - lo) / (hi - lo), (hi - M) / (hi - lo))
    if (M <= 0).any():
        bad = [indicators[j] for j in np.where((M <= 0).any(axis=0))[0]]
        raise SpecificationError(f"normalize='max' needs strictly positive indicators; {bad} are not{where}")
    return np.where(direction > 0, M / hi, lo / M)


def _entropy_weights(Z, shift):
    Zs = Z + shift
    P = Zs / Zs.sum(axis=0)
    n = Z.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        e = -np.where(P > 0, P * np.log(P), 0.0).sum(axis=0) / np.log(n)
    d = 1.0 - e
    return d / d.sum(), e, d


@doc(**_DOCS)
def entropy_index(data: pd.DataFrame, indicators, *, negative=(), unit: str | None = None,
                  time: str | None = None, normalize: str = "minmax", shift: float = 1e-4) -> IndexResult:
    """Composite index by the entropy-weight method (熵值法), pooled over all rows.

    Parameters
    ----------
    {data_indicators}
    negative : str or list of str, optional
        Indicators where more is worse (reversed in the normalisation); the others are positive.
    unit, time : str, optional
        Panel keys kept in ``result.frame``; with ``time`` the weights are also computed year by year
        (``result.stability``).
    normalize : {"minmax", "max"}, default "minmax"
        ``"minmax"``: ``(x - min) / (max - min)`` for positive, ``(max - x) / (max - min)`` for negative
        indicators; ``"max"``: ``x / max`` and ``min / x`` (strictly positive indicators only).
    shift : float, default 1e-4
        Added to every normalised value before the entropy is computed so that ``ln 0`` never occurs (the
        ``+0.0001`` convention of the Chinese literature); 0 uses ``0 ln 0 = 0`` instead.

    Returns
    -------
    IndexResult
        ``index = sum_j w_j z_ij`` with ``z`` the normalised values *before* the shift (so a minmax index lies in
        [0, 1]); ``weights`` with the entropy ``e`` and divergence ``d`` of each indicator.

    Raises
    ------
    SpecificationError
        Fewer than 2 indicators, unknown or non-numeric columns, missing values (rows named), an indicator with
        zero variance (pooled, or within a year for the stability table), bad ``normalize``/``shift``.
    PanelError
        A year in which every indicator is missing.

    Notes
    -----
    With ``n`` rows and normalised values ``z_ij``: ``p_ij = (z_ij + a) / sum_i (z_ij + a)`` (``a`` = ``shift``),
    entropy ``e_j = -(1 / ln n) sum_i p_ij ln p_ij``, divergence ``d_j = 1 - e_j``, weight
    ``w_j = d_j / sum_k d_k``. Normalising over all unit-years (pooled) makes the index comparable across years;
    weights recomputed within each year (``stability``) show how much the weighting depends on the year. The
    method rewards dispersion, not relevance: an indicator gets weight because it varies, which says nothing about
    what it measures.

    References
    ----------
    Shannon, C. E. (1948). A mathematical theory of communication. *Bell System Technical Journal* 27(3), 379-423.
    Zeleny, M. (1982). *Multiple Criteria Decision Making*. New York: McGraw-Hill (entropy weights, ch. 7).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [10.0, 10.0, 10.0, 40.0]})
    >>> res = entropy_index(df, ["a", "b"])
    >>> res.weights["weight"].round(3).tolist()
    [0.213, 0.787]
    """
    v.check_choice(normalize, "normalize", _NORMALIZE)
    shift = v.check_real(shift, "shift", low=0.0)
    indicators, M, direction, keys = _prepare(data, indicators, negative, unit, time)
    if M.shape[0] < 2:
        raise SpecificationError("the entropy method needs at least 2 rows")
    Z = _normalize(M, direction, normalize, indicators)
    w, e, d = _entropy_weights(Z, shift)
    stability = _by_period(data, M, time, indicators, 2, lambda Mt, where: _entropy_weights(
        _normalize(Mt, direction, normalize, indicators, where=where), shift)[0])
    weights = pd.DataFrame({"indicator": indicators, "direction": np.where(direction > 0, "+", "-"),
                            "weight": w, "e": e, "d": d})
    ix = pd.Series(Z @ w, index=data.index, name="index")
    frame = data[keys].copy() if keys else pd.DataFrame(index=data.index)
    frame["index"] = ix
    notes = [f"normalisation {normalize} pooled over all {len(ix)} rows; shift {shift:g} added before the "
             "entropy; index uses the unshifted normalised values"]
    return IndexResult(index=ix, frame=frame, weights=weights, stability=stability, method="entropy weights",
                       notes=notes, unit=unit)


@doc(**_DOCS)
def pca_index(data: pd.DataFrame, indicators, *, negative=(), unit: str | None = None, time: str | None = None,
              n_components: int | None = None) -> IndexResult:
    """Composite index from principal components of the standardised indicators (the PCA alternative).

    Parameters
    ----------
    {data_indicators}
    negative : str or list of str, optional
        Indicators where more is worse (sign reversed before standardising).
    unit, time : str, optional
        Panel keys kept in ``result.frame``; with ``time`` the implied weights are also computed year by year.
    n_components : int, optional
        Components kept; default: those with eigenvalue > 1 (Kaiser), at least one.

    Returns
    -------
    IndexResult
        ``index = sum_k (lambda_k / sum_kept lambda) f_k`` with ``f_k`` the component scores; ``weights``: the
        implied weight of each indicator in that sum (normalised to sum to 1 in absolute value), the loadings of
        the first component and ``explained`` (share of variance of the kept components).

    Raises
    ------
    SpecificationError
        As :func:`entropy_index`; ``n_components`` outside 1..number of indicators.
    PanelError
        A year in which every indicator is missing.

    Notes
    -----
    Indicators are z-scored (pooled mean and sd; negative ones multiplied by -1); ``R`` their correlation matrix
    with eigenpairs ``(lambda_k, u_k)`` sorted decreasingly, each ``u_k`` signed so that its entries sum to a
    positive number; scores ``f_k = Z u_k``. The index is linear in ``Z`` with coefficients
    ``c = sum_k (lambda_k / sum lambda) u_k``; ``weights`` reports ``c / sum |c|``. Unlike entropy weights, the
    index is centred (mean 0) and can be negative.

    References
    ----------
    Jolliffe, I. T. (2002). *Principal Component Analysis*, 2nd ed. New York: Springer.
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*. Paris: OECD.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=50)
    >>> df = pd.DataFrame({"a": f + 0.1 * rng.normal(size=50), "b": f + 0.1 * rng.normal(size=50)})
    >>> res = pca_index(df, ["a", "b"])
    >>> res.weights["weight"].round(2).tolist()
    [0.5, 0.5]
    """
    indicators, M, direction, keys = _prepare(data, indicators, negative, unit, time)
    k = len(indicators)
    if n_components is not None:
        n_components = v.check_int(n_components, "n_components", minimum=1, maximum=k)

    def coefs(Mx, where=""):
        sd = Mx.std(axis=0, ddof=1)
        flat = sd <= 1e-12 * np.maximum(np.abs(Mx).max(axis=0), 1.0)
        if flat.any():
            raise SpecificationError(f"indicators {[indicators[j] for j in np.where(flat)[0]]} have zero variance"
                                     f"{where}; drop them")
        Z = (Mx - Mx.mean(axis=0)) / sd * direction
        lam, U = np.linalg.eigh(np.corrcoef(Z, rowvar=False))
        lam, U = lam[::-1], U[:, ::-1]
        U = U * np.where(U.sum(axis=0) < 0, -1.0, 1.0)
        m = n_components or max(1, int((lam > 1).sum()))
        c = U[:, :m] @ (lam[:m] / lam[:m].sum())
        return Z, c, lam, U, m

    Z, c, lam, U, m = coefs(M)
    def implied(Mt, where):
        ct = coefs(Mt, where=where)[1]
        return ct / np.abs(ct).sum()

    stability = _by_period(data, M, time, indicators, 3, implied)
    weights = pd.DataFrame({"indicator": indicators, "direction": np.where(direction > 0, "+", "-"),
                            "weight": c / np.abs(c).sum(), "loading_pc1": U[:, 0] * np.sqrt(lam[0]),
                            "explained": float(lam[:m].sum() / lam.sum())})
    ix = pd.Series(Z @ c, index=data.index, name="index")
    frame = data[keys].copy() if keys else pd.DataFrame(index=data.index)
    frame["index"] = ix
    notes = [f"{m} component(s) kept (eigenvalues {np.round(lam[:m], 3).tolist()}), explaining "
             f"{lam[:m].sum() / lam.sum():.1%} of the variance; indicators z-scored over all {len(ix)} rows"]
    return IndexResult(index=ix, frame=frame, weights=weights, stability=stability, method="PCA", notes=notes,
                       unit=unit)
