"""Complex survey designs: strata, primary sampling units (PSUs) and the finite-population correction.

A :class:`SurveyDesign` names the design columns; it is given as a covariance, ``vcov=SurveyDesign(...)`` or
``vcov={"survey": {"strata": .., "psu": .., "fpc": ..}}``, to :func:`econ.feols` and to the staggered estimators
(:func:`econ.did.att_gt` and every aggregation of it, :func:`econ.did.ddd_gt`, :func:`econ.did.imputation`,
:func:`econ.did.sun_abraham`). The sampling weights stay where
they are everywhere else, in ``weights=`` (one argument, one meaning): they move the point estimates, the design
only moves the standard errors.

Variance (Taylor linearisation, "ultimate cluster", as R ``survey``'s ``svyrecvar`` for a one-stage design): with
``z_hi`` the total over PSU ``i`` of stratum ``h`` of the linearised contributions (score or influence function
rows), ``n_h`` the PSUs sampled in stratum ``h``, ``zbar_h`` their mean and ``f_h`` the sampling fraction,

``V = sum_h (1 - f_h) n_h / (n_h - 1) sum_i (z_hi - zbar_h)(z_hi - zbar_h)'``.

PSUs are counted on the whole input, so rows an estimator drops (missing values, singletons, always-treated units)
stay in their PSU with a zero contribution: R ``survey``'s domain rule (its ``svyglm`` pads dropped rows with
zeros the same way). Design degrees of freedom: PSUs minus strata.

``LONELY_PSU`` lists the single-PSU rules. Single-PSU strata follow R's ``options(survey.lonely.psu=)`` through
``lonely_psu``: ``"fail"`` (default, an error naming the strata), ``"remove"`` and ``"certainty"`` (the stratum adds
nothing; at one stage they coincide), ``"adjust"`` (its PSU total is centred at zero, the grand mean of
estimating-equation contributions, with factor ``1 - f_h``), ``"average"`` (the stratum is left out and the sum
scaled by ``H / H_ok``, strata over strata with two PSUs or more).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from econ._validate import require_columns, show_values as _show
from econ.errors import SpecificationError

__all__ = ["SurveyDesign", "SurveyVariance", "stratified_meat", "survey_spec", "LONELY_PSU"]

LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")
_KEYS = {"strata", "psu", "fpc", "nest", "lonely_psu"}


@dataclass(frozen=True)
class SurveyDesign:
    """A one-stage stratified cluster sample: which columns hold the strata, the PSUs and the population sizes.

    Parameters
    ----------
    strata : str, optional
        Stratum column; ``None``: one stratum.
    psu : str, optional
        Primary sampling unit (cluster) column; ``None``: every element (a row, or a panel's unit) is its own PSU.
    fpc : str or float, optional
        Finite-population correction, constant within stratum: the number of PSUs in the stratum's population
        (values above 1, at least the PSUs sampled) or the sampling fraction (every value in ``(0, 1]``). A number
        applies to every stratum. ``None``: sampling with replacement (no correction).
    nest : bool, default False
        PSU labels are only unique within stratum (R ``survey``'s ``nest=TRUE``): PSUs are relabelled
        (stratum, PSU). Without it a PSU found in two strata is an error naming it and the strata.
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        Strata with a single sampled PSU (see the module docstring; R's ``survey.lonely.psu``).

    Returns
    -------
    SurveyDesign
        Pass it as ``vcov=`` (or spell it ``{"survey": {...}}``); :meth:`resolve` turns it into a
        :class:`SurveyVariance` on data.

    Raises
    ------
    SpecificationError
        Non-string column names, a non-positive ``fpc`` number, an unknown ``lonely_psu``.

    Examples
    --------
    >>> from econ.survey import SurveyDesign
    >>> import pandas as pd
    >>> df = pd.DataFrame({"h": [1, 1, 1, 2, 2], "c": [1, 2, 3, 4, 5], "N": [10, 10, 10, 4, 4]})
    >>> sv = SurveyDesign(strata="h", psu="c", fpc="N").resolve(df)
    >>> sv.n_psu, sv.n_strata, sv.degf
    (5, 2, 3)
    """

    strata: str | None = None
    psu: str | None = None
    fpc: str | float | None = None
    nest: bool = False
    lonely_psu: str = "fail"

    def __post_init__(self):
        for name in ("strata", "psu"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise SpecificationError(f"survey {name} must be a column name (str) or None, got {value!r}")
        f = self.fpc
        if f is not None and not isinstance(f, str):
            if isinstance(f, bool) or not isinstance(f, (int, float, np.number)) or not np.isfinite(f) or f <= 0:
                raise SpecificationError(f"survey fpc must be a column name or a positive number, got {f!r}")
        if not isinstance(self.nest, (bool, np.bool_)):
            raise SpecificationError(f"survey nest must be True or False, got {self.nest!r}")
        if self.lonely_psu not in LONELY_PSU:
            raise SpecificationError(f"survey lonely_psu must be one of {list(LONELY_PSU)}, got {self.lonely_psu!r}")

    def columns(self) -> list[str]:
        """The data columns the design reads."""
        return [c for c in (self.strata, self.psu, self.fpc) if isinstance(c, str)]

    def resolve(self, data: pd.DataFrame, unit: str | None = None, who: str = "survey design") -> SurveyVariance:
        """Validate the design on ``data`` and return its :class:`SurveyVariance` (elements: the rows, or the
        distinct values of ``unit``).

        With ``unit`` (a panel) the design columns must be constant within unit; the elements are the distinct
        units in order of appearance and :attr:`SurveyVariance.elements` holds their ids.
        """
        require_columns(data, [*self.columns(), *([unit] if unit else [])], who)
        cols = {}
        for col in self.columns():
            values = data[col]
            miss = pd.isna(values).to_numpy()
            if miss.any():
                raise SpecificationError(f"{who}: column {col!r} has {int(miss.sum())} missing value(s), first rows "
                                         f"{_show(data.index[miss])}: every sampled element needs its stratum, PSU "
                                         "and fpc")
            cols[col] = values.to_numpy()
        if unit is not None:
            ucodes, elements = pd.factorize(data[unit], sort=False)
            if (ucodes < 0).any():
                raise SpecificationError(f"{who}: unit column {unit!r} has missing values")
            first = np.full(len(elements), -1, dtype=np.int64)
            first[ucodes[::-1]] = np.arange(len(ucodes))[::-1]  # first row of each unit
            for col, values in cols.items():
                codes = pd.factorize(values, sort=False)[0]
                varies = np.unique(ucodes[codes != codes[first][ucodes]])
                if len(varies):
                    raise SpecificationError(f"{who}: column {col!r} must be constant within {unit}; it varies for "
                                             f"{len(varies)} unit(s) {_show(elements[varies])}")
            cols = {col: values[first] for col, values in cols.items()}
            index = data.index[first]
        else:
            elements = index = data.index
        n = len(index)
        strata = cols[self.strata] if self.strata else np.zeros(n, dtype=np.int64)
        h_codes, h_labels = pd.factorize(strata, sort=True)
        if self.psu is None:
            p_codes = np.arange(n)
        else:
            p_raw = cols[self.psu]
            raw_codes = pd.factorize(p_raw, sort=False)[0]
            if self.nest:
                p_codes = pd.factorize(h_codes.astype(np.int64) * (int(raw_codes.max()) + 1) + raw_codes,
                                       sort=False)[0]
            else:
                p_codes = raw_codes
                _check_nested(p_raw, p_codes, h_codes, h_labels, self.psu, self.strata, who)
        p_codes = np.asarray(p_codes, dtype=np.int64)
        n_psu_total = int(p_codes.max()) + 1 if n else 0
        psu_stratum = np.zeros(n_psu_total, dtype=np.int64)
        psu_stratum[p_codes] = h_codes
        n_h = np.bincount(psu_stratum, minlength=len(h_labels))
        table = pd.DataFrame({c: v for c, v in cols.items()}, index=index)
        fraction = self._fractions(table, h_codes, h_labels, n_h, who)
        return SurveyVariance(p_codes, psu_stratum, n_h, fraction, self.lonely_psu, list(h_labels),
                              elements=pd.Index(elements), who=who, psu_name=self.psu)

    def for_units(self, data: pd.DataFrame, unit: str | None, units, who: str) -> SurveyVariance:
        """The design over the elements of ``data`` (the values of ``unit``, or its rows by position when ``unit``
        is None), restricted to the influence-function rows ``units`` of an estimator (other elements keep their
        PSUs with zero contributions). Used by :func:`econ.did.att_gt` and :func:`econ.did.ddd_gt`."""
        if unit is None:
            return self.resolve(data.reset_index(drop=True), who=who).restrict(units)
        return self.resolve(data, unit=unit, who=who).restrict(units)

    def _fractions(self, table, h_codes, h_labels, n_h, who) -> np.ndarray:
        """Sampling fraction ``n_h / N_h`` of each stratum (0 without fpc)."""
        H = len(h_labels)
        if self.fpc is None:
            return np.zeros(H)
        if isinstance(self.fpc, str):
            col = table[self.fpc]
            if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
                raise SpecificationError(f"{who}: fpc column {self.fpc!r} is not numeric (dtype {col.dtype})")
            v = col.to_numpy(dtype=float)
            if (~np.isfinite(v) | (v <= 0)).any():
                raise SpecificationError(f"{who}: fpc column {self.fpc!r} must hold positive finite numbers; bad at "
                                         f"rows {_show(table.index[~np.isfinite(v) | (v <= 0)])}")
            lo = np.full(H, np.inf)
            hi = np.full(H, -np.inf)
            np.minimum.at(lo, h_codes, v)
            np.maximum.at(hi, h_codes, v)
            varies = np.flatnonzero(lo != hi)
            if len(varies):
                raise SpecificationError(f"{who}: fpc column {self.fpc!r} must be constant within stratum; it varies "
                                         f"in stratum(s) {_show(np.asarray(h_labels)[varies])}")
            per = lo
        else:
            per = np.full(H, float(self.fpc))
        if (per <= 1).all():
            return per  # sampling fractions
        if (per < 1).any():
            raise SpecificationError(f"{who}: fpc mixes sampling fractions (<= 1) and population sizes (> 1); give "
                                     "one or the other")
        small = np.flatnonzero(per < n_h)
        if len(small):
            what = ", ".join(f"{_show([h_labels[k]])[1:-1]}: fpc {per[k]:g} < {n_h[k]} PSUs"
                             for k in small[:5])
            raise SpecificationError(f"{who}: the population size fpc is smaller than the number of sampled PSUs in "
                                     f"{len(small)} stratum(s) ({what}); fpc counts the stratum's population PSUs")
        return n_h / per


def _check_nested(p_raw, p_codes, h_codes, h_labels, psu, strata, who) -> None:
    """SpecificationError naming the PSUs found in more than one stratum."""
    home = np.empty(int(p_codes.max()) + 1 if len(p_codes) else 0, dtype=np.int64)
    home[p_codes] = h_codes
    bad = np.unique(p_codes[home[p_codes] != h_codes])
    if not len(bad):
        return
    items = []
    for p in bad[:5]:
        rows = p_codes == p
        hs = np.unique(h_codes[rows])
        items.append(f"{psu}={_show([p_raw[rows][0]])[1:-1]} in {strata} {_show(np.asarray(h_labels)[hs])}")
    raise SpecificationError(f"{who}: {len(bad)} PSU(s) appear in more than one stratum ({'; '.join(items)}"
                             f"{'; ...' if len(bad) > 5 else ''}): a PSU must be nested in one stratum. If PSU labels "
                             "are only unique within stratum, pass nest=True (R survey's nest=TRUE)")


def stratified_meat(totals: np.ndarray, psu_stratum: np.ndarray, n_h: np.ndarray, fraction: np.ndarray,
                    lonely_psu: str = "fail") -> np.ndarray:
    """``sum_h (1 - f_h) n_h/(n_h - 1) sum_i (z_hi - zbar_h)(z_hi - zbar_h)'`` from the PSU totals ``z`` (P x m).

    Parameters
    ----------
    totals : ndarray
        PSU totals of the linearised contributions, (P, m) (or (P,)).
    psu_stratum : ndarray
        Stratum code (0..H-1) of each PSU, (P,).
    n_h : ndarray
        Number of sampled PSUs per stratum, (H,).
    fraction : ndarray
        Sampling fraction ``f_h`` per stratum, (H,) (0 without finite-population correction).
    lonely_psu : str
        Rule for strata with one PSU (module docstring).

    Returns
    -------
    ndarray
        The (m, m) variance of the total ``sum_hi z_hi``.

    Raises
    ------
    SpecificationError
        A single-PSU stratum with ``lonely_psu="fail"``.

    Notes
    -----
    The with-replacement ("ultimate cluster") variance of an estimated total, stratum by stratum, with the
    finite-population factor ``1 - f_h`` of the first stage (Wolter 2007, ch. 1 and 6; R ``survey``'s
    ``onestrat``). Applied to the linearised contributions of an estimator -- least-squares scores premultiplied by
    the bread, or influence functions -- it is the Taylor-linearisation variance of the estimator (Binder 1983).
    A stratum sampled whole (``f_h = 1``) adds nothing, whatever its number of PSUs, as in R.

    References
    ----------
    Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex surveys.
    *International Statistical Review* 51(3), 279-292.
    Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed. Springer.
    Lumley, T. (2004). Analysis of complex survey samples. *Journal of Statistical Software* 9(8), 1-19.

    Examples
    --------
    >>> import numpy as np
    >>> from econ.survey import stratified_meat
    >>> z = np.array([1.0, 3.0, 2.0, 6.0])  # two strata of two PSUs: 2/1 * (1 + 1) + 2/1 * (4 + 4)
    >>> round(float(stratified_meat(z, np.array([0, 0, 1, 1]), np.array([2, 2]), np.zeros(2))[0, 0]), 10)
    20.0
    """
    z = np.asarray(totals, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    H = len(n_h)
    census = 1 - fraction < 1e-7  # R: a stratum sampled whole adds nothing, whatever its PSU count
    lonely = (n_h == 1) & ~census
    if lonely.any() and lonely_psu == "fail":
        raise SpecificationError(f"{int(lonely.sum())} stratum(s) have a single PSU; pass lonely_psu='remove', "
                                 "'certainty', 'adjust' or 'average' (R survey's survey.lonely.psu)")
    sums = np.zeros((H, z.shape[1]))
    np.add.at(sums, psu_stratum, z)
    means = sums / np.maximum(n_h, 1)[:, None]
    centred = z - means[psu_stratum]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, (1 - fraction) * n_h / (n_h - 1), 1 - fraction)
    scale = np.where(census, 0.0, scale)
    if lonely.any():
        if lonely_psu == "adjust":
            on = lonely[psu_stratum]
            centred[on] = z[on]
        elif lonely_psu in ("remove", "certainty", "average"):
            scale = np.where(lonely, 0.0, scale)
    d = centred * np.sqrt(scale[psu_stratum])[:, None]
    meat = d.T @ d
    if lonely_psu == "average" and lonely.any():
        ok = H - int(lonely.sum())
        meat = meat * (H / ok) if ok else meat * np.nan
    return (meat + meat.T) / 2


class SurveyVariance:
    """A survey design resolved on data: PSU codes per element, strata of the PSUs, sampling fractions.

    ``meat(S)`` is the design-based variance of the column totals of the per-element contributions ``S``
    (elements in :attr:`elements` order, or in the order given to :meth:`restrict`); the covariance estimators
    of :mod:`econ.panel.vcov` and :mod:`econ.did` divide or sandwich it.

    Parameters
    ----------
    psu : ndarray
        PSU code (0..P-1) of each element.
    psu_stratum : ndarray
        Stratum code of each PSU.
    n_h, fraction : ndarray
        Sampled PSUs and sampling fraction per stratum.
    lonely_psu : str
        Single-PSU strata rule.
    strata_labels : list
        Stratum labels (messages).
    elements : pandas.Index, optional
        Ids of the elements (rows or units).
    who : str
        Names the caller in messages.
    psu_name : str, optional
        The PSU column (labels).

    Returns
    -------
    SurveyVariance
        Built by :meth:`SurveyDesign.resolve`.

    Raises
    ------
    SpecificationError
        A single-PSU stratum with ``lonely_psu="fail"`` (naming the strata).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from econ.survey import SurveyDesign
    >>> sv = SurveyDesign(psu="c").resolve(pd.DataFrame({"c": [1, 1, 2, 3]}))
    >>> round(float(sv.meat(np.array([1.0, 1.0, -1.0, -1.0]))[0, 0]), 10)  # PSU totals 2, -1, -1; 3/2 * 6
    9.0
    """

    def __init__(self, psu, psu_stratum, n_h, fraction, lonely_psu, strata_labels, *, elements=None,
                 who: str = "survey design", psu_name: str | None = None, rows=None):
        self.psu = np.asarray(psu, dtype=np.int64)
        self.psu_stratum = np.asarray(psu_stratum, dtype=np.int64)
        self.n_h = np.asarray(n_h, dtype=np.int64)
        self.fraction = np.asarray(fraction, dtype=float)
        self.lonely_psu = lonely_psu
        self.strata_labels = list(strata_labels)
        self.elements = elements
        self.psu_name = psu_name
        self.who = who
        self.rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        census = 1 - self.fraction < 1e-7
        lonely = np.flatnonzero((self.n_h == 1) & ~census)
        if len(lonely) and lonely_psu == "fail":
            raise SpecificationError(
                f"{who}: {len(lonely)} stratum(s) have a single sampled PSU, so their variance cannot be estimated: "
                f"{_show(np.asarray(self.strata_labels, dtype=object)[lonely])}; merge them with a neighbouring "
                "stratum or choose lonely_psu='remove', 'certainty', 'adjust' or 'average' (R survey's "
                "survey.lonely.psu; see econ.survey)")
        self.n_singleton = len(lonely)

    @property
    def n_psu(self) -> int:
        """Number of sampled PSUs (in the whole design)."""
        return len(self.psu_stratum)

    @property
    def n_strata(self) -> int:
        """Number of strata."""
        return len(self.n_h)

    @property
    def degf(self) -> int:
        """Design degrees of freedom: PSUs minus strata (R ``survey``'s ``degf``)."""
        return self.n_psu - self.n_strata

    @property
    def label(self) -> str:
        """One line naming the covariance: strata, PSUs, and whether a finite-population correction applies."""
        fpc = ", fpc" if self.fraction.any() else ""
        psu = f"PSUs of {self.psu_name}" if self.psu_name else "PSUs"
        return f"survey (Taylor linearisation; {self.n_strata} strata, {self.n_psu} {psu}{fpc})"

    def restrict(self, ids) -> SurveyVariance:
        """The same design with contributions given for the elements ``ids`` only (any order; the other elements
        keep their PSUs with zero contributions). SpecificationError naming ids absent from the design."""
        pos = self.elements.get_indexer(pd.Index(ids))
        if (pos < 0).any():
            raise SpecificationError(f"{self.who}: element(s) {_show(np.asarray(ids)[pos < 0])} are not in the design")
        out = SurveyVariance(self.psu, self.psu_stratum, self.n_h, self.fraction, self.lonely_psu,
                             self.strata_labels, elements=self.elements, who=self.who, psu_name=self.psu_name,
                             rows=pos)
        return out

    def totals(self, S: np.ndarray) -> np.ndarray:
        """PSU totals (P x m) of per-element contributions ``S`` (rows as :meth:`restrict` set, else elements)."""
        S = np.asarray(S, dtype=float)
        if S.ndim == 1:
            S = S[:, None]
        codes = self.psu if self.rows is None else self.psu[self.rows]
        if S.shape[0] != len(codes):
            raise SpecificationError(f"internal: {S.shape[0]} contribution rows for {len(codes)} design elements")
        agg = sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))),
                                shape=(self.n_psu, len(codes)))
        return np.asarray(agg @ S)

    def meat(self, S: np.ndarray) -> np.ndarray:
        """Design-based variance of ``sum_i S_i`` (m x m): :func:`stratified_meat` of the PSU totals."""
        return stratified_meat(self.totals(S), self.psu_stratum, self.n_h, self.fraction, self.lonely_psu)

    def refuse_bootstrap(self, who: str, n_draws) -> None:
        """Survey variances are analytic here: a positive ``n_draws`` is a SpecificationError."""
        if n_draws:
            raise SpecificationError(f"{who}: survey-design standard errors are analytic (Taylor linearisation); "
                                     "pass n_draws=0 (a stratified multiplier bootstrap is not implemented)")


