"""Design of a spatial regression: ``y`` and ``[X, WX]`` from a formula, rows aligned to ``W``'s unit order, and
the warnings about ``W`` every spatial fit shares (:class:`SpatialWarning`, islands).

Shared by the cross-section fits (:mod:`econ.spatial.models`), spatial 2SLS (:mod:`econ.spatial.s2sls`), the
panel fits (:mod:`econ.spatial.panel`) and the LM tests (:mod:`econ.spatial.diagnostics`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from econ._validate import require_columns
from econ.errors import SpecificationError, WeightsError
from econ.panel.feols import _outcome, _regressors
from econ.panel.formula import parse_formula
from econ.spatial.weights import Weights

__all__ = ["SpatialDesign", "SpatialWarning", "spatial_design"]


class SpatialWarning(UserWarning):
    """Something about W or the fit the reader must know (islands, approximate traces...).

    Issued with :func:`warnings.warn` by :func:`econ.spatial.fit` and the spatial diagnostics (nothing is returned).

    Issued by :func:`econ.spatial.fit` (and the panel fits) for units without neighbours, approximate
    log-determinants and similar; the same message is kept in the result's ``notes``. Filter it with
    ``warnings.filterwarnings("ignore", category=econ.spatial.SpatialWarning)``.

    Examples
    --------
    Hainan has no land border, so the province contiguity weights have an island:

    >>> import warnings
    >>> import numpy as np, pandas as pd
    >>> from econ import datasets, spatial
    >>> W = datasets.load_weights("china_province_contiguity").row_standardize()
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"y": rng.normal(size=W.n), "x": rng.normal(size=W.n)}, index=list(W.ids))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     res = spatial.fit("y ~ x", df, W, model="sar")
    >>> caught[0].category.__name__, W.islands
    ('SpatialWarning', ['460000'])
    """


class SpatialDesign:
    """``y``, ``X`` (with the requested ``WX`` columns) and names, for data rows in ``W``'s unit order."""

    def __init__(self, y, X, names, lagged, depvar, notes):
        self.y, self.X, self.names, self.lagged, self.depvar, self.notes = y, X, names, lagged, depvar, notes


def _row_sums_one(W: Weights) -> bool:
    rows = np.asarray(W.matrix.sum(axis=1)).ravel()
    return bool(np.allclose(rows, 1.0))


def spatial_design(formula: str, data: pd.DataFrame, W: Weights, lag_vars, lag_fn, *, n_units: int) -> SpatialDesign:
    """Build ``y`` and ``[X, WX]`` from a formula on ``data`` (rows already in the stacked W order).

    ``lag_vars``: ``"all"`` (every regressor except the intercept; ``W.Intercept`` is added when the rows of ``W``
    do not all sum to one, as spatialreg does) or a list of regressor names. ``lag_fn`` applies ``W`` to stacked
    columns. Missing values are an error naming the rows (a spatial model cannot drop units silently).
    """
    parsed = parse_formula(formula)
    require_columns(data, parsed.variable_columns(), "regressor/outcome")
    if parsed.fixef:
        raise SpecificationError(f"formula {formula!r}: fixed effects after '|' need a panel (give unit= and time= "
                                 "and effects=); a cross-section spatial model takes no '|' part")
    y, y_missing = _outcome(parsed, data)
    blocks, names, _, missing = _regressors(parsed, data)
    X = np.column_stack(blocks) if blocks else np.zeros((len(data), 0))
    bad = y_missing.copy()
    for m in missing.values():
        bad |= m
    if bad.any():
        labels = list(data.index[bad][:5])
        cols = [parsed.lhs] * bool(y_missing.any()) + [k for k, m in missing.items() if m.any()]
        raise SpecificationError(f"{int(bad.sum())} row(s) have missing values (first: {labels}; columns {cols}); a "
                                 "spatial model cannot drop units from W silently: impute them or subset W and the "
                                 "data together")
    if X.shape[1] == 0:
        raise SpecificationError(f"formula {formula!r} has no regressor")
    if lag_vars == "all":
        lag_vars = [c for c in names if c != "Intercept"]
        if "Intercept" in names and not _row_sums_one(W):
            lag_vars = ["Intercept"] + lag_vars
    else:
        unknown = [v for v in lag_vars if v not in names]
        if unknown:
            raise SpecificationError(f"wx: {unknown} are not regressors of the formula (regressors: {names})")
    lagged = {v: f"W.{v}" for v in lag_vars}
    if lag_vars:
        idx = [names.index(v) for v in lag_vars]
        X = np.column_stack([X, lag_fn(X[:, idx])])
        names = names + [lagged[v] for v in lag_vars]
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        raise SpecificationError(f"the regressors {names} are collinear (rank {rank} of {X.shape[1]} columns); with "
                                 "a row-standardised W, W.Intercept equals the intercept, and a variable that is "
                                 "constant within neighbourhoods equals its own lag")
    return SpatialDesign(y, X, names, lagged, parsed.lhs, [])


def require_weights(W) -> None:
    """``W`` must be an :class:`econ.spatial.Weights`: a bare matrix or list has no unit order to match the data
    rows to, so it is refused (naming the constructor to use) instead of failing later."""
    if not isinstance(W, Weights):
        hint = ("; a matrix has no unit order: build W with econ.spatial.Weights.from_matrix(matrix, ids=units) "
                "(ids: the unit of each row, in order)" if isinstance(W, (np.ndarray, list, tuple)) or
                hasattr(W, "tocsr") else "")
        raise WeightsError(f"W must be an econ.spatial.Weights, got {type(W).__name__}{hint}")


def _align_cross_section(data: pd.DataFrame, W: Weights, unit: str | None) -> pd.DataFrame:
    """Rows of ``data`` re-ordered to ``W.ids`` (by the ``unit`` column, or by the index)."""
    require_weights(W)
    if unit is not None:
        require_columns(data, [unit], "unit")
        ids = data[unit].tolist()
        where = f"column {unit!r}"
    else:
        ids = list(data.index)
        where = "the data index"
    if len(set(ids)) != len(ids):
        dup = pd.Index(ids)[pd.Index(ids).duplicated()]
        raise WeightsError(f"duplicate unit ids in {where}: {list(dup[:5])} (a cross-section has one row per unit)")
    if unit is None and set(ids) != set(W.ids) and isinstance(data.index, pd.RangeIndex) and len(ids) == W.n:
        raise WeightsError("the data rows cannot be matched to the units of W: give unit='<id column>' (or index "
                           "the data by the ids of W)")
    W.check_units(ids)
    pos = pd.Index(ids).get_indexer(list(W.ids))
    return data.iloc[pos]


def _check_islands(W: Weights, notes: list):
    isl = W.islands
    if isl:
        msg = (f"W has {len(isl)} unit(s) without neighbours (islands, first: {isl[:5]}); their spatial lags are "
               "zero" + (" and their rows of the row-standardised W do not sum to one" if W.transform == "r" else ""))
        warnings.warn(msg, SpatialWarning, stacklevel=4)
        notes.append(msg)