def survey_spec(vcov, who: str) -> SurveyDesign | None:
    """The :class:`SurveyDesign` of ``vcov`` (an instance or ``{"survey": {...}}``), or ``None`` for any other vcov.

    Parameters
    ----------
    vcov : object
        A ``vcov=`` argument.
    who : str
        The estimator (messages).

    Returns
    -------
    SurveyDesign or None

    Raises
    ------
    SpecificationError
        ``{"survey": ...}`` without a dict, unknown keys, or ``weights`` inside the spec (weights go to
        ``weights=``).

    Examples
    --------
    >>> from econ.survey import survey_spec
    >>> survey_spec({"survey": {"strata": "stype", "fpc": "fpc"}}, "feols")
    SurveyDesign(strata='stype', psu=None, fpc='fpc', nest=False, lonely_psu='fail')
    >>> survey_spec({"CL1": "unit"}, "feols") is None
    True
    """
    if isinstance(vcov, SurveyDesign):
        return vcov
    if not (isinstance(vcov, Mapping) and len(vcov) == 1 and str(next(iter(vcov))).lower() == "survey"):
        return None
    opts = next(iter(vcov.values()))
    if not isinstance(opts, Mapping):
        raise SpecificationError(f"{who}: vcov={{'survey': ...}} needs a dict, e.g. {{'survey': {{'strata': 'stype', "
                                 "'psu': 'dnum', 'fpc': 'fpc'}}}")
    if "weights" in opts:
        raise SpecificationError(f"{who}: sampling weights are given as weights=, not inside the survey design (one "
                                 "argument for weights in every estimator); drop 'weights' from the survey spec")
    unknown = set(opts) - _KEYS
    if unknown:
        raise SpecificationError(f"{who}: unknown survey option(s) {sorted(unknown)}; allowed {sorted(_KEYS)}")
    return SurveyDesign(**opts)
